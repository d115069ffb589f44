"""Which areas an export holds: top N, bands, robust priorities, a hand-picked list, thresholds.

Selection text (the CLI's ``--select``; braces optional, items separated by commas)::

    {top:N,band:NAME,robust,codes:FILE,threshold:COL>=X}
    all

* ``top:N``: the N highest-priority areas after the other filters (by the
  ``rank`` column, 1 = highest, when there is one, else by ``score``
  descending; ties by GSS code). Areas with no score are not ranked.
* ``band:NAME``: areas whose ``band`` is NAME (any case). Repeat for several
  bands; an area in any of them is kept.
* ``robust``: areas whose ``robust`` flag is true.
* ``codes:FILE``: the GSS codes listed in FILE (one a line, or a CSV with a
  ``code`` column; ``#`` starts a comment). The codes are read when the text
  is parsed and recorded in the methodology, so a re-run needs no file.
* ``threshold:COL>=X``: areas whose numeric column COL compares true with X
  (``>=``, ``>``, ``<=``, ``<``, ``=``). Repeatable; all must hold.
* ``all``: every area.

Filters combine with AND; ``top`` is applied last. The column names used for
rank, score, band and robust are :class:`SelectionColumns` (defaults
``rank``, ``score``, ``band``, ``robust``). Selected areas come out in
priority order (rank, else score descending, else code).
"""

from __future__ import annotations

import csv
import io
import operator
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import GSSCodeError, SelectionSyntaxError, UnknownColumnError
from geo.gss import is_gss
from geo.words import agree, count_of

OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "=": operator.eq, "==": operator.eq}
_THRESHOLD = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|=|>|<)\s*([^<>=\s]+)\s*$")
EXAMPLE = "top:20,band:High,robust,codes:FILE,threshold:score>=0.5 (or: all)"


@dataclass(frozen=True)
class SelectionColumns:
    """Names of the columns a selection reads (set by the scoring layer)."""

    rank: str = "rank"
    score: str = "score"
    band: str = "band"
    robust: str = "robust"


@dataclass(frozen=True)
class Threshold:
    column: str
    op: str
    value: float

    def text(self) -> str:
        return f"{self.column}{self.op}{self.value:g}"


@dataclass(frozen=True)
class Selection:
    """A parsed selection; ``Selection()`` selects every area."""

    top: int | None = None
    bands: tuple[str, ...] = ()
    robust: bool = False
    codes: tuple[str, ...] | None = None
    codes_source: str | None = None
    thresholds: tuple[Threshold, ...] = field(default_factory=tuple)

    # -- text and dict forms (the dict form goes into methodology.json) ----------
    def text(self) -> str:
        """Canonical selection text (``codes`` shown as the file it came from)."""
        items = []
        if self.top is not None:
            items.append(f"top:{self.top}")
        items += [f"band:{b}" for b in self.bands]
        if self.robust:
            items.append("robust")
        if self.codes is not None:
            items.append(f"codes:{self.codes_source or f'<{len(self.codes)} codes>'}")
        items += [f"threshold:{t.text()}" for t in self.thresholds]
        return ",".join(items) if items else "all"

    def describe(self) -> str:
        """The selection in plain words, for README.txt."""
        parts = []
        if self.codes is not None:
            parts.append(f"the {len(self.codes)} hand-picked areas" + (f" listed in {self.codes_source}" if self.codes_source else ""))
        if self.bands:
            parts.append("in band " + " or ".join(repr(b) for b in self.bands))
        if self.robust:
            parts.append("robust priorities only (areas the scoring flags as robust)")
        parts += [f"where {t.column} {t.op} {t.value:g}" for t in self.thresholds]
        head = f"The {self.top} highest-priority areas" if self.top is not None else "All areas"
        return head + (": " + "; ".join(parts) if parts else "") + "."

    def to_dict(self) -> dict:
        data = asdict(self)
        data["text"] = self.text()
        data["bands"] = list(self.bands)
        data["codes"] = list(self.codes) if self.codes is not None else None
        data["thresholds"] = [asdict(t) for t in self.thresholds]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Selection":
        """Rebuild a selection from :meth:`to_dict` (e.g. a methodology.json)."""
        codes = data.get("codes")
        return cls(top=data.get("top"), bands=tuple(data.get("bands") or ()), robust=bool(data.get("robust")),
                   codes=tuple(codes) if codes is not None else None, codes_source=data.get("codes_source"),
                   thresholds=tuple(Threshold(t["column"], t["op"], float(t["value"])) for t in data.get("thresholds") or ()))

    # -- applying ---------------------------------------------------------------
    def apply(self, areas: pd.DataFrame, columns: SelectionColumns = SelectionColumns()) -> pd.DataFrame:
        """The selected rows of ``areas`` in priority order (a copy; the index is reset).

        Raises :class:`UnknownColumnError` when a column the selection needs is
        missing, and :class:`SelectionSyntaxError` for a band that no area has
        or hand-picked codes that are not among the areas.
        """
        keep = pd.Series(True, index=areas.index)
        if self.codes is not None:
            missing = sorted(set(self.codes) - set(areas["code"]))
            if missing:
                more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
                raise SelectionSyntaxError(
                    f"{count_of(len(missing), 'hand-picked code')} {agree(len(missing), 'is', 'are')} not among "
                    f"these areas: {', '.join(missing[:5])}{more}"
                    f" (check the level and the area of interest)")
            keep &= areas["code"].isin(self.codes)
        if self.bands:
            band = _need(areas, columns.band, "band:NAME")
            present: dict[str, str] = {}
            for value in band.dropna().unique():
                present.setdefault(str(value).strip().casefold(), str(value).strip())
            unknown = [b for b in self.bands if b.strip().casefold() not in present]
            if unknown:
                raise SelectionSyntaxError(
                    f"band {unknown[0]!r} is not a band of these areas; bands: {', '.join(sorted(present.values())) or 'none'}")
            wanted = {b.strip().casefold() for b in self.bands}
            keep &= band.astype("string").str.strip().str.casefold().isin(wanted).fillna(False).astype(bool)
        if self.robust:
            robust = _need(areas, columns.robust, "robust")
            keep &= robust.fillna(False).astype(bool)
        for t in self.thresholds:
            values = _need(areas, t.column, f"threshold:{t.text()}")
            if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
                raise SelectionSyntaxError(f"threshold:{t.text()} needs a numeric column; {t.column!r} is {values.dtype}")
            keep &= OPS[t.op](values, t.value).fillna(False).astype(bool)
        chosen = _priority_order(areas[keep.to_numpy()], columns, need=self.top is not None)
        if self.top is not None:
            chosen = chosen.head(self.top)
        return chosen.reset_index(drop=True)


def _need(areas: pd.DataFrame, column: str, item: str) -> pd.Series:
    if column not in areas.columns:
        raise UnknownColumnError(f"selection {item!r} needs a column {column!r}, which these areas do not have")
    return areas[column]


def _priority_order(frame: pd.DataFrame, columns: SelectionColumns, *, need: bool) -> pd.DataFrame:
    """Rank ascending, else score descending, else code; rows without rank/score last (dropped for top N)."""
    if columns.rank in frame.columns:
        key, ascending = columns.rank, True
    elif columns.score in frame.columns:
        key, ascending = columns.score, False
    else:
        if need:
            raise UnknownColumnError(
                f"selection 'top:N' needs a {columns.rank!r} or {columns.score!r} column, which these areas do not have")
        return frame.sort_values("code", kind="mergesort")
    if need:
        frame = frame[frame[key].notna().to_numpy()]
    order = np.lexsort((frame["code"].to_numpy(dtype=str),
                        frame[key].astype("float64").to_numpy() * (1 if ascending else -1)))
    return frame.iloc[order]


def read_codes(path: str | Path) -> tuple[str, ...]:
    """GSS codes from a text file (one a line) or a CSV with a ``code`` column; order kept, duplicates dropped."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SelectionSyntaxError(f"codes file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SelectionSyntaxError(f"codes file {path} cannot be read ({exc})") from None
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    column = 0
    if rows and not is_gss(rows[0][0].strip().upper()):
        header = [h.strip().casefold() for h in rows[0]]
        if "code" not in header:
            raise SelectionSyntaxError(f"codes file {path}: first line {lines[0]!r} is neither a GSS code nor a header with a 'code' column")
        column, rows = header.index("code"), rows[1:]
    codes = []
    for number, row in enumerate(rows, start=1):
        value = row[column].strip().upper() if len(row) > column else ""
        if not is_gss(value):
            raise GSSCodeError(f"codes file {path}: {value or row!r} is not a GSS code (expected e.g. E01000001)")
        codes.append(value)
    if not codes:
        raise SelectionSyntaxError(f"codes file {path} lists no codes")
    return tuple(dict.fromkeys(codes))


def parse_selection(text: str, *, base_dir: str | Path | None = None) -> Selection:
    """Parse selection text (see the module docstring) into a :class:`Selection`.

    ``codes:FILE`` is read now, relative to ``base_dir`` (default: the current
    directory). Raises :class:`SelectionSyntaxError` naming the bad item.
    """
    body = (text or "").strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1].strip()
    if not body:
        raise SelectionSyntaxError(f"empty selection; use e.g. {EXAMPLE}")
    top = None
    bands: list[str] = []
    robust = False
    codes = codes_source = None
    thresholds: list[Threshold] = []
    items = [item.strip() for item in body.split(",")]
    if [i.casefold() for i in items] == ["all"]:
        return Selection()
    for item in items:
        key, sep, value = item.partition(":")
        key, value = key.strip().casefold(), value.strip()
        if key == "top" and sep:
            if top is not None:
                raise SelectionSyntaxError(f"'top' is given twice in {text!r}")
            if not value.isdigit() or int(value) < 1:
                raise SelectionSyntaxError(f"'top:{value}': N must be a whole number of at least 1")
            top = int(value)
        elif key == "band" and sep and value:
            bands.append(value)
        elif key == "robust" and not sep:
            robust = True
        elif key == "codes" and sep and value:
            if codes is not None:
                raise SelectionSyntaxError(f"'codes' is given twice in {text!r}")
            path = Path(value) if base_dir is None or Path(value).is_absolute() else Path(base_dir) / value
            codes, codes_source = read_codes(path), value
        elif key == "threshold" and sep:
            match = _THRESHOLD.match(value)
            if not match:
                raise SelectionSyntaxError(f"'threshold:{value}' should look like threshold:COLUMN>=NUMBER")
            column, op, number = match.groups()
            try:
                thresholds.append(Threshold(column, "=" if op == "==" else op, float(number)))
            except ValueError:
                raise SelectionSyntaxError(f"'threshold:{value}': {number!r} is not a number") from None
        else:
            raise SelectionSyntaxError(f"cannot read {item!r} in selection {text!r}; use e.g. {EXAMPLE}")
    return Selection(top=top, bands=tuple(bands), robust=robust, codes=codes, codes_source=codes_source,
                     thresholds=tuple(thresholds))
