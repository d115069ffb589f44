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
                n_draws: int, seed: int, methods: list[str] | None = None, scope: np.ndarray | None = None) -> pd.DataFrame:
    """Rank distribution of the ``scope`` rows of ``values`` (all rows normalised together).

    Returns one row per scope row: ``median_rank``, ``rank_p05``, ``rank_p95``,
    ``band_share`` (0-1) and ``robust`` (bool); NaN/False for unscored areas.
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
    share = max(profile.band_shares)
    n = int(scope.sum())
    m = int(eligible.sum())
    all_ranks = np.zeros((n_draws, m), dtype=np.int32)
    in_band = np.zeros(m, dtype=np.int32)
    cut = band_size(share, m)
    for mi, method in enumerate(methods):
        norm = norms[method][eligible]
        avail = ~np.isnan(norm)
        filled = np.where(avail, norm, 0.0).astype(np.float32)
        avail32 = None if avail.all() else avail.astype(np.float32)
        idx = np.flatnonzero(chosen == mi)
        for start in range(0, len(idx), CHUNK_DRAWS):
            block = idx[start:start + CHUNK_DRAWS]
            if profile.threshold is not None:
                d32 = draws[block].astype(np.float32)
                scores = d32 @ filled.T
                if avail32 is not None:
                    scores /= d32 @ avail32.T
                in_band += (scores >= profile.threshold).sum(axis=0).astype(np.int32)
                all_ranks[block] = _draw_ranks(filled, avail32, draws[block])
            else:
                ranks = _draw_ranks(filled, avail32, draws[block])
                all_ranks[block] = ranks
                in_band += (ranks <= cut).sum(axis=0).astype(np.int32)
    k = [int(round(q * (n_draws - 1))) for q in (0.05, 0.5, 0.95)]
    part = np.partition(all_ranks, k, axis=0) if m else np.zeros((n_draws, 0), dtype=np.int32)
    out = pd.DataFrame({"median_rank": np.nan, "rank_p05": np.nan, "rank_p95": np.nan, "band_share": np.nan},
                       index=range(n))
    out.loc[eligible, "median_rank"] = part[k[1]].astype(float)
    out.loc[eligible, "rank_p05"] = part[k[0]].astype(float)
    out.loc[eligible, "rank_p95"] = part[k[2]].astype(float)
    out.loc[eligible, "band_share"] = np.round(in_band / n_draws, 4)
    out["robust"] = (out["band_share"] >= profile.robust_share).fillna(False).astype(bool)
    return out
