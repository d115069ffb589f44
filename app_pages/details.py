"""Page pieces shared by the explorer and the scoring page: the selected area and the ranking table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import common
from geo.csvsafe import to_csv_bytes
from geo.escape import md_text
from layers.mapview import format_value
from layers.scoring import top_reasons

RAG_TEXT = {"red": "worse than England", "amber": "similar to England", "green": "better than England"}


def selected_area(store, area, level: str, table: pd.DataFrame, code: str | None) -> None:
    """Figures for the clicked area against its district, the area of interest and England."""
    st.markdown("**Selected area**")
    if not code or code not in set(table.loc[table["lad_code"].isin(area.lad_codes), "code"]):
        st.caption("Click an area on the map to see its figures here.")
        return
    row = table.set_index("code").loc[code]
    st.markdown(f"### {md_text(row['name'])}\n`{code}` · {md_text(row['lad_name'])}")
    comp = common.cached_comparators(store.generation, level, area.name, tuple(area.lad_codes))
    mine = comp[comp["code"] == code]
    reg = common.registry()
    rows = []
    for r in mine.itertuples(index=False):
        ind = reg.get(r.indicator)
        if ind is None or ind.direction == 0:
            continue
        rows.append({"Indicator": ind.label,
                     "Value": format_value(r.value, ind.unit, ind.decimals),
                     "District": format_value(r.district_value, ind.unit, ind.decimals),
                     "Area": format_value(r.area_value, ind.unit, ind.decimals),
                     "England": format_value(r.england_value, ind.unit, ind.decimals),
                     "vs England": RAG_TEXT.get(r.rag, "not rated")})
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", height=260)
    if level == "ward":
        if st.button("Open ward profile", key=f"open-profile-{code}", type="primary"):
            common.set_choice("profile_ward", code)
            st.switch_page("app_pages/ward_profile.py")


def ranking_table(scored, reg: dict, area, level: str, *, key: str, top_n: int = 25, extra=None) -> None:
    """The top areas with score, rank, band, robustness and the three biggest reasons."""
    labels = {i: reg[i].label if i in reg else i for i in scored.indicators}
    frame = scored.areas[scored.areas["rank"].notna()].sort_values("rank")
    show = pd.DataFrame({
        "Rank": frame["rank"],
        "Area": frame["name"],
        "Code": frame["code"],
        "District": frame["lad_name"],
        "Score": frame["score"].round(1),
        "Band": frame["band"],
    })
    if "robust" in frame:
        show["Robust"] = frame["robust"].map({True: "yes", False: "no"})
        show["In band (share of draws)"] = (frame["band_share"] * 100).round(0).astype("Int64").astype(str) + "%"
        show["Rank range (90%)"] = frame["rank_p05"].astype("Int64").astype(str) + "–" + frame["rank_p95"].astype("Int64").astype(str)
    show["Overlapping needs"] = frame["overlap_count"]
    show["Main reasons"] = [", ".join(top_reasons(r, scored.indicators, labels)) for _, r in frame.iterrows()]
    st.subheader(f"Top {min(top_n, len(show))} of {len(show)} {common.LEVELS[level].split(' ')[0].lower()} in {md_text(area.name)}")
    st.dataframe(show.head(top_n), hide_index=True, width="stretch")
    st.download_button("Download the ranking (CSV)", to_csv_bytes(show),
                       file_name=f"wardscope-{scored.profile.id}-{level}-{area.key}.csv",
                       mime="text/csv", key=f"{key}-csv", on_click="ignore")
    if 0 < scored.areas["rank"].notna().sum() < 10:
        st.caption(f"Only {int(scored.areas['rank'].notna().sum())} area(s) were ranked here: with so few, bands and "
                   "the robust flag say little; compare with the national rank.")
    priority_exports(scored, common.get_store(), area, level, key, extra=extra)


EXPORT_FORMATS = {"gpkg": "GeoPackage", "shp": "Shapefile (zip)", "geojson": "GeoJSON", "csv": "CSV (Excel)"}
def selections(profile) -> dict[str, str]:
    """Export choices for a profile: all its priority bands, the first band alone, robust ones, everything."""
    from layers.scoring import priority_bands

    bands = priority_bands(profile)
    out = {",".join(f"band:{b}" for b in bands): f"Priority areas ({' + '.join(bands)})"}
    if len(bands) > 1:
        out[f"band:{bands[0]}"] = bands[0].capitalize()
    out["robust"] = "Robust priorities only"
    out["all"] = "All areas"
    return out


def export_buttons(areas, columns, selection: str, *, stem: str, provenance: dict, key: str, layers=None) -> None:
    """One download button per format; each file is made when its button is clicked (geo.export)."""
    from geo.export import bytes_filename, export_bytes

    cols = st.columns(len(EXPORT_FORMATS))
    for col, (fmt, label) in zip(cols, EXPORT_FORMATS.items()):
        def make(fmt=fmt):
            return export_bytes(areas, columns, selection, fmt, stem=stem, provenance=provenance, layers=layers).data
        name, mime = bytes_filename(stem, fmt)
        col.download_button(label, make, file_name=name, mime=mime, key=f"{key}-export-{fmt}", width="stretch",
                            on_click="ignore")  # no rerun: the file is made on click and the page stays as it is


def priority_exports(scored, store, area, level: str, key: str, extra=None) -> None:
    """Export the current ranking's selection in any format, with its methodology."""
    from layers.priority_export import export_layer, provenance

    st.markdown("**Export priority areas** (with methodology.json: the profile, weights, method and sources)")
    options = selections(scored.profile)
    choice = st.radio("Which areas", list(options), format_func=options.get, horizontal=True, key=f"{key}-sel")
    if choice == "robust" and "robust" not in scored.areas:
        st.caption("Robustness was not computed (0 draws), so there is no robust flag to select on.")
        return
    n = len(scored.areas) if choice == "all" else int(
        scored.areas["robust"].sum() if choice == "robust" else
        scored.areas["band"].isin([b.split(":", 1)[1] for b in choice.split(",")]).sum())
    if n == 0:
        st.caption("No area is in this selection, so there is nothing to export.")
        return
    reg = common.registry()
    table = common.table_for(store, level)
    if extra:
        table = table.merge(extra[0], on="code", how="left")
        reg = {**reg, **extra[1]}
    areas, columns = export_layer(scored, store, table, reg)
    draws = int(scored.notes and next((int(t.split()[1]) for t in scored.notes if t.startswith("robustness:")), 0) or 0)
    prov = provenance(scored, reg, store, sensitivity=draws, seed=20251127)
    stem = f"wardscope_{scored.profile.id}_{level}_{area.key}".replace(" ", "_").lower()
    st.caption(f"{n} area(s) selected.")
    export_buttons(areas, columns, choice, stem=stem, provenance=prov, key=key)


def hub_exports(plan, store, area, profile) -> None:
    """Export the priority LSOAs with their coverage and the hubs/sites layer."""
    from layers.hub_view import export_frame

    st.markdown("**Export** priority LSOAs with their coverage, and the hubs (GeoPackage and shapefile carry both layers)")
    areas, columns, hubs = export_frame(plan, store, area)
    prov = {"profile": {"name": profile.name, "id": profile.id, "weights": {i.id: i.weight for i in profile.indicators},
                        "indicators": [i.id for i in profile.indicators], "definition": profile.to_dict()},
            "area_of_interest": {"name": area.name, "lad_codes": list(area.lad_codes)}, "level": "lsoa",
            "hub_plan": {"model": plan.model, "mode": plan.mode, "threshold_min": plan.threshold_min,
                         "statements": plan.statements()}}
    export_buttons(areas, columns, "all", stem=f"wardscope_hubs_{area.key}".replace(" ", "_").lower(), provenance=prov,
                   key="hubs-export", layers={"hubs": hubs})
