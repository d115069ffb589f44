"""Hub planning figures.

* MCLP: 3,000 demand points x 300 candidate sites, k = 10 new hubs, solved to proven optimality
  (target at 45 minutes: <= 3 s build + solve, and >= 5x faster than spopt's own MCLP build + the same
  CBC on the same matrix, measured side by side in the same run; build and total ratios both reported). Demand: the first 3,000 LSOA 2021 population-weighted
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

import os
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


def _cpu() -> float:
    """CPU seconds of this process and its finished children (CBC runs as a child process)."""
    import resource

    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + child.ru_utime + child.ru_stime


def _spopt_mclp(minutes, weights, threshold, name):
    """spopt's MCLP on a minutes matrix (NaN = unreachable), solved by the same CBC with its default
    settings: ``((build_s, cbc_s, build_cpu_s, cbc_cpu_s), objective)``."""
    import pulp
    from spopt.locate import MCLP

    start, cpu = time.perf_counter(), _cpu()
    ref = MCLP.from_cost_matrix(np.nan_to_num(minutes, nan=1e9), weights, threshold, K, name=name)
    built, built_cpu = time.perf_counter() - start, _cpu() - cpu
    start, cpu = time.perf_counter(), _cpu()
    ref.problem.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=120))
    return (built, time.perf_counter() - start, built_cpu, _cpu() - cpu), float(pulp.value(ref.problem.objective))


def _sparse_vs_spopt(demand, candidates, minutes_threshold=45, repeat=2):
    """One 3,000 x 300 minutes matrix, three ways, side by side (seconds, wall clock and CPU incl. CBC's,
    best of ``repeat``, interleaved so a busy machine slows all three alike):

    * ``sparse``: ours, :class:`HubMCLP` from the matrix (grouping identical rows, sparse PuLP build,
      greedy MIP start) and solved by CBC;
    * ``spopt``: spopt's own ``MCLP.from_cost_matrix`` on the same full matrix, solved by the same CBC with
      its default settings (as spopt solves; ours turns off Gomory cuts and coefficient diving, see
      :data:`layers.hubs.cbc.COVER_OPTIONS`);
    * ``spopt_grouped``: spopt on our grouped rows (same model size as ours), which shows how much of the
      gain is the builder alone.
    """
    from layers.hubs.matrix import travel_minutes
    from layers.hubs.models import HubMCLP, _merge_patterns

    minutes, _ = travel_minutes(demand, candidates.assign(site_id=[f"c{i}" for i in range(len(candidates))]), "bus",
                                engine="estimate")
    weights = demand["weight"].to_numpy(dtype=float)
    reach = minutes <= minutes_threshold
    free = reach.any(axis=1)
    inf = float("inf")
    best = {key: [inf] * 4 for key in ("sparse", "spopt", "spopt_grouped")}
    objectives = {}
    for _ in range(repeat):
        start, cpu = time.perf_counter(), _cpu()
        model = HubMCLP.from_matrix(minutes, weights, minutes_threshold, K, time_limit_s=120)
        built, built_cpu = time.perf_counter() - start, _cpu() - cpu
        start, cpu = time.perf_counter(), _cpu()
        model.solve()
        runs = {"sparse": (built, time.perf_counter() - start, built_cpu, _cpu() - cpu)}
        objectives["sparse"] = model.solver.objective
        runs["spopt"], objectives["spopt"] = _spopt_mclp(minutes, weights, minutes_threshold, "bench_spopt")
        pattern, first, merged = _merge_patterns(reach[free], weights[free])
        runs["spopt_grouped"], objectives["spopt_grouped"] = _spopt_mclp(minutes[free][first], merged,
                                                                         minutes_threshold, "bench_spopt_grouped")
        for key, times in runs.items():
            best[key] = [min(a, b) for a, b in zip(best[key], times)]
    same = len({round(v, 6) for v in objectives.values()}) == 1
    return model, best, same


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
    tag = "hubs_mclp_vs_spopt_3000x300_k10_bus45"
    load = os.getloadavg()[0]
    model, best, same = _sparse_vs_spopt(demand, candidates)
    # the machine's load (1-minute average, runnable processes) around the side-by-side run: on a shared
    # machine the wall-clock figures grow with it, the ratios much less
    yield f"{tag}_load_avg", (load + os.getloadavg()[0]) / 2, "processes"
    for key, (built, solved, built_cpu, solved_cpu) in best.items():
        yield f"{tag}_{key}_build", built, "s"
        yield f"{tag}_{key}_cbc", solved, "s"
        yield f"{tag}_{key}_total", built + solved, "s"
        yield f"{tag}_{key}_total_cpu", built_cpu + solved_cpu, "s"
    ours = best["sparse"]
    for ref in ("spopt", "spopt_grouped"):
        yield f"{tag}_{ref}_over_sparse_build", best[ref][0] / ours[0], "ratio"
        yield f"{tag}_{ref}_over_sparse_total", sum(best[ref][:2]) / sum(ours[:2]), "ratio"
        yield f"{tag}_{ref}_over_sparse_total_cpu", sum(best[ref][2:]) / sum(ours[2:]), "ratio"
    yield f"{tag}_same_objective", float(same), "bool"
    yield f"{tag}_model_demand_groups", len(model.lp.cli_vars), "rows"
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
