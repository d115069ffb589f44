"""User indicators: a CSV keyed by GSS code becomes an indicator with the metadata the user gives.

The CSV has a ``code`` column (LSOA 2021, LSOA 2011, ward 2024 or district
codes, one level per file) and the figure's column(s). Its kind is one of
``count`` (a number of people or things: sums upwards), ``rate`` (a count
with a denominator: numerators and denominators sum upwards, divided once)
or ``score`` (kept at its own level only; area and England comparators are
unweighted means). Without a kind, ``numerator``+``denominator`` columns make
a rate and a ``value`` column a score.

Every row is checked and every problem is listed by file row (unknown code,
code of another level, duplicate, not a number, negative, numerator above
its denominator, suppressed). Suppressed cells (``*``, ``..``, ``x``, ``c``,
blank) are kept as unknown (NaN, never 0) and listed too. Bad rows are left
out and listed; a file with no valid row is refused (:class:`UserIndicatorError`).

LSOA 2011 codes are put on 2021 LSOAs by the store's ONS change lookup: an
unchanged LSOA keeps its figure; LSOAs merged in 2021 are added up (counts
and rates; a score cannot be added up, so such rows are refused), and the
merged 2021 LSOA is unknown unless every 2011 part is given; an LSOA split
in 2021 (or irregularly changed) is refused row by row: give 2021 codes.

Saved indicators live in ``<user dir>/indicators/<id>.parquet`` + ``<id>.yaml``
(written together atomically, the YAML last; re-saving keeps the previous pair
as ``<id>.parquet.prev`` / ``<id>.yaml.prev``) and join the registry
(:func:`layers.registry.saved_user_indicators` reads them).
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
from geo.words import agree, count_of
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
    """A user indicator file with no valid row; ``problems`` lists every bad row."""

    def __init__(self, source: str, problems: list[RowProblem]):
        self.source = source
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:SHOWN])
        more = f"; and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        super().__init__(f"{source}: no valid row ({count_of(len(problems), 'problem')}), nothing was saved: "
                         f"{shown}{more}")


#: Cells that publishers use for a suppressed or unavailable figure: kept as unknown, never 0.
SUPPRESSED = frozenset({"", "*", "..", "x", "c", ":", "-"})
KIND_NAMES = ("count", "rate", "score")


@dataclass(frozen=True)
class UserIndicatorCheck:
    """A checked user file: its registry entry, the rows to store and every row problem (bad rows left out)."""

    indicator: Indicator
    rows: pd.DataFrame
    problems: tuple[RowProblem, ...]
    level: str            # the file's level: lsoa, lsoa11 (put on 2021 LSOAs), ward or lad
    rows_read: int

    def problems_table(self) -> pd.DataFrame:
        """Row problems as a table (row, code, problem) for people to read."""
        return pd.DataFrame([(p.row, p.code, p.message) for p in self.problems], columns=["row", "code", "problem"])


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
                upload = accept_upload(source, bytes(file), workspace=workspace, kinds=TABLE_KINDS)
            else:
                upload = accept_file(Path(file), workspace=workspace, kinds=TABLE_KINDS)
            frame = read_table_upload(upload)
    lines = frame.attrs.get("line_numbers")
    frame = frame.astype(object).where(frame.notna(), "")  # a blank cell is "no value" in the row checks
    frame.attrs["line_numbers"] = lines
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if "code" not in frame.columns:
        raise SourceFileError(f"{source}: needs a 'code' column of GSS codes; found {', '.join(frame.columns[:6])}")
    return frame


def _columns(frame: pd.DataFrame, source: str, kind: str | None, value: str | None,
             denominator: str | None) -> tuple[str, str, str | None]:
    """(kind, value column, denominator column or None), from what the user said or the column names."""
    cols = list(frame.columns)
    value = (value or "").strip().lower() or None
    denominator = (denominator or "").strip().lower() or None
    if kind is None:
        has_value = "value" in cols
        has_pair = "numerator" in cols and "denominator" in cols
        if value is None and has_value == has_pair:
            raise SourceFileError(f"{source}: needs either a 'value' column or 'numerator' and 'denominator' columns "
                                  f"(not both), or say which column holds the figure")
        kind = "rate" if (denominator or (value is None and has_pair)) else "score"
    if kind not in KIND_NAMES:
        raise SourceFileError(f"kind {kind!r} is not one of {', '.join(KIND_NAMES)}")
    if value is None:
        value = "numerator" if kind == "rate" else "value"
    if kind == "rate":
        denominator = denominator or "denominator"
    elif denominator:
        raise SourceFileError(f"{source}: a denominator column is only for a rate (kind {kind!r} was given)")
    for col in (value, denominator):
        if col is not None and col not in cols:
            raise SourceFileError(f"{source}: no column {col!r}; the file has {', '.join(c for c in cols[:8])}")
    if value == "code" or denominator == "code" or value == denominator:
        raise SourceFileError(f"{source}: the figure, its denominator and the code need three different columns")
    return kind, value, denominator


def _number(text, what: str, problems: list, row: int, code: str, allow_negative: bool):
    """A float, NaN for a suppressed cell (listed), or None for a bad one (listed)."""
    text = str(text if text is not None else "").strip().replace(",", "")
    if text.lower() in SUPPRESSED:
        shown = f"{text!r}" if text else "blank"
        problems.append(RowProblem(row, code, f"{what} is suppressed ({shown}): kept as unknown"))
        return np.nan
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


def _lsoa11_links(store) -> tuple[dict, dict]:
    """(2011 code -> [(2021 code, change)], 2021 code -> the 2011 codes it comes from) from the store's lookup."""
    links = store.load("boundaries", "lsoa11_lsoa21")
    to21: dict[str, list] = {}
    from11: dict[str, list] = {}
    for c11, c21, change in zip(links["lsoa11_code"], links["lsoa21_code"], links["change"]):
        to21.setdefault(c11, []).append((c21, change))
        from11.setdefault(c21, []).append(c11)
    return to21, from11


def check_user_rows(frame: pd.DataFrame, store, *, source: str, kind: str = "score", value: str = "value",
                    denominator: str | None = None,
                    allow_negative: bool = False) -> tuple[str, pd.DataFrame, list[RowProblem]]:
    """Check every row; return (level, rows with code, lad_code, num and den, problems).

    ``num`` is the figure (the numerator of a rate), ``den`` the denominator (1 otherwise); a
    suppressed figure is NaN. Rows of 2011 LSOAs come back on 2021 LSOAs (level ``lsoa11``).
    Bad rows are left out and listed; no valid row raises :class:`UserIndicatorError`.
    """
    problems: list[RowProblem] = []
    codes = [str(c).strip().upper() for c in frame["code"]]
    levels = [PREFIX_LEVEL.get(c[:3]) if GSS_PATTERN.match(c) else None for c in codes]
    counted = pd.Series([lv for lv in levels if lv], dtype=object).value_counts()
    level = counted.index[0] if len(counted) else None
    known: dict = {}
    to21 = from11 = {}
    if level is not None:
        index = store.load("indicators", f"index_{level}")
        known = dict(zip(index["code"], index["lad_code"]))
        if level == "lsoa":
            to21, from11 = _lsoa11_links(store)
    rate = kind == "rate"
    nums = frame[value].tolist()
    dens = frame[denominator].tolist() if rate else None
    seen: dict[str, int] = {}
    out = []       # (row, given code, 2021/level code, num, den)
    used11 = False
    lines = frame.attrs.get("line_numbers") or range(2, len(frame) + 2)  # file line of each row (header = 1)
    what = "numerator" if rate else "value"
    for i, (code, lv, row) in enumerate(zip(codes, levels, lines)):
        if not code:
            problems.append(RowProblem(row, "", "no code"))
            continue
        if not GSS_PATTERN.match(code):
            problems.append(RowProblem(row, code, "not a GSS code (a letter and 8 digits, e.g. E01000001)"))
            continue
        if lv is None:
            problems.append(RowProblem(row, code, "not an LSOA, ward or district code of England"))
            continue
        if lv != level:
            problems.append(RowProblem(row, code, f"is {article(LEVEL_NAMES[lv])} {LEVEL_NAMES[lv]} code, but most rows are {LEVEL_NAMES[level]} "
                                                  f"codes; a file holds one level"))
            continue
        target = code
        if code not in known:
            parts = to21.get(code)
            if not parts:
                what = "an LSOA 2021 or 2011" if level == "lsoa" else f"{article(LEVEL_NAMES[level])} {LEVEL_NAMES[level]}"
                problems.append(RowProblem(row, code, f"not {what} code in the store"))
                continue
            change = parts[0][1]
            if len(parts) > 1 or change in ("S", "X"):
                problems.append(RowProblem(row, code, f"LSOA 2011 split into {len(parts)} LSOAs in 2021 (or changed "
                                                      f"irregularly): give its 2021 codes"))
                continue
            if change == "M" and kind == "score":
                problems.append(RowProblem(row, code, f"LSOA 2011 merged into {parts[0][0]} in 2021; a score cannot "
                                                      f"be added up: give 2021 codes"))
                continue
            target = parts[0][0]
            used11 = True
        if code in seen:
            problems.append(RowProblem(row, code, f"appears again (first at row {seen[code]})"))
            continue
        num = _number(nums[i], what, problems, row, code, allow_negative and not rate)
        if num is None:
            continue
        den = 1.0
        if rate:
            den = _number(dens[i], "denominator", problems, row, code, False)
            if den is None:
                continue
            if den == 0:
                problems.append(RowProblem(row, code, "denominator is 0"))
                continue
            if num > den:
                problems.append(RowProblem(row, code, f"numerator {num:g} is above the denominator {den:g}"))
                continue
        seen[code] = row
        out.append((row, code, target, num, den))
    rows = pd.DataFrame(out, columns=["row", "given", "code", "num", "den"])
    if rate:
        rows.loc[rows["num"].isna() | rows["den"].isna(), ["num", "den"]] = np.nan
    if used11:
        rows = _merge_2011(rows, from11, seen, problems)
        level = "lsoa11"
    if not rows["num"].notna().any():
        raise UserIndicatorError(source, sorted(problems, key=lambda p: p.row))
    rows["lad_code"] = [known[c] for c in rows["code"]]
    problems.sort(key=lambda p: p.row)
    return level, rows[["code", "lad_code", "num", "den"]].reset_index(drop=True), problems


def _merge_2011(rows: pd.DataFrame, from11: dict, seen: dict, problems: list) -> pd.DataFrame:
    """Add up the 2011 parts of merged 2021 LSOAs; a 2021 LSOA missing a part is unknown (listed).

    A 2021 LSOA given by its own code as well keeps that row; its 2011 parts are listed and left out.
    """
    direct = rows["given"].eq(rows["code"])
    via = rows[~direct]
    clash = via["code"].isin(set(rows.loc[direct, "code"]))
    for r in via[clash].itertuples(index=False):
        problems.append(RowProblem(int(r.row), r.given, f"its 2021 LSOA {r.code} is also in the file (that row is kept)"))
    via = via[~clash]
    summed = via.groupby("code")[["num", "den"]].sum(min_count=1)
    for code, group in via.groupby("code"):
        missing = [c for c in from11.get(code, []) if c not in seen]
        if missing or group["num"].isna().any():
            summed.loc[code, ["num", "den"]] = np.nan
            why = f"missing 2011 {agree(len(missing), 'part', 'parts')} {', '.join(missing[:3])}" if missing else "a suppressed 2011 part"
            problems.append(RowProblem(int(group["row"].iloc[0]), code,
                                       f"2021 LSOA merged from 2011 LSOAs, {why}: kept as unknown"))
    return pd.concat([rows[direct].set_index("code")[["num", "den"]], summed]).reset_index()


def read_user_indicator(path_or_bytes, *, id: str, label: str, store, kind: str | None = None,
                        value: str | None = None, denominator_column: str | None = None, unit: str | None = None,
                        direction: int = 1, topic: str = "User indicators", caveat: str = "", period: str = "",
                        publisher: str = "user", dataset: str = "", licence: str = "", attribution: str = "",
                        numerator: str = "", denominator: str = "", universe: str = "", min_den: float = 0.0,
                        decimals: int = 1, allow_negative: bool = False,
                        source: str | None = None) -> UserIndicatorCheck:
    """Check a user CSV and describe it; nothing is written.

    ``path_or_bytes``: a path, the file's bytes or an accepted :class:`geo.upload.gate.Upload`; every one
    goes through the upload gate (:mod:`geo.upload.gate`) like any other file from a user. ``kind``
    (count, rate or score), ``value`` (the figure's column; the numerator of a rate) and
    ``denominator_column`` say how to read it; ``denominator`` describes the denominator in words.
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
    if int(direction) not in (-1, 0, 1):
        raise RegistryError(f"direction {direction!r} must be 1 (higher is worse), -1 (higher is better) or 0")
    frame = _read(path_or_bytes, source)
    kind, value_col, den_col = _columns(frame, source, kind, value, denominator_column)
    level, rows, problems = check_user_rows(frame, store, source=source, kind=kind, value=value_col,
                                            denominator=den_col, allow_negative=allow_negative)
    base = "lsoa" if level == "lsoa11" else level
    scale = 1.0
    stored = pd.DataFrame({"code": rows["code"], "lad_code": rows["lad_code"]})
    if kind == "rate":
        unit = unit or "%"
        scale = 100.0 if unit == "%" else 1.0
        stored[f"{id}__num"], stored[f"{id}__den"] = rows["num"], rows["den"]
        stored[id] = scale * rows["num"] / rows["den"]
        note = "Aggregated by summing numerators and denominators."
    elif kind == "count":
        unit = unit or "count"
        stored[id] = rows["num"]
        note = "A count: areas above its level add it up."
    else:
        unit = unit or "value"
        stored[id], stored[f"{id}__num"], stored[f"{id}__den"] = rows["num"], rows["num"], 1.0
        note = f"Given for {LEVEL_NAMES[base]}s only; area and England comparators are unweighted means of the values given."
    if level == "lsoa11":
        note += " Given on 2011 LSOAs: put on 2021 LSOAs by the ONS lookup (merged ones added up)."
    spec = {
        "label": label.strip(), "topic": topic, "publisher": publisher, "dataset": dataset or source, "period": period,
        "levels": LEVELS_ABOVE[base] if kind != "score" else [base], "numerator": numerator or value_col,
        "denominator": denominator or (den_col or ""), "universe": universe, "unit": unit, "direction": int(direction),
        "caveat": " ".join(f"{caveat} {note}".split()), "licence": licence, "attribution": attribution,
        "estimate": False, "kind": kind, "table": "user", "base": base, "scale": scale, "min_den": float(min_den),
        "rag": "relative" if int(direction) else "none", "rag_tolerance": 0.1, "decimals": int(decimals), "user": True,
    }
    return UserIndicatorCheck(build_indicator(id, spec, source=source), stored, tuple(problems), level, len(frame))


def save_user_indicator(ind: Indicator, rows: pd.DataFrame) -> Path:
    """Write the rows and the metadata together (atomically, the metadata last: it makes them visible).

    A re-save keeps the previous pair as ``<id>.parquet.prev`` and ``<id>.yaml.prev``.
    """
    folder = indicators_dir()
    table = folder / f"{ind.id}.parquet"
    meta = {k: v for k, v in asdict(ind).items() if k != "id"}
    meta["levels"] = list(ind.levels)
    meta["sources"] = list(ind.sources)
    meta_path = folder / f"{ind.id}.yaml"
    text = yaml.safe_dump({"id": ind.id, **meta}, sort_keys=False, allow_unicode=True)
    # atomic_files places the first path last: the YAML (which makes the indicator visible) goes in after its rows
    with atomic.atomic_files([meta_path, table], keep_previous=True) as (tmp_meta, tmp_table):
        rows.to_parquet(tmp_table, index=False)
        tmp_meta.write_text(text, encoding="utf-8")
    return meta_path


def previous_user_rows(indicator_id: str) -> pd.DataFrame | None:
    """The rows saved before the last re-save (``<id>.parquet.prev``), or None."""
    path = atomic.previous_path(indicators_dir() / f"{indicator_id}.parquet")
    return pd.read_parquet(path) if path.is_file() else None


def load_user_indicator(path_or_bytes, *, store=None, **meta) -> Indicator:
    """Check a user CSV and save it as an indicator (bad rows left out); :class:`UserIndicatorError` when no row is valid."""
    from geo.store import open_store

    check = read_user_indicator(path_or_bytes, store=store or open_store(), **meta)
    save_user_indicator(check.indicator, check.rows)
    return check.indicator


def user_rows(indicator_id: str, store=None) -> pd.DataFrame:
    """The stored rows of a saved user indicator (code, lad_code, value, and numerator/denominator)."""
    path = indicators_dir() / f"{indicator_id}.parquet"
    if not path.is_file():
        raise WardscopeError(f"user indicator {indicator_id!r} has no saved data ({path})")
    return pd.read_parquet(path)


def remove_user_indicator(indicator_id: str) -> None:
    for suffix in (".yaml", ".parquet"):
        (indicators_dir() / f"{indicator_id}{suffix}").unlink(missing_ok=True)
