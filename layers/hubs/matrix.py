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
