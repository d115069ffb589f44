"""The councillor pack on the Ward profile page: every ward of the area as a PDF profile, in one zip.

The same pack as `python cli.py profile --area NAME` (:func:`tasks.profile.run_pack`), made when asked in a
background thread (:mod:`app_pages.pack_job`) with a progress bar that updates itself, so the visitor can use
the app meanwhile, and kept for the session (one pack at a time) so the download survives the page being
redrawn. A pack made for another area or profile is dropped (and a running one stopped) when this page is
next drawn; the area picker on other pages does not reach a running pack until then.
"""

from __future__ import annotations

import streamlit as st

from app_pages import requests
from app_pages.pack_job import PackJob, session_alive
from geo.escape import md_text
from geo.saved import slug

#: More wards than this take too long to wait for: choose a smaller area.
MAX_PACK_WARDS = 150
#: A ward's profile PDF: Luton's 20 wards took 22-35 s on a quiet 2-core machine (`cli.py profile --area Luton`),
#: 108 s on a busy one (bench/bench_app.py, ward_pack_luton).
SECONDS_PER_WARD = 2
HELD, JOB, FAILED, STOPPED = ("councillor_pack", "councillor_pack_job", "councillor_pack_failed",
                              "councillor_pack_stopped")
#: Seconds between the progress bar's own updates while a pack is being made.
POLL_S = 1.0


def councillor_pack(store, area, profile) -> None:
    """The section: how many wards, a button that starts the pack, its progress, then its download button."""
    n = len(store.boundaries("ward", area.lad_codes))
    request = requests.pack_request(area, profile, out="")
    made_for = (store.generation, request)
    job = _collect(made_for)
    st.subheader("Councillor pack")
    stopped = st.session_state.pop(STOPPED, None)
    if stopped:
        st.info(f"The pack for {md_text(stopped)} was stopped: the area of interest or the profile changed.",
                icon=":material/info:")
    if n > MAX_PACK_WARDS:
        st.caption(f"{md_text(area.name)} has {n:,} wards; a pack holds at most {MAX_PACK_WARDS}. "
                   "Choose a smaller area of interest, such as one district, for its pack.")
        return
    held = st.session_state.get(HELD)
    if held is not None:
        st.download_button(f"Download the councillor pack ({held['wards']} wards, zip)", held["zip"],
                           file_name=f"ward-profiles-{slug(area.name, max_len=60, fallback='area')}.zip",
                           mime="application/zip", key="pack-zip", on_click="ignore")
        return
    if job is None:
        failed = st.session_state.get(FAILED)
        if failed is not None:
            st.error(f"The pack could not be made: {md_text(failed['error'])}")
        minutes = max(1, round(n * SECONDS_PER_WARD / 60))
        st.caption(f"One PDF profile for each of the {n} wards in {md_text(area.name)}, ranked on a contents page, "
                   f"in one zip file (about {minutes} minute{'s' if minutes > 1 else ''} to make). You can go on "
                   "using the app while it is made; choosing another area of interest or profile on this page "
                   "stops it.")
        if not st.button(f"Make the pack ({n} wards)", key="make-pack"):
            return
        st.session_state.pop(FAILED, None)
        st.session_state[JOB] = PackJob(request, store, made_for, n, alive=session_alive())
        st.rerun()  # the page without the button, so the pack cannot be asked for twice
    _progress()


def _collect(made_for) -> PackJob | None:
    """The session's running pack for ``made_for``, or None. A finished job's result is moved into the session
    (the zip, or the reason it failed); a job, pack or failure made for anything else is dropped (a running
    job is cancelled, and the page says so once)."""
    for kept in (HELD, FAILED):
        if kept in st.session_state and st.session_state[kept]["for"] != made_for:
            st.session_state.pop(kept)
    job = st.session_state.get(JOB)
    if job is None:
        return None
    if job.made_for != made_for:
        job.cancel()
        st.session_state.pop(JOB)
        if not job.finished:
            st.session_state[STOPPED] = job.made_for[1].area.name
        return None
    if not job.finished:
        return job
    st.session_state.pop(JOB)
    if job.zip is not None:
        st.session_state[HELD] = {"for": made_for, "zip": job.zip, "wards": job.wards}
    elif job.error is not None:
        st.session_state[FAILED] = {"for": made_for, "error": job.error}
    return None


@st.fragment(run_every=POLL_S)
def _progress() -> None:
    """The pack's progress bar, redrawn on its own every :data:`POLL_S`; the whole page once the pack is ready."""
    job = st.session_state.get(JOB)
    if job is None:
        return
    if job.finished:
        st.rerun()  # the page again: its download button (or the reason there is none)
    st.progress(min(job.done / max(job.total, 1), 1.0), text=f"{job.done} of {job.total}: {md_text(job.message)}")
    st.caption("Making the pack. You can use other pages meanwhile and come back here to download it.")
