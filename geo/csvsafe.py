"""The one CSV writer: every CSV Wardscope writes (CLI, downloads, exports, saved site lists) comes from here.

Excel, LibreOffice and Google Sheets treat a cell that starts with ``=``,
``+``, ``-`` or ``@`` (and, via DDE tricks, tab or carriage return) as a
formula, so a place, site or hub name such as ``=HYPERLINK(...)`` could run
when a planner opens the file. As OWASP's CSV-injection guidance advises:

* every *text* cell (and header) that a spreadsheet would run as a formula
  gets a single quote in front (``'=HYPERLINK(...)``), so it shows as text.
  The rule is the upload gate's (:func:`geo.upload.tables.is_formula_like`):
  exactly the cells the gate flags on the way in are neutralised on the way
  out. A text cell that is just a plain number (``-1.5``) is left alone:
  a spreadsheet reads it as that number, not as a formula;
* every text cell is wrapped in double quotes (embedded quotes doubled,
  RFC 4180), so a ``,`` or ``;`` inside a name cannot start a new cell
  with a formula in it, whichever separator the spreadsheet's locale uses;
* numbers, true/false and blanks are written bare: ``-1.5`` in a number
  column stays a number. Minus infinity, which a spreadsheet would read as
  the formula ``=-inf``, is written as the text ``'-inf``.

Lines end ``\\r\\n`` (RFC 4180). :func:`to_csv_bytes` (files and downloads)
starts with a UTF-8 byte-order mark: without it, Excel on Windows opens a
double-clicked CSV in the local ANSI code page and shows ``Ynys MÃ´n``; with
it, Excel, LibreOffice, pandas, R's readr and GDAL all read UTF-8 correctly.
:func:`to_csv_text` (the CLI's standard output) has no mark, so pipes and
``pandas.read_csv`` see ``code`` as the first header. Excel workbooks
(:func:`to_xlsx_bytes`) neutralise cells the same way: openpyxl stores a text
cell that starts with ``=`` as a formula.
"""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd

from geo.upload.tables import FORMULA_PREFIXES, is_formula_like

__all__ = ["BOM", "FORMULA_PREFIXES", "neutralise", "safe_frame", "to_csv_bytes", "to_csv_text", "to_xlsx_bytes"]

#: Byte-order mark that starts every CSV file and download (see module docstring).
BOM = "\ufeff"


def neutralise(value: object) -> object:
    """Prefix ``'`` to a string that a spreadsheet would run as a formula; other values unchanged."""
    return "'" + value if is_formula_like(value) else value


def _safe_column(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    if pd.api.types.is_float_dtype(values) and np.isneginf(values.to_numpy(dtype=float, na_value=np.nan)).any():
        return values.astype(object).map(lambda v: "'-inf" if v == -np.inf else v)
    if pd.api.types.is_string_dtype(values) or values.dtype == object:
        return values.map(neutralise, na_action="ignore").astype(object)
    return values


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy without geometry, every text cell and header neutralised; number and true/false columns as they are."""
    geometry = getattr(frame, "_geometry_column_name", None)  # a GeoDataFrame's, without importing geopandas
    if isinstance(geometry, str) and geometry in frame.columns:
        frame = pd.DataFrame(frame.drop(columns=geometry))
    out = pd.DataFrame({i: _safe_column(frame.iloc[:, i]) for i in range(frame.shape[1])}, index=frame.index)
    out.columns = [neutralise(str(c)) for c in frame.columns]
    return out


def to_csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as formula-safe CSV text: header row, text cells quoted, ``\\r\\n`` line ends, no byte-order mark."""
    return safe_frame(frame).to_csv(index=False, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """:func:`to_csv_text` as UTF-8 with a byte-order mark: for files and download buttons."""
    return (BOM + to_csv_text(frame)).encode("utf-8")


def to_xlsx_bytes(sheets: dict[str, pd.DataFrame], *, max_width: int = 60) -> bytes:
    """An Excel workbook with one sheet per ``sheets`` item, every cell as :func:`safe_frame` makes it.

    Columns are sized to their first 50 cells (10 to ``max_width`` characters) so the workbook opens readable.
    """
    import io

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            safe_frame(frame).to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            for column in sheet.columns:
                width = max(len(str(c.value or "")) for c in column[:50])
                sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), max_width)
    return buffer.getvalue()
