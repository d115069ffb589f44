"""Install from a mirror: atomic, idempotent, and refusing bad files without changing the store."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from geo.errors import CRSError, GSSCodeError, MissingSourceFile, SourceFileError, StoreNotInstalled
from geo.store import Store
from layers.install import install


def _copy(mini_mirror, tmp_path):
    dst = tmp_path / "mirror"
    shutil.copytree(mini_mirror, dst)
    return dst


def test_install_builds_every_level(mini_mirror, tmp_env):
    manifest = install(mini_mirror)
    store = Store()
    assert manifest["generation"] == store.generation
    lad = store.boundaries("lad")
    assert set(lad["code"]) == {"E06000032", "E07000237", "E06000018"}
    assert lad.crs.to_epsg() == 27700
    lsoa = store.boundaries("lsoa")
    official = pd.read_csv(mini_mirror / "lookups/lsoa21_ward24_lad24_ew.csv", dtype=str)
    assert len(lsoa) == len(official)
    assert (lsoa.set_index("code")["ward_code"] == official.set_index("LSOA21CD")["WD24CD"].reindex(lsoa["code"])).all()
    ward = store.boundaries("ward", ["E07000237"])
    # Worcester was re-warded in 2024: its 16 WD24 wards are drawn from LSOAs and say so
    assert len(ward) == 16
    assert ward["geometry_source"].str.startswith("union of best-fit LSOA").all()
    assert store.boundaries("ward", ["E06000032"])["geometry_source"].str.startswith("ONS Wards").all()
    superseded = store.table("boundaries", "ward_superseded")
    assert set(superseded["lad_code"]) == {"E07000237"} and len(superseded) == 15
    assert store.boundaries("lsoa11").crs.to_epsg() == 27700
    assert "lsoa21_boundaries" in manifest["datasets"]
    assert "Open Government Licence" in manifest["datasets"]["lsoa21_boundaries"]["attribution"]


def test_reinstall_is_idempotent_and_keeps_one_previous(mini_mirror, tmp_env):
    first = install(mini_mirror)
    a = Store().boundaries("lsoa")
    second = install(mini_mirror)
    b = Store().boundaries("lsoa")
    assert second["previous"] == first["generation"]
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry")))
    assert a.geometry.geom_equals(b.geometry).all()
    install(mini_mirror)
    generations = {p.name for p in (tmp_env / "data" / "boundaries").iterdir() if p.is_dir()}
    assert len(generations) == 2  # current and previous only


def test_failed_install_leaves_previous_store_working(mini_mirror, tmp_env, monkeypatch):
    install(mini_mirror)
    before = Store()
    pointer = (tmp_env / "data" / "store.json").read_text()

    import geo.install as gi

    def boom(source, writer, ctx):
        raise RuntimeError("power cut")

    steps = list(gi.GEO_STEPS)
    steps.insert(3, gi.Step("interrupted", boom))
    monkeypatch.setattr("layers.install.install_steps", lambda: steps)
    with pytest.raises(RuntimeError):
        install(mini_mirror)
    assert (tmp_env / "data" / "store.json").read_text() == pointer
    after = Store()
    assert after.generation == before.generation
    assert len(after.boundaries("lsoa")) == len(before.boundaries("lsoa"))
    leftovers = [p for p in (tmp_env / "data" / "boundaries").iterdir() if p.is_dir() and p.name != before.generation]
    assert leftovers == []


def test_no_store_gives_install_command(tmp_env):
    with pytest.raises(StoreNotInstalled, match="python cli.py install"):
        Store()


def test_missing_file_names_file_and_publisher(mini_mirror, tmp_path, tmp_env):
    bad = _copy(mini_mirror, tmp_path)
    (bad / "lookups/lsoa21_population_weighted_centroids.csv").unlink()
    with pytest.raises(MissingSourceFile) as err:
        install(bad)
    message = str(err.value)
    assert "lookups/lsoa21_population_weighted_centroids.csv" in message
    assert "Office for National Statistics" in message and "Population Weighted Centroids" in message
    assert not (tmp_env / "data" / "store.json").exists()


def test_truncated_geojson_is_refused(mini_mirror, tmp_path, tmp_env):
    bad = _copy(mini_mirror, tmp_path)
    path = bad / "boundaries/lsoa_2021_ew_bsc.geojson"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(SourceFileError, match="lsoa_2021_ew_bsc.geojson: cannot read"):
        install(bad)


def test_truncated_csv_is_refused(mini_mirror, tmp_path, tmp_env):
    bad = _copy(mini_mirror, tmp_path)
    path = bad / "lookups/lsoa21_ward24_lad24_ew.csv"
    text = path.read_text()
    path.write_text(text[: len(text) // 2].rsplit(",", 2)[0])
    with pytest.raises(SourceFileError, match=r"lsoa21_ward24_lad24_ew.csv: row \d+ has no value"):
        install(bad)


def test_geojson_in_metres_without_crs_is_refused(mini_mirror, tmp_path, tmp_env):
    bad = _copy(mini_mirror, tmp_path)
    path = bad / "boundaries/lad_may2024_uk_buc.geojson"
    import geopandas as gpd

    gdf = gpd.read_file(path).to_crs(27700)
    text = json.loads(gdf.to_json())
    text.pop("crs", None)
    path.write_text(json.dumps(text))
    with pytest.raises(CRSError, match="look like British National Grid metres"):
        install(bad)


def test_unexpected_crs_is_refused(mini_mirror, tmp_path, tmp_env):
    bad = _copy(mini_mirror, tmp_path)
    import geopandas as gpd

    src = bad / "boundaries/lad_may2024_uk_buc.geojson"
    gdf = gpd.read_file(src).to_crs(3857)
    src.unlink()
    gpkg = bad / "boundaries/lad_may2024_uk_buc.geojson"
    gdf.to_file(gpkg, driver="GeoJSON", RFC7946="NO", WRITE_NAME="NO")
    with pytest.raises(CRSError, match="unexpected coordinate reference system"):
        install(bad)


def test_duplicate_codes_are_refused(mini_mirror, tmp_path, tmp_env):
    bad = _copy(mini_mirror, tmp_path)
    path = bad / "boundaries/lsoa_2021_ew_bsc.geojson"
    data = json.loads(path.read_text())
    data["features"].append(data["features"][0])
    path.write_text(json.dumps(data))
    with pytest.raises(GSSCodeError, match="duplicate LSOA 2021 code 'E01"):
        install(bad)


def test_unknown_codes_are_refused(mini_mirror, tmp_path, tmp_env):
    bad = _copy(mini_mirror, tmp_path)
    path = bad / "lookups/lsoa21_population_weighted_centroids.csv"
    with open(path, "a") as handle:
        handle.write("E01999999,-0.4,51.9\n")
    with pytest.raises(GSSCodeError, match="E01999999"):
        install(bad)


def test_malformed_code_is_refused(mini_mirror, tmp_path, tmp_env):
    bad = _copy(mini_mirror, tmp_path)
    path = bad / "lookups/lsoa21_ward24_lad24_ew.csv"
    lines = path.read_text().splitlines()
    lines[1] = "E0101X," + lines[1].split(",", 1)[1]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(GSSCodeError, match="not GSS codes"):
        install(bad)
