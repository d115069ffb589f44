"""Priority scoring: choose a profile, tune its weights and method, see the map and ranking update."""

import streamlit as st

from app_pages import common, details
from geo.escape import md_text
from layers.mapclasses import SCHEMES
from layers.mapview import SCORE_LAYERS, folium_map, score_map
from layers.normalise import METHODS
from layers.profiles import profile_yaml

METHOD_LABELS = {"rank_exponential": "Rank, exponential transform (as the IoD)", "zscore": "z-score",
                 "minmax": "Min-max (0-100)"}

store = common.get_store()
area = common.area_picker(store)
level = common.level_picker()
common.profile_picker()
common.saved_profiles_panel()
reg = common.registry()
profile = common.current_profile()
pkey = common.profile_key()
installed = set(common.table_for(store, level).columns)

with st.sidebar.expander("Weights", expanded=True):
    weights = {}
    for item in profile.indicators:
        ind = reg.get(item.id)
        label = ind.label if ind else item.id
        if item.id not in installed:
            st.caption(f"{md_text(label)}: not installed (python cli.py install --nomis), left out")
            weights[item.id] = item.weight
            continue
        weights[item.id] = st.slider(md_text(label), 0.0, 5.0, float(item.weight), 0.5, key=f"w::{pkey}::{item.id}",
                                     help=(md_text(ind.caveat) if ind and ind.caveat else None))
    st.session_state[f"weights::{pkey}"] = weights
method = st.sidebar.selectbox("Normalisation", list(METHODS), index=list(METHODS).index(profile.normalisation),
                              format_func=METHOD_LABELS.get, key=f"m::{pkey}")
st.session_state[f"method::{pkey}"] = method
draws = st.sidebar.select_slider("Robustness draws", [0, 100, 200, 500, 1000], value=200, key="draws",
                                 help="How many times the weights are shaken to test the ranking (0 = skip).")
with st.sidebar.expander("Transport access in the score"):
    add_access = st.checkbox("Add minutes to the nearest employment site", key="access_on",
                             help="Uses this session's sites (Transport access page; the sample sites by default). "
                                  "Compared within the area of interest.")
    access_mode = st.selectbox("By", ["bus", "walk", "cycle", "car"], key="access_in_mode", disabled=not add_access)
    access_weight = st.slider("Weight", 0.0, 5.0, 1.0, 0.5, key="access_in_weight", disabled=not add_access)
    st.session_state["access_in_profile"] = (access_mode, access_weight) if add_access else None
profile, extra_key, extra = common.with_access(common.current_profile(), store, area, level)
layer_options = [k for k in SCORE_LAYERS if k != "robust" or draws]
what = st.sidebar.selectbox("Layer", layer_options, format_func=SCORE_LAYERS.get, key="scoring_layer")
scheme = st.sidebar.selectbox("Classes", list(SCHEMES), format_func=SCHEMES.get, key="scoring_scheme")

scored = common.score_or_stop(profile_yaml(profile), store, area, level, draws, extra_key, extra)
st.title(md_text(area.name))
if extra:
    reg = {**reg, **extra[1]}
labels = {k: v.label for k, v in reg.items()}
weights_text = ", ".join(f"{labels.get(i.id, i.id).split(' (')[0]} {i.weight:g}"
                         for i in profile.indicators if i.id in scored.indicators)
st.caption(f"{md_text(profile.name)} · {common.LEVELS[level]} · {METHOD_LABELS[profile.normalisation]} · weights: {md_text(weights_text)}")

areas = store.boundaries(level, area.lad_codes)
outline = store.table("boundaries", "lad_outline", area.lad_codes)
clusters_by_code, cluster_table, n_hot = (None, None, 0)
if what == "cluster":
    clusters_by_code, cluster_table, n_hot = common.cached_clusters(store.generation, profile_yaml(profile), level,
                                                                   area.name, tuple(area.lad_codes), draws,
                                                                   extra_key=extra_key, _extra=extra)
names = dict(zip(cluster_table["cluster_id"], cluster_table["name"])) if cluster_table is not None else None
md = score_map(areas, scored, what, scheme=scheme, clusters=clusters_by_code, cluster_names=names)
col_map, col_side = st.columns([2.3, 1])
with col_map:
    clicked = common.show_map(folium_map(md, outline), key=f"scoring-{area.key}-{level}")
    if clicked:
        st.session_state["selected_code"] = clicked
with col_side:
    common.legend(md)
    details.selected_area(store, area, level, common.table_for(store, level), st.session_state.get("selected_code"))

details.ranking_table(scored, reg, area, level, key="scoring", extra=extra)
if what == "cluster" and cluster_table is not None:
    st.subheader("Priority neighbourhoods")
    st.caption(f"Touching priority areas joined into neighbourhoods; {n_hot} area(s) are significant hot spots "
               "(Getis-Ord Gi*, 999 permutations, false discovery rate 5%).")
    st.dataframe(cluster_table.drop(columns=["codes"]), hide_index=True, width="stretch")
# the saved profile never includes the session's access indicator: it depends on this session's sites
st.download_button("Save this profile (YAML)", profile_yaml(common.current_profile()).encode("utf-8"),
                   file_name=f"{profile.id}.yaml", mime="application/x-yaml", on_click="ignore")
common.credits()
