"""Hub planning figures.

* MCLP: 3,000 demand points x 300 candidate sites, k = 10 new hubs, solved to proven optimality
  (target <= 30 s including building the model). Demand: the first 3,000 LSOA 2021 population-weighted
  centroids, by district code then LSOA code, of the metropolitan districts (E08: Greater Manchester,
  Merseyside and South Yorkshire come first), every one priority, with deterministic synthetic weights
  (1,000 to 2,499 people). Candidates: the English railway stations inside those districts, topped up to
  300 with every n-th demand centroid. Minutes: the estimate engine by bus. Measured at 30 minutes (the
  usual policy standard) and 45 minutes (a denser, harder cover).
* Coverage: every LSOA of the East Midlands CCA (about 1,400) against the railway stations inside it as
  hubs, by bus within 30 minutes: travel minutes, per-area figures, district table and sentences
  (target <= 0.5 s).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from bench.timing import best_of

DEMAND_POINTS, CANDIDATES, K = 3000, 300, 10


def _mclp_inputs(store):
    from geo.areas import Area
    from layers.access import lsoa_centroids
    from layers.hubs.candidates import priority_centroid_candidates, station_candidates
    from layers.hubs.demand import demand_points

    lad = store.districts()
    metro = sorted(c for c in lad["code"] if c.startswith("E08"))
    cent = lsoa_centroids(store, metro).iloc[:DEMAND_POINTS]
    n = len(cent)
    table = pd.DataFrame({"code": cent["code"], "weight": 1000 + (np.arange(n) * 7919) % 1500, "priority": True})
    demand = demand_points(table, store=store)
    area = Area("bench metropolitan districts", tuple(sorted(set(cent["lad_code"]))), "user")
    stations = station_candidates(area, store)
    stations = stations[stations.within(demand.geometry.buffer(3000).union_all())]  # near the 3,000 demand points
    stations = stations.iloc[:CANDIDATES]
    centres = priority_centroid_candidates(demand)
    stride = max(1, len(centres) // (CANDIDATES - len(stations)))
    centres = centres.iloc[::stride].iloc[:CANDIDATES - len(stations)]
    candidates = pd.concat([stations, centres], ignore_index=True)
    return demand, candidates, len(stations)


def _mclp(demand, candidates, minutes_threshold):
    from layers.hubs.models import HubMCLP

    start = time.perf_counter()
    model = HubMCLP.from_geodataframe(demand, None, candidates, "bus", minutes_threshold, K, engine="estimate",
                                      time_limit_s=120)
    built = time.perf_counter() - start
    model.solve()
    total = time.perf_counter() - start
    return model, built, total


def _sparse_vs_spopt(demand, candidates, minutes_threshold=45):
    """Same 3,000 x 300 minutes matrix: our sparse MCLP (build + CBC) against spopt's MCLP built on the same
    reduced matrix and solved by the same CBC (seconds, wall clock)."""
    import pulp
    from spopt.locate import MCLP

    from layers.hubs.matrix import travel_minutes
    from layers.hubs.models import HubMCLP, _merge_patterns

    minutes, _ = travel_minutes(demand, candidates.assign(site_id=[f"c{i}" for i in range(len(candidates))]), "bus",
                                engine="estimate")
    weights = demand["weight"].to_numpy(dtype=float)
    start = time.perf_counter()
    model = HubMCLP.from_matrix(minutes, weights, minutes_threshold, K, time_limit_s=120).solve()
    sparse_s = time.perf_counter() - start
    reach = minutes <= minutes_threshold
    free = reach.any(axis=1)
    pattern, first, merged = _merge_patterns(reach[free], weights[free])
    start = time.perf_counter()
    ref = MCLP.from_cost_matrix(np.nan_to_num(minutes[free][first], nan=1e9), merged, minutes_threshold, K,
                                name="bench_spopt")
    spopt_build = time.perf_counter() - start
    ref.problem.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=120))
    spopt_s = time.perf_counter() - start
    return model, sparse_s, spopt_s, spopt_build, float(pulp.value(ref.problem.objective))


def run():
    from geo.areas import resolve_area
    from geo.store import Store
    from layers.access import lsoa_centroids
    from layers.hubs.candidates import station_candidates
    from layers.hubs.coverage import HubCoverage
    from layers.hubs.demand import demand_points

    store = Store()
    demand, candidates, n_stations = _mclp_inputs(store)
    yield "hubs_mclp_demand_points", len(demand), "points"
    yield "hubs_mclp_candidates", len(candidates), "sites"
    yield "hubs_mclp_candidates_stations", n_stations, "sites"
    model, sparse_s, spopt_s, spopt_build, spopt_obj = _sparse_vs_spopt(demand, candidates)
    yield "hubs_mclp_sparse_3000x300", sparse_s, "s"
    yield "hubs_mclp_spopt_3000x300", spopt_s, "s"
    yield "hubs_mclp_spopt_build_3000x300", spopt_build, "s"
    yield "hubs_mclp_spopt_over_sparse_3000x300", spopt_s / sparse_s, "ratio"
    yield "hubs_mclp_sparse_same_objective_3000x300", float(abs(model.solver.objective - spopt_obj) < 1e-6), "bool"
    for threshold in (30, 45):
        model, built, total = _mclp(demand, candidates, threshold)
        tag = f"hubs_mclp_3000x300_k10_bus{threshold}"
        yield f"{tag}_total", total, "s"
        yield f"{tag}_build", built, "s"
        yield f"{tag}_cbc", model.solver.seconds, "s"
        yield f"{tag}_optimal", float(model.solver.status == "optimal"), "bool"
        yield f"{tag}_gap", model.solver.gap, "ratio"
        yield f"{tag}_covered_pct", model.after.summary["covered_pct"], "%"
        yield f"{tag}_model_demand_groups", len(model.lp.cli_vars), "rows"

    area = resolve_area("East Midlands CCA", store.districts())
    cent = lsoa_centroids(store, area.lad_codes)
    n = len(cent)
    table = pd.DataFrame({"code": cent["code"], "weight": 1000 + (np.arange(n) * 7919) % 1500,
                          "priority": (np.arange(n) * 7) % 10 < 3})
    em_demand = demand_points(table, store=store)
    hubs = station_candidates(area, store).assign(role="existing", fixed=True)

    def coverage():
        cov = HubCoverage.from_geodataframe(em_demand, hubs, "bus", 30, engine="estimate", area_name=area.name)
        cov.districts()
        cov.statements()
        return cov

    yield "hubs_coverage_em_cca_lsoas", n, "points"
    yield "hubs_coverage_em_cca_hubs", len(hubs), "sites"
    yield "hubs_coverage_em_cca_bus30", best_of(coverage, 3), "s"
