"""Reading CSV tables with checks and messages that name the file and row."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from geo.errors import SourceFileError
from geo.words import agree


def read_csv_checked(
    path: Path,
    required: list[str],
    *,
    source: str | None = None,
    numeric: list[str] = (),
    allow_missing: list[str] = (),
) -> pd.DataFrame:
    """Read a UTF-8 (optionally BOM) CSV as strings and check its shape.

    Raises :class:`SourceFileError` naming the file when it cannot be read,
    lacks a required column, has a short (truncated) row, has an empty
    required cell (unless listed in ``allow_missing``) or a non-numeric
    value in a ``numeric`` column. Numeric columns may carry thousands
    separators ("29,199"), as the IoD2019 files do. Returns all columns.
    """
    path = Path(path)
    name = source or str(path)
    try:
        frame = pd.read_csv(
            path, dtype=str, encoding="utf-8-sig", keep_default_na=False, na_values=[""],
            on_bad_lines="error", engine="c",
        )
    except FileNotFoundError:
        raise SourceFileError(f"{name}: file not found") from None
    except UnicodeDecodeError as exc:
        raise SourceFileError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise SourceFileError(f"{name}: malformed CSV ({str(exc).strip().splitlines()[0]})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise SourceFileError(f"{name}: missing {agree(len(missing), 'column', 'columns')} {', '.join(missing)}; "
                              f"found {', '.join(frame.columns[:12])}")
    if frame.empty:
        raise SourceFileError(f"{name}: has a header but no rows")
    must = [c for c in required if c not in allow_missing]
    blank = frame[must].isna().any(axis=1)
    if blank.any():
        row = int(blank.idxmax())
        cols = [c for c in must if pd.isna(frame.at[row, c])]
        raise SourceFileError(
            f"{name}: row {row + 2} has no value for {', '.join(cols)} (truncated or malformed file?)"
        )
    for col in numeric:
        text = frame[col].str.replace(",", "", regex=False).str.strip()
        values = pd.to_numeric(text, errors="coerce")
        bad = values.isna() & text.notna()
        if bad.any():
            row = int(bad.idxmax())
            raise SourceFileError(f"{name}: row {row + 2} column {col}: {frame.at[row, col]!r} is not a number")
        frame[col] = values
    return frame
