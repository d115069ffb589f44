"""Putting indicators on a common scale before they are weighted.

Every method turns "more need" into a larger number (``direction`` +1 means
a higher raw value is more need, -1 the reverse) and keeps missing values
missing (NaN): an area is never silently given zero.

``rank_exponential`` is the Indices of Deprivation method (MHCLG, IoD2019
technical report, section 3.6): rank the areas from least to most need,
scale the rank to (0, 1] as R/N, then

    X = -23 * ln(1 - R/N * (1 - exp(-100 / 23)))

which runs from about 0 to 100 and stretches the most-need end, so a very
high value on one indicator is only partly cancelled by low values on others.
``zscore`` is (x - mean) / standard deviation; ``minmax`` scales to 0-100.
All statistics are taken over the areas given (Wardscope passes all of
England at the chosen level, so scores are comparable nationally).
"""

from __future__ import annotations

import numpy as np

METHODS = ("rank_exponential", "zscore", "minmax")
#: The IoD exponential transform constant (gives a 0-100 range).
EXP_CONSTANT = 23.0


def exponential_transform(scaled_rank: np.ndarray) -> np.ndarray:
    """IoD exponential transform of scaled ranks in (0, 1] (see module docstring)."""
    return -EXP_CONSTANT * np.log(1.0 - scaled_rank * (1.0 - np.exp(-100.0 / EXP_CONSTANT)))


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n (1 = smallest), ties sharing their average rank, as scipy's rankdata(method="average").

    Uses numpy's default (unstable, faster) sort: tied values get the same
    rank whichever order the sort leaves them in.
    """
    n = len(x)
    order = np.argsort(x)
    xs = x[order]
    tie = xs[1:] == xs[:-1]
    if tie.any():
        first = np.concatenate(([True], ~tie))
        starts = np.flatnonzero(first)
        ends = np.append(starts[1:], n)
        ranks_sorted = ((starts + ends + 1) / 2.0)[np.cumsum(first) - 1]  # mean of ranks start+1..end
    else:
        ranks_sorted = np.arange(1.0, n + 1.0)
    out = np.empty(n)
    out[order] = ranks_sorted
    return out


def _rank_exponential(x: np.ndarray) -> np.ndarray:
    out = np.full(x.shape, np.nan)
    ok = ~np.isnan(x)
    n = int(ok.sum())
    if n:
        out[ok] = exponential_transform(average_ranks(x[ok]) / n)  # 1 = least need
    return out


def _zscore(x: np.ndarray) -> np.ndarray:
    mean, sd = np.nanmean(x), np.nanstd(x)
    return (x - mean) / sd if sd > 0 else np.where(np.isnan(x), np.nan, 0.0)


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = np.nanmin(x), np.nanmax(x)
    return (x - lo) / (hi - lo) * 100.0 if hi > lo else np.where(np.isnan(x), np.nan, 0.0)


_FUNCS = {"rank_exponential": _rank_exponential, "zscore": _zscore, "minmax": _minmax}


def normalise(values: np.ndarray, directions: np.ndarray, method: str) -> np.ndarray:
    """Normalise each column of ``values`` (areas x indicators) so that larger = more need.

    ``directions`` holds +1 or -1 per column. NaN stays NaN.
    """
    if method not in _FUNCS:
        raise ValueError(f"unknown normalisation {method!r}; choose one of {', '.join(METHODS)}")
    values = np.asarray(values, dtype=float)
    # one contiguous row per indicator: sorting strided columns is several times slower
    signed = np.ascontiguousarray((values * np.asarray(directions, dtype=float)[None, :]).T)
    func = _FUNCS[method]
    out = np.empty_like(signed)
    for j in range(signed.shape[0]):
        row = signed[j]
        out[j] = func(row) if not np.all(np.isnan(row)) else np.nan
    return out.T
