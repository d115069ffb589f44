"""The estimate engine: straight-line distance x circuity at a mode speed, plus fixed allowances.

CRS: point coordinates are British National Grid (EPSG:27700) metres.
Units: distances in metres, speeds in km/h, times in minutes.

For a straight-line distance ``d`` (metres)::

    walk  = d * circuity / walk speed
    cycle = d * circuity / cycle speed + cycle parking
    car   = d * circuity / car speed + car parking
    bus   = min(walk, 2 * stop walk / walk speed + headway / 2 + d * bus circuity / bus speed)

Bus is "public transport or walking" as in the DfT journey time statistics:
where walking is quicker than waiting for a bus, the walk is taken. Every
time is increasing in ``d``, so the nearest site by distance is the nearest
by time and "within T minutes" is "within a radius r(T)": :func:`summary`
answers with k-d tree queries instead of a dense matrix.

Results are always an **estimate**: no timetable, no road network, no
congestion pattern, no barriers (rivers, motorways) beyond the circuity
allowance. Every parameter below is adjustable by keyword argument.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from geo.errors import TravelError

NAME = "estimate"
LABEL = "estimate (straight-line distance x circuity at mode speeds; not a timetable or network route)"
MODES = ("walk", "cycle", "car", "bus")

#: Walking speed, km/h (3 mph). DfT Journey Time Statistics: walking at 4.8 km/h.
WALK_SPEED_KMH = 4.8
#: Cycling speed, km/h (about 10 mph). DfT Journey Time Statistics: cycling at 16 km/h.
CYCLE_SPEED_KMH = 16.0
#: Time added to every cycle journey for parking, minutes. DfT Journey Time Statistics: 5 minutes.
CYCLE_PARK_MIN = 5.0
#: Car speed over the routed distance, km/h: 25.4 mph, the average weekday morning-peak speed on local
#: 'A' roads in England (DfT travel time measures, year to June 2019).
CAR_SPEED_KMH = 40.9
#: Time added to every car journey for parking and walking to the door, minutes. Wardscope assumption,
#: set equal to the DfT Journey Time Statistics cycle parking allowance.
CAR_PARK_MIN = 5.0
#: Bus in-vehicle speed, km/h. Wardscope assumption: half the local 'A' road morning-peak traffic speed
#: (40.9 km/h, DfT travel time measures 2019) to allow for stops, dwell and indirect routes.
BUS_SPEED_KMH = 20.0
#: Walk from the door to the bus stop, and from the stop to the site, metres each. The "custom and
#: practice" maximum walk to a bus stop quoted by CIHT, Buses in Urban Developments (2018).
BUS_STOP_WALK_M = 400.0
#: Bus headway, minutes; the wait is half of it (random arrival). Wardscope assumption for a
#: typical town service (three buses an hour); rural services are often hourly (set 60).
BUS_HEADWAY_MIN = 20.0
#: Ratio of route distance to straight-line distance. Newell (1980): about 1.2 for random points in an
#: urban network; O'Sullivan (1996): 1.21-1.23 around transit stations.
CIRCUITY = 1.2
#: Circuity of bus routes. Wardscope assumption: 1.2 like other modes (buses also detour; raise it for
#: looping rural services).
BUS_CIRCUITY = 1.2


class Parameter(NamedTuple):
    name: str
    value: float
    unit: str
    applies_to: str
    source: str


PARAMETERS = [
    Parameter("walk_speed_kmh", WALK_SPEED_KMH, "km/h", "walk; walks to and from bus stops",
              "DfT Journey Time Statistics (walk speed 4.8 km/h)"),
    Parameter("cycle_speed_kmh", CYCLE_SPEED_KMH, "km/h", "cycle", "DfT Journey Time Statistics (cycle speed 16 km/h)"),
    Parameter("cycle_park_min", CYCLE_PARK_MIN, "minutes", "cycle",
              "DfT Journey Time Statistics (5 minutes parking added to all cycle journeys)"),
    Parameter("car_speed_kmh", CAR_SPEED_KMH, "km/h", "car",
              "DfT travel time measures: local 'A' roads, weekday morning peak, 25.4 mph (year to June 2019)"),
    Parameter("car_park_min", CAR_PARK_MIN, "minutes", "car", "Wardscope assumption (equal to the DfT cycle parking allowance)"),
    Parameter("bus_speed_kmh", BUS_SPEED_KMH, "km/h", "bus",
              "Wardscope assumption: half the local 'A' road morning-peak traffic speed (DfT 2019)"),
    Parameter("bus_stop_walk_m", BUS_STOP_WALK_M, "metres", "bus (each end)",
              "CIHT Buses in Urban Developments (2018): 400 m customary maximum walk to a stop"),
    Parameter("bus_headway_min", BUS_HEADWAY_MIN, "minutes", "bus (wait = half)", "Wardscope assumption (3 buses an hour)"),
    Parameter("circuity", CIRCUITY, "ratio", "walk, cycle, car",
              "Newell (1980) about 1.2 in urban networks; O'Sullivan (1996) 1.21-1.23"),
    Parameter("bus_circuity", BUS_CIRCUITY, "ratio", "bus", "Wardscope assumption (as other modes)"),
    Parameter("max_minutes", float("inf"), "minutes", "all",
              "optional cap: pairs above it are reported as unreachable (NaN)"),
]
DEFAULTS = {p.name: p.value for p in PARAMETERS}


def _params(overrides: dict) -> dict:
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise TravelError(f"unknown estimate parameter(s) {', '.join(unknown)}; known: {', '.join(DEFAULTS)}")
    values = {**DEFAULTS, **{k: float(v) for k, v in overrides.items() if v is not None}}
    for key, value in values.items():
        if np.isnan(value) or value < 0 or (key.endswith(("speed_kmh", "circuity", "max_minutes")) and value <= 0):
            raise TravelError(f"estimate parameter {key} must be positive, got {value:g}")
    return values


def _m_per_min(kmh: float) -> float:
    return kmh * 1000.0 / 60.0


def _bus_fixed_min(p: dict) -> float:
    return 2 * p["bus_stop_walk_m"] / _m_per_min(p["walk_speed_kmh"]) + p["bus_headway_min"] / 2.0


def minutes_for_distance(distance_m: np.ndarray, mode: str, **params) -> np.ndarray:
    """Estimated door-to-door minutes for straight-line distances (metres); increasing in distance."""
    p = _params(params)
    d = np.asarray(distance_m, dtype=float)
    walk = d * p["circuity"] / _m_per_min(p["walk_speed_kmh"])
    if mode == "walk":
        return walk
    if mode == "cycle":
        return d * p["circuity"] / _m_per_min(p["cycle_speed_kmh"]) + p["cycle_park_min"]
    if mode == "car":
        return d * p["circuity"] / _m_per_min(p["car_speed_kmh"]) + p["car_park_min"]
    if mode == "bus":
        bus = _bus_fixed_min(p) + d * p["bus_circuity"] / _m_per_min(p["bus_speed_kmh"])
        return np.minimum(walk, bus)
    raise TravelError(f"the estimate engine has no mode {mode!r}")


def distance_for_minutes(minutes: float, mode: str, **params) -> float:
    """The largest straight-line distance (metres) reachable within ``minutes``; -1 when none is."""
    p = _params(params)

    def reach(fixed: float, speed_kmh: float, circuity: float) -> float:
        return (minutes - fixed) * _m_per_min(speed_kmh) / circuity if minutes >= fixed else -1.0

    walk = reach(0.0, p["walk_speed_kmh"], p["circuity"])
    if mode == "walk":
        return walk
    if mode == "cycle":
        return reach(p["cycle_park_min"], p["cycle_speed_kmh"], p["circuity"])
    if mode == "car":
        return reach(p["car_park_min"], p["car_speed_kmh"], p["circuity"])
    if mode == "bus":
        return max(walk, reach(_bus_fixed_min(p), p["bus_speed_kmh"], p["bus_circuity"]))
    raise TravelError(f"the estimate engine has no mode {mode!r}")


def matrix(origin_xy: np.ndarray, destination_xy: np.ndarray, mode: str, **params) -> tuple[np.ndarray, dict]:
    """Dense (origins x destinations) minutes; NaN only above ``max_minutes`` (when given)."""
    p = _params(params)
    minutes = minutes_for_distance(cdist(origin_xy, destination_xy), mode, **params)
    if np.isfinite(p["max_minutes"]):
        minutes = np.where(minutes > p["max_minutes"], np.nan, minutes)
    return minutes, {"params": p}


def summary(origin_xy: np.ndarray, destination_xy: np.ndarray, mode: str, thresholds_min: Sequence[float],
            weights: np.ndarray | None = None, **params) -> tuple[dict, dict]:
    """Nearest destination, counts and weight sums within thresholds, without a dense matrix.

    Same result as :func:`geo.travel.base.summarise_minutes` on :func:`matrix` (time is increasing in
    straight-line distance), in O((o + d) log d) for the nearest and counts.
    """
    p = _params(params)
    cap = p["max_minutes"]
    tree = cKDTree(destination_xy)
    dist, idx = tree.query(origin_xy, k=1)
    nearest_min = minutes_for_distance(dist, mode, **params)
    unreachable = nearest_min > cap
    out = {"nearest_index": np.where(unreachable, -1, idx), "nearest_minutes": np.where(unreachable, np.nan, nearest_min)}
    radii = {t: distance_for_minutes(min(t, cap), mode, **params) for t in thresholds_min}
    for t, r in radii.items():
        out[f"n_within_{t:g}"] = (tree.query_ball_point(origin_xy, r, return_length=True) if r >= 0
                                  else np.zeros(len(origin_xy), dtype=int))
    if weights is not None:
        w = np.nan_to_num(np.asarray(weights, dtype=float))
        r_max = max(radii.values())
        for t in thresholds_min:
            out[f"w_within_{t:g}"] = np.zeros(len(origin_xy))
        if r_max >= 0:
            pairs = cKDTree(origin_xy).sparse_distance_matrix(tree, r_max, output_type="ndarray")
            for t, r in radii.items():
                sel = pairs[pairs["v"] <= r]
                out[f"w_within_{t:g}"] = np.bincount(sel["i"], weights=w[sel["j"]], minlength=len(origin_xy))
        # As summarise_minutes: a destination without a weight is unknown, not zero.
        unknown = np.isnan(np.asarray(weights, dtype=float))
        for t, r in radii.items():
            n_unknown = (np.zeros(len(origin_xy), dtype=int) if r < 0 or not unknown.any() else
                         cKDTree(destination_xy[unknown]).query_ball_point(origin_xy, r, return_length=True))
            out[f"u_within_{t:g}"] = n_unknown
            all_unknown = (out[f"n_within_{t:g}"] > 0) & (n_unknown == out[f"n_within_{t:g}"])
            out[f"w_within_{t:g}"] = np.where(all_unknown, np.nan, out[f"w_within_{t:g}"])
    return out, {"params": p}
