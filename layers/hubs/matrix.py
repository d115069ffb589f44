"""Travel minutes from demand points to sites as the (demand x sites) array the hub models use.

CRS: both layers are points in EPSG:27700. Units: minutes, door to door; NaN = unreachable
(never 0, never a short time), as :func:`geo.travel.travel_time_matrix` gives.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from geo.travel import travel_time_matrix

#: How each mode reads in a sentence ("within 30 minutes by bus").
MODE_PHRASES = {"walk": "on foot", "cycle": "by bike", "car": "by car", "bus": "by bus"}


def mode_phrase(mode: str | None) -> str:
    """``bus`` -> ``by bus``; unknown or None -> ``""``."""
    return MODE_PHRASES.get(mode or "", f"by {mode}" if mode else "")


def travel_minutes(demand: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, mode: str, *, engine: str | None = None,
                   **params) -> tuple[np.ndarray, dict]:
    """``(minutes, info)``: an (n_demand x n_sites) float array in row/column order, and the engine's
    ``attrs`` (``engine``, ``label``, ``mode``, ``params``, ``unreachable``).

    ``demand`` needs unique ``code``; ``sites`` unique ``site_id``. With no sites the array has 0 columns.
    """
    if len(sites) == 0:
        return np.empty((len(demand), 0)), {"engine": engine, "label": "", "mode": mode, "unreachable": []}
    frame = travel_time_matrix(demand, sites, mode, engine=engine, origin_id="code", destination_id="site_id", **params)
    minutes = frame["minutes"].to_numpy(dtype=float).reshape(len(demand), len(sites))
    return minutes, dict(frame.attrs)


def check_inputs(minutes, weights, threshold_min, priority) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated ``(minutes, weights, priority)`` for a hub model or coverage (one place for these checks).

    ``minutes`` is (n_demand x n_sites); ``weights`` and ``priority`` have n_demand entries
    (priority defaults to all True); ``threshold_min`` is a positive number of minutes.
    """
    from layers.hubs.errors import DemandError, HubError

    minutes = np.asarray(minutes, dtype=float)
    if minutes.ndim != 2:
        raise HubError("travel minutes must be a 2-D array (demand x sites)")
    n = minutes.shape[0]
    weights = np.asarray(weights, dtype=float).reshape(-1)
    if len(weights) != n:
        raise DemandError(f"{len(weights)} weights for {n} demand points")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise DemandError("demand weights must be numbers 0 or more")
    if threshold_min is None or not np.isfinite(threshold_min) or threshold_min <= 0:
        raise HubError(f"the travel-time threshold must be a positive number of minutes, got {threshold_min}")
    priority = np.ones(n, dtype=bool) if priority is None else np.asarray(priority, dtype=bool).reshape(-1)
    return minutes, weights, priority
