"""One interface for travel-time engines: points in, minutes out.

CRS: origins and destinations are point GeoDataFrames in British National Grid
(EPSG:27700, metres); anything else is refused, never reprojected silently.
Units: minutes (door to door, including the engine's access, wait and
parking allowances), metres, km/h.

Engines (``engine=``, else ``$WARDSCOPE_TRAVEL_ENGINE``, else ``estimate``):

* ``estimate`` (:mod:`geo.travel.estimate`): straight-line distance x circuity at
  a mode speed plus fixed allowances. Walk, cycle, car, bus. Always an estimate.
* ``network`` (:mod:`geo.travel.network`): shortest paths on an OpenStreetMap road
  network read from a local ``.osm.pbf`` (``network=PATH``). Walk, cycle, car.
* ``gtfs`` (:mod:`geo.travel.gtfs`): timetabled public transport from a GTFS feed
  (``gtfs=PATH``, ``date=``, ``depart=``), walking at each end; the median over departures
  every minute, with quartiles as extra columns. Bus (public transport or walking).

An engine module provides ``NAME``, ``LABEL``, ``MODES``, ``PARAMETERS``
(a list of documented defaults) and ``matrix(origin_xy, destination_xy, mode,
**params) -> (minutes, info)`` where ``minutes`` is an (origins x destinations)
float array with NaN for unreachable pairs and ``info`` a dict that may hold
``unreachable`` (a list of ``{"id_index", "role", "reason"}``), ``notes`` (lines for the user) and
``columns`` (extra (origins x destinations) arrays, e.g. ``minutes_p25``). It may provide
``summary(...)``, a faster route to :func:`access_summary`.

Unreachable is NaN, never 0 and never a short time.
"""

from __future__ import annotations

import importlib
from typing import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.config import travel_engine
from geo.crs import require_bng
from geo.errors import TravelError

#: Modes Wardscope knows about (an engine may support fewer).
MODES = ("walk", "cycle", "car", "bus")
#: Engine name -> module implementing it (imported only when used).
ENGINES = {"estimate": "geo.travel.estimate", "network": "geo.travel.network", "gtfs": "geo.travel.gtfs"}
#: Columns of every travel-time matrix.
MATRIX_COLUMNS = ["from_id", "to_id", "minutes"]
#: Cumulative-opportunity thresholds used by default (minutes).
THRESHOLDS_MIN = (30, 45, 60)


class NoIDColumnError(TravelError):
    """Points lack the id column named."""


class NonUniqueIDError(TravelError):
    """Point ids are missing or repeated."""


class UnknownModeError(TravelError):
    """A mode that is not walk, cycle, car or bus, or that the engine cannot do."""


class EngineUnavailable(TravelError):
    """An engine that does not exist, or whose optional package is not installed."""


def resolve_engine(engine: str | None = None):
    """The engine module for ``engine``, else the configured default; imported lazily."""
    name = (engine or travel_engine()).strip().lower()
    if name not in ENGINES:
        raise EngineUnavailable(f"unknown travel-time engine {name!r}; choose one of {', '.join(ENGINES)}")
    try:
        return importlib.import_module(ENGINES[name])
    except ImportError as exc:
        raise EngineUnavailable(f"the {name} engine needs a package that is not installed ({exc}); "
                                f"run: pip install -r requirements.txt") from None


def check_points(points: gpd.GeoDataFrame, id_column: str, *, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate origins or destinations; return ``(ids, xy)`` (xy: n x 2 BNG metres).

    Raises :class:`NoIDColumnError`, :class:`NonUniqueIDError`, :class:`geo.errors.CRSError`
    (not EPSG:27700) or :class:`TravelError` (not points, empty geometry, no rows).
    """
    if not isinstance(points, gpd.GeoDataFrame):
        raise TravelError(f"{what} must be a GeoDataFrame of points in EPSG:27700")
    if id_column not in points.columns:
        raise NoIDColumnError(f"{what} have no id column {id_column!r} (columns: {', '.join(map(str, points.columns[:10]))})")
    require_bng(points, what=what)
    if len(points) == 0:
        raise TravelError(f"{what}: no points given")
    ids = points[id_column]
    if ids.isna().any():
        raise NonUniqueIDError(f"{what}: {int(ids.isna().sum())} point(s) have no {id_column}")
    dup = ids[ids.duplicated()]
    if len(dup):
        raise NonUniqueIDError(f"{what}: {id_column} {dup.iloc[0]!r} appears more than once; ids must be unique")
    geom = points.geometry
    if geom.isna().any() or geom.is_empty.any():
        bad = ids[(geom.isna() | geom.is_empty).to_numpy()].iloc[0]
        raise TravelError(f"{what}: {bad!r} has no location")
    types = set(geom.geom_type)
    if types != {"Point"}:
        raise TravelError(f"{what} must be points, found {', '.join(sorted(types))}")
    return ids.to_numpy(), np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])


def _check_mode(module, mode: str) -> None:
    if mode not in MODES:
        raise UnknownModeError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    if mode not in module.MODES:
        hint = "; for bus use the gtfs engine (a timetable) or the estimate engine" if mode == "bus" else ""
        raise UnknownModeError(f"the {module.NAME} engine cannot do {mode} (it does {', '.join(module.MODES)}){hint}")


def _describe_unreachable(info: dict, from_ids, to_ids) -> list[dict]:
    out = []
    for item in info.get("unreachable", []):
        ids = from_ids if item["role"] == "origin" else to_ids
        out.append({"id": ids[item["index"]], "role": item["role"], "reason": item["reason"]})
    return out


def _with_rural(module, origins: gpd.GeoDataFrame, params: dict) -> dict:
    """``params`` plus ``rural`` (one flag per origin) for an engine that uses it, when the origins carry
    ``urban_rural`` (ONS rural-urban classification 2021: "Urban"/"Rural") and no ``rural`` is given."""
    if getattr(module, "USES_RURAL", False) and "urban_rural" in origins.columns and "rural" not in params:
        return {**params, "rural": (origins["urban_rural"] == "Rural").to_numpy()}
    return params


def travel_time_matrix(origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, mode: str, *,
                       engine: str | None = None, origin_id: str = "code", destination_id: str = "site_id",
                       **params) -> pd.DataFrame:
    """Door-to-door minutes from every origin to every destination.

    Parameters
    ----------
    origins, destinations : point GeoDataFrames in EPSG:27700 with unique ids in ``origin_id`` /
        ``destination_id``.
    mode : ``walk``, ``cycle``, ``car`` or ``bus`` (the network engine: walk, cycle, car; gtfs: bus).
    engine : ``estimate``, ``network`` or ``gtfs``; default from ``$WARDSCOPE_TRAVEL_ENGINE``, else ``estimate``.
    **params : engine parameters (see each engine's ``PARAMETERS``), e.g. ``network="area.osm.pbf"``,
        ``max_minutes=120``, ``walk_speed_kmh=4.8``. The estimate engine uses its rural values for
        origins whose ``urban_rural`` column says "Rural".

    Returns
    -------
    DataFrame with ``from_id``, ``to_id``, ``minutes`` (float; NaN = unreachable, never 0), one row per
    pair, origins major, then any extra columns the engine gives (gtfs: ``minutes_p25``, ``minutes_p75``).
    ``attrs``: ``engine``, ``label`` (e.g. "estimate"), ``mode``, ``params`` (all values used),
    ``unreachable`` (list of ``{id, role, reason}`` for points that could not be placed), ``notes`` and,
    for the network engine, ``snap_m`` (``{"origins": {id: metres}, "destinations": {...}}``).
    """
    module = resolve_engine(engine)
    _check_mode(module, mode)
    from_ids, o_xy = check_points(origins, origin_id, what="origins")
    to_ids, d_xy = check_points(destinations, destination_id, what="destinations")
    minutes, info = module.matrix(o_xy, d_xy, mode, **_with_rural(module, origins, params))
    minutes = np.asarray(minutes, dtype=float)
    if minutes.shape != (len(from_ids), len(to_ids)):  # pragma: no cover - engine contract
        raise TravelError(f"{module.NAME} engine returned a {minutes.shape} matrix for {len(from_ids)} x {len(to_ids)}")
    out = pd.DataFrame({
        "from_id": np.repeat(from_ids, len(to_ids)),
        "to_id": np.tile(to_ids, len(from_ids)),
        "minutes": minutes.ravel(),
    })
    for name, values in info.get("columns", {}).items():
        out[name] = np.asarray(values, dtype=float).ravel()
    out.attrs.update(engine=module.NAME, label=module.LABEL, mode=mode, params=info.get("params", {}),
                     unreachable=_describe_unreachable(info, from_ids, to_ids), notes=list(info.get("notes", [])))
    if "snap_m" in info:  # metres from each point to the network (network engine); NaN = not placed
        out.attrs["snap_m"] = {"origins": dict(zip(from_ids, map(float, info["snap_m"]["origins"]))),
                               "destinations": dict(zip(to_ids, map(float, info["snap_m"]["destinations"])))}
    return out


def summarise_minutes(minutes: np.ndarray, thresholds_min: Sequence[float],
                      weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Nearest destination, counts and weight sums within thresholds from an (o x d) minutes array.

    NaN pairs (unreachable) are never nearest and never counted. Returns arrays of length o:
    ``nearest_index`` (-1 when nothing is reachable), ``nearest_minutes`` (NaN then),
    ``n_within_<t>`` and, with ``weights``, ``w_within_<t>`` (known weights only; NaN when every
    destination within reach has no weight) and ``u_within_<t>`` (destinations within reach without one).
    """
    minutes = np.asarray(minutes, dtype=float)
    filled = np.where(np.isnan(minutes), np.inf, minutes)
    idx = filled.argmin(axis=1) if minutes.shape[1] else np.zeros(minutes.shape[0], dtype=int)
    best = filled[np.arange(len(filled)), idx] if minutes.shape[1] else np.full(minutes.shape[0], np.inf)
    none = ~np.isfinite(best)
    out = {"nearest_index": np.where(none, -1, idx), "nearest_minutes": np.where(none, np.nan, best)}
    for t in thresholds_min:
        within = filled <= t
        out[f"n_within_{t:g}"] = within.sum(axis=1)
        if weights is not None:
            # A destination without a weight is unknown, not zero: the sum covers known weights only,
            # and is NaN where every destination within reach lacks one.
            known = ~np.isnan(np.asarray(weights, dtype=float))
            total = (within * np.nan_to_num(weights)[None, :]).sum(axis=1)
            n_known = (within & known[None, :]).sum(axis=1)
            out[f"u_within_{t:g}"] = (within & ~known[None, :]).sum(axis=1)
            out[f"w_within_{t:g}"] = np.where((n_known == 0) & (out[f"n_within_{t:g}"] > 0), np.nan, total)
    return out


def access_summary(origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, mode: str, *,
                   engine: str | None = None, thresholds_min: Iterable[float] = THRESHOLDS_MIN,
                   weight: str | None = None, origin_id: str = "code", destination_id: str = "site_id",
                   **params) -> pd.DataFrame:
    """Per origin: the nearest destination and how many (and how much ``weight``) lie within each threshold.

    Uses the engine's fast ``summary`` when it has one (the estimate engine answers all English
    LSOAs x 1,000 sites without building the full matrix), else the full matrix.

    Returns
    -------
    DataFrame in origin order: ``from_id``, ``nearest_id`` (None when nothing is reachable),
    ``nearest_minutes`` (NaN then), ``n_within_<t>`` for each threshold and, when ``weight`` names a
    destination column (e.g. ``jobs``), ``<weight>_within_<t>`` (sum over destinations within t;
    missing weights count 0). ``attrs`` as for :func:`travel_time_matrix`.
    """
    module = resolve_engine(engine)
    _check_mode(module, mode)
    thresholds = tuple(float(t) for t in thresholds_min)
    from_ids, o_xy = check_points(origins, origin_id, what="origins")
    to_ids, d_xy = check_points(destinations, destination_id, what="destinations")
    weights = None
    if weight is not None:
        if weight not in destinations.columns:
            raise TravelError(f"destinations have no {weight!r} column")
        weights = pd.to_numeric(destinations[weight], errors="coerce").to_numpy(dtype=float)
    params = _with_rural(module, origins, params)
    if hasattr(module, "summary"):
        result, info = module.summary(o_xy, d_xy, mode, thresholds, weights, **params)
    else:
        minutes, info = module.matrix(o_xy, d_xy, mode, **params)
        result = summarise_minutes(minutes, thresholds, weights)
    nearest = result["nearest_index"]
    out = pd.DataFrame({
        "from_id": from_ids,
        "nearest_id": np.where(nearest >= 0, to_ids[np.clip(nearest, 0, None)], None),
        "nearest_minutes": result["nearest_minutes"],
    })
    for t in thresholds:
        out[f"n_within_{t:g}"] = result[f"n_within_{t:g}"].astype(int)
        if weights is not None:
            out[f"{weight}_within_{t:g}"] = result[f"w_within_{t:g}"]
            out[f"no_{weight}_within_{t:g}"] = result[f"u_within_{t:g}"].astype(int)
    out.attrs.update(engine=module.NAME, label=module.LABEL, mode=mode, params=info.get("params", {}),
                     unreachable=_describe_unreachable(info, from_ids, to_ids), notes=list(info.get("notes", [])))
    return out


def parameter_table(engine: str | None = None) -> pd.DataFrame:
    """The documented parameters of an engine: name, value, unit, applies_to, source."""
    module = resolve_engine(engine)
    return pd.DataFrame([p._asdict() for p in module.PARAMETERS])
