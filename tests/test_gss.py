"""GSS-code parsing: well-formed codes accepted, everything else refused with GSSCodeError (property-based)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import GSSCodeError
from geo.gss import check_codes, is_gss, level_of, normalise

FAST = settings(max_examples=200, deadline=None)
STRICT = re.compile(r"[EWSNK][0-9]{8}")

codes = st.builds(lambda c, n: f"{c}{n:08d}", st.sampled_from("EWSNK"), st.integers(0, 99_999_999))


@FAST
@given(st.one_of(st.text(max_size=20), st.binary(max_size=20), st.integers(), st.none(), st.floats()))
def test_is_gss_and_level_of_never_raise_and_agree_with_strict_pattern(value):
    assert is_gss(value) == (isinstance(value, str) and STRICT.fullmatch(value) is not None)
    level = level_of(value) if isinstance(value, str) else None
    assert level is None or is_gss(value)


@FAST
@given(st.one_of(st.text(max_size=20), st.integers(), st.none(), st.floats(), st.binary(max_size=12)))
def test_normalise_returns_a_code_or_raises_gss_code_error(value):
    try:
        out = normalise(value)
    except GSSCodeError as exc:
        assert "is not a GSS code" in str(exc) and "\n" not in str(exc)
    else:
        assert STRICT.fullmatch(out)


@FAST
@given(codes, st.sampled_from([" ", "\t", ""]))
def test_normalise_accepts_padded_lower_case_codes(code, pad):
    assert normalise(pad + code.lower() + pad) == code


@pytest.mark.parametrize("bad", ["E01000001\n", "E" + "\u0966" * 8, "e01000001x", "E0100000", "E010000011"])
def test_near_misses_are_not_gss_codes(bad):
    """A trailing newline ($ would allow it) and non-ASCII digits (\\d would allow them) are refused."""
    assert not is_gss(bad)
    with pytest.raises(GSSCodeError):
        check_codes(pd.Series([bad]), level="lsoa", source="t.csv")


@FAST
@given(st.lists(st.one_of(codes, st.text(max_size=12), st.none()), min_size=1, max_size=30),
       st.sampled_from(["lsoa", "ward", "lad", "oa"]))
def test_check_codes_passes_or_raises_gss_code_error(values, level):
    try:
        check_codes(pd.Series(values, dtype=object), level=level, source="t.csv")
    except GSSCodeError as exc:
        assert str(exc).startswith("t.csv: ")
    else:
        assert all(isinstance(v, str) and STRICT.fullmatch(v) for v in values)
        assert len(set(values)) == len(values)
