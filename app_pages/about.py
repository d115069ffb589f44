"""About Wardscope and the data it uses, with the attributions their licences require."""

import streamlit as st

from app_pages import common

store = common.get_store()
st.title("About Wardscope and its data")
st.markdown(
    "Wardscope shows where employment support is most needed, neighbourhood by neighbourhood, "
    "for any English area. Boundaries are generalised for mapping (ONS BSC, 200 m; districts BUC, 500 m)."
)
rows = []
for key, ds in sorted(store.manifest.get("datasets", {}).items()):
    rows.append({"dataset": ds.get("title", key), "publisher": ds.get("publisher"), "vintage": ds.get("vintage"),
                 "licence": ds.get("licence"), "rows": ds.get("rows"), "attribution": ds.get("attribution")})
st.subheader("Sources in this installation")
st.dataframe(rows, hide_index=True, width="stretch")
st.caption(f"Store generation {store.generation}, installed {store.manifest.get('installed_at')} from {store.manifest.get('source')}.")
for note in store.manifest.get("notes", []):
    st.info(note)
common.credits()
