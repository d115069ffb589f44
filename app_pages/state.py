"""Choices that follow the user from page to page: area, level, profile and its weights (session state)."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from geo.areas import Area
from geo.store import Store
from tasks.areas import choices

LEVELS = {"ward": "Wards (2024)", "lsoa": "LSOAs (2021)"}
PROFILE_NAMES = {"neighbourhood": "Neighbourhood-level priority", "multi-agency": "Multi-agency priority"}
#: The area and profile every page opens on until the user (or a link) chooses others.
DEFAULT_AREA = "South Midlands"
DEFAULT_PROFILE = "neighbourhood"


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
    choice = sticky_choice(st.sidebar, "Area of interest", labels, "area", DEFAULT_AREA,
                           help="Presets group several districts; every district is also listed by itself. "
                                "Make your own on the page *Your areas and indicators*.")
    return areas[labels.index(choice)]


def level_picker() -> str:
    return sticky_choice(st.sidebar, "Level", list(LEVELS), "level", "ward", radio=True, format_func=LEVELS.get,
                         horizontal=True)


def current_profile():
    """The profile chosen in this session, with the session's weights and method applied."""
    from layers.profiles import load_profile

    name = profile_key()
    custom = st.session_state.get("custom_profiles", {})
    profile = custom[name] if name in custom else load_profile(name if name in PROFILE_NAMES else DEFAULT_PROFILE)
    weights = st.session_state.get(f"weights::{name}")
    if weights:
        profile = profile.with_weights(weights)
    method = st.session_state.get(f"method::{name}")
    if method:
        profile = replace(profile, normalisation=method)
    return profile


def profile_key() -> str:
    """The session's key for its current profile (a shipped name, ``saved:...`` or ``upload:...``)."""
    return st.session_state.get("profile_name", DEFAULT_PROFILE)


def profile_picker() -> None:
    custom = st.session_state.get("custom_profiles", {})
    options = list(PROFILE_NAMES) + [k for k in custom if k not in PROFILE_NAMES]
    sticky_choice(st.sidebar, "Priority profile", options, "profile_name", DEFAULT_PROFILE,
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


def _area_label(area: Area) -> str:
    return area.name if area.kind != "district" else f"{area.name} (district)"


def _profile_weights() -> dict:
    from layers.profiles import load_profile

    return {name: {i.id: i.weight for i in load_profile(name).indicators} for name in PROFILE_NAMES}


def apply_link(store: Store) -> None:
    """Once per session: take the choices a link carries (st.query_params) into the session's state.

    What cannot be applied is kept as a note (:func:`link_notes`); a bad link never raises.
    """
    if st.session_state.get("link_applied"):
        return
    st.session_state["link_applied"] = True
    params = {k: st.query_params.get_all(k) for k in st.query_params.keys()}
    if not params:
        return
    from app_pages import cache, links
    from geo.areas import resolve_area
    from layers.mapview import SCORE_LAYERS

    districts = store.districts()
    wards = store.boundaries("ward")[["code", "lad_code"]]
    default = next((a for a in choices(store) if a.name == DEFAULT_AREA), None)
    got = links.parse_link(params, resolve_area=lambda text: resolve_area(text, districts), levels=tuple(LEVELS),
                           profiles=_profile_weights(), layers=tuple(SCORE_LAYERS), indicators=tuple(cache.registry()),
                           wards_of=lambda a: set(wards.loc[wards["lad_code"].isin(a.lad_codes), "code"]),
                           default_area=default)
    if got.area is not None:
        set_choice("area", _area_label(got.area))
    if got.level:
        set_choice("level", got.level)
    if got.profile:
        set_choice("profile_name", got.profile)
    if got.weights:
        name = got.profile or DEFAULT_PROFILE
        st.session_state[f"weights::{name}"] = {**_profile_weights()[name], **got.weights}
    if got.layer:
        st.session_state["explorer_show"], st.session_state["explorer_layer"] = "Priority", got.layer
    if got.indicator:
        st.session_state["explorer_show"], st.session_state["explorer_indicator"] = "Indicator", got.indicator
    if got.ward:
        set_choice("profile_ward", got.ward)
    st.session_state["link_notes"] = got.notes


def show_link_notes() -> None:
    """Say, once, what the opening link could not apply."""
    from geo.escape import md_text

    for note in st.session_state.pop("link_notes", []):
        st.warning(md_text(note), icon=":material/link_off:")


def write_link(page_path: str) -> str:
    """Put the current view's choices in the URL (st.query_params) and return the full link."""
    from urllib.parse import urlencode

    from app_pages import links

    name = profile_key()
    shipped = _profile_weights()
    profile = name if name in shipped else DEFAULT_PROFILE
    params = links.link_params(
        area=str(st.session_state.get("area", DEFAULT_AREA)).removesuffix(" (district)"),
        level=st.session_state.get("level", "ward"), profile=profile,
        weights=st.session_state.get(f"weights::{profile}", {}) if name in shipped else {},
        default_weights=shipped[profile],
        layer=st.session_state.get("explorer_layer") if page_path == "" and
        st.session_state.get("explorer_show", "Priority") == "Priority" else None,
        indicator=st.session_state.get("explorer_indicator") if page_path == "" and
        st.session_state.get("explorer_show") == "Indicator" else None,
        ward=st.session_state.get("profile_ward") if page_path == "ward_profile" else None)
    if {k: st.query_params.get(k) for k in st.query_params.keys()} != params:
        st.query_params.from_dict(params)
    base = (st.context.url or "").split("?")[0]
    return f"{base}?{urlencode(params)}"


def link_panel(page_path: str) -> None:
    """The sidebar's 'Copy link' popover: the link to this view, with Streamlit's copy-to-clipboard button."""
    url = write_link(page_path)
    with st.sidebar.popover("Copy link", icon=":material/link:", help="A link that opens this view"):
        st.caption("Use the copy button at the right of the link, then paste it in an email or a note.")
        st.code(url, language=None, wrap_lines=True)
