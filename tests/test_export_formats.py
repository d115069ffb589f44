"""Every export format read back with pyogrio and with GDAL's ogrinfo, on real South Midlands LSOAs."""

from __future__ import annotations

import json
import sqlite3
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.export import export_areas, parse_selection
from geo.export.fieldnames import MAX_LEN
from tests.exportcheck import (PROVENANCE, SPECIAL_NAMES, assert_readable, full_names, hubs_layer,
                               names_from_methodology, ogrinfo_summary, ogrinfo_values, read_layer, scored_lsoas,
                               vsizip, zip_csv, zip_text)

SELECT = "band:Very high,top:40"
COLUMNS = ["population", "score", "band", "robust",
           {"name": "claimant_count_rate", "label": "Claimant count rate", "unit": "% of residents aged 16-64"},
           "claimant_cnt_rate", "overlap_count", "ward_name", "urban_rural"]
FULL = ["code", "name", "lad_code", "lad_name", "population", "score", "band", "robust",
        "claimant_count_rate", "claimant_cnt_rate", "overlap_count", "ward_name", "urban_rural"]
#: What GeoPackage, GeoJSON and CSV call the FULL columns: labels, the GSS codes marked as such.
LABELLED = ["LSOA code (GSS, 2021)", "LSOA name (2021)", "District code (GSS, LAD 2024)", "District name (LAD 2024)",
            "Population (people)", "Score", "Band", "Robust", "Claimant count rate (% of residents aged 16-64)",
            "Claimant cnt rate", "Overlap count", "Electoral ward (2024) name", "Urban rural"]


@pytest.fixture(scope="module")
def areas(store):
    return scored_lsoas(store)


@pytest.fixture(scope="module")
def expected(areas):
    return parse_selection(SELECT).apply(areas)


@pytest.fixture(scope="module")
def exports(areas, tmp_path_factory):
    folder = tmp_path_factory.mktemp("exports")
    hubs = hubs_layer(areas)
    return {fmt: export_areas(areas, COLUMNS, SELECT, fmt, folder / f"priority_{fmt}", layers={"hubs": hubs},
                              provenance=PROVENANCE) for fmt in ("gpkg", "shp", "geojson", "csv")}


def _same_attributes(got: pd.DataFrame, expected: pd.DataFrame, *, bool_as_int=False):
    assert got["code"].tolist() == expected["code"].tolist()  # same areas, in priority order
    for column in FULL:
        want = expected[column]
        have = got[column]
        if pd.api.types.is_bool_dtype(want):
            want = want.astype(int) if bool_as_int else want
            assert have.astype(want.dtype).tolist() == want.tolist(), column
        elif pd.api.types.is_numeric_dtype(want):
            np.testing.assert_allclose(have.astype(float), want.astype(float), rtol=0, atol=1e-9, err_msg=column)
        else:
            assert have.astype(str).tolist() == want.astype(str).tolist(), column


def _same_geometry(got: gpd.GeoSeries, expected: gpd.GeoSeries, tolerance_m: float = 0.0):
    assert got.is_valid.all()
    got = got.to_crs(27700) if got.crs.to_epsg() != 27700 else got
    if tolerance_m == 0:
        assert shapely.equals(got.to_numpy(), expected.to_numpy()).all()
    else:
        assert max(shapely.hausdorff_distance(got.to_numpy(), expected.to_numpy())) < tolerance_m


def test_selection_holds_the_welsh_accented_and_hostile_names(expected):
    assert set(SPECIAL_NAMES) <= set(expected["name"]) and len(expected) == 40


def test_geopackage(exports, expected, areas):
    result = exports["gpkg"]
    assert result.path.suffix == ".gpkg" and [p.name for p in result.files] == ["priority_gpkg.gpkg", "priority_gpkg.gpkg.methodology.json"]
    layers = ogrinfo_summary(result.path)
    assert list(layers) == ["areas", "hubs", "metadata", "fields"]
    assert layers["areas"].count == 40 and layers["areas"].epsg == 27700 and layers["areas"].geometry == "Multi Polygon"
    assert layers["hubs"].count == 3 and layers["hubs"].epsg == 27700 and layers["hubs"].geometry == "Point"
    assert layers["metadata"].geometry == "None" and layers["metadata"].fields == {"key": "String", "value": "String"}
    assert list(layers["areas"].fields) == LABELLED  # labels: GeoPackage has no 10-character limit
    assert_readable(layers["areas"].fields) and assert_readable(layers["hubs"].fields)
    with sqlite3.connect(result.path) as db:
        contents = dict(db.execute("select table_name, data_type from gpkg_contents").fetchall())
        srs = dict(db.execute("select table_name, srs_id from gpkg_contents").fetchall())
    assert contents == {"areas": "features", "hubs": "features", "metadata": "attributes", "fields": "attributes"}
    assert srs["areas"] == srs["hubs"] == 27700

    fields = read_layer(result.path, "fields")
    got = full_names(read_layer(result.path, "areas"), fields, written="field_name")  # the fields table maps back
    assert got.crs.to_epsg() == 27700
    _same_attributes(got, expected)
    _same_geometry(got.geometry, expected.geometry)
    assert "Ynys Môn 001A" in ogrinfo_values(result.path, "areas")

    meta = read_layer(result.path, "metadata").set_index("key")["value"]
    side = json.loads(result.files[1].read_text(encoding="utf-8"))
    assert json.loads(meta["methodology_json"]) == side == result.methodology
    assert meta["selection"] == "top:40,band:Very high"  # canonical order
    assert meta["crs"] == "EPSG:27700" and meta["profile"] == "Test profile"
    assert side["selected_codes"] == expected["code"].tolist()
    assert fields[fields["layer"] == "areas"]["full_name"].tolist() == FULL
    assert names_from_methodology(side) == dict(zip(LABELLED, FULL))


def test_shapefile_zip(exports, expected):
    result = exports["shp"]
    assert result.path.suffix == ".zip" and len(result.files) == 1
    with zipfile.ZipFile(result.path) as archive:
        names = archive.namelist()
        assert archive.read("areas.cpg").decode().strip() == "UTF-8"
        prj = archive.read("areas.prj").decode()
    assert {f"{layer}{ext}" for layer in ("areas", "hubs") for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg")} <= set(names)
    assert {"fields.csv", "README.txt", "methodology.json"} <= set(names)
    assert "British_National_Grid" in prj and "Airy_1830" in prj

    layers = ogrinfo_summary(vsizip(result.path))
    assert layers["areas"].count == 40 and layers["areas"].epsg == 27700
    assert layers["hubs"].count == 3 and layers["hubs"].epsg == 27700
    assert all(len(name) <= MAX_LEN for name in layers["areas"].fields)
    fields = zip_csv(result.path, "fields.csv")
    assert fields[fields["layer"] == "areas"]["full_name"].tolist() == FULL
    assert list(layers["areas"].fields) == fields[fields["layer"] == "areas"]["short_name"].tolist()
    short = fields.set_index(["layer", "full_name"])["short_name"]
    assert short["areas", "claimant_count_rate"] != short["areas", "claimant_cnt_rate"]  # collision resolved
    unit = fields.set_index(["layer", "full_name"])["unit"]
    assert unit["areas", "claimant_count_rate"] == "% of residents aged 16-64" and unit["areas", "robust"] == "1 = yes, 0 = no"

    got = full_names(read_layer(vsizip(result.path), "areas"), fields)
    assert got.crs.to_epsg() == 27700
    _same_attributes(got, expected, bool_as_int=True)  # the two claimant columns land in the right fields
    _same_geometry(got.geometry, expected.geometry)
    values = ogrinfo_values(vsizip(result.path), "areas")
    assert "Ynys Môn 001A" in values and "Zoë's Court" in values  # .cpg honoured: UTF-8 survives
    hubs = full_names(read_layer(vsizip(result.path), "hubs"), fields, "hubs")
    assert hubs["hub_name"].tolist() == ["Hwb Gwaith Môn", "Job Centre Plus", "@hub"]

    readme = zip_text(result.path, "README.txt")
    assert "The 40 highest-priority areas: in band 'Very high'." in readme
    assert "Office for National Statistics" in readme and "Test profile" in readme and "South Midlands" in readme
    assert json.loads(zip_text(result.path, "methodology.json")) == result.methodology


def test_geojson(exports, expected):
    result = exports["geojson"]
    data = json.loads(result.path.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection" and "crs" not in data  # RFC 7946: WGS84 implied
    coords = np.concatenate([np.asarray(shapely.get_coordinates(shapely.geometry.shape(f["geometry"])))
                             for f in data["features"]])
    assert coords[:, 0].min() > -1.5 and coords[:, 0].max() < 0.5 and coords[:, 1].min() > 51.5 and coords[:, 1].max() < 52.8
    assert np.allclose(coords, np.round(coords, 6), rtol=0, atol=1e-12)  # at most 6 decimal places
    raw = result.path.read_text(encoding="utf-8")
    assert "Ynys Môn 001A" in raw  # written as UTF-8, not \u escapes
    for feature in data["features"]:  # RFC 7946 3.1.6: exterior rings counter-clockwise
        for polygon in shapely.geometry.shape(feature["geometry"]).geoms:
            assert polygon.exterior.is_ccw

    layers = ogrinfo_summary(result.path)
    assert layers["areas"].count == 40 and layers["areas"].epsg == 4326
    assert list(layers["areas"].fields) == LABELLED
    got = read_layer(result.path).rename(columns=names_from_methodology(result.methodology))
    assert got.crs.to_epsg() == 4326
    _same_attributes(got, expected)
    _same_geometry(got.geometry, expected.geometry, tolerance_m=0.5)  # 1e-6 degrees is about 0.1 m
    hubs = read_layer(result.files[2])
    assert result.files[2].name == "priority_geojson.hubs.geojson" and hubs["Hub name"].tolist()[0] == "Hwb Gwaith Môn"
    assert json.loads(result.files[1].read_text(encoding="utf-8"))["crs"] == "EPSG:4326"


def test_csv(exports, expected):
    result = exports["csv"]
    data = result.path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    got = pd.read_csv(result.path, encoding="utf-8-sig", keep_default_na=False)
    assert list(got.columns) == LABELLED
    got = got.rename(columns=names_from_methodology(result.methodology))
    hostile = SPECIAL_NAMES[-1]
    assert ("'" + hostile) in got["name"].tolist() and hostile not in got["name"].tolist()
    got["name"] = got["name"].str.removeprefix("'")  # the only change: the neutralised formula
    _same_attributes(got, expected)
    assert (got["claimant_cnt_rate"] < 0).any() and got["claimant_cnt_rate"].dtype.kind == "f"  # negatives stay numbers

    layers = ogrinfo_summary(result.path)  # GDAL's CSV driver reads it too (and skips the BOM)
    assert layers["priority_csv"].count == 40 and "LSOA code (GSS, 2021)" in layers["priority_csv"].fields
    assert "Ynys Môn 001A" in ogrinfo_values(result.path, "priority_csv")
    hubs = pd.read_csv(result.files[2], encoding="utf-8-sig")
    assert list(hubs.columns) == ["Hub name", "Capacity", "Easting (British National Grid, EPSG:27700), metres",
                                  "Northing (British National Grid, EPSG:27700), metres"]
    assert hubs["Hub name"].tolist() == ["Hwb Gwaith Môn", "Job Centre Plus", "'@hub"]
    assert len(read_layer(result.path)) == 40  # and pyogrio


def test_dissolved_shapefile_keeps_every_member(areas, tmp_path):
    result = export_areas(areas, COLUMNS, "top:250", "shp", tmp_path / "hoods.zip", dissolve=True, provenance=PROVENANCE)
    chosen = parse_selection("top:250").apply(areas)
    fields = zip_csv(result.path, "fields.csv")
    hoods = full_names(read_layer(vsizip(result.path), "areas"), fields)
    members = zip_csv(result.path, "members.csv")
    assert sorted(members["code"]) == sorted(chosen["code"])
    assert hoods["population"].sum() == chosen["population"].sum()
    assert hoods["n_areas"].sum() == 250 and len(hoods) == result.feature_count < 250
    assert ogrinfo_summary(vsizip(result.path))["areas"].count == len(hoods)
    for row in hoods.itertuples():  # the dBASE field is cut at 254 bytes; members.csv is complete
        listed = members[members["neighbourhood"] == row.code]["code"].tolist()
        assert len(listed) == row.n_areas
        if row.member_codes.endswith(" ..."):
            assert len(row.member_codes.encode()) <= 254 and listed[0] in row.member_codes
        else:
            assert row.member_codes.split("; ") == listed
    assert any(h.endswith(" ...") for h in hoods["member_codes"])  # the test meets a long list
    assert hoods.is_valid.all() and "merged into" in zip_text(result.path, "README.txt")


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "geojson", "csv"])
def test_small_fixture_with_welsh_names_in_every_format(fmt, tmp_path):
    from shapely.geometry import box

    areas = gpd.GeoDataFrame({"code": ["W05000001", "W05000002"], "name": ["Aberffraw", "Llanfair-yn-Neubwll"],
                              "lad_code": ["W06000001"] * 2, "lad_name": ["Ynys Môn"] * 2, "score": [0.5, -1.5]},
                             geometry=[box(230000, 370000, 231000, 371000), box(231000, 370000, 232000, 371000)], crs=27700)
    result = export_areas(areas, ["score"], "all", fmt, tmp_path / "ynys_mon")
    path = vsizip(result.path) if fmt == "shp" else result.path
    layer = {"gpkg": "areas", "shp": "areas", "geojson": "areas", "csv": "ynys_mon"}[fmt]
    assert ogrinfo_summary(path)[layer].count == 2
    assert "Ynys Môn" in ogrinfo_values(path, layer)
    got = read_layer(path, layer)
    lad_name, score = ("lad_name", "score") if fmt == "shp" else ("District name (LAD 2024)", "Score")
    assert got[lad_name].tolist() == ["Ynys Môn", "Ynys Môn"]
    assert sorted(got[score].astype(float)) == [-1.5, 0.5]


def test_geojson_rounding_keeps_geometries_valid():
    from shapely.geometry import Polygon

    from geo.export.writers import GEOJSON_DECIMALS, to_wgs84

    # a sliver 5 cm wide: rounding to 1e-6 degrees (~0.1 m) collapses it onto a line unless it is repaired
    sliver = Polygon([(500000, 200000), (500100, 200000.05), (500200, 200000), (500100, 200000.02)])
    square = Polygon([(500000, 200100), (500100, 200100), (500100, 200200), (500000, 200200)])
    frame = gpd.GeoDataFrame({"code": ["a", "b"]}, geometry=[sliver, square], crs=27700)
    web = to_wgs84(frame)
    assert web.crs.to_epsg() == 4326 and web.is_valid.all() and not web.is_empty.any()  # the sliver is kept, not lost
    coords = shapely.get_coordinates(web.geometry.iloc[[1]].to_numpy())
    assert np.allclose(coords, np.round(coords, GEOJSON_DECIMALS), rtol=0, atol=1e-9)
    assert web.to_crs(27700).geometry.iloc[0].area == pytest.approx(sliver.area, rel=1e-3)
