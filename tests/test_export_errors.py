"""Bad input: one clear line, and nothing half-written left behind (nor an existing export damaged)."""

from __future__ import annotations

import pytest

from geo.errors import (CRSError, EmptySelectionError, ExportError, FieldNameCollisionError, OutputExistsError,
                        OutputNotWritableError, SelectionSyntaxError, UnknownColumnError, WardscopeError)
from geo.export import export_areas, writers
from tests.exportcheck import hubs_layer, read_layer, scored_lsoas

FORMATS = ["gpkg", "shp", "geojson", "csv"]


@pytest.fixture(scope="module")
def areas(store):
    return scored_lsoas(store)


def _files(folder):
    """Everything in ``folder``, hidden temporaries included."""
    return sorted(p.name for p in folder.rglob("*"))


def _one_line(err) -> str:
    message = str(err.value)
    assert isinstance(err.value, WardscopeError) and "\n" not in message and message
    return message


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_selection_writes_nothing(areas, tmp_path, fmt):
    with pytest.raises(EmptySelectionError) as err:
        export_areas(areas, ["score"], "band:Very high,threshold:score<0", fmt, tmp_path / "out")
    assert "matched none of the 1025 areas; nothing was written" in _one_line(err)
    assert _files(tmp_path) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_existing_output_is_refused_unless_overwrite(areas, tmp_path, fmt):
    first = export_areas(areas, ["score"], "top:5", fmt, tmp_path / "out")
    before = {p: p.read_bytes() for p in first.files}
    with pytest.raises(OutputExistsError) as err:
        export_areas(areas, ["score"], "top:7", fmt, tmp_path / "out")
    assert "already exists" in _one_line(err) and "--overwrite" in str(err.value)
    assert {p: p.read_bytes() for p in first.files} == before
    second = export_areas(areas, ["score"], "top:7", fmt, tmp_path / "out", overwrite=True)
    assert second.feature_count == 7 and second.files == first.files
    assert _files(tmp_path) == sorted(p.name for p in first.files)  # no temporaries left


def test_a_lone_methodology_file_also_blocks(areas, tmp_path):
    (tmp_path / "out.csv.methodology.json").write_text("{}")
    with pytest.raises(OutputExistsError, match="out.csv.methodology.json already exists"):
        export_areas(areas, ["score"], "top:5", "csv", tmp_path / "out.csv")
    assert _files(tmp_path) == ["out.csv.methodology.json"]


@pytest.mark.parametrize("where", ["under_a_file", "sys"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_unwritable_path(areas, tmp_path, fmt, where):
    if where == "under_a_file":
        (tmp_path / "report.txt").write_text("not a folder")
        out = tmp_path / "report.txt" / "out"
    else:
        out = "/sys/wardscope-export-test"  # refused even to root
    with pytest.raises(OutputNotWritableError) as err:
        export_areas(areas, ["score"], "top:5", fmt, out)
    assert _one_line(err).startswith("cannot write ") and "choose a folder you can write to" in str(err.value)
    assert _files(tmp_path) == (["report.txt"] if where == "under_a_file" else [])


def test_short_name_collision_is_refused_before_writing(areas, tmp_path):
    columns = [{"name": "claimant_count_rate", "short": "claimant"}, {"name": "claimant_cnt_rate", "short": "claimant"}]
    with pytest.raises(FieldNameCollisionError) as err:
        export_areas(areas, columns, "top:5", "shp", tmp_path / "out")
    assert "'claimant_cnt_rate' and 'claimant_count_rate' were both given the short name 'claimant'" in _one_line(err)
    assert _files(tmp_path) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_names_equal_but_for_case_are_refused(areas, tmp_path, fmt):
    clash = areas.assign(Score=areas["score"])
    with pytest.raises(FieldNameCollisionError, match="'score' and 'Score' in the areas differ only in case"):
        export_areas(clash, ["score", "Score"], "top:5", fmt, tmp_path / "out")
    assert _files(tmp_path) == []


def test_unknown_column_names_the_near_misses(areas, tmp_path):
    with pytest.raises(UnknownColumnError) as err:
        export_areas(areas, ["score", "claimant_rate"], "top:5", "gpkg", tmp_path / "out")
    assert "column 'claimant_rate' is not in the areas; similar: claimant_count_rate" in _one_line(err)
    with pytest.raises(UnknownColumnError, match="lack the column"):
        export_areas(areas.drop(columns="lad_name"), ["score"], "top:5", "gpkg", tmp_path / "out")
    assert _files(tmp_path) == []


def test_wrong_crs_is_refused_not_reprojected(areas, tmp_path):
    with pytest.raises(CRSError) as err:
        export_areas(areas.to_crs(4326), ["score"], "top:5", "gpkg", tmp_path / "out")
    assert "British National Grid (EPSG:27700)" in _one_line(err)
    with pytest.raises(CRSError, match="extra layer 'hubs'"):
        export_areas(areas, ["score"], "top:5", "gpkg", tmp_path / "out", layers={"hubs": hubs_layer(areas).to_crs(4326)})
    with pytest.raises(CRSError):
        export_areas(areas.set_crs(None, allow_override=True), ["score"], "top:5", "csv", tmp_path / "out")
    assert _files(tmp_path) == []


def test_other_bad_requests(areas, tmp_path):
    cases = [
        (dict(fmt="kml"), ExportError, "unknown export format 'kml'"),
        (dict(out=tmp_path / "out.shp", fmt="shp"), ExportError, "written as a .zip file"),
        (dict(selection="top:five"), SelectionSyntaxError, "whole number"),
        (dict(layers={"metadata": hubs_layer(areas)}), ExportError, "extra layer name 'metadata'"),
        (dict(dissolve=True, population="residents"), UnknownColumnError, "population column 'residents'"),
    ]
    for override, error, message in cases:
        kwargs = {**dict(areas=areas, columns=["score"], selection="top:5", fmt="gpkg", out=tmp_path / "out"), **override}
        with pytest.raises(error, match=message) as err:
            export_areas(**kwargs)
        _one_line(err)
    duplicated = areas.iloc[[0, 0, 1]]
    with pytest.raises(WardscopeError, match="appears more than once"):
        export_areas(duplicated, ["score"], "all", "csv", tmp_path / "out")
    assert _files(tmp_path) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_writer_dying_midway_leaves_nothing_and_keeps_the_old_export(areas, tmp_path, monkeypatch, fmt):
    hubs = {"hubs": hubs_layer(areas)}
    old = export_areas(areas, ["score"], "top:5", fmt, tmp_path / "out", layers=hubs)
    before = {p: p.read_bytes() for p in old.files}
    real_write, real_csv, calls = writers._write, writers.write_csv, []

    def dies_on_second_layer(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the areas are written; the writer dies on the next layer
            raise RuntimeError("disk pulled out")
        return real_write(*args, **kwargs)

    def csv_dies_on_second_layer(path, layer):
        calls.append(1)
        if len(calls) == 2:
            path.write_bytes(b"code,na")  # half a file
            raise RuntimeError("disk pulled out")
        return real_csv(path, layer)

    monkeypatch.setattr(writers, "_write", dies_on_second_layer)
    monkeypatch.setattr(writers, "write_csv", csv_dies_on_second_layer)
    with pytest.raises(RuntimeError, match="disk pulled out"):
        export_areas(areas, ["score"], "top:9", fmt, tmp_path / "out", layers=hubs, overwrite=True)
    assert len(calls) == 2
    assert _files(tmp_path) == sorted(p.name for p in old.files)  # no temporaries, no work folders
    assert {p: p.read_bytes() for p in old.files} == before
    calls.clear()
    with pytest.raises(RuntimeError):
        export_areas(areas, ["score"], "top:9", fmt, tmp_path / "new", layers=hubs)
    assert _files(tmp_path) == sorted(p.name for p in old.files)  # and a new export leaves no trace


def test_invalid_input_geometry_is_repaired(tmp_path):
    import geopandas as gpd
    from shapely.geometry import Polygon

    bowtie = Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])  # self-intersecting
    areas = gpd.GeoDataFrame({"code": ["E01000001"], "name": ["Bow"], "lad_code": ["E06000001"], "lad_name": ["X"]},
                             geometry=[bowtie], crs=27700)
    result = export_areas(areas, [], "all", "gpkg", tmp_path / "out")
    got = read_layer(result.path, "areas")
    assert got.is_valid.all() and got.geometry.area.iloc[0] == pytest.approx(5000)
