"""One neighbourhood rule: the map's priority neighbourhoods are exactly the exported dissolved ones (real data)."""

from __future__ import annotations

import pyogrio
import pytest
import shapely

from geo.contiguity import adjacency, neighbour_pairs
from layers.hotspots import contiguity
from tasks import export, neighbourhoods, score
from tasks.inputs import area_of, profile_text


@pytest.mark.parametrize("area_name", ["Luton", "Nottingham"])
def test_map_neighbourhoods_are_the_exported_neighbourhoods(store, tmp_path, area_name):
    request = score.ScoreRequest(area_of(area_name, store), profile_text("neighbourhood"), "lsoa", draws=0)
    result = score.run(request, store)
    hoods = neighbourhoods.run(request, store, scored=result).data
    on_map = {frozenset(codes.split(";")) for codes in hoods.table["codes"]}
    assert len(on_map) >= 3 and any(len(g) > 1 for g in on_map)  # several neighbourhoods, some merged

    bands = ",".join(f"band:{b}" for b in ("top 10%", "top 20%"))
    layer = export.run(export.ExportRequest(request, bands, dissolve=True), store, scored=result).data
    out = layer.write("gpkg", tmp_path / "hoods.gpkg")
    members = pyogrio.read_dataframe(out.path, layer="members", read_geometry=False)
    exported = {frozenset(g["code"]) for _, g in members.groupby("neighbourhood")}
    assert exported == on_map
    merged = pyogrio.read_dataframe(out.path, layer="areas")
    # every merged neighbourhood is one connected piece (written as a one-part MultiPolygon)
    assert (shapely.get_num_geometries(merged.geometry.to_numpy()) == 1).all()


def test_hot_spot_weights_are_the_same_neighbours(store):
    lsoa = store.boundaries("lsoa", ["E06000032"])
    w = contiguity(lsoa)
    left, right = neighbour_pairs(lsoa)
    pairs = {(int(i), int(j)) for i in w.neighbors for j in w.neighbors[i] if int(i) < int(j)}
    assert pairs == set(zip(left.tolist(), right.tolist()))
    matrix = adjacency(lsoa)
    assert (matrix != matrix.T).nnz == 0 and matrix.diagonal().sum() == 0


def test_corner_only_areas_are_not_neighbours():
    import geopandas as gpd
    from shapely.geometry import box

    squares = gpd.GeoDataFrame({"code": list("ABC")}, geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10),
                                                                box(20, 10, 30, 20)], crs=27700)
    left, right = neighbour_pairs(squares)
    assert set(zip(left.tolist(), right.tolist())) == {(0, 1)}
    # a shared edge whose vertices differ (no common vertex pair) still counts, measured exactly
    offset = gpd.GeoDataFrame({"code": list("AB")}, geometry=[box(0, 0, 10, 10), box(10, 2, 20, 8)], crs=27700)
    assert len(neighbour_pairs(offset)[0]) == 1
