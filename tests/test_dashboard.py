"""The district dashboard on the real store and mirror: values, intervals, red/amber/green, area figures,
trends, distance to 80%, files (CSV, Excel, HTML, PNG), bad requests and the ward profile's district context."""

from __future__ import annotations

import csv
import dataclasses
import io

import numpy as np
import pandas as pd
import pytest

import cli
from geo.errors import UnknownAreaError
from geo.sources import MirrorSource
from layers import dashboard_out
from layers import labour_market as lm
from layers.dashboard import DashboardRequest, PeriodNotAvailable, build_dashboard, district_context

LUTON, ENGLAND = "E06000032", "E92000001"
SOUTH_MIDLANDS = ["E06000055", "E06000056", "E06000032", "E06000042", "E06000061", "E06000062"]
AGES_16_64 = ["Aged 16 to 24 years", "Aged 25 to 34 years", "Aged 35 to 49 years", "Aged 50 to 64 years"]


def raw(mirror, dataset_id):
    return pd.read_csv(MirrorSource(mirror).path(dataset_id), dtype=str, encoding="utf-8-sig", keep_default_na=False)


def raw_row(mirror, dataset_id, code, indicator, year):
    rows = raw(mirror, dataset_id)
    hit = rows[(rows["areacd"] == code) & (rows["indicator"] == indicator) & rows["period"].str.startswith(str(year))]
    assert len(hit) == 1
    return {k: float(hit[k].iloc[0]) if hit[k].iloc[0] else np.nan for k in ("observation", "lci_95", "uci_95")}


@pytest.fixture(scope="module")
def pop_16_64(mirror):
    """Census 2021 residents aged 16-64 per district, summed here from the mirror's LSOA age table."""
    age = pd.read_csv(mirror / "indicators/census2021_population_age_lsoa21.csv", dtype={"LSOA21CD": str})
    lookup = pd.read_csv(mirror / "lookups/lsoa21_ward24_lad24_ew.csv", dtype=str).set_index("LSOA21CD")["LAD24CD"]
    age = age[age["age_group"].isin(AGES_16_64)]
    return age.groupby(lookup.reindex(age["LSOA21CD"]).to_numpy())["usual_residents"].sum()


@pytest.fixture(scope="module")
def south_midlands(store):
    return build_dashboard(DashboardRequest("South Midlands"), store)


def _figure(board, indicator, code):
    hit = board.figures[(board.figures["indicator"] == indicator) & (board.figures["code"] == code)]
    assert len(hit) == 1, (indicator, code)
    return hit.iloc[0]


def expected_rag(direction, lower, upper, england):
    """The rule written out: worse only when the whole interval is worse than England."""
    if (upper < england) if direction < 0 else (lower > england):
        return "red"
    if (lower > england) if direction < 0 else (upper < england):
        return "green"
    return "amber"


def test_luton_2023_employment_rate_has_its_interval_and_the_right_rag(south_midlands, mirror):
    luton = raw_row(mirror, "els_employment_rate", LUTON, "Employment rate", 2023)
    england = raw_row(mirror, "els_employment_rate", ENGLAND, "Employment rate", 2023)
    got = _figure(south_midlands, "aps_employment_rate", LUTON)
    assert got["period_label"] == "2023"
    assert (got["value"], got["lci"], got["uci"]) == (luton["observation"], luton["lci_95"], luton["uci_95"])
    assert got["england"] == england["observation"]
    assert got["rag"] == expected_rag(-1, luton["lci_95"], luton["uci_95"], england["observation"])
    assert got["basis"] == "95% interval"
    table = south_midlands.table().set_index("Indicator")
    cell = table.at["Employment rate, aged 16-64 (%)", "Luton"]
    word = {"red": "worse", "amber": "similar", "green": "better"}[got["rag"]]
    assert cell == f"{luton['observation']:.1f}% ({luton['lci_95']:.1f}% to {luton['uci_95']:.1f}%): {word}"
    assert list(table.columns[1:8]) == ["Bedford", "Central Bedfordshire", "Luton", "Milton Keynes",
                                        "North Northamptonshire", "West Northamptonshire", "South Midlands"]
    assert table.columns[8] == "England"


def test_every_interval_figure_is_rated_by_the_rule(south_midlands):
    rated = south_midlands.series[(south_midlands.series["basis"] == "95% interval")]
    assert len(rated) > 500
    for r in rated.itertuples(index=False):
        direction = -1 if r.indicator in ("aps_employment_rate", "aps_level3_plus_pct", "median_weekly_pay",
                                          "hle_male", "hle_female") else 1
        assert r.rag == expected_rag(direction, r.lci, r.uci, r.england), (r.indicator, r.code, r.period)
    plain = south_midlands.series[south_midlands.series["basis"] == "value (no interval)"]
    assert set(plain["indicator"]) >= {"claimant_rate_annual", "gdhi_per_head"}
    unreliable = south_midlands.series[south_midlands.series["unreliable"] & south_midlands.series["value"].notna()]
    assert len(unreliable) and unreliable["rag"].isna().all()  # shown with a warning, not rated


def test_claimant_trend_2001_2025_for_each_district(south_midlands, mirror):
    rows = raw(mirror, "els_claimant_count")
    trend = south_midlands.trend("claimant_rate_annual")
    for code in SOUTH_MIDLANDS:
        mine = trend[trend["code"] == code].set_index("period")["value"]
        mine_rows = rows[rows["areacd"] == code]
        theirs = mine_rows.set_index(mine_rows["period"].str[:4].astype(int))["observation"].astype(float).sort_index()
        assert list(mine.index) == list(range(2001, 2026)), code
        assert mine.to_dict() == theirs.to_dict(), code
    england = trend[trend["code"] == ENGLAND]
    assert list(england["period"]) == list(range(2001, 2026))
    png = dashboard_out.trend_png(south_midlands, "claimant_rate_annual")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_distance_to_80_for_luton(south_midlands, mirror, pop_16_64):
    row = south_midlands.distance.set_index("code").loc[LUTON]
    luton = raw_row(mirror, "els_employment_rate", LUTON, "Employment rate", 2023)
    pop = pop_16_64[LUTON]
    assert row["population_16_64"] == pop
    needed = lambda rate: round((80 - rate) / 100 * pop / 10) * 10  # noqa: E731
    assert row["people_needed"] == needed(luton["observation"])
    assert row["people_needed_low"] == needed(luton["uci_95"]) and row["people_needed_high"] == needed(luton["lci_95"])
    assert row["statement"] == (f"{needed(luton['observation']):,} more people in work (range "
                                f"{needed(luton['uci_95']):,} to {needed(luton['lci_95']):,}) (2023)")
    assert "Census 2021" in row["population_source"] and row["rounding"] == "rounded to the nearest 10"
    above = south_midlands.distance[south_midlands.distance["employment_rate"] >= 80]
    assert len(above) and (above["people_needed"] == 0).all()
    assert above["statement"].str.startswith("already above 80%").all()


def test_south_midlands_area_is_weighted_by_census_16_64(south_midlands, mirror, pop_16_64):
    rows = raw(mirror, "els_employment_rate")
    rows = rows[(rows["indicator"] == "Employment rate") & rows["period"].str.startswith("2023")].set_index("areacd")
    values = rows.loc[SOUTH_MIDLANDS, "observation"].astype(float)
    weights = pop_16_64[SOUTH_MIDLANDS]
    area = _figure(south_midlands, "aps_employment_rate", "area")
    assert area["value"] == round((values * weights).sum() / weights.sum(), 2)  # two places, as shown
    assert "weighted by Census 2021 residents" in area["source"] and area["lci"] < area["value"] < area["uci"]
    pay = _figure(south_midlands, "median_weekly_pay", "area")  # a median is never averaged
    assert np.isnan(pay["value"]) and pay["note"].startswith("not computed")


@pytest.mark.parametrize("area, ons_code", [("East Midlands CCA", "E47000013"), ("Worcestershire", "E10000034")])
def test_areas_with_a_published_row_use_it(store, mirror, area, ons_code, pop_16_64):
    board = build_dashboard(DashboardRequest(area), store)
    published = raw_row(mirror, "els_employment_rate", ons_code, "Employment rate", 2023)
    got = _figure(board, "aps_employment_rate", "area")
    # as published, without the file's float noise (76.39999999999999 is 76.4)
    assert (got["value"], got["lci"], got["uci"]) == tuple(round(float(published[c]), 10)
                                                          for c in ("observation", "lci_95", "uci_95"))
    assert ons_code in got["source"]
    # the published row covers these districts: its claimant rate (a count over residents) matches theirs
    claimant = raw(mirror, "els_claimant_count")
    claimant = claimant[claimant["period"].str.startswith("2025")].set_index("areacd")["observation"].astype(float)
    codes = list(board.area.lad_codes)
    weighted = (claimant[codes] * pop_16_64[codes]).sum() / pop_16_64[codes].sum()
    assert abs(weighted - claimant[ons_code]) < 0.15


def test_a_chosen_period_and_a_period_no_file_holds(store):
    board = build_dashboard(DashboardRequest("Luton", period=2015), store)
    assert set(board.figures["period"]) == {2015}
    assert any(n.startswith("aps_no_qualifications_pct: no 2015 figure (published for 2022-2023)") for n in board.notes)
    table = board.table().set_index("Indicator")
    assert table.at["No qualifications (% of residents aged 16-64)", "Luton"] == "no 2015 figure"
    with pytest.raises(PeriodNotAvailable, match=r"--period 1990: the labour-market files hold no 1990 figure") as err:
        build_dashboard(DashboardRequest("Luton", period=1990), store)
    assert "\n" not in str(err.value) and "aps_employment_rate 2004-2023" in str(err.value)
    with pytest.raises(PeriodNotAvailable, match=r"--period 2024: .*\(aps_employment_rate 2004-2023\)"):
        build_dashboard(DashboardRequest("Luton", period=2024, indicators=("aps_employment_rate",)), store)
    with pytest.raises(UnknownAreaError):
        build_dashboard(DashboardRequest("Atlantis"), store)


def test_cli_formats(tmp_path, capsys, store):
    assert cli.main(["dashboard", "--area", "South Midlands", "--format", "csv"]) == 0
    text = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    luton = next(r for r in rows if r["code"] == LUTON and r["indicator"] == "aps_employment_rate")
    assert luton["period_label"] == "2023" and luton["comparison"] in ("worse", "similar", "better")
    out = tmp_path / "board.xlsx"
    assert cli.main(["dashboard", "--area", "Worcestershire", "--period", "2023", "--format", "xlsx", "--out", str(out)]) == 0
    from openpyxl import load_workbook

    book = load_workbook(out)
    assert book.sheetnames == ["Dashboard", "Figures", "Distance to 80%", "Trends", "Notes"]
    assert book["Dashboard"]["A1"].value == "Indicator"
    png = tmp_path / "chart.png"
    assert cli.main(["dashboard", "--area", "Luton", "--format", "png", "--chart", "aps_employment_rate",
                     "--out", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    for argv, message in (
            (["--area", "Luton", "--period", "1990"], "error: --period 1990: the labour-market files hold no 1990 figure"),
            (["--area", "Luton", "--format", "xlsx"], "error: --format xlsx makes a binary file: give --out FILE"),
            (["--area", "Luton", "--format", "png", "--out", str(png)], "error: --chart ID goes with --format png"),
            (["--area", "Luton", "--ids", "census21_inactive_pct"], "error: census21_inactive_pct is not a district "
                                                                    "dashboard indicator")):
        capsys.readouterr()
        assert cli.main(["dashboard", *argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(message), err


def test_text_from_files_is_escaped_and_made_safe(south_midlands):
    hostile = "=HYPERLINK(\"http://x\")<script>alert(1)</script>"
    area = dataclasses.replace(south_midlands.area, name=hostile)
    figures = south_midlands.figures.assign(note=hostile, name=hostile)
    board = dataclasses.replace(south_midlands, area=area, figures=figures,
                                columns=[(k, hostile if r == "area" else n, r) for k, n, r in south_midlands.columns])
    page = dashboard_out.to_html(board, charts=False)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    rows = list(csv.reader(io.StringIO(dashboard_out.to_csv_bytes(board).decode("utf-8-sig"))))
    header = rows[0]
    assert all(r[header.index("note")].startswith("'=") for r in rows[1:])
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(dashboard_out.to_xlsx_bytes(board)))
    values = [c.value for row in book["Figures"].iter_rows() for c in row if isinstance(c.value, str)]
    assert not [v for v in values if v.startswith("=")] and any(v.startswith("'=HYPERLINK") for v in values)


def test_ward_profile_shows_its_district_survey_figures(store, mirror):
    from geo.areas import resolve_area
    from layers.ward_report import build_ward_report, report_html

    context = district_context(store, LUTON).set_index("indicator")
    luton = raw_row(mirror, "els_employment_rate", LUTON, "Employment rate", 2023)
    assert f"({luton['lci_95']:.1f}% to {luton['uci_95']:.1f}%)" in context.at["aps_employment_rate", "shown"]
    assert context.at["aps_employment_rate", "sentence"] == "a survey of the whole district; it cannot be split into wards"
    from layers.comparators import comparators
    from layers.registry import load_registry

    ward = store.boundaries("ward", [LUTON]).iloc[0]["code"]
    figures = comparators("ward", "Luton", ["census21_inactive_pct"], store=store)
    report = build_ward_report(ward_code=ward, area=resolve_area("Luton", store.districts()), store=store,
                               comparators=figures, registry=load_registry(), scored=[])
    page = report_html(report)
    assert "a survey of the whole district; it cannot be split into wards" in page
    assert f"{luton['observation']:.1f}% ({luton['lci_95']:.1f}% to {luton['uci_95']:.1f}%)" in page
