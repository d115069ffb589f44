"""What the Hub planner page shows: a plan for the session's inputs and its map.

Plain Python over :mod:`layers.hubs` (EPSG:27700; minutes; people).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.mapclasses import categorical
from layers.mapview import MapData

COVER_COLOURS = {"priority, within reach": "#2c7fb8", "priority, cold spot": "#d7301f",
                 "not a priority area": "#f0f0f0"}


def plan_for_area(store, area, profile, *, bands: tuple, weight: str, existing: gpd.GeoDataFrame | None,
                  generated: tuple, own: gpd.GeoDataFrame | None, mode: str, minutes: float, model: str,
                  k: int | None, time_limit_s: float = 60.0):
    """A :class:`layers.hubs.plan.HubPlan` from the app's inputs (the same path as ``cli.py hubs``)."""
    from layers.hubs.demand import priority_demand
    from layers.hubs.plan import candidate_sites, plan_hubs
    from layers.hubs.sites import CANDIDATE, EXISTING, hub_sites, locate_in_area

    demand = priority_demand(area, profile, demand=weight, band=list(bands), store=store)
    lsoa = store.boundaries("lsoa", area.lad_codes)
    hubs = None
    if existing is not None and len(existing):
        hubs = locate_in_area(hub_sites(existing, EXISTING), lsoa, area_name=area.name, outside="drop")
    cands = candidate_sites(generated, area, demand, store)
    if own is not None and len(own):
        mine = hub_sites(own, CANDIDATE)
        cands = mine if cands is None else gpd.GeoDataFrame(pd.concat([cands, mine[cands.columns]], ignore_index=True),
                                                            geometry="geometry", crs=27700)
    if cands is not None and len(cands):
        cands = locate_in_area(cands, lsoa, area_name=area.name, outside="drop")
    plan = plan_hubs(demand, hubs, cands if model != "coverage" else None, mode=mode, threshold_min=minutes,
                     model=model, k=k, time_limit_s=time_limit_s, area_name=area.name)
    return plan


#: Point styles: existing hubs filled black; sites the plan adds white with a red ring.
EXISTING_STYLE = {"color": "#ffffff", "fill": "#000000", "radius": 7}
NEW_STYLE = {"color": "#c0392b", "fill": "#ffffff", "radius": 8}


def hub_map(store, area, plan) -> tuple[MapData, list]:
    """LSOAs coloured by coverage after the plan (or now), with existing hubs and chosen sites as points."""
    lsoa = store.boundaries("lsoa", area.lad_codes)
    cov = (plan.result.after.areas if plan.result is not None else plan.coverage.areas).set_index("code")
    cov = cov.reindex(lsoa["code"])
    label = np.where(~cov["priority"].fillna(False).to_numpy(bool), "not a priority area",
                     np.where(cov["covered"].fillna(False).to_numpy(bool), "priority, within reach", "priority, cold spot"))
    gdf = lsoa[["code", "name", "lad_name", "geometry"]].copy()
    gdf["value"] = label
    names = dict(zip(plan.sites["site_id"], plan.sites["name"]))
    gdf["shown"] = [f"{lab}; nearest hub {names.get(s, s)} in {m:.0f} min" if isinstance(s, str) and not np.isnan(m) else lab
                    for lab, s, m in zip(label, cov["nearest_site"], cov["nearest_min"])]
    gdf["rank_text"] = [f"{int(n)} hub(s) within {plan.threshold_min:g} min" if not pd.isna(n) else ""
                        for n in cov["n_hubs"]]
    classes = categorical(gdf["value"], list(COVER_COLOURS), COVER_COLOURS)
    title = f"Priority LSOAs within {plan.threshold_min:g} minutes by {plan.mode} of a hub" + (
        " (after the plan)" if plan.result is not None else "")
    md = MapData(gdf, "lsoa", classes, title, "", "Travel times are estimates (see Transport access).",
                 rank_label="Hubs in reach")
    existing = plan.sites[plan.sites["role"] == "existing"].copy()
    new = existing.iloc[0:0]
    if plan.result is not None:
        table = plan.result.site_table().set_index("site_id")
        decision = plan.sites["site_id"].map(table["decision"])
        existing = plan.sites[decision.isin(["fixed", "kept"])].copy()
        new = plan.sites[decision.eq("new")].copy()
        for layer in (existing, new):
            layer["name"] = [f"{n} ({table.loc[s, 'decision']})" for s, n in zip(layer["site_id"], layer["name"])]
    return md, [(existing, EXISTING_STYLE), (new, NEW_STYLE)]


def export_frame(plan, store, area) -> tuple[gpd.GeoDataFrame, list, gpd.GeoDataFrame]:
    """Priority LSOAs with their coverage (before/after) and the hubs layer, for the common export."""
    from geo.export import ColumnSpec

    lsoa = store.boundaries("lsoa", area.lad_codes).set_index("code")
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
    return gdf, cols, hubs
