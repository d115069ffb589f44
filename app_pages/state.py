"""Choices that follow the user from page to page: area, level, profile and its weights (session state)."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from geo.areas import Area
from geo.store import Store
from tasks.areas import choices

LEVELS = {"ward": "Wards (2024)", "lsoa": "LSOAs (2021)"}
PROFILE_NAMES = {"neighbourhood": "Neighbourhood-level priority", "multi-agency": "Multi-agency priority"}


def sticky_choice(where, label: str, options: list, state_key: str, default, *, radio: bool = False, **kwargs):
    """A selectbox or radio whose choice follows the user from page to page.

    Streamlit forgets a widget's value when another page draws it, so the
    choice is kept under ``state_key`` (not a widget key) and handed back as
    the widget's starting value. Call :func:`set_choice` to change it from code.
    """
    current = st.session_state.get(state_key, default)
    if current not in options:
        current = default if default in options else options[0]
    widget = where.radio if radio else where.selectbox
    choice = widget(label, options, index=options.index(current), key=f"w:{state_key}", **kwargs)
    st.session_state[state_key] = choice
    return choice


def set_choice(state_key: str, value) -> None:
    """Change a :func:`sticky_choice` from code (the widget picks it up on the next run)."""
    st.session_state[state_key] = value
    st.session_state.pop(f"w:{state_key}", None)


def area_picker(store: Store) -> Area:
    """Sidebar choice of an area of interest (presets first, then every district); shared by all pages."""
    areas = choices(store)
    labels = [a.name if a.kind != "district" else f"{a.name} (district)" for a in areas]
    choice = sticky_choice(st.sidebar, "Area of interest", labels, "area", "South Midlands",
                           help="Presets group several districts; every district is also listed by itself.")
    return areas[labels.index(choice)]


def level_picker() -> str:
    return sticky_choice(st.sidebar, "Level", list(LEVELS), "level", "ward", radio=True, format_func=LEVELS.get,
                         horizontal=True)


def current_profile():
    """The profile chosen in this session, with the session's weights and method applied."""
    from layers.profiles import load_profile

    name = profile_key()
    custom = st.session_state.get("custom_profiles", {})
    profile = custom[name] if name in custom else load_profile(name if name in PROFILE_NAMES else "neighbourhood")
    weights = st.session_state.get(f"weights::{name}")
    if weights:
        profile = profile.with_weights(weights)
    method = st.session_state.get(f"method::{name}")
    if method:
        profile = replace(profile, normalisation=method)
    return profile


def profile_key() -> str:
    """The session's key for its current profile (a shipped name, ``saved:...`` or ``upload:...``)."""
    return st.session_state.get("profile_name", "neighbourhood")


def profile_picker() -> None:
    custom = st.session_state.get("custom_profiles", {})
    options = list(PROFILE_NAMES) + [k for k in custom if k not in PROFILE_NAMES]
    sticky_choice(st.sidebar, "Priority profile", options, "profile_name", "neighbourhood",
                  format_func=lambda k: PROFILE_NAMES.get(k, custom[k].name if k in custom else k))


def use_profile(profile, key: str) -> None:
    """Make ``profile`` this session's current profile (kept in the session only)."""
    custom = st.session_state.setdefault("custom_profiles", {})
    custom[key] = profile
    set_choice("profile_name", key)
    # the profile's own weights and method win over any slider left from an earlier profile
    for name in [k for k in st.session_state if str(k).startswith((f"w::{key}::", f"m::{key}"))]:
        del st.session_state[name]
    st.session_state.pop(f"weights::{key}", None)
    st.session_state.pop(f"method::{key}", None)


def session_sites(store):
    """This session's employment sites (the sample until the user uploads, edits or loads a list)."""
    from geo.employment_sites import sample_sites

    sites = st.session_state.get("sites")
    return sample_sites(store) if sites is None else sites


def access_in_score():
    """(mode, weight) when the user added minutes to the nearest site to the score, else None."""
    return st.session_state.get("access_in_profile")
