"""Your areas and indicators: save or delete an area of interest, add your own indicator from a CSV.

Both are saved on this installation, so everyone who uses it sees them. They have a page of their own
rather than sidebar panels: the forms get the room they need, and the map pages stay light to open.
"""

import streamlit as st

from app_pages import cache, saved_panels, sources

store = cache.get_store()
st.title("Your areas and indicators")
st.caption("What you save here is kept on this installation: everyone who uses it can choose it, "
           "in the app and on the command line.")
col_areas, col_own = st.columns(2, gap="large")
with col_areas:
    saved_panels.area_forms(store)
with col_own:
    saved_panels.user_indicator_form()
sources.credits()
