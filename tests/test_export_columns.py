"""Exported columns (labels, units, bad names) and Excel-safe CSV."""

from __future__ import annotations

import csv
import io

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from geo.errors import FieldNameCollisionError, UnknownColumnError
from geo import csvsafe
from geo.export.columns import ColumnSpec, resolve_columns


def _areas(**extra):
    data = {"code": ["E05000001"], "name": ["Ynys Môn"], "lad_code": ["E06000032"], "lad_name": ["Luton"],
            "claimant_rate": [4.2], "population": [1234], **extra}
    return gpd.GeoDataFrame(data, geometry=[box(0, 0, 1, 1)], crs=27700)


def test_base_columns_first_then_the_ones_asked_for_with_labels_and_units():
    specs = resolve_columns(_areas(), ["population", {"name": "claimant_rate", "label": "Claimant rate", "unit": "% of 16-64"},
                                       "population", ColumnSpec("name", "Ward name")])
    assert [s.name for s in specs] == ["code", "name", "lad_code", "lad_name", "population", "claimant_rate"]
    by_name = {s.name: s for s in specs}
    assert by_name["claimant_rate"].unit == "% of 16-64" and by_name["population"].unit == "people"
    assert by_name["name"].label == "Ward name"  # a richer spec replaces the default label
    assert by_name["lad_code"].label.startswith("District")


def test_unknown_columns_and_clashing_names_are_refused():
    with pytest.raises(UnknownColumnError, match="column 'claimant_rte' is not in the areas; similar: claimant_rate"):
        resolve_columns(_areas(), ["claimant_rte"])
    with pytest.raises(FieldNameCollisionError, match="'score' and 'Score' in the areas differ only in case"):
        resolve_columns(_areas(score=[1.0], Score=[2.0]), ["score", "Score"])
    with pytest.raises(FieldNameCollisionError, match="GeoPackage's own 'fid'"):
        resolve_columns(_areas(FID=[1]), ["FID"])
    with pytest.raises(UnknownColumnError, match="unknown keys"):
        resolve_columns(_areas(), [{"name": "population", "units": "people"}])
    with pytest.raises(UnknownColumnError, match="dissolve rule 'median'"):
        resolve_columns(_areas(), [{"name": "population", "dissolve": "median"}])


@pytest.mark.parametrize("cell, safe", [
    ("=HYPERLINK(\"http://x\",\"click\")", "'=HYPERLINK(\"http://x\",\"click\")"),
    ("+44 1582 000000", "'+44 1582 000000"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\tcmd", "'\tcmd"),
    ("\rcmd", "'\rcmd"),
    ("-1.5", "-1.5"),          # a plain number in text: Excel reads it as that number, no formula
    ("Ynys Môn", "Ynys Môn"),
    ("Hôtel-de-Ville", "Hôtel-de-Ville"),  # a dash inside is harmless
])
def test_formula_cells_are_neutralised(cell, safe):
    assert csvsafe.neutralise(cell) == safe


def test_csv_has_bom_header_numbers_as_numbers_and_no_live_formulas():
    frame = pd.DataFrame({"code": ["E05000001", "E05000002"], "name": ["=cmd|' /C calc'!A0", "Ynys Môn"],
                          "score": [-1.5, 2.25], "robust": [True, False], "=sneaky": ["a", None]})
    data = csvsafe.to_csv_bytes(frame)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["code", "name", "score", "robust", "'=sneaky"]
    assert rows[1] == ["E05000001", "'=cmd|' /C calc'!A0", "-1.5", "True", "a"]
    assert rows[2] == ["E05000002", "Ynys Môn", "2.25", "False", ""]
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert back["score"].dtype.kind == "f" and back["score"].tolist() == [-1.5, 2.25]
    live = [v for row in rows for v in row if v.startswith(csvsafe.FORMULA_PREFIXES) and v != "-1.5"]
    assert live == []
