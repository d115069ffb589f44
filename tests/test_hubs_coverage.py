"""Coverage of priority demand by hubs: figures by hand, duplication, districts, sentences, real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist

from geo.areas import resolve_area
from geo.employment_sites import sample_sites
from layers.access import lsoa_centroids
from layers.hubs.coverage import HubCoverage
from layers.hubs.demand import demand_points
from layers.hubs.errors import HubError
from layers.hubs.hub_sites import hub_sites

NAN = np.nan
#: 5 areas x 3 hubs, minutes. A: h0 only; B: h0 and h1 (30 = threshold counts); C: nearest 35 (none in reach);
#: D: nothing reachable; E (not priority): h1 and h2.
MINUTES = np.array([[10, 40, NAN], [25, 30, 50], [35, 45, NAN], [NAN, NAN, NAN], [31, 20, 5]], dtype=float)
WEIGHTS = np.array([100, 200, 300, 400, 500], dtype=float)
PRIORITY = np.array([True, True, True, True, False])
DEMAND = pd.DataFrame({"code": list("ABCDE"), "name": list("abcde"), "lad_code": ["X", "X", "Y", "Y", "Y"],
                       "lad_name": ["Xford", "Xford", "Yton", "Yton", "Yton"]})
SITES = pd.DataFrame({"site_id": ["h0", "h1", "h2"], "name": ["Hub 0", "Hub 1", "Hub 2"]})


@pytest.fixture()
def cov():
    return HubCoverage.from_matrix(MINUTES, WEIGHTS, 30, priority=PRIORITY, demand=DEMAND, sites=SITES, mode="bus",
                                   area_name="Testshire", label="priority residents", verb="live")


def test_coverage_figures_by_hand(cov):
    s = cov.summary
    assert s["priority_weight"] == 1000 and s["covered_weight"] == 300 and s["covered_pct"] == pytest.approx(30.0)
    assert s["cold_spots"] == 2 and s["cold_weight"] == 700
    assert s["duplicated_areas"] == 1 and s["duplicated_weight"] == 200  # B; E has two hubs but is not priority
    assert s["all_weight"] == 1500 and s["all_covered_pct"] == pytest.approx(800 / 15)
    a = cov.areas.set_index("code")
    assert a["n_hubs"].tolist() == [1, 2, 0, 0, 2]
    assert a["nearest_min"].tolist()[:3] == [10, 25, 35] and np.isnan(a.loc["D", "nearest_min"]) and a.loc["E", "nearest_min"] == 5
    assert a["nearest_site"].tolist() == ["h0", "h0", "h0", None, "h2"]
    assert a["cold_spot"].tolist() == [False, False, True, True, False]
    assert a["duplicated"].tolist() == [False, True, False, False, False]


def test_duplication_per_hub(cov):
    h = cov.sites.set_index("site_id")
    assert h["priority_areas_within"].tolist() == [2, 1, 0]
    assert h["priority_weight_within"].tolist() == [300, 200, 0]
    assert h["exclusive_weight"].tolist() == [100, 0, 0]  # only h0 reaches A; B is shared
    assert h["shared_weight"].tolist() == [200, 200, 0]


def test_districts_and_sentences(cov):
    d = cov.districts().set_index("lad_name")
    assert d.loc["Xford", "covered_pct"] == 100 and d.loc["Xford", "duplicated_areas"] == 1
    assert d.loc["Yton", "covered_pct"] == 0 and d.loc["Yton", "cold_spots"] == 2
    assert d.loc["Yton", "all_covered_pct"] == pytest.approx(500 / 12)
    assert d.loc["Testshire", "level"] == "area of interest" and d.loc["Testshire", "priority_weight"] == 1000
    lines = cov.statements()
    assert lines[0] == "30.0% of priority residents in Testshire live within 30 minutes by bus of a hub (300 of 1,000)"
    assert lines[1] == "100.0% of priority residents in Xford live within 30 minutes by bus of a hub (300 of 300)"
    assert lines[2].startswith("0.0% of priority residents in Yton live")
    assert lines[3] == ("2 priority areas have no hub within 30 minutes (cold spots, 700 priority residents); "
                        "1 has two or more hubs within reach")


def test_closing_a_hub_and_the_threshold_edge():
    without_h0 = HubCoverage.from_matrix(MINUTES, WEIGHTS, 30, priority=PRIORITY, open_sites=[False, True, True])
    assert without_h0.summary["covered_weight"] == 200 and without_h0.summary["duplicated_areas"] == 0
    just_under = HubCoverage.from_matrix(MINUTES, WEIGHTS, 29.99, priority=PRIORITY)
    assert just_under.areas["n_hubs"].tolist()[1] == 1  # B loses h1 at 30 minutes
    nothing = HubCoverage.from_matrix(MINUTES, WEIGHTS, 30, priority=np.zeros(5, dtype=bool))
    assert nothing.sentence() == "there is no priority demand"
    with pytest.raises(HubError, match="positive number of minutes"):
        HubCoverage.from_matrix(MINUTES, WEIGHTS, 0)


def test_real_luton_coverage_matches_a_hand_computed_bus_estimate(store):
    area = resolve_area("Luton", store.districts())
    cent = lsoa_centroids(store, area.lad_codes)
    n = len(cent)
    table = pd.DataFrame({"code": cent["code"], "weight": 1000 + (np.arange(n) * 37) % 900,
                          "priority": (np.arange(n) * 7) % 10 < 3})
    demand = demand_points(table, store=store, lad_codes=area.lad_codes)
    hubs = hub_sites(sample_sites(store))
    hubs = hubs[hubs["site_id"].isin(["the_stage_luton", "luton_airport", "power_court_luton"])].reset_index(drop=True)
    cov = HubCoverage.from_geodataframe(demand, hubs, "bus", 30, engine="estimate", area_name="Luton")
    # bus = min(walk, 2 x 400 m walk + half of a 20-minute headway + ride at 20 km/h), circuity 1.2
    d = cdist(np.column_stack([cent.geometry.x, cent.geometry.y]), np.column_stack([hubs.geometry.x, hubs.geometry.y]))
    walk = d * 1.2 / 80.0
    bus = np.minimum(walk, 800 / 80.0 + 10.0 + d * 1.2 / (20000 / 60))
    within = bus <= 30
    w = table["weight"].to_numpy(dtype=float) * table["priority"].to_numpy()
    assert cov.areas["n_hubs"].tolist() == within.sum(axis=1).tolist()
    assert cov.summary["covered_pct"] == pytest.approx(100 * w[within.any(axis=1)].sum() / w.sum())
    assert cov.summary["duplicated_areas"] == int((table["priority"].to_numpy() & (within.sum(axis=1) >= 2)).sum())
    assert np.allclose(cov.areas["nearest_min"], bus.min(axis=1))
    assert cov.sentence().startswith(f"{cov.summary['covered_pct']:.1f}% of priority demand in Luton is within 30 minutes by bus of a hub")
    assert "estimate" in cov.notes[0]
