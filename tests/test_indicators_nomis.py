"""Claimant count (NM_162_1) and APS (NM_17_5) from recorded Nomis API responses: paging, errors, values."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pandas as pd
import pytest

from geo.errors import PublisherError, SourceFileError
from geo.store import Store
from layers.comparators import comparators
from layers.indicators import available, indicator_table, installed_catalogue
from layers.install import install
from layers.registry import IndicatorLevelError
from tests import publishers as pub

MINI = ["E06000032", "E07000237", "E06000018"]
NM162 = "/api/v01/dataset/NM_162_1.data.csv"
NM17 = "/api/v01/dataset/NM_17_5.data.csv"
PAGE = 1000
LATEST, EARLIER = "2025-06", "2024-06"


@pytest.fixture(scope="module")
def recorded(mini_mirror):
    rng = np.random.default_rng(162)
    codes = sorted(pd.read_csv(mini_mirror / "lookups/lsoa21_ward24_lad24_ew.csv", dtype=str)["LSOA21CD"])
    counts = {}
    for code in codes:
        for date in (LATEST, EARLIER):
            total = int(rng.integers(0, 40)) * 5
            for gender in (0, 1, 2):
                for age in (0, 2, 11, 4):
                    value = total if (gender, age) == (0, 0) else int(rng.integers(0, max(total // 5, 1) + 1)) * 5
                    counts[(date, code, gender, age)] = value
    missing = codes[3]
    counts[(LATEST, missing, 0, 0)] = None  # a suppressed cell (status Q)
    values = {}
    for code in MINI + ["E92000001"]:
        for var, rate in ((45, 74.0), (111, 21.5), (1496, 27.0)):
            rate = rate + float(rng.normal(0, 3)) if code != "E92000001" else rate
            den = 150000.0 if code != "E92000001" else 35_000_000.0
            values[(code, var, 20599)] = round(rate, 1)
            values[(code, var, 21001)] = round(den * rate / 100)
            values[(code, var, 21002)] = den
            values[(code, var, 21003)] = 3.1 if code != "E92000001" else 0.3
    values[("E07000237", 1496, 20599)] = None  # suppressed: sample too small
    values[("E07000237", 1496, 21003)] = None
    return {"codes": codes, "counts": counts, "missing": missing, "aps": values,
            "rows162": pub.claimant_rows(counts), "rows17": pub.aps_rows(values)}


@pytest.fixture()
def nomis(fake_http, monkeypatch, recorded):
    monkeypatch.setenv("WARDSCOPE_NOMIS", fake_http.url)
    fake_http.route(NM162, pub.paged(recorded["rows162"], pub.NM_162_COLUMNS, PAGE))
    fake_http.route(NM17, pub.paged(recorded["rows17"], pub.NM_17_COLUMNS, PAGE))
    return fake_http


def test_claimant_count_is_paged_and_summed_upwards(nomis, recorded, mini_mirror, tmp_env):
    install(mini_mirror, nomis=True)
    store = Store()
    calls = [q for path, q in nomis.requests if path == NM162]
    assert len(calls) == math.ceil(len(recorded["rows162"]) / PAGE) > 1
    assert [int(q.get("recordoffset", 0)) for q in calls] == [i * PAGE for i in range(len(calls))]
    assert calls[0]["geography"] == "2092957699TYPE151" and calls[0]["date"] == "latest,latestMINUS12"
    counts = recorded["counts"]
    lsoa = indicator_table("lsoa", ids=["claimant_count", "claimant_rate", "claimant_count_18_24", "claimant_count_female",
                                        "claimant_rate_change_12m", "census21_pop_16_64"], store=store).set_index("code")
    code = recorded["codes"][10]
    assert lsoa.at[code, "claimant_count"] == counts[(LATEST, code, 0, 0)]
    assert lsoa.at[code, "claimant_count_18_24"] == counts[(LATEST, code, 0, 11)]
    assert lsoa.at[code, "claimant_count_female"] == counts[(LATEST, code, 2, 0)]
    pop = lsoa.at[code, "census21_pop_16_64"]
    assert lsoa.at[code, "claimant_rate"] == pytest.approx(100 * counts[(LATEST, code, 0, 0)] / pop)
    assert lsoa.at[code, "claimant_rate_change_12m"] == pytest.approx(
        100 * (counts[(LATEST, code, 0, 0)] - counts[(EARLIER, code, 0, 0)]) / pop)
    missing = recorded["missing"]
    assert np.isnan(lsoa.at[missing, "claimant_count"]) and np.isnan(lsoa.at[missing, "claimant_rate"])
    ward = indicator_table("ward", ids=["claimant_rate", "claimant_count", "claimant_rate_rose_sharply"], store=store)
    index = store.table("indicators", "index_lsoa").set_index("code")
    members = index.index[index["ward_code"] == index.at[missing, "ward_code"]].drop(missing)
    row = ward.set_index("code").loc[index.at[missing, "ward_code"]]
    assert row["claimant_rate__num"] == sum(counts[(LATEST, c, 0, 0)] for c in members)
    assert row["claimant_rate__den"] == lsoa.loc[members, "census21_pop_16_64"].sum()  # the suppressed LSOA is left out of both
    assert set(ward["claimant_rate_rose_sharply"].dropna().unique()) <= {0.0, 1.0}
    catalogue = installed_catalogue(store).set_index("id")
    assert catalogue.at["claimant_rate", "period"] == "June 2025 (change from June 2024)"
    assert "claimant_rate" in available("ward", store)


def _els(mini_mirror, code, year=2023):
    rows = pd.read_csv(mini_mirror / "labour_market/els_employment-rate.csv", dtype=str, keep_default_na=False)
    hit = rows[(rows["areacd"] == code) & (rows["indicator"] == "Employment rate") & rows["period"].str.startswith(str(year))]
    return float(hit["observation"].iloc[0]), float(hit["uci_95"].iloc[0]) - float(hit["observation"].iloc[0])


def test_aps_is_district_only_with_intervals(nomis, recorded, mini_mirror, tmp_env):
    install(mini_mirror, nomis=True)
    store = Store()
    lad = indicator_table("lad", ids=["aps_employment_rate", "aps_inactive_long_term_sick_pct"], store=store).set_index("code")
    aps = recorded["aps"]
    # the Explore Local Statistics annual figure is the default; Nomis's latest 12 months are kept beside it
    value, half = _els(mini_mirror, "E06000032")
    assert lad.at["E06000032", "aps_employment_rate"] == value
    assert lad.at["E06000032", "aps_employment_rate__ci"] == pytest.approx(half)
    nomis_lad = store.table("indicators", "aps_nomis_lad").set_index("code")
    assert nomis_lad.at["E06000032", "aps_employment_rate"] == aps[("E06000032", 45, 20599)]
    assert nomis_lad.at["E06000032", "aps_employment_rate__num"] == aps[("E06000032", 45, 21001)]
    note = installed_catalogue(store).set_index("id").at["aps_employment_rate", "note"]
    assert "Explore Local Statistics annual figure (the default)" in note and "Nomis NM_17_5 figures for" in note
    assert lad.at["E06000032", "aps_inactive_long_term_sick_pct"] == aps[("E06000032", 1496, 20599)]  # Nomis only
    assert np.isnan(lad.at["E07000237", "aps_inactive_long_term_sick_pct"])  # suppressed, not 0
    with pytest.raises(IndicatorLevelError, match="aps_employment_rate .* not available at ward level"):
        indicator_table("ward", ids=["aps_employment_rate"], store=store)
    assert "aps_employment_rate" not in available("lsoa", store)
    comp = comparators("lad", "Luton", ["aps_employment_rate"], store=store).iloc[0]
    assert comp["england_value"] == _els(mini_mirror, "E92000001")[0]  # England's own row, not a sum of three districts
    assert comp["ci"] == pytest.approx(half)
    expected = "amber" if abs(comp["value"] - comp["england_value"]) <= half else (
        "green" if comp["value"] > comp["england_value"] else "red")  # higher employment = less need
    assert comp["rag"] == expected and "confidence interval" in comp["rag_rule"]


def test_a_mirror_holding_saved_api_extracts_uses_the_same_parser(nomis, recorded, mini_mirror, tmp_path, tmp_env):
    install(mini_mirror, nomis=True)
    online = Store().table("indicators", "claimant_lsoa")
    mirror = tmp_path / "mirror"
    shutil.copytree(mini_mirror, mirror)
    saved = next((tmp_env / "data" / "cache" / "claimant_count_lsoa21").glob("*.csv"))
    (mirror / "indicators" / "nomis_api").mkdir(parents=True)
    shutil.copy(saved, mirror / "indicators" / "nomis_api" / "nm_162_1_lsoa21.csv")
    before = len(nomis.requests)
    install(mirror)
    assert len(nomis.requests) == before  # no Nomis call: read from the mirror
    pd.testing.assert_frame_equal(Store().table("indicators", "claimant_lsoa"), online)
    assert not Store().has("indicators", "aps_nomis_lad")  # APS only from the mirror's annual files


@pytest.mark.parametrize("case, handler, error, message", [
    ("html error page", lambda rows: lambda q: (200, "text/html", pub.HTML_ERROR), PublisherError,
     r"Claimant count .*Nomis NM_162_1.*Nomis returned a web page, not CSV \('Nomis - Error'\)"),
    ("no OBS_VALUE column", lambda rows: lambda q: (200, "text/csv", b'"GEOGRAPHY_CODE","RECORD_COUNT"\r\n'),
     PublisherError, "no OBS_VALUE column"),
    ("fewer rows than RECORD_COUNT", lambda rows: lambda q: (
        200, "text/csv", pub.nomis_csv(rows[:50] if not q.get("recordoffset") else [], pub.NM_162_COLUMNS, q.get("select"), 0,
                                       len(rows))), PublisherError, r"Nomis said \d+ rows but sent 50"),
    ("renamed age code", lambda rows: pub.paged(
        [{**r, "AGE_NAME": "Aged 25-49"} if r["AGE"] == 4 else r for r in rows], pub.NM_162_COLUMNS, PAGE),
     SourceFileError, r"Nomis AGE code 4 is 'Aged 25-49', expected 'Aged 50\+'"),
    ("negative count", lambda rows: pub.paged(
        [{**r, "OBS_VALUE": -5} if i == 7 else r for i, r in enumerate(rows)], pub.NM_162_COLUMNS, PAGE),
     SourceFileError, r"row 9: OBS_VALUE -5 is negative"),
    ("server error", lambda rows: lambda q: (503, "text/html", b"<html>busy</html>"), PublisherError, "answered HTTP 503"),
])
def test_bad_nomis_answers_leave_the_store_unchanged(fake_http, monkeypatch, recorded, mini_mirror, tmp_env,
                                                     case, handler, error, message):
    install(mini_mirror)
    pointer = (tmp_env / "data" / "store.json").read_bytes()
    monkeypatch.setenv("WARDSCOPE_NOMIS", fake_http.url)
    fake_http.route(NM162, handler(recorded["rows162"]))
    fake_http.route(NM17, pub.paged(recorded["rows17"], pub.NM_17_COLUMNS, PAGE))
    with pytest.raises(error, match=message) as err:
        install(mini_mirror, nomis=True)
    assert "\n" not in str(err.value)
    assert (tmp_env / "data" / "store.json").read_bytes() == pointer
    assert not Store().has("indicators", "claimant_lsoa")
    assert not list((tmp_env / "data" / "cache").rglob("*.csv"))
