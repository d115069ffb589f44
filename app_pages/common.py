"""Shared pieces for the app's pages: the store, the area picker, credits.

Streamlit caches live here (never in geo/ or layers/): the store is loaded
once per process and shared read-only between sessions.
"""

from __future__ import annotations

import streamlit as st

from geo.areas import Area, list_areas
from geo.errors import StoreNotInstalled
from geo.store import INSTALL_HINT, Store


@st.cache_resource(show_spinner="Loading the boundary store…")
def _load_store(generation_key: str) -> Store:
    return Store().preload()


def get_store() -> Store | None:
    """The installed store (shared by every session), or None when nothing is installed."""
    try:
        generation = Store().generation  # cheap: reads store.json only
    except StoreNotInstalled:
        return None
    return _load_store(generation)


def install_page() -> None:
    """Shown instead of the app when no store is installed."""
    st.title("Wardscope is not set up yet")
    st.error("No data store is installed, so there is nothing to map yet.")
    st.markdown(
        "Install the boundaries and indicators once, from a terminal in the Wardscope folder:\n\n"
        f"```bash\n{INSTALL_HINT}\n```\n\n"
        "It reads a local mirror (`--from DIR`, `$WARDSCOPE_MIRROR` or `../shared/data`) or, "
        "when there is none, downloads from ONS, Nomis and MHCLG. Then reload this page."
    )
    if st.button("Install now from the default source"):
        from layers.install import install

        bar = st.progress(0.0, text="Starting install…")

        def progress(done: int, total: int, message: str) -> None:
            bar.progress(min(done / max(total, 1), 1.0), text=message)

        try:
            manifest = install(progress=progress)
        except Exception as exc:  # shown to the user; the previous store is untouched
            st.error(f"Install failed: {exc}")
        else:
            st.success(f"Installed store {manifest['generation']}. Reloading…")
            st.rerun()


def area_picker(store: Store, *, key: str = "area") -> Area:
    """Sidebar choice of an area of interest (presets first, then every district)."""
    areas = list_areas(store.districts())
    labels = [a.name if a.kind != "district" else f"{a.name} (district)" for a in areas]
    default = labels.index("South Midlands") if "South Midlands" in labels else 0
    choice = st.sidebar.selectbox("Area of interest", labels, index=default, key=key,
                                  help="Presets group several districts; every district is also listed by itself.")
    return areas[labels.index(choice)]


ONS_CREDIT = ("Source: Office for National Statistics licensed under the Open Government Licence v3.0. "
              "Contains OS data © Crown copyright and database right 2024.")


def credits() -> None:
    st.caption(ONS_CREDIT + " Base map © OpenStreetMap contributors © CARTO. See *About and sources*.")
