"""Priority scoring figures: all English LSOAs, Monte Carlo robustness, Gi* hot spots."""

from __future__ import annotations

import numpy as np

from bench.timing import best_of, once

TEN = ["census21_inactive_pct", "census21_unemployed_pct", "census21_bad_health_pct", "census21_disabled_pct",
       "census21_no_qualifications_pct", "census21_unpaid_carers_pct", "census21_never_worked_pct",
       "imd2025_employment_score", "imd2025_income_score", "imd2025_health_score"]


def ten_profile():
    """The bench's profile: the ten indicators weighted 1, 2 and 3 in turn."""
    from layers.profiles import Profile, ProfileIndicator

    return Profile("bench", "Ten indicators", tuple(ProfileIndicator(i, 1.0 + (n % 3)) for n, i in enumerate(TEN)))


def run():
    from geo.areas import Area, resolve_area
    from geo.store import Store
    from layers.hotspots import contiguity, hotspots
    from layers.indicators import available, indicator_table
    from layers.registry import load_registry
    from layers.robustness import monte_carlo
    from layers.scoring import bands, overlap_counts, prepare_values, ranks_desc, score_matrix, score_table

    store = Store()
    registry = load_registry()
    table = indicator_table("lsoa", None, TEN, store=store)
    installed = set(available("lsoa", store=store))
    profile = ten_profile()
    england = Area("England", tuple(store.districts()["code"]), "preset")

    yield "score_all_england_lsoa_10_indicators", best_of(
        lambda: score_table(table, profile, england, "lsoa", registry, installed), 7), "s"

    values = prepare_values(table, TEN, registry, shrink=False)
    weights = np.array([i.weight for i in profile.indicators])
    directions = np.array([registry[i].direction for i in TEN], dtype=float)

    def core():  # normalise, weight, rank and band every LSOA; no output table
        result = score_matrix(values, weights, directions, profile.normalisation)
        ranks = ranks_desc(result.score)
        bands(ranks, int((ranks > 0).sum()), profile.band_shares)
        overlap_counts(values, directions, profile.overlap_worst_share)

    yield "score_core_all_england_lsoa_10_indicators", best_of(core, 7), "s"
    seconds, _ = once(lambda: monte_carlo(values, weights, directions, profile, n_draws=1000, seed=1))
    yield "sensitivity_1000_draws_all_england_lsoa", seconds, "s"
    seconds, _ = once(lambda: monte_carlo(values, weights, directions, profile, n_draws=1000, seed=1,
                                          methods=["rank_exponential", "zscore", "minmax"]))
    yield "sensitivity_1000_draws_all_england_lsoa_methods_varied", seconds, "s"

    yield from robustness_memory(values, weights, directions, profile)

    area = resolve_area("East Midlands CCA", store.districts())
    scored = score_table(table, profile, area, "lsoa", registry, installed)
    gdf = store.boundaries("lsoa", area.lad_codes).set_index("code").reindex(scored.areas["code"]).reset_index()
    score = scored.areas["score"].to_numpy(dtype=float)
    yield "gi_star_area_lsoa_count", len(gdf), "areas"
    yield "gi_star_999_permutations_east_midlands_cca_lsoa", best_of(
        lambda: hotspots(gdf, score, w=contiguity(gdf), permutations=999, seed=7), 3), "s"


def robustness_memory(values, weights, directions, profile):
    """Peak memory (tracemalloc, MB) of the draws for every English LSOA: ranked twice vs every rank kept."""
    import time
    import tracemalloc

    from layers.robustness import monte_carlo

    def measure(n_draws, **kw):
        tracemalloc.start()
        start = time.perf_counter()
        monte_carlo(values, weights, directions, profile, n_draws=n_draws, seed=1, **kw)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        return peak, seconds

    for n_draws in (1000, 5000):
        peak, seconds = measure(n_draws)
        yield f"robustness_{n_draws}_draws_england_lsoa_peak", peak, "MB"
        yield f"robustness_{n_draws}_draws_england_lsoa_time", seconds, "s"
    for n_draws in (200, 1000, 5000):  # the whole server process, store loaded, in a fresh interpreter
        before, peak = process_peak(n_draws)
        yield f"robustness_{n_draws}_draws_england_lsoa_process_peak", peak, "MB"
    yield "robustness_england_lsoa_process_before_draws", before, "MB"
    peak, seconds = measure(1000, stream_above_bytes=2**40)  # the naive way: keep every draw's ranks
    yield "robustness_1000_draws_england_lsoa_kept_peak", peak, "MB"
    yield "robustness_1000_draws_england_lsoa_kept_time", seconds, "s"


def process_peak(n_draws: int) -> tuple[float, float]:
    """(resident MB before the draws, peak resident MB) of :mod:`bench.robustness_process` in a fresh interpreter."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "bench.robustness_process", str(n_draws)], check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1])
