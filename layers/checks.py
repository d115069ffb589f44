"""Checks shared by the indicator parsers: codes against the store, counts that make sense.

Every failure raises a one-line :class:`~geo.errors.WardscopeError` subclass
naming the source file, the row (1-based, header = row 1) and the value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.errors import GSSCodeError, SourceFileError
from geo.gss import GSS_PATTERN


def file_row(frame: pd.DataFrame, position: int) -> int:
    """The 1-based file row of ``frame``'s row at ``position`` (needs a default RangeIndex from the reader)."""
    return int(frame.index[position]) + 2


def to_numbers(frame: pd.DataFrame, columns: list[str], *, source: str, allow_blank: bool = False) -> pd.DataFrame:
    """Convert ``columns`` to float (thousands separators allowed); raise on text that is not a number."""
    out = frame.copy()
    for col in columns:
        raw = out[col]
        text = raw.astype("string").str.replace(",", "", regex=False).str.strip()
        values = pd.to_numeric(text, errors="coerce")
        bad = values.isna() & text.notna() & (text != "")
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise SourceFileError(f"{source}: row {file_row(out, pos)} column {col!r}: {raw.iloc[pos]!r} is not a number")
        if not allow_blank and values.isna().any():
            pos = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise SourceFileError(f"{source}: row {file_row(out, pos)} column {col!r} is empty")
        out[col] = values.astype("float64")
    return out


def check_non_negative(frame: pd.DataFrame, columns: list[str], *, source: str) -> None:
    for col in columns:
        neg = frame[col].to_numpy(dtype="float64") < 0
        if neg.any():
            pos = int(np.flatnonzero(neg)[0])
            raise SourceFileError(f"{source}: row {file_row(frame, pos)} column {col!r}: {frame[col].iloc[pos]:g} is negative")


def check_range(frame: pd.DataFrame, columns: list[str], low: float, high: float, *, source: str, what: str) -> None:
    for col in columns:
        values = frame[col].to_numpy(dtype="float64")
        bad = (values < low) | (values > high)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise SourceFileError(
                f"{source}: row {file_row(frame, pos)} column {col!r}: {values[pos]:g} is not a possible {what} ({low:g} to {high:g})")


def check_num_den(frame: pd.DataFrame, num: str, den: str, *, source: str, what: str, slack: float = 0.0) -> None:
    """Raise when a numerator is above its denominator (``slack`` allows rounding in estimates)."""
    n = frame[num].to_numpy(dtype="float64")
    d = frame[den].to_numpy(dtype="float64")
    bad = n > d * (1 + slack) + 1e-9
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise SourceFileError(
            f"{source}: row {file_row(frame, pos)} ({frame.iloc[pos].get('code', '')}): {what} numerator {n[pos]:g} "
            f"is above its denominator {d[pos]:g}")


def article(what: str) -> str:
    return "an" if what[:1].lower() in "aeiou" or what.startswith(("LSOA", "MSOA")) else "a"


def check_pattern(frame: pd.DataFrame, column: str, pattern: str, *, source: str, what: str) -> None:
    """Raise naming the first row whose code does not match ``pattern`` (e.g. output areas, E00 + 6 digits)."""
    ok = pd.Series(frame[column].to_numpy(dtype=object), dtype=object).fillna("").str.fullmatch(pattern).to_numpy(dtype=bool)
    if not ok.all():
        pos = int(np.flatnonzero(~ok)[0])
        raise GSSCodeError(f"{source}: row {file_row(frame, pos)}: {frame[column].iloc[pos]!r} is not {article(what)} {what} code")


def member_mask(values, known) -> np.ndarray:
    """Boolean mask of ``values`` that are in ``known`` (hash lookup on plain objects; fast for 100k+ codes)."""
    index = known if isinstance(known, pd.Index) and known.dtype == object else pd.Index(
        np.asarray(known, dtype=object), dtype=object)
    if not index.is_unique:
        index = index.unique()
    return index.get_indexer(np.asarray(values, dtype=object)) >= 0


def restrict_codes(frame: pd.DataFrame, column: str, known: pd.Index, *, source: str, what: str,
                   country: str = "E") -> pd.DataFrame:
    """Keep rows whose code is in ``known``; drop other countries' rows; raise on bad or unknown codes.

    ``known`` is the store's codes of that level (England). A well-formed
    code of ``country`` that is not in the store is an error (a wrong file
    or vintage), as is a malformed code or a duplicate.
    """
    codes = frame[column].to_numpy(dtype=object).copy()
    keep = member_mask(codes, known)
    others = np.flatnonzero(~keep)
    if len(others):  # only codes not found as they are need cleaning and a closer look
        codes[others] = pd.Series(codes[others], dtype=object).fillna("").astype(str).str.strip().to_numpy(dtype=object)
        keep[others] = member_mask(codes[others], known)
        others = others[~keep[others]]
    if len(others):
        rest = pd.Series(codes[others], dtype=object)
        malformed = ~rest.str.match(GSS_PATTERN.pattern).to_numpy(dtype=bool)
        if malformed.any():
            pos = int(others[np.flatnonzero(malformed)[0]])
            raise GSSCodeError(f"{source}: row {file_row(frame, pos)}: {frame[column].iloc[pos]!r} is not a GSS code")
        mine = (rest.str[:1] == country).to_numpy(dtype=bool)
        if mine.any():
            pos = int(others[np.flatnonzero(mine)[0]])
            raise GSSCodeError(
                f"{source}: row {file_row(frame, pos)}: {codes[pos]} is not {article(what)} {what} code in the store "
                f"({int(mine.sum())} unknown code(s)); is the file for the right geography and vintage?")
    out = frame[keep].copy()
    out[column] = codes[keep]
    dup = pd.Index(out[column].to_numpy(dtype=object), dtype=object).duplicated()
    if dup.any():
        pos = int(np.flatnonzero(dup)[0])
        raise GSSCodeError(f"{source}: row {file_row(out, pos)}: {what} code {out[column].iloc[pos]} appears more than once")
    return out


def read_table(path, required: list[str], *, source: str, numeric: list[str] = (), allow_blank: list[str] = (),
               thousands: str | None = None) -> pd.DataFrame:
    """Read the ``required`` columns of a CSV fast; on any problem, re-read slowly to name the row.

    Text columns come back as Python strings (object), ``numeric`` ones as
    float64 (``thousands`` separators allowed). Blank cells are errors except
    in ``allow_blank``. The index is the file row minus 2.
    """
    from geo.tables import read_csv_checked

    wanted = list(dict.fromkeys(required))
    numeric = [c for c in numeric if c in wanted]
    dtypes = {c: ("float64" if c in numeric else object) for c in wanted}
    try:
        frame = pd.read_csv(path, usecols=lambda c: c.strip() in wanted, dtype=dtypes, encoding="utf-8-sig",
                            keep_default_na=False, na_values=[""], thousands=thousands, engine="c",
                            on_bad_lines="error")
        frame.columns = [c.strip() for c in frame.columns]
        if set(frame.columns) != set(wanted) or frame.empty:
            raise ValueError("columns")
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError):
        slow = read_csv_checked(path, wanted, source=source, allow_missing=list(allow_blank) + numeric)
        to_numbers(slow, numeric, source=source, allow_blank=True)
        raise SourceFileError(f"{source}: cannot be read as a table of {', '.join(wanted[:4])}")
    frame = frame[wanted]
    for col in wanted:
        if col in allow_blank:
            continue
        blank = frame[col].isna().to_numpy()
        if blank.any():
            pos = int(np.flatnonzero(blank)[0])
            raise SourceFileError(f"{source}: row {pos + 2} has no value for {col} (truncated or malformed file?)")
    return frame
