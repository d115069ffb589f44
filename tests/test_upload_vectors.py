"""Vector uploads: CRS rule (missing .prj asked, never guessed), geometry checks, layers, limits."""

from __future__ import annotations

import dataclasses
import json

import pytest
import shapely

from geo.config import upload_limits
from geo.errors import (
    CRSError, IncompleteShapefile, InvalidGeometryError, MissingCRSError, MissingPrjError, MultipleLayersError,
    UploadRejected, UploadTooLarge,
)
from geo.upload.gate import VECTOR_KINDS, accept_upload, read_vector_upload
from tests.upload_fixtures import X0, Y0, geojson_bytes, gpkg_bytes, shapefile_parts, shapefile_zip, squares, zip_bytes


def accept(workspace, data, name="layer.zip"):
    return accept_upload(name, data, workspace=workspace, kinds=VECTOR_KINDS)


@pytest.mark.parametrize("make", [lambda: shapefile_zip(), lambda: geojson_bytes(), lambda: gpkg_bytes({"a": squares()})])
def test_each_format_reads_to_bng_with_attributes(workspace, make):
    gdf = read_vector_upload(accept(workspace, make()))
    assert gdf.crs.to_epsg() == 27700
    assert gdf["code"].tolist() == ["E01000000", "E01000001", "E01000002"]
    assert gdf.geometry.iloc[0].bounds == pytest.approx((X0, Y0, X0 + 500, Y0 + 500), abs=0.01)
    assert gdf.attrs["repaired_rows"] == [] and gdf.attrs["crs_assumed"] is None


def test_missing_prj_asks_which_crs_and_never_guesses(workspace):
    upload = accept(workspace, shapefile_zip(drop=(".prj",)), name="sites.zip")
    with pytest.raises(MissingPrjError, match=r"sites.zip: the shapefile has no .prj file, so its coordinate system is "
                                              r"unknown; is it British National Grid \(EPSG:27700") as err:
        read_vector_upload(upload)
    assert err.value.choices == (27700, 4326) and err.value.hint == 27700
    assert "look like British National Grid metres" in str(err.value)
    gdf = read_vector_upload(upload, assume_crs=27700)
    assert gdf.crs.to_epsg() == 27700 and gdf.attrs["crs_assumed"] == 27700
    with pytest.raises(CRSError, match="you chose EPSG:4326 but the coordinates do not fit it but fit EPSG:27700"):
        read_vector_upload(upload, assume_crs=4326)
    with pytest.raises(CRSError, match="must be EPSG:27700 or EPSG:4326, not 3857"):
        read_vector_upload(upload, assume_crs=3857)


def test_missing_prj_lonlat_shapefile_is_converted_when_answered(workspace):
    lonlat = squares().to_crs(4326)
    upload = accept(workspace, shapefile_zip(lonlat, drop=(".prj",)))
    with pytest.raises(MissingPrjError) as err:
        read_vector_upload(upload)
    assert err.value.hint == 4326
    gdf = read_vector_upload(upload, assume_crs=4326)
    assert gdf.geometry.iloc[0].bounds == pytest.approx((X0, Y0, X0 + 500, Y0 + 500), abs=0.5)


def test_declared_crs_wins_over_assume_crs(workspace):
    gdf = read_vector_upload(accept(workspace, shapefile_zip()), assume_crs=4326)
    assert gdf.attrs["crs_assumed"] is None and gdf.crs.to_epsg() == 27700


def test_gpkg_without_crs_is_asked_about_too(workspace):
    upload = accept(workspace, gpkg_bytes({"a": squares().set_crs(None, allow_override=True)}), name="x.gpkg")
    with pytest.raises(MissingCRSError, match="x.gpkg: the layer does not say its coordinate system") as err:
        read_vector_upload(upload)
    assert not isinstance(err.value, MissingPrjError)
    assert len(read_vector_upload(upload, assume_crs=27700)) == 3


def test_other_crs_is_refused(workspace):
    with pytest.raises(CRSError, match=r"unexpected coordinate reference system .*expected EPSG:4326 or EPSG:27700"):
        read_vector_upload(accept(workspace, shapefile_zip(squares().to_crs(3857))))


def test_geojson_in_metres_is_caught(workspace):
    data = json.loads(squares().to_json())  # BNG metres, no crs member: GeoJSON says WGS84
    data.pop("crs", None)
    with pytest.raises(CRSError, match="coordinates look like British National Grid metres"):
        read_vector_upload(accept(workspace, json.dumps(data).encode(), name="x.geojson"))


def test_degrees_declared_or_assumed_as_bng_are_caught(workspace):
    """The mirror of the check above: degrees fit the grid's extent, but only out at sea by its origin."""
    lonlat = squares().to_crs(4326)
    as_bng = lonlat.set_crs(27700, allow_override=True)  # the degrees, labelled British National Grid
    for data, name in ((gpkg_bytes({"sites": as_bng}), "x.gpkg"), (shapefile_zip(as_bng), "x.zip")):
        with pytest.raises(CRSError, match=f"{name}: coordinates look like longitude/latitude, not British National "
                                           f"Grid metres; the file declares EPSG:27700"):
            read_vector_upload(accept(workspace, data, name=name))
    upload = accept(workspace, gpkg_bytes({"sites": lonlat.set_crs(None, allow_override=True)}), name="y.gpkg")
    with pytest.raises(CRSError, match="y.gpkg: you chose EPSG:27700 but the coordinates look like longitude/"
                                       "latitude, not British National Grid metres; choose EPSG:4326 instead"):
        read_vector_upload(upload, assume_crs=27700)
    gdf = read_vector_upload(upload, assume_crs=4326)  # the right answer reads the layer where it is
    assert gdf.geometry.iloc[0].bounds == pytest.approx((X0, Y0, X0 + 500, Y0 + 500), abs=0.5)


def test_invalid_geometries_reported_by_row_and_repaired_only_on_request(workspace):
    upload = accept(workspace, shapefile_zip(squares(5, bowtie_at=3)))
    with pytest.raises(InvalidGeometryError, match=r"1 invalid geometry at feature #4 \(counting from 1; "
                                                   r"first: Self-intersection") as err:
        read_vector_upload(upload)
    assert err.value.rows == (4,)
    gdf = read_vector_upload(upload, repair=True)
    assert gdf.is_valid.all() and gdf.attrs["repaired_rows"] == [4]
    assert gdf.geometry.iloc[3].geom_type in ("Polygon", "MultiPolygon")
    assert gdf.geometry.iloc[3].area == pytest.approx(2 * 500 * 250 / 2, rel=0.01)  # the two triangles of the bow-tie


def test_missing_geometry_rows_are_listed(workspace):
    gdf = squares(4)
    gdf.loc[[1, 2], "geometry"] = None
    with pytest.raises(UploadRejected, match=r"2 features have no geometry: #2, #3"):
        read_vector_upload(accept(workspace, geojson_bytes(gdf), name="x.geojson"))


def test_vertex_and_feature_limits(workspace):
    limits = dataclasses.replace(upload_limits(), max_vertices_per_feature=100, max_vertices_total=150, max_features=5)
    ring = shapely.Point(X0, Y0).buffer(300, quad_segs=64)  # 257 vertices
    one = squares(1).set_geometry([ring], crs=27700)
    with pytest.raises(UploadTooLarge, match="feature #1 has 257 vertices; the limit is 100 per feature"):
        read_vector_upload(accept(workspace, shapefile_zip(one)), limits=limits)
    with pytest.raises(UploadTooLarge, match="has 200 vertices in all; the limit is 150"):
        read_vector_upload(accept(workspace, shapefile_zip(squares(40))), limits=dataclasses.replace(limits, max_features=50))
    with pytest.raises(UploadTooLarge, match="has 6 features; the limit is 5"):
        read_vector_upload(accept(workspace, geojson_bytes(squares(6)), name="x.geojson"),
                           limits=dataclasses.replace(limits, max_vertices_total=10**6))


def test_gpkg_with_several_layers_asks_which(workspace):
    upload = accept(workspace, gpkg_bytes({"wards": squares(2), "sites": squares(3)}), name="x.gpkg")
    with pytest.raises(MultipleLayersError, match=r"x.gpkg: holds 2 layers \(wards, sites\); choose which one") as err:
        read_vector_upload(upload)
    assert set(err.value.layers) == {"wards", "sites"}
    assert len(read_vector_upload(upload, layer="sites")) == 3
    with pytest.raises(UploadRejected, match="has no layer with geometry called 'nope'"):
        read_vector_upload(upload, layer="nope")


@pytest.mark.parametrize("part, cut, message", [
    (".shp", 0.5, r"the .shp file is truncated or damaged \(its header says [\d,]+ bytes, the file has [\d,]+\)"),
    (".shx", 0.7, r"the .shx file is truncated or damaged"),
    (".dbf", 0.6, r"the .dbf file is truncated \(its header says 20 records"),
    (".shp", 0.01, r"the .shp file is truncated \(\d+ bytes, less than its header\)"),
])
def test_truncated_shapefile_parts_are_refused(workspace, part, cut, message):
    parts = shapefile_parts(squares(20))
    parts[part] = parts[part][: int(len(parts[part]) * cut)]
    upload = accept(workspace, zip_bytes({f"x{s}": d for s, d in parts.items()}))
    with pytest.raises(IncompleteShapefile, match="layer.zip: " + message):
        read_vector_upload(upload)


def test_shx_and_dbf_from_different_exports(workspace):
    three, four = shapefile_parts(squares(3)), shapefile_parts(squares(4))
    mixed = {f"x{s}": three[s] for s in three} | {"x.dbf": four[".dbf"]}
    with pytest.raises(IncompleteShapefile, match=r"disagree \(3 shapes but 4 attribute rows\)"):
        read_vector_upload(accept(workspace, zip_bytes(mixed)))


def test_vertices_outside_britain_are_refused_even_in_holes(workspace):
    """The envelope check ignores holes; a hole at lon 300000 once reached make_valid as infinity."""
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {
        "type": "Polygon", "coordinates": [[[0, 51], [0.01, 51], [0.01, 51.01], [0, 51]],
                                           [[0, 51], [0, 51], [300000, 100000], [0, 51]]]}}]}
    with pytest.raises(CRSError, match=r"feature #1 has points outside Great Britain"):
        read_vector_upload(accept(workspace, json.dumps(doc).encode(), name="x.geojson"), repair=True)


def test_non_numeric_coordinates_are_refused_as_not_a_number(workspace):
    """GDAL hands a NaN point to geopandas as an empty one; it is still named for what it is."""
    def doc(*coords):
        features = ",".join('{"type":"Feature","properties":{},"geometry":%s}' % (
            "null" if c is None else '{"type":"%s","coordinates":%s}' % c) for c in coords)
        return ('{"type":"FeatureCollection","features":[%s]}' % features).encode()

    cases = [(doc(("Point", "[NaN, 51]")), r"feature #1 has a coordinate that is not a number \(NaN"),
             (doc(("Point", "[0, 51]"), ("Point", "[NaN, NaN]")), r"feature #2 has a coordinate that is not a number"),
             (doc(("Point", "[Infinity, 51]")), r"feature #1 has a coordinate that is not a number"),
             (doc(("LineString", "[[0, 51], [NaN, 51]]")), r"feature #1 has a coordinate that is not a number"),
             (doc(("Point", "[0, 51]"), None), r"1 feature has no geometry: #2")]
    for data, message in cases:
        with pytest.raises(UploadRejected, match=message):
            read_vector_upload(accept(workspace, data, name="x.geojson"))


def test_gdal_messages_do_not_reveal_server_paths(workspace):
    upload = accept(workspace, b'{"type": "Topology", "objects": 3}', name="x.geojson")
    with pytest.raises(UploadRejected) as err:
        read_vector_upload(upload)
    assert str(workspace.path) not in str(err.value) and "/tmp" not in str(err.value)


def test_gdal_notes_are_passed_on(workspace):
    point = {"type": "Point", "coordinates": [0, 51]}
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"a": value}, "geometry": point} for value in (1, "x", [1, 2])]}
    gdf = read_vector_upload(accept(workspace, json.dumps(doc).encode(), name="x.geojson"))
    assert gdf.attrs["warnings"] == ["x.geojson: Could not parse column 'a' as JSON; leaving as string"]
    assert gdf["a"].tolist() == ["1", "x", "[ 1, 2 ]"]
