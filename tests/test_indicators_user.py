"""User indicators: bad rows reported row by row with nothing loaded; good files aggregate like built-in rates."""

from __future__ import annotations

import numpy as np
import pytest

from geo.errors import SourceFileError
from layers.comparators import comparators
from layers.indicators import indicator_table
from layers.registry import IndicatorLevelError, RegistryError, load_registry
from layers.user_indicators import (UserIndicatorError, indicators_dir, load_user_indicator, read_user_indicator,
                                   remove_user_indicator)

LUTON = "E06000032"


@pytest.fixture()
def luton(store, tmp_env):
    lsoa = store.table("indicators", "index_lsoa", [LUTON])
    wards = store.table("indicators", "index_ward", [LUTON])
    return lsoa, wards


def _write(tmp_path, lines, name="upload.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_every_bad_row_is_listed_and_the_good_rows_are_kept(store, luton, tmp_path):
    lsoa, wards = luton
    a, b, c = lsoa["code"].iloc[:3]
    path = _write(tmp_path, [
        "code,numerator,denominator",
        f"{a},10,100",
        "E01999999,5,50",             # row 3: unknown code
        f"{b},abc,100",               # row 4: not a number
        f"{a},3,30",                  # row 5: duplicate
        f"{c},-2,40",                 # row 6: negative
        f"{lsoa['code'].iloc[3]},60,50",  # row 7: numerator above denominator
        f"{wards['code'].iloc[0]},1,10",  # row 8: another level
        "not-a-code,1,2",             # row 9: malformed
        f"{lsoa['code'].iloc[4]},1,0",    # row 10: zero denominator
        f"{lsoa['code'].iloc[5]},*,40",   # row 11: suppressed: kept as unknown
    ])
    check = read_user_indicator(path, id="uc_households_pct", label="UC households", store=store)
    problems = {p.row: p.message for p in check.problems}
    assert set(problems) == {3, 4, 5, 6, 7, 8, 9, 10, 11}
    assert "not an LSOA 2021 or 2011 code in the store" in problems[3]
    assert "'abc' is not a number" in problems[4]
    assert "appears again (first at row 2)" in problems[5]
    assert "negative" in problems[6]
    assert "above the denominator" in problems[7]
    assert "electoral ward code" in problems[8] and "one level" in problems[8]
    assert "not a GSS code" in problems[9]
    assert "denominator is 0" in problems[10]
    assert "suppressed ('*'): kept as unknown" in problems[11]
    rows = check.rows.set_index("code")
    assert list(rows.index) == [a, lsoa["code"].iloc[5]]
    assert rows.loc[a, "uc_households_pct"] == 10.0 and np.isnan(rows.loc[lsoa["code"].iloc[5], "uc_households_pct"])
    assert not indicators_dir().exists() or not list(indicators_dir().iterdir())  # reading saves nothing


def test_a_file_with_no_valid_row_is_refused_in_one_line(store, luton, tmp_path):
    path = _write(tmp_path, ["code,value", "E01999999,5", "not-a-code,1", ""])
    with pytest.raises(UserIndicatorError) as err:
        load_user_indicator(path, id="uc_households_pct", label="UC households", store=store)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{path}: no valid row (2 problems), nothing was saved: row 2")
    assert not indicators_dir().exists() or not list(indicators_dir().iterdir())
    assert "uc_households_pct" not in load_registry()


def test_numerator_denominator_indicator_aggregates_by_summing(store, luton, tmp_path):
    lsoa, _ = luton
    rng = np.random.default_rng(6)
    den = rng.integers(100, 900, len(lsoa))
    num = (den * rng.uniform(0, 0.4, len(lsoa))).astype(int)
    lines = ["code,numerator,denominator"] + [f"{c},{n},{d}" for c, n, d in zip(lsoa["code"], num, den)]
    ind = load_user_indicator(_write(tmp_path, lines), id="uc_households_pct", label="Households on Universal Credit",
                              store=store, denominator="households", caveat="DWP Stat-Xplore, May 2025")
    assert ind.kind == "rate" and ind.levels == ["lsoa", "ward", "lad"] and ind.user
    assert load_registry()["uc_households_pct"].caveat.startswith("DWP Stat-Xplore")
    ward = indicator_table("ward", [LUTON], ["uc_households_pct"], store=store).set_index("code")
    by_ward = lsoa.assign(num=num, den=den).groupby("ward_code")[["num", "den"]].sum()
    assert np.allclose(ward.loc[by_ward.index, "uc_households_pct"], 100 * by_ward["num"] / by_ward["den"])
    lad = indicator_table("lad", [LUTON], ["uc_households_pct"], store=store).iloc[0]
    assert lad["uc_households_pct"] == pytest.approx(100 * num.sum() / den.sum())
    comp = comparators("ward", "Luton", ["uc_households_pct"], store=store)
    assert np.allclose(comp["area_value"], lad["uc_households_pct"])
    remove_user_indicator("uc_households_pct")
    assert "uc_households_pct" not in load_registry()


def test_value_only_indicator_stays_at_its_level(store, luton, tmp_path):
    _, wards = luton
    lines = ["code,value"] + [f"{c},{i * 1.5}" for i, c in enumerate(wards["code"])]
    load_user_indicator(_write(tmp_path, lines), id="hub_visits", label="Hub visits per 1,000", store=store, unit="rate")
    table = indicator_table("ward", [LUTON], ["hub_visits"], store=store).set_index("code")
    assert table.loc[wards["code"], "hub_visits"].tolist() == [i * 1.5 for i in range(len(wards))]
    with pytest.raises(IndicatorLevelError, match="hub_visits .* not available at lad level"):
        indicator_table("lad", [LUTON], ["hub_visits"], store=store)


def test_file_level_problems(store, tmp_env, tmp_path):
    with pytest.raises(SourceFileError, match="either a 'value' column or 'numerator' and 'denominator'"):
        load_user_indicator(_write(tmp_path, ["code,amount", "E06000032,3"]), id="x_amount", label="x", store=store)
    with pytest.raises(SourceFileError, match="needs a 'code' column"):
        load_user_indicator(_write(tmp_path, ["area,value", "E06000032,3"]), id="x_amount", label="x", store=store)
    with pytest.raises(RegistryError, match="built-in indicator id"):
        load_user_indicator(_write(tmp_path, ["code,value", "E06000032,3"]), id="imd2025_score", label="x", store=store)
    with pytest.raises(RegistryError, match="snake_case"):
        load_user_indicator(_write(tmp_path, ["code,value", "E06000032,3"]), id="My Score", label="x", store=store)


# -- one gate: a user indicator file is checked like every other upload (geo.upload.gate) ----------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ROWS_LIMIT = 10  # lowered for the test (the default, 1,000,000 rows, takes a 12 MB file to pass)


def _hostile_files():
    """(file name, bytes, the gate's message after the name) for files that must never reach the row checks."""
    head = "code,value\n"
    return [
        ("renamed.csv", PNG, "this is a PNG image, not a CSV table"),
        ("utf16.csv", (head + "E05014735,1\n").encode("utf-16"), "is UTF-16 text; save it as UTF-8"),
        ("binary.csv", bytes(range(256)) * 4, "is not text in UTF-8 or Windows-1252"),
        ("big.csv", (head + "E05014735,1\n" * 100_000).encode(), "the upload limit is 1 MB (WARDSCOPE_MAX_UPLOAD_MB)"),
        ("wide.csv", (",".join(["code", "value"] + [f"c{i}" for i in range(999)]) + "\n").encode(),
         "has 1,001 columns; the limit is 1,000"),
        ("long.csv", (head + "E05014735,1\n" * (ROWS_LIMIT + 1)).encode(),
         f"has more than {ROWS_LIMIT} rows; the limit is {ROWS_LIMIT}"),
        ("empty.csv", b"", "the file is empty"),
    ]


@pytest.mark.parametrize("name, data, message", _hostile_files(), ids=[f[0] for f in _hostile_files()])
@pytest.mark.parametrize("given", ["path", "bytes"])
def test_hostile_user_indicator_file_is_refused_by_the_upload_gate(store, tmp_env, tmp_path, monkeypatch, name, data,
                                                                    message, given):
    import dataclasses

    from geo.upload import tables as upload_tables
    from geo.config import upload_limits
    from geo.errors import UploadRejected

    monkeypatch.setenv("WARDSCOPE_SESSIONS", str(tmp_path / "sessions"))
    if name == "big.csv":
        monkeypatch.setenv("WARDSCOPE_MAX_UPLOAD_MB", "1")
    if name == "long.csv":
        monkeypatch.setattr(upload_tables, "upload_limits", lambda: dataclasses.replace(upload_limits(), max_rows=ROWS_LIMIT))
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(UploadRejected) as err:
        load_user_indicator(path if given == "path" else data, id="hostile_x", label="x", store=store,
                            source=None if given == "path" else name)
    text = str(err.value)
    assert text.startswith(f"{name}: ") and message in text and "\n" not in text
    assert not indicators_dir().exists() and "hostile_x" not in load_registry()
    assert list((tmp_path / "sessions").iterdir()) == []  # the upload's temporary copy is gone too


def test_formula_cells_in_a_user_indicator_are_row_problems_not_values(store, luton, tmp_path):
    lsoa, _ = luton
    a, b = lsoa["code"].iloc[:2]
    path = _write(tmp_path, ["code,value,note", f"{a},=1+2,ok", f'{b},2,"=HYPERLINK(""http://x"")"', "",
                             "=cmd|' /C calc'!A0,3,x"])
    check = read_user_indicator(path, id="hostile_x", label="x", store=store)
    problems = {p.row: p.message for p in check.problems}
    assert problems == {2: "value '=1+2' is not a number", 5: "not a GSS code (a letter and 8 digits, e.g. E01000001)"}
    assert check.rows["code"].tolist() == [b] and not indicators_dir().exists()


def test_an_accepted_upload_is_read_through_the_gate_like_a_path(store, luton, workspace):
    from geo.upload.gate import accept_upload

    lsoa, _ = luton
    rows = "".join(f"{c};{i}\n" for i, c in enumerate(lsoa["code"]))
    data = ("code;value\n" + rows).encode("cp1252")  # as continental Excel saves it
    upload = accept_upload("visits.csv", data, workspace=workspace, kinds={"csv"})
    ind = load_user_indicator(upload, id="hub_visits", label="Hub visits", store=store, unit="rate")
    assert ind.dataset == "visits.csv"
    assert indicator_table("lsoa", [LUTON], ["hub_visits"], store=store)["hub_visits"].notna().sum() == len(lsoa)
