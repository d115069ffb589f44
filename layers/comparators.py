"""Comparators: every value beside its district, area-of-interest and England values, ranks and a RAG rating.

* District, area and England values are computed the same way as the value
  itself: by summing the base rows' numerators and denominators (tables with
  an ``<table>_england`` row, APS and Explore Local Statistics, use England's
  own published row). Deciles and ranks have none.
* Ranks: 1 = most need (highest value when ``direction`` is +1, lowest
  when -1), within the district and across England, among areas of the
  same level that have a value (ties share the best rank).
* RAG against England: ``red`` worse, ``amber`` similar, ``green`` better,
  by the indicator's rule (``Indicator.rag_rule()``, also in the output).
* ``small_denominator``: the rate's denominator is below the registry's
  ``min_den``; such rates keep their rank but always carry this flag, so a
  rank is never shown without it.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from geo.areas import Area, resolve_area
from geo.store import Store, open_store
from layers import aggregate
from layers.indicators import BASE_COLUMNS, base_rows, indicator_table, resolve_ids
from layers.iod import LSOA11_ENGLAND, LSOA21_ENGLAND
from layers.registry import Indicator, load_registry

SUMMARY_KINDS = ("rate", "count", "score", "flag")
RAG_NAMES = {1: "red", 0: "amber", -1: "green"}


def _summary(inds: list[Indicator], store: Store, lad_codes, registry) -> pd.Series:
    """Each indicator over all base rows of ``lad_codes`` (None = England), by summing."""
    out = {}
    by_table: dict[tuple, list[Indicator]] = {}
    for ind in inds:
        if ind.kind in SUMMARY_KINDS:
            by_table.setdefault((ind.table, ind.base, ind.user), []).append(ind)
    for (table, _, user), members in by_table.items():
        if lad_codes is None and store.has("indicators", f"{table}_england"):  # the publisher's own England row
            row = store.load("indicators", f"{table}_england")
            for ind in members:
                out[ind.id] = float(row[ind.id].iloc[0]) if len(row) else np.nan
            continue
        rows = base_rows(store, members[0], lad_codes)
        values = aggregate.total(rows, members, registry)
        for ind in members:
            out[ind.id] = float(values[ind.id])
    return pd.Series(out, dtype="float64")


def _rank(values: pd.Series, direction: int) -> pd.Series:
    return values.rank(method="min", ascending=direction < 0, na_option="keep")


def interval_worse_better(direction: int, lower, upper, england) -> tuple[np.ndarray, np.ndarray]:
    """(worse, better) against England for need, from each figure's 95% interval ``[lower, upper]``.

    Worse only when the whole interval is worse than England's value (above it when ``direction`` is +1,
    below it when -1), better when the whole interval is better, and neither ("similar") when England's
    value lies inside the interval. ``england`` may be one value or one per figure.
    """
    lower, upper = np.asarray(lower, dtype="float64"), np.asarray(upper, dtype="float64")
    above, below = lower > england, upper < england
    return (above, below) if direction > 0 else (below, above)


def rag(ind: Indicator, value: np.ndarray, england: float, ci: np.ndarray | None = None,
        lower: np.ndarray | None = None, upper: np.ndarray | None = None) -> np.ndarray:
    """``red``/``amber``/``green`` (worse/similar/better than England for need), or None.

    ``ci`` (+/-) or ``lower``/``upper`` give the 95% interval of ``rag: ci`` indicators; ``rag: value``
    compares the values, "similar" only when equal at the indicator's decimals. ``england`` may be one
    value or one per figure (e.g. England in each figure's year).
    """
    value = np.asarray(value, dtype="float64")
    england = np.asarray(england, dtype="float64")
    out = np.full(value.shape, None, dtype=object)
    if ind.rag == "none" or ind.direction == 0:
        return out
    ok = ~np.isnan(value)
    if ind.rag == "decile":
        worse, better = value <= 3, value >= 8
    elif ind.rag == "rank":
        n = LSOA11_ENGLAND if ind.id.startswith("imd2019") else LSOA21_ENGLAND
        worse, better = value <= 0.3 * n, value > 0.7 * n
    elif np.isnan(england).all():
        return out
    elif ind.rag == "ci" and (ci is not None or lower is not None):
        if lower is None:
            half = np.asarray(ci, dtype="float64")
            lower, upper = value - half, value + half
        worse, better = interval_worse_better(ind.direction, lower, upper, england)
        ok &= ~np.isnan(np.asarray(lower, dtype="float64")) & ~np.isnan(np.asarray(upper, dtype="float64"))
    else:
        diff = value - england
        if ind.rag == "value":
            diff = np.round(value, ind.decimals) - np.round(england, ind.decimals)
            tol = 0.0
        elif ind.rag == "relative":
            tol = ind.rag_tolerance * abs(england)
        else:
            tol = ind.rag_tolerance
        higher, lower_ = diff > tol, diff < -tol
        worse, better = (higher, lower_) if ind.direction > 0 else (lower_, higher)
    # for deciles and ranks "worse" is already in need terms (1 = most deprived)
    if ind.rag not in ("decile", "rank"):
        ok &= ~np.isnan(england)
    out[ok & worse] = "red"
    out[ok & better] = "green"
    out[ok & ~worse & ~better] = "amber"
    return out


def comparators(level: str, area, ids: Iterable[str] | None = None, store: Store | None = None) -> pd.DataFrame:
    """One row per area of ``level`` in ``area`` and indicator, with its comparators.

    Columns: code, name, lad_code, lad_name, indicator, unit, value, numerator,
    denominator, ci (APS), district_value, area_value, england_value,
    rank_in_district, n_in_district, rank_in_england, n_in_england, rag,
    rag_rule, small_denominator, note.
    """
    store = store or open_store()
    if not isinstance(area, Area):
        area = resolve_area(area, store.districts())
    registry = load_registry()
    inds = resolve_ids(level, ids, store, registry)
    national = indicator_table(level, None, [i.id for i in inds], store)
    in_area = national["lad_code"].isin(area.lad_codes).to_numpy()
    districts = indicator_table("lad", area.lad_codes, [i.id for i in inds if "lad" in i.levels], store) \
        if any("lad" in i.levels for i in inds) else pd.DataFrame({"code": []})
    district_of = districts.set_index("code")
    area_values = _summary(inds, store, list(area.lad_codes), registry)
    england = _summary(inds, store, None, registry)
    notes = national.attrs.get("notes", {})
    parts = []
    for ind in inds:
        vals = national[ind.id]
        frame = national.loc[in_area, BASE_COLUMNS].copy()
        frame["indicator"] = ind.id
        frame["unit"] = ind.unit
        frame["value"] = vals[in_area].to_numpy()
        num = national[f"{ind.id}__num"] if ind.kind == "rate" else pd.Series(np.nan, index=national.index)
        den = national[f"{ind.id}__den"] if ind.kind == "rate" else pd.Series(np.nan, index=national.index)
        frame["numerator"] = num[in_area].to_numpy()
        frame["denominator"] = den[in_area].to_numpy()
        ci = national[f"{ind.id}__ci"][in_area].to_numpy() if f"{ind.id}__ci" in national.columns else None
        frame["ci"] = ci if ci is not None else np.nan
        if ind.id in district_of.columns:
            frame["district_value"] = district_of[ind.id].reindex(frame["lad_code"]).to_numpy()
        else:
            frame["district_value"] = np.nan
        frame["area_value"] = area_values.get(ind.id, np.nan)
        e_value = float(england.get(ind.id, np.nan))
        frame["england_value"] = e_value
        direction = ind.direction or 1
        in_district = vals.groupby(national["lad_code"]).rank(method="min", ascending=direction < 0, na_option="keep")
        frame["rank_in_district"] = in_district[in_area].to_numpy()
        frame["n_in_district"] = vals.notna().groupby(national["lad_code"]).transform("sum")[in_area].to_numpy()
        frame["rank_in_england"] = _rank(vals, direction)[in_area].to_numpy()
        frame["n_in_england"] = int(vals.notna().sum())
        bounds = [national[f"{ind.id}{b}"][in_area].to_numpy() if f"{ind.id}{b}" in national.columns else None
                  for b in ("__lci", "__uci")]
        frame["rag"] = rag(ind, frame["value"].to_numpy(), e_value, ci, *bounds)
        frame["rag_rule"] = ind.rag_rule()
        small = (frame["denominator"] < ind.min_den).to_numpy() if ind.kind == "rate" and ind.min_den else np.zeros(len(frame), bool)
        frame["small_denominator"] = small
        frame["note"] = [notes.get(c, "") for c in frame["code"]]
        frame.loc[small, "note"] = [f"small denominator ({d:g} < {ind.min_den:g}): treat the rate and its rank with caution"
                                    for d in frame.loc[small, "denominator"]]
        parts.append(frame)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
