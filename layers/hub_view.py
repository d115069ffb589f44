"""What the Hub planner page shows: the plan's map (the plan itself comes from :mod:`tasks.hubs`).

Plain Python over :mod:`layers.hubs` (EPSG:27700; minutes; people).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.words import count_of
from layers.mapclasses import categorical
from layers.mapview import MapData

COVER_COLOURS = {"priority, within reach": "#2c7fb8", "priority, cold spot": "#d7301f",
                 "not a priority area": "#f0f0f0"}


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
    gdf["rank_text"] = [f"{count_of(int(n), 'hub')} within {plan.threshold_min:g} min" if not pd.isna(n) else ""
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
