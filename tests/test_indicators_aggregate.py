"""Aggregation by summing numerators and denominators, and the RAG rules, on small fixtures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from layers import aggregate
from layers.claimant import rose_sharply
from layers.comparators import rag
from layers.registry import build_indicator, builtin_registry

BASE = {"label": "l", "topic": "t", "publisher": "p", "dataset": "d", "period": "2021", "caveat": "c", "levels": ["lsoa", "ward"]}


def ind(ind_id, **kw):
    return build_indicator(ind_id, {**BASE, **kw})


RATE = ind("a_rate", kind="rate", unit="%", scale=100, rag="relative", rag_tolerance=0.1)
COUNT = ind("a_count", kind="count", unit="count")
SCORE = ind("a_score", kind="score", unit="score")
REG = {i.id: i for i in (RATE, COUNT, SCORE)}


def rows():
    # two LSOAs in ward W1 with very different sizes, one in W2, one in W3 with no data at all
    return pd.DataFrame({
        "code": ["L1", "L2", "L3", "L4"],
        "a_rate__num": [1.0, 50.0, 5.0, np.nan], "a_rate__den": [10.0, 100.0, 50.0, np.nan],
        "a_count": [3.0, 4.0, 0.0, np.nan],
        "a_score__num": [10.0 * 100, 30.0 * 300, 7.0 * 10, np.nan], "a_score__den": [100.0, 300.0, 10.0, np.nan],
    })


def test_rates_sum_numerators_and_denominators_never_average():
    out = aggregate.aggregate(rows(), ["W1", "W1", "W2", "W3"], [RATE], REG)
    assert out.loc["W1", "a_rate"] == pytest.approx(100 * 51 / 110)
    assert out.loc["W1", "a_rate"] != pytest.approx((10.0 + 50.0) / 2)  # the mean of the two rates
    assert out.loc["W1", "a_rate__num"] == 51 and out.loc["W1", "a_rate__den"] == 110
    assert out.loc["W2", "a_rate"] == pytest.approx(10.0)
    assert np.isnan(out.loc["W3", "a_rate"])  # no data is NaN, never 0


def test_counts_sum_and_empty_groups_are_nan_not_zero():
    out = aggregate.aggregate(rows(), ["W1", "W1", "W2", "W3"], [COUNT], REG)
    assert out.loc["W1", "a_count"] == 7
    assert out.loc["W2", "a_count"] == 0  # a real zero stays zero
    assert np.isnan(out.loc["W3", "a_count"])


def test_scores_are_population_weighted_averages():
    out = aggregate.aggregate(rows(), ["W1", "W1", "W2", "W3"], [SCORE], REG)
    assert out.loc["W1", "a_score"] == pytest.approx((10 * 100 + 30 * 300) / 400)
    assert out.loc["W2", "a_score"] == pytest.approx(7.0)


def test_a_missing_numerator_does_not_count_in_the_denominator():
    frame = rows()
    frame.loc[1, "a_rate__num"] = np.nan  # L2 has a denominator but no numerator
    out = aggregate.aggregate(frame, ["W1", "W1", "W2", "W3"], [RATE], REG)
    assert out.loc["W1", "a_rate"] == pytest.approx(10.0)  # only L1: 1/10
    total = aggregate.total(frame, [RATE, COUNT], REG)
    assert total["a_rate"] == pytest.approx(100 * 6 / 60)
    assert total["a_count"] == 7


def test_rose_sharply_flag_needs_both_thresholds():
    rate = pd.Series([3.0, 3.0, 1.0, 5.0, np.nan])
    change = pd.Series([1.0, 0.4, 0.6, 0.6, 1.0])
    flag = rose_sharply(rate, change)
    # +1.0 from 2.0 (50%): yes; +0.4: too small; +0.6 from 0.4: yes; +0.6 from 4.4 (14%): no; no rate: NaN
    assert flag.iloc[:4].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert np.isnan(flag.iloc[4])


def test_claimant_flag_is_derived_from_summed_counts():
    reg = builtin_registry()
    wanted = [reg["claimant_rate_rose_sharply"]]
    frame = pd.DataFrame({"claimant_rate__num": [20.0, 40.0], "claimant_rate__den": [1000.0, 1000.0],
                          "claimant_rate_change_12m__num": [10.0, 5.0], "claimant_rate_change_12m__den": [1000.0, 1000.0]})
    out = aggregate.aggregate(frame, ["W", "W"], wanted, reg)
    # rate 3.0%, change +0.75 pp from 2.25% (+33%): flagged
    assert out.loc["W", "claimant_rate_rose_sharply"] == 1.0


@pytest.mark.parametrize("direction, values, expected", [
    (1, [12.0, 10.5, 9.5, 8.0], ["red", "amber", "amber", "green"]),
    (-1, [12.0, 10.5, 9.5, 8.0], ["green", "amber", "amber", "red"]),
])
def test_rag_relative_tolerance_and_direction(direction, values, expected):
    rule = ind("rule_x", kind="rate", unit="%", scale=100, rag="relative", rag_tolerance=0.1, direction=direction)
    assert rag(rule, np.array(values), 10.0).tolist() == expected
    assert "10%" in rule.rag_rule()


def test_rag_uses_the_confidence_interval_when_there_is_one():
    rule = ind("rule_x", kind="rate", unit="%", scale=100, rag="ci", levels=["lad"])
    out = rag(rule, np.array([75.0, 75.0, 70.0, np.nan]), 72.0, ci=np.array([2.0, 4.0, 3.0, 2.0]))
    assert out.tolist() == ["red", "amber", "amber", None]


def test_rag_for_deciles_ranks_and_context_figures():
    reg = builtin_registry()
    assert rag(reg["imd2025_decile"], np.array([1.0, 3.0, 4.0, 7.0, 8.0, 10.0]), np.nan).tolist() == \
        ["red", "red", "amber", "amber", "green", "green"]
    assert rag(reg["imd2025_rank"], np.array([100.0, 20000.0, 33000.0]), np.nan).tolist() == ["red", "amber", "green"]
    assert rag(reg["census21_pop_16_64"], np.array([1000.0]), 900.0).tolist() == [None]
