"""Best-fit assignment of small areas to larger ones (the ONS method).

A small area belongs to the larger area that contains its population-weighted
centroid. This joins any boundary set, including one a user uploads, to the
LSOA layer. Generalised (BSC) outlines do not tile perfectly, so a centroid
that falls in no polygon (a gap, or the coast) is snapped to the nearest
polygon within ``snap_m`` metres, and the method is recorded per area.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import require_bng

#: Furthest a centroid outside every polygon is snapped (metres, BNG).
DEFAULT_SNAP_M = 500.0


def assign_best_fit(
    points: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    point_id: str = "code",
    area_id: str = "code",
    snap_m: float = DEFAULT_SNAP_M,
) -> pd.DataFrame:
    """Assign each point (a population-weighted centroid) to the polygon containing it.

    Both layers must be in British National Grid (EPSG:27700).

    Returns
    -------
    DataFrame indexed like ``points`` with ``point_code``, ``area_code``,
    ``method`` (``within``, ``nearest`` or ``unassigned``) and
    ``distance_m`` (0 for ``within``; metres to the polygon for ``nearest``).
    A point on a shared border goes to the lowest area code, so the result is
    deterministic.
    """
    require_bng(points, what="points")
    require_bng(areas, what="areas")
    pts = gpd.GeoDataFrame({"point_code": points[point_id].to_numpy()}, geometry=points.geometry.to_numpy(),
                           crs=points.crs, index=points.index)
    polys = gpd.GeoDataFrame({"area_code": areas[area_id].to_numpy()}, geometry=areas.geometry.to_numpy(), crs=areas.crs)
    hit = gpd.sjoin(pts, polys, how="inner", predicate="intersects")
    hit = hit.rename_axis("_pt").sort_values("area_code").reset_index()
    hit = hit.drop_duplicates("_pt").set_index("_pt")
    out = pd.DataFrame({"point_code": pts["point_code"], "area_code": pd.Series(pd.NA, index=pts.index, dtype="string"),
                        "method": "unassigned", "distance_m": np.nan})
    out.loc[hit.index, "area_code"] = hit["area_code"].astype("string")
    out.loc[hit.index, "method"] = "within"
    out.loc[hit.index, "distance_m"] = 0.0
    missing = out.index[out["method"] == "unassigned"]
    if len(missing) and snap_m > 0:
        near = gpd.sjoin_nearest(pts.loc[missing], polys, how="inner", max_distance=snap_m, distance_col="distance_m")
        near = near.rename_axis("_pt").sort_values(["distance_m", "area_code"]).reset_index()
        near = near.drop_duplicates("_pt").set_index("_pt")
        out.loc[near.index, "area_code"] = near["area_code"].astype("string")
        out.loc[near.index, "method"] = "nearest"
        out.loc[near.index, "distance_m"] = near["distance_m"]
    return out


def agreement(assigned: pd.Series, official: pd.Series) -> float:
    """Share (0-1) of items whose assigned code equals the official one (aligned on index)."""
    both = pd.concat({"a": assigned, "o": official}, axis=1).dropna(subset=["o"])
    if both.empty:
        return float("nan")
    return float((both["a"] == both["o"]).mean())
