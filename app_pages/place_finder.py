"""Find and choose an area without the mouse: a search box and a selectbox kept in step with the map.

The search itself is :func:`geo.place_search.find_place`. Widgets act through
callbacks, which run before the page, so the map drawn below already shows
(and zooms to) what was found or chosen.
"""

from __future__ import annotations

import streamlit as st

from geo.escape import md_text
from geo.place_search import CHOICES, FOUND, find_place

#: Session keys: the selected GSS code (shared with the map), where to zoom, the last map click seen.
SELECTED, ZOOM, LAST_CLICK, CHOICES_KEY, MESSAGE = "selected_code", "zoom_to", "last_click", "place_choices", "place_message"
#: How much surrounding to show around a found area (its own size each side), a district barely any.
PICK_LABEL = {"ward": "Or choose a ward", "lsoa": "Or choose an LSOA"}
CONTEXT = {"lad": 0.03, "ward": 1.0, "lsoa": 1.5}


def _go(place, level: str) -> str:
    """Select and zoom to ``place`` (a :class:`geo.place_search.Place`); returns a note for the user, if any.

    The map keeps its level: an LSOA found on the ward map selects its ward; a
    ward found on the LSOA map is zoomed to but not selected.
    """
    st.session_state[ZOOM] = (place.bounds, CONTEXT[place.kind])
    st.session_state.pop(CHOICES_KEY, None)
    if place.kind == level:
        st.session_state[SELECTED] = place.code
    elif place.kind == "lsoa" and level == "ward" and place.ward_code:
        st.session_state[SELECTED] = place.ward_code
        return f"{place.code} ({place.name}) is an LSOA: its ward is selected (choose Level: LSOAs to see it alone)."
    elif place.kind == "ward":
        return f"{place.name} is a ward: the map is zoomed to it (choose Level: Wards to select it)."
    return ""


def _search(store, area, level: str) -> None:
    query = st.session_state.get("place_query", "")
    got = find_place(query, store, area, level=level)
    st.session_state[MESSAGE] = got.message
    st.session_state.pop(CHOICES_KEY, None)
    if got.status == FOUND:
        st.session_state[MESSAGE] = _go(got.places[0], level)
    elif got.status == CHOICES:
        st.session_state[CHOICES_KEY] = got.places


def _pick_choice(level: str) -> None:
    places = {p.label: p for p in st.session_state.get(CHOICES_KEY, [])}
    place = places.get(st.session_state.get("place_pick"))
    if place is not None:
        st.session_state[MESSAGE] = _go(place, level)


def _pick_area(areas) -> None:
    code = st.session_state.get("area_pick")
    st.session_state.pop(MESSAGE, None)
    st.session_state[SELECTED] = code
    if code:
        row = areas[areas["code"] == code]
        st.session_state[ZOOM] = (tuple(float(x) for x in row.total_bounds), 1.0)


def take_click(clicked: str | None, areas) -> bool:
    """Select the area the user clicked on the map (a new click only: the map repeats its last one).

    The view is left where the user put it. Returns True when the selection changed.
    """
    if clicked and clicked != st.session_state.get(LAST_CLICK) and (areas["code"] == clicked).any():
        st.session_state[LAST_CLICK] = clicked
        st.session_state.pop(MESSAGE, None)
        st.session_state[SELECTED] = clicked
        return True
    return False


def zoom_target():
    """(bounds in EPSG:27700 metres, context) to fit the map to, or None for the whole area."""
    return st.session_state.get(ZOOM)


def reset_on_area_change(area, level: str) -> None:
    """Forget the zoom when the area of interest changes (the selection is checked where shown)."""
    where = area.key
    if st.session_state.get("finder_view") != where:
        st.session_state["finder_view"] = where
        st.session_state.pop(ZOOM, None)
        st.session_state.pop(CHOICES_KEY, None)


def search_box(store, area, level: str) -> None:
    """The search form: Enter or "Find" looks the text up; several matches become a list to pick from."""
    with st.form("place_search", border=False, enter_to_submit=True):
        left, right = st.columns([4, 1], vertical_alignment="bottom")
        left.text_input("Find a place", key="place_query", placeholder="Ward, district, LSOA code or postcode",
                        help="A ward or district name, a GSS code (E05..., E01...) or a postcode such as LU1 2BQ.")
        right.form_submit_button("Find", on_click=_search, args=(store, area, level))
    message = st.session_state.get(MESSAGE)
    if message:
        st.info(md_text(message), icon=":material/info:")
    choices = st.session_state.get(CHOICES_KEY)
    if choices:
        st.selectbox("Which place?", [p.label for p in choices], index=None, key="place_pick",
                     placeholder="Choose one of the matches", on_change=_pick_choice, args=(level,))


def area_select(areas, level: str) -> None:
    """Every area of the map in a selectbox (keyboard-accessible), showing the map's current selection."""
    ordered = areas.sort_values(["name", "lad_name"])
    labels = dict(zip(ordered["code"], [f"{n} ({d})" for n, d in zip(ordered["name"], ordered["lad_name"])]))
    selected = st.session_state.get(SELECTED)
    st.session_state["area_pick"] = selected if selected in labels else None
    st.selectbox(PICK_LABEL.get(level, "Or choose an area"), list(labels), index=None,
                 key="area_pick", format_func=labels.get, placeholder="Type or choose a name",
                 on_change=_pick_area, args=(areas,))


def searchable_map(store, area, level: str, md, outline, key: str) -> None:
    """The search box above the map, then the map with the selected area outlined (zoomed to a found place).

    A click on the map selects its area and outlines it where the user is looking: only the outline is sent
    again, so the map is not redrawn and keeps its view. A search or a choice in the select box zooms to it.
    """
    from app_pages import maps
    from layers.mapview import folium_map, selection_layer

    reset_on_area_change(area, level)
    search_box(store, area, level)
    zoom = zoom_target()
    fmap = folium_map(md, outline, zoom_to=zoom[0] if zoom else None, zoom_context=zoom[1] if zoom else 1.0)
    overlay = selection_layer(md, st.session_state.get(SELECTED))
    if take_click(maps.show_map(fmap, key=key, overlay=overlay), md.gdf):
        st.rerun()
