"""`cli.py export` end to end on real data: four formats that GDAL opens, with their method attached."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zipfile

import pandas as pd
import pyogrio
import pytest

from tests.test_cli import ROOT

TOP_FIFTH = "band:top 10%,band:top 20%"


def export(tmp_path, *args):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "export", "--profile", "neighbourhood", "--level", "ward",
                           "--area", "South Midlands", "--sensitivity", "100", *args],
                          capture_output=True, text=True, cwd=tmp_path)


def ogrinfo(path: str) -> str:
    out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", path], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture(scope="module")
def exported(tmp_path_factory, store):
    from layers.profiles import load_profile
    from layers.scoring import score_area

    folder = tmp_path_factory.mktemp("exports")
    for fmt in ("gpkg", "shp", "geojson", "csv"):
        out = export(folder, "--select", TOP_FIFTH, "--format", fmt, "--out", "priority_wards")
        assert out.returncode == 0, out.stderr
    scored = score_area(load_profile("neighbourhood"), "South Midlands", level="ward", sensitivity=100, store=store)
    expected = set(scored.areas.loc[scored.areas["band"].isin(["top 10%", "top 20%"]), "code"])
    return folder, expected


def test_gpkg_and_shapefile_are_british_national_grid(exported):
    folder, expected = exported
    info = ogrinfo(str(folder / "priority_wards.gpkg"))
    assert "British National Grid" in info and f"Feature Count: {len(expected)}" in info
    assert "metadata" in subprocess.run(["ogrinfo", "-ro", "-q", str(folder / "priority_wards.gpkg")],
                                        capture_output=True, text=True).stdout
    gdf = pyogrio.read_dataframe(folder / "priority_wards.gpkg", layer="areas")
    assert set(gdf["Ward code (GSS)"]) == expected and gdf.crs.to_epsg() == 27700 and gdf.is_valid.all()
    shp = ogrinfo(f"/vsizip/{folder / 'priority_wards.zip'}/areas.shp")
    assert "British_National_Grid" in shp or "British National Grid" in shp
    assert f"Feature Count: {len(expected)}" in shp


def test_shapefile_fields_csv_explains_every_column(exported):
    folder, _ = exported
    with zipfile.ZipFile(folder / "priority_wards.zip") as z:
        assert {"areas.shp", "areas.shx", "areas.dbf", "areas.prj", "areas.cpg", "fields.csv", "README.txt",
                "methodology.json"} <= set(z.namelist())
        rows = list(csv.DictReader(io.StringIO(z.read("fields.csv").decode("utf-8-sig"))))
        method = json.loads(z.read("methodology.json"))
    gdf = pyogrio.read_dataframe(f"/vsizip/{folder / 'priority_wards.zip'}/areas.shp")
    described = {r["short_name"]: r for r in rows if r["layer"] == "areas"}
    for column in gdf.columns.drop("geometry"):
        assert column in described and described[column]["label"], column
    assert described["rnk_ntnl"]["full_name"] == "rank_national"
    assert method["profile"]["weights"]["census21_inactive_pct"] == 2.0
    assert method["area_of_interest"]["name"] == "South Midlands"


def test_geojson_is_wgs84_and_csv_has_no_geometry(exported):
    folder, expected = exported
    data = json.loads((folder / "priority_wards.geojson").read_text())
    assert "crs" not in data and {f["properties"]["Ward code (GSS)"] for f in data["features"]} == expected
    lon, lat = data["features"][0]["geometry"]["coordinates"][0][0][0]
    assert -1.2 < lon < 0.2 and 51.7 < lat < 52.7
    assert "WGS 84" in ogrinfo(str(folder / "priority_wards.geojson"))
    table = list(csv.DictReader(io.StringIO((folder / "priority_wards.csv").read_text(encoding="utf-8-sig"))))
    assert {r["Ward code (GSS)"] for r in table} == expected and "geometry" not in table[0]
    assert "District name (LAD 2024)" in table[0] and not any("_" in name for name in table[0])  # labels, for Excel
    assert (folder / "priority_wards.csv.methodology.json").exists()


def test_empty_selection_existing_output_and_overwrite(exported, tmp_path):
    out = export(tmp_path, "--select", "threshold:score>=1000", "--format", "gpkg", "--out", "none")
    assert out.returncode == 2 and "error:" in out.stderr and not list(tmp_path.iterdir())
    folder, _ = exported
    again = export(folder, "--select", "top:3", "--format", "csv", "--out", "priority_wards")
    assert again.returncode == 2 and "already exists" in again.stderr
    assert len((folder / "priority_wards.csv").read_text().splitlines()) > 4  # untouched
    bad = export(tmp_path, "--select", "top:three", "--format", "csv", "--out", "x")
    assert bad.returncode == 2 and bad.stderr.startswith("error:")


def test_dissolved_neighbourhoods_keep_their_best_rank_and_ward_names(tmp_path, store):
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "export", "--profile", "neighbourhood", "--level", "lsoa",
                          "--area", "Worcester", "--sensitivity", "0", "--select", TOP_FIFTH, "--dissolve",
                          "--format", "csv", "--out", "n", "--raw-names"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    merged = pd.read_csv(tmp_path / "n.csv", encoding="utf-8-sig")  # --raw-names: the column names scripts use
    assert list(merged.columns[:2]) == ["code", "name"]
    from layers.profiles import load_profile
    from layers.scoring import score_area

    ranks = score_area(load_profile("neighbourhood"), "Worcester", level="lsoa", store=store).areas.set_index("code")["rank"]
    for row in merged.itertuples():
        members = row.member_codes.split(";")
        assert row.rank == ranks.reindex(members).min()  # never an average of ranks
        assert isinstance(row.ward_names, str) and row.ward_names
