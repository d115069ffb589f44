"""The session's priority score: its request from the sticky choices, and its cached result (or the problem)."""

from __future__ import annotations

import streamlit as st

from app_pages import cache, requests, state
from geo.errors import WardscopeError
from layers.robustness import DEFAULT_DRAWS


def current_request(store, area, level: str, draws: int = DEFAULT_DRAWS):
    """The score this session asks for: its profile, and its sites' access when the user added it."""
    access = state.access_in_score()
    sites = state.session_sites(store) if access else None
    users = st.session_state.get(f"user_in_profile::{level}", ())
    return requests.score_request(area, level, state.current_profile(), draws, access, sites, users)


def score_or_stop(request):
    """The cached score; a profile that cannot be used stops the page with its message."""
    try:
        return cache.scored(request)
    except WardscopeError as exc:
        st.error(f"This profile cannot be scored here: {exc}")
        st.stop()
