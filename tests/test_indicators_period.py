"""``indicators --period YEAR`` on the real store and mirror: district figures from ONS Explore Local
Statistics for a chosen year, with their 95% interval (``__ci``) and period (``__period``) beside each value;
the default is each indicator's latest; a period not held is refused in one line, nothing written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cli
from geo.sources import MirrorSource
from layers import labour_market as lm
from layers.indicators import area_indicator_table
from tasks.indicators import IndicatorsRequest, run

LUTON = "E06000032"


def els_rows(mirror, dataset_id, code, indicator) -> pd.DataFrame:
    """The mirror's own rows for one area and indicator, read here as text (not through the parser)."""
    rows = pd.read_csv(MirrorSource(mirror).path(dataset_id), dtype=str, encoding="utf-8-sig", keep_default_na=False)
    rows = rows[(rows["areacd"] == code) & (rows["indicator"] == indicator)]
    return rows.assign(year=rows["period"].str[:4].astype(int))


def test_luton_2023_employment_rate_and_interval_match_the_mirror(store, mirror):
    row = els_rows(mirror, "els_employment_rate", LUTON, "Employment rate").set_index("year").loc[2023]
    value, lci, uci = (float(row[c]) for c in ("observation", "lci_95", "uci_95"))
    table = area_indicator_table("lad", "Luton", ["aps_employment_rate"], store, period=2023)
    assert list(table.columns[4:]) == ["aps_employment_rate", "aps_employment_rate__ci", "aps_employment_rate__period"]
    got = table.iloc[0]
    assert got["code"] == LUTON
    assert got["aps_employment_rate"] == pytest.approx(round(value, 1))
    assert got["aps_employment_rate__ci"] == pytest.approx(max(value - lci, uci - value), abs=0.01)
    assert got["aps_employment_rate__period"] == 2023


def test_an_earlier_year_is_that_year_and_default_is_latest(store, mirror):
    rows = els_rows(mirror, "els_employment_rate", LUTON, "Employment rate")
    rows = rows[rows["observation"] != ""]
    latest, first = int(rows["year"].max()), int(rows["year"].min())
    default = area_indicator_table("lad", "Luton", ["aps_employment_rate"], store).iloc[0]
    chosen = area_indicator_table("lad", "Luton", ["aps_employment_rate"], store, period=latest).iloc[0]
    assert default["aps_employment_rate__period"] == latest
    assert default["aps_employment_rate"] == chosen["aps_employment_rate"]
    early = area_indicator_table("lad", "Luton", ["aps_employment_rate"], store, period=first).iloc[0]
    want = float(rows.set_index("year").loc[first, "observation"])
    assert early["aps_employment_rate__period"] == first
    assert early["aps_employment_rate"] == pytest.approx(round(want, 1))
    assert early["aps_employment_rate"] != default["aps_employment_rate"] or first == latest


def test_period_column_follows_each_value_and_notes_say_when_years_differ(store, mirror):
    claimant = els_rows(mirror, "els_claimant_count", LUTON, "Claimant Count")
    claimant_latest = int(claimant.loc[claimant["observation"] != "", "year"].max())
    result = run(IndicatorsRequest(_area(store, "Luton"), "lad", ("aps_employment_rate", "claimant_rate_annual")), store)
    table = result.data
    cols = list(table.columns)
    for ind in ("aps_employment_rate", "claimant_rate_annual"):
        assert cols[cols.index(ind) + 1:].index(f"{ind}__period") <= 1  # right after the value (or its __ci)
    assert table["aps_employment_rate__period"].tolist() == [2023]
    assert table["claimant_rate_annual__period"].tolist() == [claimant_latest]
    if claimant_latest != 2023:
        assert any("2023" in n and str(claimant_latest) in n for n in result.notes)


def test_period_not_held_is_one_line(store):
    with pytest.raises(lm.PeriodNotHeld) as err:
        area_indicator_table("lad", "Luton", ["aps_employment_rate"], store, period=1999)
    message = str(err.value)
    assert "\n" not in message
    assert message == "period 1999 is not held for aps_employment_rate (held: 2004-2023)"


def test_cli_period_not_held_exits_2_and_writes_nothing(store, tmp_path, capsys):
    out = tmp_path / "luton.csv"
    code = cli.main(["indicators", "--area", "Luton", "--level", "lad", "--ids", "aps_employment_rate",
                     "--period", "1999", "--format", "csv", "--out", str(out)])
    assert code == 2
    assert not out.exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "period 1999 is not held for aps_employment_rate" in err[0]


def test_cli_period_csv(store, capsys):
    assert cli.main(["indicators", "--area", "Luton", "--level", "lad", "--ids", "aps_employment_rate",
                     "--period", "2010", "--format", "csv"]) == 0
    text = capsys.readouterr().out
    header, row = text.strip().splitlines()[:2]
    assert "aps_employment_rate__ci" in header and "aps_employment_rate__period" in header
    assert row.endswith(",2010")


def test_ward_level_period_is_a_note_not_a_failure(store):
    result = run(IndicatorsRequest(_area(store, "Luton"), "ward", ("census21_inactive_pct",), 2023), store)
    assert len(result.data) > 1
    assert any("applies only to district figures" in n for n in result.notes)
    assert not any(c.endswith("__period") for c in result.data.columns)


def test_all_indicators_at_a_year_leave_out_those_without_it_with_a_note(store):
    table = area_indicator_table("lad", "Luton", None, store, period=2023)
    notes = table.attrs["period_notes"]
    assert "travel_time_car_min" not in table.columns
    assert any(n.startswith("travel_time_car_min: no 2023 figure") for n in notes)
    assert (table.filter(like="__period").stack().dropna() == 2023).all()
    assert not np.isnan(table["aps_employment_rate"].iloc[0])


def _area(store, name):
    from geo.areas import resolve_area

    return resolve_area(name, store.districts())
