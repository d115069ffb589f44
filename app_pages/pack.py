"""The councillor pack on the Ward profile page: every ward of the area as a PDF profile, in one zip.

The same pack as `python cli.py profile --area NAME` (:func:`tasks.profile.run_pack`), made when asked in a
background thread (:mod:`app_pages.pack_job`) with a progress bar that updates itself and a button that stops
it, so the visitor can use the app meanwhile. The session keeps one pack: choosing another area of interest or
profile (on any page) neither stops a pack being made nor drops a finished one; the page names the area it was
made for and offers the new area's pack beside it, which replaces it once made.
"""

from __future__ import annotations

import streamlit as st

from app_pages import requests
from app_pages.pack_job import PackJob, session_alive
from geo.escape import md_text
from geo.saved import slug
from geo.words import count_of

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
    """The section: the session's pack (its progress, or its download button), and a button that makes the
    pack of ``area`` on ``profile`` when there is none for them and none being made."""
    n = len(store.boundaries("ward", area.lad_codes))
    request = requests.pack_request(area, profile, out="")
    made_for = (store.generation, request)
    job = _collect()
    st.subheader("Councillor pack")
    stopped = st.session_state.pop(STOPPED, None)
    if stopped:
        st.info(f"The pack for {md_text(stopped)} was stopped.", icon=":material/info:")
    held = st.session_state.get(HELD)
    here = held is not None and held["for"] == made_for
    if job is not None:
        _progress()
        if job.made_for != made_for and not here:
            what = ("it again with the profile and weights chosen now" if job.made_for[1].area.name == area.name
                    else f"the pack for {md_text(area.name)}")
            st.caption(f"To make {what} now, stop this one first; or come back once it is ready.")
    if held is not None:
        st.download_button(f"Download the councillor pack{'' if here else ' for ' + _named(held['for'], made_for)} "
                           f"({held['wards']} wards, zip)", held["zip"],
                           file_name=f"ward-profiles-{slug(held['for'][1].area.name, max_len=60, fallback='area')}.zip",
                           mime="application/zip", key="pack-zip", on_click="ignore")
    if job is not None or here:
        return
    failed = st.session_state.get(FAILED)
    if failed is not None and failed["for"] == made_for:  # a failure for other settings is not this page's
        st.error(f"The pack could not be made: {md_text(failed['error'])}")
    if n > MAX_PACK_WARDS:
        st.caption(f"{md_text(area.name)} has {n:,} wards; a pack holds at most {MAX_PACK_WARDS}. "
                   "Choose a smaller area of interest, such as one district, for its pack.")
        return
    minutes = max(1, round(n * SECONDS_PER_WARD / 60))
    st.caption(f"One PDF profile for each of the {n} wards in {md_text(area.name)}, ranked on a contents page, "
               f"in one zip file (about {count_of(minutes, 'minute')} to make). You can go on "
               "using the app while it is made."
               + (" It replaces the pack above once it is ready." if held is not None else ""))
    if not st.button(f"Make the pack ({n} wards)", key="make-pack"):
        return
    st.session_state.pop(FAILED, None)
    st.session_state[JOB] = PackJob(request, store, made_for, n, alive=session_alive())
    st.rerun()  # the page without the button, so the pack cannot be asked for twice


def _named(kept_for, made_for) -> str:
    """The area a kept pack (or job) was made for, as Markdown, saying when it was made with other settings
    (profile, weights or data) than the page's ``made_for``."""
    name = md_text(kept_for[1].area.name)
    if kept_for[1].area.name == made_for[1].area.name and kept_for != made_for:
        return f"{name}, made with another profile, other weights or earlier data"
    return name


def _collect() -> PackJob | None:
    """The session's running pack, or None. A finished job's result is moved into the session: its zip
    (replacing any pack kept before), the reason it failed, or that it was stopped (said once)."""
    job = st.session_state.get(JOB)
    if job is None:
        return None
    if not job.finished:
        return job
    st.session_state.pop(JOB)
    if job.zip is not None:
        st.session_state[HELD] = {"for": job.made_for, "zip": job.zip, "wards": job.wards}
    elif job.error is not None:
        st.session_state[FAILED] = {"for": job.made_for, "error": job.error}
    else:
        st.session_state[STOPPED] = job.made_for[1].area.name
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
    if job.stopping:
        st.caption("Stopping at the end of this ward…")
        return
    st.caption(f"Making the pack for {md_text(job.made_for[1].area.name)}. You can use other pages meanwhile and "
               "come back here to download it.")
    st.button("Stop making the pack", key="stop-pack", on_click=job.cancel)
