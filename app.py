"""Wardscope: the Streamlit front door. `streamlit run app.py`

Pages live in app_pages/; all logic is in geo/ and layers/.
"""

import streamlit as st

st.set_page_config(page_title="Wardscope", page_icon=":material/map:", layout="wide")

from app_pages import common  # noqa: E402  (set_page_config must come first)

store = common.get_store()
if store is None:
    common.install_page()
    st.stop()

pages = [
    st.Page("app_pages/explorer.py", title="Map explorer", icon=":material/map:", default=True),
    st.Page("app_pages/about.py", title="About and sources", icon=":material/info:"),
]
st.navigation(pages).run()
