"""Claimant count (NM_162_1) and APS (NM_17_5) from recorded Nomis API responses: paging, code lists, key,
rate limit, errors, values."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest

from geo.errors import PublisherError, SourceFileError
from geo.store import Store
from layers.comparators import comparators
from layers.indicators import available, indicator_table, installed_catalogue
from layers.install import install, install_only
from layers.nomis import CallLimit, NomisKeyError, api_key
from layers.registry import IndicatorLevelError
from tests import publishers as pub

MINI = ["E06000032", "E07000237", "E06000018"]
NM162 = "/api/v01/dataset/NM_162_1.data.csv"
NM17 = "/api/v01/dataset/NM_17_5.data.csv"
PAGE = 1000
LATEST, EARLIER = "2025-06", "2024-06"
TYPE151, TYPE298 = "2092957699TYPE151", "2092957699TYPE298"
#: Every month the dataset holds: latestMINUS12 is 12 periods before the latest, as Nomis counts.
MONTHS = [(f"{y}-{m:02d}", pd.Timestamp(year=y, month=m, day=1).strftime("%B %Y"))
          for y, m in [(2024, m) for m in range(6, 13)] + [(2025, m) for m in range(1, 7)]]
KEY = "0xabcdef0123456789abcdef0123456789abcdef01"


def apis(recorded, **claimant_options):
    """The two Nomis API datasets of the recording (claimant count on 2021 LSOAs, both months)."""
    options = {"page_rows": PAGE, "key_page_rows": 4 * PAGE, "keys": {KEY}, "months_by_geography": {TYPE151: [m for m, _ in MONTHS]},
               **claimant_options}
    nm162 = pub.NomisDataset("NM_162_1", pub.NM_162_COLUMNS, {TYPE151: recorded["rows162"], TYPE298: []}, MONTHS,
                             options.pop("codes", pub.NM_162_CODES), **options)
    nm17 = pub.NomisDataset("NM_17_5", pub.NM_17_COLUMNS, {"2092957699,2092957699TYPE424": recorded["rows17"]},
                            [("2025-03", "Apr 2024-Mar 2025")], pub.NM_17_CODES, page_rows=PAGE, keys={KEY},
                            months_by_geography={"2092957699,2092957699TYPE424": ["2025-03"]})
    return nm162, nm17


def serve(fake_http, *datasets, data=None):
    """Route the datasets' API (``data`` replaces the NM_162_1 data handler)."""
    for api in datasets:
        for path, handler in api.routes().items():
            fake_http.route(path, data if data is not None and path == NM162 else handler)


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
    missing_earlier = codes[4]
    counts[(EARLIER, missing_earlier, 0, 0)] = None  # suppressed 12 months earlier only
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
    return {"codes": codes, "counts": counts, "missing": missing, "missing_earlier": missing_earlier, "aps": values,
            "rows162": pub.claimant_rows(counts), "rows17": pub.aps_rows(values)}


@pytest.fixture()
def nomis(fake_http, monkeypatch, recorded):
    monkeypatch.setenv("WARDSCOPE_NOMIS", fake_http.url)
    serve(fake_http, *apis(recorded))
    return fake_http


def test_claimant_count_is_paged_and_summed_upwards(nomis, recorded, mini_mirror, tmp_env):
    install(mini_mirror, nomis=True)
    store = Store()
    calls = [q for path, q in nomis.requests if path == NM162]
    assert len(calls) == math.ceil(len(recorded["rows162"]) / PAGE) > 1
    assert [int(q.get("recordoffset", 0)) for q in calls] == [i * PAGE for i in range(len(calls))]
    assert calls[0]["geography"] == TYPE151 and calls[0]["date"] == f"{LATEST},{EARLIER}"  # resolved from the metadata
    assert "uid" not in calls[0]
    counts = recorded["counts"]
    lsoa = indicator_table("lsoa", ids=["claimant_count", "claimant_rate", "claimant_count_18_24", "claimant_count_female",
                                        "claimant_rate_change_12m", "claimant_count_change_12m", "census21_pop_16_64"],
                           store=store).set_index("code")
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
    # the count change over 12 months: NaN where either month is suppressed, never 0 or the other month's count
    assert lsoa.at[code, "claimant_count_change_12m"] == counts[(LATEST, code, 0, 0)] - counts[(EARLIER, code, 0, 0)]
    earlier = recorded["missing_earlier"]
    assert np.isnan(lsoa.at[missing, "claimant_count_change_12m"]) and np.isnan(lsoa.at[earlier, "claimant_count_change_12m"])
    assert lsoa.at[earlier, "claimant_count"] == counts[(LATEST, earlier, 0, 0)]
    both = [c for c in recorded["codes"] if c not in (missing, earlier)]
    assert (lsoa.loc[both, "claimant_count_change_12m"] == [counts[(LATEST, c, 0, 0)] - counts[(EARLIER, c, 0, 0)]
                                                            for c in both]).all()
    ward = indicator_table("ward", ids=["claimant_rate", "claimant_count", "claimant_rate_rose_sharply",
                                        "claimant_count_change_12m"], store=store)
    index = store.table("indicators", "index_lsoa").set_index("code")
    members = index.index[index["ward_code"] == index.at[missing, "ward_code"]].drop(missing)
    row = ward.set_index("code").loc[index.at[missing, "ward_code"]]
    assert row["claimant_rate__num"] == sum(counts[(LATEST, c, 0, 0)] for c in members)
    assert row["claimant_rate__den"] == lsoa.loc[members, "census21_pop_16_64"].sum()  # the suppressed LSOA is left out of both
    assert set(ward["claimant_rate_rose_sharply"].dropna().unique()) <= {0.0, 1.0}
    ward_of = index.loc[recorded["codes"], "ward_code"]
    expected = lsoa.loc[both, "claimant_count_change_12m"].groupby(ward_of.loc[both]).sum()
    assert (ward.set_index("code").loc[expected.index, "claimant_count_change_12m"] == expected).all()
    assert "claimant_count_change_12m" in available("ward", store)
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
     r"Claimant count .*Nomis NM_162_1.*Nomis returned a web page, not the data \('Nomis - Error'\)"),
    ("no OBS_VALUE column", lambda rows: lambda q: (200, "text/csv", b'"GEOGRAPHY_CODE","RECORD_COUNT"\r\n'),
     PublisherError, "no OBS_VALUE column"),
    ("fewer rows than RECORD_COUNT", lambda rows: lambda q: (
        200, "text/csv", pub.nomis_csv(rows[:50] if not q.get("recordoffset") else [], pub.NM_162_COLUMNS, q.get("select"), 0,
                                       len(rows))), PublisherError, r"Nomis said \d+ rows but sent 50"),
    ("renamed age name in the data", lambda rows: pub.NomisDataset(
        "NM_162_1", pub.NM_162_COLUMNS, {TYPE151: [{**r, "AGE_NAME": "Aged 25-49"} if r["AGE"] == 4 else r for r in rows]},
        MONTHS, pub.NM_162_CODES, page_rows=PAGE).data,
     SourceFileError, r"Nomis AGE code 4 is 'Aged 25-49', expected 'Aged 50\+'"),
    ("negative count", lambda rows: pub.NomisDataset(
        "NM_162_1", pub.NM_162_COLUMNS, {TYPE151: [{**r, "OBS_VALUE": -5} if i == 7 else r for i, r in enumerate(rows)]},
        MONTHS, pub.NM_162_CODES, page_rows=PAGE).data,
     SourceFileError, r"row 9: OBS_VALUE -5 is negative"),
    ("server error", lambda rows: lambda q: (503, "text/html", b"<html>busy</html>"), PublisherError,
     r"answered HTTP 503 .*\(tried 4 times\)"),
])
def test_bad_nomis_answers_change_nothing(fake_http, monkeypatch, recorded, mini_mirror, tmp_env, case, handler, error,
                                          message):
    """``install --only claimant`` with a bad answer: one line, the store as it was, nothing bad kept in the cache."""
    install(mini_mirror)
    pointer = (tmp_env / "data" / "store.json").read_bytes()
    monkeypatch.setenv("WARDSCOPE_NOMIS", fake_http.url)
    serve(fake_http, *apis(recorded), data=handler(recorded["rows162"]))
    with pytest.raises(error, match=message) as err:
        install_only("claimant", mini_mirror)
    assert "\n" not in str(err.value)
    assert (tmp_env / "data" / "store.json").read_bytes() == pointer
    assert not Store().has("indicators", "claimant_lsoa")
    assert not list((tmp_env / "data" / "cache").rglob("*.csv"))
    if error is SourceFileError:  # read but refused: its pages are asked for again by the next try
        before = len(fake_http.requests)
        with pytest.raises(error):
            install_only("claimant", mini_mirror)
        assert [p for p, _ in fake_http.requests[before:]].count(NM162) > 1


def test_a_full_install_leaves_a_failing_claimant_count_out_with_why(fake_http, monkeypatch, recorded, mini_mirror,
                                                                     tmp_env):
    monkeypatch.setenv("WARDSCOPE_NOMIS", fake_http.url)
    serve(fake_http, *apis(recorded), data=lambda q: (503, "text/html", b"<html>busy</html>"))
    manifest = install(mini_mirror, nomis=True)
    store = Store()
    assert store.generation == manifest["generation"] and store.has("indicators", "aps_lad")
    row = store.table("indicators", "not_installed").set_index("part").loc["claimant"]
    assert row["status"] == "not installed" and "answered HTTP 503" in row["why"]
    assert row["retry"] == "python cli.py install --only claimant"


# --- code lists, geography, months -----------------------------------------------------------------

def _no_data_asked(fake_http) -> bool:
    return NM162 not in [p for p, _ in fake_http.requests]


def test_an_age_code_missing_from_the_code_list_stops_before_the_data_request(fake_http, monkeypatch, recorded,
                                                                               mini_mirror, tmp_env):
    install(mini_mirror)
    monkeypatch.setenv("WARDSCOPE_NOMIS", fake_http.url)
    codes = {**pub.NM_162_CODES, "age": {k: v for k, v in pub.NM_162_CODES["age"].items() if k != 4}}
    serve(fake_http, *apis(recorded, codes=codes))
    with pytest.raises(PublisherError, match=r"Claimant count .*: Nomis NM_162_1 has no age code 4 \(its age codes: "
                                             r"0 'All categories: Age 16\+', 1 'Aged 16-17', 2 'Aged 16-24'.*\); update the "
                                             r"query in layers/sources.yaml"):
        install_only("claimant", mini_mirror)
    assert _no_data_asked(fake_http)


def test_an_age_code_that_changed_meaning_stops_before_the_data_request(fake_http, monkeypatch, recorded, mini_mirror,
                                                                         tmp_env):
    install(mini_mirror)
    monkeypatch.setenv("WARDSCOPE_NOMIS", fake_http.url)
    codes = {**pub.NM_162_CODES, "age": {**pub.NM_162_CODES["age"], 4: "Aged 25-49"}}
    serve(fake_http, *apis(recorded, codes=codes))
    with pytest.raises(PublisherError, match=r"age code 4 is now 'Aged 25-49', expected 'Aged 50\+'"):
        install_only("claimant", mini_mirror)
    assert _no_data_asked(fake_http)


def test_no_geography_with_both_months_is_one_clear_line(fake_http, monkeypatch, recorded, mini_mirror, tmp_env):
    install(mini_mirror)
    monkeypatch.setenv("WARDSCOPE_NOMIS", fake_http.url)
    serve(fake_http, *apis(recorded, months_by_geography={TYPE151: [LATEST]}))
    with pytest.raises(PublisherError, match=rf"does not publish {LATEST}, {EARLIER} on any of the geographies asked for "
                                             rf"\({TYPE151}: no {EARLIER}; {TYPE298}: no areas\)"):
        install_only("claimant", mini_mirror)
    assert _no_data_asked(fake_http)


def test_a_page_cut_off_part_way_through_a_row_is_asked_again_from_there(nomis, recorded, mini_mirror, tmp_env,
                                                                          fake_http):
    """Nomis sends HTTP 200 with a body that stops mid-row when a query is too large: the rest is asked for."""
    install(mini_mirror, nomis=True)
    whole = Store().table("indicators", "claimant_lsoa")
    shutil.rmtree(tmp_env / "data" / "cache")
    serve(fake_http, *apis(recorded, max_body_bytes=20_000))
    before = len(fake_http.requests)
    install_only("claimant", mini_mirror)
    pd.testing.assert_frame_equal(Store().table("indicators", "claimant_lsoa"), whole)
    offsets = [int(q.get("recordoffset", 0)) for p, q in fake_http.requests[before:] if p == NM162]
    assert len(offsets) > math.ceil(len(recorded["rows162"]) / PAGE) and offsets == sorted(offsets)
    assert all(b - a < PAGE for a, b in zip(offsets, offsets[1:]))  # each page began where the last complete row ended


def test_retry_after_from_nomis_is_honoured(nomis, recorded, mini_mirror, tmp_env, fake_http, monkeypatch):
    install(mini_mirror)
    waits = []
    monkeypatch.setattr("geo.fetch.sleep", waits.append)
    monkeypatch.setenv("WARDSCOPE_RETRY_AFTER_MAX_S", "30")
    nm162, nm17 = apis(recorded)
    serve(fake_http, nm162, nm17, data=pub.flaky(nm162.data, "429 7", "429 3600"))
    install_only("claimant", mini_mirror)
    assert 7.0 in waits and 30.0 in waits  # as asked, and an hour cut to the cap
    assert Store().has("indicators", "claimant_lsoa")


def test_calls_are_spaced_and_limited_per_minute(monkeypatch):
    now = [0.0]
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        now[0] += seconds

    monkeypatch.setattr("geo.fetch.sleep", sleep)
    limit = CallLimit(per_minute=3, pause_s=1.0, clock=lambda: now[0])
    for _ in range(5):
        limit.wait()
    assert waits == [1.0, 1.0, 58.0, 1.0]  # a pause between calls; the 4th waits until a minute after the 1st
    assert [round(t, 6) for t in limit.calls] == [1.0, 2.0, 60.0, 61.0]  # the calls of the last minute


# --- the API key ---------------------------------------------------------------------------------------

def test_the_key_is_sent_and_never_kept_shown_or_logged(nomis, recorded, mini_mirror, tmp_env, monkeypatch, caplog,
                                                        capsys):
    import logging

    import cli

    monkeypatch.setenv("WARDSCOPE_NOMIS_KEY", KEY)
    caplog.set_level(logging.DEBUG)
    assert cli.main(["install", "--from", str(mini_mirror), "--nomis"]) == 0
    calls = [q for p, q in nomis.requests if p.startswith("/api/v01/dataset/")]
    assert calls and all(q.get("uid") == KEY for q in calls)
    data = [q for p, q in nomis.requests if p == NM162]
    assert len(data) == math.ceil(len(recorded["rows162"]) / (4 * PAGE))  # a key gets bigger pages
    out = capsys.readouterr()
    assert KEY not in out.out + out.err
    assert caplog.records and KEY not in caplog.text
    for path in (tmp_env / "data").rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    assert Store().has("indicators", "claimant_lsoa")


def test_a_wrong_or_expired_key_is_one_line_without_the_key(nomis, recorded, mini_mirror, tmp_env, monkeypatch):
    install(mini_mirror)
    pointer = (tmp_env / "data" / "store.json").read_bytes()
    wrong = "0x" + "1" * 40
    monkeypatch.setenv("WARDSCOPE_NOMIS_KEY", wrong)
    with pytest.raises(PublisherError, match=r"answered HTTP 403 .*: Nomis refused the API key \(it may be wrong or "
                                             r"expired\); check WARDSCOPE_NOMIS_KEY") as err:
        install_only("claimant", mini_mirror)
    assert wrong not in str(err.value) and "uid=***" in str(err.value) and "\n" not in str(err.value)
    assert (tmp_env / "data" / "store.json").read_bytes() == pointer
    assert [p for p, _ in nomis.requests].count("/api/v01/dataset/NM_162_1/age.def.sdmx.json") == 1  # not retried
    manifest = install(mini_mirror, nomis=True)  # a full install leaves it out and says why, without the key
    note = next(n for n in manifest["notes"] if n.startswith("claimant count not installed"))
    assert "Nomis refused the API key" in note and wrong not in json.dumps(manifest)


def test_a_refusal_sent_as_a_web_page_mentions_the_key(fake_http, recorded, mini_mirror, tmp_env, monkeypatch):
    install(mini_mirror)
    monkeypatch.setenv("WARDSCOPE_NOMIS", fake_http.url)
    monkeypatch.setenv("WARDSCOPE_NOMIS_KEY", KEY)
    serve(fake_http, *apis(recorded), data=lambda q: (200, "text/html", pub.HTML_ERROR))
    with pytest.raises(PublisherError, match=r"returned a web page.*if the Nomis API key is wrong or expired") as err:
        install_only("claimant", mini_mirror)
    assert KEY not in str(err.value)


def test_the_key_file_must_be_private(tmp_path, monkeypatch):
    path = tmp_path / "nomis-key"
    path.write_text(KEY + "\n")
    monkeypatch.setenv("WARDSCOPE_NOMIS_KEY_FILE", str(path))
    path.chmod(0o644)
    with pytest.raises(NomisKeyError, match=rf"can be read by other users; make it private \(chmod 600 {path}\)"):
        api_key()
    path.chmod(0o600)
    assert api_key() == KEY
    path.write_text("my key\n")
    with pytest.raises(NomisKeyError) as err:
        api_key()
    assert "does not hold a Nomis API key" in str(err.value) and "my key" not in str(err.value)
    monkeypatch.setenv("WARDSCOPE_NOMIS_KEY", "not-a-key")
    with pytest.raises(NomisKeyError, match="WARDSCOPE_NOMIS_KEY does not hold a Nomis API key") as err:
        api_key()
    assert "not-a-key" not in str(err.value)
