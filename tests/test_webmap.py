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
