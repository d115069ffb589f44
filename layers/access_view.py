"""What the Transport access page shows: minutes maps, the access-gap table and a site's catchment.

Plain Python over :mod:`layers.access` (geometry EPSG:27700; minutes).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.access import GAP_MODES, access_gap
from layers.mapclasses import classify
from layers.mapview import MapData, format_value, rank_texts

GAP_COLUMNS = {"name": "Area", "lad_name": "District", "band": "Priority band", "score": "Score",
               "minutes": "Minutes to nearest site", "nearest": "Nearest site", "no_car": "No car or van (% of households)",
               "access_gap": "Access gap"}


def access_map(store, area, level: str, frame: pd.DataFrame, mode: str, *, scheme: str = "quantiles",
               sites: gpd.GeoDataFrame | None = None) -> tuple[MapData, gpd.GeoDataFrame | None]:
    """Minutes to the nearest site as a choropleth (more minutes = darker), with the sites as points."""
    areas = store.boundaries(level, area.lad_codes)
    col = f"access_{mode}_nearest_min"
    values = frame.set_index("code")[col].reindex(areas["code"]).to_numpy(dtype=float)
    nearest = frame.set_index("code").get(f"access_{mode}_nearest_site")
    gdf = areas[["code", "name", "lad_name", "geometry"]].copy()
    gdf["value"] = values
    classes = classify(gdf["value"], scheme, direction=1, unit="minutes")
    names = dict(zip(sites["site_id"], sites["name"])) if sites is not None else {}
    near = nearest.reindex(areas["code"]).to_numpy() if nearest is not None else [None] * len(gdf)
    no_lsoa = set(areas.loc[areas["n_lsoa"] == 0, "code"]) if "n_lsoa" in areas else set()

    def shown(code, minutes, site) -> str:
        if code in no_lsoa:
            return "no figure: no LSOA's population-weighted centre lies in this ward"
        if np.isnan(minutes):
            return "no site reachable"
        # ward figures are averages over LSOAs that may have different nearest sites
        return f"{minutes:.0f} min" + (f" to {names.get(site, site)}" if isinstance(site, str) else "")

    gdf["shown"] = [shown(c, v, n) for c, v, n in zip(areas["code"], values, near)]
    gdf["rank_text"], n_ranked = rank_texts(gdf["value"], 1)
    legend = [(c, t.replace("%", "") + " min" if t != "no data" else "no site reachable") for c, t in classes.legend]
    classes.legend = legend
    md = MapData(gdf, level, classes, f"Minutes to the nearest site by {mode}", "minutes",
                 "Estimated door-to-door times (straight-line distance x circuity at mode speeds, plus walking, "
                 "waiting and parking allowances); not a timetable. LSOA times are from population-weighted centroids; "
                 "ward times are population-weighted averages of their LSOAs." if "estimate" in
                 " ".join(frame.attrs.get("notes", [])) else "", list(frame.attrs.get("notes", [])),
                 rank_label=f"Rank of {n_ranked:,} in {area.name} (1 = furthest)")
    return md, sites


def gap_table(frame: pd.DataFrame, scored, table: pd.DataFrame, mode: str, threshold: float) -> pd.DataFrame:
    """Priority areas sorted by worst access, with the access-gap flag (see :func:`layers.access.access_gap`)."""
    modes = tuple(m for m in GAP_MODES if f"access_{m}_nearest_min" in frame.columns)
    no_car = table[["code", "census21_no_car_pct"]].rename(columns={"census21_no_car_pct": "value"}) \
        if "census21_no_car_pct" in table else pd.DataFrame({"code": [], "value": []})
    england = float(table["census21_no_car_pct__num"].sum() / table["census21_no_car_pct__den"].sum() * 100) \
        if "census21_no_car_pct__num" in table else None
    from layers.scoring import priority_bands

    gaps = access_gap(frame, scored.areas[["code", "band", "score"]], no_car, far_min=threshold, modes=modes,
                      priority_bands=priority_bands(scored.profile), no_car_pct_min=england)
    merged = scored.areas[["code", "name", "lad_name", "band", "score", "rank"]].merge(gaps, on="code")
    merged["nearest"] = merged["code"].map(frame.set_index("code").get(f"access_{mode}_nearest_site", pd.Series(dtype=object)))
    merged["minutes"] = merged["code"].map(frame.set_index("code")[f"access_{mode}_nearest_min"])
    merged = merged[merged["band"].isin(priority_bands(scored.profile))]
    merged = merged.sort_values(["access_gap", "minutes"], ascending=[False, False], na_position="first")
    out = pd.DataFrame({
        GAP_COLUMNS["name"]: merged["name"], GAP_COLUMNS["lad_name"]: merged["lad_name"],
        GAP_COLUMNS["band"]: merged["band"], GAP_COLUMNS["score"]: merged["score"].round(1),
        GAP_COLUMNS["minutes"]: [format_value(v, "minutes", 0).replace(" minutes", "") if not pd.isna(v) else "unreachable"
                                 for v in merged["minutes"]],
        GAP_COLUMNS["nearest"]: merged["nearest"],
        GAP_COLUMNS["no_car"]: merged["no_car_pct"].round(1),
        GAP_COLUMNS["access_gap"]: merged["access_gap"].map({True: "yes", False: "no"}).fillna("unknown"),
    })
    return out


def catchment(frame: pd.DataFrame, table: pd.DataFrame, mode: str, site_id: str,
              threshold: float) -> tuple[pd.DataFrame | None, float]:
    """Areas within ``threshold`` minutes of one site and the people living in them (Census 2021)."""
    col = f"access_{mode}_min__{site_id}"
    if col not in frame.columns:
        return None, 0.0
    inside = frame[frame[col] <= threshold][["code", "name", "lad_name", col]].sort_values(col)
    pop = table.set_index("code").get("census21_population")
    people = float(pop.reindex(inside["code"]).sum()) if pop is not None else float("nan")
    return inside.rename(columns={"name": "Area", "lad_name": "District", col: "Minutes", "code": "Code"}), people
