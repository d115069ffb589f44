"""User indicators: a CSV keyed by GSS code becomes an indicator with the metadata the user gives.

The CSV has a ``code`` column (LSOA 2021, ward 2024 or district codes, one
level per file) and either ``value`` or ``numerator`` and ``denominator``.
Every row is checked first and every problem is reported together, row by
row (unknown codes, duplicates, non-numeric or negative values, a
numerator above its denominator, codes of another level); nothing is saved
unless the whole file is good. Saved indicators live in
``<user dir>/indicators/<id>.parquet`` + ``<id>.yaml`` (written atomically,
the YAML last) and join the registry (:func:`layers.registry.saved_user_indicators` reads them).

A numerator/denominator indicator aggregates upwards by summing, like the
built-in rates. A value-only indicator exists only at its own level; its
area and England comparators are unweighted means of the values given.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from geo import atomic
from geo.errors import SourceFileError, WardscopeError
from geo.gss import GSS_PATTERN, LEVEL_NAMES
from layers.checks import article
from layers.registry import ID_PATTERN, Indicator, RegistryError, build_indicator, builtin_registry, indicators_dir

PREFIX_LEVEL = {"E01": "lsoa", "E05": "ward", "E06": "lad", "E07": "lad", "E08": "lad", "E09": "lad"}
LEVELS_ABOVE = {"lsoa": ["lsoa", "ward", "lad"], "ward": ["ward", "lad"], "lad": ["lad"]}
#: How many problems the one-line message spells out (all are in ``.problems``).
SHOWN = 5


@dataclass(frozen=True)
class RowProblem:
    row: int  # file line, header = 1
    code: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}" + (f" ({self.code})" if self.code else "") + f": {self.message}"


class UserIndicatorError(WardscopeError):
    """A user indicator file with problems; ``problems`` lists every bad row."""

    def __init__(self, source: str, problems: list[RowProblem]):
        self.source = source
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:SHOWN])
        more = f"; and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        super().__init__(f"{source}: {len(problems)} problem(s), nothing was loaded: {shown}{more}")


def _read(file, source: str) -> pd.DataFrame:
    """The file through the upload gate (size, type, encoding, row and column limits, formula cells) as text.

    ``file`` is an :class:`geo.upload.gate.Upload` the page already accepted, the file's bytes or a path.
    """
    from geo.upload.gate import TABLE_KINDS, Upload, accept_file, accept_upload, read_table_upload
    from geo.workspace import SessionWorkspace

    if isinstance(file, Upload):
        frame = read_table_upload(file)
    else:
        with SessionWorkspace() as workspace:  # removed on leaving: nothing of a refused file stays
            if isinstance(file, (bytes, bytearray, memoryview)):
                upload = accept_upload(source, file, workspace=workspace, kinds=TABLE_KINDS)
            else:
                upload = accept_file(Path(file), workspace=workspace, kinds=TABLE_KINDS)
            frame = read_table_upload(upload)
    lines = frame.attrs.get("line_numbers")
    frame = frame.astype(object).where(frame.notna(), "")  # a blank cell is "no value" in the row checks
    frame.attrs["line_numbers"] = lines
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if "code" not in frame.columns:
        raise SourceFileError(f"{source}: needs a 'code' column of GSS codes; found {', '.join(frame.columns[:6])}")
    has_value = "value" in frame.columns
    has_pair = "numerator" in frame.columns and "denominator" in frame.columns
    if has_value == has_pair:
        raise SourceFileError(f"{source}: needs either a 'value' column or 'numerator' and 'denominator' columns (not both)")
    return frame


def _number(text: str, what: str, problems: list, row: int, code: str, allow_negative: bool) -> float | None:
    text = (text or "").strip().replace(",", "")
    if not text:
        problems.append(RowProblem(row, code, f"no {what}"))
        return None
    try:
        value = float(text)
    except ValueError:
        problems.append(RowProblem(row, code, f"{what} {text!r} is not a number"))
        return None
    if not np.isfinite(value):
        problems.append(RowProblem(row, code, f"{what} {text!r} is not a finite number"))
        return None
    if value < 0 and not allow_negative:
        problems.append(RowProblem(row, code, f"{what} {value:g} is negative"))
        return None
    return value


def check_user_rows(frame: pd.DataFrame, store, *, source: str, allow_negative: bool = False) -> tuple[str, pd.DataFrame]:
    """Validate every row; return (level, rows with code, lad_code and value or numerator/denominator).

    Raises :class:`UserIndicatorError` listing every problem.
    """
    problems: list[RowProblem] = []
    codes = [str(c).strip().upper() for c in frame["code"]]
    levels = [PREFIX_LEVEL.get(c[:3]) if GSS_PATTERN.match(c) else None for c in codes]
    counted = pd.Series([lv for lv in levels if lv]).value_counts()
    level = counted.index[0] if len(counted) else None
    known = {}
    if level is not None:
        index = store.load("indicators", f"index_{level}")
        known = dict(zip(index["code"], index["lad_code"]))
    pair = "numerator" in frame.columns
    seen: dict[str, int] = {}
    out = []
    lines = frame.attrs.get("line_numbers") or range(2, len(frame) + 2)  # file line of each row (header = 1)
    for i, (code, lv, row) in enumerate(zip(codes, levels, lines)):
        if not code:
            problems.append(RowProblem(row, "", "no code"))
            continue
        if not GSS_PATTERN.match(code):
            problems.append(RowProblem(row, code, "not a GSS code (a letter and 8 digits, e.g. E01000001)"))
            continue
        if lv is None:
            problems.append(RowProblem(row, code, "not an LSOA 2021, ward or district code of England"))
            continue
        if lv != level:
            problems.append(RowProblem(row, code, f"is {article(LEVEL_NAMES[lv])} {LEVEL_NAMES[lv]} code, but most rows are {LEVEL_NAMES[level]} "
                                                  f"codes; a file holds one level"))
            continue
        if code not in known:
            problems.append(RowProblem(row, code, f"not {article(LEVEL_NAMES[level])} {LEVEL_NAMES[level]} code in the store"))
            continue
        if code in seen:
            problems.append(RowProblem(row, code, f"appears again (first at row {seen[code]})"))
            continue
        seen[code] = row
        if pair:
            num = _number(frame["numerator"].iloc[i], "numerator", problems, row, code, False)
            den = _number(frame["denominator"].iloc[i], "denominator", problems, row, code, False)
            if num is None or den is None:
                continue
            if den == 0:
                problems.append(RowProblem(row, code, "denominator is 0"))
                continue
            if num > den:
                problems.append(RowProblem(row, code, f"numerator {num:g} is above the denominator {den:g}"))
                continue
            out.append((code, known[code], num, den))
        else:
            value = _number(frame["value"].iloc[i], "value", problems, row, code, allow_negative)
            if value is not None:
                out.append((code, known[code], value))
    if problems:
        raise UserIndicatorError(source, problems)
    cols = ["code", "lad_code", "numerator", "denominator"] if pair else ["code", "lad_code", "value"]
    return level, pd.DataFrame(out, columns=cols)


def read_user_indicator(path_or_bytes, *, id: str, label: str, store, unit: str | None = None, direction: int = 1,
                        topic: str = "User indicators", caveat: str = "", period: str = "", publisher: str = "user",
                        dataset: str = "", licence: str = "", attribution: str = "", numerator: str = "",
                        denominator: str = "", universe: str = "", min_den: float = 0.0, decimals: int = 1,
                        allow_negative: bool = False, source: str | None = None) -> tuple[Indicator, pd.DataFrame]:
    """Check a user CSV and describe it; nothing is written. Returns (indicator, stored rows).

    ``path_or_bytes``: a path, the file's bytes or an accepted :class:`geo.upload.gate.Upload`; every one
    goes through the upload gate (:mod:`geo.upload.gate`) like any other file from a user.
    """
    if source is None:
        source = getattr(path_or_bytes, "name", None) if not isinstance(path_or_bytes, (str, Path)) else str(path_or_bytes)
        source = source if isinstance(source, str) else "uploaded file"
    if not ID_PATTERN.match(id or ""):
        raise RegistryError(f"indicator id {id!r} must be snake_case (a-z, 0-9 and _), e.g. uc_households_pct")
    if id in builtin_registry():
        raise RegistryError(f"{id!r} is a built-in indicator id; choose another")
    if not (label or "").strip():
        raise RegistryError("a user indicator needs a label")
    frame = _read(path_or_bytes, source)
    level, rows = check_user_rows(frame, store, source=source, allow_negative=allow_negative)
    rate = "numerator" in rows.columns
    unit = unit or ("%" if rate else "value")
    scale = 100.0 if rate and unit == "%" else 1.0
    if rate:
        stored = pd.DataFrame({"code": rows["code"], "lad_code": rows["lad_code"], f"{id}__num": rows["numerator"],
                               f"{id}__den": rows["denominator"]})
        stored[id] = scale * stored[f"{id}__num"] / stored[f"{id}__den"]
        note = "Aggregated by summing numerators and denominators."
    else:
        stored = pd.DataFrame({"code": rows["code"], "lad_code": rows["lad_code"], id: rows["value"],
                               f"{id}__num": rows["value"], f"{id}__den": 1.0})
        note = f"Given for {LEVEL_NAMES[level]}s only; area and England comparators are unweighted means of the values given."
    spec = {
        "label": label.strip(), "topic": topic, "publisher": publisher, "dataset": dataset or source, "period": period,
        "levels": LEVELS_ABOVE[level] if rate else [level], "numerator": numerator, "denominator": denominator,
        "universe": universe, "unit": unit, "direction": int(direction), "caveat": " ".join(f"{caveat} {note}".split()),
        "licence": licence, "attribution": attribution, "estimate": False, "kind": "rate" if rate else "score",
        "table": "user", "base": level, "scale": scale, "min_den": float(min_den),
        "rag": "relative" if int(direction) else "none", "rag_tolerance": 0.1, "decimals": int(decimals), "user": True,
    }
    return build_indicator(id, spec, source=source), stored


def save_user_indicator(ind: Indicator, rows: pd.DataFrame) -> Path:
    """Write the rows then the metadata (atomically; the metadata file makes it visible)."""
    folder = indicators_dir()
    table = folder / f"{ind.id}.parquet"
    atomic.write_with(table, lambda tmp: rows.to_parquet(tmp, index=False))
    meta = {k: v for k, v in asdict(ind).items() if k != "id"}
    meta["levels"] = list(ind.levels)
    meta["sources"] = list(ind.sources)
    meta_path = folder / f"{ind.id}.yaml"
    atomic.write_text(meta_path, yaml.safe_dump({"id": ind.id, **meta}, sort_keys=False, allow_unicode=True),
                      keep_previous=True)
    return meta_path


def load_user_indicator(path_or_bytes, *, store=None, **meta) -> Indicator:
    """Check a user CSV and save it as an indicator; raises :class:`UserIndicatorError` (nothing saved) on bad rows."""
    from geo.store import open_store

    ind, rows = read_user_indicator(path_or_bytes, store=store or open_store(), **meta)
    save_user_indicator(ind, rows)
    return ind


def user_rows(indicator_id: str, store=None) -> pd.DataFrame:
    """The stored rows of a saved user indicator (code, lad_code, value, and numerator/denominator)."""
    path = indicators_dir() / f"{indicator_id}.parquet"
    if not path.is_file():
        raise WardscopeError(f"user indicator {indicator_id!r} has no saved data ({path})")
    return pd.read_parquet(path)


def remove_user_indicator(indicator_id: str) -> None:
    for suffix in (".yaml", ".parquet"):
        (indicators_dir() / f"{indicator_id}{suffix}").unlink(missing_ok=True)
