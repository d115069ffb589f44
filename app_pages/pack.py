"""The councillor pack on the Ward profile page: every ward of the area as a PDF profile, in one zip.

The same pack as `python cli.py profile --area NAME` (:func:`tasks.profile.run_pack`), made when asked,
with a progress bar, and kept for the session (one pack at a time) so the download survives the page
being redrawn.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import streamlit as st

from app_pages import requests
from geo.errors import WardscopeError
from geo.escape import md_text
from geo.saved import slug

#: More wards than this take too long for one page visit: choose a smaller area.
MAX_PACK_WARDS = 150
#: A ward's profile PDF: Luton's 20 wards took 35 s on a quiet 2-core machine (`cli.py profile --area Luton`),
#: 108 s on a busy one (bench/bench_app.py, ward_pack_luton).
SECONDS_PER_WARD = 2
HELD = "councillor_pack"


def councillor_pack(store, area, profile) -> None:
    """The section: how many wards, a button that makes the pack, then its download button."""
    from tasks.profile import run_pack

    n = len(store.boundaries("ward", area.lad_codes))
    st.subheader("Councillor pack")
    if n > MAX_PACK_WARDS:
        st.caption(f"{md_text(area.name)} has {n:,} wards; a pack holds at most {MAX_PACK_WARDS}. "
                   "Choose a smaller area of interest, such as one district, for its pack.")
        return
    request = requests.pack_request(area, profile, out="")
    made_for = (store.generation, request)
    held = st.session_state.get(HELD)
    if held is not None and held["for"] != made_for:
        st.session_state.pop(HELD)  # another area, profile or store: that pack is not this page's
        held = None
    if held is None:
        minutes = max(1, round(n * SECONDS_PER_WARD / 60))
        st.caption(f"One PDF profile for each of the {n} wards in {md_text(area.name)}, ranked on a contents page, "
                   f"in one zip file (about {minutes} minute{'s' if minutes > 1 else ''} to make; changing anything "
                   "on the page while it is being made stops it).")
        if not st.button(f"Make the pack ({n} wards)", key="make-pack"):
            return
        bar = st.progress(0.0, text="Starting…")

        def progress(done: int, total: int, message: str) -> None:
            bar.progress(min(done / max(total, 1), 1.0), text=f"{done} of {total}: {md_text(message)}")

        try:
            with tempfile.TemporaryDirectory() as folder:
                out = Path(folder) / "pack.zip"
                run_pack(replace(request, out=str(out)), store, progress=progress)
                held = {"for": made_for, "zip": out.read_bytes(), "wards": n}
        except WardscopeError as exc:
            st.error(f"The pack could not be made: {md_text(str(exc))}")
            return
        finally:
            bar.empty()
        st.session_state[HELD] = held
    st.download_button(f"Download the councillor pack ({held['wards']} wards, zip)", held["zip"],
                       file_name=f"ward-profiles-{slug(area.name, max_len=60, fallback='area')}.zip",
                       mime="application/zip", key="pack-zip", on_click="ignore")
