"""Exports people can read: Luton's priority wards to GeoPackage, GeoJSON and CSV carry labels, not column names.

Real store data (the neighbourhood profile scored for Luton's wards), read back
with pyogrio and GDAL's ogrinfo as QGIS would: the field names are labels, the
GSS code column says it is one, names are unique without regard to case, and
every value is the scored layer's own, at full precision.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from geo.export.columns import ColumnSpec, field_names
from layers.profiles import load_profile
from tasks import export
from tasks.export import ExportRequest
from tasks.inputs import area_of
from tasks.score import ScoreRequest
from tasks.inputs import profile_text
from tests.exportcheck import assert_readable, names_from_methodology, ogrinfo_summary, read_layer

SELECTION = "band:top 10%,band:top 20%"
CODE = "Ward code (GSS)"


@pytest.fixture(scope="module")
def luton(store):
    request = ExportRequest(ScoreRequest(area_of("Luton", store), profile_text(load_profile("neighbourhood")), "ward",
                                         draws=50), SELECTION)
    return export.run(request, store).data


@pytest.fixture(scope="module")
def written(luton, tmp_path_factory):
    folder = tmp_path_factory.mktemp("labels")
    return {fmt: luton.write(fmt, str(folder / f"luton_{fmt}")) for fmt in ("gpkg", "geojson", "csv")}


def _read(fmt, result):
    if fmt == "csv":
        return pd.read_csv(result.path, encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    return read_layer(result.path, "areas" if fmt == "gpkg" else None)


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "csv"])
def test_luton_priority_wards_read_back_with_labels_and_the_same_values(fmt, luton, written):
    result = written[fmt]
    got = _read(fmt, result)
    names = [c for c in got.columns if c != "geometry"]
    assert_readable(names)
    assert names[0] == CODE and "Ward name" in names and "District code (GSS, LAD 2024)" in names
    assert not any(n in names for n in ("code", "lad_code", "score", "rank"))
    layer = {"gpkg": "areas", "geojson": "areas", "csv": f"luton_{fmt}"}[fmt]
    assert list(ogrinfo_summary(result.path)[layer].fields) == names  # GDAL sees the same names, no warnings

    expected = luton.selection.apply(luton.areas).reset_index(drop=True)
    assert got[CODE].tolist() == expected["code"].tolist() and len(got) > 0
    back = got.rename(columns=names_from_methodology(result.methodology))
    for spec in luton.columns:
        name = spec.name if isinstance(spec, ColumnSpec) else spec
        want, have = expected[name], back[name]
        if pd.api.types.is_bool_dtype(want):
            assert have.astype(bool).tolist() == want.tolist(), name
        elif pd.api.types.is_numeric_dtype(want):  # full precision: no rounding on the way out
            np.testing.assert_array_equal(have.astype(float).to_numpy(), want.astype(float).to_numpy(), err_msg=name)
        else:
            assert have.fillna("").astype(str).tolist() == want.fillna("").astype(str).tolist(), name


def test_geopackage_fields_table_maps_labels_to_column_names(written):
    path = written["gpkg"].path
    fields = read_layer(path, "fields")
    areas = fields[fields["layer"] == "areas"]
    assert list(areas.columns) == ["layer", "field_name", "full_name", "label", "unit"]
    assert areas.iloc[0][["field_name", "full_name"]].tolist() == [CODE, "code"]
    assert areas["field_name"].tolist() == [c for c in read_layer(path, "areas").columns if c != "geometry"]
    side = json.loads(written["gpkg"].files[1].read_text(encoding="utf-8"))
    assert names_from_methodology(side) == dict(zip(areas["field_name"], areas["full_name"]))


def test_labels_that_clash_keep_their_meaning_and_stay_unique_without_case():
    specs = [ColumnSpec("score", "Score"), ColumnSpec("score_2", "score"), ColumnSpec("geom", "Geom"),
             ColumnSpec("area_km2", "Land area", "km²"), ColumnSpec("rank", "Rank within Luton", "rank"),
             ColumnSpec("note", "A note\nover two lines")]
    names = field_names(specs)
    assert names == {"score": "Score", "score_2": "score [score_2]", "geom": "Geom [geom]",
                     "area_km2": "Land area (km²)", "rank": "Rank within Luton", "note": "A note over two lines"}
    assert len({n.casefold() for n in names.values()}) == len(names)


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "csv"])
def test_labels_with_quotes_accents_and_clashing_case_round_trip(fmt, tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    from geo.export import export_areas

    areas = gpd.GeoDataFrame({"code": ["E05014736", "E05014737"], "name": ["Beech Hill", "Biscot"],
                              "lad_code": ["E06000032"] * 2, "lad_name": ["Luton"] * 2,
                              "a": [2 / 3, 123456.78901234567], "b": [1, 2], "c": ["x", "y"]},
                             geometry=[box(507000, 221000, 508000, 222000), box(508000, 221000, 509000, 222000)], crs=27700)
    columns = [ColumnSpec("a", 'Zoë\'s "share" of 100%', "%"), ColumnSpec("b", "ward name"),  # clashes with "Ward name"
               ColumnSpec("c", "Fid")]
    result = export_areas(areas, columns, "all", fmt, tmp_path / "odd", provenance={"level": "ward"})
    layer = {"gpkg": "areas", "geojson": "areas", "csv": "odd"}[fmt]
    names = list(ogrinfo_summary(result.path)[layer].fields)
    assert names == [CODE, "Ward name", "District code (GSS, LAD 2024)", "District name (LAD 2024)",
                     "Zoë's 'share' of 100%", "ward name [b]", "Fid [c]"]  # " would be lost by GDAL's readers
    got = _read(fmt, result).rename(columns=names_from_methodology(result.methodology))
    # every digit kept (GDAL's GeoJSON writer trims only last-digit noise such as 0.1 + 0.2 -> 0.3)
    assert got["a"].tolist() == [2 / 3, 123456.78901234567]
    assert got["b"].astype(int).tolist() == [1, 2] and got["c"].tolist() == ["x", "y"]


def test_hub_layer_names_its_own_fields_not_as_wards(luton, tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point

    from geo.export import export_areas

    hubs = gpd.GeoDataFrame({"site_id": ["h1"], "name": ["Luton Jobcentre Plus"], "lad_name": ["Luton"]},
                            geometry=[Point(509200, 221300)], crs=27700)
    result = export_areas(luton.areas, luton.columns, luton.selection, "gpkg", tmp_path / "with_hubs",
                          provenance=luton.methodology, layers={"hubs": hubs})
    got = read_layer(result.path, "hubs")
    assert [c for c in got.columns if c != "geometry"] == ["Site id", "Name", "District name (LAD 2024)"]
    assert got["Name"].tolist() == ["Luton Jobcentre Plus"]
    assert CODE in read_layer(result.path, "areas").columns
