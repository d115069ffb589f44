"""How robust is a ranking? Monte Carlo over the weights (and optionally the method).

Each draw takes weights from a Dirichlet distribution centred on the
profile's weights (``alpha = concentration * w``: the higher the
concentration, the closer the draws stay to the profile), optionally a
normalisation method at random, re-scores every area and ranks them within
the scope (the area of interest, or England). For each area we report its
median rank, the 5th-95th percentile of its rank (a 90% interval), and the
share of draws in which it is in the priority band (the widest band, e.g.
the top 20%). Areas in the band in at least ``robust_share`` of draws (90%)
are *robust priorities*. Draws are seeded, so results are reproducible.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from layers.normalise import normalise
from layers.profiles import Profile
from layers.weighted import band_size, weighted_scores

#: Draws scored together (bounds memory: chunk x areas float32).
CHUNK_DRAWS = 200
#: Keep every draw's ranks (one pass) only while they take at most this many bytes (about 1,200 draws
#: for all of England's LSOAs); above it, rank twice (about 2x the time, memory flat in the draws).
STREAM_ABOVE_BYTES = 160 * 2**20
#: Draws ranked together when ranking twice (smaller blocks: the point is to bound memory).
STREAM_CHUNK_DRAWS = 100
#: The seed of the weight draws unless the user gives one (every front door and export uses this one).
DEFAULT_SEED = 20251127
#: Weight draws for the robust flag unless the user chooses another number.
DEFAULT_DRAWS = 200


def dirichlet_weights(weights: np.ndarray, concentration: float, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """(n_draws x k) weight vectors around ``weights``; zero weights stay zero."""
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    out = np.zeros((n_draws, len(w)))
    pos = w > 0
    out[:, pos] = rng.dirichlet(concentration * w[pos], size=n_draws)
    return out


def _draw_ranks(filled: np.ndarray, avail: np.ndarray | None, draws: np.ndarray) -> np.ndarray:
    """Ranks (draws x areas; 1 = most need) of scorable areas for a block of weight draws.

    ``filled`` is the normalised matrix with missing values set to 0 (float32);
    ``avail`` marks present values, or is None when nothing is missing.
    """
    d32 = draws.astype(np.float32)
    scores = d32 @ filled.T                                   # d x m
    if avail is not None:
        present = d32 @ avail.T
        np.divide(scores, present, out=scores)                # reweight over present indicators
    order = np.argsort(scores, axis=1)                        # ascending; the last is rank 1
    ranks = np.empty(order.shape, dtype=np.int32)
    m = order.shape[1]
    seq = np.arange(m, 0, -1, dtype=np.int32)
    for d in range(order.shape[0]):
        ranks[d, order[d]] = seq
    return ranks


def monte_carlo(values: np.ndarray, weights: np.ndarray, directions: np.ndarray, profile: Profile, *,
                n_draws: int, seed: int, methods: list[str] | None = None, scope: np.ndarray | None = None,
                stream_above_bytes: int = STREAM_ABOVE_BYTES) -> pd.DataFrame:
    """Rank distribution of the ``scope`` rows of ``values`` (all rows normalised together).

    Returns one row per scope row: ``median_rank``, ``rank_p05``, ``rank_p95``,
    ``band_share`` (0-1) and ``robust`` (bool); NaN/False for unscored areas.
    The percentiles are exact order statistics of the draws. When every draw's
    ranks would take more than ``stream_above_bytes`` they are not kept: the
    draws are ranked twice instead (:func:`_streamed_quantiles`), so memory
    does not grow with the number of draws and the figures are the same.
    """
    if n_draws < 1:
        raise ValueError("n_draws must be at least 1")
    rng = np.random.default_rng(seed)
    scope = np.ones(len(values), dtype=bool) if scope is None else scope
    methods = methods or [profile.normalisation]
    base = np.asarray(weights, dtype=float) / np.sum(weights)
    norms = {m: normalise(values, directions, m)[scope] for m in methods}
    # Which areas can be scored depends on their missing values and the profile's rule,
    # judged once with the profile's own weights so every draw ranks the same areas.
    first = norms[methods[0]]
    eligible = ~np.isnan(weighted_scores(first, base, missing=profile.missing,
                                         max_missing_share=profile.max_missing_share)[0])
    draws = dirichlet_weights(weights, profile.sensitivity_concentration, n_draws, rng)
    chosen = rng.integers(0, len(methods), size=n_draws) if len(methods) > 1 else np.zeros(n_draws, dtype=int)
    n = int(scope.sum())
    m = int(eligible.sum())
    cut = band_size(max(profile.band_shares), m)
    matrices = []
    for method in methods:
        norm = norms[method][eligible]
        avail = ~np.isnan(norm)
        matrices.append((np.where(avail, norm, 0.0).astype(np.float32), None if avail.all() else avail.astype(np.float32)))

    def blocks(chunk=CHUNK_DRAWS):
        """(draw indices, ranks, in-band counts) for every block of draws, always in the same order."""
        for mi, (filled, avail32) in enumerate(matrices):
            idx = np.flatnonzero(chosen == mi)
            for start in range(0, len(idx), chunk):
                block = idx[start:start + chunk]
                ranks = _draw_ranks(filled, avail32, draws[block])
                if profile.threshold is not None:
                    d32 = draws[block].astype(np.float32)
                    scores = d32 @ filled.T
                    if avail32 is not None:
                        scores /= d32 @ avail32.T
                    hits = (scores >= profile.threshold).sum(axis=0)
                else:
                    hits = (ranks <= cut).sum(axis=0)
                yield block, ranks, hits.astype(np.int32)

    k = [int(round(q * (n_draws - 1))) for q in (0.05, 0.5, 0.95)]
    in_band = np.zeros(m, dtype=np.int32)
    if not m:
        quantiles = np.zeros((3, 0))
    elif n_draws * m * 4 <= stream_above_bytes:
        all_ranks = np.zeros((n_draws, m), dtype=np.int32)
        for block, ranks, hits in blocks():
            all_ranks[block] = ranks
            in_band += hits
        all_ranks.partition(k, axis=0)                                      # in place: no second copy
        quantiles = all_ranks[k]
    else:
        quantiles = _streamed_quantiles(blocks, m, k, in_band)
    out = pd.DataFrame({"median_rank": np.nan, "rank_p05": np.nan, "rank_p95": np.nan, "band_share": np.nan},
                       index=range(n))
    out.loc[eligible, "median_rank"] = quantiles[1].astype(float)
    out.loc[eligible, "rank_p05"] = quantiles[0].astype(float)
    out.loc[eligible, "rank_p95"] = quantiles[2].astype(float)
    out.loc[eligible, "band_share"] = np.round(in_band / n_draws, 4)
    out["robust"] = (out["band_share"] >= profile.robust_share).fillna(False).astype(bool)
    return out


def _streamed_quantiles(blocks, m: int, k: list[int], in_band: np.ndarray, buckets: int = 256) -> np.ndarray:
    """The k-th smallest rank (0-based, one row per ``k``) of each of ``m`` areas, in two passes over ``blocks()``.

    The first pass also adds each block's in-band counts to ``in_band``.
    Ranks are integers 1..m, so the first pass counts each area's ranks in
    ``buckets`` equal ranges and finds the range holding each order
    statistic; the second counts single ranks within that range only. Memory
    is m x (buckets + len(k) x range width) int32 counts, whatever the number of draws (it grows with
    m squared over ``buckets``: 53 MB for England's 33,755 LSOAs).
    """
    width = -(-m // buckets)
    buckets = -(-m // width)
    areas = np.arange(m, dtype=np.int64)  # flat histogram indices reach m x buckets

    def rows(ranks):  # a few draws at a time: bincount copies its input to int64
        for start in range(0, len(ranks), 32):
            yield ranks[start:start + 32] - 1

    coarse = np.zeros(m * buckets, dtype=np.int32)
    for _, ranks, hits in blocks(STREAM_CHUNK_DRAWS):
        in_band += hits
        for r0 in rows(ranks):
            coarse += np.bincount((areas * buckets + r0 // width).ravel(), minlength=m * buckets).astype(np.int32)
    cum = coarse.reshape(m, buckets)
    np.cumsum(cum, axis=1, out=cum)
    need = np.asarray(k, dtype=np.int32)[:, None] + 1                      # how many draws at or below
    target = np.stack([(cum < nd).sum(axis=1) for nd in need[:, 0]]).astype(np.int32)  # (len(k), m) bucket
    below = np.where(target > 0, np.take_along_axis(cum, np.maximum(target - 1, 0).T, axis=1).T, 0)
    fine = np.zeros((len(k), m * width), dtype=np.int32)
    for _, ranks, _ in blocks(STREAM_CHUNK_DRAWS):
        for r0 in rows(ranks):
            for q in range(len(k)):
                offset = r0 - target[q] * width                               # in this range when 0..width-1
                hit = (offset >= 0) & (offset < width)
                cols = np.broadcast_to(areas, r0.shape)[hit]
                fine[q] += np.bincount(cols * width + offset[hit], minlength=m * width).astype(np.int32)
    exact = np.empty_like(target)
    for q in range(len(k)):                                                # in place: fine is the largest array
        counts = fine[q].reshape(m, width)
        np.cumsum(counts, axis=1, out=counts)
        exact[q] = (counts < (need[q] - below[q])[:, None]).sum(axis=1)
    return target * width + exact + 1
