"""Priority scoring: choose a profile, tune its weights and method, see the map and ranking update."""

import streamlit as st

from app_pages import cache, details, maps, place_finder, saved_panels, scores, sources, state
from geo.escape import md_text
from geo.words import agree, count_of
from layers.hotspots import CLUSTER_LABELS
from layers.mapclasses import SCHEMES
from layers.mapview import SCORE_LAYERS, score_map
from layers.normalise import METHODS
from layers.profiles import profile_yaml
from layers.readable import readable_table
from layers.robustness import DEFAULT_DRAWS

METHOD_LABELS = {"rank_exponential": "Rank, exponential transform (as the IoD)", "zscore": "z-score",
                 "minmax": "Min-max (0-100)"}

store = cache.get_store()
area = state.area_picker(store)
level = state.level_picker()
state.profile_picker()
saved_panels.saved_profiles_panel()
reg = cache.registry()
profile = state.current_profile()
pkey = state.profile_key()
installed = set(cache.table_for(store, level).columns)

with st.sidebar.expander("Weights", expanded=True):
    weights = {}
    for item in profile.indicators:
        ind = reg.get(item.id)
        label = ind.label if ind else item.id
        if item.id not in installed:
            st.caption(f"{md_text(label)}: not installed on this server, so left out; {sources.admin_pointer()}.")
            weights[item.id] = item.weight
            continue
        weights[item.id] = st.slider(md_text(label), 0.0, 5.0, float(item.weight), 0.5, key=f"w::{pkey}::{item.id}",
                                     help=(md_text(ind.caveat) if ind and ind.caveat else None))
    st.session_state[f"weights::{pkey}"] = weights
    own = [i for i, e in reg.items() if e.user and level in e.levels and e.direction != 0
           and i not in {x.id for x in profile.indicators}]
    if own:
        st.caption("Your own indicators (weight 0 leaves one out)")
    else:
        st.caption("Add your own indicator from a CSV on the page *Your areas and indicators*.")
    st.session_state[f"user_in_profile::{level}"] = tuple(
        (i, st.slider(md_text(reg[i].label), 0.0, 5.0, 0.0, 0.5, key=f"uw::{level}::{i}")) for i in own)
method = st.sidebar.selectbox("Normalisation", list(METHODS), index=list(METHODS).index(profile.normalisation),
                              format_func=METHOD_LABELS.get, key=f"m::{pkey}")
st.session_state[f"method::{pkey}"] = method
draws = st.sidebar.select_slider("Robustness draws", [0, 100, 200, 500, 1000], value=DEFAULT_DRAWS, key="draws",
                                 help="How many times the weights are shaken to test the ranking (0 = skip).")
with st.sidebar.expander("Transport access in the score"):
    add_access = st.checkbox("Add minutes to the nearest employment site", key="access_on",
                             help="Uses this session's sites (Transport access page; the sample sites by default). "
                                  "Compared within the area of interest.")
    access_mode = st.selectbox("By", ["bus", "walk", "cycle", "car"], key="access_in_mode", disabled=not add_access)
    access_weight = st.slider("Weight", 0.0, 5.0, 1.0, 0.5, key="access_in_weight", disabled=not add_access)
    st.session_state["access_in_profile"] = (access_mode, access_weight) if add_access else None
layer_options = [k for k in SCORE_LAYERS if k != "robust" or draws]
what = st.sidebar.selectbox("Layer", layer_options, format_func=SCORE_LAYERS.get, key="scoring_layer")
scheme = st.sidebar.selectbox("Classes", list(SCHEMES), format_func=SCHEMES.get, key="scoring_scheme")

request = scores.current_request(store, area, level, draws)
result = scores.score_or_stop(request)
scored, profile = result.data, result.data.profile
st.title(md_text(area.name))
labels = {k: v.label for k, v in result.indicators.items()}
weights_text = ", ".join(f"{labels.get(i.id, i.id).split(' (')[0]} {i.weight:g}"
                         for i in profile.indicators if i.id in scored.indicators)
st.caption(f"{md_text(profile.name)} · {state.LEVELS[level]} · {METHOD_LABELS[profile.normalisation]} · weights: {md_text(weights_text)}")

areas = store.boundaries(level, area.lad_codes)
outline = store.table("boundaries", "lad_outline", area.lad_codes)
hoods = cache.neighbourhoods(request).data if what == "cluster" else None
names = dict(zip(hoods.table["cluster_id"], hoods.table["name"])) if hoods is not None else None
md = score_map(areas, scored, what, scheme=scheme, clusters=hoods.labels if hoods is not None else None,
               cluster_names=names)
col_map, col_side = st.columns([2.3, 1])
with col_map:
    place_finder.searchable_map(store, area, level, md, outline, key=f"scoring-{area.key}-{level}")
with col_side:
    place_finder.area_select(md.gdf, level)
    maps.legend(md)
    details.selected_area(store, area, level, cache.table_for(store, level), st.session_state.get("selected_code"))

details.ranking_table(request, result, area, level, key="scoring")
if hoods is not None:
    st.subheader("Priority neighbourhoods")
    st.caption(f"Touching priority areas (sharing a stretch of boundary, not just a corner) joined into "
               f"neighbourhoods; {count_of(hoods.hot_spots, 'area')} "
               f"{agree(hoods.hot_spots, 'is a significant hot spot', 'are significant hot spots')} "
               "(Getis-Ord Gi*, 999 permutations, false discovery rate 5%).")
    st.dataframe(readable_table(hoods.table, CLUSTER_LABELS, drop=("codes",)), hide_index=True, width="stretch")
# the saved profile never includes the session's access indicator: it depends on this session's sites
st.download_button("Save this profile (YAML)", profile_yaml(state.current_profile()).encode("utf-8"),
                   file_name=f"{profile.id}.yaml", mime="application/x-yaml", on_click="ignore")
sources.credits()
