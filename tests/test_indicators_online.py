"""Census bulk tables and IoD files fetched online (recorded responses) go through the same parsers as the mirror."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
import pytest

from geo.errors import OfflineError, PublisherError
from geo.online import OnlineSource, OverlaySource
from geo.sources import MirrorSource
from geo.store import Store
from layers import census
from layers.indicators import available, indicator_table, installed_catalogue, status
from layers.install import install
from tests import publishers as pub

MINI = ["E06000032", "E07000237", "E06000018"]
IOD25 = "/media/691ded56d140bbbaa59a2a7d/File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv"
IOD19 = "/media/5dc407b440f0b6379a7acc8d/File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators_3.csv"
IOD_FILES = ["imd2025_lsoa21.csv", "imd2025_lsoa21_indicators.csv", "imd2019_lsoa11_file1.csv",
             "imd2019_lsoa11_file2.csv", "imd2019_lsoa11_file6_population_denominators.csv"]
ONLINE_IDS = census.BULK_DATASETS + ["imd2025_lsoa21", "imd2019_domains", "imd2019_population"]
MISSING_NO_CAR = 5  # the position of an LSOA left out of the TS045 recording


@pytest.fixture(scope="module")
def recorded(mini_mirror):
    """Every response, built from the mini mirror's LSOAs in the publishers' formats."""
    rng = np.random.default_rng(2021)
    lookup = pd.read_csv(mini_mirror / "lookups/lsoa21_ward24_lad24_ew.csv", dtype=str).sort_values("LSOA21CD")
    codes, names = lookup["LSOA21CD"].tolist(), lookup["LSOA21NM"].tolist()
    n = len(codes)
    counts = {}
    for table in pub.BULK_HEADERS:
        counts[table] = pub.bulk_counts(table, rng.integers(600, 2500, n), rng)
    dis = pd.read_csv(mini_mirror / "indicators/census2021_disability_lsoa21.csv")
    dis = dis.pivot(index="LSOA21CD", columns="disability", values="n").reindex(codes)
    yes, no = dis["Disabled under the Equality Act"].to_numpy(), dis["Not disabled under the Equality Act"].to_numpy()
    ts038 = counts["ts038"]
    ts038[:, 0], ts038[:, 1], ts038[:, 4] = yes + no, yes, no
    ts038[:, 2:4], ts038[:, 5:7] = pub._split(yes, 2, rng), pub._split(no, 2, rng)
    dep = pd.read_csv(mini_mirror / "indicators/census2021_household_deprivation_lsoa21.csv")
    wide = dep.pivot(index="LSOA21CD", columns="deprivation_dimensions", values="n").reindex(codes)
    order = ["not deprived in any", "one", "two", "three", "four"]
    cols = [next(c for c in wide.columns if key in c) for key in order]
    counts["ts011"][:, 1:] = wide[cols].to_numpy()
    counts["ts011"][:, 0] = counts["ts011"][:, 1:].sum(axis=1)
    zips = {}
    for table, values in counts.items():
        keep = [i for i in range(n) if not (table == "ts045" and i == MISSING_NO_CAR)]
        zips[table] = pub.bulk_zip(table, [codes[i] for i in keep], [names[i] for i in keep], values[keep])

    imd = pd.read_csv(mini_mirror / "indicators/imd2025_lsoa21.csv")
    f7 = pd.DataFrame({"LSOA code (2021)": imd["LSOA21CD"], "LSOA name (2021)": imd["LSOA21CD"]})
    stems = dict(zip(["IMD", "Income", "Employment", "Education", "Health", "Crime", "Housing_and_Services", "Environment"],
                     pub.DOMAIN_NAMES))
    for short, name in stems.items():
        rate = " (rate)" if name in ("Income", "Employment") else ""
        f7[f"{name} Score{rate}"] = imd[f"{short}_score"]
        f7[f"{name} Rank (where 1 is most deprived)"] = imd[f"{short}_rank"]
        f7[f"{name} Decile (where 1 is most deprived 10% of LSOAs)"] = imd[f"{short}_decile"]
    f7["Total population: mid 2022"] = rng.integers(1000, 3000, len(f7))
    f7["Working age population 18-66 (for use with Employment Deprivation Domain): mid 2022"] = rng.integers(500, 1800, len(f7))
    file2 = pd.read_csv(mini_mirror / "indicators/imd2019_lsoa11_file2.csv", encoding="utf-8-sig")
    file6 = pd.read_csv(mini_mirror / "indicators/imd2019_lsoa11_file6_population_denominators.csv", encoding="utf-8-sig",
                        thousands=",")
    f19 = file2.merge(file6[["LSOA code (2011)", "Total population: mid 2015 (excluding prisoners)"]], on="LSOA code (2011)")
    return {"codes": codes, "counts": counts, "zips": zips, "file7_2025": f7, "bytes_2025": pub.file7_csv(2025, f7),
            "bytes_2019": pub.file7_csv(2019, f19), "file2": file2}


def _serve(fake_http, recorded, broken: dict | None = None):
    broken = broken or {}
    for table, body in recorded["zips"].items():
        path = f"/output/census/2021/census2021-{table}.zip"
        fake_http.route(path, broken.get(path, lambda q, b=body: (200, "application/zip", b)))
    fake_http.route(IOD25, broken.get(IOD25, lambda q: (200, "text/csv", recorded["bytes_2025"])))
    fake_http.route(IOD19, broken.get(IOD19, lambda q: (200, "text/csv", recorded["bytes_2019"])))


@pytest.fixture()
def online(fake_http, recorded, mini_mirror, tmp_path, monkeypatch):
    """A mini mirror without the IoD files, overlaid with the publishers (the fake server)."""
    monkeypatch.setenv("WARDSCOPE_NOMIS", fake_http.url)
    monkeypatch.setenv("WARDSCOPE_GOVUK", fake_http.url)
    mirror = tmp_path / "mirror"
    shutil.copytree(mini_mirror, mirror)
    for name in IOD_FILES:
        (mirror / "indicators" / name).unlink()
    source = OverlaySource(MirrorSource(mirror), OnlineSource(tmp_path / "cache"), ONLINE_IDS)
    return source, tmp_path / "store", mirror


def test_online_install_parses_the_bulk_tables_and_iod_files(online, fake_http, recorded, store):
    source, root, _ = online
    _serve(fake_http, recorded)
    install(source=source, root=root)
    mine = Store(root)
    codes = recorded["codes"]
    c = recorded["counts"]
    lsoa = indicator_table("lsoa", store=mine).set_index("code").reindex(codes)
    ts066 = c["ts066"]
    assert np.allclose(lsoa["census21_inactive_pct"], 100 * ts066[:, 25] / ts066[:, 0])
    assert np.allclose(lsoa["census21_unemployed_pct__num"], ts066[:, 12] + ts066[:, 24])
    assert np.allclose(lsoa["census21_poor_english_pct__num"], c["ts029"][:, 5] + c["ts029"][:, 6])
    assert np.allclose(lsoa["census21_unpaid_carers_pct__den"], c["ts039"][:, 0])
    assert np.allclose(lsoa["census21_pop_16_64"], c["ts007"][:, 4:9].sum(axis=1))
    assert np.isnan(lsoa["census21_no_car_pct"].iloc[MISSING_NO_CAR]) and lsoa["census21_no_car_pct"].notna().sum() == len(codes) - 1
    # the tables that are real counts in the mirror give the same figures online
    real = indicator_table("lsoa", MINI, ["census21_disabled_pct", "census21_hh_deprived_3plus_pct"], store=store)
    real = real.set_index("code").reindex(codes)
    for col in ("census21_disabled_pct__num", "census21_disabled_pct__den", "census21_hh_deprived_3plus_pct__num"):
        assert (lsoa[col] == real[col]).all(), col
    # wards sum their LSOAs' counts; the LSOA with no TS045 row counts in neither part
    ward = indicator_table("ward", ids=["census21_no_car_pct"], store=mine).set_index("code")
    index = mine.table("indicators", "index_lsoa").set_index("code").reindex(codes)
    by_ward = lsoa.assign(ward=index["ward_code"]).groupby("ward")[["census21_no_car_pct__num", "census21_no_car_pct__den"]].sum()
    assert np.allclose(ward.loc[by_ward.index, "census21_no_car_pct__den"], by_ward["census21_no_car_pct__den"])
    catalogue = installed_catalogue(mine).set_index("id")
    assert not catalogue.loc[census.RATE_IDS, "estimate"].astype(bool).any()
    assert "Nomis bulk table TS066" in catalogue.at["census21_inactive_pct", "method"]


def test_online_iod_matches_the_published_values(online, fake_http, recorded, store):
    source, root, _ = online
    _serve(fake_http, recorded)
    install(source=source, root=root)
    mine = Store(root)
    ids = ["imd2025_decile", "imd2025_rank", "imd2025_employment_score"]
    got = indicator_table("lsoa", ids=ids, store=mine).set_index("code")
    real = indicator_table("lsoa", MINI, ids, store=store).set_index("code").reindex(got.index)
    assert (got[ids] == real[ids]).all().all()
    f7 = recorded["file7_2025"].set_index("LSOA code (2021)").reindex(got.index)
    index = mine.table("indicators", "index_lsoa").set_index("code").reindex(got.index)
    pop = f7["Working age population 18-66 (for use with Employment Deprivation Domain): mid 2022"]
    expected = (got["imd2025_employment_score"] * pop).groupby(index["ward_code"]).sum() / pop.groupby(index["ward_code"]).sum()
    ward = indicator_table("ward", ids=["imd2025_employment_score"], store=mine).set_index("code")
    assert np.allclose(ward.loc[expected.index, "imd2025_employment_score"], expected)
    assert "File 7" in installed_catalogue(mine).set_index("id").at["imd2025_score", "note"]
    ids19 = ["imd2019_rank", "imd2019_decile", "imd2019_health_decile"]
    got19 = indicator_table("lsoa11", ids=ids19, store=mine).set_index("code")
    real19 = indicator_table("lsoa11", MINI, ids19, store=store).set_index("code").reindex(got19.index)
    assert (got19 == real19[got19.columns]).all().all()
    # File 8 numerators are not published as CSV: not installed online, and said so
    assert "imd2025_income_count" not in available("lsoa", mine)
    asked = [path for path, _ in fake_http.requests]
    assert asked.count(IOD19) == 1 and asked.count("/output/census/2021/census2021-ts066.zip") == 1


def test_same_parser_reads_bulk_zips_from_a_mirror(online, fake_http, recorded, tmp_path):
    source, root, mirror = online
    _serve(fake_http, recorded)
    install(source=source, root=root)
    for table, body in recorded["zips"].items():
        path = mirror / "indicators" / "nomis_bulk" / f"census2021-{table}.zip"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    offline = OverlaySource(MirrorSource(mirror), OnlineSource(tmp_path / "cache"), ONLINE_IDS)
    install(source=offline, root=tmp_path / "store2")
    a = Store(root).table("indicators", "census_lsoa")
    b = Store(tmp_path / "store2").table("indicators", "census_lsoa")
    pd.testing.assert_frame_equal(a, b)


def test_a_nomis_error_page_leaves_census_not_installed_and_nothing_cached(online, fake_http, recorded):
    """Census 2021 is optional: an error page for one of its tables leaves it out, with why, and installs the rest."""
    source, root, _ = online
    path = "/output/census/2021/census2021-ts066.zip"
    _serve(fake_http, recorded, {path: lambda q: (200, "text/html; charset=utf-8", pub.HTML_ERROR)})
    manifest = install(source=source, root=root)
    note = next(n for n in manifest["notes"] if n.startswith("Census 2021 not installed"))
    assert re.search(r"TS066 economic activity.*Nomis returned a web page, not the data \('Nomis - Error'\)", note)
    assert note.endswith("To retry just it: python cli.py install --only census") and "\n" not in note
    mine = Store(root)
    assert not mine.has("indicators", "census_lsoa") and mine.has("indicators", "iod2025_lsoa")
    assert status(mine).set_index("id").at["census21_inactive_pct", "installed"].endswith(
        "to install just it: python cli.py install --only census")
    assert not list(source.secondary.cache.rglob("census2021-ts066*"))
    assert [p for p, _ in fake_http.requests].count(path) == 1  # a web page is not asked for again


def test_govuk_http_error_names_the_dataset(online, fake_http, recorded):
    source, root, _ = online
    _serve(fake_http, recorded, {IOD25: lambda q: (404, "text/html", b"<html>Not found</html>")})
    with pytest.raises(PublisherError, match=r"Indices of Deprivation 2025.*answered HTTP 404"):
        install(source=source, root=root)
    assert not (root / "store.json").exists()


def test_unreachable_publisher_is_an_offline_error(online, monkeypatch):
    source, root, _ = online
    monkeypatch.setenv("WARDSCOPE_GOVUK", "http://127.0.0.1:9")
    with pytest.raises(OfflineError, match="unreachable.*install --from DIR"):
        install(source=source, root=root)
    assert not (root / "store.json").exists()


def test_online_source_hooks(tmp_path, monkeypatch):
    import sys
    import types

    from geo.errors import MissingSourceFile

    calls = []

    def fake_fetch(ds, dest, dl):
        calls.append((ds.id, dest))
        dest.write_text('{"type": "FeatureCollection", "features": []}')
        return dest

    monkeypatch.setitem(sys.modules, "geo.arcgis", types.SimpleNamespace(fetch_arcgis=fake_fetch))
    source = OnlineSource(tmp_path / "cache")
    assert source.has("lad_boundaries")
    path = source.path("lad_boundaries")
    assert calls == [("lad_boundaries", path)] and path.parent == tmp_path / "cache" / "lad_boundaries"
    assert source.path("lad_boundaries") == path and len(calls) == 1  # fetched once per install
    assert OnlineSource(tmp_path / "cache").path("lad_boundaries") == path and len(calls) == 1  # and kept after it
    assert not source.has("imd2025_indicators")
    with pytest.raises(MissingSourceFile, match="cannot be downloaded automatically.*install --from DIR"):
        source.path("imd2025_indicators")
