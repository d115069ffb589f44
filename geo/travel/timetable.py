"""One day's timetable from a GTFS feed: the trips that run, as stop events, and the changes between stops.

Times are seconds after midnight of the chosen day. Trips of the previous day's services with times
past 24:00:00 appear at those times minus 24 hours, and the next day's at plus 24 hours, so a window
that crosses midnight sees every vehicle on the road. Trips in frequencies.txt run once per headway
from start_time (inclusive) to end_time (exclusive), each keeping its template's times relative to
the template's first departure (``exact_times`` 0 is expanded the same way: a schedule is assumed).

Only events inside the window that matters (first departure to last arrival considered) are kept,
and none at stops the feed reader skipped (outside Great Britain, at the grid origin, no location).
CRS: stop coordinates in EPSG:27700 metres.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from geo.travel.gtfs_feed import GtfsFeed

DAY_S = 86_400.0


@dataclass(eq=False)
class Timetable:
    """Stop events of one day, sorted by trip instance then stop order.

    ``ev_trip`` numbers trip instances (a frequency-based trip gives one per departure);
    ``ev_stop`` indexes ``stops`` (feed stop indices; ``stop_xy`` their BNG metres);
    ``ev_board`` / ``ev_alight``: boarding / alighting allowed there and then.
    ``instance_trip`` / ``instance_shift_s``: each instance's feed trip and the seconds added to its times.
    """

    feed: GtfsFeed
    day: dt.date
    start_s: float
    horizon_s: float
    stops: np.ndarray
    stop_xy: np.ndarray
    ev_trip: np.ndarray
    ev_stop: np.ndarray
    ev_arr: np.ndarray
    ev_dep: np.ndarray
    ev_board: np.ndarray
    ev_alight: np.ndarray
    instance_trip: np.ndarray
    instance_shift_s: np.ndarray
    counts: dict = field(default_factory=dict)

    @property
    def n_stops(self) -> int:
        return len(self.stops)


def _instances(feed: GtfsFeed, day: dt.date) -> tuple[np.ndarray, np.ndarray, dict]:
    """(template trip, time shift in seconds) of every vehicle running on ``day``'s clock."""
    freq = feed.frequencies
    templates = set(freq["trip"].astype(int))
    trips, shifts = [], []
    counts = {"services": 0, "trips": 0, "frequency_trips": 0}
    for days in (-1, 0, 1):
        running = feed.trips_on(day + dt.timedelta(days=days))
        offset = days * DAY_S
        if days == 0:
            counts["services"] = len(feed.services_on(day))
        regular = running[~np.isin(running, list(templates))]
        trips.append(regular)
        shifts.append(np.full(len(regular), offset))
        if days == 0:
            counts["trips"] = len(regular)
        for row in freq[freq["trip"].isin(running)].itertuples(index=False):
            starts = np.arange(row.start_s, row.end_s, row.headway_s)
            first = feed.st_dep[feed.trip_ptr[int(row.trip)]]
            trips.append(np.full(len(starts), int(row.trip)))
            shifts.append(starts - first + offset)
            if days == 0:
                counts["frequency_trips"] += len(starts)
    return np.concatenate(trips).astype(np.int64), np.concatenate(shifts), counts


def build_timetable(feed: GtfsFeed, day: dt.date, start_s: float, horizon_s: float) -> Timetable:
    """Events of the vehicles running on ``day`` that can be boarded at or after ``start_s`` and alighted
    from by ``horizon_s`` (seconds after midnight)."""
    trips, shifts, counts = _instances(feed, day)
    ptr = feed.trip_ptr
    first = feed.st_dep[ptr[trips]] + shifts
    last = feed.st_arr[np.maximum(ptr[trips + 1] - 1, ptr[trips])] + shifts
    live = (ptr[trips + 1] > ptr[trips]) & (last >= start_s) & (first <= horizon_s)
    trips, shifts = trips[live], shifts[live]
    lengths = ptr[trips + 1] - ptr[trips]
    instance = np.repeat(np.arange(len(trips)), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    rows = ptr[trips][instance] + offsets
    arr = feed.st_arr[rows] + shifts[instance]
    dep = feed.st_dep[rows] + shifts[instance]
    stop = feed.st_stop[rows]
    ok = feed.stop_ok[stop]
    board = feed.st_board[rows] & ok & (dep >= start_s) & (dep <= horizon_s)
    alight = feed.st_alight[rows] & ok & (arr >= start_s) & (arr <= horizon_s)
    keep = board | alight
    used, ev_stop = np.unique(stop[keep], return_inverse=True)
    live_instances, ev_trip = np.unique(instance[keep], return_inverse=True)
    counts.update(instances=int(len(live_instances)), events=int(keep.sum()), stops=int(len(used)))
    return Timetable(feed=feed, day=day, start_s=float(start_s), horizon_s=float(horizon_s), stops=used,
                     stop_xy=feed.stop_xy[used], ev_trip=ev_trip.astype(np.int64), ev_stop=ev_stop.astype(np.int64),
                     ev_arr=arr[keep], ev_dep=dep[keep], ev_board=board[keep], ev_alight=alight[keep],
                     instance_trip=trips[live_instances], instance_shift_s=shifts[live_instances], counts=counts)


def footpaths(tt: Timetable, *, walk_s, change_s: float, transfer_walk_m: float) -> tuple[np.ndarray, ...]:
    """Changes between vehicles as CSR arrays ``(ptr, to, cost_s)`` over the timetable's stops.

    A change at the same stop takes ``change_s``; to another stop, the walk (``walk_s(metres)``, in
    seconds) plus ``change_s``. With a transfers.txt, its pairs are the only walks between stops
    (type 3 forbids a change, type 2's min_transfer_time is used when longer); without one, every
    stop within ``transfer_walk_m`` (straight line) can be walked to.
    """
    n = tt.n_stops
    pairs: dict[tuple[int, int], float] = {}
    transfers = tt.feed.transfers
    if transfers is None:
        tree = cKDTree(tt.stop_xy)
        found = tree.query_pairs(transfer_walk_m, output_type="ndarray")
        a = np.concatenate([found[:, 0], found[:, 1], np.arange(n)])
        b = np.concatenate([found[:, 1], found[:, 0], np.arange(n)])
        dist = np.hypot(*(tt.stop_xy[a] - tt.stop_xy[b]).T)
        cost = np.where(a == b, change_s, walk_s(dist) + change_s)
    else:
        local = np.full(len(tt.feed.stop_ids), -1)
        local[tt.stops] = np.arange(n)
        for i in range(n):
            pairs[(i, i)] = change_s
        for row in transfers.itertuples(index=False):
            a, b = local[row.from_stop], local[row.to_stop]
            if a < 0 or b < 0:
                continue
            if row.transfer_type == 3:
                pairs.pop((a, b), None)
                continue
            walk = 0.0 if a == b else float(walk_s(np.hypot(*(tt.stop_xy[a] - tt.stop_xy[b]))))
            cost = walk + change_s
            if row.transfer_type == 2 and np.isfinite(row.min_s):
                cost = max(cost, float(row.min_s))
            pairs[(a, b)] = cost
        forbidden = {(local[r.from_stop], local[r.to_stop]) for r in transfers.itertuples(index=False)
                     if r.transfer_type == 3}
        for key in forbidden:
            pairs.pop(key, None)
        keys = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
        a, b = keys[:, 0], keys[:, 1]
        cost = np.array([pairs[(int(i), int(j))] for i, j in keys], dtype=float)
    order = np.lexsort((b, a))
    a, b, cost = a[order], b[order], cost[order]
    ptr = np.searchsorted(a, np.arange(n + 1))
    return ptr, b.astype(np.int64), cost.astype(float)
