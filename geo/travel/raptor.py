"""Fastest public-transport journeys to a few sites for every departure time at once (RAPTOR rounds).

RAPTOR (Delling, Pajor and Werneck, "Round-Based Public Transit Routing", 2012) finds in round r the
best journeys that use r vehicles: it scans each trip along its stops from where it can be boarded,
then relaxes the changes (footpaths) between stops before the next round, looking again only at stops
whose times improved. Here the rounds run backwards from the sites as a *profile* search (what
rRAPTOR gets by rerunning for every departure):

* round 1: riding trip k from its stop j and getting off at a later stop i, then walking to site d,
  arrives at ``arr[k, i] + egress[i, d]``; the best over i > j is a suffix minimum along the trip;
* round r: getting off at i may instead change (walk to a stop w, plus the change time) and board
  whatever gives the earliest arrival at d from w with r - 1 vehicles; only boardings whose
  arrival improved in round r - 1 are looked at again (RAPTOR's marking);
* each stop's *profile*: for a traveller ready at stop s at time t, the earliest arrival at each site
  is the minimum over the boardings at s departing at or after t: a suffix minimum over that stop's
  boardings sorted by departure, looked up with one binary search.

Every step is a numpy operation over all stop events x sites (no Python loop over trips or stops;
segments of equal length are processed as one block); rounds stop when nothing improves or after
``max_rides``. Arrivals are float32 seconds after the window opens (``base_s``); ``inf`` = no journey.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo.travel.timetable import Timetable

#: Keys for binary search are stop x KEY_STRIDE_S + time: larger than any time of a day and a half.
KEY_STRIDE_S = 1.0e6
#: Cells of (origins x departures x sites) evaluated at once (bounds memory at about this x 8 bytes).
GATHER_CELLS = 1 << 22


class Segments:
    """Rows in contiguous segments (``segment`` sorted), regrouped so equal-length segments are adjacent.

    ``order`` lists the rows in the grouped layout; ``blocks`` are (start, count, length): ``count``
    segments of ``length`` rows each, starting at row ``start`` of the grouped layout.
    """

    def __init__(self, segment: np.ndarray):
        n = len(segment)
        starts = np.flatnonzero(np.r_[True, segment[1:] != segment[:-1]]) if n else np.array([], dtype=int)
        lengths = np.diff(np.r_[starts, n])
        by_length = np.argsort(lengths, kind="stable")
        self.order = np.concatenate([np.arange(s, s + l) for s, l in zip(starts[by_length], lengths[by_length])]
                                    ) if n else np.array([], dtype=int)
        self.blocks = []
        sorted_lengths = lengths[by_length]
        at = 0
        for length in np.unique(sorted_lengths):
            count = int((sorted_lengths == length).sum())
            self.blocks.append((at, count, int(length)))
            at += count * int(length)

    def suffix_min(self, grouped: np.ndarray, *, exclusive: bool = False) -> np.ndarray:
        """Per row, the minimum from it (``exclusive``: from the next row) to its segment's end.

        ``grouped`` is (rows x k) in the grouped layout; the result is too (inf past a segment's end).
        """
        out = np.empty_like(grouped)
        for start, count, length in self.blocks:
            block = grouped[start:start + count * length].reshape(count, length, -1)
            acc = np.minimum.accumulate(block[:, ::-1], axis=1)[:, ::-1]
            target = out[start:start + count * length].reshape(count, length, -1)
            if exclusive:
                target[:, :-1] = acc[:, 1:]
                target[:, -1] = np.inf
            else:
                target[:] = acc
        return out


@dataclass
class Profiles:
    """Earliest arrival at each site from each stop, as a function of the time one is ready there.

    ``keys``: boardings sorted by stop then departure (stop x KEY_STRIDE_S + departure s);
    ``stop_end[s]``: one past stop s's last key; ``row_of_key``: each key's row in ``arrival``
    ((boardings x sites) float32 seconds after ``base_s``: the best arrival boarding at that row's
    departure or later, a suffix minimum).
    """

    keys: np.ndarray
    stop_end: np.ndarray
    row_of_key: np.ndarray
    arrival: np.ndarray
    base_s: float
    rounds: int

    def lookup(self, stop: np.ndarray, ready_s: np.ndarray) -> np.ndarray:
        """Rows of ``arrival`` for travellers ready at ``stop`` at ``ready_s``; -1 when nothing departs later."""
        pos = np.searchsorted(self.keys, stop * KEY_STRIDE_S + ready_s, side="left")
        ok = pos < self.stop_end[stop]
        return np.where(ok, self.row_of_key[np.minimum(pos, len(self.keys) - 1)] if len(self.keys) else -1, -1)

    def earliest(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows) x sites) earliest arrival, seconds after ``base_s`` (inf for -1)."""
        if not len(self.arrival):
            return np.full((len(rows), self.arrival.shape[1]), np.inf, dtype=np.float32)
        out = np.take(self.arrival, np.maximum(rows, 0), axis=0)
        out[rows < 0] = np.inf
        return out


def grouped_min(values_for, members: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """For groups of ``members`` (group g is ``members[starts[g]:starts[g + 1]]``), the elementwise minimum of
    ``values_for(member)`` over each group: ``values_for`` maps an array of members to an array of rows.

    Groups are taken largest first, one member slot at a time, so every step is a minimum over a
    leading block of rows (much quicker than ``np.minimum.reduceat`` on 2-D rows).
    """
    sizes = np.diff(np.r_[starts, len(members)])
    order = np.argsort(-sizes, kind="stable")
    first, size = starts[order], sizes[order]
    out = values_for(members[first])
    for slot in range(1, int(size.max()) if len(size) else 0):
        k = int(np.searchsorted(-size, -slot, side="left"))  # groups with more than ``slot`` members
        np.minimum(out[:k], values_for(members[first[:k] + slot]), out=out[:k])
    result = np.empty_like(out)
    result[order] = out
    return result


def site_profiles(tt: Timetable, egress_s: np.ndarray, paths: tuple[np.ndarray, ...], *,
                  max_rides: int) -> Profiles:
    """Run the rounds back from the sites. ``egress_s``: (timetable stops x sites) walk seconds from a stop
    to a site (inf beyond the walking limit); ``paths``: :func:`geo.travel.timetable.footpaths`."""
    n_sites = egress_s.shape[1]
    base = tt.start_s
    trips = Segments(tt.ev_trip)
    ev = trips.order                                   # events in the grouped layout
    pos_of_event = np.empty(len(ev), dtype=np.int64)
    pos_of_event[ev] = np.arange(len(ev))
    # Boardings sorted by stop then departure (the lookup keys), then grouped by stop for the suffix minimum.
    board = np.flatnonzero(tt.ev_board)
    board = board[np.lexsort((tt.ev_dep[board], tt.ev_stop[board]))]
    board_stop = tt.ev_stop[board]
    keys = board_stop * KEY_STRIDE_S + tt.ev_dep[board]
    stop_end = np.searchsorted(board_stop, np.arange(tt.n_stops), side="right")
    stops = Segments(board_stop)
    row_of_key = np.empty(len(board), dtype=np.int64)
    row_of_key[stops.order] = np.arange(len(board))
    board_in_rows = pos_of_event[board[stops.order]]   # each profile row's event, in the grouped event layout
    profiles = Profiles(keys=keys, stop_end=stop_end, row_of_key=row_of_key,
                        arrival=np.empty((0, n_sites), dtype=np.float32), base_s=base, rounds=0)

    alight = np.flatnonzero(tt.ev_alight)
    direct = np.full((len(ev), n_sites), np.inf, dtype=np.float32)
    direct[pos_of_event[alight]] = (tt.ev_arr[alight, None] - base + egress_s[tt.ev_stop[alight]]).astype(np.float32)
    # Changes: every way on from each alighting (event, row boarded, in event order) is fixed across rounds.
    ptr, to, cost = paths
    from_stop = tt.ev_stop[alight]
    degree = ptr[from_stop + 1] - ptr[from_stop]
    q_event = np.repeat(alight, degree)
    link = np.repeat(ptr[from_stop], degree) + (np.arange(degree.sum()) - np.repeat(np.cumsum(degree) - degree, degree))
    q_row = profiles.lookup(to[link], tt.ev_arr[q_event] + cost[link])
    useful = q_row >= 0
    q_event, q_row = pos_of_event[q_event[useful]], q_row[useful]
    order = np.argsort(q_event, kind="stable")
    q_event, q_row = q_event[order], q_row[order]

    values = direct
    changed = None
    for rounds in range(1, max_rides + 1):
        if rounds > 1:
            # Only ways on to boardings whose arrival improved last round can improve anything now.
            live = changed[q_row]
            ev_live, row_live = q_event[live], q_row[live]
            if not len(ev_live):
                break
            starts = np.flatnonzero(np.r_[True, ev_live[1:] != ev_live[:-1]])
            best = grouped_min(profiles.earliest, row_live, starts)
            target = ev_live[starts]
            values = values.copy() if values is direct else values
            values[target] = np.minimum(values[target], best)
        ride = trips.suffix_min(values, exclusive=True)
        arrival = stops.suffix_min(np.take(ride, board_in_rows, axis=0))
        if rounds == 1:
            changed = np.isfinite(arrival).any(axis=1)
        else:
            changed = (arrival < profiles.arrival).any(axis=1)
            if not changed.any():
                break
        profiles.arrival, profiles.rounds = arrival, rounds
    return profiles
