"""Display simplification that keeps shared borders shared.

Web maps of a whole area of interest must stay light. Simplifying each
polygon on its own opens gaps and overlaps between neighbours; GEOS's
coverage simplification (``shapely.coverage_simplify``, Visvalingam-Whyatt
on the shared edges) simplifies each shared edge once, so neighbours still
meet. Work in British National Grid so tolerances are metres.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.crs import require_bng

#: Display tolerance by level (metres, EPSG:27700). Finer levels are smaller.
TOLERANCE_M = {"lad": 150.0, "ward": 40.0, "lsoa": 25.0, "lsoa11": 25.0}


def simplify_coverage(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Topology-preserving simplification of a polygon coverage (EPSG:27700 in and out).

    Polygons that would vanish keep their original outline, so no area is
    ever lost from the map.
    """
    require_bng(gdf, what="layer to simplify")
    if gdf.empty or tolerance_m <= 0:
        return gdf
    geoms = gdf.geometry.to_numpy()
    simplified = shapely.coverage_simplify(geoms, tolerance_m, simplify_boundary=True)
    bad = shapely.is_empty(simplified) | ~shapely.is_valid(simplified)
    if bad.any():
        simplified = np.where(bad, geoms, simplified)
    return gdf.set_geometry(gpd.GeoSeries(simplified, index=gdf.index, crs=gdf.crs))


def for_display(gdf: gpd.GeoDataFrame, level: str) -> gpd.GeoDataFrame:
    """Simplify a layer with the display tolerance for its level."""
    return simplify_coverage(gdf, TOLERANCE_M.get(level, 25.0))
