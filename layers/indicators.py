"""Indicator values for every area of a level, from the installed store.

:func:`indicator_table` is the one entry point the app, the CLI, exports
and priority scoring use. Values are in the registry's unit; rates come
with the counts they were computed from. Above the level an indicator is
stored at, values are computed by summing (:mod:`layers.aggregate`).
"""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from geo.errors import WardscopeError
from geo.store import Store, open_store
from layers import aggregate
from layers.registry import (LEVELS, NOMIS_INSTALL_HINT, IndicatorLevelError, IndicatorNotInstalled, Indicator,
                             get_indicator, load_registry)

BASE_COLUMNS = ["code", "name", "lad_code", "lad_name"]
NO_LSOA_NOTE = ("no LSOA is assigned to this ward by the ONS best-fit lookup (its LSOAs' population-weighted "
                "centroids fall in neighbouring wards), so LSOA-based figures are not available")


#: Filtered reads kept per store (an app session asks for the same area at several levels).
MEMO_ENTRIES = 64


def _load(store: Store, name: str, lad_codes) -> pd.DataFrame:
    """An indicators table, whole (cached on the store) or for some districts (row-group filtered, memoised)."""
    if lad_codes is None:
        return store.load("indicators", name)
    memo = store.__dict__.setdefault("_indicator_memo", {})
    key = (name, tuple(sorted(set(lad_codes))))
    if key not in memo:
        if len(memo) >= MEMO_ENTRIES:
            memo.pop(next(iter(memo)))
        memo[key] = store.table("indicators", name, key[1])
    return memo[key]


def installed_catalogue(store: Store) -> pd.DataFrame:
    """One row per installed indicator (id, table, method, datasets, period, estimate, note)."""
    if not store.has("indicators", "installed"):
        return pd.DataFrame(columns=["id", "table", "base", "method", "datasets", "period", "estimate", "note"])
    return store.load("indicators", "installed")


def _install_hint(ind: Indicator, store: Store) -> str:
    """Why an indicator is not installed and the command that installs it (just its part, where it has one)."""
    if store.has("indicators", "not_installed"):
        rows = store.load("indicators", "not_installed")
        rows = rows[(rows["part"] == ind.table) & (rows["status"] == "not installed")]
        if len(rows):
            return f"{rows['why'].iloc[0]}; to install just it: {rows['retry'].iloc[0]}"
    if ind.table in ("claimant", "aps"):
        return f"it comes from the Nomis API; install it with: {NOMIS_INSTALL_HINT}"
    return "reinstall the store: python cli.py install"


def available(level: str, store: Store | None = None) -> list[str]:
    """Ids of the indicators installed at ``level`` (claimant count and APS only when fetched from Nomis)."""
    _check_level(level)
    store = store or open_store()
    installed = set(installed_catalogue(store)["id"])
    return [i for i, ind in load_registry().items() if level in ind.levels and (ind.user or i in installed)]


def status(store: Store | None = None) -> pd.DataFrame:
    """Every registry indicator with whether it is installed, and how to install it when not."""
    store = store or open_store()
    cat = installed_catalogue(store).set_index("id")
    rows = []
    for ind in load_registry().values():
        on = ind.user or ind.id in cat.index
        period = cat.at[ind.id, "period"] if ind.id in cat.index else ind.period
        rows.append({"id": ind.id, "label": ind.label, "levels": ",".join(ind.levels), "period": period,
                     "source": f"{ind.publisher}: {ind.dataset}", "installed": "yes" if on else
                     f"not installed: {_install_hint(ind, store)}"})
    return pd.DataFrame(rows)


def metadata(ids: Iterable[str] | None = None, store: Store | None = None) -> pd.DataFrame:
    """Registry metadata of ``ids`` (default: all) with how the installed figures were made.

    One row per indicator: the registry fields (``Indicator.meta()``), then
    ``installed``, ``method``, ``installed_period``, ``installed_estimate``,
    ``datasets`` and ``install_note`` from the store (empty when not installed).
    """
    store = store or open_store()
    registry = load_registry()
    cat = installed_catalogue(store).set_index("id")
    rows = []
    for ind in (registry.values() if ids is None else [get_indicator(i, registry) for i in ids]):
        row = ind.meta()
        here = ind.id in cat.index
        row.update({"installed": here or ind.user, "method": cat.at[ind.id, "method"] if here else "",
                    "installed_period": cat.at[ind.id, "period"] if here else "",
                    "installed_estimate": bool(cat.at[ind.id, "estimate"]) if here else ind.estimate,
                    "datasets": cat.at[ind.id, "datasets"] if here else "", "install_note": cat.at[ind.id, "note"] if here else ""})
        rows.append(row)
    return pd.DataFrame(rows)


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise WardscopeError(f"unknown level {level!r}; choose one of {', '.join(LEVELS)}")


def resolve_ids(level: str, ids: Iterable[str] | None, store: Store, registry: dict[str, Indicator]) -> list[Indicator]:
    """The indicators asked for, checked to exist at ``level`` and be installed."""
    _check_level(level)
    if ids is None:
        return [registry[i] for i in available(level, store)]
    installed = set(installed_catalogue(store)["id"])
    out = []
    for raw in ids:
        ind = get_indicator(raw, registry)
        if level not in ind.levels:
            alt = [i for i, o in registry.items() if level in o.levels and o.topic == ind.topic and o.id != ind.id][:4]
            hint = f"; at {level} level try {', '.join(alt)}" if alt else ""
            raise IndicatorLevelError(f"{ind.id} ({ind.label}) is not available at {level} level; it exists at "
                                      f"{', '.join(ind.levels)}{hint}")
        if not ind.user and ind.id not in installed:
            raise IndicatorNotInstalled(f"{ind.id} ({ind.label}) is not installed: {_install_hint(ind, store)}")
        if ind not in out:
            out.append(ind)
    return out


def _groups(inds: list[Indicator]) -> dict[tuple, list[Indicator]]:
    groups: dict[tuple, list[Indicator]] = {}
    for ind in inds:
        groups.setdefault((ind.table, ind.base, ind.user), []).append(ind)
    return groups


def base_rows(store: Store, ind: Indicator, lad_codes) -> pd.DataFrame:
    """The stored rows an indicator is computed from (its base level), optionally for some districts."""
    if ind.user:
        from layers.user_indicators import user_rows

        rows = user_rows(ind.id, store)
        return rows if lad_codes is None else rows[rows["lad_code"].isin(list(lad_codes))]
    return _load(store, f"{ind.table}_{ind.base}", lad_codes)


#: Columns that travel with a published district figure when its table holds them: the 95% interval
#: (+/- half-width, or lower and upper bounds where it is asymmetric) and the period's first year.
COMPANIONS = ("__ci", "__lci", "__uci", "__period")


def companion_columns(inds: list[Indicator], columns) -> list[str]:
    """``<id>__ci``/``__lci``/``__uci``/``__period`` of ``inds`` that are among ``columns``."""
    have = set(columns)
    return [f"{i.id}{s}" for i in inds for s in COMPANIONS if f"{i.id}{s}" in have]


def _direct(rows: pd.DataFrame, inds: list[Indicator], registry) -> pd.DataFrame:
    cols = list(dict.fromkeys([c for ind in aggregate.needed(inds, registry) for c in aggregate.value_columns(ind)]
                              + companion_columns(inds, rows.columns)))
    frame = rows.set_index("code")[cols].astype("float64")
    return aggregate.add_flags(frame, inds, registry)


def _parent_keys(store: Store, base: str, level: str, rows: pd.DataFrame, lad_codes) -> pd.Series:
    if level == "lad":
        return rows["lad_code"]
    if base == "lsoa" and level == "ward":
        lsoa = _load(store, "index_lsoa", lad_codes)
        ward_of = pd.Series(lsoa["ward_code"].to_numpy(dtype=object), index=pd.Index(lsoa["code"].to_numpy(dtype=object)))
        return ward_of.reindex(rows["code"].to_numpy(dtype=object))
    raise WardscopeError(f"cannot aggregate {base} figures to {level}")


def values_at(level: str, inds: list[Indicator], store: Store, lad_codes=None) -> pd.DataFrame:
    """Indicator values (and rate counts) indexed by area code at ``level``; no names.

    A table stored at ``level`` itself is read directly (e.g. IoD 2019 on
    2011 LSOAs, APS districts); otherwise the base rows are summed up.
    """
    registry = load_registry()
    parts = []
    for (table, base, user), members in _groups(inds).items():
        if user and base == level:
            parts.append(_direct(base_rows(store, members[0], lad_codes), members, registry))
        elif not user and store.has("indicators", f"{table}_{level}"):
            parts.append(_direct(_load(store, f"{table}_{level}", lad_codes), members, registry))
        else:
            rows = base_rows(store, members[0], lad_codes)
            keys = _parent_keys(store, base, level, rows, lad_codes)
            parts.append(aggregate.aggregate(rows, keys.to_numpy(dtype=object), members, registry))
    return pd.concat(parts, axis=1) if parts else pd.DataFrame()


def output_columns(inds: list[Indicator]) -> list[str]:
    """Value columns in the order asked for, then ``__num``/``__den`` of each rate (and ``__ci`` for survey rates)."""
    extra = [c for i in inds if i.kind == "rate" for c in
             (f"{i.id}__num", f"{i.id}__den", *([f"{i.id}__ci"] if i.rag == "ci" else []))]
    return [i.id for i in inds] + extra


def indicator_table(level: str, lad_codes: Iterable[str] | None = None, ids: Iterable[str] | None = None,
                    store: Store | None = None) -> pd.DataFrame:
    """Every area of ``level`` (in ``lad_codes``, or all England) with one column per indicator.

    Parameters
    ----------
    level : ``lsoa`` (2021), ``lsoa11``, ``ward`` (2024) or ``lad``.
    lad_codes : districts (LAD 2024 codes) to keep; None for all England.
    ids : indicator ids; None for every indicator installed at ``level``.

    Returns
    -------
    DataFrame with ``code``, ``name``, ``lad_code``, ``lad_name``, one column
    per indicator (the value in its registry unit) and, for rates,
    ``<id>__num`` and ``<id>__den`` (estimated counts where the source is
    percentages), and ``<id>__ci`` (the 95% confidence interval, +/-) for
    APS rates; published district figures (layers/labour_market.py) also
    carry ``<id>__lci``/``<id>__uci`` where the interval is asymmetric and
    ``<id>__period`` (first year of the period). Areas without data are NaN, never 0. ``attrs['notes']``
    maps codes to the reason they have no data (wards with no LSOA).

    Raises :class:`~layers.registry.UnknownIndicatorError`,
    :class:`~layers.registry.IndicatorLevelError` or
    :class:`~layers.registry.IndicatorNotInstalled` with a one-line message.
    """
    store = store or open_store()
    registry = load_registry()
    lad_codes = None if lad_codes is None else sorted(set(lad_codes))
    inds = resolve_ids(level, ids, store, registry)
    index = _load(store, f"index_{level}", lad_codes)
    out = index[BASE_COLUMNS].reset_index(drop=True)
    if inds:
        values = values_at(level, inds, store, lad_codes)
        values = values.reindex(pd.Index(out["code"].to_numpy(dtype=object)))
        cols = output_columns(inds)
        cols += [c for c in companion_columns(inds, values.columns) if c not in cols]
        out = pd.concat([out, pd.DataFrame({c: values[c].to_numpy() for c in cols})], axis=1)
    notes = {}
    if level == "ward" and "n_lsoa" in index.columns:
        notes = {code: NO_LSOA_NOTE for code in index.loc[index["n_lsoa"] == 0, "code"]}
    out.attrs["notes"] = notes
    return out


def england_table(level: str, ids: Iterable[str], store: Store) -> pd.DataFrame:
    """:func:`indicator_table` for all of England, memoised on the store (read-only: never change it).

    Every score compares areas across England, so each area of interest, weight or draw count scored
    with the same indicators shares one table.
    """
    memo = store.__dict__.setdefault("_england_memo", {})
    key = (level, tuple(ids))
    if key not in memo:
        if len(memo) >= MEMO_ENTRIES:
            memo.pop(next(iter(memo)))
        # a table already made with more indicators has these columns: take them instead of summing again
        wider = next((t for (lv, have), t in memo.items() if lv == level and set(key[1]) <= set(have)), None)
        if wider is not None:
            columns = BASE_COLUMNS + output_columns(resolve_ids(level, key[1], store, load_registry()))
            table = wider[columns].copy()
            table.attrs = dict(wider.attrs)
        else:
            table = indicator_table(level, None, list(key[1]), store=store)
        memo[key] = table
    return memo[key]


def _at_period(table: pd.DataFrame, inds: list[Indicator], period: int, asked: bool, store: Store):
    """``table`` (districts) with its Explore Local Statistics figures for ``period``; (table, inds, notes).

    Indicators the files hold no ``period`` figure for raise :class:`~layers.labour_market.PeriodNotHeld`
    when asked for by id (or when none holds it); otherwise they are left out, with a note.
    """
    from layers import labour_market as lm

    els = [i.id for i in inds if i.id in lm.IDS]
    if not els or not store.has("indicators", lm.SERIES):
        return table, inds, [f"--period {period}: none of these indicators is a yearly district figure from ONS "
                             "Explore Local Statistics; figures are as installed"]
    series = store.table("indicators", lm.SERIES)
    held = [i for i in els if period in lm.periods_held(series, i)]
    missing = [i for i in els if i not in held]
    if missing and (asked or not held):
        lm.check_period(series, missing[0], period)
    notes = [f"{i}: no {period} figure (held: {lm._span(lm.periods_held(series, i))}); left out" for i in missing]
    table = table.drop(columns=[c for c in table.columns for i in missing if c == i or c.startswith(f"{i}__")])
    inds = [i for i in inds if i.id not in missing]
    if held:
        codes = table["code"].to_numpy(dtype=object)
        figures = lm.at_period(series, codes, period, held).set_index("code").reindex(codes)
        for column in [c for c in figures.columns for i in held if c == i or c in companion_columns(
                [load_registry()[i]], figures.columns)]:
            table[column] = figures[column].to_numpy()
    return table, inds, notes


def _period_note(table: pd.DataFrame, inds: list[Indicator]) -> str | None:
    """"Employment rate (APS) figures are for 2023; Claimant rate for 2025" when periods differ by indicator."""
    years = {}
    for ind in inds:
        column = table.get(f"{ind.id}__period")
        if column is not None and column.notna().any():
            years.setdefault(int(column.dropna().max()), []).append(ind.label)
    if len(years) < 2:
        return None
    return "periods differ by indicator: " + "; ".join(f"{', '.join(labels)} for {year}"
                                                      for year, labels in sorted(years.items()))


def area_indicator_table(level: str, area, ids: Iterable[str] | None = None, store: Store | None = None,
                         period: int | None = None) -> pd.DataFrame:
    """:func:`indicator_table` for an area of interest (name or code), values rounded for display.

    Columns: code, name, lad_code, lad_name and one per indicator id, each followed by its companions
    where the table holds them: ``<id>__ci`` (95% interval, +/-, in the indicator's unit) or
    ``<id>__lci``/``<id>__uci`` (asymmetric) and ``<id>__period`` (first year of the period).
    ``period`` (first year) chooses the year of district figures from ONS Explore Local Statistics
    (``level`` ``lad`` only; default each indicator's latest); at other levels it is noted, not applied.
    ``attrs['period_notes']`` lists plain sentences about periods. Raises
    :class:`~layers.labour_market.PeriodNotHeld` for a period an asked-for indicator does not hold.
    """
    from geo.areas import Area, resolve_area

    store = store or open_store()
    if not isinstance(area, Area):
        area = resolve_area(area, store.districts())
    registry = load_registry()
    table = indicator_table(level, area.lad_codes, ids, store)
    inds = [registry[c] for c in table.columns if c in registry]
    notes = []
    if period is not None and level == "lad":
        table, inds, notes = _at_period(table, inds, int(period), ids is not None, store)
    elif period is not None:
        notes.append(f"--period {period} applies only to district figures (--level lad) from ONS Explore Local "
                     f"Statistics; these {level} figures are as installed")
    columns = BASE_COLUMNS + [c for i in inds for c in [i.id, *companion_columns([i], table.columns)]]
    out = table[columns].copy()
    for ind in inds:
        out[ind.id] = out[ind.id].round(ind.decimals)
        for side in ("__ci", "__lci", "__uci"):
            if f"{ind.id}{side}" in out.columns:
                out[f"{ind.id}{side}"] = out[f"{ind.id}{side}"].round(ind.decimals + 1)
        if f"{ind.id}__period" in out.columns:
            out[f"{ind.id}__period"] = out[f"{ind.id}__period"].astype("Int64")
    note = _period_note(out, inds)
    out = out.sort_values(["lad_name", "name"]).reset_index(drop=True)
    out.attrs["period_notes"] = notes + ([note] if note else [])
    return out
