"""Saved and uploaded work: profiles and site lists on the server (previous version kept), uploaded profiles,
users' own indicators."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from app_pages import cache, state, uploads
from geo.contentcache import content_key
from geo.errors import WardscopeError
from geo.escape import md_text
from geo.words import agree, count_of


def saved_names(kind: str, suffix: str) -> list[str]:
    from geo.config import user_dir

    folder = user_dir() / kind
    return sorted(p.name[: -len(suffix)] for p in folder.glob(f"*{suffix}")) if folder.is_dir() else []


def save_button(label: str, key: str, name: str, save) -> None:
    """A button that runs ``save()`` (which returns the saved path) and says what happened."""
    if st.button(label, key=key, disabled=not name):
        try:
            path = save()
            st.success(f"Saved as {path.name} (the previous version is kept).")
        except WardscopeError as exc:
            st.error(md_text(str(exc)))


def check_usable(profile) -> None:
    """Raise the profile's problem (unknown or uninstalled indicator) before it becomes the session's profile."""
    from layers.indicators import available
    from layers.scoring import resolve_indicators

    store = cache.get_store()
    resolve_indicators(profile, profile.level, cache.registry(), set(available(profile.level, store=store)))


def saved_profiles_panel() -> None:
    """Save the current profile on the server, load a saved one (offering the previous version if damaged), or upload one."""
    from geo.errors import CorruptSavedFile
    from geo.saved import restore_previous, saved_path
    from geo.upload.gate import PROFILE_KINDS, accept_upload, upload_text
    from layers.profiles import load_saved_profile, parse_profile_text, save_profile

    with st.sidebar.expander("Saved and uploaded profiles"):
        name = st.text_input("Save the current profile as", key="save_profile_name")
        save_button("Save on the server", "save_profile", name,
                    lambda: save_profile(state.current_profile(), saved_path("profiles", name)))
        names = saved_names("profiles", ".yaml")
        if names:
            chosen = st.selectbox("Saved profiles", names, key="saved_profile_pick")
            path = saved_path("profiles", chosen)
            if st.button("Load", key="load_saved_profile"):
                try:
                    profile = load_saved_profile(path)
                    check_usable(profile)
                    state.use_profile(profile, f"saved:{chosen}")
                    st.rerun()
                except CorruptSavedFile as exc:
                    st.session_state["damaged_profile"] = str(path)
                    st.error(md_text(str(exc)))
                except WardscopeError as exc:
                    st.error(md_text(str(exc)))
            if st.session_state.get("damaged_profile") == str(path) and path.with_name(path.name + ".prev").exists():
                if st.button("Use the previous version", key="use_prev_profile"):
                    state.use_profile(load_saved_profile(path, previous=True), f"saved:{chosen}")
                    restore_previous(path)
                    st.session_state.pop("damaged_profile", None)
                    st.rerun()
        file = st.file_uploader("Upload a profile (YAML)", key="profile_upload")
        if file is not None:
            try:
                up = accept_upload(file.name, file, workspace=uploads.workspace(), kinds=PROFILE_KINDS)
                profile = parse_profile_text(upload_text(up), up.name)
                check_usable(profile)
                if st.button(f"Use {md_text(profile.name)}", key="use_uploaded_profile"):
                    state.use_profile(profile, f"upload:{up.sha256[:12]}")
                    st.rerun()
            except WardscopeError as exc:
                st.error(md_text(str(exc)))


def saved_sites_panel(sites) -> None:
    """Save this session's sites on the server, or load a saved list (the previous version if it is damaged)."""
    from geo.saved import saved_path
    from geo.employment_sites import read_sites, save_sites

    list_name = st.text_input("Save these sites as", key="save_sites_name")
    save_button("Save", "save_sites", list_name, lambda: save_sites(sites, saved_path("sites", list_name, ".csv")))
    lists = saved_names("sites", ".csv")
    if lists:
        pick = st.selectbox("Saved site lists", lists, key="saved_sites_pick")
        if st.button("Load", key="load_sites"):
            path = saved_path("sites", pick, ".csv")
            try:
                st.session_state["sites"] = read_sites(path)
                st.session_state["sites_from"] = "saved"
                st.rerun()
            except WardscopeError as exc:
                prev = path.with_name(path.name + ".prev")
                st.error(md_text(str(exc)) + ("; the previous version was loaded instead" if prev.exists() else ""))
                if prev.exists():
                    st.session_state["sites"] = read_sites(prev)
                    st.session_state["sites_from"] = "saved"


def area_forms(store) -> None:
    """Save an area of interest (districts, wards or a boundary file) for everyone on this installation,
    or delete one. Wards and boundaries are saved as the whole districts they are in or overlap."""
    from tasks import areas as area_task

    flash = st.session_state.pop("area_flash", None)
    st.subheader("Save an area")
    if flash:
        st.success(md_text(flash))
        st.page_link("app_pages/explorer.py", label="Open the Map explorer", icon=":material/arrow_forward:")
    name = st.text_input("Name of the new area", key="area-save-name", max_chars=80)
    how = st.radio("Made of", ["Districts", "Wards", "A boundary file"], horizontal=True, key="area-save-how")
    districts, wards, boundary = [], [], None
    if how == "Districts":
        table = store.districts().sort_values("name")
        districts = st.multiselect("Districts", list(table["code"]), key="area-save-districts",
                                   format_func=dict(zip(table["code"], table["name"])).get)
    elif how == "Wards":
        w = store.boundaries("ward").sort_values(["name", "lad_name"])
        labels = {r.code: f"{r.name} ({r.lad_name})" for r in w.itertuples()}
        wards = st.multiselect("Wards (type to search)", list(labels), format_func=labels.get,
                               key="area-save-wards")
        st.caption("The area is saved as the whole districts these wards are in.")
    else:
        boundary = _boundary_upload()
        st.caption("The area is saved as the whole districts the boundary overlaps.")
    if st.button("Save area", key="area-save", icon=":material/save:"):
        try:
            result = area_task.save(name, store, districts=districts, wards=wards, boundary=boundary)
        except WardscopeError as exc:
            st.error(md_text(str(exc)))
        else:
            state.set_choice("area", result.data.name)
            st.session_state["area_flash"] = result.notes[0] + "; it is now the area of interest"
            st.rerun()
    saved = [a.name for a in area_task.choices(store) if a.kind == "user"]
    if saved:
        st.subheader("Delete an area")
        gone = st.selectbox("Saved area to delete", saved, key="area-delete-name")
        if st.button("Delete area", key="area-delete", icon=":material/delete:"):
            try:
                result = area_task.delete(gone, store)
            except WardscopeError as exc:
                st.error(md_text(str(exc)))
            else:
                st.session_state["area_flash"] = result.notes[0]
                st.rerun()


def _boundary_upload():
    """A boundary file through the upload gate (GeoJSON, zipped shapefile, GeoPackage) as a layer, or None."""
    from geo import config
    from geo.contentcache import content_key
    from geo.upload.gate import accept_upload, read_vector_upload

    file = st.file_uploader("Boundary file (GeoJSON, zipped shapefile or GeoPackage)", key="area-save-boundary",
                            max_upload_size=config.max_upload_mb())
    if file is None:
        return None
    try:
        up = accept_upload(file.name, file, workspace=uploads.workspace(), kinds={"geojson", "zip-shapefile", "gpkg"})
        return uploads.parsed().get_or_compute(content_key("boundary", up, up.name), lambda: read_vector_upload(up))
    except WardscopeError as exc:
        st.error(md_text(str(exc)))
        return None


KIND_LABELS = {"count": "A count (people or things; adds up for wards and districts)",
               "rate": "A rate: a count out of a total (e.g. households out of all households)",
               "score": "A score or figure that cannot be added up (kept at its own level)"}
DIRECTION_LABELS = {"higher-is-worse": "Higher means more need", "higher-is-better": "Higher means less need",
                    "context": "Neither (shown for context, not scored)"}
PROBLEM_LABELS = {"row": "Row in the file", "code": "Code", "problem": "Problem"}


def user_indicator_form() -> None:
    """Upload a CSV keyed by GSS codes, say what its column is, see the row problems, save it for this installation."""
    from geo.upload.gate import TABLE_KINDS, accept_upload, read_table_upload, upload_text
    from app_pages import requests
    from tasks import user_indicator

    st.subheader("Your own indicators")
    st.caption("A CSV with a column of codes (LSOA 2021 or 2011, ward or district) and a column of figures.")
    file = st.file_uploader("Upload a CSV", key="user_indicator_upload")
    if file is None:
        return
    try:
        up = accept_upload(file.name, file, workspace=uploads.workspace(), kinds=TABLE_KINDS)
        columns = [str(c).strip().lower() for c in uploads.parsed().get_or_compute(
            content_key("user-indicator", up, up.name), lambda: read_table_upload(up)).columns]
    except WardscopeError as exc:
        st.error(md_text(str(exc)))
        return
    if "code" not in columns:
        st.error(f"{md_text(up.name)}: needs a 'code' column of GSS codes")
        return
    figures = [c for c in columns if c != "code"]
    if not figures:
        st.error(f"{md_text(up.name)}: has no column of figures besides 'code'")
        return
    label = st.text_input("What it shows (its label)", key="user_indicator_label")
    value = st.selectbox("Column with the figures", figures, key="user_indicator_value", format_func=md_text)
    kind = st.radio("What kind of figure", list(KIND_LABELS), format_func=KIND_LABELS.get, key="user_indicator_kind")
    denominator = None
    if kind == "rate":
        others = [c for c in figures if c != value]
        if not others:
            st.error("A rate needs a second column with the total it is out of.")
            return
        denominator = st.selectbox("Column with the total", others, key="user_indicator_den", format_func=md_text)
    direction = st.radio("A higher figure means", list(DIRECTION_LABELS), format_func=DIRECTION_LABELS.get,
                         key="user_indicator_direction")
    if not label.strip():
        st.info("Give it a label to check and save it.")
        return
    request = requests.user_indicator_request(up.name, upload_text(up).encode("utf-8"), label, kind, value,
                                              denominator, direction)
    try:
        check = cache.user_indicator_check(replace(request, dry_run=True))
    except WardscopeError as exc:
        st.error(md_text(str(exc)))
        return
    if len(check.data):
        st.warning(f"{count_of(len(check.data), 'row')} {agree(len(check.data), 'has', 'have')} a problem: "
                   f"{agree(len(check.data), 'it is', 'they are')} left out, or kept as unknown "
                   f"when the figure is suppressed.")
        problems = check.data.rename(columns=PROBLEM_LABELS)
        if len(problems) <= 20:  # a table wraps the problem's words; the grid would cut them off in a half-width column
            st.table(problems.astype(str).map(md_text), hide_index=True)  # st.table reads cells as Markdown
        else:
            st.dataframe(problems, hide_index=True, width="stretch",
                         column_config={PROBLEM_LABELS["problem"]: st.column_config.TextColumn(width="large")})
    st.caption(md_text("; ".join(check.notes)))
    if st.button("Save this indicator", key="user_indicator_save"):
        try:
            user_indicator.run(request, cache.get_store())
            st.success(f"Saved {md_text(label)}: it is in the map's indicator list and can be weighted in "
                       f"the score (the previous version is kept).")
            st.page_link("app_pages/explorer.py", label="Map it in the Map explorer", icon=":material/arrow_forward:")
        except WardscopeError as exc:
            st.error(md_text(str(exc)))

