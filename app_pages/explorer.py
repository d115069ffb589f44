"""Map explorer: an area of interest's wards and LSOAs on a map."""

import streamlit as st
from streamlit_folium import st_folium

from app_pages import common
from geo.layers import area_layers
from geo.webmap import PolygonLayer, PolygonStyle, add_polygons, base_map

store = common.get_store()
area = common.area_picker(store)
level = st.sidebar.radio("Level", ["ward", "lsoa"], format_func={"ward": "Wards", "lsoa": "LSOAs (2021)"}.get,
                         horizontal=True, key="level")

st.title(f"{area.name}")
layers = area_layers(area, store)
n = len(layers[level])
st.caption(f"{len(area.lad_codes)} district(s), {len(layers['ward'])} wards, {len(layers['lsoa'])} LSOAs.")

fmap = base_map(tuple(layers["lad"].total_bounds))
add_polygons(fmap, PolygonLayer(layers[level], level, tooltip=[("", "name"), ("Code", "code"), ("District", "lad_name")],
                                properties=["code"], style=PolygonStyle(color="#1f5f8b", weight=0.8, fill_opacity=0.05)))
outline = store.table("boundaries", "lad_outline", area.lad_codes)
add_polygons(fmap, PolygonLayer(outline, "lad", properties=[], style=PolygonStyle(color="#111111", weight=2.2, interactive=False)))
st_folium(fmap, height=560, use_container_width=True, returned_objects=["last_active_drawing"], key=f"map-{area.key}-{level}")
common.credits()
