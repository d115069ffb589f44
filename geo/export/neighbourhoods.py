"""Merge adjacent selected areas into priority neighbourhoods.

Two selected areas are adjacent when they touch under the one rule of
:mod:`geo.contiguity` (Rook: a shared stretch of boundary, never a corner
alone), the same rule the app's map of priority neighbourhoods uses. Each
connected group of adjacent areas becomes one neighbourhood; an area with no
selected neighbour is a neighbourhood of its own.

Geometry stays in EPSG:27700 (metres); a neighbourhood's outline is the
union of its members'. Populations are summed; scores and other measures
are population-weighted means (members with a missing value are left out of
that mean); see :func:`default_rule` for every column.
"""

from __future__ import annotations

from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.contiguity import components
from geo.crs import require_bng
from geo.errors import ExportError, UnknownColumnError
from geo.export.columns import BASE_COLUMNS, ColumnSpec, as_spec

#: Columns every neighbourhood layer has after the base columns.
MEMBER_COLUMNS = ("n_areas", "member_codes", "member_names", "ward_names")
#: Neighbourhood codes are this prefix and a number in priority order (PN001, PN002, ...).
CODE_PREFIX = "PN"
#: How many ward names a neighbourhood's name shows before "+k more".
NAME_WARDS = 3


def default_rule(spec: ColumnSpec, values: pd.Series, *, population: str, rank: str | None) -> str:
    """The dissolve rule for a column: its own, else by name and type.

    population -> ``sum``; the rank column -> ``min`` (the best member's
    rank); true/false -> ``all`` (a neighbourhood is robust only when every
    member is); other numbers -> ``weighted`` (population-weighted mean);
    text -> ``join`` (distinct values in priority order, joined by "; ").
    """
    if spec.dissolve:
        return spec.dissolve
    if spec.name == population:
        return "sum"
    if rank is not None and spec.name == rank:
        return "min"
    if pd.api.types.is_bool_dtype(values):
        return "all"
    if pd.api.types.is_numeric_dtype(values):
        return "weighted"
    return "join"


def _join(series: pd.Series) -> str:
    return "; ".join(dict.fromkeys(str(v) for v in series.dropna()))


def _aggregate(frame: pd.DataFrame, column: str, rule: str, groups: np.ndarray, weights: pd.Series) -> pd.Series:
    values = frame[column]
    grouped = values.groupby(groups, sort=True)
    if rule == "sum":
        return grouped.sum(min_count=1)
    if rule == "weighted":
        numeric = values.astype("float64")
        w = weights.where(numeric.notna(), 0.0)
        total = w.groupby(groups, sort=True).sum()
        weighted = (numeric.fillna(0.0) * w).groupby(groups, sort=True).sum()
        return (weighted / total.replace(0.0, np.nan)).astype("float64")
    if rule in ("mean", "min", "max", "first"):
        return getattr(grouped, rule)()
    if rule in ("all", "any"):
        return getattr(values.fillna(False).astype(bool).groupby(groups, sort=True), rule)()
    return grouped.agg(_join).astype(object)


def dissolve_adjacent(areas: gpd.GeoDataFrame, specs: Sequence[ColumnSpec], *, population: str = "population",
                      score: str | None = "score", rank: str | None = "rank") -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Merge adjacent ``areas`` into priority neighbourhoods.

    Parameters
    ----------
    areas : GeoDataFrame in EPSG:27700 with the base columns, in priority order.
    specs : the exported columns (base columns first); each non-base one is
        aggregated by its rule (:func:`default_rule`).
    population : column of people per area (summed, and the weights).
    score : column that orders the neighbourhoods (population-weighted, highest first).
    rank : the rank column, if any (aggregated as the best member rank).

    Returns
    -------
    (neighbourhoods, members)
        ``neighbourhoods``: EPSG:27700, one row per neighbourhood with code
        (``PN001``...), name (up to three ward names), lad_code/lad_name (the
        districts, joined by "; "), :data:`MEMBER_COLUMNS`, population, then
        the other columns aggregated. ``members``: one row per area with its
        neighbourhood code.
    """
    require_bng(areas, what="areas to dissolve")
    if population not in areas.columns:
        raise UnknownColumnError(f"dissolving needs a population column {population!r}, which these areas do not have")
    weights = pd.to_numeric(areas[population], errors="coerce").astype("float64")
    bad = areas.loc[weights.isna() | (weights < 0), "code"]
    if len(bad):
        raise ExportError(f"dissolving needs a population for every area; {population!r} is missing or negative for {', '.join(bad[:5])}")
    frame = areas.reset_index(drop=True)
    weights = weights.reset_index(drop=True)
    groups = components(frame)
    wards = frame["ward_name"] if "ward_name" in frame.columns else (
        frame["name"] if frame["code"].str[:3].isin(["E05", "W05"]).all() else pd.Series("", index=frame.index))

    out = pd.DataFrame(index=pd.RangeIndex(groups.max() + 1))
    ward_names = wards.groupby(groups, sort=True).agg(_join)
    out["n_areas"] = pd.Series(groups).value_counts().sort_index().astype("int64")
    out["member_codes"] = frame["code"].groupby(groups, sort=True).agg(_join)
    out["member_names"] = frame["name"].groupby(groups, sort=True).agg(_join)
    out["ward_names"] = ward_names
    out["lad_code"] = frame["lad_code"].groupby(groups, sort=True).agg(_join)
    out["lad_name"] = frame["lad_name"].groupby(groups, sort=True).agg(_join)
    rules = {population: "sum"}
    for spec in specs:
        if spec.name not in BASE_COLUMNS and spec.name not in MEMBER_COLUMNS:
            rules[spec.name] = default_rule(spec, frame[spec.name], population=population, rank=rank)
    for column, rule in rules.items():
        out[column] = _aggregate(frame, column, rule, groups, weights)

    # neighbourhoods in priority order: weighted score, else first member's position
    first = pd.Series(np.arange(len(frame))).groupby(groups, sort=True).min()
    if score is not None and score in out.columns and pd.api.types.is_numeric_dtype(out[score]):
        order = np.lexsort((first.to_numpy(), -out[score].fillna(-np.inf).to_numpy()))
    else:
        order = np.argsort(first.to_numpy(), kind="stable")
    width = max(3, len(str(len(out))))
    codes = {int(g): f"{CODE_PREFIX}{i + 1:0{width}d}" for i, g in enumerate(order)}
    out["code"] = [codes[g] for g in out.index]
    out["name"] = [_neighbourhood_name(names) for names in ward_names.where(ward_names != "", out["member_names"])]

    geometry = [shapely.union_all(frame.geometry.to_numpy()[groups == g]) for g in out.index]
    result = gpd.GeoDataFrame(out, geometry=geometry, crs=areas.crs).iloc[order]
    columns = [*BASE_COLUMNS, *MEMBER_COLUMNS, *rules]
    result = result[columns + ["geometry"]].reset_index(drop=True)
    members = pd.DataFrame({"neighbourhood": [codes[g] for g in groups], "code": frame["code"], "name": frame["name"],
                            "ward_name": wards.to_numpy(), "lad_code": frame["lad_code"], "lad_name": frame["lad_name"]})
    members = members.iloc[np.lexsort((np.arange(len(members)), members["neighbourhood"].to_numpy()))].reset_index(drop=True)
    return result, members


def dissolved_specs(specs: Sequence[ColumnSpec], population: str) -> list[ColumnSpec]:
    """Column specs of the neighbourhood layer: base, member columns, population, then the rest."""
    rest = [s for s in specs if s.name not in BASE_COLUMNS and s.name not in MEMBER_COLUMNS and s.name != population]
    pop = next((s for s in specs if s.name == population), as_spec(population))
    base = [as_spec(ColumnSpec("code", "Priority neighbourhood code")), as_spec(ColumnSpec("name", "Priority neighbourhood name (its wards)")),
            as_spec(ColumnSpec("lad_code", "District (LAD 2024) GSS codes")), as_spec(ColumnSpec("lad_name", "District (LAD 2024) names"))]
    return [*base, *(as_spec(c) for c in MEMBER_COLUMNS), pop, *rest]


def _neighbourhood_name(names: str) -> str:
    parts = [p for p in names.split("; ") if p]
    head = " / ".join(parts[:NAME_WARDS])
    return head + (f" (+{len(parts) - NAME_WARDS} more)" if len(parts) > NAME_WARDS else "")
