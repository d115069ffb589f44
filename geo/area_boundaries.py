"""Boundary layers for an area of interest, ready for maps, tables and exports."""

from __future__ import annotations

import geopandas as gpd

from geo.areas import Area, resolve_area
from geo.store import Store, open_store

#: Columns every boundary listing starts with.
BASE_COLUMNS = ["code", "name", "lad_code", "lad_name"]


def area_boundaries(level: str, area: str | Area, store: Store | None = None) -> gpd.GeoDataFrame:
    """Boundaries of ``level`` (``lad``, ``ward``, ``lsoa``, ``lsoa11``) inside an area of interest.

    ``area`` is an :class:`Area` or a name/code resolved with :func:`geo.areas.resolve_area`.
    Returns EPSG:27700 with :data:`BASE_COLUMNS` first, then level-specific columns.
    """
    store = store or open_store()
    if not isinstance(area, Area):
        area = resolve_area(area, store.districts())
    gdf = store.boundaries(level, area.lad_codes)
    extra = [c for c in gdf.columns if c not in BASE_COLUMNS and c != gdf.geometry.name]
    return gdf[BASE_COLUMNS + extra + [gdf.geometry.name]]


def area_layers(area: Area, store: Store, levels=("lad", "ward", "lsoa")) -> dict[str, gpd.GeoDataFrame]:
    """All boundary levels for one area of interest (EPSG:27700)."""
    return {level: store.boundaries(level, area.lad_codes) for level in levels}
