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

#: Draws scored together (bounds memory: a few chunk x areas arrays; larger chunks are no faster).
CHUNK_DRAWS = 50
#: Keep every draw's ranks (one pass) only while they take at most this many bytes (about 550 draws for
#: all of England's LSOAs, so the slider's 500 stay one pass; the two-pass path needs about 70 MB whatever
#: the draws); above it, rank twice (about 2x the time), so memory is flat in the number of draws.
STREAM_ABOVE_BYTES = 72 * 2**20
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
    ranks = np.empty(scores.shape, dtype=np.int32)
    seq = np.arange(scores.shape[1], 0, -1, dtype=np.int32)
    for d in range(scores.shape[0]):                          # a row at a time: argsort's int64 order stays one row
        ranks[d, np.argsort(scores[d])] = seq                 # ascending; the last is rank 1
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

    def blocks():
        """(draw indices, ranks, in-band counts) for every block of draws, always in the same order."""
        for mi, (filled, avail32) in enumerate(matrices):
            idx = np.flatnonzero(chosen == mi)
            for start in range(0, len(idx), CHUNK_DRAWS):
                block = idx[start:start + CHUNK_DRAWS]
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
        all_ranks = np.zeros((m, n_draws), dtype=np.int32)                 # areas x draws: each area's draws contiguous
        for block, ranks, hits in blocks():
            all_ranks[:, block] = ranks.T
            in_band += hits
        all_ranks.partition(k, axis=1)                                      # in place along the contiguous axis: no copy
        quantiles = all_ranks[:, k].T
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


def _streamed_quantiles(blocks, m: int, k: list[int], in_band: np.ndarray, buckets: int | None = None) -> np.ndarray:
    """The k-th smallest rank (0-based, one row per ``k``) of each of ``m`` areas, in two passes over ``blocks()``.

    The first pass also adds each block's in-band counts to ``in_band``.
    Ranks are integers 1..m, so the first pass counts each area's ranks in
    ``buckets`` equal ranges and finds the range holding each order
    statistic; the second counts single ranks within that range only. The
    coarse counts (m x buckets) are freed before the fine ones
    (len(k) x m x range width) are made, and ``buckets`` defaults to
    sqrt(len(k) x m) so the two are the same size: about 43 MB each, int32,
    for England's 33,755 LSOAs, whatever the number of draws.
    """
    if buckets is None:
        buckets = max(16, int(np.sqrt(len(k) * m)))
    width = -(-m // buckets)
    buckets = -(-m // width)

    def histogram(counts, ranks, cells, key):
        """Add to ``counts`` (areas x cells, flat) how often ``key(ranks)`` falls in each cell; -1 is skipped.

        Areas are taken a slice at a time so bincount's int64 temporaries stay a few MB.
        """
        step = max(1, 2**18 // cells)
        for a0 in range(0, m, step):
            a1 = min(m, a0 + step)
            cell = key(ranks[:, a0:a1], a0, a1)
            local = (np.arange(a1 - a0, dtype=np.int64) * cells)[None, :] + cell
            local = local[cell >= 0]
            counts[a0 * cells:a1 * cells] += np.bincount(local, minlength=(a1 - a0) * cells).astype(np.int32)

    coarse = np.zeros(m * buckets, dtype=np.int32)
    for _, ranks, hits in blocks():
        in_band += hits
        histogram(coarse, ranks, buckets, lambda r, a0, a1: (r - 1) // width)
    cum = coarse.reshape(m, buckets)
    np.cumsum(cum, axis=1, out=cum)
    need = np.asarray(k, dtype=np.int32)[:, None] + 1                      # how many draws at or below
    target = np.stack([(cum < nd).sum(axis=1) for nd in need[:, 0]]).astype(np.int32)  # (len(k), m) bucket
    below = np.where(target > 0, np.take_along_axis(cum, np.maximum(target - 1, 0).T, axis=1).T, 0)
    del coarse, cum                                                        # before the fine counts exist
    fine = [np.zeros(m * width, dtype=np.int32) for _ in k]

    def offset(q):
        def key(r, a0, a1):
            off = (r - 1) - target[q, a0:a1] * width                        # in this range when 0..width-1
            return np.where((off >= 0) & (off < width), off, -1)
        return key

    for _, ranks, _ in blocks():
        for q in range(len(k)):
            histogram(fine[q], ranks, width, offset(q))
    exact = np.empty_like(target)
    for q in range(len(k)):
        counts = fine[q].reshape(m, width)
        np.cumsum(counts, axis=1, out=counts)
        exact[q] = (counts < (need[q] - below[q])[:, None]).sum(axis=1)
    return target * width + exact + 1
