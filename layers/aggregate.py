"""Aggregation: LSOA -> ward -> district -> area of interest -> England, by summing.

Rates sum their numerators and denominators and divide once; counts sum;
scores sum score x population and population (a population-weighted
average); flags are derived from the aggregated values they depend on.
Rates are never averaged, ranks and deciles never aggregated. A base row
whose numerator is missing does not count in its denominator either, and a
group with no data at all is NaN, never 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from layers.registry import Indicator


def _derived():
    from layers import claimant

    return {"claimant_rate_rose_sharply": (("claimant_rate", "claimant_rate_change_12m"), claimant.rose_sharply)}


def dependencies(ind: Indicator) -> tuple[str, ...]:
    """Indicator ids a flag is computed from (empty for other kinds)."""
    if ind.kind != "flag":
        return ()
    return _derived()[ind.id][0]


def sum_columns(ind: Indicator) -> list[str]:
    """Base-table columns whose sums give ``ind`` above its base level."""
    if ind.kind in ("rate", "score"):
        return [f"{ind.id}__num", f"{ind.id}__den"]
    if ind.kind == "count":
        return [ind.id]
    return []


def value_columns(ind: Indicator) -> list[str]:
    """Base-table columns holding ``ind`` at its base level."""
    if ind.kind == "rate":
        return [ind.id, f"{ind.id}__num", f"{ind.id}__den"] + ([f"{ind.id}__ci"] if ind.rag == "ci" else [])
    if ind.kind == "flag":
        return []
    return [ind.id]


def _masked(rows: pd.DataFrame, inds: list[Indicator]) -> pd.DataFrame:
    """Sum columns with each denominator blanked where its numerator is missing."""
    cols = list(dict.fromkeys(c for ind in inds for c in sum_columns(ind)))
    data = rows[cols].astype("float64")
    pairs = [(f"{i.id}__num", f"{i.id}__den") for i in inds if i.kind in ("rate", "score")]
    if pairs:
        nums, dens = [p[0] for p in pairs], [p[1] for p in pairs]
        values = data[dens].to_numpy(copy=True)
        values[np.isnan(data[nums].to_numpy())] = np.nan
        data[dens] = values
    return data


def values_from_sums(sums: pd.DataFrame, inds: list[Indicator], registry: dict[str, Indicator]) -> pd.DataFrame:
    """Values (and ``__num``/``__den`` for rates) from summed columns; one row per group."""
    out = {}
    for ind in inds:
        if ind.kind in ("rate", "score"):
            num, den = sums[f"{ind.id}__num"].to_numpy(), sums[f"{ind.id}__den"].to_numpy()
            with np.errstate(invalid="ignore", divide="ignore"):
                value = np.where(den > 0, num / den, np.nan) * (ind.scale if ind.kind == "rate" else 1.0)
            out[ind.id] = value
            if ind.kind == "rate":
                out[f"{ind.id}__num"] = num
                out[f"{ind.id}__den"] = den
        elif ind.kind == "count":
            out[ind.id] = sums[ind.id].to_numpy()
    frame = pd.DataFrame(out, index=sums.index)
    return add_flags(frame, inds, registry, sums=sums)


def add_flags(frame: pd.DataFrame, inds: list[Indicator], registry: dict[str, Indicator], *, sums=None) -> pd.DataFrame:
    """Compute flag indicators from their dependencies' values (computing those too when needed)."""
    derived = _derived()
    for ind in inds:
        if ind.kind != "flag":
            continue
        deps, fn = derived[ind.id]
        missing = [d for d in deps if d not in frame.columns]
        if missing:
            if sums is None:
                raise KeyError(f"{ind.id} needs {', '.join(missing)}")
            extra = values_from_sums(sums, [registry[d] for d in missing], registry)
            args = [frame[d] if d in frame.columns else extra[d] for d in deps]
        else:
            args = [frame[d] for d in deps]
        frame[ind.id] = fn(*args).to_numpy()
    return frame


def needed(inds: list[Indicator], registry: dict[str, Indicator]) -> list[Indicator]:
    """``inds`` plus the indicators their flags depend on (for summing)."""
    out = list(inds)
    for ind in inds:
        for dep in dependencies(ind):
            if registry[dep] not in out:
                out.append(registry[dep])
    return out


def aggregate(rows: pd.DataFrame, keys, inds: list[Indicator], registry: dict[str, Indicator]) -> pd.DataFrame:
    """Group base rows by ``keys`` (an array of parent codes) and compute every indicator by summing."""
    everything = needed(inds, registry)
    data = _masked(rows, everything)
    sums = data.groupby(np.asarray(keys, dtype=object), sort=False).sum(min_count=1)
    return values_from_sums(sums, inds, registry)


def total(rows: pd.DataFrame, inds: list[Indicator], registry: dict[str, Indicator]) -> pd.Series:
    """Every indicator over all ``rows`` together (an area of interest, or England)."""
    everything = needed(inds, registry)
    data = _masked(rows, everything)
    sums = data.sum(min_count=1).to_frame().T
    return values_from_sums(sums, inds, registry).iloc[0]
