"""The timetable engine: public transport from a GTFS feed, with walks at each end ("bus" mode).

CRS: points in British National Grid (EPSG:27700, metres). Units: seconds inside, minutes out.

For a departure at time t from origin o to site d (door to door)::

    min( walk(o, d),  min over stops s within the walk limit [earliest arrival at d ready at s at t + walk(o, s)] - t )

so walking all the way is always allowed and a timetable time is never worse than walking. Walks are
the straight line x :data:`~geo.travel.estimate.CIRCUITY` at :data:`~geo.travel.estimate.WALK_SPEED_KMH`
(the estimate engine's constants and sources), or with ``network=PATH.osm.pbf`` shortest paths on that
OpenStreetMap walking network (:mod:`geo.travel.walks`), at most ``max_walk_min`` from the origin to
the first stop and from the last stop to the site. The earliest arrivals come from RAPTOR rounds run back from
the sites (:mod:`geo.travel.raptor`) on the chosen day's timetable (:mod:`geo.travel.timetable`),
changing vehicles at the same stop or at a stop within ``transfer_walk_m`` (or as transfers.txt says),
with ``min_change_min`` for every change, and at most ``max_rides`` vehicles.

Reported minutes, as Conveyal R5 and the DfT journey time statistics do: for departures every minute
of the window (``depart``, start inclusive, end exclusive; default 07:00-09:00) on ``date`` (default:
the first Tuesday in the feed's validity on which trips run), ``minutes`` is the median and
``minutes_p25`` / ``minutes_p75`` the 25th and 75th percentiles (linear interpolation between
departures, numpy's default). A departure that cannot arrive within ``max_minutes`` counts as
infinitely long, so a percentile is NaN (unreachable) when it falls among those.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import numpy as np

from geo.contentcache import ContentCache, content_key
from geo.errors import GTFSCoverageError, GTFSDateError, TravelError
from geo.travel.estimate import PARAMETERS as ESTIMATE_PARAMETERS
from geo.travel.estimate import BUS_STOP_WALK_M, Parameter, minutes_for_distance
from geo.travel.gtfs_feed import GtfsFeed, check_date, clock, default_date
from geo.travel.raptor import GATHER_CELLS, grouped_min, site_profiles
from geo.travel.network import SNAP_M
from geo.travel.timetable import build_timetable, footpaths
from geo.travel.walks import NetworkWalks, StraightWalks
from geo.words import agree, count_of

NAME = "gtfs"
LABEL = "timetable (GTFS: walk to the stop, wait, ride, change, walk; median over departures every minute)"
MODES = ("bus",)

#: Longest walk from the origin to the first stop, and from the last stop to the site, minutes.
#: Conveyal R5's default maxWalkTime (20 minutes).
MAX_WALK_MIN = 20.0
#: Longest straight-line walk between stops when changing (without a transfers.txt), metres. As the
#: estimate engine's walk to a stop: CIHT, Buses in Urban Developments (2018), 400 m.
TRANSFER_WALK_M = BUS_STOP_WALK_M
#: Time allowed for every change of vehicle, on top of any walk, minutes. Conveyal R5's minimum time
#: between alighting from one vehicle and boarding another (BOARD_SLACK_SECONDS = 60).
MIN_CHANGE_MIN = 1.0
#: Most vehicles in one journey. Conveyal R5's default maxRides (4).
MAX_RIDES = 4
#: Longest journey, minutes; longer ones are unreachable. Conveyal R5's default maxTripDurationMinutes (120).
MAX_MINUTES = 120.0
#: Departure window (start inclusive, end exclusive, one departure a minute).
DEPART = "07:00-09:00"
#: Sites routed together (bounds memory at stop events x batch x 8 bytes).
SITE_BATCH = 32

_ESTIMATE = {p.name: p for p in ESTIMATE_PARAMETERS}
PARAMETERS = [
    Parameter("gtfs", float("nan"), "path", "bus", "a GTFS feed (zip) covering the area (required)"),
    Parameter("date", float("nan"), "YYYY-MM-DD", "bus",
              "default: the first Tuesday in the feed's validity with trips (DfT journey time statistics use a Tuesday)"),
    Parameter("depart", float("nan"), "HH:MM-HH:MM", "bus", "departure window; default 07:00-09:00, one departure a minute"),
    # Walking as the estimate engine walks, with its documented sources.
    _ESTIMATE["walk_speed_kmh"]._replace(applies_to="walks to, from and between stops"),
    _ESTIMATE["circuity"]._replace(applies_to="walks"),
    Parameter("max_walk_min", MAX_WALK_MIN, "minutes", "walk to the first stop and from the last",
              "Conveyal R5 default maxWalkTime (20 minutes)"),
    Parameter("transfer_walk_m", TRANSFER_WALK_M, "metres", "walks between stops when changing (no transfers.txt)",
              "CIHT Buses in Urban Developments (2018): 400 m"),
    Parameter("min_change_min", MIN_CHANGE_MIN, "minutes", "every change of vehicle",
              "Conveyal R5 minimum time between alighting and boarding (60 s)"),
    Parameter("max_rides", float(MAX_RIDES), "vehicles", "one journey", "Conveyal R5 default maxRides (4)"),
    Parameter("max_minutes", MAX_MINUTES, "minutes", "all", "Conveyal R5 default maxTripDurationMinutes (120)"),
    Parameter("network", float("nan"), "path", "walks to and from stops, and all the way (optional)",
              "a local .osm.pbf: walks on its streets and paths (the network engine's walking graph) instead of "
              "straight lines; changes between stops stay straight lines"),
    Parameter("snap_m", SNAP_M, "metres", "with network: furthest a point is from the walking network",
              "as the network engine"),
]
_NOT_NUMBERS = ("gtfs", "date", "depart", "network")
DEFAULTS = {p.name: p.value for p in PARAMETERS if p.name not in _NOT_NUMBERS}

_FEEDS = ContentCache(max_entries=2)  # a regional feed's arrays take a few hundred MB
_TIMETABLES: dict[tuple, tuple] = {}
_WINDOW = re.compile(r"^\s*(\d{1,2}):([0-5]\d)\s*-\s*(\d{1,2}):([0-5]\d)\s*$")


def load_feed(gtfs) -> GtfsFeed:
    """A :class:`GtfsFeed` from a feed, an accepted ``gtfs`` upload, or a path (sent through the upload gate)."""
    from geo.upload.gate import GTFS_KINDS, Upload, accept_file, read_gtfs_upload
    from geo.workspace import SessionWorkspace

    def cached(upload: Upload) -> GtfsFeed:
        feed = _FEEDS.get_or_compute(content_key("gtfs-feed", upload), lambda: read_gtfs_upload(upload))
        # The same content may come under another name: messages name the file this user gave.
        return feed if feed.label == upload.name else dataclasses.replace(feed, label=upload.name)

    if isinstance(gtfs, GtfsFeed):
        return gtfs
    if isinstance(gtfs, Upload):
        return cached(gtfs)
    if isinstance(gtfs, (str, Path)):
        with SessionWorkspace() as workspace:
            return cached(accept_file(Path(gtfs), workspace=workspace, kinds=GTFS_KINDS))
    raise TravelError("the gtfs engine needs a timetable: pass gtfs=PATH to a GTFS feed (zip)")


def parse_window(text: str | None) -> tuple[float, float]:
    """``"07:00-09:00"`` -> (25200.0, 32400.0) seconds; hours up to 47 for after midnight."""
    text = DEPART if text is None else str(text)
    m = _WINDOW.match(text)
    if m:
        h0, m0, h1, m1 = map(int, m.groups())
        start, end = h0 * 3600.0 + m0 * 60, h1 * 3600.0 + m1 * 60
        if end > start and h1 < 48:
            return start, end
    raise TravelError(f"departure window {text!r} is not like 07:00-09:00 (start before end; write 24:30 for "
                      f"half past midnight after a day's last hour)")


def parse_date(value) -> dt.date | None:
    """``"2023-08-01"`` or a date -> date; None -> None (the feed's default)."""
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise TravelError(f"date {value!r} is not a date like 2023-08-01 (YYYY-MM-DD)") from None


def _params(overrides: dict) -> dict:
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise TravelError(f"unknown gtfs parameter(s) {', '.join(unknown)}; known: {', '.join(_NOT_NUMBERS + tuple(DEFAULTS))}")
    values = {**DEFAULTS, **{k: float(v) for k, v in overrides.items() if v is not None}}
    for key, value in values.items():
        if not np.isfinite(value) or value < 0 or (value == 0 and key != "min_change_min"):
            raise TravelError(f"gtfs parameter {key} must be positive, got {value:g}")
    values["max_rides"] = int(values["max_rides"])
    return values


def _timetable(feed: GtfsFeed, day: dt.date, start_s: float, horizon_s: float, p: dict):
    key = (feed.key, day, start_s, horizon_s, p["walk_speed_kmh"], p["circuity"], p["min_change_min"],
           p["transfer_walk_m"])
    if key not in _TIMETABLES:
        tt = build_timetable(feed, day, start_s, horizon_s)
        straight = StraightWalks(p["walk_speed_kmh"], p["circuity"])
        paths = footpaths(tt, walk_s=straight.seconds, change_s=60.0 * p["min_change_min"],
                          transfer_walk_m=p["transfer_walk_m"])
        _TIMETABLES[key] = (tt, paths)
        while len(_TIMETABLES) > 4:
            _TIMETABLES.pop(next(iter(_TIMETABLES)))
    return _TIMETABLES[key]


class Plan:
    """Everything one run needs: the day's timetable, walks, departures (seconds)."""

    def __init__(self, origin_xy, destination_xy, *, gtfs=None, date=None, depart=None, network=None, **overrides):
        p = _params(overrides)
        self.p = p
        self.feed = load_feed(gtfs)
        chosen = parse_date(date)
        self.day = chosen or default_date(self.feed)
        self.date_chosen_by_default = chosen is None
        check_date(self.feed, self.day)
        start_s, end_s = parse_window(depart)
        self.window = (start_s, end_s)
        self.departures = np.arange(start_s, end_s, 60.0)
        self.cap_s = 60.0 * p["max_minutes"]
        horizon = self.departures[-1] + self.cap_s
        self.tt, self.paths = _timetable(self.feed, self.day, start_s, horizon, p)
        counts = self.tt.counts
        if counts["trips"] + counts["frequency_trips"] == 0:
            raise GTFSDateError(f"{self.feed.label}: no trips run on {self.day.isoformat()} ({self.day:%A}); "
                                f"choose another date")
        self.horizon = horizon
        if network is None:
            self.walks = StraightWalks(p["walk_speed_kmh"], p["circuity"])
        else:
            self.walks = NetworkWalks(network, p["walk_speed_kmh"], p["snap_m"])
            self.walks.check_covers(destination_xy, "sites")
            self.walks.check_covers(origin_xy, "origins")
        limit_s = 60.0 * p["max_walk_min"]
        boards = np.unique(self.tt.ev_stop[self.tt.ev_board])
        alights = np.unique(self.tt.ev_stop[self.tt.ev_alight])
        o, s, walk_s = self.walks.near(origin_xy, self.tt.stop_xy[boards], limit_s, role="origin")
        self.access = (o, boards[s], walk_s)
        e_site, e_stop, e_walk = self.walks.near(destination_xy, self.tt.stop_xy[alights], limit_s, role="destination")
        self.egress = (e_site, alights[e_stop], e_walk)
        self.direct_s = self.walks.between(origin_xy, destination_xy, self.cap_s)
        self.origins_without_stop = int(len(origin_xy) - len(np.unique(o)))
        self.sites_without_stop = int(len(destination_xy) - len(np.unique(e_site)))
        for what, n, total, xy in (("origins", len(np.unique(o)), len(origin_xy), origin_xy),
                                   ("sites", len(np.unique(e_site)), len(destination_xy), destination_xy)):
            if n == 0 and counts["events"]:
                sx, sy = self.tt.stop_xy[:, 0], self.tt.stop_xy[:, 1]
                raise GTFSCoverageError(
                    f"{self.feed.label}: does not reach the area: none of its {self.tt.n_stops:,} stops served on "
                    f"{self.day.isoformat()} is within {p['max_walk_min']:g} minutes' walk of any of the {total:,} {what} (stops span "
                    f"E {sx.min():.0f}-{sx.max():.0f}, N {sy.min():.0f}-{sy.max():.0f}; {what} E {xy[:, 0].min():.0f}-"
                    f"{xy[:, 0].max():.0f}, N {xy[:, 1].min():.0f}-{xy[:, 1].max():.0f}); use a feed for this area")

    def egress_matrix(self, sites: np.ndarray) -> np.ndarray:
        """(timetable stops x len(sites)) walk seconds from each stop to each site (inf beyond the limit)."""
        out = np.full((self.tt.n_stops, len(sites)), np.inf)
        e_site, e_stop, e_walk = self.egress
        col = np.full(len(self.direct_s[0]), -1)
        col[sites] = np.arange(len(sites))
        keep = col[e_site] >= 0
        out[e_stop[keep], col[e_site[keep]]] = e_walk[keep]
        return out

    def chunks(self):
        """Yield ``(origin indices, site indices, seconds)`` with seconds shaped (origins x sites x departures);
        journeys longer than ``max_minutes`` are inf."""
        n_o, n_d = self.direct_s.shape
        deps = self.departures
        o, stop, walk = self.access
        o_start = np.searchsorted(o, np.arange(n_o + 1))
        for d0 in range(0, n_d, SITE_BATCH):
            sites = np.arange(d0, min(n_d, d0 + SITE_BATCH))
            profiles = site_profiles(self.tt, self.egress_matrix(sites), self.paths, max_rides=self.p["max_rides"])
            per_origin = len(deps) * len(sites)
            budget = max(1, GATHER_CELLS // per_origin)  # origins per chunk
            for i in range(0, n_o, budget):
                j = min(n_o, i + budget)
                out = np.repeat(self.direct_s[i:j, sites][:, None, :], len(deps), axis=1)  # walking: exact
                lo, hi = o_start[i], o_start[j]
                if hi > lo:
                    owners = o[lo:hi] - i
                    starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])

                    def arrivals(pairs):  # (pairs x departures x sites) earliest arrival, seconds after base_s
                        ready = deps[None, :] + walk[lo + pairs, None]
                        rows = profiles.lookup(np.repeat(stop[lo + pairs], len(deps)), ready.ravel())
                        return profiles.earliest(rows).reshape(len(pairs), len(deps), len(sites))

                    best = grouped_min(arrivals, np.arange(hi - lo), starts)
                    best = best + (profiles.base_s - deps)[None, :, None]  # float32 arrivals, float64 times
                    rows_o = owners[starts]
                    out[rows_o] = np.minimum(out[rows_o], best)
                out[out > self.cap_s] = np.inf
                yield np.arange(i, j), sites, out.transpose(0, 2, 1)

    def info(self) -> dict:
        feed, tt = self.feed, self.tt
        start_s, end_s = self.window
        notes = [
            f"timetable {feed.label}, {self.day.isoformat()} ({self.day:%A}"
            f"{', the first Tuesday in its validity with trips; pass a date to choose' if self.date_chosen_by_default and self.day.weekday() == 1 else ''}"
            f"{', its first weekday with trips; pass a date to choose' if self.date_chosen_by_default and self.day.weekday() != 1 else ''}), "
            f"departures every minute {clock(start_s)[:5]}-{clock(end_s)[:5]} ({len(self.departures)}): each time is the "
            f"middle (median) journey over those departures, and the quartiles say how much it varies (half the "
            f"departures take between the lower and the upper quartile); walking all the way is always allowed",
            f"{tt.counts['trips']:,} trips ({tt.counts['services']} services) run that day"
            + (f", plus {tt.counts['frequency_trips']:,} from frequencies.txt" if tt.counts["frequency_trips"] else ""),
        ]
        if not tt.counts["events"]:
            notes.append(f"no trip can be boarded between {clock(start_s)[:5]} and {clock(self.horizon)[:5]}: "
                         f"walking only")
        if feed.skipped:
            shown = "; ".join(f"{s['stop_id']} {s['name']!r} {s['reason']}" for s in feed.skipped[:3])
            more = f" (and {len(feed.skipped) - 3} more)" if len(feed.skipped) > 3 else ""
            notes.append(f"{count_of(len(feed.skipped), 'stop')} skipped, never routed through: {shown}{more}")
        if self.origins_without_stop and tt.counts["events"]:
            notes.append(f"{count_of(self.origins_without_stop, 'origin')} "
                         f"{agree(self.origins_without_stop, 'has', 'have')} no stop within "
                         f"{self.p['max_walk_min']:g} minutes' "
                         f"walk: walking only")
        if self.sites_without_stop and tt.counts["events"]:
            notes.append(f"{count_of(self.sites_without_stop, 'site')} "
                         f"{agree(self.sites_without_stop, 'has', 'have')} no stop within "
                         f"{self.p['max_walk_min']:g} minutes' "
                         f"walk: reached on foot only")
        network = getattr(self.walks, "net", None)
        if network is not None:
            notes.append(f"walks on the OpenStreetMap walking network of {network.path.name} (plus the gap to it); "
                         f"changes between stops are straight lines")
        unreachable = [{"index": i, "role": role, "reason": why} for role, reasons in self.walks.reasons.items()
                       for i, why in enumerate(reasons) if why]
        return {"params": {**self.p, "gtfs": feed.label, "date": self.day.isoformat(),
                           "depart": f"{clock(start_s)[:5]}-{clock(end_s)[:5]}",
                           "network": str(network.path) if network is not None else None},
                "notes": notes, "skipped_stops": list(feed.skipped), "timetable": dict(tt.counts),
                "unreachable": unreachable}


def window_stats(seconds: np.ndarray, quantiles=(0.25, 0.5, 0.75)) -> list[np.ndarray]:
    """Percentiles over the last axis (departures) in minutes; inf (no journey) sorts last; NaN out for inf."""
    ordered = np.sort(seconds, axis=-1)
    n = ordered.shape[-1]
    out = []
    for q in quantiles:
        pos = q * (n - 1)
        lo, hi = int(np.floor(pos)), int(np.ceil(pos))
        a, b = ordered[..., lo], ordered[..., hi]
        frac = pos - lo
        with np.errstate(invalid="ignore"):
            value = a if frac == 0 else np.where(np.isfinite(b), a + frac * (b - a), np.inf)
        out.append(np.where(np.isfinite(value), value / 60.0, np.nan))
    return out


def _check(mode: str) -> None:
    if mode not in MODES:
        raise TravelError(f"the gtfs engine has no mode {mode!r} (it does bus: public transport or walking)")


def matrix(origin_xy: np.ndarray, destination_xy: np.ndarray, mode: str, **params) -> tuple[np.ndarray, dict]:
    """(origins x destinations) median minutes over the window's departures; NaN where unreachable.

    ``info["columns"]`` holds ``minutes_p25`` and ``minutes_p75`` arrays of the same shape.
    """
    _check(mode)
    plan = Plan(origin_xy, destination_xy, **params)
    shape = plan.direct_s.shape
    p25, p50, p75 = (np.full(shape, np.nan) for _ in range(3))
    for rows, cols, seconds in plan.chunks():
        for target, value in zip((p25, p50, p75), window_stats(seconds)):
            target[np.ix_(rows, cols)] = value
    info = plan.info()
    info["columns"] = {"minutes_p25": p25, "minutes_p75": p75}
    return p50, info


def departure_minutes(origin_xy: np.ndarray, destination_xy: np.ndarray, **params) -> tuple[np.ndarray, np.ndarray, dict]:
    """Minutes for every departure: (origins x destinations x departures), inf where no journey within
    ``max_minutes``; also the departure times (seconds after midnight) and the run's info."""
    plan = Plan(origin_xy, destination_xy, **params)
    out = np.full((*plan.direct_s.shape, len(plan.departures)), np.inf)
    for rows, cols, seconds in plan.chunks():
        out[np.ix_(rows, cols)] = seconds / 60.0
    return out, plan.departures, plan.info()
