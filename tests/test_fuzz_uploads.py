"""Fuzzing the upload readers: arbitrary, truncated and corrupted files give a WardscopeError, never a crash.

Property-based (hypothesis). Each property sends its bytes through the real gate and reader
(accept_upload + read_upload); the only acceptable outcomes are a result or a WardscopeError
(one line). Any other exception fails the test and hypothesis reports the smallest input.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.errors import WardscopeError
from geo.upload.gate import KINDS, TABLE_KINDS, VECTOR_KINDS, accept_upload, read_upload
from geo.workspace import SessionWorkspace
from tests.upload_fixtures import geojson_bytes, gpkg_bytes, shapefile_parts, shapefile_zip, squares, zip_bytes

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALL = frozenset(KINDS)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz") / "sessions"


def through_gate(root, name: str, data: bytes, kinds=ALL, **options):
    """accept + read; returns the result or the WardscopeError. Anything else propagates (a failure)."""
    with SessionWorkspace(root) as ws:
        try:
            return read_upload(accept_upload(name, data, workspace=ws, kinds=kinds), **options)
        except WardscopeError as exc:
            assert "\n" not in str(exc), f"multi-line message: {exc!r}"
            return exc


# Valid seeds, built once; truncations and corruptions are drawn from them.
CSV_SEED = ("code,name,value,notes\r\n" + "".join(
    f'E0100{i:04d},"Area {i}, Luton",{i * 1.5},"=cell {i}"\r\n' for i in range(30))).encode("cp1252")
SEEDS = {
    "sites.csv": CSV_SEED,
    "sites.geojson": geojson_bytes(squares(6)),
    "sites.zip": shapefile_zip(squares(6)),
    "sites.gpkg": gpkg_bytes({"sites": squares(6)}),
}


@FUZZ
@given(data=st.binary(max_size=3000))
def test_arbitrary_bytes(root, data):
    through_gate(root, "upload.bin", data)


@FUZZ
@given(text=st.text(max_size=600), encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
def test_arbitrary_text_as_csv(root, text, encoding):
    data = text.encode(encoding, errors="replace")
    through_gate(root, "upload.csv", data, kinds=TABLE_KINDS)


@FUZZ
@given(seed=st.sampled_from(sorted(SEEDS)), data=st.data())
def test_truncated_files(root, seed, data):
    whole = SEEDS[seed]
    cut = data.draw(st.integers(1, len(whole) - 1), label="cut")
    through_gate(root, seed, whole[:cut], assume_crs=27700)


@FUZZ
@given(seed=st.sampled_from(sorted(SEEDS)), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)),
                                                             min_size=1, max_size=8))
def test_corrupted_bytes(root, seed, flips):
    data = bytearray(SEEDS[seed])
    for where, value in flips:
        data[min(int(where * len(data)), len(data) - 1)] = value
    through_gate(root, seed, bytes(data))


PARTS = shapefile_parts(squares(6))


@FUZZ
@given(part=st.sampled_from([".shp", ".shx", ".dbf", ".prj", ".cpg"]),
       change=st.one_of(st.binary(max_size=400).map(lambda b: ("replace", b)),
                        st.floats(0, 1).map(lambda f: ("truncate", f))))
def test_shapefile_parts_replaced_or_truncated_inside_a_valid_zip(root, part, change):
    parts = dict(PARTS)
    how, value = change
    parts[part] = value if how == "replace" else parts[part][: int(len(parts[part]) * value)]
    data = zip_bytes({f"sites{s}": d for s, d in parts.items()})
    through_gate(root, "sites.zip", data, kinds=VECTOR_KINDS, assume_crs=4326)


wild = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**20, 10**20))
lonlat = st.tuples(st.floats(-2.5, 1.5), st.floats(50.5, 55.5))
metres = st.tuples(st.floats(300_000, 600_000), st.floats(100_000, 500_000))
#: Mostly plausible positions (so real geometries get built, reprojected and validated), some wild ones.
positions = st.one_of(lonlat.map(list), lonlat.map(list), metres.map(list), st.lists(wild, max_size=4))
rings = st.lists(positions, max_size=8).map(lambda r: r + r[:1] if len(r) > 2 else r)  # usually closed
coordinates = {
    "Point": positions,
    "LineString": st.lists(positions, max_size=6),
    "Polygon": st.lists(rings, min_size=1, max_size=3),
    "MultiPolygon": st.lists(st.lists(rings, min_size=1, max_size=2), max_size=3),
    "Nope": st.recursive(positions, lambda inner: st.lists(inner, max_size=3), max_leaves=10),
}
geometries = st.sampled_from(sorted(coordinates)).flatmap(
    lambda kind: st.fixed_dictionaries({"type": st.just(kind), "coordinates": coordinates[kind]}))
#: Geometries GDAL will build (non-empty points and closed rings), possibly invalid or far from Britain.
buildable = st.one_of(
    st.fixed_dictionaries({"type": st.just("Point"), "coordinates": st.one_of(lonlat, metres).map(list)}),
    st.fixed_dictionaries({"type": st.just("Polygon"), "coordinates": st.lists(
        st.lists(st.one_of(lonlat.map(list)), min_size=3, max_size=7).map(lambda r: r + r[:1]), min_size=1, max_size=2)}),
)
json_scalars = st.one_of(st.none(), st.booleans(), wild, st.text(max_size=10))
features = st.fixed_dictionaries(
    {"type": st.sampled_from(["Feature", "Feature", "Feature", "feature"]),
     "geometry": st.one_of(buildable, buildable, buildable, geometries, st.none()),
     "properties": st.one_of(st.none(), st.dictionaries(st.text(max_size=8), json_scalars, max_size=4))})
collections = st.fixed_dictionaries(
    {"type": st.sampled_from(["FeatureCollection", "FeatureCollection", "Feature", "Topology"]),
     "features": st.lists(features, max_size=5)},
    optional={"crs": st.one_of(st.none(), st.fixed_dictionaries(
        {"type": st.sampled_from(["name", "link"]),
         "properties": st.fixed_dictionaries({"name": st.sampled_from(
             ["EPSG:27700", "urn:ogc:def:crs:EPSG::4326", "EPSG:3857", "nonsense"])})}))})


def _json(obj) -> bytes:
    def fix(value):  # JSON has no NaN/Infinity; write them the way careless tools do
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        return value

    return json.dumps(fix(obj)).encode()


@FUZZ
@given(doc=collections)
def test_structured_geojson(root, doc):
    result = through_gate(root, "x.geojson", _json(doc), kinds=VECTOR_KINDS, repair=True)
    if not isinstance(result, WardscopeError):
        assert result.crs.to_epsg() == 27700 and result.geometry.is_valid.all()


@FUZZ
@given(doc=collections, data=st.data())
def test_truncated_structured_geojson(root, doc, data):
    text = _json(doc)
    cut = data.draw(st.integers(1, len(text) - 1), label="cut")
    through_gate(root, "x.geojson", text[:cut], kinds=VECTOR_KINDS)


@given(rows=st.lists(st.lists(st.text(max_size=12), min_size=0, max_size=6), min_size=0, max_size=12),
       sep=st.sampled_from([",", ";", "\t"]), newline=st.sampled_from(["\n", "\r\n", "\r"]))
def test_csv_shaped_text(root, rows, sep, newline):
    text = newline.join(sep.join(cells) for cells in rows)
    result = through_gate(root, "t.csv", text.encode("utf-8"), kinds=TABLE_KINDS)
    if not isinstance(result, WardscopeError):
        assert len(result) >= 1 and len(result.attrs["line_numbers"]) == len(result)
        assert result.columns.is_unique
