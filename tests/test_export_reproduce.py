"""Provenance: methodology.json reproduces the same areas; in-memory exports for download buttons."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timezone

import pandas as pd
import pytest
import shapely

from geo import __version__
from geo.errors import ExportError
from geo.export import export_areas, export_bytes, parse_selection, request_from_methodology
from tests.exportcheck import PROVENANCE, hubs_layer, read_layer, scored_lsoas, vsizip, zip_csv

COLUMNS = ["population", "score", "band", {"name": "robust", "label": "Robust priority"}, "ward_name"]


@pytest.fixture(scope="module")
def areas(store):
    return scored_lsoas(store)


def _frames_identical(a, b):
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry")))
    assert shapely.equals_exact(a.geometry.to_numpy(), b.geometry.to_numpy(), tolerance=0).all()


@pytest.mark.parametrize("dissolve", [False, True])
def test_methodology_reproduces_the_same_areas(areas, tmp_path, dissolve):
    (tmp_path / "picked.txt").write_text("\n".join(areas.sort_values("score")["code"].iloc[::7]), encoding="utf-8")
    selection = parse_selection("codes:picked.txt,robust,threshold:population>=1500,top:30", base_dir=tmp_path)
    first = export_areas(areas, COLUMNS, selection, "gpkg", tmp_path / "q1.gpkg", dissolve=dissolve, provenance=PROVENANCE,
                         now=datetime(2026, 3, 31, 9, 0, tzinfo=timezone.utc))
    (tmp_path / "picked.txt").unlink()  # next quarter: the codes file is gone; the methodology has the codes

    methodology = json.loads(first.files[1].read_text(encoding="utf-8"))
    assert methodology["exported_at"] == "2026-03-31T09:00:00Z" and methodology["wardscope_version"] == __version__
    assert methodology["profile"] == PROVENANCE["profile"] and methodology["sources"] == PROVENANCE["sources"]
    assert methodology["area_of_interest"]["name"] == "South Midlands" and methodology["level"] == "lsoa"
    assert len(methodology["selection"]["codes"]) == len(selection.codes)
    request = request_from_methodology(methodology)
    assert request["selection"] == selection and request["dissolve"] is dissolve
    again = export_areas(areas, fmt="gpkg", out=tmp_path / "q2.gpkg", **request)

    _frames_identical(read_layer(first.path, "areas"), read_layer(again.path, "areas"))
    if dissolve:
        pd.testing.assert_frame_equal(read_layer(first.path, "members"), read_layer(again.path, "members"))
    repeat = {k: v for k, v in again.methodology.items() if k not in ("exported_at", "files")}
    assert repeat == {k: v for k, v in methodology.items() if k not in ("exported_at", "files")}
    assert 0 < first.feature_count <= 30


def test_same_inputs_give_identical_shapefile_contents(areas, tmp_path):
    fixed = datetime(2026, 1, 1, tzinfo=timezone.utc)
    one = export_areas(areas, COLUMNS, "top:20", "shp", tmp_path / "a.zip", provenance=PROVENANCE, now=fixed)
    two = export_areas(areas, COLUMNS, "top:20", "shp", tmp_path / "b.zip", provenance=PROVENANCE, now=fixed)
    with zipfile.ZipFile(one.path) as a, zipfile.ZipFile(two.path) as b:
        assert a.namelist() == b.namelist()
        same = [n for n in a.namelist() if a.read(n) == b.read(n)]
    # byte for byte, except that a .dbf header records the date it was written
    assert set(a.namelist()) - set(same) <= {"areas.dbf"}
    assert zip_csv(one.path, "fields.csv").equals(zip_csv(two.path, "fields.csv"))
    _frames_identical(read_layer(vsizip(one.path), "areas"), read_layer(vsizip(two.path), "areas"))


def test_request_from_something_else_is_refused():
    with pytest.raises(ExportError, match="not a Wardscope export methodology"):
        request_from_methodology({"type": "FeatureCollection"})


@pytest.mark.parametrize("fmt, filename, mime, magic", [
    ("gpkg", "luton_top10.gpkg", "application/geopackage+sqlite3", b"SQLite format 3\x00"),
    ("shp", "luton_top10.zip", "application/zip", b"PK"),
    ("geojson", "luton_top10_geojson.zip", "application/zip", b"PK"),
    ("csv", "luton_top10_csv.zip", "application/zip", b"PK"),
])
def test_in_memory_exports_for_download_buttons(areas, tmp_path, fmt, filename, mime, magic):
    got = export_bytes(areas, COLUMNS, "top:10", fmt, stem="luton_top10", layers={"hubs": hubs_layer(areas)},
                       provenance=PROVENANCE)
    assert (got.filename, got.mime) == (filename, mime) and got.data.startswith(magic)
    target = tmp_path / got.filename
    target.write_bytes(got.data)
    if fmt == "gpkg":
        assert len(read_layer(target, "areas")) == 10 and len(read_layer(target, "hubs")) == 3
        methodology = json.loads(read_layer(target, "metadata").set_index("key").loc["methodology_json", "value"])
        assert methodology["layers"] == {"areas": 10, "hubs": 3}
    elif fmt == "shp":
        assert len(read_layer(vsizip(target), "areas")) == 10
    else:
        with zipfile.ZipFile(io.BytesIO(got.data)) as archive:
            names = sorted(archive.namelist())
        ext = ".geojson" if fmt == "geojson" else ".csv"
        assert names == sorted([f"luton_top10{ext}", f"luton_top10{ext}.methodology.json", f"luton_top10.hubs{ext}"])
        assert len(read_layer(f"/vsizip/{target}/luton_top10{ext}")) == 10


def test_bare_csv_for_a_quick_download(areas):
    got = export_bytes(areas, COLUMNS, "top:3", "csv", stem="top3", bundle=False)
    assert (got.filename, got.mime) == ("top3.csv", "text/csv")
    frame = pd.read_csv(io.BytesIO(got.data), encoding="utf-8-sig")
    assert len(frame) == 3 and frame.columns[0] == "Area code (GSS)"  # no level given: an area's code
    raw = pd.read_csv(io.BytesIO(export_bytes(areas, COLUMNS, "top:3", "csv", stem="top3", bundle=False,
                                              raw_names=True).data), encoding="utf-8-sig")
    assert raw.columns[0] == "code" and raw["code"].tolist() == frame["Area code (GSS)"].tolist()
    with pytest.raises(ExportError, match="file name"):
        export_bytes(areas, COLUMNS, "top:3", "csv", stem="../escape")
