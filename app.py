"""Wardscope: the Streamlit front door. `streamlit run app.py`

Pages live in app_pages/; they build requests, run the tasks (tasks/) and draw the results.
"""

import streamlit as st

st.set_page_config(page_title="Wardscope", page_icon=":material/map:", layout="wide")

from app_pages import setup  # noqa: E402  (set_page_config must come first)

# Less empty space above the title, so the map fits a 1366x768 screen.
st.html("<style>[data-testid=\"stMainBlockContainer\"],.block-container{padding-top:2.2rem;padding-bottom:1rem}</style>")

store = setup.app_store()  # the install page instead when the store is missing or damaged

pages = [
    st.Page("app_pages/explorer.py", title="Map explorer", icon=":material/map:", default=True),
    st.Page("app_pages/dashboard.py", title="District dashboard", icon=":material/table_chart:"),
    st.Page("app_pages/scoring.py", title="Priority scoring", icon=":material/tune:"),
    st.Page("app_pages/access.py", title="Transport access", icon=":material/directions_bus:"),
    st.Page("app_pages/hubs.py", title="Hub planner", icon=":material/hub:"),
    st.Page("app_pages/ward_profile.py", title="Ward profile", icon=":material/description:"),
    st.Page("app_pages/your_areas.py", title="Your areas and indicators", icon=":material/bookmark_add:"),
    st.Page("app_pages/about.py", title="About and sources", icon=":material/info:"),
]
from app_pages import state  # noqa: E402

state.apply_link(store)  # a link's area, level, profile, weights, layer and ward (once per session)
with setup.store_damage_shown():
    page = st.navigation(pages)
    state.show_link_notes()
    page.run()
    state.link_panel(page.url_path)
