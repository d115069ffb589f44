"""The compact map encoding: rings round-trip, repeated properties are dictionary-encoded, payloads stay light."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.webmap import _column, decode_ring, encode_ring, layer_payload, PolygonLayer

lonlat = st.tuples(st.floats(-8.6, 1.8, allow_nan=False), st.floats(49.8, 60.9, allow_nan=False))


@settings(max_examples=200, deadline=None)
@given(st.lists(lonlat, min_size=3, max_size=60))
def test_rings_round_trip_to_a_metre(points):
    ring = np.array(points)
    back = decode_ring(encode_ring(ring))
    assert back.shape == ring.shape
    assert np.abs(back - ring).max() <= 0.5e-5 + 1e-12  # 1e-5 degrees is about a metre


def test_repeated_values_are_sent_once():
    values = np.array(["Luton", "Bedford", None, "Luton"] * 5, dtype=object)
    col = _column(values)
    assert col["k"] == ["Luton", "Bedford"]
    decoded = [None if i < 0 else col["k"][i] for i in col["v"]]
    assert decoded == list(values)
    assert _column(np.array(["a", "b", "c"], dtype=object)) == ["a", "b", "c"]  # unique: plain list


def test_payload_for_south_midlands_lsoas_is_light(store):
    gdf = store.boundaries("lsoa", ["E06000055", "E06000056", "E06000032", "E06000042", "E06000061", "E06000062"])
    payload = layer_payload(PolygonLayer(gdf, "lsoa", tooltip=[("", "name"), ("District", "lad_name")]))
    text = json.dumps(payload, separators=(",", ":"))
    assert len(payload["g"]) == len(gdf)
    assert isinstance(payload["p"]["lad_name"], dict) and len(payload["p"]["lad_name"]["k"]) == 6
    naive = gdf.to_crs(4326).to_json()
    assert len(text) * 4 < len(naive)  # geometry and names at a fraction of plain GeoJSON


def test_map_wheel_behaviour_and_escaped_labels(store):
    """Plain wheel does not zoom (the page scrolls; Ctrl + wheel zooms in the browser); names are labels, as data."""
    from geo.webmap import add_labels, base_map

    gdf = store.boundaries("ward", ["E06000032"]).head(3).copy()
    gdf["name"] = ["Biscot", "</script><img src=x onerror=alert(1)>", "{{ 7*7 }}"]
    fmap = base_map(tuple(gdf.total_bounds))
    add_labels(fmap, gdf, gdf["name"], min_zoom=13)
    html = fmap.get_root().render()
    assert '"scrollWheelZoom": false' in html
    assert "Use Ctrl + scroll to zoom the map" in html and "e.ctrlKey || e.metaKey" in html
    assert "<img src=x" not in html and "</script><img" not in html  # escaped in the payload, shown as text
    from geo.escape import js_json

    for name in gdf["name"]:
        assert js_json(name) in html  # each name arrives intact (not run as a template either)
    assert "textContent = d.t[i]" in html and '"z":[13,30]' in html


def test_neighbourhoods_are_numbered_as_in_the_table(store):
    import pandas as pd

    from layers.mapview import CLUSTER_COLOUR, folium_map, score_map
    from layers.profiles import load_profile
    from layers.scoring import score_area

    scored = score_area(load_profile("neighbourhood"), "Luton", level="ward", store=store)
    areas = store.boundaries("ward", scored.area.lad_codes)
    ids = pd.Series(["N01" if i < 3 else "N02" if i < 5 else None for i in range(len(areas))], index=areas["code"])
    md = score_map(areas, scored, "cluster", clusters=ids, cluster_names={"N01": "North", "N02": "South"})
    assert sorted(md.numbers["text"]) == ["1", "2"] and len(md.numbers) == 2
    fills = {md.classes.colours[i] for i, v in zip(md.classes.index, md.gdf["value"]) if v != "not in a cluster"}
    assert fills == {CLUSTER_COLOUR}  # one colour; the number tells them apart
    outline = store.table("boundaries", "lad_outline", scored.area.lad_codes)
    html = folium_map(md, outline, selected=areas["code"].iloc[0]).get_root().render()
    assert '"cls":"ws-num"' in html and '"t":["1","2"]' in html


def test_big_layers_reach_the_page_once_and_as_written(store):
    """The polygon and label scripts go into the page verbatim (no Jinja pass over 1.5 MB), once per render,
    and the script streamlit-folium sends holds the same text."""
    import re

    import streamlit_folium

    from geo.escape import js_json
    from geo.webmap import add_labels, add_polygons, base_map

    gdf = store.boundaries("ward", ["E06000032"]).copy()
    gdf["name"] = ["{% raw %}{{ 7*7 }}" if i == 0 else n for i, n in enumerate(gdf["name"])]
    fmap = base_map(tuple(gdf.total_bounds))
    polygons = add_polygons(fmap, PolygonLayer(gdf, "ward", tooltip=[("", "name")]))
    add_labels(fmap, gdf, gdf["name"], min_zoom=13)
    name = polygons.get_name()  # streamlit-folium renames elements as it writes its script
    html = fmap.get_root().render()
    fmap.render()  # streamlit-folium renders twice
    sent = streamlit_folium._get_map_string(fmap)
    for text in (html, sent):
        assert text.count(polygons.payload) == 1  # the payload as js_json wrote it: nothing rewrote it
        assert text.count(js_json(gdf["name"].iloc[0])) == 2  # in the tooltip names and in the labels
    from geo.webmap import _Verbatim

    script = fmap.get_root().script._children
    assert isinstance(script[name], _Verbatim)  # put in as written: no Jinja template compiled
    assert "{% raw %}{{ 7*7 }}" not in html and "49" not in re.findall(r'"t":\["[^\]]*\]', html)[0]  # the labels' texts


def test_web_conversions_match_pyproj_from_any_thread():
    """Points and layers go to EPSG:4326 on one long-lived thread: same numbers, from whichever thread asks."""
    from concurrent.futures import ThreadPoolExecutor

    import geopandas as gpd
    from pyproj import Transformer

    from geo.crs import bng_to_lonlat, to_web

    x, y = np.array([507_000.0, 530_000.0, 385_000.0]), np.array([221_000.0, 180_000.0, 255_000.0])
    lon0, lat0 = Transformer.from_crs(27700, 4326, always_xy=True).transform(x, y)
    layer = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=27700)
    with ThreadPoolExecutor(4) as pool:
        points = list(pool.map(lambda _: bng_to_lonlat(x, y), range(8)))
        layers = list(pool.map(lambda _: to_web(layer), range(8)))
    for lon, lat in points:
        assert np.allclose(lon, lon0, atol=1e-9) and np.allclose(lat, lat0, atol=1e-9)
    for web in layers:
        assert web.crs.to_epsg() == 4326 and np.allclose(web.geometry.x, lon0, atol=1e-9)


def test_polygon_script_carries_the_same_payload_as_written_in_one_piece(store):
    """The geometry's JSON text is kept with the geometry and spliced in: the script holds exactly js_json(payload)."""
    from geo.escape import js_json
    from geo.webmap import add_polygons, base_map, label_points

    gdf = store.boundaries("ward", ["E06000032", "E06000055"])
    layer = PolygonLayer(gdf, "ward", classes=np.arange(len(gdf)) % 3, palette=["#111111", "#222222", "#333333"],
                         tooltip=[("", "name"), ("District", "lad_name")])
    import geo.webmap as webmap

    calls = []
    real = webmap.encode_polygons
    webmap.encode_polygons = lambda geoms: calls.append(1) or real(geoms)
    try:
        for attempt in range(2):  # built, then from the memo
            calls.clear()
            element = add_polygons(base_map(tuple(gdf.total_bounds)), layer)
            drawn = len(calls)
            assert element.payload == js_json(layer_payload(layer))
            assert drawn <= 1 and (attempt == 0 or drawn == 0)  # encoded at most once, then from the memo
    finally:
        webmap.encode_polygons = real
    assert label_points(gdf) is label_points(gdf.copy())  # the same layer: computed once
    assert len(label_points(gdf.head(3))) == 3
