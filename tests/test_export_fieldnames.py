"""Shapefile short names: at most 10 ASCII characters, unique, the same for the same columns."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import FieldNameCollisionError
from geo.export.fieldnames import MAX_LEN, shorten, short_names

DBF_NAME = re.compile(r"^[a-z][a-z0-9_]{0,9}$", re.IGNORECASE)


@pytest.mark.parametrize("full, short", [
    ("code", "code"),                          # fits: kept
    ("population", "population"),              # exactly 10: kept
    ("overlap_count", "ovrlp_cnt"),            # inner vowels dropped, _ kept
    ("indicator_01_rate", "indctr01rt"),       # words joined; the number survives (GDAL: indicato_1)
    ("hub_coverage_pct", "hubcvrgpct"),        # short words keep their vowels
    ("claimant_rate_change_2024", "clrtch2024"),  # longest words shrink first; the year is kept
    ("Ynys Môn", "ynys_mon"),                  # accents folded to ASCII
    ("2024_rate", "f2024_rate"),               # may not start with a digit
    ("£%&", "field"),                          # nothing usable left
])
def test_documented_examples_of_the_rule(full, short):
    assert shorten(full) == short


def test_collisions_get_numbers_by_full_name_order_whatever_the_column_order():
    names = ["claimant_count_rate", "claimant_cnt_rate", "score"]
    assert shorten("claimant_count_rate") == shorten("claimant_cnt_rate")  # a real collision
    forward, backward = short_names(names), short_names(list(reversed(names)))
    assert forward == backward
    base = shorten("claimant_cnt_rate")
    assert forward["claimant_cnt_rate"] == base                      # first by full name keeps it
    assert forward["claimant_count_rate"] == base[:MAX_LEN - 1] + "2"  # the next gets 2, within 10
    assert forward["score"] == "score"


def test_a_number_never_takes_another_columns_own_name():
    # both long names shorten to 'bbbbbbbbbb'; 'bbbbbbbbb2' is a third column's own name, so the second gets 3
    shorts = short_names(["bbbbbbbbbbb1", "bbbbbbbbbbb2", "bbbbbbbbb2"])
    assert shorts == {"bbbbbbbbbbb1": "bbbbbbbbbb", "bbbbbbbbbbb2": "bbbbbbbbb3", "bbbbbbbbb2": "bbbbbbbbb2"}


def test_explicit_short_names_are_reserved_and_checked():
    shorts = short_names(["overlap_count", "overlap_counts_all"], {"overlap_counts_all": "ovrlp_cnt"})
    assert shorts["overlap_counts_all"] == "ovrlp_cnt" and shorts["overlap_count"] == "ovrlp_cnt2"
    with pytest.raises(FieldNameCollisionError, match="'a' and 'b' were both given the short name 'X1'"):
        short_names(["a", "b"], {"a": "x1", "b": "X1"})
    with pytest.raises(FieldNameCollisionError, match="not a shapefile field name"):
        short_names(["a"], {"a": "much_too_long_name"})


names = st.lists(st.text(alphabet=st.sampled_from("abcdeiou_0123456789ôé -"), min_size=1, max_size=30),
                 min_size=1, max_size=40, unique=True)


@settings(max_examples=200, deadline=None)
@given(names, st.randoms(use_true_random=False))
def test_any_columns_get_unique_valid_names_independent_of_order(columns, rnd):
    shorts = short_names(columns)
    assert set(shorts) == set(columns)
    assert all(DBF_NAME.match(s) for s in shorts.values()), shorts
    assert len({s.casefold() for s in shorts.values()}) == len(columns)
    shuffled = list(columns)
    rnd.shuffle(shuffled)
    assert short_names(shuffled) == shorts
