"""Shared pieces for the app's pages: the store, caches, pickers, legend, map and credits.

Streamlit caches live here (never in geo/ or layers/). The store and the
national indicator tables are loaded once per process and shared read-only
by every session (st.cache_resource); scores are cached by their inputs
(st.cache_data: the profile's YAML text, the area, the level), so one session
never sees another's data. Encoded map geometry (public boundaries only) is
memoised per process in geo.webmap.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.areas import Area, list_areas
from geo.errors import StoreDamaged, StoreNotInstalled, WardscopeError
from geo.escape import html_attr, html_text, md_text
from geo.store import INSTALL_HINT, Store
from geo.storecheck import PREDATES

LEVELS = {"ward": "Wards (2024)", "lsoa": "LSOAs (2021)"}
MAP_HEIGHT = 540


@st.cache_resource(show_spinner="Loading the boundary store…")
def _load_store(root: str, generation_key: str) -> Store:
    # Every file is hashed against store.json once per process and generation, before any page draws
    # (geo.storecheck), so a damaged file never reaches a figure.
    return Store(Path(root)).check_all().preload()


def get_store() -> Store | None:
    """The installed store (shared by every session), or None when nothing is installed.

    Raises StoreDamaged (a file missing, truncated or changed since install); :func:`app_store` shows it.
    """
    try:
        store = Store()  # cheap: reads store.json and stats every file
    except StoreNotInstalled:
        return None
    return _load_store(str(store.root), store.generation)


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


@st.cache_resource(show_spinner=False)
def registry() -> dict:
    from layers.registry import load_registry

    return load_registry()


@st.cache_resource(show_spinner="Computing indicators for England…")
def national_table(generation_key: str, level: str) -> pd.DataFrame:
    """Every installed indicator for every area of ``level`` in England (shared, read-only)."""
    from layers.indicators import available, indicator_table

    store = get_store()
    return indicator_table(level, None, available(level, store=store), store=store)


def table_for(store: Store, level: str) -> pd.DataFrame:
    return national_table(store.generation, level)


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
        from layers.install import install

        bar = st.progress(0.0, text="Starting install…")

        def progress(done: int, total: int, message: str) -> None:
            bar.progress(min(done / max(total, 1), 1.0), text=message)

        try:
            manifest = install(progress=progress, wait_s=0)  # another install running: say so at once
        except WardscopeError as exc:  # shown to the user; the previous store is untouched
            st.error(f"Install failed: {exc}")
        else:
            st.success(f"Installed store {manifest['generation']}. Reloading…")
            st.rerun()


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
    areas = list_areas(store.districts())
    labels = [a.name if a.kind != "district" else f"{a.name} (district)" for a in areas]
    choice = sticky_choice(st.sidebar, "Area of interest", labels, "area", "South Midlands",
                           help="Presets group several districts; every district is also listed by itself.")
    return areas[labels.index(choice)]


def level_picker() -> str:
    return sticky_choice(st.sidebar, "Level", list(LEVELS), "level", "ward", radio=True, format_func=LEVELS.get,
                         horizontal=True)


def legend(md) -> None:
    """Colour key with units, and the layer's caveat right beside it."""
    rows = "".join(
        f'<div style="display:flex;align-items:center;margin:2px 0">'
        f'<span style="width:18px;height:14px;background:{html_attr(c)};border:1px solid #777;display:inline-block;margin-right:8px"></span>'
        f'<span style="font-size:0.85rem">{html_text(text)}</span></div>'
        for c, text in md.classes.legend)
    st.markdown(f'<div style="font-weight:600;font-size:0.9rem;margin-bottom:4px">{html_text(md.title)}</div>{rows}',
                unsafe_allow_html=True)
    if md.caveat:
        st.warning(md_text(md.caveat), icon=":material/info:")
    for note in md.notes:
        st.caption(md_text(note))


def show_map(fmap, *, key: str) -> str | None:
    """Draw a Leaflet map; returns the GSS code of the area the user clicked, if any.

    Only clicks come back to Python (not pans or zooms), so moving the map
    does not rerun the page.
    """
    out = st_folium(fmap, height=MAP_HEIGHT, use_container_width=True, returned_objects=["last_active_drawing"], key=key)
    drawing = (out or {}).get("last_active_drawing") or {}
    code = (drawing.get("properties") or {}).get("code")
    return code


ONS_CREDIT = ("Source: Office for National Statistics licensed under the Open Government Licence v3.0. "
              "Contains OS data © Crown copyright and database right 2024.")
MHCLG_CREDIT = ("Contains public sector information licensed under the Open Government Licence v3.0 "
                "(MHCLG, English Indices of Deprivation 2019 and 2025).")


def credits() -> None:
    st.caption(f"{ONS_CREDIT} {MHCLG_CREDIT} Base map © OpenStreetMap contributors © CARTO. "
               "Railway stations © uk-railway-stations and Trainline EU, ODbL 1.0. See *About and sources*.")


# -- priority scoring shared by pages ---------------------------------------------------------

PROFILE_NAMES = {"neighbourhood": "Neighbourhood-level priority", "multi-agency": "Multi-agency priority"}


def current_profile():
    """The profile chosen in this session, with the session's weights and method applied."""
    from dataclasses import replace

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


@st.cache_data(max_entries=64, show_spinner="Scoring areas…")
def cached_score(generation: str, profile_yaml: str, level: str, area_name: str, lad_codes: tuple, sensitivity: int,
                 seed: int = 20251127, extra_key: str = "", _extra=None):
    """Score an area with a profile (keyed by the profile's YAML text, so any weight change re-scores).

    ``_extra`` is (table, registry entries) of session indicators (access minutes), identified by ``extra_key``.
    """
    from layers.indicators import available
    from layers.profiles import parse_profile_text
    from layers.scoring import score_table

    profile = parse_profile_text(profile_yaml, "profile")
    store = get_store()
    table = table_for(store, level)
    extra, extra_registry = _extra if _extra else (None, None)
    return score_table(table, profile, Area(area_name, lad_codes, "preset"), level, registry(),
                       set(available(level, store=store)), sensitivity=sensitivity, seed=seed,
                       extra=extra, extra_registry=extra_registry)


def score_current(store: Store, area: Area, level: str, sensitivity: int = 200):
    """The session's profile scored for an area; a profile that cannot be used stops the page with its message."""
    from layers.profiles import profile_yaml

    profile, extra_key, extra = with_access(current_profile(), store, area, level)
    return score_or_stop(profile_yaml(profile), store, area, level, sensitivity, extra_key, extra)


def score_or_stop(profile_text: str, store: Store, area: Area, level: str, sensitivity: int, extra_key: str = "",
                  extra=None):
    try:
        return cached_score(store.generation, profile_text, level, area.name, tuple(area.lad_codes), sensitivity,
                            extra_key=extra_key, _extra=extra)
    except WardscopeError as exc:
        st.error(f"This profile cannot be scored here: {exc}")
        st.stop()


def with_access(profile, store: Store, area: Area, level: str):
    """The profile plus this session's access indicator when the user added it: (profile, key, extra)."""
    from dataclasses import replace

    choice = st.session_state.get("access_in_profile")
    if not choice:
        return profile, "", None
    mode, weight = choice
    from geo.sites import sample_sites, sites_table
    from layers.access import access_indicators, access_layer
    from layers.profiles import ProfileIndicator

    sites = st.session_state.get("sites")
    sites = sample_sites(store) if sites is None else sites
    key = hashlib.sha256((sites_table(sites).to_csv(index=False) + mode + level + area.name).encode()).hexdigest()
    cache = st.session_state.setdefault("access_indicator_cache", {})
    if key not in cache:
        cache.clear()
        cache[key] = access_indicators(access_layer(area, sites, (mode,), level=level, store=store), [mode])
    item = ProfileIndicator(f"access_{mode}_nearest_min", float(weight))
    kept = tuple(i for i in profile.indicators if not i.id.startswith("access_"))  # never twice
    return replace(profile, indicators=kept + (item,)), key, cache[key]


@st.cache_data(max_entries=32, show_spinner="Finding priority neighbourhoods…")
def cached_clusters(generation: str, profile_yaml: str, level: str, area_name: str, lad_codes: tuple, sensitivity: int,
                    extra_key: str = "", _extra=None):
    """(cluster id per code, cluster table) for the scored area, with Gi* hot spots."""
    import numpy as np

    from layers.hotspots import contiguity, hotspots, priority_clusters

    scored = cached_score(generation, profile_yaml, level, area_name, lad_codes, sensitivity, extra_key=extra_key,
                          _extra=_extra)
    store = get_store()
    gdf = store.boundaries(level, lad_codes).set_index("code").reindex(scored.areas["code"]).reset_index()
    w = contiguity(gdf)
    score = scored.areas["score"].to_numpy(dtype=float)
    hs = hotspots(gdf, score, w=w)
    from layers.scoring import priority_bands

    priority = scored.areas["band"].isin(priority_bands(scored.profile)).to_numpy()
    pop = population_for(store, level, scored.areas["code"])
    labels, clusters = priority_clusters(gdf, priority, pop, score, hot=hs["hotspot"].to_numpy(), w=w)
    return (pd.Series(labels.to_numpy(dtype=object), index=scored.areas["code"], dtype=object), clusters,
            int(np.sum(hs["hotspot"])))


def population_for(store: Store, level: str, codes: pd.Series):
    """Census 2021 usual residents for ``codes`` (NaN where unknown)."""
    from layers.scoring import population_of

    return population_of(table_for(store, level), codes)


def profile_yaml_text() -> str:
    from layers.profiles import profile_yaml

    return profile_yaml(current_profile())


@st.cache_data(max_entries=32, show_spinner="Comparing with the district and England…")
def cached_comparators(generation: str, level: str, area_name: str, lad_codes: tuple) -> pd.DataFrame:
    from layers.comparators import comparators

    store = get_store()
    from layers.indicators import available

    return comparators(level, Area(area_name, lad_codes, "preset"), available(level, store=store), store=store)


# -- uploads, per session ----------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def _startup_checks() -> str | None:
    """Once per process: remove session folders left by crashed processes; check the upload limits agree."""
    from geo import config
    from geo.workspace import sweep_stale

    sweep_stale()
    return config.streamlit_upload_limit_problem(st.get_option("server.maxUploadSize"))


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
    from geo.sites import read_sites, sites_from_frame
    from geo.uploads import TABLE_KINDS, accept_upload, read_table_upload

    where = where or st.sidebar
    file = where.file_uploader(label, type=None, key=key, help=help, max_upload_size=config.max_upload_mb())
    if file is None:
        return None
    try:
        up = accept_upload(file.name, file, workspace=workspace(), kinds=TABLE_KINDS | {"geojson"})
        if up.kind == "csv":
            table = read_table_upload(up)
            sites = sites_from_frame(table, source=up.name)
        else:
            sites = read_sites(up.path)
    except WardscopeError as exc:
        where.error(str(exc))
        problems = getattr(exc, "problems", None)
        if problems:
            where.dataframe(pd.DataFrame(problems), hide_index=True, width="stretch")
        return None
    where.caption(f"{md_text(up.name)}: {len(sites)} site(s) read")
    return sites


# -- saved work (on the server, atomic with the previous version kept) ----------------------

def saved_names(kind: str, suffix: str) -> list[str]:
    from geo.config import user_dir

    folder = user_dir() / kind
    return sorted(p.name[: -len(suffix)] for p in folder.glob(f"*{suffix}")) if folder.is_dir() else []


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


def check_usable(profile) -> None:
    """Raise the profile's problem (unknown or uninstalled indicator) before it becomes the session's profile."""
    from layers.indicators import available
    from layers.scoring import resolve_indicators

    store = get_store()
    resolve_indicators(profile, profile.level, registry(), set(available(profile.level, store=store)))


def saved_profiles_panel() -> None:
    """Save the current profile on the server, load a saved one (offering the previous version if damaged), or upload one."""
    from geo.errors import CorruptSavedFile
    from geo.saved import restore_previous, saved_path
    from geo.uploads import PROFILE_KINDS, accept_upload, upload_text
    from layers.profiles import load_saved_profile, parse_profile_text, save_profile

    with st.sidebar.expander("Saved and uploaded profiles"):
        name = st.text_input("Save the current profile as", key="save_profile_name")
        if st.button("Save on the server", key="save_profile", disabled=not name):
            try:
                path = save_profile(current_profile(), saved_path("profiles", name))
                st.success(f"Saved as {path.name} (the previous version is kept).")
            except WardscopeError as exc:
                st.error(str(exc))
        names = saved_names("profiles", ".yaml")
        if names:
            chosen = st.selectbox("Saved profiles", names, key="saved_profile_pick")
            path = saved_path("profiles", chosen)
            if st.button("Load", key="load_saved_profile"):
                try:
                    profile = load_saved_profile(path)
                    check_usable(profile)
                    use_profile(profile, f"saved:{chosen}")
                    st.rerun()
                except CorruptSavedFile as exc:
                    st.session_state["damaged_profile"] = str(path)
                    st.error(str(exc))
                except WardscopeError as exc:
                    st.error(str(exc))
            if st.session_state.get("damaged_profile") == str(path) and path.with_name(path.name + ".prev").exists():
                if st.button("Use the previous version", key="use_prev_profile"):
                    use_profile(load_saved_profile(path, previous=True), f"saved:{chosen}")
                    restore_previous(path)
                    st.session_state.pop("damaged_profile", None)
                    st.rerun()
        file = st.file_uploader("Upload a profile (YAML)", key="profile_upload")
        if file is not None:
            try:
                up = accept_upload(file.name, file, workspace=workspace(), kinds=PROFILE_KINDS)
                profile = parse_profile_text(upload_text(up), up.name)
                check_usable(profile)
                if st.button(f"Use {md_text(profile.name)}", key="use_uploaded_profile"):
                    use_profile(profile, f"upload:{up.sha256[:12]}")
                    st.rerun()
            except WardscopeError as exc:
                st.error(str(exc))


@st.cache_data(show_spinner=False)
def not_installed(generation: str) -> pd.DataFrame:
    """Registry indicators this installation lacks, with the command that installs them."""
    from layers.indicators import status

    table = status(get_store())
    return table[~table["installed"].astype(str).eq("yes")]


def not_installed_notice(ids_like: str = "") -> None:
    """A sidebar note naming the layers that are not installed and how to install them."""
    missing = not_installed(get_store().generation)
    if missing.empty:
        return
    groups = sorted({lab.split(" (")[0].split(",")[0].strip() for lab in missing["source"].str.split(":").str[-1]})
    command = "python cli.py install --nomis" if missing["installed"].str.contains("--nomis").any() else "python cli.py install"
    st.sidebar.caption(f"Not installed: {'; '.join(groups)} ({len(missing)} indicators). Install with `{command}`.")
