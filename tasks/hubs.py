"""Hub planning: coverage of priority areas by hubs and the best places for new ones (``cli.py hubs``; Hub planner).

EPSG:27700; minutes; people (the demand's unit); solver time limits in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd

from geo.areas import Area
from geo.export import ColumnSpec, parse_selection
from layers.hubs.demand import demand_from_text, priority_demand
from layers.hubs.errors import DemandError
from layers.hubs.plan import candidate_sites, plan_hubs
from layers.hubs.hub_sites import CANDIDATE, EXISTING, hub_sites, locate_in_area
from layers.provenance import dataset_sources
from tasks.access import ESTIMATE_NOTE, check_engine
from tasks.export import ExportLayer, stem_for
from tasks.inputs import SitesInput, profile_of
from tasks.result import Provenance, Result, versions


@dataclass(frozen=True)
class HubsRequest:
    """A hub question. Demand is either a profile's priority areas (``profile``, YAML text) or a demand table
    (``demand_csv``: code, weight, priority). ``candidates`` are generated kinds (``stations``,
    ``priority-centroids``) and/or sites lists, in the order given."""

    area: Area
    profile: str | None = None
    demand_csv: str | None = None
    demand_source: str = "demand"
    weight: str = "population"                   # population, inactive or claimants (with a profile)
    bands: tuple[str, ...] | None = None         # bands that count as priority (None: top 20% and "priority")
    existing: SitesInput | None = None
    candidates: tuple = ()                       # str (generated kind) or SitesInput
    sites_outside: str = "error"                 # error, drop or keep
    mode: str = "bus"
    minutes: float = 30.0
    model: str = "coverage"                      # coverage, mclp, pmedian or lscp
    k: int | None = None
    engine: str | None = None
    network: str | None = None
    time_limit_s: float | None = None
    curve: bool = False
    capacity: bool = False                       # mclp: each hub serves at most its capacity


def _hub_layer(sites: SitesInput, role: str):
    return hub_sites(sites.layer(), role, source=sites.source, row_label=sites.row_label, first_row=sites.first_row)


def run(request: HubsRequest, store) -> Result:
    """A :class:`layers.hubs.plan.HubPlan`: coverage now and, for a model, the sites it chooses."""
    area = request.area
    engine_name = check_engine(request.engine, request.network)
    if (request.profile is None) == (request.demand_csv is None):
        raise DemandError("give the demand either as --demand PROFILE (priority bands from a scoring profile) or as "
                          "--demand-file CSV (code,weight,priority), not both or neither")
    band = list(request.bands) if request.bands is not None else None
    profile = profile_of(request.profile) if request.profile is not None else None
    if request.demand_csv is not None:
        demand = demand_from_text(request.demand_csv, source=request.demand_source, store=store, area=area, band=band)
    else:
        demand = priority_demand(area, profile, demand=request.weight, band=band, store=store)
    lsoa = store.boundaries("lsoa", area.lad_codes)
    existing = None
    if request.existing is not None:
        existing = _hub_layer(request.existing, EXISTING)
        existing = locate_in_area(existing, lsoa, area_name=area.name, outside=request.sites_outside) if len(existing) else None
    specs = [c if isinstance(c, str) else _hub_layer(c, CANDIDATE) for c in request.candidates]
    cands = candidate_sites(specs, area, demand, store)
    if cands is not None:
        notes = cands.attrs.get("notes", [])
        cands = locate_in_area(cands, lsoa, area_name=area.name, outside=request.sites_outside)
        cands.attrs["notes"] = notes + [n for n in cands.attrs.get("notes", []) if n not in notes]
    params = {"network": request.network} if request.network else {}
    plan = plan_hubs(demand, existing, cands, mode=request.mode, threshold_min=request.minutes, model=request.model,
                     k=request.k, engine=engine_name, time_limit_s=request.time_limit_s, area_name=area.name,
                     curve=request.curve, capacity=request.capacity, **params)
    if engine_name == "estimate":
        plan.notes.append(ESTIMATE_NOTE)
    return Result(plan, _provenance(request, plan, profile, engine_name, store), tuple(plan.notes))


def _provenance(request: HubsRequest, plan, profile, engine: str, store) -> Provenance:
    parameters = {
        "area_of_interest": {"name": request.area.name, "lad_codes": list(request.area.lad_codes)}, "level": "lsoa",
        "profile": None if profile is None else {
            "name": profile.name, "id": profile.id, "weights": {i.id: i.weight for i in profile.indicators},
            "indicators": [i.id for i in profile.indicators], "definition": profile.to_dict()},
        "demand": request.demand_source if request.demand_csv is not None else request.weight,
        "bands": list(request.bands) if request.bands is not None else None,
        "hub_plan": {"model": plan.model, "mode": plan.mode, "threshold_min": plan.threshold_min,
                     "k": request.k, "capacity": request.capacity, "engine": engine,
                     "statements": plan.statements()},
        "sites": {"existing": int((plan.sites["role"] == EXISTING).sum()),
                  "candidates": int((plan.sites["role"] == CANDIDATE).sum()),
                  "generated": [c for c in request.candidates if isinstance(c, str)],
                  "outside_the_area": request.sites_outside},
        "time_limit_s": request.time_limit_s,
    }
    if plan.result is not None:
        parameters["hub_plan"]["solver"] = plan.result.solver.as_dict()
    method = (f"{plan.model}: priority demand at LSOA population-weighted centres, within {plan.threshold_min:g} "
              f"minutes by {plan.mode} ({engine} engine)")
    return Provenance("hubs", method, parameters, tuple(dataset_sources(store, ("lsoa21_centroids", "stations"))),
                      versions=versions(store))


def export_layer(request: HubsRequest, result: Result, store) -> ExportLayer:
    """Priority LSOAs with their coverage (before and after the plan) and the hubs layer, ready to export."""
    plan, params = result.data, result.provenance.parameters
    lsoa = store.boundaries("lsoa", request.area.lad_codes).set_index("code")
    areas = plan.table("areas")
    areas = areas[areas["priority"].astype(bool)]
    gdf = gpd.GeoDataFrame(areas, geometry=lsoa["geometry"].reindex(areas["code"]).to_numpy(), crs=27700)
    cols = [ColumnSpec("weight", "Demand (people)", "people", dissolve="sum"),
            ColumnSpec("n_hubs", f"Hubs within {plan.threshold_min:g} min by {plan.mode} now", "hubs"),
            ColumnSpec("nearest_min", "Minutes to the nearest hub now", "minutes"),
            ColumnSpec("covered", "Within reach of a hub now", ""),
            ColumnSpec("cold_spot", "Priority area with no hub in reach now", "")]
    for col in ("n_hubs_after", "nearest_min_after", "covered_after", "cold_spot_after"):
        if col in gdf:
            cols.append(ColumnSpec(col, col.replace("_", " ").replace("after", "after the plan"), ""))
    hubs = plan.sites.copy()
    if plan.result is not None:
        decisions = plan.result.site_table().set_index("site_id")["decision"]
        hubs["decision"] = hubs["site_id"].map(decisions)
    record = {"profile": params["profile"], "area_of_interest": params["area_of_interest"], "level": "lsoa",
              "hub_plan": {k: params["hub_plan"][k] for k in ("model", "mode", "threshold_min", "statements")}}
    return ExportLayer(gdf, cols, parse_selection("all"), record, stem_for("hubs", request.area.key),
                       layers={"hubs": hubs})
