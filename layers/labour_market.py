"""ONS Explore Local Statistics (ELS) files: district labour-market and context figures, every year.

The ONS publishes each Explore Local Statistics indicator as one CSV (columns
:data:`COLUMNS`), for the UK, nations, regions, counties, combined
authorities and districts, one row per area, indicator and period, with the
95% confidence interval where the source has one and a status flag (``x``
not available, ``u`` unreliable). The same parser reads the mirror's copy
(``labour_market/els_*.csv``) and the file downloaded from the ONS's data
repository (layers/sources.yaml).

Installed tables (kind ``indicators``):

* ``labour_market_series``: the long table, every year: code, name, level
  (``england``, ``region``, ``county``, ``combined_authority``, ``district``),
  lad_code (districts only), indicator (registry id), period (first year),
  period_label, value, lci, uci, status, note, dataset. Status ``x`` has no
  value (unknown, never 0); ``u`` keeps the row so it can be shown with a warning.
* ``labour_market_lad`` / ``labour_market_england``: the latest period of each
  indicator, wide, as the registry reads it: ``<id>``, ``<id>__ci`` (+/-) or
  ``<id>__lci``/``<id>__uci`` (asymmetric intervals), ``<id>__period`` and the
  Census 2021 weights ``<id>__num``/``__den`` that make area figures
  population-weighted averages (registry ``weight``).
* ``aps_lad`` / ``aps_england``: the APS employment and inactivity rates from
  these files are the default; Nomis's latest-12-month figures, when fetched,
  are kept as ``aps_nomis_lad`` / ``aps_nomis_england`` and the catalogue says which.

Figures exist for districts and larger areas only: nothing here is ever
apportioned to wards or LSOAs (a survey of the whole district cannot be split).
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd

from geo.errors import GSSCodeError, SourceFileError, WardscopeError
from geo.gss import GSS_PATTERN
from geo.tables import read_csv_checked
from layers.checks import file_row, to_numbers
from layers.registry import builtin_registry

COLUMNS = ["areacd", "areanm", "geography", "indicator", "period", "observation", "measure", "unit",
           "lci_95", "uci_95", "status", "notes"]
#: Dataset id (layers/sources.yaml) -> the file's indicator names -> registry id.
DATASETS: dict[str, dict[str, str]] = {
    "els_employment_rate": {"Employment rate": "aps_employment_rate", "Economically inactive": "aps_inactivity_rate"},
    "els_claimant_count": {"Claimant Count": "claimant_rate_annual"},
    "els_modelled_unemployment": {"Modelled unemployment rate": "modelled_unemployment_rate"},
    "els_no_qualifications": {"No qualifications": "aps_no_qualifications_pct"},
    "els_level3_qualifications": {"Level 3 or above qualifications (Great Britain)": "aps_level3_plus_pct"},
    "els_gdhi_per_head": {"Gross disposable household income": "gdhi_per_head"},
    "els_median_weekly_pay": {"Gross median weekly pay": "median_weekly_pay"},
    "els_healthy_life_expectancy": {"Male healthy life expectancy": "hle_male",
                                    "Female healthy life expectancy": "hle_female"},
    "els_child_poverty": {"Children in relative poverty before housing costs": "child_poverty_bhc_pct",
                          "Children in relative poverty after housing costs": "child_poverty_ahc_pct"},
    "els_travel_time": {"Public transport or walk to work": "travel_time_pt_walk_min",
                        "Cycle to work": "travel_time_cycle_min", "Drive to work": "travel_time_car_min"},
}
IDS = [i for names in DATASETS.values() for i in names.values()]
#: The APS rates that reuse the Nomis registry ids (table ``aps``).
APS_IDS = ("aps_employment_rate", "aps_inactivity_rate")
#: Registry unit -> the (measure, unit) the file must give it.
MEASURES = {"%": ("Percentage", "%"), "£": ("Pounds", "£"), "years": ("Years", "yrs"), "minutes": ("Minutes", "mins")}
#: Indicators whose published intervals are asymmetric (kept as lower/upper). Checked on the 2026 files:
#: healthy life expectancy differs on each side by up to 0.1 year; every other interval is symmetric
#: except where ONS cut an employment rate's upper bound at 100% (3 rows).
ASYMMETRIC = frozenset({"hle_male", "hle_female"})
STATUS = {"x": "not available", "u": "unreliable (small sample)"}
ENGLAND = "E92000001"
#: GSS entity prefix -> level kept; districts are checked against the store.
LEVELS = {"E92": "england", "E12": "region", "E10": "county", "E11": "county", "E13": "county",
          "E47": "combined_authority", "E06": "district", "E07": "district", "E08": "district", "E09": "district"}
#: Prefixes outside England (UK, GB, nations, Welsh, Scottish and Northern Irish areas, ITL regions): left out.
ELSEWHERE = ("K02", "K03", "K04", "W92", "S92", "N92", "W06", "S12", "N09", "W42", "N34")
TABLE, SERIES, ENGLAND_TABLE = "labour_market", "labour_market_series", "labour_market_england"
_PERIOD = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:/P(\d+)Y)?$")
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
#: Relative slack for an interval that must contain its value (the files carry float artefacts).
_EPS = 1e-6


def period_label(text: str) -> tuple[int, str] | None:
    """(first year, label) of an ELS period: ``2023-01-01/P1Y`` -> 2023 "2023"; ``2021-04-01/P1Y`` ->
    2021 "2021/22"; ``2020-01-01/P3Y`` -> 2020 "2020-2022"; ``2025-04-30`` (a survey date) -> 2025 "Apr 2025"."""
    hit = _PERIOD.match(text or "")
    if not hit or not 1 <= int(hit.group(2)) <= 12:
        return None
    year, month, span = int(hit.group(1)), int(hit.group(2)), hit.group(4)
    if span is None:
        return year, f"{_MONTHS[month - 1]} {year}"
    n = int(span)
    if n == 1:
        return year, str(year) if month == 1 else f"{year}/{(year + 1) % 100:02d}"
    return year, f"{year}-{year + n - 1}"


def _fail(frame: pd.DataFrame, mask, message: str, *, source: str, cls=SourceFileError):
    pos = int(np.flatnonzero(np.asarray(mask))[0])
    raise cls(f"{source}: row {file_row(frame, pos)}: {message(frame.iloc[pos])}")


def read_raw(path, *, source: str) -> pd.DataFrame:
    """An ELS CSV as text, with exactly the published columns (a changed column is refused)."""
    frame = read_csv_checked(path, COLUMNS, source=source, allow_missing=["areanm", "geography", "observation", "lci_95",
                                                                          "uci_95", "status", "notes"])
    extra = [c for c in frame.columns if c not in COLUMNS]
    if extra:
        raise SourceFileError(f"{source}: unexpected column {extra[0]!r} (an Explore Local Statistics file has "
                              f"{', '.join(COLUMNS)}); the file format has changed")
    # plain object columns: the checks below filter and compare them many times (faster than Arrow strings)
    frame = frame.astype(object)
    return frame.assign(areacd=frame["areacd"].str.strip(), status=frame["status"].fillna("").str.strip())


def code_changes(frames) -> tuple[set[str], dict[str, str]]:
    """(codes marked obsolete, successor code -> the one code it replaced) from the files' notes.

    ONS notes an old code's rows "Obsolete code since 2025 (replaced by E08000038 Barnsley)"; some files
    carry only the successor (healthy life expectancy has Barnsley as E08000038 alone), so the notes of
    every file are pooled. A successor that replaced several codes (a merger) maps to none.
    """
    obsolete, pairs = set(), set()
    for frame in frames:
        notes = frame["notes"].fillna("")
        marked = notes.str.contains("Obsolete code", regex=False)
        obsolete |= set(frame.loc[marked, "areacd"])
        found = notes[marked].str.extract(r"replaced by ([EWSN]\d{8})")[0]
        pairs |= set(zip(found.dropna(), frame.loc[found.dropna().index, "areacd"]))
    olds: dict[str, set[str]] = {}
    for new, old in pairs:
        olds.setdefault(new, set()).add(old)
    return obsolete, {new: next(iter(old)) for new, old in olds.items() if len(old) == 1}


def read_els(path, dataset_id: str, lad_codes, *, source: str, frame: pd.DataFrame | None = None,
             changes: tuple[set[str], dict[str, str]] | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """One ELS file as long rows for England and its areas; (rows, counts of rows left out by reason).

    District codes the store does not have are left out when the files mark them obsolete; a successor
    code is read as the store's code it replaced when the file has no row under that code (see
    :func:`code_changes`; ``changes`` pools every file's notes, default this file's). Raises a one-line
    :class:`SourceFileError` (or :class:`GSSCodeError`) naming the file and row for a changed column, an
    unknown indicator, measure or geography code, a status flag other than x/u, a value that is not a
    number, an interval that does not contain its value, a period that is not an ISO date or yearly
    interval, or a repeated area/indicator/period.
    """
    frame = read_raw(path, source=source) if frame is None else frame
    _check_labels(frame, DATASETS[dataset_id], source=source)
    frame, level, dropped = _areas(frame, set(lad_codes), changes or code_changes([frame]), source=source)
    frame = to_numbers(frame, ["observation", "lci_95", "uci_95"], source=source, allow_blank=True)
    value, lci, uci, status = _values(frame, source=source)
    years, labels = _period_columns(frame, source=source)
    code = frame["areacd"].to_numpy(dtype=object)
    out = pd.DataFrame({
        "code": code, "name": frame["areanm"].fillna("").to_numpy(dtype=object), "level": level,
        "lad_code": np.where(level == "district", code, None),
        "indicator": frame["indicator"].map(DATASETS[dataset_id]).to_numpy(dtype=object),
        "period": years, "period_label": labels, "value": value, "lci": lci, "uci": uci, "status": status,
        "note": frame["notes"].fillna("").to_numpy(dtype=object),
        "dataset": np.full(len(frame), dataset_id, dtype=object)}, index=frame.index)
    dup = out.duplicated(["code", "indicator", "period"])
    if dup.any():
        _fail(out, dup, lambda r: f"{r['code']} {r['indicator']} {r['period_label']} appears twice", source=source)
    return out.reset_index(drop=True), dropped


def _check_labels(frame: pd.DataFrame, names: dict[str, str], *, source: str) -> None:
    """Every row's indicator is one this file should have, in its unit, with a status flag of x, u or none."""
    registry = builtin_registry()
    odd = ~frame["indicator"].isin(list(names))
    if odd.any():
        _fail(frame, odd, lambda r: f"unexpected indicator {r['indicator']!r} (this file has {', '.join(names)}); "
                                    f"the file has changed: update layers/labour_market.py", source=source)
    for i, column in enumerate(("measure", "unit")):
        want = frame["indicator"].map({n: MEASURES[registry[ind].unit][i] for n, ind in names.items()})
        wrong = frame[column] != want
        if wrong.any():
            _fail(frame, wrong, lambda r: f"{r['indicator']} has {column} {r[column]!r}, expected "
                                          f"{want[r.name]!r}; the file has changed", source=source)
    bad = ~frame["status"].isin(["", *STATUS])
    if bad.any():
        _fail(frame, bad, lambda r: f"status flag {r['status']!r} is not x (not available) or u (unreliable)",
              source=source)


def _areas(frame: pd.DataFrame, known: set[str], changes, *, source: str):
    """(England rows, their level, counts left out): other countries and obsolete district codes left out."""
    obsolete, successor_of = changes
    prefix = frame["areacd"].str[:3]
    away = (prefix.isin(ELSEWHERE) | frame["areacd"].str.startswith("TL")).to_numpy(dtype=bool)
    level = prefix.map(LEVELS).to_numpy(dtype=object)
    unknown = pd.isna(level) & ~away
    if unknown.any():
        _fail(frame, unknown, lambda r: f"unknown geography code {r['areacd']!r} ({r['geography']}); Wardscope reads "
                                        "England (E92), regions (E12), counties (E10, E11, E13), combined authorities "
                                        "(E47) and districts (E06-E09)", source=source, cls=GSSCodeError)
    malformed = ~away & ~frame["areacd"].str.fullmatch(GSS_PATTERN.pattern).fillna(False).to_numpy(dtype=bool)
    if malformed.any():
        _fail(frame, malformed, lambda r: f"{r['areacd']!r} is not a GSS code", source=source, cls=GSSCodeError)
    code = frame["areacd"].to_numpy(dtype=object, copy=True)
    outside = np.flatnonzero((level == "district") & ~frame["areacd"].isin(known).to_numpy(dtype=bool))
    # a successor code stands for the store's code it replaced, unless the file also has that code's own row
    have = set(zip(code, frame["indicator"].to_numpy(dtype=object), frame["period"].to_numpy(dtype=object)))
    recode, drop = [], np.zeros(len(frame), dtype=bool)
    for pos in outside:
        old = successor_of.get(code[pos])
        if old in known and (old, frame["indicator"].iloc[pos], frame["period"].iloc[pos]) not in have:
            recode.append(pos)
        elif code[pos] in obsolete or code[pos] in successor_of:
            drop[pos] = True
        else:
            _fail(frame, np.arange(len(frame)) == pos, lambda r: f"unknown geography code {r['areacd']} "
                  f"({r['areanm']}): not a district in the store (LAD May 2024) and the files do not mark it obsolete",
                  source=source, cls=GSSCodeError)
    if recode:
        frame = frame.copy()
        notes = frame["notes"].fillna("").to_numpy(dtype=object, copy=True)
        for pos in recode:
            notes[pos] = f"published under the successor code {code[pos]}. {notes[pos]}".strip()
            code[pos] = successor_of[code[pos]]
        frame["notes"], frame["areacd"] = notes, code
    keep = ~away & ~drop
    dropped = {"outside England": int(away.sum()), "obsolete or successor district codes": int(drop.sum())}
    return frame[keep], level[keep], dropped


def _values(frame: pd.DataFrame, *, source: str):
    """(value, lci, uci, status) arrays: x has no value, every other row has one, intervals contain values."""
    value, lci, uci = (frame[c].to_numpy(dtype="float64") for c in ("observation", "lci_95", "uci_95"))
    status = frame["status"].to_numpy(dtype=object)
    for mask, message in (
            ((status == "x") & ~np.isnan(value), lambda r: f"status x (not available) but a value {r['observation']:g} "
                                                           "is given"),
            ((status == "") & np.isnan(value), lambda r: f"{r['areacd']} has no value and no status flag (x or u); "
                                                         "truncated file?")):
        if mask.any():
            _fail(frame, mask, message, source=source)
    slack = _EPS * np.maximum(1.0, np.abs(np.nan_to_num(value)))
    bad = (np.isnan(lci) != np.isnan(uci)) | (lci > value + slack) | (uci < value - slack)
    if bad.any():
        _fail(frame, bad, lambda r: f"the 95% interval {r['lci_95']:g} to {r['uci_95']:g} does not contain the value "
                                    f"{r['observation']:g}", source=source)
    # the ONS files write some limits with float noise (79.89999999999999 for 79.9): no figure has more than 10 places
    return value, np.round(lci, 10), np.round(uci, 10), status


def _period_columns(frame: pd.DataFrame, *, source: str) -> tuple[np.ndarray, np.ndarray]:
    """(first year, label) per row, from the file's ISO periods."""
    positions, uniques = pd.factorize(frame["period"].to_numpy(dtype=object))
    parsed = [period_label(p) for p in uniques]
    if None in parsed:
        bad = uniques[parsed.index(None)]
        _fail(frame, positions == parsed.index(None), lambda r: f"period {bad!r} is not a date or a yearly ISO "
                                                                "interval (e.g. 2023-01-01/P1Y)", source=source)
    years = np.array([p[0] for p in parsed], dtype="int64")[positions]
    labels = np.array([p[1] for p in parsed], dtype=object)[positions]
    return years, labels


def _latest(series: pd.DataFrame) -> pd.Series:
    """Each indicator's latest period with a value for England or a district."""
    have = series[series["value"].notna() & series["level"].isin(["england", "district"])]
    return have.groupby("indicator")["period"].max()


class PeriodNotHeld(WardscopeError):
    """A period (first year) the installed labour-market files hold no figure for."""


def periods_held(series: pd.DataFrame, ind_id: str) -> list[int]:
    """First years with a value for England or a district for ``ind_id``, ascending (empty when none)."""
    have = series[(series["indicator"] == ind_id) & series["value"].notna()
                  & series["level"].isin(["england", "district"])]
    return sorted(int(p) for p in have["period"].unique())


def _span(years: list[int]) -> str:
    """``2004-2023`` (or ``2014, 2016-2019`` where years are missing)."""
    runs, start = [], None
    for i, y in enumerate(years):
        start = y if start is None else start
        if i + 1 == len(years) or years[i + 1] != y + 1:
            runs.append(str(y) if start == y else f"{start}-{y}")
            start = None
    return ", ".join(runs) or "none"


def check_period(series: pd.DataFrame, ind_id: str, period: int) -> None:
    """Raise a one-line :class:`PeriodNotHeld` unless ``ind_id`` has a figure for ``period``."""
    held = periods_held(series, ind_id)
    if int(period) not in held:
        raise PeriodNotHeld(f"period {period} is not held for {ind_id} (held: {_span(held)})")


def at_period(series: pd.DataFrame, codes, period: int, ids=None,
              weights: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`wide` for one period (first year) of every indicator in ``ids`` (default: all installed).

    Raises :class:`PeriodNotHeld` (one line) for the first indicator without a figure for ``period``.
    """
    ids = [i for i in (ids or IDS) if i in set(series["indicator"])]
    for ind_id in ids:
        check_period(series, ind_id, period)
    return wide(series[series["indicator"].isin(ids)], codes, weights, period=period)


def wide(series: pd.DataFrame, codes, weights: pd.DataFrame | None = None, period: int | None = None) -> pd.DataFrame:
    """One period of each indicator (``period``, first year; default each one's latest), one row per code in
    ``codes`` (registry columns, see module doc). Indicators without a figure for ``period`` are left out
    (use :func:`at_period` to be told).

    ``weights`` (indexed by code; columns ``pop_total``, ``pop_working_age``: Census 2021 residents) give
    ``<id>__num``/``<id>__den`` for indicators with a registry ``weight``; without one they are NaN.
    """
    from layers.iod import _weighted

    registry = builtin_registry()
    codes = pd.Index(list(codes), dtype=object)
    series = series[["code", "level", "indicator", "period", "value", "lci", "uci"]]
    latest = _latest(series)
    if period is not None:
        held = {i for i in latest.index if int(period) in periods_held(series, i)}
        latest = pd.Series(int(period), index=sorted(held), dtype="int64").rename_axis("indicator")
    at_latest = series["period"].to_numpy() == latest.reindex(series["indicator"]).to_numpy()
    rows = series[at_latest & series["code"].isin(codes).to_numpy()]
    grid = {c: rows.pivot(index="code", columns="indicator", values=c).reindex(codes) for c in ("value", "lci", "uci")}
    with_ci = set(series.loc[series["lci"].notna(), "indicator"])
    out = pd.DataFrame({"code": codes.to_numpy()}, index=codes)
    for ind_id in [i for i in IDS if i in latest.index]:
        ind = registry[ind_id]
        value, lci, uci = (grid[c][ind_id] if ind_id in grid[c] else pd.Series(np.nan, codes) for c in grid)
        out[ind_id] = value.to_numpy(dtype="float64")
        if ind_id in ASYMMETRIC:
            out[f"{ind_id}__lci"], out[f"{ind_id}__uci"] = lci.to_numpy(dtype="float64"), uci.to_numpy(dtype="float64")
        elif ind_id in with_ci:
            # the larger side: where ONS cut an upper bound at 100% the lower side gives the half-width
            out[f"{ind_id}__ci"] = np.fmax(value - lci, uci - value).to_numpy(dtype="float64")
        out[f"{ind_id}__period"] = float(latest[ind_id])
        weight = weights[ind.weight].reindex(codes) if weights is not None and ind.weight else pd.Series(np.nan, codes)
        _weighted(out, ind_id, weight)
        if ind.kind == "rate":  # value = scale * num / den
            out[f"{ind_id}__num"] = out[f"{ind_id}__num"] / ind.scale
    return out.reset_index(drop=True)


def district_weights(lsoa_table: pd.DataFrame, lsoa_weights: pd.DataFrame) -> pd.DataFrame:
    """Census 2021 residents (``pop_total``, ``pop_working_age`` = 16-64) per district, from LSOA counts."""
    lad = pd.Series(lsoa_table["lad_code"].to_numpy(dtype=object), index=lsoa_table["code"].to_numpy(dtype=object))
    return lsoa_weights.groupby(lad.reindex(lsoa_weights.index).to_numpy()).sum(min_count=1)


def _columns(frame: pd.DataFrame, ids) -> list[str]:
    return [c for c in frame.columns for i in ids if c == i or c.startswith(f"{i}__")]


def _periods(series: pd.DataFrame, ind_id: str) -> str:
    rows = series[(series["indicator"] == ind_id) & series["value"].notna()].sort_values("period")
    first, last = rows["period_label"].iloc[0], rows["period_label"].iloc[-1]
    return f"{first} to {last} (latest {last}; every year kept)"


APS_TITLE = "Annual Population Survey"


def aps_partly_note(notes: list[str], rates: list[str]) -> None:
    """Replace the APS "not installed" note (Nomis APS missing) in ``notes`` with one "partly installed" note.

    ``rates``: the APS indicator ids installed from Explore Local Statistics.
    """
    from layers.install import retry_command

    words = {"aps_employment_rate": "employment", "aps_inactivity_rate": "inactivity"}
    named = [words.get(i, i) for i in rates]
    what = f"{' and '.join(named)} rate{'s' if len(named) > 1 else ''} (aged 16-64)"
    notes[:] = [n for n in notes if not n.startswith((f"{APS_TITLE} not installed:", f"{APS_TITLE} partly installed:"))]
    notes.append(f"{APS_TITLE} partly installed: {what} for districts, calendar years to 2023, from ONS "
                 "Explore Local Statistics. Not installed: Nomis's latest 12 months and inactivity because of long-term "
                 f"sickness, which need the Nomis API: python cli.py install --nomis (or just this part: "
                 f"{retry_command('aps')})")


def step_labour_market(source, writer, ctx) -> None:
    """Install step: every Explore Local Statistics file the source has (after the Nomis steps).

    The APS employment and inactivity rates become the default ``aps_lad``/``aps_england`` figures; when
    Nomis's were fetched too they stay as ``aps_nomis_lad``/``aps_nomis_england`` and the catalogue note
    names them. Census 2021 residents (``ctx.census_weights``) weight area averages.
    """
    from geo.install import _record
    from layers import aps
    from layers.install import _installed

    present = [d for d in DATASETS if source.has(d)]
    missing = [d for d in DATASETS if d not in present]
    if missing:
        writer.notes.append(f"labour-market files (ONS Explore Local Statistics) not in the source: {', '.join(missing)}; "
                            "their indicators are not installed (the mirror's labour_market/ folder, or an online "
                            "install, has them)")
    if not present:
        return
    lad_codes = pd.Index(ctx.lad["code"].to_numpy(dtype=object))
    raw = {ds: read_raw(source.path(ds), source=source.origin(ds)) for ds in present}
    changes = code_changes(raw.values())
    parts, dropped = [], Counter()
    for ds in present:
        rows, gone = read_els(None, ds, lad_codes, source=source.origin(ds), frame=raw[ds], changes=changes)
        parts.append(rows)
        dropped.update(gone)
        _record(writer, source, ds, len(rows))
    series = pd.concat(parts, ignore_index=True)
    writer.write("indicators", SERIES, series)
    if ctx.census_weights is None:
        raise WardscopeError("it needs the Census 2021 layer (residents aged 16-64, to weight area figures), "
                             "which is not installed")
    weights = district_weights(ctx.lsoa_table, ctx.census_weights)
    lad = wide(series, lad_codes, weights)
    lad.insert(1, "lad_code", lad["code"])
    england = wide(series, [ENGLAND])
    installed = [i for i in IDS if i in lad.columns]
    others = [i for i in installed if i not in APS_IDS]
    writer.write("indicators", f"{TABLE}_lad", lad[["code", "lad_code"] + _columns(lad, others)])
    writer.write("indicators", ENGLAND_TABLE, england[["code"] + _columns(england, others)])
    registry = builtin_registry()
    datasets = {i: ds for ds, names in DATASETS.items() for i in names.values()}
    for ind_id in others:
        _installed(ctx, TABLE, [ind_id], method=f"ONS Explore Local Statistics ({registry[ind_id].publisher})",
                   datasets=[datasets[ind_id]], period=_periods(series, ind_id))
    rates = [i for i in APS_IDS if i in installed]
    if rates:
        aps_lad = lad[["code", "lad_code"] + _columns(lad, rates)]
        aps_england = england[["code"] + _columns(england, rates)]
        note = "Explore Local Statistics annual figure (the default)"
        if source.has(aps.DATASET):  # Nomis's latest 12 months too: kept beside, the registry reads these
            nomis_lad, nomis_england, nomis_period = aps.read_aps(source.path(aps.DATASET), lad_codes,
                                                                  source=source.origin(aps.DATASET))
            writer.write("indicators", "aps_nomis_lad", nomis_lad)
            writer.write("indicators", "aps_nomis_england", nomis_england)
            rest = [i for i in aps.IDS if i not in rates]
            aps_lad = aps_lad.merge(nomis_lad[["code"] + _columns(nomis_lad, rest)], on="code", how="left")
            aps_england = aps_england.merge(nomis_england[["code"] + _columns(nomis_england, rest)], on="code", how="left")
            note += (f"; Nomis NM_17_5 figures for {nomis_period} are also installed "
                     "(store tables aps_nomis_lad, aps_nomis_england)")
            ctx.installed = [r for r in ctx.installed if r["id"] not in rates]
        else:
            aps_partly_note(writer.notes, rates)
        writer.write("indicators", "aps_lad", aps_lad)
        writer.write("indicators", "aps_england", aps_england)
        for ind_id in rates:
            _installed(ctx, "aps", [ind_id], datasets=[datasets[ind_id]], period=_periods(series, ind_id), note=note,
                       method="ONS Explore Local Statistics: Annual Population Survey (Jan-Dec) estimates with 95% "
                              "confidence intervals; area figures weighted by Census 2021 residents aged 16-64")
    years = f"{series['period'].min()}-{series['period'].max()}"
    writer.notes.append(
        f"labour market (ONS Explore Local Statistics): {len(installed)} district indicators, {years}, every year kept; "
        f"left out {dropped['outside England']:,} rows outside England and "
        f"{dropped['obsolete or successor district codes']:,} for district codes the files mark obsolete")
