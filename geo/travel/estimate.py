"""The estimate engine: straight-line distance x circuity at a mode speed, plus fixed allowances.

CRS: point coordinates are British National Grid (EPSG:27700) metres.
Units: distances in metres, speeds in km/h, times in minutes.

For a straight-line distance ``d`` (metres)::

    walk  = d * circuity / walk speed
    cycle = d * circuity / cycle speed + cycle parking
    car   = d * circuity / car speed + car parking
    bus   = min(walk, 2 * stop walk / walk speed + headway / 2 + d * bus circuity / bus speed)

Speeds and circuity differ for urban and rural origins: the parameters
named above are the urban values, and ``<name>_rural`` (car and bus speed,
bus headway, circuity, bus circuity) apply to origins flagged rural
(``rural=`` a boolean per origin; :mod:`layers.access` passes the ONS
rural-urban classification 2021 of each LSOA). Without ``rural`` every origin
is urban.

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
#: Rural car speed, km/h (35 mph). Wardscope assumption: above the urban local 'A' road peak speed
#: (25.4 mph, DfT 2019) and below the free-flow speeds DfT's vehicle speed compliance statistics record on
#: national speed limit single carriageways (near the 60 mph limit; free flow, not average speed).
CAR_SPEED_KMH_RURAL = 56.3
#: Rural bus in-vehicle speed, km/h. Wardscope assumption: half the rural car speed, as in towns.
BUS_SPEED_KMH_RURAL = 28.0
#: Rural bus headway, minutes. Wardscope assumption: an hourly service, common on rural routes.
BUS_HEADWAY_MIN_RURAL = 60.0
#: Rural circuity. Wardscope assumption: sparser rural road networks detour more than Newell's urban 1.2.
CIRCUITY_RURAL = 1.3
#: Rural bus circuity. Wardscope assumption: rural buses loop through villages on the way.
BUS_CIRCUITY_RURAL = 1.4
#: The engine takes ``rural=`` (one flag per origin): geo.travel.base passes the origins' ``urban_rural``.
USES_RURAL = True
#: Parameters with a rural value (``<name>_rural``).
RURAL = ("car_speed_kmh", "bus_speed_kmh", "bus_headway_min", "circuity", "bus_circuity")


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
    Parameter("car_speed_kmh_rural", CAR_SPEED_KMH_RURAL, "km/h", "car (rural origins)",
              "Wardscope assumption (35 mph): above the urban local 'A' road peak speed, below DfT's free-flow "
              "speeds on national speed limit single carriageways"),
    Parameter("bus_speed_kmh_rural", BUS_SPEED_KMH_RURAL, "km/h", "bus (rural origins)",
              "Wardscope assumption: half the rural car speed"),
    Parameter("bus_headway_min_rural", BUS_HEADWAY_MIN_RURAL, "minutes", "bus (rural origins; wait = half)",
              "Wardscope assumption (an hourly service)"),
    Parameter("circuity_rural", CIRCUITY_RURAL, "ratio", "walk, cycle, car (rural origins)",
              "Wardscope assumption (sparser rural networks detour more)"),
    Parameter("bus_circuity_rural", BUS_CIRCUITY_RURAL, "ratio", "bus (rural origins)",
              "Wardscope assumption (rural buses loop through villages)"),
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
        base = key.removesuffix("_rural")
        if np.isnan(value) or value < 0 or (base.endswith(("speed_kmh", "circuity", "max_minutes")) and value <= 0):
            raise TravelError(f"estimate parameter {key} must be positive, got {value:g}")
    return values


def _rural_values(p: dict) -> dict:
    """The parameters for a rural origin: each ``<name>`` takes its ``<name>_rural`` value."""
    return {**p, **{name: p[f"{name}_rural"] for name in RURAL}}


def _rural_mask(rural, n: int) -> np.ndarray | None:
    """``rural`` as a boolean array of length ``n`` (None when no origin is rural)."""
    if rural is None:
        return None
    mask = np.asarray(rural, dtype=bool).reshape(-1)
    if mask.shape != (n,):
        raise TravelError(f"rural must give one flag per origin ({n}), got {mask.size}")
    return mask if mask.any() else None


def _m_per_min(kmh: float) -> float:
    return kmh * 1000.0 / 60.0


def _bus_fixed_min(p: dict) -> float:
    return 2 * p["bus_stop_walk_m"] / _m_per_min(p["walk_speed_kmh"]) + p["bus_headway_min"] / 2.0


def minutes_for_distance(distance_m: np.ndarray, mode: str, *, rural: bool = False, **params) -> np.ndarray:
    """Estimated door-to-door minutes for straight-line distances (metres); increasing in distance.

    ``rural``: use the ``<name>_rural`` values (the origin is rural)."""
    p = _params(params)
    return _minutes(np.asarray(distance_m, dtype=float), mode, _rural_values(p) if rural else p)


def _minutes(d: np.ndarray, mode: str, p: dict) -> np.ndarray:
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


def distance_for_minutes(minutes: float, mode: str, *, rural: bool = False, **params) -> float:
    """The largest straight-line distance (metres) reachable within ``minutes``; -1 when none is.

    ``rural``: use the ``<name>_rural`` values (the origin is rural)."""
    p = _params(params)
    return _distance(minutes, mode, _rural_values(p) if rural else p)


def _distance(minutes: float, mode: str, p: dict) -> float:
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


def _info(p: dict, mask: np.ndarray | None, n: int) -> dict:
    info = {"params": p}
    if mask is not None:
        info["notes"] = [f"{int(mask.sum()):,} of {n:,} origins are rural (ONS rural-urban classification 2021): "
                         f"rural speeds, headway and circuity used for them"]
    return info


def matrix(origin_xy: np.ndarray, destination_xy: np.ndarray, mode: str, *, rural=None,
           **params) -> tuple[np.ndarray, dict]:
    """Dense (origins x destinations) minutes; NaN only above ``max_minutes`` (when given).

    ``rural``: one boolean per origin; rural origins use the ``<name>_rural`` parameters."""
    p = _params(params)
    mask = _rural_mask(rural, len(origin_xy))
    d = cdist(origin_xy, destination_xy)
    minutes = _minutes(d, mode, p)
    if mask is not None:
        minutes[mask] = _minutes(d[mask], mode, _rural_values(p))
    if np.isfinite(p["max_minutes"]):
        minutes = np.where(minutes > p["max_minutes"], np.nan, minutes)
    return minutes, _info(p, mask, len(origin_xy))


def summary(origin_xy: np.ndarray, destination_xy: np.ndarray, mode: str, thresholds_min: Sequence[float],
            weights: np.ndarray | None = None, *, rural=None, **params) -> tuple[dict, dict]:
    """Nearest destination, counts and weight sums within thresholds, without a dense matrix.

    Same result as :func:`geo.travel.base.summarise_minutes` on :func:`matrix` (time is increasing in
    straight-line distance), in O((o + d) log d) for the nearest and counts. Urban and rural origins
    (``rural``) are answered separately, each with its own parameters.
    """
    p = _params(params)
    origin_xy = np.asarray(origin_xy, dtype=float)
    mask = _rural_mask(rural, len(origin_xy))
    if mask is None:
        return _summary(origin_xy, destination_xy, mode, thresholds_min, weights, p), _info(p, None, len(origin_xy))
    parts = {False: _summary(origin_xy[~mask], destination_xy, mode, thresholds_min, weights, p) if (~mask).any() else None,
             True: _summary(origin_xy[mask], destination_xy, mode, thresholds_min, weights, _rural_values(p))}
    out = {}
    for key, values in parts[True].items():
        urban = parts[False][key] if parts[False] is not None else values[:0]
        merged = np.empty(len(origin_xy), dtype=np.result_type(values, urban))
        merged[mask], merged[~mask] = values, urban
        out[key] = merged
    return out, _info(p, mask, len(origin_xy))


def _summary(origin_xy: np.ndarray, destination_xy: np.ndarray, mode: str, thresholds_min: Sequence[float],
             weights: np.ndarray | None, p: dict) -> dict:
    cap = p["max_minutes"]
    tree = cKDTree(destination_xy)
    dist, idx = tree.query(origin_xy, k=1)
    nearest_min = _minutes(dist, mode, p)
    unreachable = nearest_min > cap
    out = {"nearest_index": np.where(unreachable, -1, idx), "nearest_minutes": np.where(unreachable, np.nan, nearest_min)}
    radii = {t: _distance(min(t, cap), mode, p) for t in thresholds_min}
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
    return out
