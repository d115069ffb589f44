"""Files from the user, per session: the private upload folder and points files through the upload gate.

A parsed upload is kept once per process by a hash of its content (never by file name), so a rerun does not
parse it again and one session can never be handed another's file.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.contentcache import ContentCache, content_key
from geo.errors import WardscopeError
from geo.escape import md_text
from geo.words import count_of


@st.cache_resource(show_spinner=False)
def _startup_checks() -> str | None:
    """Once per process: remove session folders left by crashed processes; check the upload limits agree."""
    from geo import config
    from geo.workspace import sweep_stale

    sweep_stale()
    return config.streamlit_upload_limit_problem(st.get_option("server.maxUploadSize"))


@st.cache_resource(show_spinner=False)
def parsed() -> ContentCache:
    """Parsed uploads, shared by every session and keyed by their content (:mod:`geo.contentcache`)."""
    return ContentCache(max_entries=32)


def workspace():
    """This session's private upload folder (removed when the session object goes)."""
    from geo.workspace import SessionWorkspace

    problem = _startup_checks()
    if problem:
        st.warning(problem)
    ws = st.session_state.get("workspace")
    if ws is None or not ws.path.exists():
        ws = SessionWorkspace()
        st.session_state["workspace"] = ws
    return ws


def upload_points(label: str, *, key: str, help: str | None = None, where=None):
    """A points file (CSV or GeoJSON: name + lon/lat, easting/northing or postcode) through the upload gate.

    Returns the sites layer (EPSG:27700) or None; problems are shown, never raised.
    """
    from geo import config
    from geo.employment_sites import read_sites, sites_from_frame
    from geo.upload.gate import TABLE_KINDS, accept_upload, read_table_upload

    where = where or st.sidebar
    file = where.file_uploader(label, type=None, key=key, help=help, max_upload_size=config.max_upload_mb())
    if file is None:
        return None
    def read(up):
        if up.kind == "csv":
            table = read_table_upload(up)
            return sites_from_frame(table, source=up.name)
        return read_sites(up.path)

    try:
        up = accept_upload(file.name, file, workspace=workspace(), kinds=TABLE_KINDS | {"geojson"})
        # by content and name (the name is in the sites' messages and source), never by name alone
        sites = parsed().get_or_compute(content_key("points", up, up.name), lambda: read(up))
    except WardscopeError as exc:
        where.error(str(exc))
        problems = getattr(exc, "problems", None)
        if problems:
            where.dataframe(pd.DataFrame(problems), hide_index=True, width="stretch")
        return None
    where.caption(f"{md_text(up.name)}: {count_of(len(sites), 'site')} read")
    return sites
