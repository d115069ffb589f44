"""Hub planner: coverage of priority areas by hubs, cold spots, and the best places for new hubs."""

import streamlit as st

from app_pages import cache, details, maps, requests, sources, state, uploads
from geo.errors import WardscopeError
from geo.escape import md_text
from geo.words import agree
from layers.hub_view import hub_map
from layers.hubs.demand import DEMAND_KINDS
from layers.hubs.errors import NothingToAddError
from layers.indicators import available
from layers.readable import readable_table

MODELS = {"coverage": "Coverage of the existing hubs", "mclp": "Best k new sites: most people reached (MCLP)",
          "pmedian": "Best k sites: shortest journeys (p-median)", "lscp": "Fewest sites to reach everyone (LSCP)"}
MODES = {"bus": "Bus (or walk, if quicker)", "walk": "Walk", "car": "Car"}
WEIGHTS = {"population": "Residents", "inactive": "Economically inactive residents (16+)", "claimants": "Claimants"}

store = cache.get_store()
area = state.area_picker(store)
state.profile_picker()
profile = state.current_profile()

st.sidebar.markdown("**Demand**")
bands = st.sidebar.multiselect("Priority bands", ["top 10%", "top 20%"], default=["top 10%", "top 20%"], key="hub_bands")
installed = set(available("lsoa", store=store))  # as the planner checks: never offer what it would refuse
weights_here = [k for k in WEIGHTS if DEMAND_KINDS[k][0] in installed]
weight = st.sidebar.selectbox("Weighted by", weights_here, format_func=WEIGHTS.get, key="hub_weight")
if len(weights_here) < len(WEIGHTS):
    st.sidebar.caption("Not installed on this server, so not offered: "
                       f"{', '.join(WEIGHTS[k] for k in WEIGHTS if k not in weights_here)}; {sources.admin_pointer()}.")
st.sidebar.markdown("**Hubs and candidates**")
existing = uploads.upload_points("Existing hubs (CSV or GeoJSON)", key="hub_existing",
                                help="name + longitude/latitude, easting/northing or postcode; optional type "
                                     "(jobcentre, library, GP surgery, family hub, youth hub, community centre, other), "
                                     "capacity, fixed (yes/no).")
generated = st.sidebar.multiselect("Candidate sites", ["stations", "priority-centroids"], default=["stations"],
                                   format_func={"stations": "Railway stations in the area",
                                                "priority-centroids": "Centres of priority LSOAs"}.get, key="hub_cands")
own = uploads.upload_points("Your own candidate sites (optional)", key="hub_candidates_file",
                            help="any list of places that could host a hub: libraries, family hubs, Jobcentres... "
                                 "name + longitude/latitude, easting/northing or postcode; optional type and capacity.")
mode = st.sidebar.selectbox("Mode", list(MODES), format_func=MODES.get, key="hub_mode")
minutes = st.sidebar.slider("Within (minutes)", 10, 90, 30, 5, key="hub_minutes")
model = st.sidebar.selectbox("Question", list(MODELS), format_func=MODELS.get, index=1, key="hub_model")
k = st.sidebar.number_input("k (new sites)", 1, 50, 5, key="hub_k", disabled=model in ("coverage", "lscp"))
capacity = st.sidebar.checkbox("Each hub serves at most its capacity", key="hub_capacity", disabled=model != "mclp",
                               help="uses the capacity column of the uploaded files (people; blank = no limit) and "
                                    "reports demand served, unmet demand and full hubs") and model == "mclp"

st.title(f"Hub planner: {md_text(area.name)}")
st.caption(f"Demand: {WEIGHTS[weight].lower()} of LSOAs in the {' and '.join(bands) or 'no'} "
           f"{agree(len(bands), 'band', 'bands')} of "
           f"{md_text(profile.name)}, at their population-weighted centres. Travel times are estimates.")
if model == "coverage" and existing is None:
    st.info("Coverage measures existing hubs: upload them in the sidebar, or choose a 'best sites' question.")
    st.stop()
if not bands:
    st.info("Choose at least one priority band.")
    st.stop()

request = requests.hubs_request(area, profile, bands=bands, weight=weight, existing=existing, generated=generated,
                                own=own, mode=mode, minutes=minutes, model=model, k=k, capacity=capacity)
try:
    result = cache.hub_plan(request)
except NothingToAddError as exc:
    st.info(md_text(str(exc)[0].upper() + str(exc)[1:] + "."))
    st.stop()
except WardscopeError as exc:
    st.error(str(exc))
    st.stop()
plan = result.data

summary = plan.coverage.summary
after = plan.result.after.summary if plan.result is not None else None
c1, c2, c3 = st.columns(3)
c1.metric("Priority demand within reach now", f"{summary['covered_pct']:.1f}%",
          help=f"{summary['covered_weight']:,.0f} of {summary['priority_weight']:,.0f}")
if after is not None:
    c2.metric("After the plan", f"{after['covered_pct']:.1f}%", delta=f"{after['covered_pct'] - summary['covered_pct']:+.1f} points")
    if hasattr(plan.result, "capacity_figures"):
        served = plan.result.capacity_figures()
        c3.metric("Served within capacity", f"{served['served_pct']:.1f}%",
                  help=f"{served['served_weight']:,.0f} served; {served['unmet_weight']:,.0f} unmet")
    else:
        c3.metric("Cold spots after", f"{after['cold_spots']}", delta=f"{after['cold_spots'] - summary['cold_spots']:+d}",
                  delta_color="inverse")
else:
    c2.metric("Cold spots", f"{summary['cold_spots']}")
    c3.metric("Priority areas covered by 2+ hubs", f"{summary['duplicated_areas']}")


def bullets(sentences: list[str]) -> None:
    """Each sentence as a bullet, starting with a capital."""
    for s in sentences:
        st.markdown(f"- {md_text(s[:1].upper() + s[1:])}")


bullets(plan.key_statements())
with st.expander("All figures, ready to quote"):
    bullets(plan.statements())

md, points = hub_map(store, area, plan)
col_map, col_side = st.columns([2.3, 1])
with col_map:
    from layers.mapview import folium_map

    outline = store.table("boundaries", "lad_outline", area.lad_codes)
    maps.show_map(folium_map(md, outline, points=points), key=f"hubs-{area.key}")
with col_side:
    maps.legend(md)
    st.caption("Circles: existing hubs kept by the plan (black) and the sites it adds (white with a red ring).")

if plan.result is not None:
    marginal = plan.result.marginal
    marginal = marginal[marginal["order"] > 0]
    if len(marginal):
        st.subheader("What each added site brings")
        chart = marginal.set_index("name")["added_pct_points"].rename("points of coverage added")
        st.bar_chart(chart, horizontal=True)
st.subheader("By district")
st.dataframe(readable_table(plan.table("districts"), plan.table_labels(), missing=plan.TABLE_MISSING),
             hide_index=True, width="stretch")
with st.expander("Sites"):
    st.dataframe(readable_table(plan.table("sites"), plan.table_labels(), missing=plan.TABLE_MISSING),
                 hide_index=True, width="stretch")
details.hub_exports(request, result)
for note in result.notes:
    st.caption(md_text(note))
sources.credits()
