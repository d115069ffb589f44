"""A hub plan for an area of interest from plain inputs (``cli.py hubs`` and the app go through :mod:`tasks.hubs`).

:func:`plan_hubs` takes plain inputs (a demand layer, existing hubs, candidates; EPSG:27700), computes
the travel minutes once, measures coverage by the existing hubs and, for ``mclp``, ``pmedian`` or
``lscp``, solves the model. :mod:`tasks.hubs` resolves the area, reads the inputs, generates the
candidates and delegates. Units: minutes, people (the demand's unit), seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import BNG
from geo.words import count_of
from layers.hubs.coverage import HubCoverage
from layers.hubs.demand import WEIGHT_LABEL, WEIGHT_VERB, check_demand_layer
from layers.hubs.errors import HubError
from layers.hubs.matrix import travel_minutes
from layers.hubs.hub_sites import EXISTING, site_pool

if TYPE_CHECKING:
    from layers.hubs.models import HubModel

#: What ``model=`` accepts (the optimisation models are in :mod:`layers.hubs.models`, imported when used).
PLAN_MODELS = ("coverage", "mclp", "pmedian", "lscp")
#: Generated candidate kinds (anything else is a file).
CANDIDATE_KINDS = ("stations", "priority-centroids")
#: Tables a plan can print (``table=``).
TABLES = ("districts", "areas", "sites", "marginal", "curve")


@dataclass
class HubPlan:
    """Coverage by the existing hubs and, for an optimisation, the solved model (``result``)."""

    model: str
    area_name: str | None
    mode: str
    threshold_min: float
    demand: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    coverage: HubCoverage
    result: "HubModel | None" = None
    curve: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    def statements(self) -> list[str]:
        """Sentences ready to quote (coverage now; what the plan changes; solver status)."""
        out = self.coverage.statements()
        if self.result is not None:
            out += self.result.statements()
        if self.curve is not None and len(self.curve) > 1:
            steps = ", ".join(f"k={int(r.k)} {r.covered_pct:.1f}% (+{r.gain_pct_points:.1f})"
                              for r in self.curve.iloc[1:].itertuples(index=False))
            out.append(f"best coverage for each number of new sites (re-solved): {steps}")
        return out

    def key_statements(self) -> list[str]:
        """What a page leads with: coverage now, then the plan's :meth:`HubModel.key_statements`."""
        return self.coverage.statements()[:1] + (self.result.key_statements() if self.result is not None else [])

    def table(self, name: str) -> pd.DataFrame:
        """One of :data:`TABLES` as a DataFrame, numbers rounded to 0.01."""
        if name not in TABLES:
            raise HubError(f"unknown table {name!r}; choose one of {', '.join(TABLES)}")
        if name == "districts":
            frame = self.coverage.districts()
            if self.result is not None:
                after = self.result.after.districts()
                frame = frame[["level", "lad_code", "lad_name", "priority_areas", "priority_weight",
                               "covered_weight", "covered_pct", "cold_spots"]].rename(
                    columns={"covered_weight": "covered_weight_before", "covered_pct": "covered_pct_before",
                             "cold_spots": "cold_spots_before"})
                frame = pd.concat([frame.reset_index(drop=True),
                                   after[["covered_weight", "covered_pct", "cold_spots", "duplicated_areas"]]
                                   .add_suffix("_after").reset_index(drop=True)], axis=1)
        elif name == "areas":
            frame = self.coverage.areas.copy()
            if self.result is not None:
                after = self.result.after.areas
                for col in ("n_hubs", "nearest_min", "nearest_site", "covered", "cold_spot"):
                    frame[f"{col}_after"] = after[col].to_numpy()
        elif name == "sites":
            frame = self.result.site_table() if self.result is not None else self.coverage.sites
        elif name == "marginal":
            if self.result is None:
                raise HubError("the marginal table comes from an optimisation; use --model mclp, pmedian or lscp")
            frame = self.result.marginal
        else:
            if self.curve is None:
                raise HubError("the curve table needs --model mclp with --curve")
            frame = self.curve
        return frame.round(2)

    def table_labels(self) -> dict[str, str]:
        """Column name -> what a person reads, for the tables of :meth:`table` (see :func:`layers.readable.readable_table`).

        The weight columns are named by what is weighted (``priority residents``, ``claimants``...).
        """
        who = self.coverage.label
        figures = {"priority_areas": "Priority areas", "priority_weight": f"All {who}",
                   "covered_weight": f"{who.capitalize()} within reach",
                   "covered_pct": f"Share of {who} within reach (%)",
                   "cold_spots": "Cold spots (priority areas with no hub within reach)",
                   "duplicated_areas": "Priority areas with two or more hubs within reach"}
        labels = {"level": "Figures for", "lad_code": "District code (GSS)", "lad_name": "District", **figures}
        for name, label in figures.items():
            labels[f"{name}_before"] = f"{label}, now"
            labels[f"{name}_after"] = f"{label}, after the plan"
        labels.update({"site_id": "Site id", "name": "Site", "type": "Type", "role": "Role",
                       "fixed": "Kept in every plan", "capacity": "Capacity (people)", "decision": "Decision",
                       "order": "Order chosen", "added_weight": f"{who.capitalize()} it adds within reach",
                       "assigned_weight": f"{who.capitalize()} for whom it is the nearest hub",
                       "over_capacity": "Over capacity",
                       "priority_weight_within": f"{who.capitalize()} within reach of it",
                       "served_weight": f"{who.capitalize()} it serves (within its capacity)",
                       "spare_capacity": "Spare capacity (people)"})
        return labels

    #: What a missing value means in the tables' columns (else "–").
    TABLE_MISSING = {"lad_code": "all districts", "capacity": "not given", "order": "not chosen",
                     "added_weight": "not chosen", "assigned_weight": "not open", "served_weight": "not open",
                     "spare_capacity": "no limit, or not open"}

    def to_dict(self) -> dict:
        """Everything as plain JSON-ready data (NaN -> null)."""
        def records(frame):
            return json.loads(frame.to_json(orient="records", force_ascii=False))

        data = {"area": self.area_name, "model": self.model, "mode": self.mode, "threshold_min": self.threshold_min,
                "statements": self.statements(), "notes": self.notes,
                "coverage": _clean(self.coverage.summary),
                "districts": records(self.table("districts")), "sites": records(self.table("sites")),
                "areas": records(self.table("areas"))}
        if self.result is not None:
            data["solver"] = _clean(self.result.solver.as_dict())
            data["coverage_after"] = _clean(self.result.after.summary)
            data["marginal"] = records(self.table("marginal"))
            if hasattr(self.result, "capacity_figures"):
                data["capacity"] = _clean(self.result.capacity_figures())
        if self.curve is not None:
            data["curve"] = records(self.table("curve"))
        return data

    def to_json_text(self) -> str:
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False)


def _clean(value):
    """Plain JSON values: NaN and infinities become None, numpy scalars Python numbers."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def plan_hubs(demand: gpd.GeoDataFrame, existing: gpd.GeoDataFrame | None, candidates: gpd.GeoDataFrame | None, *,
              mode: str, threshold_min: float, model: str = "coverage", k: int | None = None,
              engine: str | None = None, time_limit_s: float | None = None, area_name: str | None = None,
              curve: bool = False, capacity: bool = False, **params) -> HubPlan:
    """Coverage and, for an optimisation model, the best plan.

    Parameters
    ----------
    demand : demand layer (:mod:`layers.hubs.demand`), points EPSG:27700, weights in people.
    existing, candidates : hub sites layers (:mod:`layers.hubs.hub_sites`), EPSG:27700.
    mode, engine, **params : travel (``geo.travel``); minutes computed once for all sites.
    threshold_min : reach, minutes.
    model : ``coverage`` (existing hubs only), ``mclp``, ``pmedian`` or ``lscp``.
    k : sites to choose besides the fixed hubs (mclp, pmedian).
    curve : with mclp, also re-solve for k = 1..k (:meth:`HubMCLP.curve`).
    capacity : with mclp, each hub serves at most its ``capacity`` (people; blank = no limit):
        :class:`~layers.hubs.models.HubCapacityMCLP`, reported as demand served against capacity.
    """
    if model not in PLAN_MODELS:
        raise HubError(f"unknown model {model!r}; choose one of {', '.join(PLAN_MODELS)}")
    if curve and model != "mclp":
        raise HubError("--curve re-solves MCLP for k = 1..K; use it with --model mclp")
    if capacity and model != "mclp":
        raise HubError("--capacity plans with each hub's capacity as a capacitated MCLP; use it with --model mclp")
    if capacity and curve:
        raise HubError("--curve re-solves the MCLP without capacities; use --capacity or --curve, not both")
    check_demand_layer(demand)
    notes = list(demand.attrs.get("notes", []))
    if model == "coverage":
        if candidates is not None and len(candidates):
            notes.append("candidates are not used by the coverage model (it measures the existing hubs)")
        candidates = None
        if existing is None or len(existing) == 0:
            raise HubError("coverage needs the existing hubs: give --sites FILE")
    pool = site_pool(existing, candidates)
    notes += pool.attrs.get("notes", [])
    minutes, info = travel_minutes(demand, pool, mode, engine=engine, **params)
    plain_demand = pd.DataFrame(demand.drop(columns=demand.geometry.name))
    plain_sites = pd.DataFrame(pool.drop(columns="geometry"))
    weights = demand["weight"].to_numpy(dtype=float)
    priority = demand["priority"].to_numpy(dtype=bool) if "priority" in demand.columns else None
    existing_mask = (pool["role"] == EXISTING).to_numpy()
    text = {"label": demand.attrs.get("label", WEIGHT_LABEL), "verb": demand.attrs.get("verb", WEIGHT_VERB)}
    coverage = HubCoverage.from_matrix(minutes, weights, threshold_min, priority=priority, open_sites=existing_mask,
                                       demand=plain_demand, sites=plain_sites, mode=mode, area_name=area_name, **text)
    if info.get("label"):
        notes.append(f"travel times: {info['label']}")
    unreachable = [u for u in info.get("unreachable", [])]
    if unreachable:
        notes.append(f"{count_of(len(unreachable), 'point')} could not be placed on the network, e.g. "
                     f"{unreachable[0]['id']}: {unreachable[0]['reason']}")
    result = table = None
    if model != "coverage":
        from layers.hubs.models import MODELS, HubCapacityMCLP

        cls = HubCapacityMCLP if capacity else MODELS[model]
        result = cls.from_matrix(minutes, weights, threshold_min, k, priority=priority,
                                 fixed=pool["fixed"].to_numpy(dtype=bool), existing=existing_mask,
                                 demand=plain_demand, sites=plain_sites, time_limit_s=time_limit_s,
                                 mode=mode, area_name=area_name,
                                 capacity=pool["capacity"].to_numpy(dtype=float) if capacity else None, **text)
        result.site_layer = pool
        result.solve()
        notes += result.notes
        if curve:
            table = result.curve()
    return HubPlan(model, area_name, mode, float(threshold_min), demand, pool, coverage, result, table, notes)


def candidate_sites(specs: Iterable, area, demand: gpd.GeoDataFrame, store) -> gpd.GeoDataFrame | None:
    """Candidates from ``stations``, ``priority-centroids``, sites files and/or hub sites layers, in one layer
    (EPSG:27700), in the order given."""
    from layers.hubs.candidates import priority_centroid_candidates, station_candidates
    from layers.hubs.hub_sites import CANDIDATE, HUB_COLUMNS, read_hub_sites

    parts, notes = [], []
    for spec in specs:
        if isinstance(spec, gpd.GeoDataFrame):  # a hub sites layer the caller read already (never compared to a name)
            found = spec
        elif spec == "stations":
            found = station_candidates(area, store)
            if found.empty:
                notes.append(f"no railway stations inside {area.name}")
        elif spec == "priority-centroids":
            found = priority_centroid_candidates(demand)
        else:
            found = read_hub_sites(spec, CANDIDATE)
        notes += found.attrs.get("notes", [])
        parts.append(found[HUB_COLUMNS + ["geometry"]])
    if not parts:
        return None
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=BNG)
    out.attrs["notes"] = notes
    return out
