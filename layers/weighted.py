"""Weighted scores of normalised indicators, and how many areas a band holds.

The arithmetic shared by a score (:mod:`layers.scoring`) and its robustness
draws (:mod:`layers.robustness`); plain numpy arrays, no units beyond the
0-100 need scale of :mod:`layers.normalise`.
"""

from __future__ import annotations

import numpy as np


def weighted_scores(norm: np.ndarray, weights: np.ndarray, *, missing: str = "reweight",
                    max_missing_share: float = 0.34) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(score, contributions, missing_share) from normalised values and weights summing to 1."""
    avail = ~np.isnan(norm)
    filled = np.where(avail, norm, 0.0)
    present = avail @ weights
    missing_share = 1.0 - present
    if missing == "exclude":
        scale = np.where(missing_share < 1e-12, 1.0, np.nan)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(missing_share <= max_missing_share + 1e-12, 1.0 / present, np.nan)
    contributions = filled * weights[None, :] * scale[:, None]
    if not avail.all():
        # a missing indicator contributes nothing (0), or NaN when the area gets no score at all
        contributions[~avail] = np.broadcast_to(np.where(np.isnan(scale), np.nan, 0.0)[:, None], norm.shape)[~avail]
    score = contributions.sum(axis=1)
    score[np.isnan(scale)] = np.nan
    return score, contributions, missing_share


def band_size(share: float, n_scored: int) -> int:
    """How many areas are in the top ``share`` of ``n_scored`` (rounded, at least one)."""
    return max(1, int(np.floor(share * n_scored + 0.5))) if n_scored else 0
