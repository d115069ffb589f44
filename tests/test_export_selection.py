"""Selections: the text syntax, its errors, and which areas it picks (fixtures and real wards)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.errors import GSSCodeError, SelectionSyntaxError, UnknownColumnError
from geo.export.selection import Selection, SelectionColumns, Threshold, parse_selection

SOUTH_MIDLANDS = ["E06000055", "E06000056", "E06000032", "E06000042", "E06000061", "E06000062"]


def _areas():
    return pd.DataFrame({
        "code": ["E01000006", "E01000002", "E01000003", "E01000004", "E01000005", "E01000001"],
        "score": [0.9, 0.5, 0.7, np.nan, 0.7, 0.1],
        "band": ["High", "Medium", "high", None, "High", "Low"],
        "robust": [True, False, True, True, False, True],
        "claimant_rate": [5.0, 2.0, 4.5, 6.0, 3.9, 1.0],
    })


def test_full_syntax_parses_and_reads_the_codes_file(tmp_path):
    (tmp_path / "picked.txt").write_text("# hand-picked by the team\nE01000003\n e01000001 \n\nE01000003\n", encoding="utf-8")
    sel = parse_selection("{top:20, band:High, robust, codes:picked.txt, threshold:claimant_rate>=4.5}", base_dir=tmp_path)
    assert sel.top == 20 and sel.bands == ("High",) and sel.robust
    assert sel.codes == ("E01000003", "E01000001") and sel.codes_source == "picked.txt"
    assert sel.thresholds == (Threshold("claimant_rate", ">=", 4.5),)
    assert sel.text() == "top:20,band:High,robust,codes:picked.txt,threshold:claimant_rate>=4.5"
    assert Selection.from_dict(sel.to_dict()) == sel


def test_codes_file_may_be_a_csv_with_a_code_column(tmp_path):
    (tmp_path / "picked.csv").write_text("\ufeffname,code\nA,E01000002\nB,E01000004\n", encoding="utf-8")
    assert parse_selection(f"codes:{tmp_path / 'picked.csv'}").codes == ("E01000002", "E01000004")


@pytest.mark.parametrize("text, message", [
    ("", "empty selection"),
    ("{}", "empty selection"),
    ("top:0", "at least 1"),
    ("top:ten", "whole number"),
    ("top:3,top:4", "'top' is given twice"),
    ("best:3", "cannot read 'best:3'"),
    ("robust:yes", "cannot read 'robust:yes'"),
    ("threshold:score=>1", "should look like threshold:COLUMN>=NUMBER"),
    ("threshold:score>=high", "'high' is not a number"),
    ("codes:nowhere.txt", "does not exist"),
])
def test_bad_selection_text_is_one_clear_line(text, message):
    with pytest.raises(SelectionSyntaxError, match=message) as err:
        parse_selection(text)
    assert "\n" not in str(err.value)


def test_codes_file_with_a_bad_code_names_it(tmp_path):
    (tmp_path / "bad.txt").write_text("E01000001\nLuton 001A\n", encoding="utf-8")
    with pytest.raises(GSSCodeError, match="'LUTON 001A' is not a GSS code"):
        parse_selection("codes:bad.txt", base_dir=tmp_path)


def test_top_n_is_by_score_then_code_and_skips_missing_scores():
    picked = parse_selection("top:4").apply(_areas())
    # 0.9, then the two 0.7s in code order, then 0.5; the NaN score is never 'top'
    assert picked["code"].tolist() == ["E01000006", "E01000003", "E01000005", "E01000002"]


def test_rank_column_wins_over_score():
    areas = _areas().assign(rank=[6, 5, 4, 3, 2, 1])
    assert parse_selection("top:2").apply(areas)["code"].tolist() == ["E01000001", "E01000005"]


def test_filters_combine_with_and_and_top_comes_last():
    areas = _areas()
    assert parse_selection("band:high,robust").apply(areas)["code"].tolist() == ["E01000006", "E01000003"]
    assert parse_selection("band:High,band:Low").apply(areas)["code"].tolist() == ["E01000006", "E01000003", "E01000005", "E01000001"]
    assert parse_selection("threshold:claimant_rate>4.5").apply(areas)["code"].tolist() == ["E01000006", "E01000004"]
    # robust first (4 areas), then the best 2 of them, not "the best 2 that happen to be robust" from a top 2
    assert parse_selection("robust,top:2").apply(areas)["code"].tolist() == ["E01000006", "E01000003"]
    assert len(parse_selection("all").apply(areas)) == len(areas)


def test_selection_errors_name_what_is_missing():
    areas = _areas()
    with pytest.raises(SelectionSyntaxError, match="band 'Hgh' is not a band of these areas; bands: High, Low, Medium"):
        parse_selection("band:Hgh").apply(areas)
    with pytest.raises(SelectionSyntaxError, match="E09999999"):
        Selection(codes=("E01000001", "E09999999")).apply(areas)
    with pytest.raises(UnknownColumnError, match="needs a column 'imd_decile'"):
        parse_selection("threshold:imd_decile<=2").apply(areas)
    with pytest.raises(SelectionSyntaxError, match="needs a numeric column"):
        parse_selection("threshold:band>=1").apply(areas)
    with pytest.raises(UnknownColumnError, match="'priority'"):
        parse_selection("top:2").apply(areas.drop(columns="score"), SelectionColumns(score="priority"))


def test_top_n_on_real_wards_matches_a_plain_sort(store):
    wards = store.boundaries("ward", SOUTH_MIDLANDS)
    wards["score"] = (wards.geometry.length / np.sqrt(wards.geometry.area)).round(6)  # compactness stands in for a score
    picked = parse_selection("top:25").apply(wards)
    expected = wards.sort_values(["score", "code"], ascending=[False, True]).head(25)
    assert picked["code"].tolist() == expected["code"].tolist()
    assert picked.geometry.crs.to_epsg() == 27700
