"""Hub optimisation: MCLP, p-median and LSCP against exhaustive search, bad input, time limits, real data."""

from __future__ import annotations

import re

import itertools
import math

import numpy as np
import pandas as pd
import pulp
import pytest
from scipy.spatial.distance import cdist

from geo.areas import resolve_area
from geo.employment_sites import sample_sites
from layers.access import lsoa_centroids
from layers.hubs import cbc
from layers.hubs.candidates import priority_centroid_candidates, station_candidates
from layers.hubs.coverage import HubCoverage
from layers.hubs.demand import demand_points
from layers.hubs.errors import (DemandError, InfeasibleCoverageError, ModelTooLargeError, NoCandidatesError,
                                SolverError, TooFewCandidatesError)
from layers.hubs.models import HubLSCP, HubMCLP, HubPMedian
from layers.hubs.hub_sites import hub_sites, site_pool

SEEDS = range(6)


def instance(seed, n=24, m=9):
    rng = np.random.default_rng(seed)
    minutes = rng.uniform(0, 60, (n, m)).round(1)
    weights = rng.integers(1, 100, n).astype(float)
    priority = rng.random(n) < 0.8
    return minutes, weights, priority


def best_cover(minutes, weights, threshold, k, fixed):
    reach = minutes <= threshold
    best = -1.0
    for combo in itertools.combinations(np.flatnonzero(~fixed), k):
        open_ = fixed.copy()
        open_[list(combo)] = True
        best = max(best, weights[reach[:, open_].any(axis=1)].sum())
    return best


def best_median(minutes, weights, k, fixed):
    best = math.inf
    for combo in itertools.combinations(np.flatnonzero(~fixed), k):
        open_ = fixed.copy()
        open_[list(combo)] = True
        best = min(best, (weights * minutes[:, open_].min(axis=1)).sum())
    return best


def fewest_cover(minutes, threshold, fixed):
    reach = minutes <= threshold
    free = np.flatnonzero(~fixed)
    for size in range(len(free) + 1):
        for combo in itertools.combinations(free, size):
            open_ = fixed.copy()
            open_[list(combo)] = True
            if reach[:, open_].any(axis=1).all():
                return size
    return None


# -- against exhaustive search ------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fixed_count", [0, 2])
def test_mclp_matches_exhaustive_search(seed, fixed_count):
    minutes, weights, priority = instance(seed)
    fixed = np.arange(minutes.shape[1]) < fixed_count
    existing = np.arange(minutes.shape[1]) < fixed_count + 1  # one removable existing hub competes with candidates
    model = HubMCLP.from_matrix(minutes, weights, 15, 3, priority=priority, fixed=fixed, existing=existing).solve()
    pw = np.where(priority, weights, 0)
    assert model.solver.status == "optimal" and model.solver.gap == 0
    assert model.after.summary["covered_weight"] == pytest.approx(best_cover(minutes, pw, 15, 3, fixed))
    assert model.open[fixed].all() and int((model.open & ~fixed).sum()) == 3
    # the greedy order of the optimal set: gains add up and never grow (coverage is submodular)
    gains = model.marginal["added_weight"].iloc[1:].to_numpy()
    start = pw[(minutes[:, fixed] <= 15).any(axis=1)].sum() if fixed_count else 0.0
    assert gains.sum() == pytest.approx(model.after.summary["covered_weight"] - start)
    assert (np.diff(gains) <= 1e-9).all()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fixed_count", [0, 2])
def test_pmedian_matches_exhaustive_search(seed, fixed_count):
    minutes, weights, _ = instance(seed)
    fixed = np.arange(minutes.shape[1]) < fixed_count
    model = HubPMedian.from_matrix(minutes, weights, 30, 3, fixed=fixed, existing=fixed).solve()
    total = (weights * minutes[:, model.open].min(axis=1)).sum()
    assert model.solver.status == "optimal"
    assert total == pytest.approx(best_median(minutes, weights, 3, fixed))
    assert model.marginal["mean_min"].iloc[-1] == pytest.approx(total / weights.sum())
    assert model.open[fixed].all() and int((model.open & ~fixed).sum()) == 3


def test_pmedian_with_unreachable_pairs():
    minutes, weights, _ = instance(4)
    minutes[0, :] = np.nan           # area 0 can reach no site: left out, and said so
    minutes[1, :-1] = np.nan         # area 1 reaches only the last site
    minutes[2:6, 3] = np.nan
    model = HubPMedian.from_matrix(minutes, weights, 30, 3).solve()
    assert "1 priority area cannot reach any site and is left out of the p-median" in model.notes
    rows = np.arange(len(weights)) > 0
    penalty = 10 * np.nanmax(minutes[rows])
    cost = np.where(np.isnan(minutes[rows]), penalty, minutes[rows])
    total = (weights[rows] * cost[:, model.open].min(axis=1)).sum()
    assert total == pytest.approx(best_median(cost, weights[rows], 3, np.zeros(minutes.shape[1], dtype=bool)))
    assert model.open[-1]  # the only site area 1 can reach is worth a penalty of ten times the longest journey


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fixed_count", [0, 2])
def test_lscp_matches_exhaustive_search(seed, fixed_count):
    minutes, weights, _ = instance(seed, n=15, m=10)
    fixed = np.arange(minutes.shape[1]) < fixed_count
    threshold = float(np.sort(minutes, axis=1)[:, 1].max()) + 0.1  # every area has two sites in reach
    need = fewest_cover(minutes, threshold, fixed)
    model = HubLSCP.from_matrix(minutes, weights, threshold, fixed=fixed, existing=fixed).solve()
    assert model.solver.status == "optimal" or need == 0
    assert int((model.open & ~fixed).sum()) == need
    assert model.after.summary["covered_pct"] == 100 and model.open[fixed].all()


def test_mclp_curve_is_the_best_coverage_for_each_k():
    minutes, weights, priority = instance(11, n=30, m=10)
    fixed = np.arange(10) < 1
    model = HubMCLP.from_matrix(minutes, weights, 14, 4, priority=priority, fixed=fixed, existing=fixed).solve()
    curve = model.curve()
    pw = np.where(priority, weights, 0)
    assert curve["k"].tolist() == [0, 1, 2, 3, 4]
    assert curve["covered_weight"].iloc[0] == pw[(minutes[:, 0] <= 14)].sum()
    for k in range(1, 5):
        assert curve["covered_weight"].iloc[k] == pytest.approx(best_cover(minutes, pw, 14, k, fixed))
    assert (np.diff(curve["covered_weight"]) >= 0).all() and set(curve["status"].iloc[1:]) == {"optimal"}
    assert curve["covered_weight"].iloc[4] == pytest.approx(model.after.summary["covered_weight"])


def test_a_badly_placed_removable_hub_is_closed():
    #   demand at 0..4; a removable hub far away (60 min from everyone), a candidate in reach of all
    minutes = np.array([[60.0, 10.0, 40.0]] * 5)
    weights = np.full(5, 10.0)
    model = HubMCLP.from_matrix(minutes, weights, 30, 1, fixed=[False, False, False], existing=[True, False, False],
                                sites=pd.DataFrame({"site_id": ["old", "new", "other"], "name": ["Old", "New", "Other"]})).solve()
    assert model.decisions().tolist() == ["closed", "new", "not chosen"]
    assert model.before.summary["covered_pct"] == 0 and model.after.summary["covered_pct"] == 100
    assert "closes 1 removable hub: Old" in model.statements()
    # with one more site the old hub earns its place: it is kept, and the sentence says so
    minutes[:2, 0] = 10.0
    minutes[:2, 1] = 45.0
    two = HubMCLP.from_matrix(minutes, weights, 30, 2, fixed=[False, False, False], existing=[True, False, False],
                              sites=pd.DataFrame({"site_id": ["old", "new", "other"], "name": ["Old", "New", "Other"]})).solve()
    assert two.decisions().tolist() == ["kept", "new", "not chosen"]
    assert two.statements()[0].startswith("the best 2 sites (new: New; kept: Old) raise coverage of priority demand")
    # load against capacity: New is the nearest open hub for areas 2-4 (30 people), Old for areas 0-1 (20)
    sites = pd.DataFrame({"site_id": ["old", "new", "other"], "name": ["Old", "New", "Other"], "capacity": [50, 25, np.nan]})
    loaded = HubMCLP.from_matrix(minutes, weights, 30, 2, existing=[True, False, False], sites=sites).solve()
    table = loaded.site_table().set_index("site_id")
    assert table.loc["new", "assigned_weight"] == 30 and table.loc["old", "assigned_weight"] == 20
    assert table["over_capacity"].tolist() == [False, True, False]
    assert "1 hub would be the nearest for more priority demand than its capacity: New (30 for a capacity of 25)" in loaded.statements()


# -- bad input ------------------------------------------------------------------------------------------------
def test_lscp_infeasible_is_detected_before_solving_and_says_what_would_solve_it():
    minutes = np.array([[10.0, 50.0], [45.0, 41.3], [20.0, 25.0], [np.nan, 35.0]])
    demand = pd.DataFrame({"code": ["E01000001", "E01000002", "E01000003", "E01000004"],
                           "name": ["Alpha 001A", "Beta 002B", "Gamma 003C", "Delta 004D"]})
    with pytest.raises(InfeasibleCoverageError) as err:
        HubLSCP.from_matrix(minutes, np.ones(4), 30, demand=demand, mode="bus")
    message = str(err.value)
    assert message == ("no plan can put every priority area within 30 minutes by bus of a hub: 2 priority areas have "
                       "no existing hub or candidate within reach (E01000002 Beta 002B: nearest site 41 min; "
                       "E01000004 Delta 004D: nearest site 35 min); it becomes solvable with 42 minutes or more, "
                       "candidate sites near those areas or a faster mode (e.g. car)")
    solved = HubLSCP.from_matrix(minutes, np.ones(4), 42, demand=demand, mode="bus").solve()
    assert solved.after.summary["covered_pct"] == 100
    key = solved.key_statements()  # what the Hub planner leads with: the LSCP result, then the solver's word
    assert re.match(r"(1 site|\d+ sites) \(.+\) (puts|put) every priority area within 42 minutes", key[0]), key
    assert key[-1].startswith("this is the best possible plan") and set(key) <= set(solved.statements())


def test_mclp_with_a_threshold_nobody_can_meet():
    minutes = np.array([[50.0, 41.2], [45.0, 60.0]])
    with pytest.raises(InfeasibleCoverageError, match=r"^no priority area is within 30 minutes on foot of any hub or "
                                                      r"candidate, so no choice of sites covers anyone; allow 42 "
                                                      r"minutes or more \(the closest pair\), add candidates nearer the "
                                                      r"priority areas or use a faster mode \(e.g. car\)$"):
        HubMCLP.from_matrix(minutes, np.ones(2), 30, 1, mode="walk")
    assert HubMCLP.from_matrix(minutes, np.ones(2), 42, 1, mode="walk").solve().after.summary["covered_weight"] == 1


def test_k_larger_than_the_candidates():
    minutes, weights, _ = instance(1, m=5)
    fixed = np.array([True, True, False, False, False])
    with pytest.raises(TooFewCandidatesError, match=r"^4 new sites \(k\) were asked for but there are only 3 "
                                                    r"candidate sites to choose from; ask for 3 or fewer, or add "
                                                    r"candidate sites$"):
        HubMCLP.from_matrix(minutes, weights, 20, 4, fixed=fixed)
    with pytest.raises(TooFewCandidatesError, match=r"only 2 candidate sites and 1 removable hub to"):
        HubPMedian.from_matrix(minutes, weights, 20, 4, fixed=fixed, existing=[True, True, True, False, False])
    with pytest.raises(TooFewCandidatesError, match=r"there are only 3 removable hubs to choose from"):
        HubMCLP.from_matrix(minutes, weights, 20, 4, fixed=fixed, existing=[True] * 5)


def test_no_candidates():
    minutes, weights, _ = instance(2, m=3)
    with pytest.raises(NoCandidatesError, match="no candidate sites to choose from besides the existing hubs"):
        HubMCLP.from_matrix(minutes, weights, 20, 1, fixed=[True, True, True])
    with pytest.raises(NoCandidatesError, match=r"^(1 priority area has|([2-9]|\d\d+) priority areas have) no hub within reach and there are no candidate"):
        HubLSCP.from_matrix(minutes, weights, 20, fixed=[True, True, True])
    done = HubLSCP.from_matrix(minutes, weights, 60, fixed=[True, True, True]).solve()  # all in reach already
    assert done.solver.cbc_result == "no solve needed" and done.after.summary["covered_pct"] == 100
    with pytest.raises(NoCandidatesError, match="no existing hubs and no candidate sites"):
        HubMCLP.from_geodataframe(demand_points(pd.DataFrame({"code": ["a"], "weight": [1], "x": [5e5], "y": [2e5],
                                                              "name": ["a"], "lad_code": ["x"], "lad_name": ["x"]})),
                                  None, None, "bus", 30, 1)


def test_no_priority_demand_and_too_large_models():
    minutes, weights, _ = instance(3)
    with pytest.raises(DemandError, match="no priority demand to plan for"):
        HubMCLP.from_matrix(minutes, weights, 20, 1, priority=np.zeros(len(weights), dtype=bool))
    with pytest.raises(ModelTooLargeError, match=r"p-median on 600 priority areas x 500 sites needs 300,000"):
        HubPMedian.from_matrix(np.ones((600, 500)), np.ones(600), 20, 2)


# -- the solver -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hard_instance():
    """1,000 demand points x 200 sites, uniform in a square, radius covering ~9%: CBC needs well over a second."""
    rng = np.random.default_rng(7)
    minutes = cdist(rng.uniform(0, 100, (1000, 2)), rng.uniform(0, 100, (200, 2)))
    return minutes, rng.integers(1, 100, 1000).astype(float)


def test_time_limit_is_respected_and_the_status_and_gap_are_shown(hard_instance):
    minutes, weights = hard_instance
    model = HubMCLP.from_matrix(minutes, weights, 18, 12, time_limit_s=1).solve()
    info = model.solver
    assert info.status == "time limit" and info.solution_status == "Solution Found" and info.time_limit_s == 1
    assert info.cbc_result.startswith("Stopped on time")
    assert info.bound is not None and info.bound >= info.objective - 1e-6
    assert info.gap == pytest.approx((info.bound - info.objective) / info.objective)
    assert info.gap_source == "CBC's best bound"
    greedy = weights[(minutes[:, model._start] <= 18).any(axis=1)].sum()
    assert model.after.summary["covered_weight"] >= greedy  # never worse than the greedy MIP start
    assert int(model.open.sum()) == 12
    assert model.best_possible_pct() >= model.after.summary["covered_pct"]
    text = " ".join(model.statements())
    assert "this may not be the best possible plan: the optimiser (CBC) stopped at its 1 s time limit, and the plan shown is within" in text
    assert "no plan with 12 sites can reach more than" in text


def test_gap_falls_back_to_the_lp_relaxation_when_cbc_gives_no_bound(hard_instance, monkeypatch):
    minutes, weights = hard_instance
    monkeypatch.setattr(cbc, "parse_cbc_log", lambda text: {"result": "Stopped on time", "objective": None, "bound": None})
    model = HubMCLP.from_matrix(minutes, weights, 18, 12, time_limit_s=1).solve()
    assert model.solver.status == "time limit" and model.solver.gap_source == "the LP relaxation"
    assert model.solver.bound >= model.solver.objective and model.solver.gap >= 0
    assert int(model.open.sum()) == 12  # the integer solution was restored after the LP solve


def test_solver_problems_are_one_line_errors():
    infeasible = pulp.LpProblem("bad", pulp.LpMinimize)
    x = pulp.LpVariable("x", cat="Binary")
    infeasible += x
    infeasible += x >= 2
    with pytest.raises(SolverError, match="^the model has no feasible solution"):
        cbc.solve_cbc(infeasible, time_limit_s=5)
    with pytest.raises(Exception, match="time limit must be more than 0"):
        cbc.solve_cbc(infeasible, time_limit_s=0)


# -- real data -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def luton_inputs(store):
    area = resolve_area("Luton", store.districts())
    cent = lsoa_centroids(store, area.lad_codes)
    n = len(cent)
    table = pd.DataFrame({"code": cent["code"], "weight": 1200 + (np.arange(n) * 53) % 800,
                          "priority": (np.arange(n) * 7) % 10 < 3})  # deterministic synthetic priority (30%)
    demand = demand_points(table, store=store, lad_codes=area.lad_codes)
    existing = hub_sites(sample_sites(store))
    existing = existing[existing["site_id"] == "the_stage_luton"].reset_index(drop=True)
    candidates = pd.concat([station_candidates(area, store), priority_centroid_candidates(demand)], ignore_index=True)
    return area, demand, existing, candidates


def test_real_luton_mclp_is_optimal_by_exhaustive_search(luton_inputs):
    area, demand, existing, candidates = luton_inputs
    model = HubMCLP.from_geodataframe(demand, existing, candidates, "walk", 20, 2, engine="estimate", area_name="Luton").solve()
    pool = site_pool(existing, candidates)
    minutes = model.minutes
    pw = np.where(demand["priority"], demand["weight"], 0).astype(float)
    assert model.solver.status == "optimal"
    assert model.after.summary["covered_weight"] == pytest.approx(best_cover(minutes, pw, 20, 2, pool["fixed"].to_numpy()))
    before = HubCoverage.from_geodataframe(demand, existing, "walk", 20, engine="estimate")
    assert model.before.summary == before.summary
    table = model.site_table()
    assert table["decision"].tolist()[:3] == ["fixed", "new", "new"] and table["order"].tolist()[1:3] == [1, 2]
    assert model.statements()[0].startswith("the best 2 sites added to the existing hubs (")
    assert f"from {before.summary['covered_pct']:.1f}% to {model.after.summary['covered_pct']:.1f}%" in model.statements()[0]


def test_real_luton_pmedian_and_lscp(luton_inputs):
    area, demand, existing, candidates = luton_inputs
    pmed = HubPMedian.from_geodataframe(demand, existing, candidates, "bus", 30, 2, engine="estimate").solve()
    pw = np.where(demand["priority"], demand["weight"], 0).astype(float)
    fixed = pmed.fixed
    rows = pw > 0
    assert (pw[rows] * pmed.minutes[rows][:, pmed.open].min(axis=1)).sum() == pytest.approx(
        best_median(pmed.minutes[rows], pw[rows], 2, fixed))
    assert pmed._mean_minutes(pmed.open) < pmed._mean_minutes(pmed.existing)
    lscp = HubLSCP.from_geodataframe(demand, existing, candidates, "walk", 20, engine="estimate").solve()
    n_new = int((lscp.open & ~lscp.fixed).sum())
    assert lscp.after.summary["covered_pct"] == 100 and lscp.solver.status == "optimal" and n_new >= 2
    # one site fewer cannot reach everyone: the best plan with n_new - 1 sites (MCLP, proved optimal) falls short
    fewer = HubMCLP.from_geodataframe(demand, existing, candidates, "walk", 20, n_new - 1, engine="estimate").solve()
    assert fewer.solver.status == "optimal" and fewer.after.summary["covered_pct"] < 100
