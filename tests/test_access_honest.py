"""Honest access figures on the real store with the sample sites (South Midlands, Luton): unknown jobs are never
0, the notes count the sites without a job count, gravity only when every site has one, names instead of ids,
exports at full precision, and the nearest site outside an area's district flagged."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo.areas import resolve_area
from geo.employment_sites import sample_sites
from layers.access import GRAVITY_DECAY_MIN, access_layer
from layers.access_view import (DFT_COLUMNS, GAP_COLUMNS, access_map, catchment, dft_comparison, gap_table,
                                measured_to, site_districts)

ROOT = Path(__file__).resolve().parent.parent
LUTON, NORTH_NORTHANTS = "E06000032", "E06000061"


@pytest.fixture(scope="module")
def area(store):
    return resolve_area("South Midlands", store.districts())


@pytest.fixture(scope="module")
def result(store, area):
    from app_pages.requests import access_request
    from tasks import access

    return access.run(access_request(area, "lsoa", sample_sites(store), "bus", "estimate", None), store)


@pytest.fixture(scope="module")
def scored(store, area):
    from layers.profiles import load_profile
    from layers.scoring import score_area

    return score_area(load_profile("neighbourhood"), area, level="lsoa", store=store)


@pytest.fixture(scope="module")
def table(store):
    from layers.indicators import available, england_table

    return england_table("lsoa", available("lsoa", store=store), store)


def test_unknown_jobs_are_never_zero_and_the_sites_without_a_count_are_counted(store, result):
    sites = sample_sites(store)
    assert sites["jobs"].notna().sum() == 1  # Universal (Kempston Hardwick) only
    assert any(n.startswith("10 of 11 sites have no job count") for n in result.notes)
    frame = result.data
    known = sites.set_index("site_id")["jobs"].dropna()
    for t in (30, 45, 60):
        jobs, n = frame[f"access_jobs_{t}min_bus"], frame[f"access_bus_sites_{t}min"]
        unknown = frame[f"access_bus_sites_nojobs_{t}min"]
        within = frame[f"access_bus_min__{known.index[0]}"] <= t
        # 0 jobs only where no site at all is within reach; blank where every site within reach lacks a count
        assert (n[jobs == 0] == 0).all()
        assert jobs[(n > 0) & ~within].isna().all() and (unknown[(n > 0) & ~within] == n[(n > 0) & ~within]).all()
        assert (jobs[within] == known.iloc[0]).all() and (unknown[within] == n[within] - 1).all()
        assert ((n > 0) & ~within).any() and within.any()  # both cases happen in South Midlands


def test_gravity_only_when_every_site_has_a_job_count(store, result):
    assert "access_bus_gravity" not in result.data.columns
    assert "no gravity accessibility score: it needs a job count for every site" in result.notes
    sites = sample_sites(store)
    sites["jobs"] = np.arange(1, len(sites) + 1) * 100.0
    frame = access_layer("Luton", sites, ("bus",), level="lsoa", engine="estimate", store=store)
    assert "every site has a job count (11 of 11)" in frame.attrs["notes"]
    minutes = frame[[f"access_bus_min__{s}" for s in sites["site_id"]]].to_numpy()
    expected = (sites["jobs"].to_numpy()[None, :] * np.exp(-minutes / GRAVITY_DECAY_MIN)).sum(axis=1)
    assert np.allclose(frame["access_bus_gravity"], expected) and (frame["access_bus_gravity"] > 0).all()
    assert f"exp(-minutes / {GRAVITY_DECAY_MIN:g})" in frame.attrs["columns"]["access_bus_gravity"]


def test_names_not_ids_in_the_gap_table_the_tooltips_and_the_catchment(store, area, result, scored, table):
    sites = sample_sites(store)
    frame = result.data
    gaps = gap_table(frame, scored, table, "bus", 45, sites=sites, site_lads=site_districts(store, sites))
    shown = set(gaps[GAP_COLUMNS["nearest"]].dropna())
    assert shown and shown <= set(sites["name"]) and not shown & set(sites["site_id"])
    md, _ = access_map(store, area, "lsoa", frame, "bus", sites=sites)
    assert not any(sid in text for text in md.gdf["shown"] for sid in sites["site_id"])
    assert md.gdf["shown"].str.contains(" min to The Stage on Bute Street").any()
    assert frame["access_bus_nearest_site_name"].isin(sites["name"]).all()
    # minutes for people are whole; the layer keeps full precision
    assert gaps[GAP_COLUMNS["minutes"]].str.fullmatch(r"\d+|unreachable").all()
    inside, _ = catchment(frame, table, "bus", "luton_airport", 45)
    assert pd.api.types.is_integer_dtype(inside["Minutes"]) and len(inside) > 20
    sentence = measured_to(sites, gaps)
    assert sentence.startswith("Measured to the 11 sites in this session: Universal Destinations")


def test_nearest_site_outside_the_district_is_flagged(store, result, scored, table):
    sites = sample_sites(store)
    lads = site_districts(store, sites)
    assert lads["luton_airport"] == LUTON and NORTH_NORTHANTS not in set(lads)
    gaps = gap_table(result.data, scored, table, "bus", 45, sites=sites, site_lads=lads)
    flag = gaps.set_index(GAP_COLUMNS["name"])[GAP_COLUMNS["outside"]]
    district = gaps.set_index(GAP_COLUMNS["name"])[GAP_COLUMNS["lad_name"]]
    assert (flag[district == "North Northamptonshire"] == "yes").all() and (district == "North Northamptonshire").any()
    assert (flag[district == "Luton"] == "no").all() and (district == "Luton").any()
    n = int((flag == "yes").sum())
    assert f"{n} of these {len(flag)} areas have their nearest site outside their own district" in measured_to(sites, gaps)


def test_exports_keep_full_precision(store, result, tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "access", "--sites", "sample", "--mode", "bus,walk",
                          "--area", "South Midlands", "--level", "lsoa", "--format", "csv"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "10 of 11 sites have no job count" in out.stderr
    csv = pd.read_csv(io.StringIO(out.stdout)).set_index("code")
    ours = result.data.set_index("code")
    minutes = csv.loc[ours.index, "access_bus_nearest_min"]
    assert np.allclose(minutes, ours["access_bus_nearest_min"], rtol=0, atol=1e-9)
    assert (minutes.round(2) != minutes).mean() > 0.9  # not rounded to 2 dp any more
    # unknown jobs stay blank in the export, never 0
    jobs = csv["access_jobs_45min_bus"]
    assert jobs.isna().any() and (csv.loc[jobs == 0, "access_bus_sites_45min"] == 0).all()


def test_dft_district_average_beside_ours(store, area, result, table):
    dft = dft_comparison(store, area, result.data, table, "bus")
    luton = dft.set_index("District").loc["Luton"]
    published = store.table("indicators", "labour_market_lad", [LUTON]).set_index("code")[DFT_COLUMNS["bus"]][LUTON]
    assert luton["DfT (minutes, its employment centres)"] == f"{published:.0f}"
    ours = result.data[result.data["lad_code"] == LUTON]
    assert luton["Areas reaching no site"] == 0
    assert ours["access_bus_nearest_min"].min() <= float(luton["Wardscope (minutes, your sites)"]) \
        <= ours["access_bus_nearest_min"].max()
    assert luton["DfT year"] == "2019"
    assert dft.set_index("District").loc["North Northamptonshire", "DfT year"] == ""  # formed 2021: no figure
    assert dft_comparison(store, area, result.data, table, "walk") is None


def test_gravity_is_the_same_without_per_site_columns(store):
    """Over 50 sites the layer has no per-site columns; gravity still comes from every journey."""
    from layers.access import access_lsoa, lsoa_centroids

    sites = sample_sites(store)
    sites["jobs"] = 500.0
    origins = lsoa_centroids(store, [LUTON], urban_rural=True)
    with_columns = access_lsoa(origins, sites, ("car",), engine="estimate", per_site=True)
    without = access_lsoa(origins, sites, ("car",), engine="estimate", per_site=False)
    assert not any("__" in c for c in without.columns)
    assert np.allclose(with_columns["access_car_gravity"], without["access_car_gravity"])
    assert (without["access_car_nearest_site_name"] == with_columns["access_car_nearest_site_name"]).all()


def test_the_tooltip_says_sites_and_known_jobs_within_reach_never_0_for_unknown(store, area, result):
    sites = sample_sites(store)
    md, _ = access_map(store, area, "lsoa", result.data, "bus", sites=sites)
    reach = md.gdf.set_index("code")["reach"]
    frame = result.data.set_index("code")
    near_universal = frame.index[frame["access_bus_min__universal_bedford"] <= 45]
    assert reach[near_universal].str.contains(r"; known jobs 8,000").all()
    in_reach_unknown = frame.index[(frame["access_bus_sites_45min"] > 0) & frame["access_jobs_45min_bus"].isna()]
    assert len(in_reach_unknown) and \
        reach[in_reach_unknown].str.endswith("jobs unknown (no site within reach has a job count)").all()
    assert (reach[frame.index[frame["access_bus_sites_45min"] == 0]] == "no site").all()
    assert not reach.str.contains("known jobs 0").any()
    assert ("Within 45 min", "reach") in md.extra_tooltip


def test_the_access_page_names_each_method_note_once_and_folds_them_away():
    from layers.access_view import grouped_notes

    notes = ["area: Luton", "10 of 11 sites have no job count", "bus: estimate (straight line)",
             "walk: estimate (straight line)", "bus: 3 of 9 origins are rural", "walk: 3 of 9 origins are rural",
             "walk: only walking", "cycle: only walking", "car: only walking",
             "site Town Hall (by bus): no stop within 20 minutes' walk", "times are estimates"]
    plain, method = grouped_notes(notes, "Luton")
    assert plain == ["10 of 11 sites have no job count", "site Town Hall (by bus): no stop within 20 minutes' walk",
                     "times are estimates"]
    assert method == ["bus and walk: estimate (straight line)", "bus and walk: 3 of 9 origins are rural",
                      "walk, cycle and car: only walking"]
    assert grouped_notes(["area: Luton"], "Worcester") == (["area: Luton"], [])  # another area's name is kept
