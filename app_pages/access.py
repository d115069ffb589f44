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
from layers.access_view import (DFT_CAVEAT, GAP_COLUMNS, access_map, catchment, dft_comparison, gap_table,
                                grouped_notes, measured_to, site_districts)
from layers.mapclasses import SCHEMES
from layers.readable import readable_table

MODES = {"bus": "Bus (or walk, if quicker)", "walk": "Walk", "cycle": "Cycle", "car": "Car"}

store = cache.get_store()


def cache_site_districts(points):
    """The district each site lies in, kept in the session by the sites' locations."""
    digest = hashlib.sha256("\n".join(points["site_id"].astype(str)).encode("utf-8")
                            + points.geometry.x.to_numpy(dtype="float64").tobytes()
                            + points.geometry.y.to_numpy(dtype="float64").tobytes()).hexdigest()
    held = st.session_state.get("site_districts")
    if not held or held[0] != digest:
        held = (digest, site_districts(store, points))
        st.session_state["site_districts"] = held
    return held[1]


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
engines = ["estimate"] + (["network"] if network_file and mode != "bus" else []) + (["gtfs"] if mode == "bus" else [])
engine = st.sidebar.radio("Engine", engines, key="access_engine", horizontal=True,
                          format_func={"estimate": "estimate", "network": "road network",
                                       "gtfs": "timetable (GTFS)"}.get,
                          help="estimate: straight-line distance x circuity at mode speeds plus allowances. "
                               "road network: an OpenStreetMap road network (set WARDSCOPE_NETWORK_PBF on the "
                               "server). timetable: bus journeys from a GTFS feed (upload one, or set "
                               "WARDSCOPE_GTFS on the server).")
if not network_file and mode != "bus":
    st.sidebar.caption("Travel times on the road network need an OpenStreetMap extract on the server; "
                       f"{sources.admin_pointer()}.")
gtfs_file = gtfs_date = gtfs_depart = gtfs_refused = None
if engine == "gtfs":
    server_feed = os.environ.get("WARDSCOPE_GTFS")
    feed_upload = st.sidebar.file_uploader("Timetable (GTFS zip)", key="gtfs_upload",
                                           help="A GTFS feed covering the area, e.g. the Bus Open Data Service's "
                                                "feed for the region." + (" Without one, the server's feed is used."
                                                                          if server_feed else ""))
    if feed_upload is not None:
        from geo.upload.gate import GTFS_KINDS, accept_upload

        try:
            accepted = accept_upload(feed_upload.name, feed_upload, workspace=uploads.workspace(), kinds=GTFS_KINDS)
            gtfs_file = str(accepted.path)
            st.sidebar.caption(f"{md_text(accepted.name)}: accepted")
        except WardscopeError as exc:
            gtfs_refused = str(exc)  # said on the page, where the minutes would be
    elif server_feed:
        gtfs_file = server_feed
        st.sidebar.caption(f"Timetable: the server's feed ({md_text(os.path.basename(server_feed))})")
    gtfs_date = st.sidebar.text_input("Service day (YYYY-MM-DD)", key="gtfs_date",
                                      help="Blank: the feed's first Tuesday with trips (the DfT statistics use a "
                                           "Tuesday).").strip()
    gtfs_depart = st.sidebar.text_input("Departure window", value="07:00-09:00", key="gtfs_depart",
                                        help="Every minute from the start (included) to the end (not); the "
                                             "minutes are the median over them.").strip()
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
if gtfs_refused:
    st.error(f"The timetable was refused, so nothing is measured: {md_text(gtfs_refused)}")
    st.stop()
if engine == "gtfs" and not gtfs_file:
    st.info("The timetable engine needs a GTFS feed: upload one in the sidebar (a zip), or ask for the server to set "
            "WARDSCOPE_GTFS.")
    st.stop()

try:
    result = cache.access_result(requests.access_request(area, level, sites, mode, engine, network_file, params,
                                                         gtfs=gtfs_file, date=gtfs_date, depart=gtfs_depart))
except WardscopeError as exc:
    st.error(str(exc))
    st.stop()
frame = result.data
plain_notes, method_notes = grouped_notes(result.notes, area.name)
st.caption("\n".join(f"- {md_text(n)}" for n in plain_notes))
if method_notes:
    with st.expander("How these times were worked out"):  # one label, so it stays open as settings change
        st.caption("\n".join(f"- {md_text(n)}" for n in method_notes))

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
        # empty means unknown (never 0): jobs within reach then leave this site out of the known total
        jobs = st.number_input("Jobs (optional)", min_value=0, value=None, step=50, placeholder="unknown")
        if st.form_submit_button("Add site", disabled=not clicked):
            try:
                st.session_state["sites"] = add_site(sites, name, longitude=clicked["lng"], latitude=clicked["lat"],
                                                     jobs=None if jobs is None else int(jobs), type="employment site")
                st.session_state["sites_from"] = "edited"
                st.rerun()
            except WardscopeError as exc:
                st.error(str(exc))

dft = dft_comparison(store, area, frame, table, mode)
st.subheader(f"Beside DfT's district average by {MODES[mode].lower()}")
if dft is None:
    st.caption("DfT's Journey Time Statistics give no district average for walking alone (or they are not "
               "installed), so there is nothing to put beside Wardscope's figure.")
else:
    st.caption(DFT_CAVEAT)
    st.dataframe(dft, hide_index=True, width="stretch")

st.subheader(f"Priority areas with the worst access by {MODES[mode].lower()}")
st.caption("Access gap: a priority area where the nearest site is over the threshold by bus and on foot, "
           "and the share of households with no car or van is above the England figure.")
gaps = gap_table(frame, scored, table, mode, threshold, sites=sites, site_lads=cache_site_districts(sites))
st.caption(md_text(measured_to(sites, gaps)))
# no nearest site: at ward level the minutes average LSOAs with different nearest sites; at LSOA level none is reachable
no_site = "differs across the ward (minutes are an average)" if level == "ward" else "none reachable"
st.dataframe(readable_table(gaps, missing={GAP_COLUMNS["nearest"]: no_site, GAP_COLUMNS["outside"]: no_site}),
             hide_index=True, width="stretch")

st.subheader("One site's catchment")
site_names = dict(zip(sites["site_id"], sites["name"]))
chosen = st.selectbox("Site", list(site_names), format_func=site_names.get, key="catchment_site")
inside, people = catchment(frame, table, mode, chosen, threshold)
if inside is None:
    st.info("Per-site times are shown for up to 50 sites; choose fewer sites to see a catchment.")
else:
    st.markdown(f"**{len(inside)} {'LSOAs' if level == 'lsoa' else 'wards'}** within {threshold} minutes of "
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
