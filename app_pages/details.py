"""Page pieces shared by the explorer and the scoring page: the selected area and the ranking table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import common
from layers.mapview import format_value, ordinal
from layers.scoring import top_reasons

RAG_TEXT = {"red": "worse than England", "amber": "similar to England", "green": "better than England"}


def selected_area(store, area, level: str, table: pd.DataFrame, code: str | None) -> None:
    """Figures for the clicked area against its district, the area of interest and England."""
    st.markdown("**Selected area**")
    if not code or code not in set(table.loc[table["lad_code"].isin(area.lad_codes), "code"]):
        st.caption("Click an area on the map to see its figures here.")
        return
    row = table.set_index("code").loc[code]
    st.markdown(f"### {row['name']}\n`{code}` · {row['lad_name']}")
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
            st.session_state["profile_ward"] = code
            st.switch_page("app_pages/ward_profile.py")


def ranking_table(scored, reg: dict, area, level: str, *, key: str, top_n: int = 25) -> None:
    """The top areas with score, rank, band, robustness and the three biggest reasons."""
    labels = {i: reg[i].label if i in reg else i for i in scored.indicators}
    frame = scored.areas[scored.areas["rank"] > 0].sort_values("rank")
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
    st.subheader(f"Top {min(top_n, len(show))} of {len(show)} {common.LEVELS[level].split(' ')[0].lower()} in {area.name}")
    st.dataframe(show.head(top_n), hide_index=True, width="stretch")
    csv = show.to_csv(index=False).encode("utf-8-sig")
    st.download_button("Download the ranking (CSV)", csv, file_name=f"wardscope-{scored.profile.id}-{level}-{area.key}.csv",
                       mime="text/csv", key=f"{key}-csv")
