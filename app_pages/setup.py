"""Shown instead of the app when no store is installed: how to install, and a button that does it."""

from __future__ import annotations

import streamlit as st

from geo.errors import WardscopeError
from geo.store import INSTALL_HINT
from tasks import install


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
        bar = st.progress(0.0, text="Starting install…")

        def progress(done: int, total: int, message: str) -> None:
            bar.progress(min(done / max(total, 1), 1.0), text=message)

        try:
            result = install.run(install.InstallRequest(), progress=progress)
        except WardscopeError as exc:  # shown to the user; the previous store is untouched
            st.error(f"Install failed: {exc}")
        else:
            st.success(f"Installed store {result.data['generation']}. Reloading…")
            st.rerun()
