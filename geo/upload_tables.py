"""Reading uploaded CSV tables: text in, checked text out.

Cells stay text (loaders convert the columns they need), so nothing in a
cell is ever interpreted. Cells that a spreadsheet would run as a formula
(starting ``=``, ``+``, ``-``, ``@``, tab or carriage return, and not a plain
number) are kept exactly as they are and listed in ``frame.attrs["formula_cells"]``
with a warning; exports neutralise them before writing CSV/Excel.
"""

from __future__ import annotations

import csv
import io
import re

import pandas as pd

from geo.config import UploadLimits, upload_limits
from geo.errors import UploadRejected, UploadTooLarge

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Plain numbers (with sign, thousands separators, decimals, exponent or %) are not formulas.
_NUMBER = re.compile(r"[+-]?(\d[\d,]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?")


def is_formula_like(cell: object) -> bool:
    """True when a spreadsheet could treat ``cell`` as a formula (OWASP CSV injection rule)."""
    return isinstance(cell, str) and cell.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(cell.strip())


def formula_rows(column: pd.Series) -> list:
    """Index labels of the cells in ``column`` that :func:`is_formula_like` flags (vectorised)."""
    text = column.dropna().astype(str)
    starts = text[text.str.startswith(FORMULA_PREFIXES)]
    if starts.empty:
        return []
    numeric = starts.str.strip().str.fullmatch(_NUMBER.pattern)
    return starts.index[~numeric.astype(bool)].tolist()


def _delimiter(first_line: str) -> str:
    """Comma, unless the header clearly uses semicolons (continental Excel) or tabs."""
    if "," in first_line:
        return ","
    if ";" in first_line:
        return ";"
    if "\t" in first_line:
        return "\t"
    return ","


def read_table(text: str, *, source: str, limits: UploadLimits | None = None) -> pd.DataFrame:
    """Parse CSV ``text`` into a DataFrame of strings (blank cells are missing values).

    Parameters
    ----------
    text : decoded CSV text (see ``geo.sniff.decode_text``).
    source : file name for messages.
    limits : row and column limits (default ``geo.config.upload_limits()``).

    Returns
    -------
    DataFrame with the header's column names (blank names become ``column_<n>``)
    and one row per non-blank line. ``attrs``: ``source``, ``line_numbers``
    (file line of each row, for messages), ``formula_cells`` (list of
    ``(line, column)``) and ``warnings`` (one-line notes for the user).

    Raises :class:`UploadTooLarge` over a limit and :class:`UploadRejected`
    for a malformed table (message names the line).
    """
    limits = limits or upload_limits()
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=_delimiter(first_line), strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        header = next(reader, None)
        while header is not None and not any(c.strip() for c in header):
            header = next(reader, None)
        if header is None:
            raise UploadRejected(f"{source}: has no header row (the file is empty)")
        header = [c.strip() or f"column_{i + 1}" for i, c in enumerate(header)]
        while len(header) > 1 and header[-1] == f"column_{len(header)}":
            header.pop()  # trailing empty header cells, as Excel leaves after deleted columns
        ncols = len(header)
        if ncols > limits.max_columns:
            raise UploadTooLarge(f"{source}: has {ncols:,} columns; the limit is {limits.max_columns:,}")
        dupes = sorted({c for c in header if header.count(c) > 1})
        if dupes:
            raise UploadRejected(f"{source}: the column {dupes[0]!r} appears more than once in the header; rename one")
        for row in reader:
            if not any(row) or not "".join(row).strip():
                continue
            if len(row) > ncols and not any(c.strip() for c in row[ncols:]):
                row = row[:ncols]
            if len(row) != ncols:
                raise UploadRejected(
                    f"{source}: line {reader.line_num} has {len(row)} field(s) but the header has {ncols} "
                    f"(truncated or malformed file?)"
                )
            rows.append(row)
            lines.append(reader.line_num)
            if len(rows) > limits.max_rows:
                raise UploadTooLarge(f"{source}: has more than {limits.max_rows:,} rows; the limit is {limits.max_rows:,}")
    except csv.Error as exc:
        problem = str(exc).strip()
        if "field larger than field limit" in problem:
            raise UploadTooLarge(
                f"{source}: near line {reader.line_num + 1} a cell is longer than {csv.field_size_limit():,} characters "
                f"(an unclosed quote?)"
            ) from None
        raise UploadRejected(f"{source}: malformed CSV at line {reader.line_num} ({problem})") from None
    if not rows:
        raise UploadRejected(f"{source}: has a header but no rows")
    frame = pd.DataFrame(rows, columns=header, dtype="str")
    frame = frame.mask(frame == "")
    formula = sorted((lines[i], col) for col in header for i in formula_rows(frame[col]))
    warnings = []
    if formula:
        line, col = formula[0]
        warnings.append(
            f"{source}: {len(formula):,} cell(s) start with =, +, -, @ or a tab like spreadsheet formulas "
            f"(first line {line}, column {col!r}); they are kept as text and neutralised in exports"
        )
    frame.attrs.update(source=source, line_numbers=lines, formula_cells=formula, warnings=warnings)
    return frame
