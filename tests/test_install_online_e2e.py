"""A fully online install (no mirror at all) against recorded publisher responses, end to end.

The responses are built at test time from the three-district mini mirror in
each publisher's own format (tests/online_recording.py) and served by a
local server standing in for ONS (ArcGIS feature services), Nomis (Census
bulk zips and API), GOV.UK (IoD File 7) and unpkg (stations). The online
store is compared with a store installed from the same mini mirror.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import cli
from geo.errors import DiskFull, OfflineError, PublisherError
from geo.install import resolve_source
from geo.online import FETCHERS, OnlineSource
from geo.progress import InstallReport
from geo.sources import MirrorSource, catalogue, dataset
from geo.store import Store
from layers import census, labour_market
from layers.indicators import available, indicator_table, installed_catalogue
from layers.install import install, install_only
from tests import online_recording as rec
from tests import publishers as pub
from tests.conftest import MINI_DISTRICTS
from tests.httpfake import FakePublisher

LUTON, WORCESTER = "E06000032", "E07000237"
GEO_DATASETS = ["lad_boundaries", "lsoa21_boundaries", "lsoa21_ward24_lad24", "lsoa21_centroids", "lsoa21_ruc21",
                "ward_boundaries", "ward23_lad23", "lsoa11_boundaries", "lsoa11_lsoa21_lad22", "stations"]
ONLINE_DATASETS = GEO_DATASETS + census.BULK_DATASETS + [
    "imd2025_lsoa21", "imd2019_domains", "imd2019_population", "claimant_count_lsoa21", "aps_districts",
    *labour_market.DATASETS]
#: Census indicators that are real LSOA counts in the mirror too (TS038, TS011, age bands): equal online.
EXACT_CENSUS = ["census21_disabled_pct__num", "census21_disabled_pct__den", "census21_hh_deprived_3plus_pct__num",
                "census21_hh_deprived_3plus_pct__den", "census21_pop_16_64", "census21_population"]


def no_mirror(mp: pytest.MonkeyPatch, data: Path, url: str | None) -> None:
    """No mirror anywhere (no --from, no WARDSCOPE_MIRROR, no ../shared/data); publishers at ``url``."""
    mp.setenv("WARDSCOPE_DATA", str(data))
    mp.setenv("WARDSCOPE_USER", str(data.parent / "user"))
    mp.delenv("WARDSCOPE_MIRROR", raising=False)
    project = data.parent / "checkout" / "wardscope"  # its ../shared/data does not exist
    project.mkdir(parents=True, exist_ok=True)
    mp.setattr("geo.config.PROJECT_ROOT", project)
    if url is not None:
        for name, value in rec.Recording.environment(url).items():
            mp.setenv(name, value)


@pytest.fixture(scope="module")
def mirror_store(mini_mirror, tmp_path_factory):
    """The same three districts installed from the mini mirror, to compare with."""
    root = tmp_path_factory.mktemp("mirror_store")
    install(source=MirrorSource(mini_mirror), root=root)
    return Store(root)


@pytest.fixture(scope="module")
def recording(mini_mirror, mirror_store):
    return rec.build_recording(mini_mirror, mirror_store.table("indicators", "census_lsoa"))


@pytest.fixture(scope="module")
def online(recording, tmp_path_factory):
    """One install with no mirror, every dataset downloaded from the (fake) publishers."""
    server = FakePublisher()
    recording.serve(server)
    data = tmp_path_factory.mktemp("online") / "data"
    try:
        with pytest.MonkeyPatch.context() as mp:
            no_mirror(mp, data, server.url)
            assert isinstance(resolve_source(), OnlineSource)  # what `cli.py install` would pick here
            source = OnlineSource()
            manifest = install(source=source)
            origins = {ds: source.origin(ds) for ds in ONLINE_DATASETS}
    finally:
        server.close()
    yield SimpleNamespace(root=data, store=Store(data), manifest=manifest, url=server.url,
                          requests=list(server.requests), origins=origins)


def _frame(gdf) -> pd.DataFrame:
    return pd.DataFrame(gdf.drop(columns="geometry")).set_index("code").sort_index()


# --- which source -------------------------------------------------------------------------------------

def test_without_a_mirror_the_install_goes_online(tmp_path, monkeypatch):
    no_mirror(monkeypatch, tmp_path / "data", None)
    source = resolve_source()
    assert isinstance(source, OnlineSource)
    assert source.cache == tmp_path / "data" / "cache"
    monkeypatch.setenv("WARDSCOPE_MIRROR", "")  # set but empty is no mirror either
    assert isinstance(resolve_source(), OnlineSource)
    (tmp_path / "checkout" / "shared" / "data").mkdir(parents=True)  # ../shared/data appears: used
    assert isinstance(resolve_source(), MirrorSource)


# --- the online store ---------------------------------------------------------------------------------

def test_every_level_is_installed_in_bng_with_the_mirror_codes_and_shapes(online, mirror_store):
    mine = online.store
    for level in ("lad", "lsoa", "ward", "lsoa11"):
        got, want = mine.boundaries(level), mirror_store.boundaries(level)
        assert got.crs.to_epsg() == 27700, level
        assert sorted(got["code"]) == sorted(want["code"]), level  # the Welsh record of each layer is dropped
        assert got["code"].str.startswith("E").all()
        got, want = got.set_index("code").sort_index(), want.set_index("code").sort_index()
        assert got.geometry.geom_equals_exact(want.geometry, tolerance=0.01).all(), level  # same outlines, in metres
    assert set(mine.boundaries("lad")["code"]) == set(MINI_DISTRICTS)
    cols = ["name", "ward_code", "ward_name", "lad_code", "lad_name", "pwc_x", "pwc_y", "ruc21_code", "ruc21_name",
            "urban_rural"]
    pd.testing.assert_frame_equal(_frame(mine.boundaries("lsoa"))[cols], _frame(mirror_store.boundaries("lsoa"))[cols])
    assert _frame(mine.boundaries("lsoa"))["pwc_x"].between(300_000, 600_000).all()  # metres east, not degrees
    pd.testing.assert_frame_equal(
        mine.table("boundaries", "lsoa11_lsoa21").sort_values(["lsoa11_code", "lsoa21_code"]).reset_index(drop=True),
        mirror_store.table("boundaries", "lsoa11_lsoa21").sort_values(["lsoa11_code", "lsoa21_code"]).reset_index(drop=True))
    stations = mine.table("places", "stations")
    assert len(stations) == len(mirror_store.table("places", "stations")) and stations.crs.to_epsg() == 27700


def test_worcester_has_its_2024_wards_drawn_from_lsoas(online, mirror_store):
    mine = online.store
    worcester = mine.boundaries("ward", [WORCESTER])
    assert len(worcester) == 16
    assert worcester["geometry_source"].str.startswith("union of best-fit LSOA").all()
    lsoa = mine.boundaries("lsoa", [WORCESTER])
    assert set(worcester["code"]) == set(lsoa["ward_code"])
    superseded = mine.table("boundaries", "ward_superseded")
    assert set(superseded["lad_code"]) == {WORCESTER} and len(superseded) == 15
    assert mine.boundaries("ward", [LUTON])["geometry_source"].str.startswith("ONS Wards").all()
    cols = ["name", "lad_code", "ward_vintage", "geometry_source", "lsoa_assignment", "n_lsoa"]
    pd.testing.assert_frame_equal(_frame(mine.boundaries("ward"))[cols], _frame(mirror_store.boundaries("ward"))[cols])


def test_iod_values_are_the_published_ones_at_every_level(online, mirror_store):
    for level in ("lsoa", "ward", "lad"):
        ids = [i for i in available(level, mirror_store) if i.startswith(("imd2025", "imd2019")) and not i.endswith("_count")]
        assert any(i.startswith("imd2025") for i in ids) and any(i.startswith("imd2019") for i in ids), level
        got = indicator_table(level, ids=ids, store=online.store).set_index("code").sort_index()
        want = indicator_table(level, ids=ids, store=mirror_store).set_index("code").sort_index()
        assert list(got.index) == list(want.index) and list(got.columns) == list(want.columns)
        for col in want.columns:
            if pd.api.types.is_numeric_dtype(want[col]):
                assert np.allclose(got[col], want[col], rtol=1e-12, atol=1e-9, equal_nan=True), (level, col)
            else:
                assert (got[col].fillna("") == want[col].fillna("")).all(), (level, col)
    ids11 = [i for i in available("lsoa11", mirror_store) if i.startswith("imd2019")]
    pd.testing.assert_frame_equal(indicator_table("lsoa11", ids=ids11, store=online.store),
                                  indicator_table("lsoa11", ids=ids11, store=mirror_store))
    # File 8 (the income/employment numerators) is not published as CSV: online installs go without
    assert "imd2025_income_count" in available("lsoa", mirror_store)
    assert "imd2025_income_count" not in available("lsoa", online.store)


def test_census_counts_agree_with_the_mirror_install(online, mirror_store, recording):
    got = online.store.table("indicators", "census_lsoa").set_index("code").sort_index()
    want = mirror_store.table("indicators", "census_lsoa").set_index("code").sort_index()
    assert list(got.index) == list(want.index)
    for col in EXACT_CENSUS:
        assert (got[col] == want[col]).all(), col
    # The other topics are estimates in the mirror (output-area percentages x residents); the bulk tables
    # hold whole people, here those estimates rounded: each count within 0.5, so each rate within 100/den.
    for ind in census.RATE_IDS:
        num, den = f"{ind}__num", f"{ind}__den"
        assert (got[num] - want[num]).abs().max() <= 0.5 + 1e-9, ind
        assert (got[den] - want[den]).abs().max() <= 0.5 + 1e-9, ind
        assert ((got[ind] - want[ind]).abs() <= 100.0 / want[den]).all(), ind
    # Wards and districts sum the same LSOA counts: within 0.5 a LSOA.
    for level in ("ward", "lad"):
        ids = census.RATE_IDS + census.COUNT_IDS
        a = indicator_table(level, ids=ids, store=online.store).set_index("code").sort_index()
        b = indicator_table(level, ids=ids, store=mirror_store).set_index("code").sort_index()
        n = online.store.table("indicators", "index_lsoa").groupby("ward_code" if level == "ward" else "lad_code").size()
        n = n.reindex(a.index).fillna(0)
        for ind in census.RATE_IDS:
            assert ((a[f"{ind}__num"] - b[f"{ind}__num"]).abs() <= 0.5 * n + 1e-6).all(), (level, ind)
        assert np.allclose(a["census21_population"], b["census21_population"], equal_nan=True)
    catalogue = installed_catalogue(online.store).set_index("id")
    assert not catalogue.loc[census.RATE_IDS, "estimate"].astype(bool).any()
    assert catalogue.at["census21_inactive_pct", "method"] == "ONS counts, Nomis bulk table TS066"
    assert installed_catalogue(mirror_store).set_index("id").at["census21_inactive_pct", "estimate"]


def test_claimant_count_is_installed_on_2021_lsoas_from_a_2011_lsoa_answer(online, recording):
    """Nomis has both months on 2011 LSOAs only: the install reads its metadata, takes TYPE298 and converts."""
    asked = [(p, q) for p, q in online.requests if p.startswith("/nomis/api/v01/dataset/NM_162_1")]
    data = [q for p, q in asked if p.endswith(".data.csv")]
    assert {q["geography"] for q in data} == {rec.TYPE298} and {q["date"] for q in data} == {"2025-06,2024-06"}
    first_data = next(i for i, (p, _) in enumerate(asked) if p.endswith(".data.csv"))
    before = {p.rsplit("/NM_162_1/", 1)[-1] for p, _ in asked[:first_data]}  # metadata first, then the data
    assert {"age.def.sdmx.json", "gender.def.sdmx.json", "measure.def.sdmx.json", "measures.def.sdmx.json",
            "time.def.sdmx.json", f"geography/{rec.TYPE151}.def.sdmx.json",
            f"geography/{rec.TYPE298}.def.sdmx.json"} <= before
    store = online.store
    table = store.table("indicators", "claimant_lsoa").set_index("code")
    change = store.table("boundaries", "lsoa11_lsoa21")
    pop = store.table("indicators", "census_lsoa").set_index("code")["census21_pop_16_64"]
    latest = rec.CLAIMANT_DATES[0][0]
    count11 = {code: v for (date, code, g, a), v in recording.claimant.items() if date == latest and (g, a) == (0, 0)}
    kinds = change.groupby("lsoa21_code")["change"].first()
    assert set(kinds) == {"U", "S", "M"}  # the three districts have all three
    for code21, kind in kinds.items():
        parents = change.loc[change["lsoa21_code"] == code21, "lsoa11_code"].tolist()
        got = table.at[code21, "claimant_count"]
        if kind == "U":
            assert got == count11[parents[0]], code21
        elif kind == "M":  # merged: the 2021 LSOA holds all of its 2011 parts
            assert got == pytest.approx(sum(count11[c] for c in parents)), code21
        else:  # split: the parent's count shared by residents aged 16-64
            children = change.loc[change["lsoa11_code"] == parents[0], "lsoa21_code"]
            assert got == pytest.approx(count11[parents[0]] * pop[code21] / pop[children].sum()), code21
    for code11, children in change[change["change"] == "S"].groupby("lsoa11_code")["lsoa21_code"]:
        assert table.loc[children, "claimant_count"].sum() == pytest.approx(count11[code11])
    catalogue = installed_catalogue(store).set_index("id")
    assert "published on 2011 LSOAs" in catalogue.at["claimant_rate", "note"]
    assert catalogue.at["claimant_rate", "period"] == "June 2025 (change from June 2024)"
    aps = store.table("indicators", "aps_lad")
    assert set(aps["code"]) == set(MINI_DISTRICTS)


def test_labour_market_files_are_installed_online_with_the_same_parser(online, mirror_store):
    got, want = (s.table("indicators", labour_market.SERIES) for s in (online.store, mirror_store))
    pd.testing.assert_frame_equal(got, want)  # the same bytes, read by the same parser
    assert len(got) and set(got["level"]) >= {"england", "district"}
    lad = indicator_table("lad", ids=["aps_employment_rate", "claimant_rate_annual"], store=online.store)
    assert lad["aps_employment_rate"].notna().all() and (lad["claimant_rate_annual__period"] == 2025).all()
    for ds in labour_market.DATASETS:
        assert online.manifest["datasets"][ds]["origin"] == f"{online.url}/els/{dataset(ds).online['path']}"
    # Nomis's APS was fetched too: kept beside the annual default
    assert online.store.has("indicators", "aps_nomis_lad")


def test_manifest_records_where_every_dataset_was_downloaded(online):
    manifest = online.manifest
    assert manifest["source"] == OnlineSource().describe()
    assert json.loads((online.root / "store.json").read_text())["generation"] == manifest["generation"]
    assert sorted(manifest["datasets"]) == sorted(ONLINE_DATASETS)  # sample_sites is a mirror-only sample
    url = online.url
    for ds, info in manifest["datasets"].items():
        assert info["origin"] == online.origins[ds], ds
        assert info["origin"].startswith(url + "/"), (ds, info["origin"])
        assert info["licence"] and info["attribution"] and info["rows"] > 0, ds
    for ds, service in rec.SERVICES.items():
        assert manifest["datasets"][ds]["origin"] == f"{url}{rec.PREFIX['ons']}/{service}/FeatureServer/0"
    assert manifest["datasets"]["census21_bulk_ts066"]["origin"] == \
        f"{url}/nomis/output/census/2021/census2021-ts066.zip (census2021-ts066-lsoa.csv)"
    assert manifest["datasets"]["imd2025_lsoa21"]["origin"] == url + "/govuk" + rec.IOD25
    assert manifest["datasets"]["imd2019_population"]["origin"] == url + "/govuk" + rec.IOD19
    assert manifest["datasets"]["stations"]["origin"] == url + "/unpkg" + rec.STATIONS
    assert manifest["datasets"]["claimant_count_lsoa21"]["origin"] == url + "/nomis" + rec.NM162


def test_every_layer_was_paged_as_arcgis_pages(online, recording):
    for ds, service in rec.SERVICES.items():
        layer = recording.layers[ds]
        asked = [q for path, q in online.requests if path == rec.query_path(service)]
        pages = [q for q in asked if q.get("returnCountOnly", "false") != "true"]
        offsets = [int(q["resultOffset"]) for q in pages]
        n = len(layer.records)
        assert offsets == list(range(0, n, layer.max_records)), ds  # advanced by what came back
        assert all(int(q["resultRecordCount"]) > layer.max_records for q in pages), ds  # the cap is below the ask
        assert all(q["outSR"] == "4326" for q in pages), ds
        assert {q["f"] for q in pages} == {"geojson" if layer.geometry else "json"}, ds
    asked = [path for path, _ in online.requests]
    for table in recording.bulk:
        assert asked.count(f"/nomis/output/census/2021/census2021-{table}.zip") == 1, table
    assert asked.count("/govuk" + rec.IOD19) == 1  # one file for two datasets
    nm162 = [q for path, q in online.requests if path == "/nomis" + rec.NM162]
    assert len(nm162) > 1 and [int(q.get("recordoffset", 0)) for q in nm162] == \
        [i * rec.NOMIS_API_PAGE for i in range(len(nm162))]  # the anonymous page cap


# --- what an online install does when the internet misbehaves ----------------------------------------

class Recorder(InstallReport):
    """Keeps what an install reports: retry notices, dataset lines, notes."""

    def __init__(self):
        self.attempts, self.lines, self.notes = [], [], []

    def attempt(self, message):
        self.attempts.append(message)

    def dataset(self, line):
        self.lines.append(line)

    def note(self, message):
        self.notes.append(message)


def _key(path: str, query: dict) -> tuple:
    return path, tuple(sorted(query.items()))


@pytest.fixture()
def second(online, recording, tmp_path, monkeypatch):
    """A copy of the online store (and its download cache) and a fresh set of publishers for a second install."""
    data = tmp_path / "data"
    shutil.copytree(online.root, data)
    server = FakePublisher(port=int(online.url.rsplit(":", 1)[1]))  # the same addresses as the first install
    no_mirror(monkeypatch, data, server.url)
    before = {"pointer": (data / "store.json").read_bytes(),
              "lsoa": Store(data).table("indicators", "census_lsoa"),
              "generations": sorted(p.name for p in (data / "boundaries").iterdir() if p.is_dir())}

    def untouched():
        assert (data / "store.json").read_bytes() == before["pointer"]
        after = Store(data)
        pd.testing.assert_frame_equal(after.table("indicators", "census_lsoa"), before["lsoa"])
        assert len(after.boundaries("lsoa")) == len(before["lsoa"])
        assert sorted(p.name for p in (data / "boundaries").iterdir() if p.is_dir()) == before["generations"]

    def empty_cache():
        """Start the downloads again from nothing (the store stays)."""
        shutil.rmtree(data / "cache")

    yield SimpleNamespace(data=data, server=server, untouched=untouched, recording=recording,
                          cache=data / "cache", empty_cache=empty_cache)
    server.close()


def _objects(cache: Path) -> set[str]:
    return {p.name for p in (cache / "downloads" / "objects").glob("*/*")}


def test_a_second_online_install_reuses_the_downloads(second, online):
    """Nothing is downloaded again; Nomis is only asked (fresh) which months it holds, and its pages are reused."""
    second.recording.serve(second.server)
    report = Recorder()
    manifest = install(source=OnlineSource(), progress=report)
    asked = {p for p, _ in second.server.requests}
    assert asked and all(p.startswith("/nomis/api/v01/dataset/") and p.endswith(".def.sdmx.json") for p in asked)
    assert {line.status for line in report.lines} == {"from cache"}
    assert any("already downloaded" in note for note in report.notes)
    assert manifest["previous"] == online.manifest["generation"]
    assert Store(second.data).generation == manifest["generation"]
    pd.testing.assert_frame_equal(Store(second.data).table("indicators", "census_lsoa"),
                                  online.store.table("indicators", "census_lsoa"))
    pd.testing.assert_frame_equal(Store(second.data).table("indicators", "claimant_lsoa"),
                                  online.store.table("indicators", "claimant_lsoa"))


def test_the_install_survives_a_failure_on_every_address(second, online, monkeypatch):
    """Every address the install asks for fails once (5xx, 429, dropped, cut off, too slow); the install succeeds."""
    second.empty_cache()
    monkeypatch.setenv("WARDSCOPE_HTTP_TIMEOUT_S", "2")
    modes = ["503", "429 1", "drop", "cut"]
    broken = {path: pub.flaky(handler, "cut" if isinstance(handler, pub.StaticFile) else modes[i % len(modes)])
              for i, (path, handler) in enumerate(sorted(second.recording.routes.items()))}
    broken["/unpkg" + rec.STATIONS] = pub.flaky(second.recording.routes["/unpkg" + rec.STATIONS], "slow 5")
    second.recording.serve(second.server, broken)
    report = Recorder()
    install(source=OnlineSource(), progress=report)
    mine = Store(second.data)
    for name in ("census_lsoa", "iod2025_lsoa", "iod2019_lsoa", "claimant_lsoa", "aps_lad"):
        pd.testing.assert_frame_equal(mine.table("indicators", name), online.store.table("indicators", name))
    assert sorted(mine.boundaries("ward")["code"]) == sorted(online.store.boundaries("ward")["code"])
    # each address that failed once was asked exactly once more; nothing else was repeated
    clean = pd.Series([p for p, _ in online.requests]).value_counts()
    now = pd.Series([p for p, _ in second.server.requests]).value_counts()
    assert (now.reindex(clean.index) == clean + 1).all() and set(now.index) == set(clean.index)
    # one line per failed attempt, naming the dataset and what went wrong
    reasons = " ".join(report.attempts)
    assert len(report.attempts) == len(clean)
    for words in ("HTTP 503", "HTTP 429", "closed the connection without answering", "arrived", "no answer within 2 s"):
        assert words in reasons, words
    assert any(a.startswith(dataset("stations").title + ": attempt 1 of 4 failed (no answer") for a in report.attempts)
    assert "as the server asked" in next(a for a in report.attempts if "HTTP 429" in a)
    # cut-off plain files were resumed, not downloaded again
    ranged = [h.get("Range") for (p, _), h in zip(second.server.requests, second.server.headers)
              if p.endswith(".zip") or p.startswith("/govuk")]
    assert sum(bool(r) for r in ranged) >= 10 and any(line.status == "resumed" for line in report.lines)


def test_after_a_failure_at_the_last_step_the_next_install_fetches_only_what_is_missing(second):
    """IoD 2019 (the last required download) is down: the install fails; the next one asks for nothing it had."""
    second.empty_cache()
    down = {"/govuk" + rec.IOD19: lambda q: (503, "text/html", b"<html><title>503</title></html>")}
    second.recording.serve(second.server, down)
    with pytest.raises(PublisherError, match=r"answered HTTP 503 .*\(tried 4 times\)") as err:
        install(source=OnlineSource())
    assert _one_line(err).startswith(dataset("imd2019_domains").title)
    second.untouched()
    arrived = {_key(p, q) for p, q in second.server.answered_ok()}
    assert len(arrived) > 30 and _objects(second.cache)  # the downloads are kept
    first = len(second.server.requests)
    second.recording.serve(second.server)
    report = Recorder()
    install(source=OnlineSource(), progress=report)
    again = [_key(p, q) for p, q in second.server.requests[first:]]
    assert not set(again) & arrived  # nothing that already arrived was downloaded again
    # besides IoD 2019: the monthly Nomis API, and the labour-market files, whose (optional) step comes after IoD 2019
    later = {p for p in second.recording.routes if "/api/v01/" in p or p.startswith("/els/")}
    assert {p for p, _ in again} - {"/govuk" + rec.IOD19} <= later
    note = next(n for n in report.notes if "already downloaded" in n)
    # 35 datasets: IoD 2019 and the 10 labour-market files (never reached by the first run) are still to fetch
    assert re.search(r": 21 of 35 datasets already downloaded \(.* kept\); 12 to fetch; the monthly Nomis figures \(2\) "
                     r"are checked for a newer month$", note)
    statuses = {line.dataset_id: line.status for line in report.lines}
    assert statuses["lsoa21_boundaries"] == "from cache" and statuses["imd2019_domains"] == "downloaded"


def test_a_file_cut_off_on_every_attempt_is_resumed_by_the_next_install(second, online):
    second.empty_cache()
    path = "/nomis/output/census/2021/census2021-ts007.zip"
    real = second.recording.routes[path]
    second.recording.serve(second.server, {path: pub.flaky(real, *["cut"] * 4)})
    report = Recorder()
    install(source=OnlineSource(), progress=report)  # census is optional: the rest installs, census is kept
    kept = Store(second.data).table("indicators", "not_installed").set_index("part")
    assert kept.at["census", "status"].startswith("kept from") and "broke off" in kept.at["census", "why"]
    assert len([a for a in report.attempts if "TS007" in a]) == 3
    partial = list((second.cache / "downloads" / "partial").glob("*.part"))
    assert len(partial) == 1 and 0 < partial[0].stat().st_size < len(real.body)  # kept for resuming, not used
    first = len(second.server.requests)
    second.recording.serve(second.server)
    install(source=OnlineSource())
    asked = [(q, h) for (p, q), h in zip(second.server.requests[first:], second.server.headers[first:]) if p == path]
    assert len(asked) == 1 and asked[0][1]["Range"].startswith("bytes=") and asked[0][1]["If-Range"] == '"ts007-1"'
    pd.testing.assert_frame_equal(Store(second.data).table("indicators", "census_lsoa"),
                                  online.store.table("indicators", "census_lsoa"))


def _one_line(exc) -> str:
    text = str(exc.value)
    assert "\n" not in text and text
    return text


def test_publisher_hanging_up_mid_install_is_an_offline_error(second):
    second.empty_cache()
    path = rec.query_path(rec.SERVICES["lsoa11_boundaries"])
    second.recording.serve(second.server, {path: lambda q: None})
    with pytest.raises(OfflineError) as err:
        install(source=OnlineSource())
    text = _one_line(err)
    assert text.startswith(f"cannot download {dataset('lsoa11_boundaries').title}: 127.0.0.1")
    assert "unreachable" in text and "install --from DIR" in text and "(tried 4 times)" in text
    asked = {p for p, _ in second.server.requests}
    assert rec.query_path(rec.SERVICES["ward_boundaries"]) in asked  # it failed part-way through
    assert "/govuk" + rec.IOD25 not in asked
    second.untouched()
    assert (second.cache / "ward_boundaries").is_dir() and _objects(second.cache)  # what arrived is kept
    assert not list((second.cache / "lsoa11_boundaries").glob("*"))


def _cut_off(handler):
    """The same answer, announced in full but cut off half-way (the connection drops mid-download), every time."""
    return pub.flaky(handler, *["cut"] * 10)


@pytest.mark.parametrize("ds, path", [
    ("imd2025_lsoa21", "/govuk" + rec.IOD25),
    ("lsoa21_boundaries", rec.query_path(rec.SERVICES["lsoa21_boundaries"])),
], ids=["govuk-file", "arcgis-page"])
def test_a_download_cut_off_on_every_attempt_is_an_offline_error(second, ds, path):
    second.empty_cache()
    second.recording.serve(second.server, {path: _cut_off(second.recording.routes[path])})
    with pytest.raises(OfflineError) as err:
        install(source=OnlineSource())
    text = _one_line(err)
    assert text.startswith(f"cannot download {dataset(ds).title}") and "broke off during the download" in text
    second.untouched()
    assert not list((second.cache / ds).glob("*"))  # nothing half-downloaded is used
    partial = list((second.cache / "downloads" / "partial").glob("*.part"))
    assert len(partial) == (1 if path.startswith("/govuk") else 0)  # a file that can resume is kept to resume


def test_publisher_error_status_mid_install_names_the_dataset(second):
    second.empty_cache()
    path = rec.query_path(rec.SERVICES["ward23_lad23"])
    second.recording.serve(second.server, {path: lambda q: (503, "text/html", b"<html><title>503</title></html>")})
    with pytest.raises(PublisherError) as err:
        install(source=OnlineSource())
    text = _one_line(err)
    assert text.startswith(f"{dataset('ward23_lad23').title}: 127.0.0.1") and "answered HTTP 503" in text
    assert [p for p, _ in second.server.requests].count(path) == 4  # retried, then given up
    second.untouched()


def test_stopped_publishers_keep_the_nomis_layers_and_the_cli_says_so(second, online, capsys):
    """Everything but the monthly Nomis metadata comes from the cache; Nomis cannot be asked, so its layers
    (optional) are kept from the store before, and the CLI says why and how to retry just them."""
    second.server.close()
    assert cli.main(["install"]) == 0
    out = capsys.readouterr()
    assert "claimant count: kept from the install of" in out.out and "unreachable" in out.out
    assert "To retry just it: python cli.py install --only claimant" in out.out
    assert "from cache" in out.err and "failed     claimant count" not in out.err
    assert Store(second.data).generation != online.manifest["generation"]
    pd.testing.assert_frame_equal(Store(second.data).table("indicators", "claimant_lsoa"),
                                  online.store.table("indicators", "claimant_lsoa"))


def test_nomis_html_error_page_for_a_census_table_keeps_the_census_layer(second, online):
    second.empty_cache()
    path = "/nomis/output/census/2021/census2021-ts037.zip"
    second.recording.serve(second.server, {path: lambda q: (200, "text/html; charset=utf-8", pub.HTML_ERROR)})
    manifest = install(source=OnlineSource())
    note = next(n for n in manifest["notes"] if n.startswith("Census 2021: kept from the install of"))
    assert dataset("census21_bulk_ts037").title in note and "Nomis returned a web page" in note and "Nomis - Error" in note
    pd.testing.assert_frame_equal(Store(second.data).table("indicators", "census_lsoa"),
                                  online.store.table("indicators", "census_lsoa"))
    assert not list((second.cache / "census21_bulk_ts037").glob("*"))


def test_a_proxy_sign_in_page_is_one_line_and_changes_nothing(second):
    second.empty_cache()
    second.recording.serve(second.server, {"/govuk" + rec.IOD25: lambda q: (200, "text/html", pub.PROXY_LOGIN)})
    with pytest.raises(PublisherError) as err:
        install(source=OnlineSource())
    text = _one_line(err)
    assert text.startswith(dataset("imd2025_lsoa21").title) and "Sign in to continue - Council Web Gateway" in text
    assert "proxy" in text and "HTTPS_PROXY" in text
    assert [p for p, _ in second.server.requests].count("/govuk" + rec.IOD25) == 1  # a sign-in page does not go away
    second.untouched()
    assert not list((second.cache / "govuk").glob("*")) and _objects(second.cache)


def test_a_file_republished_under_a_new_name_says_where_to_change_it(second):
    second.empty_cache()
    second.recording.serve(second.server, {"/govuk" + rec.IOD19: lambda q: (404, "text/html", b"<html>Gone</html>")})
    with pytest.raises(PublisherError) as err:
        install(source=OnlineSource())
    text = _one_line(err)
    assert "answered HTTP 404" in text and "republished it under a new name" in text
    assert dataset("imd2019_domains").landing in text and text.endswith("update imd2019_domains in layers/sources.yaml")
    assert [p for p, _ in second.server.requests].count("/govuk" + rec.IOD19) == 1
    second.untouched()


def test_a_disk_that_fills_during_a_download(second, monkeypatch):
    """The write of a download hits ENOSPC: one line, the store as it was, what arrived kept and resumed later."""
    import builtins
    import errno

    second.empty_cache()
    second.recording.serve(second.server)
    real_open = builtins.open

    class Full:
        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    def full_for_iod25(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        seen = second.server.requests[-1][0] if second.server.requests else ""
        if str(file).endswith(".part") and "b" in mode and seen == "/govuk" + rec.IOD25:
            return Full(handle)
        return handle

    monkeypatch.setattr(builtins, "open", full_for_iod25)
    with pytest.raises(DiskFull) as err:
        install(source=OnlineSource())
    monkeypatch.setattr(builtins, "open", real_open)
    text = _one_line(err)
    assert text.startswith(f"cannot save {dataset('imd2025_lsoa21').title}: the disk holding {second.cache}")
    assert "is full" in text and "free some space" in text and "kept" in text
    assert [p for p, _ in second.server.requests].count("/govuk" + rec.IOD25) == 1  # a full disk is not retried
    second.untouched()
    assert (second.cache / "lsoa21_boundaries").is_dir()  # the downloads before it are kept
    first = len(second.server.requests)
    install(source=OnlineSource())
    ranges = [h.get("Range") for (p, _), h in zip(second.server.requests[first:], second.server.headers[first:])
              if p == "/govuk" + rec.IOD25]
    assert len(ranges) == 1 and ranges[0].startswith("bytes=")


@pytest.mark.parametrize("body, expect", [
    ({"error": {"code": 400, "message": "Cannot perform query. Invalid query parameters.",
                "details": ["'outFields' parameter is invalid"]}}, r"answered error 400: Cannot perform query"),
    ({"error": {"code": 499, "message": "Token Required", "details": []}}, r"answered error 499: Token Required"),
    (None, r"no longer has a service named LSOA21_RUC21_EW_LU.*geo/sources\.yaml"),
], ids=["bad-query", "token", "renamed"])
def test_arcgis_error_body_with_http_200_is_refused(second, body, expect):
    second.empty_cache()
    path = rec.query_path(rec.SERVICES["lsoa21_ruc21"])
    if body is None:  # ONS republished the layer under a new name: the old one is an "Invalid URL"
        broken = {path: lambda q: (200, "application/json", json.dumps(pub.ARCGIS_INVALID_URL).encode())}
    else:
        broken = {path: lambda q: (200, "application/json; charset=utf-8", json.dumps(body).encode())}
    second.recording.serve(second.server, broken)
    with pytest.raises(PublisherError, match=expect) as err:
        install(source=OnlineSource())
    assert _one_line(err).startswith(dataset("lsoa21_ruc21").title)
    assert [p for p, _ in second.server.requests].count(path) == 1  # an error body is an answer: not retried
    second.untouched()


# --- optional parts, --only, --dry-run --------------------------------------------------------------

@pytest.fixture()
def fresh(online, recording, tmp_path, monkeypatch):
    """No store yet, but the download cache of the first online install; publishers on a new server."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copytree(online.root / "cache", data / "cache")
    server = FakePublisher(port=int(online.url.rsplit(":", 1)[1]))
    no_mirror(monkeypatch, data, server.url)
    yield SimpleNamespace(data=data, server=server, recording=recording)
    server.close()


def test_a_failing_optional_dataset_leaves_the_rest_installed_and_only_it_is_retried(fresh, online, capsys):
    nm162 = "/nomis" + rec.NM162
    age = "/nomis/api/v01/dataset/NM_162_1/age.def.sdmx.json"  # asked fresh by every install
    fresh.recording.serve(fresh.server, {age: lambda q: (503, "text/html", b"<html><title>503</title></html>")})
    assert cli.main(["install"]) == 0
    out = capsys.readouterr()
    assert "claimant count not installed: Claimant count by sex and age" in out.out and "answered HTTP 503" in out.out
    assert "To retry just it: python cli.py install --only claimant" in out.out
    assert "failed     Claimant count by sex and age" in out.err
    store = Store(fresh.data)
    assert not store.has("indicators", "claimant_lsoa") and store.has("indicators", "aps_lad")
    assert cli.main(["indicators", "--list"]) == 0
    listed = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("id")
    hint = listed.at["claimant_rate", "installed"]
    assert hint.startswith("not installed: Claimant count") and "HTTP 503" in hint
    assert hint.endswith("to install just it: python cli.py install --only claimant")
    before = Store(fresh.data)
    first = len(fresh.server.requests)
    fresh.recording.serve(fresh.server)
    assert cli.main(["install", "--only", "claimant"]) == 0
    asked = {p for p, _ in fresh.server.requests[first:]}
    assert asked and all(p.startswith("/nomis/api/v01/dataset/NM_162_1") for p in asked)  # nothing else was fetched
    after = Store(fresh.data)
    assert after.generation != before.generation
    pd.testing.assert_frame_equal(after.table("indicators", "claimant_lsoa"), online.store.table("indicators", "claimant_lsoa"))
    assert set(stored(after)) == set(stored(online.store))
    for kind, name in stored(before):
        if name not in ("installed", "not_installed"):
            pd.testing.assert_frame_equal(after.table(kind, name), before.table(kind, name), obj=f"{kind}/{name}")
    assert after.table("indicators", "not_installed").empty
    assert "claimant_rate" in available("lsoa", after)
    assert after.manifest["datasets"]["claimant_count_lsoa21"]["origin"].endswith(rec.NM162)
    assert after.manifest["datasets"]["lad_boundaries"] == before.manifest["datasets"]["lad_boundaries"]
    assert not any(n.startswith("claimant count not installed") for n in after.manifest["notes"])


def stored(store):
    from layers.install import stored_tables

    return stored_tables(store)


def test_only_with_nomis_still_failing_changes_nothing(second):
    age = "/nomis/api/v01/dataset/NM_162_1/age.def.sdmx.json"
    second.recording.serve(second.server, {age: lambda q: (503, "text/html", b"<html>503</html>")})
    with pytest.raises(PublisherError, match=r"answered HTTP 503") as err:
        install_only("claimant")
    _one_line(err)
    second.untouched()


def test_claimant_on_2021_lsoas_when_nomis_has_both_months_there(second, mini_mirror, mirror_store):
    history = rec.build_recording(mini_mirror, mirror_store.table("indicators", "census_lsoa"),
                                  claimant_2021_history=True)
    history.serve(second.server)
    install_only("claimant")
    data = [q for p, q in second.server.requests if p == "/nomis" + rec.NM162]
    assert {q["geography"] for q in data} == {rec.TYPE151}
    table = Store(second.data).table("indicators", "claimant_lsoa").set_index("code")
    latest, earlier = (d for d, _ in rec.CLAIMANT_DATES)
    for code in history.lsoa_codes:
        assert table.at[code, "claimant_count"] == history.claimant21[(latest, code, 0, 0)]
        assert table.at[code, "claimant_count_50plus"] == history.claimant21[(latest, code, 0, 4)]
        assert table.at[code, "claimant_count_prev"] == history.claimant21[(earlier, code, 0, 0)]
    catalogue = installed_catalogue(Store(second.data)).set_index("id")
    assert "2011" not in catalogue.at["claimant_rate", "note"]


def test_dry_run_lists_what_would_be_fetched_and_contacts_no_one(second, capsys):
    second.server.close()
    assert cli.main(["install", "--dry-run"]) == 0
    text = capsys.readouterr().out
    head, *lines = text.splitlines()
    assert head.startswith("install from the official publishers online") and "already in the download cache" in head
    for ds_id in ONLINE_DATASETS:
        assert ds_id in text, ds_id
    assert "download" in text and "in cache" in text
    assert f"{rec.PREFIX['ons']}/{rec.SERVICES['lsoa21_boundaries']}/FeatureServer/0" in text
    assert "2021 or 2011 LSOAs, whichever Nomis publishes both months on" in text
    second.empty_cache()
    assert cli.main(["install", "--dry-run", "--only", "claimant"]) == 0
    only = capsys.readouterr().out
    assert "1 to download" in only and "claimant_count_lsoa21" in only and "lad_boundaries" not in only
    second.untouched()


def test_every_source_entry_has_an_online_path_the_tests_exercise(online, recording, tmp_path, monkeypatch):
    """Each dataset in the sources files is fetched from the fake publishers here, or stands in for one that is."""
    fetched = {ds for ds in online.manifest["datasets"]}
    server = FakePublisher()
    try:
        recording.serve(server)
        no_mirror(monkeypatch, tmp_path / "data", server.url)
        source = OnlineSource(tmp_path / "cache")
        path = source.path("oa21_lsoa21")  # read by mirror installs only: fetched and parsed here
        oa = census._oa_lookup(SimpleNamespace(path=lambda ds: path, origin=lambda ds: str(path)),
                               pd.Index(recording.lsoa_codes, dtype=object))
        assert (oa["LSOA21CD"] == recording.oa.set_index("OA21CD").loc[oa.index, "LSOA21CD"]).all()
        assert (oa["usual_residents"] == recording.oa.set_index("OA21CD").loc[oa.index, "usual_residents"]).all()
        assert {p for p, _ in server.requests} == {rec.query_path(rec.OA_SERVICE),
                                                   "/nomis/output/census/2021/census2021-ts001.zip"}
        fetched.add("oa21_lsoa21")
    finally:
        server.close()
    for ds_id, ds in catalogue().items():
        kind = ds.online.get("kind")
        if kind == "mirror_only":
            assert ds.online.get("why"), ds_id
            assert set(ds.online["instead"]) <= fetched, ds_id
        else:
            assert kind in FETCHERS and ds_id in fetched, ds_id
