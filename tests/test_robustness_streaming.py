"""Robustness draws for many areas: ranked twice instead of kept, with the same figures and flat memory.

Above ``STREAM_ABOVE_BYTES`` of ranks, :func:`layers.robustness.monte_carlo`
does not keep every draw's ranks; its median and 5th/95th percentile ranks
must still be the exact order statistics, so every test compares the
streamed run with the one-pass run on the same seed.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.bench_scoring import TEN
from layers.indicators import indicator_table
from layers.profiles import Profile, ProfileIndicator
from layers.registry import load_registry
from layers.robustness import monte_carlo
from layers.scoring import prepare_values


def profile(ids, **extra) -> Profile:
    return Profile("t", "test", tuple(ProfileIndicator(i, 1.0 + (n % 3)) for n, i in enumerate(ids)), **extra)


def both(values, weights, directions, prof, **kw):
    kept = monte_carlo(values, weights, directions, prof, **kw)
    streamed = monte_carlo(values, weights, directions, prof, stream_above_bytes=0, **kw)
    return kept, streamed


def test_streamed_ranks_equal_kept_ranks_for_every_english_lsoa(store):
    registry = load_registry()
    table = indicator_table("lsoa", None, TEN, store=store)
    values = prepare_values(table, TEN, registry, shrink=False)
    prof = profile(TEN)
    weights = np.array([i.weight for i in prof.indicators])
    directions = np.array([registry[i].direction for i in TEN], dtype=float)
    kept, streamed = both(values, weights, directions, prof, n_draws=150, seed=4,
                          methods=["rank_exponential", "zscore"])
    assert len(kept) > 33_000 and kept["median_rank"].notna().sum() > 33_000
    assert streamed.equals(kept)
    # the draws do move ranks: the interval is not a single rank everywhere
    assert (kept["rank_p95"] - kept["rank_p05"]).max() > 100


@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 700), n_draws=st.integers(1, 60), seed=st.integers(0, 2**16),
       missing=st.floats(0, 0.4), ties=st.booleans())
def test_streamed_quantiles_are_exact_on_any_matrix(m, n_draws, seed, missing, ties):
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(m, 4))
    if ties:  # repeated rows score the same in every draw
        values = np.round(values, 0)
    values[rng.random((m, 4)) < missing] = np.nan
    kept, streamed = both(values, np.array([1.0, 2, 1, 3]), np.array([1.0, -1, 1, 1]),
                          profile(["a", "b", "c", "d"]), n_draws=n_draws, seed=seed)
    assert streamed.equals(kept)


def test_threshold_profiles_count_the_band_the_same_way_when_streamed():
    rng = np.random.default_rng(9)
    values = rng.normal(size=(900, 3))
    kept, streamed = both(values, np.ones(3), np.ones(3), profile(["a", "b", "c"], threshold=60.0),
                          n_draws=80, seed=2)
    assert streamed.equals(kept)
    assert 0 < kept["band_share"].mean() < 1


def peak_mb(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def test_memory_of_streamed_draws_does_not_grow_with_the_number_of_draws():
    rng = np.random.default_rng(1)
    values = rng.normal(size=(20_000, 5))
    prof = profile(list("abcde"))
    few = peak_mb(lambda: monte_carlo(values, np.ones(5), np.ones(5), prof, n_draws=300, seed=3, stream_above_bytes=0))
    # by default, 2,400 draws of 20,000 ranks (183 MB of int32 if kept) are ranked twice, not kept
    many = peak_mb(lambda: monte_carlo(values, np.ones(5), np.ones(5), prof, n_draws=2400, seed=3))
    assert many < 1.25 * few and many < 120, (few, many)
