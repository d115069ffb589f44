"""CSV that Excel opens safely: UTF-8 with a byte-order mark, formula injection neutralised.

Excel treats a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, via
DDE tricks, tab or carriage return) as a formula, so a place or site name
such as ``=HYPERLINK(...)`` could run when a planner opens the file. As
OWASP's CSV-injection guidance advises, every *text* cell starting with one
of those characters gets a single quote in front (``'=HYPERLINK(...)``);
Excel shows the text and does not evaluate it. Columns of numbers are
written as numbers (``-1.5`` stays a number), and a text cell that is just a
plain number (``-1.5``) is left alone, since Excel reads it as that number,
not as a formula.

The file starts with a UTF-8 byte-order mark (BOM). Without it, Excel on
Windows opens a double-clicked CSV in the local ANSI code page and shows
``Ynys MÃ´n``; with it, Excel, LibreOffice, pandas, R's readr and GDAL all
read UTF-8 correctly. (Tools that do not expect a BOM see it as part of the
first header, so the first column is ``code`` after stripping ``\\ufeff``.)
"""

from __future__ import annotations

import re

import pandas as pd

#: Characters that make a spreadsheet cell a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Byte-order mark written at the start of every CSV (see module docstring).
BOM = "\ufeff"
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralise(value: object) -> object:
    """Prefix ``'`` to a string that a spreadsheet would run as a formula; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell (and header) neutralised; numeric and true/false columns untouched."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_string_dtype(values) or values.dtype == object:
            out[column] = values.map(neutralise, na_action="ignore").astype(object)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` (no geometry) as safe CSV: BOM, header row, ``\\r\\n`` line ends (RFC 4180), UTF-8."""
    text = safe_frame(frame).to_csv(index=False, lineterminator="\r\n")
    return (BOM + text).encode("utf-8")
