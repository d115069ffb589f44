"""The main reasons shown beside a ranking: the biggest contributions first, never an unknown one.

``top_reasons_table`` does every row at once (the explorer shows all of England's wards); it must give
what the plain rule below gives row by row, ties and gaps included.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from layers.scoring import top_reasons, top_reasons_table

IDS = ["a_pct", "b_rate", "c_score", "d_pct"]
LABELS = {"a_pct": "A", "b_rate": "B", "c_score": "C"}  # d_pct has no label: its id is shown


def plain_rule(row: dict, ids, n=3):
    known = [(v, i) for i in ids if (v := row.get(f"contrib__{i}")) is not None and not math.isnan(v)]
    known.sort(key=lambda vi: vi[1], reverse=True)  # ties in reverse id order...
    known.sort(key=lambda vi: -vi[0])  # ...biggest first (a stable sort keeps that order among equals)
    return [LABELS.get(i, i) for _, i in known[:n]]


values = st.one_of(st.none(), st.sampled_from([0.0, 0.5, 1.0, -np.inf]), st.floats(-5, 5, allow_nan=False))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({f"contrib__{i}": values for i in IDS}), min_size=1, max_size=12),
       st.integers(1, 4))
def test_every_row_matches_the_plain_rule(rows, n):
    frame = pd.DataFrame(rows).astype(float)
    got = top_reasons_table(frame, IDS, LABELS, n)
    assert got == [plain_rule(r, IDS, n) for r in frame.to_dict("records")]
    assert [top_reasons(r, IDS, LABELS, n) for _, r in frame.iterrows()] == got


def test_unknown_contributions_are_never_reasons_and_missing_columns_are_skipped():
    frame = pd.DataFrame({"contrib__a_pct": [np.nan, 2.0], "contrib__b_rate": [1.0, pd.NA], "name": ["x", "y"]})
    assert top_reasons_table(frame, IDS, LABELS) == [["B"], ["A"]]
    assert top_reasons_table(frame, ["a_pct", "a_pct"], LABELS) == [[], ["A"]]  # an id given twice is one reason
    assert top_reasons_table(frame[["name"]], IDS, LABELS) == [[], []]


def test_on_real_scores_the_reasons_are_the_largest_contributions(store):
    from layers.profiles import load_profile
    from layers.scoring import score_area

    scored = score_area(load_profile("neighbourhood"), "Luton", level="ward", store=store)
    reasons = top_reasons_table(scored.areas, scored.indicators, {i: i for i in scored.indicators})
    for (_, row), got in zip(scored.areas.iterrows(), reasons):
        contrib = {i: row[f"contrib__{i}"] for i in scored.indicators if pd.notna(row.get(f"contrib__{i}"))}
        assert len(got) == min(3, len(contrib))
        assert [contrib[i] for i in got] == sorted(contrib.values(), reverse=True)[:len(got)]
