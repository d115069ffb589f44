"""Reading boundary files into the standard layer shape.

A boundary layer is a GeoDataFrame with ``code`` (GSS), ``name`` and
``geometry`` in British National Grid (EPSG:27700).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from geo.crs import to_bng
from geo.errors import SourceFileError
from geo.gss import check_codes


def read_boundary_file(
    path: Path,
    *,
    code_field: str,
    name_field: str,
    level: str,
    source: str | None = None,
    countries: str = "E",
    keep: tuple[str, ...] = (),
) -> gpd.GeoDataFrame:
    """Read a polygon boundary file (GeoJSON, GeoPackage, Shapefile) as a layer.

    Parameters
    ----------
    path : file to read; GeoJSON without a ``crs`` member is WGS84 (RFC 7946).
    code_field, name_field : the file's GSS code and name properties.
    level : Wardscope level of the codes (``lad``, ``ward``, ``lsoa``, ``lsoa11``).
    countries : first letters of the codes to keep (``E`` = England).
    keep : extra properties to carry through.

    Returns
    -------
    GeoDataFrame with ``code``, ``name``, ``keep``... and polygon geometry in
    EPSG:27700, sorted by code. Invalid polygons are repaired with
    ``shapely.make_valid`` (count in ``attrs['repaired']``).

    Raises :class:`SourceFileError` (or its CRS/GSS subclasses) naming the file.
    """
    path = Path(path)
    name = source or str(path)
    if not path.is_file():
        raise SourceFileError(f"{name}: file not found")
    try:
        gdf = pyogrio.read_dataframe(path, use_arrow=True)
    except Exception as exc:  # pyogrio raises several GDAL-specific types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceFileError(f"{name}: cannot read as a boundary file ({first})") from None
    missing = [c for c in (code_field, name_field, *keep) if c not in gdf.columns]
    if missing:
        raise SourceFileError(f"{name}: missing propert(ies) {', '.join(missing)}")
    if gdf.empty:
        raise SourceFileError(f"{name}: contains no features")
    if gdf.geometry.isna().any() or gdf.geometry.is_empty.any():
        row = int((gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy().argmax())
        raise SourceFileError(f"{name}: feature {row} ({gdf[code_field].iloc[row]}) has no geometry")
    types = set(gdf.geometry.geom_type.unique())
    if not types <= {"Polygon", "MultiPolygon"}:
        raise SourceFileError(f"{name}: expected polygons, found {', '.join(sorted(types))}")
    gdf = to_bng(gdf, source=name)
    codes = gdf[code_field].astype("string").str.strip()
    gdf = gdf.assign(code=codes)
    gdf = gdf[gdf["code"].fillna("").str[:1].isin(list(countries))].copy() if countries else gdf
    check_codes(gdf["code"].reset_index(drop=True), level=level, source=name)
    out = gpd.GeoDataFrame(
        {"code": gdf["code"].astype(str).to_numpy(), "name": gdf[name_field].astype(str).str.strip().to_numpy(),
         **{k: gdf[k].to_numpy() for k in keep}},
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
    )
    invalid = ~out.geometry.is_valid
    if invalid.any():
        fixed = shapely.make_valid(out.geometry[invalid].to_numpy())
        # make_valid can return collections; keep only the polygonal parts
        fixed = [shapely.union_all([g for g in shapely.get_parts(f) if g.geom_type in ("Polygon", "MultiPolygon")])
                 for f in fixed]
        out.loc[invalid, "geometry"] = fixed
    out.attrs["repaired"] = int(invalid.sum())
    return out.sort_values("code").reset_index(drop=True)


def to_multipolygons(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Promote Polygon to MultiPolygon so a layer has one geometry type."""
    geoms = gdf.geometry.to_numpy()
    single = shapely.get_type_id(geoms) == 3
    if single.any():
        geoms = geoms.copy()
        geoms[single] = [shapely.MultiPolygon([g]) for g in geoms[single]]
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, crs=gdf.crs, index=gdf.index))
    return gdf


def points_from_lonlat(frame: pd.DataFrame, lon: str, lat: str, *, source: str) -> gpd.GeoDataFrame:
    """Points from longitude/latitude columns, checked and converted to EPSG:27700."""
    x = pd.to_numeric(frame[lon], errors="coerce")
    y = pd.to_numeric(frame[lat], errors="coerce")
    bad = x.isna() | y.isna()
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise SourceFileError(f"{source}: row {row + 2} has no usable {lon}/{lat}")
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs=4326)
    return to_bng(gdf, source=source)
