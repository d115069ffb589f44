"""Shown instead of the app when no store is installed or it is damaged: how to install, and a button that does it."""

from __future__ import annotations

import contextlib

import streamlit as st

from app_pages.cache import get_store
from geo.errors import StoreDamaged, WardscopeError
from geo.store import INSTALL_HINT, Store
from geo.storecheck import PREDATES


def app_store() -> Store:
    """The store for app.py; stops the script with the install page when there is none or it is damaged."""
    try:
        store = get_store()
    except StoreDamaged as exc:
        install_page(problem=str(exc))
        st.stop()
    if store is None:
        install_page()
        st.stop()
    if not store.checksums:
        st.sidebar.warning(f"{PREDATES[:1].upper()}{PREDATES[1:]}.", icon=":material/warning:")
    return store


@contextlib.contextmanager
def store_damage_shown():
    """Show a store file found damaged while a page runs as one line (never a traceback)."""
    try:
        yield
    except StoreDamaged as exc:
        st.error(str(exc))


def install_page(problem: str | None = None) -> None:
    """Shown instead of the app when no store is installed, or (``problem``) when the installed one is damaged."""
    if problem:
        st.title("Wardscope's data store needs repairing")
        st.error(problem)
        verb = "Reinstall"
    else:
        st.title("Wardscope is not set up yet")
        st.error("No data store is installed, so there is nothing to map yet.")
        verb = "Install"
    st.markdown(
        f"{verb} the boundaries and indicators, from a terminal in the Wardscope folder:\n\n"
        f"```bash\n{INSTALL_HINT}\n```\n\n"
        "It reads a local mirror (`--from DIR`, `$WARDSCOPE_MIRROR` or `../shared/data`) or, "
        "when there is none, downloads from ONS, Nomis and MHCLG. Then reload this page."
    )
    if st.button("Install now from the default source"):
        bar = st.progress(0.0, text="Starting install…")

        def progress(done: int, total: int, message: str) -> None:
            bar.progress(min(done / max(total, 1), 1.0), text=message)

        from tasks import install  # the installer is imported only when asked for

        try:
            # another install running: say so at once
            result = install.run(install.InstallRequest(wait_s=0), progress=progress)
        except WardscopeError as exc:  # shown to the user; the previous store is untouched
            st.error(f"Install failed: {exc}")
        else:
            st.success(f"Installed store {result.data['generation']}. Reloading…")
            st.rerun()
