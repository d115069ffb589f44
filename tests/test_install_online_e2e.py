"""A fully online install (no mirror at all) against recorded publisher responses, end to end.

The responses are built at test time from the three-district mini mirror in
each publisher's own format (tests/online_recording.py) and served by a
local server standing in for ONS (ArcGIS feature services), Nomis (Census
bulk zips and API), GOV.UK (IoD File 7) and unpkg (stations). The online
store is compared with a store installed from the same mini mirror.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import cli
from geo.errors import OfflineError, PublisherError
from geo.install import resolve_source
from geo.online import OnlineSource
from geo.sources import MirrorSource, dataset
from geo.store import Store
from layers import census, labour_market
from layers.indicators import available, indicator_table, installed_catalogue
from layers.install import install
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


def test_nomis_api_layers_are_installed_online(online, recording):
    claimant = online.store.table("indicators", "claimant_lsoa").set_index("code")
    latest = rec.CLAIMANT_DATES[0][0]
    for code in recording.lsoa_codes[:20]:
        assert claimant.at[code, "claimant_count"] == recording.claimant[(latest, code, 0, 0)]
    aps = online.store.table("indicators", "aps_lad")
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
        [i * rec.NOMIS_API_PAGE for i in range(len(nm162))]


# --- failures: one line naming the dataset, the previous store untouched ------------------------------

@pytest.fixture()
def second(online, recording, tmp_path, monkeypatch):
    """A copy of the online store (and its download cache) and a fresh set of publishers for a second install."""
    data = tmp_path / "data"
    shutil.copytree(online.root, data)
    server = FakePublisher()
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

    yield SimpleNamespace(data=data, server=server, untouched=untouched, recording=recording,
                          cache=data / "cache")
    server.close()


def test_a_second_online_install_reuses_the_downloads(second, online):
    """Only the monthly Nomis API datasets are fetched again; the store swaps in with the first one kept."""
    second.recording.serve(second.server)
    manifest = install(source=OnlineSource())
    asked = {p for p, _ in second.server.requests}
    assert asked == {"/nomis" + rec.NM162, "/nomis" + rec.NM17}
    assert manifest["previous"] == online.manifest["generation"]
    assert Store(second.data).generation == manifest["generation"]
    pd.testing.assert_frame_equal(Store(second.data).table("indicators", "census_lsoa"),
                                  online.store.table("indicators", "census_lsoa"))


def _one_line(exc) -> str:
    text = str(exc.value)
    assert "\n" not in text and text
    return text


def test_publisher_hanging_up_mid_install_is_an_offline_error(second):
    shutil.rmtree(second.cache)  # download everything again
    path = rec.query_path(rec.SERVICES["lsoa11_boundaries"])
    second.recording.serve(second.server, {path: lambda q: None})
    with pytest.raises(OfflineError) as err:
        install(source=OnlineSource())
    text = _one_line(err)
    assert text.startswith(f"cannot download {dataset('lsoa11_boundaries').title}: 127.0.0.1")
    assert "install --from DIR" in text
    asked = {p for p, _ in second.server.requests}
    assert rec.query_path(rec.SERVICES["ward_boundaries"]) in asked  # it failed part-way through
    assert "/govuk" + rec.IOD25 not in asked
    second.untouched()
    assert not [p for p in second.cache.rglob("*") if p.is_file() and "lsoa11_boundaries" in str(p)]


def _cut_off(handler):
    """The same answer, announced in full but cut off half-way (the connection drops mid-download)."""
    def cut(query):
        status, ctype, body = handler(query)[:3]
        return status, ctype, body[: len(body) // 2], len(body)

    return cut


@pytest.mark.parametrize("ds, path", [
    ("imd2025_lsoa21", "/govuk" + rec.IOD25),
    ("census21_bulk_ts045", "/nomis/output/census/2021/census2021-ts045.zip"),
    ("lsoa21_boundaries", rec.query_path(rec.SERVICES["lsoa21_boundaries"])),
], ids=["govuk-file", "nomis-zip", "arcgis-page"])
def test_a_download_cut_off_part_way_is_an_offline_error(second, ds, path):
    shutil.rmtree(second.cache)
    second.recording.serve(second.server, {path: _cut_off(second.recording.routes[path])})
    with pytest.raises(OfflineError) as err:
        install(source=OnlineSource())
    text = _one_line(err)
    assert text.startswith(f"cannot download {dataset(ds).title}") and "broke off during the download" in text
    second.untouched()
    assert not [p for p in second.cache.rglob("*") if p.is_file() and (ds in str(p) or p.name.startswith("."))]


def test_publisher_error_status_mid_install_names_the_dataset(second):
    shutil.rmtree(second.cache)
    path = rec.query_path(rec.SERVICES["ward23_lad23"])
    second.recording.serve(second.server, {path: lambda q: (503, "text/html", b"<html><title>503</title></html>")})
    with pytest.raises(PublisherError) as err:
        install(source=OnlineSource())
    text = _one_line(err)
    assert text.startswith(f"{dataset('ward23_lad23').title}: 127.0.0.1") and "answered HTTP 503" in text
    second.untouched()


def test_stopped_publishers_leave_the_store_and_the_cli_says_so(second, capsys):
    """Everything but the monthly Nomis API is reused from the cache; that is fetched again, and fails."""
    second.server.close()
    assert cli.main(["install"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"error: cannot download {dataset('claimant_count_lsoa21').title}")
    assert "unreachable" in err
    second.untouched()


def test_nomis_html_error_page_is_refused(second):
    shutil.rmtree(second.cache)
    path = "/nomis/output/census/2021/census2021-ts037.zip"
    second.recording.serve(second.server, {path: lambda q: (200, "text/html; charset=utf-8", pub.HTML_ERROR)})
    with pytest.raises(PublisherError) as err:
        install(source=OnlineSource())
    text = _one_line(err)
    assert text.startswith(dataset("census21_bulk_ts037").title) and "Nomis returned a web page" in text
    assert "Nomis - Error" in text
    second.untouched()
    assert not list(second.cache.rglob("census2021-ts037*"))


@pytest.mark.parametrize("body, expect", [
    ({"error": {"code": 400, "message": "Cannot perform query. Invalid query parameters.",
                "details": ["'outFields' parameter is invalid"]}}, r"answered error 400: Cannot perform query"),
    ({"error": {"code": 499, "message": "Token Required", "details": []}}, r"answered error 499: Token Required"),
    (None, r"no longer has a service named LSOA21_RUC21_EW_LU.*geo/sources\.yaml"),
], ids=["bad-query", "token", "renamed"])
def test_arcgis_error_body_with_http_200_is_refused(second, body, expect):
    shutil.rmtree(second.cache)
    path = rec.query_path(rec.SERVICES["lsoa21_ruc21"])
    if body is None:  # ONS republished the layer under a new name: the old one is an "Invalid URL"
        broken = {path: lambda q: (200, "application/json", json.dumps(pub.ARCGIS_INVALID_URL).encode())}
    else:
        broken = {path: lambda q: (200, "application/json; charset=utf-8", json.dumps(body).encode())}
    second.recording.serve(second.server, broken)
    with pytest.raises(PublisherError, match=expect) as err:
        install(source=OnlineSource())
    assert _one_line(err).startswith(dataset("lsoa21_ruc21").title)
    second.untouched()
