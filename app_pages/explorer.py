"""Map explorer: any indicator or priority layer for an area of interest, by ward or LSOA."""

import pandas as pd
import streamlit as st

from app_pages import cache, details, maps, place_finder, requests, scores, sources, state
from geo.escape import md_text
from geo.words import count_of
from layers.mapclasses import SCHEMES
from layers.mapview import SCORE_LAYERS, indicator_map, score_map
from tasks import boundaries

store = cache.get_store()
area = state.area_picker(store)
level = state.level_picker()
reg = cache.registry()
table = cache.table_for(store, level)

show = st.sidebar.radio("Show", ["Priority", "Indicator"], horizontal=True, key="explorer_show")
if show == "Indicator":
    ids = [c for c in table.columns if c in reg and reg[c].direction != 0 or (c in reg and reg[c].kind == "count")]
    ids = [i for i in ids if i in reg]
    labels = {i: f"{reg[i].topic} · {reg[i].label}" for i in ids}
    default = "census21_inactive_pct" if "census21_inactive_pct" in ids else ids[0]
    if st.session_state.get("explorer_indicator") not in ids:
        st.session_state["explorer_indicator"] = default
    ind_id = st.sidebar.selectbox("Indicator", ids, format_func=labels.get, key="explorer_indicator")
    sources.not_installed_notice()
else:
    state.profile_picker()
    what = st.sidebar.selectbox("Layer", list(SCORE_LAYERS), format_func=SCORE_LAYERS.get, key="explorer_layer")
scheme = st.sidebar.selectbox("Classes", list(SCHEMES), format_func=SCHEMES.get, key="explorer_scheme")

areas = boundaries.run(requests.boundaries_request(area, level), store).data
outline = store.table("boundaries", "lad_outline", area.lad_codes)

if show == "Indicator":
    ind = reg[ind_id]
    values = cache.indicator_values(requests.indicators_request(area, level, (ind_id,))).data
    reasons = pd.Series(table.attrs.get("notes", {}), dtype=object)
    md = indicator_map(areas, values, ind, scheme=scheme, area_name=area.name, no_data_reasons=reasons)
    heading = ind.label
else:
    request = scores.current_request(store, area, level)
    result = scores.score_or_stop(request)
    clusters = names = None
    if what == "cluster":
        hoods = cache.neighbourhoods(request).data
        clusters, names = hoods.labels, dict(zip(hoods.table["cluster_id"], hoods.table["name"]))
    md = score_map(areas, result.data, what, scheme=scheme, clusters=clusters, cluster_names=names)
    heading = md.title

st.title(md_text(area.name))
st.caption(f"{md_text(heading)} · {state.LEVELS[level]} · {count_of(len(areas), 'area')} in "
           f"{count_of(len(area.lad_codes), 'district')}")
col_map, col_side = st.columns([2.3, 1])
with col_map:
    if md.no_data_reason:
        st.info(f"No data: {md_text(md.no_data_reason)} Areas are shown grey.")
    place_finder.searchable_map(store, area, level, md, outline, key=f"explorer-{area.key}-{level}")
with col_side:
    place_finder.area_select(md.gdf, level)
    maps.legend(md)
    details.selected_area(store, area, level, table, st.session_state.get("selected_code"))

if show == "Priority":
    details.top_areas(result, area, level)
sources.credits()
