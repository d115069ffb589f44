"""Reading exports back the way a GIS officer's tools would: pyogrio, GDAL's own ogrinfo, csv, zipfile.

Also the scored South Midlands LSOAs the export tests share: real store
boundaries with deterministic stand-ins for the priority score (scoring is
built elsewhere), and a few areas renamed with Welsh, accented and hostile
names, since England's ONS names are plain ASCII.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

OGRINFO = Path("/usr/bin/ogrinfo")
SOUTH_MIDLANDS = ["E06000055", "E06000056", "E06000032", "E06000042", "E06000061", "E06000062"]
#: Given to the five highest-scoring areas, so every top-N export carries them.
SPECIAL_NAMES = ["Ynys Môn 001A", "Hôtel-de-Ville", "Pen-y-bont ar Ogwr", "Zoë's Court",
                 '=HYPERLINK("http://example.invalid","click")']


def scored_lsoas(store) -> gpd.GeoDataFrame:
    """South Midlands LSOAs (EPSG:27700) with population, score, band, robust and indicator columns."""
    gdf = store.boundaries("lsoa", SOUTH_MIDLANDS)
    area_m2 = gdf.geometry.area
    gdf["population"] = (1200 + (area_m2 % 997)).astype("int64")
    gdf["score"] = (1e6 / (area_m2 + 2e5)).round(6)  # small, dense areas score high
    q90, q70 = gdf["score"].quantile([0.9, 0.7])
    gdf["band"] = np.where(gdf["score"] >= q90, "Very high", np.where(gdf["score"] >= q70, "High", "Other"))
    gdf["robust"] = ((area_m2 // 1000) % 3 != 0).to_numpy()
    gdf["claimant_count_rate"] = ((area_m2 % 89) / 10).round(2)
    gdf["claimant_cnt_rate"] = -((area_m2 % 61) / 10).round(2)  # shortens to the same name as the one above
    gdf["overlap_count"] = (area_m2 % 4).astype("int64")
    top = gdf.sort_values(["score", "code"], ascending=[False, True]).index[: len(SPECIAL_NAMES)]
    gdf.loc[top, "name"] = SPECIAL_NAMES
    return gdf


def hubs_layer(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Three hub points (EPSG:27700) at the population-weighted centroids of the first three areas."""
    first = areas.iloc[:3]
    return gpd.GeoDataFrame({"hub_name": ["Hwb Gwaith Môn", "Job Centre Plus", "@hub"], "capacity": [40, 25, 10]},
                            geometry=[Point(x, y) for x, y in zip(first["pwc_x"], first["pwc_y"])], crs=27700)


PROVENANCE = {
    "profile": {"name": "Test profile", "indicators": ["score"], "weights": {"score": 1.0},
                "method": "synthetic score from land area (test stand-in)"},
    "area_of_interest": {"name": "South Midlands", "lad_codes": SOUTH_MIDLANDS},
    "level": "lsoa",
    "sources": [{"name": "LSOA 2021 boundaries", "period": "2021",
                 "attribution": "Source: Office for National Statistics licensed under the Open Government Licence v3.0"}],
}


# -- ogrinfo --------------------------------------------------------------------

@dataclass
class OgrLayer:
    name: str
    geometry: str
    count: int
    epsg: int | None
    fields: dict[str, str]


def require_ogrinfo() -> None:
    """Fail in CI without ogrinfo (CI installs gdal-bin); skip, with the reason, only on a machine without it."""
    if OGRINFO.exists():
        return
    if os.environ.get("CI"):
        pytest.fail("GDAL's ogrinfo (/usr/bin/ogrinfo, Debian gdal-bin) is missing; .ci/run installs it")
    pytest.skip("GDAL's ogrinfo is not installed on this machine (apt-get install gdal-bin)")


def ogrinfo_summary(path: str | Path) -> dict[str, OgrLayer]:
    """``ogrinfo -ro -so -al`` parsed per layer; fails on any GDAL warning or error."""
    require_ogrinfo()
    out = subprocess.run([str(OGRINFO), "-ro", "-so", "-al", str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Warning" not in out.stderr and "ERROR" not in out.stderr, out.stderr
    layers = {}
    for block in out.stdout.split("\nLayer name: ")[1:]:
        name, rest = block.split("\n", 1)
        epsg = re.findall(r'ID\["EPSG",(\d+)\]\]\s*\nData axis', rest)
        layers[name.strip()] = OgrLayer(
            name=name.strip(),
            geometry=re.search(r"^Geometry: (.+)$", rest, re.M).group(1).strip(),
            count=int(re.search(r"^Feature Count: (\d+)", rest, re.M).group(1)),
            epsg=int(epsg[-1]) if epsg else None,
            # "Ward code (GSS): String (0.0)"; names may hold spaces, so match up to the type and width at the end
            fields=dict(re.findall(r"^(\S.*?): (\w+(?:\(\w+\))?) \(\d+\.\d+\)$", rest, re.M)),  # e.g. Integer(Boolean)
        )
    return layers


def ogrinfo_values(path: str | Path, layer: str) -> str:
    """Every attribute value of ``layer`` as ogrinfo prints it (UTF-8 text)."""
    require_ogrinfo()
    out = subprocess.run([str(OGRINFO), "-ro", "-q", "-geom=NO", str(path), layer], capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.decode("utf-8")


# -- pyogrio and plain files ------------------------------------------------------

def vsizip(path: Path) -> str:
    return f"/vsizip/{path}"


def read_layer(path: str | Path, layer: str | None = None) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(str(path), layer=layer)


def zip_csv(path: Path, member: str) -> pd.DataFrame:
    with zipfile.ZipFile(path) as archive:
        return pd.read_csv(io.BytesIO(archive.read(member)), encoding="utf-8-sig", keep_default_na=False)


def zip_text(path: Path, member: str) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(member).decode("utf-8")


def full_names(shp: gpd.GeoDataFrame, fields: pd.DataFrame, layer: str = "areas",
               written: str = "short_name") -> gpd.GeoDataFrame:
    """Rename a file's field names (shapefile short names, or labels: ``written="field_name"``) to the full names."""
    mapping = fields[fields["layer"] == layer].set_index(written)["full_name"].to_dict()
    assert set(shp.columns) - {"geometry"} == set(mapping), (list(shp.columns), mapping)
    return shp.rename(columns=mapping)


def names_from_methodology(methodology: dict) -> dict[str, str]:
    """Field name in a GeoJSON/CSV/GeoPackage file -> full column name, from its methodology.json."""
    return {c["field_name"]: c["name"] for c in methodology["columns"]}


SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")


def assert_readable(names) -> None:
    """Field names a person reads: no snake_case, none blank, unique without regard to case."""
    names = list(names)
    assert not [n for n in names if SNAKE_CASE.match(n)], names
    assert all(n.strip() for n in names) and len({n.casefold() for n in names}) == len(names), names
