"""ONS GSS codes: the nine-character keys used everywhere in Wardscope.

A GSS code is a country letter (E, W, S, N), a two-digit entity code and a
six-digit instance number, e.g. ``E01000001`` (an LSOA in England).
"""

from __future__ import annotations

import re

import pandas as pd

from geo.errors import GSSCodeError

# ASCII digits only (\d also matches e.g. Arabic-Indic digits) and \Z, not $ (which allows a trailing newline).
GSS_PATTERN = re.compile(r"^[EWSNK][0-9]{8}\Z")

#: Entity codes (the first three characters) by Wardscope level.
ENTITIES: dict[str, tuple[str, ...]] = {
    "oa": ("E00", "W00"),
    "lsoa": ("E01", "W01"),
    "lsoa11": ("E01", "W01"),
    "msoa": ("E02", "W02"),
    "ward": ("E05", "W05"),
    "lad": ("E06", "E07", "E08", "E09", "W06"),
}

LEVEL_NAMES = {
    "oa": "output area",
    "lsoa": "LSOA 2021",
    "lsoa11": "LSOA 2011",
    "msoa": "MSOA",
    "ward": "electoral ward",
    "lad": "local authority district",
}


def is_gss(code: object) -> bool:
    """True when ``code`` is a well-formed GSS code (any entity)."""
    return isinstance(code, str) and bool(GSS_PATTERN.fullmatch(code))


def level_of(code: str) -> str | None:
    """The Wardscope level a code belongs to (``lsoa`` for E01), or None."""
    if not is_gss(code):
        return None
    prefix = code[:3]
    for level, prefixes in ENTITIES.items():
        if level == "lsoa11":
            continue
        if prefix in prefixes:
            return level
    return None


def normalise(code: object) -> str:
    """Strip spaces and upper-case a code; raise if it is not a GSS code."""
    text = str(code).strip().upper() if code is not None else ""
    if not is_gss(text):
        raise GSSCodeError(f"{code!r} is not a GSS code (expected a letter and 8 digits, e.g. E01000001)")
    return text


def check_codes(codes: pd.Series, *, level: str, source: str) -> None:
    """Raise :class:`GSSCodeError` unless every code is a unique GSS code of ``level``.

    ``source`` names the file or table in the message.
    """
    codes = codes.astype("string")
    bad = codes[~codes.fillna("").str.match(GSS_PATTERN.pattern)]
    if len(bad):
        row = bad.index[0]
        raise GSSCodeError(
            f"{source}: {len(bad)} value(s) are not GSS codes, first {bad.iloc[0]!r} at row {row}"
        )
    prefixes = ENTITIES[level]
    wrong = codes[~codes.str[:3].isin(prefixes)]
    if len(wrong):
        raise GSSCodeError(
            f"{source}: {len(wrong)} code(s) are not {LEVEL_NAMES[level]} codes "
            f"({'/'.join(prefixes)}...), first {wrong.iloc[0]!r} at row {wrong.index[0]}"
        )
    dup = codes[codes.duplicated()]
    if len(dup):
        raise GSSCodeError(
            f"{source}: duplicate {LEVEL_NAMES[level]} code {dup.iloc[0]!r} "
            f"({dup.nunique()} code(s) appear more than once)"
        )
