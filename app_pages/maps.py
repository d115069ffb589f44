"""Maps on a page: the Leaflet map (clicks come back as area codes) and its legend with units and caveat."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from geo.escape import html_attr, html_text, md_text

MAP_HEIGHT = 540


def legend(md) -> None:
    """Colour key with units, and the layer's caveat right beside it."""
    rows = "".join(
        f'<div style="display:flex;align-items:center;margin:2px 0">'
        f'<span style="width:18px;height:14px;background:{html_attr(c)};border:1px solid #777;display:inline-block;margin-right:8px"></span>'
        f'<span style="font-size:0.85rem">{html_text(text)}</span></div>'
        for c, text in md.classes.legend)
    st.html(f'<div style="font-weight:600;font-size:0.9rem;margin-bottom:4px">{html_text(md.title)}</div>{rows}')
    if md.caveat:
        st.warning(md_text(md.caveat), icon=":material/info:")
    for note in md.notes:
        st.caption(md_text(note))


def show_map(fmap, *, key: str, overlay=None) -> str | None:
    """Draw a Leaflet map; returns the GSS code of the area the user clicked, if any.

    Only clicks come back to Python (not pans or zooms), so moving the map
    does not rerun the page. ``overlay`` (a folium FeatureGroup, such as the selected area's outline) is
    sent on its own: when only it changes, the map is not drawn again and keeps the user's view.
    """
    out = st_folium(fmap, height=MAP_HEIGHT, use_container_width=True, returned_objects=["last_active_drawing"],
                    feature_group_to_add=overlay, key=key)
    drawing = (out or {}).get("last_active_drawing") or {}
    code = (drawing.get("properties") or {}).get("code")
    return code
