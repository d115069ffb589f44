"""Map explorer: any indicator or priority layer for an area of interest, by ward or LSOA."""

import pandas as pd
import streamlit as st

from app_pages import common, details
from geo.escape import md_text
from layers.mapclasses import SCHEMES
from layers.mapview import SCORE_LAYERS, folium_map, indicator_map, score_map

store = common.get_store()
area = common.area_picker(store)
level = common.level_picker()
reg = common.registry()
table = common.table_for(store, level)

show = st.sidebar.radio("Show", ["Priority", "Indicator"], horizontal=True, key="explorer_show")
if show == "Indicator":
    ids = [c for c in table.columns if c in reg and reg[c].direction != 0 or (c in reg and reg[c].kind == "count")]
    ids = [i for i in ids if i in reg]
    labels = {i: f"{reg[i].topic} · {reg[i].label}" for i in ids}
    default = "census21_inactive_pct" if "census21_inactive_pct" in ids else ids[0]
    if st.session_state.get("explorer_indicator") not in ids:
        st.session_state["explorer_indicator"] = default
    ind_id = st.sidebar.selectbox("Indicator", ids, format_func=labels.get, key="explorer_indicator")
    common.not_installed_notice()
else:
    common.profile_picker()
    what = st.sidebar.selectbox("Layer", list(SCORE_LAYERS), format_func=SCORE_LAYERS.get, key="explorer_layer")
scheme = st.sidebar.selectbox("Classes", list(SCHEMES), format_func=SCHEMES.get, key="explorer_scheme")

areas = store.boundaries(level, area.lad_codes)
outline = store.table("boundaries", "lad_outline", area.lad_codes)
in_area = table[table["lad_code"].isin(area.lad_codes)]

if show == "Indicator":
    ind = reg[ind_id]
    reasons = pd.Series(table.attrs.get("notes", {}), dtype=object)
    md = indicator_map(areas, in_area, ind, scheme=scheme, area_name=area.name, no_data_reasons=reasons)
    heading = ind.label
else:
    scored = common.score_current(store, area, level)
    clusters = None
    if what == "cluster":
        profile_now, extra_key, extra = common.with_access(common.current_profile(), store, area, level)
        from layers.profiles import profile_yaml

        clusters, cluster_table, _ = common.cached_clusters(store.generation, profile_yaml(profile_now), level, area.name,
                                                tuple(area.lad_codes), 200, extra_key=extra_key, _extra=extra)
    names = dict(zip(cluster_table["cluster_id"], cluster_table["name"])) if what == "cluster" else None
    md = score_map(areas, scored, what, scheme=scheme, clusters=clusters, cluster_names=names)
    heading = md.title

st.title(md_text(area.name))
st.caption(f"{md_text(heading)} · {common.LEVELS[level]} · {len(areas)} areas in {len(area.lad_codes)} district(s)")
col_map, col_side = st.columns([2.3, 1])
with col_map:
    if md.no_data_reason:
        st.info(f"No data: {md_text(md.no_data_reason)} Areas are shown grey.")
    clicked = common.show_map(folium_map(md, outline), key=f"explorer-{area.key}-{level}")
    if clicked:
        st.session_state["selected_code"] = clicked
with col_side:
    common.legend(md)
    details.selected_area(store, area, level, table, st.session_state.get("selected_code"))

if show == "Priority":
    _, _, extra = common.with_access(common.current_profile(), store, area, level)
    details.ranking_table(scored, reg, area, level, key="explorer", extra=extra)
common.credits()
