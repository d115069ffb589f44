"""Small, deterministic vector files for upload tests (built at test time, never committed)."""

from __future__ import annotations

import io
import tempfile
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import shapely

#: Fixed timestamp so generated archives are byte-for-byte reproducible.
ZIP_TIME = (2025, 1, 1, 0, 0, 0)
#: Three 500 m squares in Luton (EPSG:27700 metres); the last one is a self-intersecting bow-tie when asked.
X0, Y0 = 508_000, 221_000


def squares(n: int = 3, *, bowtie_at: int | None = None) -> gpd.GeoDataFrame:
    geoms = []
    for i in range(n):
        x = X0 + i * 1000
        if i == bowtie_at:
            geoms.append(shapely.Polygon([(x, Y0), (x + 500, Y0 + 500), (x + 500, Y0), (x, Y0 + 500)]))
        else:
            geoms.append(shapely.box(x, Y0, x + 500, Y0 + 500))
    return gpd.GeoDataFrame({"code": [f"E0100{i:04d}" for i in range(n)], "name": [f"Area {i}" for i in range(n)]},
                            geometry=geoms, crs=27700)


def zip_bytes(members: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = method
            info.external_attr = 0o100644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def shapefile_parts(gdf: gpd.GeoDataFrame) -> dict[str, bytes]:
    """{'.shp': bytes, '.shx': ..., '.dbf': ..., '.prj': ..., '.cpg': ...} for ``gdf``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "layer.shp"
        gdf.to_file(path, engine="pyogrio")
        parts = {p.suffix: p.read_bytes() for p in Path(tmp).iterdir()}
    return {suffix: fixed_dbf_date(data) if suffix == ".dbf" else data for suffix, data in parts.items()}


def fixed_dbf_date(dbf: bytes) -> bytes:
    """``dbf`` with its header's last-update date (bytes 1-3: years since 1900, month, day) set to ZIP_TIME.

    GDAL stamps the day it writes a .dbf, so without this the generated fixtures differ from the
    committed ones on every other date.
    """
    year, month, day = ZIP_TIME[:3]
    return dbf[:1] + bytes((year - 1900, month, day)) + dbf[4:]


def shapefile_zip(gdf: gpd.GeoDataFrame | None = None, *, drop: tuple[str, ...] = (), stem: str = "sites",
                  extra: dict[str, bytes] | None = None, folder: str = "") -> bytes:
    parts = shapefile_parts(gdf if gdf is not None else squares())
    members = {f"{folder}{stem}{suffix}": data for suffix, data in sorted(parts.items()) if suffix not in drop}
    members.update(extra or {})
    return zip_bytes(members)


def geojson_bytes(gdf: gpd.GeoDataFrame | None = None) -> bytes:
    gdf = gdf if gdf is not None else squares()
    return gdf.to_crs(4326).to_json().encode()


def gpkg_bytes(layers: dict[str, gpd.GeoDataFrame]) -> bytes:
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'crs' was not provided")  # layers without a CRS are wanted here
        path = Path(tmp) / "x.gpkg"
        for name, gdf in layers.items():
            gdf.to_file(path, layer=name, engine="pyogrio")
        return path.read_bytes()
