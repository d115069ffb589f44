"""Transport access: minutes from every neighbourhood to employment sites, and where poor access meets need."""

import hashlib
import os

import numpy as np
import streamlit as st

from app_pages import cache, maps, requests, saved_panels, scores, sources, state, uploads
from geo.csvsafe import to_csv_bytes
from geo.errors import WardscopeError
from geo.escape import md_text
from geo.employment_sites import add_site, sample_sites, sites_table
from layers.access_view import GAP_COLUMNS, access_map, catchment, gap_table
from layers.mapclasses import SCHEMES
from layers.readable import readable_table

MODES = {"bus": "Bus (or walk, if quicker)", "walk": "Walk", "cycle": "Cycle", "car": "Car"}

store = cache.get_store()
area = state.area_picker(store)
level = state.level_picker()
state.profile_picker()

# -- sites: sample, upload, or added on the map; kept in this session -------------------------
SAMPLE, UPLOAD = "Sample sites named in the plans", "Upload a file"
source = state.sticky_choice(st.sidebar, "Employment sites", [SAMPLE, UPLOAD], "sites_source", SAMPLE)
if "sites" not in st.session_state:
    st.session_state["sites"], st.session_state["sites_from"] = sample_sites(store), "sample"
if source == UPLOAD:
    uploaded = uploads.upload_points("Sites file (CSV or GeoJSON)", key="sites_upload",
                                    help="Columns: name, and longitude/latitude, easting/northing or postcode; "
                                         "optional jobs, type, source.")
    if uploaded is not None:
        digest = hashlib.sha256(sites_table(uploaded).to_csv(index=False).encode("utf-8")).hexdigest()
        if st.session_state.get("sites_upload_digest") != digest:  # a new file replaces the list once
            st.session_state["sites"], st.session_state["sites_from"] = uploaded, "upload"
            st.session_state["sites_upload_digest"] = digest
elif st.session_state.get("sites_from") == "upload":
    st.session_state["sites"], st.session_state["sites_from"] = sample_sites(store), "sample"
if st.session_state.get("sites_from") in ("edited", "saved"):
    if st.sidebar.button("Start again from the sample sites", key="reset_sites"):
        st.session_state["sites"], st.session_state["sites_from"] = sample_sites(store), "sample"
        st.rerun()
sites = st.session_state.get("sites")

mode = st.sidebar.selectbox("Mode", list(MODES), format_func=MODES.get, key="access_mode")
network_file = os.environ.get("WARDSCOPE_NETWORK_PBF")
engines = ["estimate"] + (["network"] if network_file and mode != "bus" else [])
engine = st.sidebar.radio("Engine", engines, key="access_engine", horizontal=True,
                          help="estimate: straight-line distance x circuity at mode speeds plus allowances. "
                               "network: an OpenStreetMap road network (set WARDSCOPE_NETWORK_PBF on the server).")
if not network_file:
    st.sidebar.caption("The network engine needs an OpenStreetMap extract on the server (WARDSCOPE_NETWORK_PBF); "
                       "or use `python cli.py access --engine network --network FILE.osm.pbf`.")
threshold = st.sidebar.slider("Threshold (minutes)", 10, 90, 45, 5, key="access_threshold")
scheme = st.sidebar.selectbox("Classes", list(SCHEMES), format_func=SCHEMES.get, key="access_scheme")

params = {}
if engine == "estimate":
    from geo.travel import parameter_table

    with st.sidebar.expander("Estimate parameters"):
        table = parameter_table("estimate")
        for row in table.itertuples(index=False):
            if mode not in str(row.applies_to) or not np.isfinite(row.value):
                continue
            params[row.name] = st.number_input(f"{row.name} ({row.unit})", value=float(row.value),
                                               help=f"{row.applies_to}. Source: {row.source}", key=f"p::{row.name}")

st.title(f"Transport access: {md_text(area.name)}")
if sites is None or len(sites) == 0:
    st.info("No sites yet: upload a file, use the sample, or click the map and add one below.")
    st.stop()

try:
    result = cache.access_result(requests.access_request(area, level, sites, mode, engine, network_file, params))
except WardscopeError as exc:
    st.error(str(exc))
    st.stop()
frame = result.data
st.caption(" · ".join(md_text(n) for n in result.notes))

scored = scores.score_or_stop(scores.current_request(store, area, level)).data
table = cache.table_for(store, level)
md, pts = access_map(store, area, level, frame, mode, scheme=scheme, sites=sites)
col_map, col_side = st.columns([2.3, 1])
with col_map:
    from streamlit_folium import st_folium

    from layers.mapview import folium_map

    outline = store.table("boundaries", "lad_outline", area.lad_codes)
    out = st_folium(folium_map(md, outline, points=pts), height=maps.MAP_HEIGHT, use_container_width=True,
                    returned_objects=["last_clicked"], key=f"access-{area.key}-{level}-{mode}")
with col_side:
    maps.legend(md)
    clicked = (out or {}).get("last_clicked")
    with st.form("add_site", clear_on_submit=True):
        st.markdown("**Add a site**" + (f" at {clicked['lat']:.4f}, {clicked['lng']:.4f}" if clicked else
                                        " (click the map first)"))
        name = st.text_input("Name")
        jobs = st.number_input("Jobs (optional)", min_value=0, value=0, step=50)
        if st.form_submit_button("Add site", disabled=not clicked):
            try:
                st.session_state["sites"] = add_site(sites, name, longitude=clicked["lng"], latitude=clicked["lat"],
                                                     jobs=jobs or None, type="employment site")
                st.session_state["sites_from"] = "edited"
                st.rerun()
            except WardscopeError as exc:
                st.error(str(exc))

st.subheader(f"Priority areas with the worst access by {MODES[mode].lower()}")
st.caption("Access gap: a priority area where the nearest site is over the threshold by bus and on foot, "
           "and the share of households with no car or van is above the England figure.")
gaps = gap_table(frame, scored, table, mode, threshold)
# no nearest site: at ward level the minutes average LSOAs with different nearest sites; at LSOA level none is reachable
no_site = "differs across the ward (minutes are an average)" if level == "ward" else "none reachable"
st.dataframe(readable_table(gaps, missing={GAP_COLUMNS["nearest"]: no_site}), hide_index=True, width="stretch")

st.subheader("One site's catchment")
site_names = dict(zip(sites["site_id"], sites["name"]))
chosen = st.selectbox("Site", list(site_names), format_func=site_names.get, key="catchment_site")
inside, people = catchment(frame, table, mode, chosen, threshold)
if inside is None:
    st.info("Per-site times are shown for up to 50 sites; choose fewer sites to see a catchment.")
else:
    st.markdown(f"**{len(inside)} {state.LEVELS[level].split(' ')[0].lower()}** within {threshold} minutes of "
                f"**{md_text(site_names[chosen])}** by {MODES[mode].lower()}, home to about **{people:,.0f} people** "
                "(Census 2021).")
    st.dataframe(inside, hide_index=True, width="stretch", height=240)

st.subheader("Sites in this session")
editable = sites_table(sites)
st.dataframe(readable_table(editable, {"name": "Site"}, missing={"jobs": "not given"}), hide_index=True,
             width="stretch")  # the downloaded CSV keeps its column names: it loads back as a site list
c1, c2 = st.columns(2)
c1.download_button("Download the site list (CSV)", to_csv_bytes(editable),
                   file_name="wardscope-sites.csv", mime="text/csv", on_click="ignore")
with c2.popover("Save or load a site list on the server"):
    saved_panels.saved_sites_panel(sites)
sources.credits()
