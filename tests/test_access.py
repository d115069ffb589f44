"""The access layer: real South Midlands data with the sample sites, ward weighting, the access gap, the CLI."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.errors import WardscopeError
from geo.employment_sites import sample_sites
from layers.access import access_gap, access_layer, access_lsoa, access_ward
from tests.osmfile import write_osm

ROOT = Path(__file__).resolve().parent.parent
LUTON, CENTRAL_BEDS = "E06000032", "E06000056"


@pytest.fixture(scope="module")
def south_midlands_bus(store):
    return access_layer("South Midlands", sample_sites(store), ("bus",), level="lsoa", engine="estimate", store=store)


def test_every_south_midlands_lsoa_has_a_bus_estimate(store, south_midlands_bus):
    frame = south_midlands_bus
    from geo.areas import resolve_area

    area = resolve_area("South Midlands", store.districts())
    expected = store.boundaries("lsoa", area.lad_codes)
    assert sorted(frame["code"]) == sorted(expected["code"]) and frame["code"].is_unique
    assert frame["access_bus_nearest_min"].notna().all() and (frame["access_bus_nearest_min"] > 0).all()
    assert {"access_bus_sites_30min", "access_jobs_45min_bus", "access_bus_min__luton_airport"} <= set(frame.columns)
    assert "estimate" in " ".join(frame.attrs["notes"])
    assert "cumulative opportunities" in frame.attrs["columns"]["access_jobs_45min_bus"]


def test_bus_minutes_match_an_independent_calculation(store, south_midlands_bus):
    sites = sample_sites(store)
    lsoa = store.boundaries("lsoa", [LUTON, CENTRAL_BEDS]).set_index("code")
    frame = south_midlands_bus.set_index("code").loc[lsoa.index]
    d = np.hypot(lsoa["pwc_x"].to_numpy()[:, None] - sites.geometry.x.to_numpy()[None, :],
                 lsoa["pwc_y"].to_numpy()[:, None] - sites.geometry.y.to_numpy()[None, :]).min(axis=1)
    rural = (lsoa["urban_rural"] == "Rural").to_numpy()
    assert 20 < rural.sum() < len(rural)  # rural Central Bedfordshire, urban Luton
    # urban: circuity 1.2, 20-minute headway, 20 km/h; rural: walk circuity 1.3, hourly, bus 1.4 at 28 km/h
    walk = d * np.where(rural, 1.3, 1.2) / 80
    bus = 10 + np.where(rural, 30, 10) + d * np.where(rural, 1.4 / (28000 / 60), 1.2 / (20000 / 60))
    assert np.allclose(frame["access_bus_nearest_min"], np.minimum(walk, bus))
    assert (frame["urban_rural"] == lsoa["urban_rural"]).all()  # the output says which figures it used


def test_luton_near_the_airport_is_quicker_than_rural_central_bedfordshire(store, south_midlands_bus):
    lsoa = store.boundaries("lsoa", [LUTON, CENTRAL_BEDS]).set_index("code")
    frame = south_midlands_bus.set_index("code")
    airport = sample_sites(store).set_index("site_id").geometry["luton_airport"]
    near = lsoa[(lsoa["lad_code"] == LUTON) & (np.hypot(lsoa["pwc_x"] - airport.x, lsoa["pwc_y"] - airport.y) < 2000)]
    rural = lsoa[(lsoa["lad_code"] == CENTRAL_BEDS) & (lsoa["urban_rural"] == "Rural")]
    assert len(near) >= 5 and len(rural) >= 20
    near_min = frame.loc[near.index, "access_bus_nearest_min"]
    rural_min = frame.loc[rural.index, "access_bus_nearest_min"]
    assert near_min.max() < rural_min.median()
    assert (near_min.max() < rural_min).mean() > 0.9
    assert near_min.max() < 40
    assert (frame.loc[near.index, "access_bus_min__luton_airport"] <= 40).all()


def test_ward_figures_are_population_weighted():
    lsoa = pd.DataFrame({"code": ["L1", "L2", "L3", "L4"], "ward_code": ["W1", "W1", "W1", "W2"],
                         "access_bus_nearest_min": [10.0, 40.0, np.nan, 25.0],
                         "access_jobs_45min_bus": [1000.0, 0.0, 0.0, 500.0]})
    lsoa.attrs["columns"] = {"access_bus_nearest_min": "minutes to the nearest site by bus"}
    wards = pd.DataFrame({"code": ["W1", "W2"], "name": ["One", "Two"], "lad_code": ["E1", "E1"], "lad_name": ["D", "D"]})
    pop = pd.Series({"L1": 3000, "L2": 1000, "L3": 1000, "L4": 1500})
    out = access_ward(lsoa, pop, wards).set_index("code")
    assert out.loc["W1", "access_bus_nearest_min"] == pytest.approx((10 * 3000 + 40 * 1000) / 4000)
    assert out.loc["W1", "access_jobs_45min_bus"] == pytest.approx(1000 * 3000 / 5000)
    assert out.loc["W1", "access_bus_unreachable_pct"] == pytest.approx(20.0)
    assert out.loc["W2", "access_bus_nearest_min"] == 25 and out.loc["W1", "n_lsoa"] == 3
    assert "population-weighted" in out.attrs["weighting"]
    assert "population-weighted" in out.attrs["columns"]["access_bus_nearest_min"]
    equal = access_ward(lsoa, None, wards).set_index("code")
    assert equal.loc["W1", "access_bus_nearest_min"] == pytest.approx(25.0)
    assert "equal-weighted" in equal.attrs["notes"][-1]
    with pytest.raises(WardscopeError, match="no population for 1 LSOA"):
        access_ward(lsoa, pop.drop("L4"), wards)


def test_ward_level_layer_covers_the_area(store):
    out = access_layer("Luton", sample_sites(store), ("walk",), level="ward", engine="estimate", store=store)
    wards = store.boundaries("ward", [LUTON])
    assert set(out["code"]) <= set(wards["code"]) and len(out) == (wards["n_lsoa"] > 0).sum()
    assert list(out.columns[:4]) == ["code", "name", "lad_code", "lad_name"]
    assert any("ward figures are" in n for n in out.attrs["notes"])


def test_access_gap_needs_all_three_conditions():
    access = pd.DataFrame({"code": list("ABCDEF"),
                           "access_bus_nearest_min": [70.0, 20.0, 70.0, 70.0, np.nan, 70.0],
                           "access_walk_nearest_min": [90.0, 90.0, 90.0, 30.0, np.nan, 90.0]})
    priority = pd.DataFrame({"code": list("ABCDE"), "band": ["top 10%", "top 10%", "other", "top 20%", "top 20%"], "score": 1.0})
    no_car = pd.DataFrame({"code": list("ABCDEF"), "value": [40.0, 40.0, 40.0, 40.0, 35.0, 10.0]})
    out = access_gap(access, priority, no_car, no_car_pct_min=30).set_index("code")
    assert out.loc["A", "access_gap"] == True  # noqa: E712  far, top10, 40% no car
    assert out.loc["B", "access_gap"] == False  # noqa: E712  20 min by bus
    assert out.loc["C", "access_gap"] == False  # noqa: E712  not a priority area
    assert out.loc["D", "access_gap"] == False  # noqa: E712  30 min on foot
    assert out.loc["D", "access_gap_best_mode"] == "walk" and out.loc["D", "access_gap_best_min"] == 30
    assert out.loc["E", "access_gap"] == True  # noqa: E712  no site reachable counts as far
    assert pd.isna(out.loc["F", "access_gap"])  # no priority band: unknown, not "no gap"
    assert out.loc["A", "access_gap_reason"].startswith("gap: priority top 10%, nearest site 70 min by bus")
    median = access_gap(access, priority, no_car)
    assert median.attrs["thresholds"]["no_car_pct_min"] == 40.0
    by_score = access_gap(access, priority.drop(columns="band").assign(score=[5, 4, 3, 2, 1]), no_car,
                          no_car_pct_min=30).set_index("code")
    # Highest of five scores is the top 20% (not the top 10%); the third is "other".
    assert by_score.loc["A", "priority_band"] == "top 20%" and by_score.loc["C", "priority_band"] == "other"
    assert by_score.loc["A", "access_gap"] == True  # noqa: E712
    with pytest.raises(WardscopeError, match="compute access by bus or walk"):
        access_gap(access[["code"]], priority, no_car)


def test_network_origins_off_the_network_are_noted_never_short(tmp_path):
    x0, y0 = 510_000.0, 220_000.0
    nodes = {1: (x0, y0), 2: (x0 + 1000, y0), 3: (x0 + 2000, y0)}
    path = write_osm(tmp_path / "strip.osm.pbf", nodes, [(1, [1, 2, 3], {"highway": "residential"})])
    origins = gpd.GeoDataFrame({"code": ["A", "B"], "ward_code": ["W", "W"]},
                               geometry=gpd.points_from_xy([x0 + 100, x0 + 1000], [y0 + 50, y0 + 1500]), crs=27700)
    sites = gpd.GeoDataFrame({"site_id": ["s"], "name": ["Site"], "jobs": [100.0]},
                             geometry=gpd.points_from_xy([x0 + 2000], [y0]), crs=27700)
    out = access_lsoa(origins, sites, ("walk",), engine="network", network=path).set_index("code")
    # Snapped to the road 50 m away (walked at 1.2 x the line), then the remaining 1.9 km of road at 80 m/min.
    assert out.loc["A", "access_walk_nearest_min"] == pytest.approx(50 * 1.2 / 80 + 1900 / 80, rel=1e-4)
    assert out.loc["A", "access_jobs_30min_walk"] == 100
    assert np.isnan(out.loc["B", "access_walk_nearest_min"]) and out.loc["B", "access_walk_sites_60min"] == 0
    assert out.loc["B", "access_walk_note"] == "no walk route within 500 m"
    assert out.loc["B", "access_jobs_60min_walk"] == 0


def run_cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True, cwd=ROOT)


def test_cli_access_csv(store, mirror):
    out = run_cli("access", "--sites", str(mirror / "places/employment_sites_named_in_plans.csv"), "--mode", "bus",
                  "--engine", "estimate", "--level", "lsoa", "--area", "Luton", "--format", "csv")
    assert out.returncode == 0, out.stderr
    frame = pd.read_csv(io.StringIO(out.stdout))
    assert list(frame.columns[:4]) == ["code", "name", "lad_code", "lad_name"]
    assert len(frame) == len(store.boundaries("lsoa", [LUTON])) and frame["access_bus_nearest_min"].notna().all()
    assert "note: times are estimates" in out.stderr


def test_cli_access_errors_are_one_line(tmp_path, store):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,latitude,longitude\nSwapped,-0.4,51.9\n")
    out = run_cli("access", "--sites", str(bad), "--mode", "bus", "--area", "Luton")
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "look swapped" in out.stderr
    out = run_cli("access", "--sites", "sample", "--mode", "walk", "--engine", "network", "--area", "Luton")
    assert out.returncode == 2 and "needs --network" in out.stderr
    small = write_osm(tmp_path / "small.osm.pbf", {1: (509_000.0, 221_000.0), 2: (509_500.0, 221_000.0)},
                      [(1, [1, 2], {"highway": "residential"})])
    out = run_cli("access", "--sites", "sample", "--mode", "walk", "--engine", "network", "--network", str(small),
                  "--area", "Luton")
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "does not cover the area" in out.stderr


def test_access_minutes_join_a_scoring_profile_like_any_indicator(store):
    """Minutes to the nearest site, added to a profile, move remote priority areas up the ranking."""
    from dataclasses import replace

    from layers.access import access_indicators, access_layer
    from layers.profiles import ProfileIndicator, load_profile
    from layers.scoring import score_area

    from geo.employment_sites import sample_sites

    frame = access_layer("South Midlands", sample_sites(store), ("bus",), level="ward", store=store)
    extra, entries = access_indicators(frame, ["bus"])
    base = load_profile("neighbourhood")
    plain = score_area(base, "South Midlands", level="ward", store=store).areas.set_index("code")
    profile = replace(base, indicators=base.indicators + (ProfileIndicator("access_bus_nearest_min", 4.0),))
    scored = score_area(profile, "South Midlands", level="ward", store=store, extra=extra, extra_registry=entries)
    areas = scored.areas.set_index("code")
    assert "access_bus_nearest_min" in scored.indicators and "contrib__access_bus_nearest_min" in areas
    minutes = extra.set_index("code")["access_bus_nearest_min"]
    far = minutes.idxmax()
    near = minutes.idxmin()
    assert areas.loc[far, "contrib__access_bus_nearest_min"] > areas.loc[near, "contrib__access_bus_nearest_min"]
    assert areas.loc[far, "rank"] < plain.loc[far, "rank"]  # the most remote ward moves up


def test_sites_without_a_job_count_are_unknown_not_zero(store, south_midlands_bus):
    """Sample sites mostly lack job counts: an LSOA whose sites in reach all lack one shows NaN, never 0."""
    frame = south_midlands_bus
    sites = sample_sites(store)
    known = pd.to_numeric(sites["jobs"], errors="coerce").notna().to_numpy()
    assert 0 < known.sum() < len(sites)
    minutes = frame[[f"access_bus_min__{sid}" for sid in sites["site_id"]]].to_numpy()
    for t in (30, 45, 60):
        within = minutes <= t
        assert (frame[f"access_bus_sites_{t}min"].to_numpy() == within.sum(axis=1)).all()
        assert (frame[f"access_bus_sites_nojobs_{t}min"].to_numpy() == (within & ~known).sum(axis=1)).all()
        only_unknown = within.any(axis=1) & ~(within & known).any(axis=1)
        jobs = frame[f"access_jobs_{t}min_bus"].to_numpy()
        assert np.isnan(jobs[only_unknown]).all()
        assert not (jobs == 0)[within.any(axis=1)].any()
    assert (frame["access_bus_sites_nojobs_45min"] > 0).any()
    assert np.isnan(frame["access_jobs_45min_bus"]).any()


def test_many_sites_path_keeps_unknown_jobs_unknown(store, south_midlands_bus):
    """The fast summary (no per-site columns) gives the same sites and known jobs within reach."""
    fast = access_layer("South Midlands", sample_sites(store), ("bus",), level="lsoa", engine="estimate",
                        store=store, per_site=False).set_index("code")
    full = south_midlands_bus.set_index("code").loc[fast.index]
    for col in ("access_bus_sites_45min", "access_bus_sites_nojobs_45min", "access_jobs_45min_bus"):
        pd.testing.assert_series_equal(fast[col], full[col], check_dtype=False)
