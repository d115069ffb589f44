"""Fastest public-transport journeys to a few sites for every departure time at once (RAPTOR rounds).

RAPTOR (Delling, Pajor and Werneck, "Round-Based Public Transit Routing", 2012) finds in round r the
best journeys that use r vehicles: it scans each trip along its stops from where it can be boarded,
then relaxes the changes (footpaths) between stops before the next round. Here the rounds run
backwards from the sites as a *profile* search (what rRAPTOR gets by rerunning for every departure):

* round 1: riding trip k from its stop j and getting off at a later stop i, then walking to site d,
  arrives at ``arr[k, i] + egress[i, d]``; the best over i > j is a suffix minimum along the trip;
* round r: getting off at i may instead change (walk to a stop w, plus the change time) and board
  whatever gives the earliest arrival at d from w among journeys of r - 1 vehicles;
* each stop's *profile*: for a traveller ready at stop s at time t, the earliest arrival at each site
  is the minimum over the boardings at s departing at or after t: a suffix minimum over that stop's
  boardings sorted by departure, looked up with one binary search.

Every step is a numpy operation over all stop events x sites (no Python loop over trips or stops);
rounds stop when nothing improves or after ``max_rides``. Times are seconds; ``inf`` = no journey.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo.travel.timetable import Timetable

#: Keys for binary search are stop x KEY_STRIDE_S + time: larger than any time of a day and a half.
KEY_STRIDE_S = 1.0e6
#: Values are shifted by segment x SEGMENT_STRIDE for segmented minima; "no journey" is clipped to NONE.
_NONE = 4.0e5
_SEGMENT_STRIDE = 1.0e6
#: Rows of (queries x sites) gathered at once (bounds memory at about this x 8 bytes).
GATHER_CELLS = 1 << 22


def suffix_min(values: np.ndarray, segment: np.ndarray, *, exclusive: bool = False) -> np.ndarray:
    """Minimum of ``values`` rows from each row to the end of its segment (rows sorted by ``segment``).

    ``exclusive``: over the rows after it only (inf for a segment's last row). ``values`` is (n x k).
    """
    if len(values) == 0:
        return values.copy()
    # One cumulative minimum over everything: each segment is lifted above all earlier ones, so the
    # running minimum coming from a later segment never leaks into an earlier one.
    lift = segment.astype(float)[:, None] * _SEGMENT_STRIDE
    shifted = np.minimum(values, _NONE) + lift
    out = np.minimum.accumulate(shifted[::-1], axis=0)[::-1] - lift
    if exclusive:
        nxt = np.empty_like(out)
        nxt[:-1] = out[1:]
        nxt[-1] = _NONE
        last = np.ones(len(segment), dtype=bool)
        last[:-1] = segment[1:] != segment[:-1]
        nxt[last] = _NONE
        out = nxt
    out[out >= _NONE] = np.inf
    return out


@dataclass
class Profiles:
    """Earliest arrival at each site from each stop, as a function of the time one is ready there.

    ``keys``: boardings sorted by stop then departure (stop x KEY_STRIDE_S + departure s);
    ``stop_end[s]``: one past stop s's last boarding; ``arrival``: (boardings x sites) seconds, the
    best arrival boarding at that row's departure or later (a suffix minimum).
    """

    keys: np.ndarray
    stop_end: np.ndarray
    arrival: np.ndarray
    rounds: int

    def lookup(self, stop: np.ndarray, ready_s: np.ndarray) -> np.ndarray:
        """Row positions in ``arrival`` for travellers ready at ``stop`` at ``ready_s``; -1 when nothing
        departs there later."""
        pos = np.searchsorted(self.keys, stop * KEY_STRIDE_S + ready_s, side="left")
        return np.where(pos < self.stop_end[stop], pos, -1)

    def earliest(self, pos: np.ndarray) -> np.ndarray:
        """(len(pos) x sites) earliest arrival in seconds for rows from :meth:`lookup` (inf for -1)."""
        out = self.arrival[np.maximum(pos, 0)]
        out[pos < 0] = np.inf
        return out


def _grouped_min(profiles: Profiles, pos: np.ndarray, starts: np.ndarray, n_sites: int) -> np.ndarray:
    """For query groups (``pos`` split at ``starts``), the minimum over each group's looked-up rows."""
    out = np.empty((len(starts), n_sites))
    ends = np.append(starts[1:], len(pos))
    per_chunk = max(1, GATHER_CELLS // max(n_sites, 1))
    g = 0
    while g < len(starts):
        last = max(g + 1, int(np.searchsorted(ends, starts[g] + per_chunk, side="right")))
        lo, hi = starts[g], ends[last - 1]
        out[g:last] = np.minimum.reduceat(profiles.earliest(pos[lo:hi]), starts[g:last] - lo, axis=0)
        g = last
    return out


def site_profiles(tt: Timetable, egress_s: np.ndarray, paths: tuple[np.ndarray, ...], *,
                  max_rides: int) -> Profiles:
    """Run the rounds back from the sites. ``egress_s``: (timetable stops x sites) walk seconds from a stop
    to a site (inf beyond the walking limit); ``paths``: :func:`geo.travel.timetable.footpaths`."""
    n_sites = egress_s.shape[1]
    board = np.flatnonzero(tt.ev_board)
    order = np.lexsort((tt.ev_dep[board], tt.ev_stop[board]))
    board = board[order]
    board_stop = tt.ev_stop[board]
    keys = board_stop * KEY_STRIDE_S + tt.ev_dep[board]
    stop_end = np.searchsorted(board_stop, np.arange(tt.n_stops), side="right")
    profiles = Profiles(keys=keys, stop_end=stop_end, arrival=np.empty((0, n_sites)), rounds=0)

    alight = np.flatnonzero(tt.ev_alight)
    direct = np.full((len(tt.ev_trip), n_sites), np.inf)
    direct[alight] = tt.ev_arr[alight, None] + egress_s[tt.ev_stop[alight]]
    # Changes: every way on from each alighting (event, stop walked to, ready time) is fixed across rounds.
    ptr, to, cost = paths
    from_stop = tt.ev_stop[alight]
    degree = ptr[from_stop + 1] - ptr[from_stop]
    q_event = np.repeat(alight, degree)
    first = np.repeat(ptr[from_stop], degree) + (np.arange(degree.sum()) - np.repeat(np.cumsum(degree) - degree, degree))
    q_pos = profiles.lookup(to[first], tt.ev_arr[q_event] + cost[first])
    useful = q_pos >= 0
    q_event, q_pos = q_event[useful], q_pos[useful]
    starts = np.flatnonzero(np.r_[True, q_event[1:] != q_event[:-1]]) if len(q_event) else np.array([], dtype=int)
    changing = q_event[starts]

    values = direct
    for rounds in range(1, max_rides + 1):
        if rounds > 1:
            if not len(changing):
                break
            values = direct.copy()
            values[changing] = np.minimum(direct[changing], _grouped_min(profiles, q_pos, starts, n_sites))
        ride = suffix_min(values, tt.ev_trip, exclusive=True)[board]
        arrival = suffix_min(ride, board_stop)
        if rounds > 1 and np.array_equal(arrival, profiles.arrival):
            break
        profiles.arrival, profiles.rounds = arrival, rounds
    return profiles
