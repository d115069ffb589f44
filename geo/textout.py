"""Tables and layers as text for the command line (CSV, JSON, GeoJSON).

CSV always comes from :mod:`geo.csvsafe`, the one formula-safe CSV writer.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import csvsafe
from geo.crs import to_web

#: Decimal places for GeoJSON longitude/latitude: 6 places is about 0.1 m.
GEOJSON_DECIMALS = 6


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(frame.drop(columns=frame.geometry.name)) if isinstance(frame, gpd.GeoDataFrame) else frame


def to_json_text(frame: pd.DataFrame) -> str:
    """A JSON array of records without geometry; missing values are null."""
    return _plain(frame).to_json(orient="records", force_ascii=False, indent=1)


def round_coordinates(gdf: gpd.GeoDataFrame, decimals: int) -> gpd.GeoDataFrame:
    """Round every coordinate to ``decimals`` places (no topology changes)."""
    geoms = shapely.transform(gdf.geometry.to_numpy(), lambda xy: np.round(xy, decimals))
    return gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))


def to_geojson_text(gdf: gpd.GeoDataFrame) -> str:
    """RFC 7946 GeoJSON (EPSG:4326, coordinates rounded to 6 decimals, about 0.1 m)."""
    web = round_coordinates(to_web(gdf), GEOJSON_DECIMALS)
    return web.to_json(na="null", drop_id=True, ensure_ascii=False)


def render(frame: pd.DataFrame, fmt: str) -> str:
    """Render ``frame`` as ``csv`` (formula-safe, without geometry), ``json`` or ``geojson``."""
    if fmt == "csv":
        return csvsafe.to_csv_text(frame)
    if fmt == "json":
        return to_json_text(frame)
    if fmt == "geojson":
        return to_geojson_text(frame)
    raise ValueError(f"unknown format {fmt!r}")
