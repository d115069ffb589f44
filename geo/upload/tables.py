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
from geo.words import agree, count_of

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


#: Numbers in a semicolon-separated file (continental Excel) may use a decimal comma: '51,88', '1.234,5'.
_COMMA_DECIMAL = re.compile(r"[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+")
#: ...and one of these can only be a decimal comma ('8,000' could also be a thousands separator).
_ONLY_DECIMAL_COMMA = re.compile(r"[+-]?(\d{1,3}(\.\d{3})+,\d+|\d+,(\d{1,2}|\d{4,}))")
#: Points as thousands separators, as such a spreadsheet writes them: '8.000', '1.250.000'.
_POINT_THOUSANDS = re.compile(r"[+-]?\d{1,3}(\.\d{3})+")
_POINT_DECIMAL = re.compile(r"[+-]?\d*\.\d+([eE][+-]?\d+)?")


def _matches(frame: pd.DataFrame, pattern: re.Pattern) -> pd.DataFrame:
    """Boolean frame: cells (stripped) that are wholly ``pattern``."""
    return frame.apply(lambda col: col.str.strip().str.fullmatch(pattern.pattern).fillna(False).astype(bool))


def _first(frame: pd.DataFrame, mask: pd.DataFrame, lines: list[int]) -> tuple[int, str, str]:
    """(line, column, cell) of the first cell flagged in ``mask``, by line then column order."""
    rows, cols = mask.to_numpy().nonzero()
    row, col = min(zip(rows, cols))
    return lines[row], frame.columns[col], str(frame.iat[row, col]).strip()


def read_decimal_commas(frame: pd.DataFrame, lines: list[int], source: str) -> tuple[pd.DataFrame, str | None]:
    """Read a semicolon-separated table's decimal commas as decimal points; return (frame, note or None).

    Semicolons separate the columns when the spreadsheet that wrote the file writes 51,88 for 51.88.
    When some number in the file can only be a decimal comma ('51,88', '1.234,5'), every number is
    read as that spreadsheet shows it: the comma is the decimal point and a point separates thousands
    ('8,000' is 8.000, '8.000' is 8000), and the note says so. Without such a number the file is read
    as in the UK ('8,000' is 8000). A file that also has numbers with a decimal point ('-0.42') is
    refused, naming a line of each: which rule each number follows would be a guess.
    """
    only = _matches(frame, _ONLY_DECIMAL_COMMA)
    if not only.to_numpy().any():
        return frame, None
    line, col, cell = _first(frame, only, lines)
    thousands = _matches(frame, _POINT_THOUSANDS)
    point = _matches(frame, _POINT_DECIMAL) & ~thousands
    if point.to_numpy().any():
        p_line, p_col, p_cell = _first(frame, point, lines)
        raise UploadRejected(
            f"{source}: mixes decimal commas (line {line}, column {col!r}: {cell!r}) and decimal points (line "
            f"{p_line}, column {p_col!r}: {p_cell!r}); write every number the same way and upload it again"
        )
    numbers = _matches(frame, _COMMA_DECIMAL) | thousands
    changed = [c for c in frame.columns if numbers[c].any()]
    frame = frame.copy()
    for name in changed:
        cells = frame.loc[numbers[name], name].str.strip()
        frame.loc[numbers[name], name] = cells.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    shown = ", ".join(repr(c) for c in changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
    example = cell.replace(".", "").replace(",", ".")
    return frame, (f"{source}: is separated by semicolons and uses decimal commas, so numbers were read with the "
                   f"comma as the decimal point (line {line}: {cell!r} = {example}; "
                   f"{agree(len(changed), 'column', 'columns')} {shown})")


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
    text : decoded CSV text (see ``geo.upload.sniff.decode_text``).
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
    delimiter = _delimiter(first_line)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter, strict=True)
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
                    f"{source}: line {reader.line_num} has {count_of(len(row), 'field')} but the header has {ncols} "
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
    warnings = []
    if delimiter == ";":  # only a semicolon file can hold an unquoted decimal comma
        frame, note = read_decimal_commas(frame, lines, source)
        warnings += [note] if note else []
    formula = sorted((lines[i], col) for col in header for i in formula_rows(frame[col]))
    if formula:
        line, col = formula[0]
        warnings.append(
            f"{source}: {count_of(len(formula), 'cell')} {agree(len(formula), 'starts', 'start')} with =, +, -, @ or "
            "a tab like spreadsheet formulas "
            f"(first line {line}, column {col!r}); they are kept as text and neutralised in exports"
        )
    frame.attrs.update(source=source, line_numbers=lines, formula_cells=formula, warnings=warnings)
    return frame
