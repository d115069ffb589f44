"""What the Transport access page shows: minutes maps, the access-gap table and a site's catchment.

Plain Python over :mod:`layers.access` (geometry EPSG:27700; minutes). Everything here is for people:
site names, not ids; minutes rounded to whole minutes (the layer and its exports keep full precision).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.access import GAP_MODES, access_gap
from layers.mapclasses import classify
from layers.mapview import MapData, format_value, rank_texts

GAP_COLUMNS = {"name": "Area", "lad_name": "District", "band": "Priority band", "score": "Score",
               "minutes": "Minutes to nearest site", "nearest": "Nearest site",
               "outside": "Nearest site outside the area's district", "no_car": "No car or van (% of households)",
               "access_gap": "Access gap"}
#: The threshold (minutes) whose sites and known jobs within reach the map's tooltip gives.
REACH_MIN = 45
#: The DfT Journey Time Statistics indicator (labour_market_lad) for each mode; walking has none.
DFT_COLUMNS = {"bus": "travel_time_pt_walk_min", "cycle": "travel_time_cycle_min", "car": "travel_time_car_min"}
DFT_CAVEAT = ("DfT measured the average time to the nearest of its own employment centres (places with 500 or more "
              "jobs), in 2014-2019, by its own routing; Wardscope measures to the sites in this session now. The two "
              "figures do not answer the same question: put them side by side, not one against the other. Both are "
              "averages over residents (Census 2021 weights for Wardscope's, which leaves out areas that reach no "
              "site: the last column counts them).")


def whole_minutes(value) -> str:
    """Minutes for people: whole minutes ("23 min"), or "unreachable" when there is no time."""
    return "unreachable" if value is None or pd.isna(value) else f"{float(value):.0f} min"


def site_districts(store, sites: gpd.GeoDataFrame) -> pd.Series:
    """The district (LAD 2024 code) each site lies in, by ``site_id``; NaN for a site outside every district."""
    lad = store.boundaries("lad")[["code", "geometry"]]
    joined = gpd.sjoin(sites[["site_id", "geometry"]], lad, how="left", predicate="within")
    return joined.drop_duplicates("site_id").set_index("site_id")["code"]


def reach_text(row: pd.Series, mode: str, t: int = REACH_MIN) -> str:
    """Sites and known jobs within ``t`` minutes, in words; unknown jobs are said, never shown as 0."""
    n = row.get(f"access_{mode}_sites_{t}min")
    if n is None or pd.isna(n):
        return ""
    if n == 0:
        return "no site"
    whole = float(n).is_integer()
    text = f"{n:.0f} site{'s' if n != 1 else ''}" if whole else f"{n:.1f} sites (ward average)"
    jobs_col = f"access_jobs_{t}min_{mode}"
    if jobs_col not in row.index:
        return text + "; jobs unknown (no site has a job count)"
    jobs, unknown = row[jobs_col], row.get(f"access_{mode}_sites_nojobs_{t}min", 0)
    if pd.isna(jobs):
        return text + "; jobs unknown (no site within reach has a job count)"
    text += f"; known jobs {jobs:,.0f}"
    if unknown and not pd.isna(unknown) and unknown > 0:
        text += f" ({unknown:.0f} site{'s' if unknown != 1 else ''} without a count)" if float(unknown).is_integer() \
            else f" ({unknown:.1f} sites without a count, ward average)"
    return text


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

    indexed = frame.set_index("code")
    p25 = indexed.get(f"access_{mode}_nearest_p25", pd.Series(dtype=float)).reindex(areas["code"]).to_numpy(dtype=float)
    p75 = indexed.get(f"access_{mode}_nearest_p75", pd.Series(dtype=float)).reindex(areas["code"]).to_numpy(dtype=float)

    def shown(code, minutes, site, low, high) -> str:
        if code in no_lsoa:
            return "no figure: no LSOA's population-weighted centre lies in this ward"
        if np.isnan(minutes):
            return "no site reachable"
        spread = ""
        if not (np.isnan(low) or np.isnan(high)) and f"{low:.0f}" != f"{high:.0f}":
            spread = (f" ({low:.0f}-{high:.0f} over the departures)" if level == "lsoa" else
                      f" (quartiles over the departures {low:.0f}-{high:.0f}, averaged over its LSOAs)")
        # ward figures are averages over LSOAs that may have different nearest sites
        return f"{minutes:.0f} min{spread}" + (f" to {names.get(site, site)}" if isinstance(site, str) else "")

    gdf["shown"] = [shown(c, v, n, lo, hi) for c, v, n, lo, hi in zip(areas["code"], values, near, p25, p75)]
    rows = indexed.reindex(areas["code"])
    gdf["reach"] = [reach_text(r, mode) for _, r in rows.iterrows()]
    gdf["rank_text"], n_ranked = rank_texts(gdf["value"], 1)
    import re

    def whole(text: str) -> str:  # class limits in whole minutes, as the tooltips
        return re.sub(r"\d[\d,]*\.\d+", lambda m: f"{float(m.group().replace(',', '')):.0f}", text.replace("%", ""))

    legend = [(c, whole(t) + " min" if t != "no data" else "no site reachable") for c, t in classes.legend]
    classes.legend = legend
    md = MapData(gdf, level, classes, f"Minutes to the nearest site by {mode}", "minutes",
                 "Estimated door-to-door times (straight-line distance x circuity at mode speeds, plus walking, "
                 "waiting and parking allowances; rural LSOAs at rural speeds, headway and circuity); not a "
                 "timetable. LSOA times are from population-weighted centroids; "
                 "ward times are population-weighted averages of their LSOAs." if "estimate" in
                 " ".join(frame.attrs.get("notes", [])) else "", [],  # the page lists the run's notes once
                 rank_label=f"Rank of {n_ranked:,} in {area.name} (1 = furthest)")
    if f"access_{mode}_sites_{REACH_MIN}min" in frame.columns:
        md.extra_tooltip = [(f"Within {REACH_MIN} min", "reach")]
    return md, sites


def gap_table(frame: pd.DataFrame, scored, table: pd.DataFrame, mode: str, threshold: float,
              sites: gpd.GeoDataFrame | None = None, site_lads: pd.Series | None = None) -> pd.DataFrame:
    """Priority areas sorted by worst access, with the access-gap flag (see :func:`layers.access.access_gap`).

    The nearest site is named (``sites``: ``site_id``, ``name``); ``site_lads`` (site_id -> district code, see
    :func:`site_districts`) flags areas whose nearest site lies outside their own district. Minutes are whole.
    """
    modes = tuple(m for m in GAP_MODES if f"access_{m}_nearest_min" in frame.columns)
    no_car = table[["code", "census21_no_car_pct"]].rename(columns={"census21_no_car_pct": "value"}) \
        if "census21_no_car_pct" in table else pd.DataFrame({"code": [], "value": []})
    england = float(table["census21_no_car_pct__num"].sum() / table["census21_no_car_pct__den"].sum() * 100) \
        if "census21_no_car_pct__num" in table else None
    from layers.scoring import priority_bands

    gaps = access_gap(frame, scored.areas[["code", "band", "score"]], no_car, far_min=threshold, modes=modes,
                      priority_bands=priority_bands(scored.profile), no_car_pct_min=england)
    merged = scored.areas[["code", "name", "lad_name", "band", "score", "rank"]].merge(gaps, on="code")
    indexed = frame.set_index("code")
    merged["nearest"] = merged["code"].map(indexed.get(f"access_{mode}_nearest_site", pd.Series(dtype=object)))
    merged["minutes"] = merged["code"].map(indexed[f"access_{mode}_nearest_min"])
    area_lad = merged["code"].map(indexed["lad_code"]) if "lad_code" in indexed else pd.Series(None, index=merged.index)
    if site_lads is not None:
        nearest_lad = merged["nearest"].map(site_lads)
        outside = pd.Series(np.where(nearest_lad.isna() & merged["nearest"].notna(), True, nearest_lad != area_lad),
                            index=merged.index).astype(object)
        outside[merged["nearest"].isna()] = None  # none reachable, or a ward average over several sites
    else:
        outside = pd.Series(None, index=merged.index, dtype=object)
    names = dict(zip(sites["site_id"], sites["name"])) if sites is not None else {}
    merged = merged.assign(outside=outside)
    merged = merged[merged["band"].isin(priority_bands(scored.profile))]
    merged = merged.sort_values(["access_gap", "minutes"], ascending=[False, False], na_position="first")
    out = pd.DataFrame({
        GAP_COLUMNS["name"]: merged["name"], GAP_COLUMNS["lad_name"]: merged["lad_name"],
        GAP_COLUMNS["band"]: merged["band"], GAP_COLUMNS["score"]: merged["score"].round(1),
        GAP_COLUMNS["minutes"]: [whole_minutes(v).replace(" min", "") for v in merged["minutes"]],
        GAP_COLUMNS["nearest"]: merged["nearest"].map(lambda v: names.get(v, v) if isinstance(v, str) else None),
        GAP_COLUMNS["outside"]: merged["outside"].map({True: "yes", False: "no"}),
        GAP_COLUMNS["no_car"]: merged["no_car_pct"].round(1),
        GAP_COLUMNS["access_gap"]: merged["access_gap"].map({True: "yes", False: "no"}).fillna("unknown"),
    })
    return out


def measured_to(sites: gpd.GeoDataFrame, gaps: pd.DataFrame, *, most: int = 12) -> str:
    """One sentence for the gap table: which sites it measured to, and how many areas' nearest is elsewhere."""
    names = list(sites["name"])
    listed = ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")
    text = f"Measured to the {len(names)} site{'s' if len(names) != 1 else ''} in this session: {listed}."
    flags = gaps[GAP_COLUMNS["outside"]]
    if flags.notna().any():
        n = int((flags == "yes").sum())
        text += (f" {n} of these {int(flags.notna().sum())} areas have their nearest site outside their own "
                 f"district." if n else " Every area here has its nearest site in its own district.")
    return text


def dft_comparison(store, area, frame: pd.DataFrame, table: pd.DataFrame, mode: str) -> pd.DataFrame | None:
    """Wardscope's minutes to the nearest site beside DfT's district average for the same mode.

    Per district of ``area``: Wardscope's figure is the population-weighted mean (Census 2021 residents in
    ``table``; equal weights where missing) of ``access_<mode>_nearest_min`` over the district's areas that
    reach a site; DfT's is the Journey Time Statistics average to its own employment centres
    (``labour_market_lad``). None when DfT has no figure for the mode (walking) or it is not installed.
    """
    col = DFT_COLUMNS.get(mode)
    if col is None or not store.has("indicators", "labour_market_lad"):
        return None
    dft = store.table("indicators", "labour_market_lad", area.lad_codes)
    if col not in dft.columns:
        return None
    minutes = frame.set_index("code")[f"access_{mode}_nearest_min"].astype(float)
    lad = frame.set_index("code")["lad_code"]
    pop = table.set_index("code").get("census21_population") if "census21_population" in table else None
    weight = pop.reindex(minutes.index).fillna(1.0) if pop is not None else pd.Series(1.0, minutes.index)
    ok = minutes.notna()
    ours = (minutes[ok] * weight[ok]).groupby(lad[ok]).sum() / weight[ok].groupby(lad[ok]).sum()
    unreachable = (~ok).groupby(lad).sum()
    names = dict(zip(frame["lad_code"], frame["lad_name"]))
    dft = dft.set_index("code")
    rows = []
    for code in area.lad_codes:
        year = dft[f"{col}__period"].get(code) if f"{col}__period" in dft else None
        theirs = dft[col].get(code)
        reach_none = int(unreachable.get(code, 0))
        rows.append({"District": names.get(code, code),
                     "Wardscope (minutes, your sites)": whole_minutes(ours.get(code)).replace(" min", ""),
                     "DfT (minutes, its employment centres)":
                         "no figure (none for districts formed since 2019)"
                         if theirs is None or pd.isna(theirs) else f"{theirs:.0f}",
                     "DfT year": "" if year is None or pd.isna(year) or theirs is None or pd.isna(theirs)
                     else f"{year:.0f}",
                     "Areas reaching no site": reach_none})
    return pd.DataFrame(rows)


def catchment(frame: pd.DataFrame, table: pd.DataFrame, mode: str, site_id: str,
              threshold: float) -> tuple[pd.DataFrame | None, float]:
    """Areas within ``threshold`` minutes of one site and the people living in them (Census 2021)."""
    col = f"access_{mode}_min__{site_id}"
    if col not in frame.columns:
        return None, 0.0
    inside = frame[frame[col] <= threshold][["code", "name", "lad_name", col]].sort_values(col)
    pop = table.set_index("code").get("census21_population")
    people = float(pop.reindex(inside["code"]).sum()) if pop is not None else float("nan")
    inside = inside.assign(**{col: inside[col].round(0).astype(int)})  # whole minutes for people
    return inside.rename(columns={"name": "Area", "lad_name": "District", col: "Minutes", "code": "Code"}), people


def grouped_notes(notes, area_name: str) -> tuple[list[str], list[str]]:
    """(notes for everyone, notes on how each mode's times were worked out) from an access result's notes.

    The area's own name is dropped (the page is titled with it), and a method note that is the same for
    several modes is given once for all of them ("bus and walk: ..."). Notes about the user's sites carry no
    mode prefix, so they stay with the notes for everyone.
    """
    from geo.travel.base import MODES

    plain: list[str] = []
    method: dict[str, list[str]] = {}  # text -> modes, in the order first given
    for note in notes:
        mode, sep, text = note.partition(": ")
        if sep and mode in MODES:
            method.setdefault(text, []).append(mode)
        elif note != f"area: {area_name}":
            plain.append(note)
    def listed(modes: list[str]) -> str:
        return modes[0] if len(modes) == 1 else f"{', '.join(modes[:-1])} and {modes[-1]}"

    return plain, [f"{listed(modes)}: {text}" for text, modes in method.items()]
