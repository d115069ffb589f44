"""Empirical Bayes shrinkage of small-denominator rates towards their district rate.

A rate on a small denominator (say 3 claimants of 40 residents) swings with
chance. Marshall's (1991) local empirical Bayes estimator pulls each rate
towards its district's rate by an amount that depends on how small its
denominator is relative to the real spread of rates between areas:

    m_d  = district rate (sum of numerators / sum of denominators)
    s2_d = sum(n_i (r_i - m_d)^2) / sum(n_i) - m_d / mean(n_i)   (floored at 0)
    C_i  = s2_d / (s2_d + m_d / n_i)
    theta_i = m_d + C_i (r_i - m_d)

Large denominators keep almost their own rate; small ones move towards the
district. Rates are handled as proportions (a % is divided by 100 first).
Reference: Marshall R.J. (1991) Mapping disease and mortality rates using
empirical Bayes estimators. Applied Statistics 40(2), 283-294.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def shrink_rates(numerator: pd.Series, denominator: pd.Series, district: pd.Series) -> pd.Series:
    """Shrunk rates (proportions, 0-1) for areas grouped by ``district`` (aligned Series).

    Areas with a missing or zero denominator stay NaN.
    """
    num = numerator.astype(float)
    den = denominator.astype(float)
    frame = pd.DataFrame({"num": num, "den": den, "d": district})
    ok = frame["den"] > 0
    frame.loc[~ok, ["num", "den"]] = np.nan
    rate = frame["num"] / frame["den"]
    g = frame.groupby("d")
    m = (g["num"].transform("sum") / g["den"].transform("sum"))
    dev = frame["den"] * (rate - m) ** 2
    s2 = (dev.groupby(frame["d"]).transform("sum") / g["den"].transform("sum")) - m / g["den"].transform("mean")
    s2 = s2.clip(lower=0)
    c = s2 / (s2 + m / frame["den"])
    c = c.where(s2 > 0, 0.0)
    return (m + c * (rate - m)).where(ok)
