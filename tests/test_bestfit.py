"""Best-fit assignment (population-weighted centroid in polygon), on fixtures and on real data."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from geo.bestfit import agreement, assign_best_fit
from geo.errors import CRSError


def _areas():
    return gpd.GeoDataFrame({"code": ["E05000002", "E05000001"]},
                            geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=27700)


def test_points_inside_on_border_near_and_far():
    pts = gpd.GeoDataFrame({"code": ["a", "b", "c", "d"]},
                           geometry=[Point(50, 50), Point(100, 50), Point(250, 50), Point(5000, 50)], crs=27700)
    out = assign_best_fit(pts, _areas(), snap_m=500)
    assert list(out["area_code"][:3]) == ["E05000002", "E05000001", "E05000001"]
    assert list(out["method"]) == ["within", "within", "nearest", "unassigned"]
    assert out["distance_m"].iloc[2] == pytest.approx(50.0)
    assert out["area_code"].isna().iloc[3]


def test_keeps_the_callers_index():
    pts = gpd.GeoDataFrame({"code": ["a", "b"]}, geometry=[Point(150, 50), Point(50, 50)], crs=27700, index=[40, 7])
    out = assign_best_fit(pts, _areas())
    assert out.loc[40, "area_code"] == "E05000001" and out.loc[7, "area_code"] == "E05000002"


def test_refuses_lon_lat():
    pts = gpd.GeoDataFrame({"code": ["a"]}, geometry=[Point(-0.4, 51.9)], crs=4326)
    with pytest.raises(CRSError, match="EPSG:27700"):
        assign_best_fit(pts, _areas())


def test_agrees_with_the_official_lookup_on_real_data(store):
    """LSOA 2021 centroids in Dec 2023 ward polygons vs the ONS LSOA->WD24 best-fit lookup."""
    wards = store.boundaries("ward")
    wards = wards[wards["geometry_source"].str.startswith("ONS")]
    lsoa = store.boundaries("lsoa")
    pts = gpd.GeoDataFrame(lsoa[["code", "ward_code"]], geometry=gpd.points_from_xy(lsoa["pwc_x"], lsoa["pwc_y"]), crs=27700)
    pts = pts[pts["ward_code"].isin(wards["code"])]
    out = assign_best_fit(pts, wards)
    rate = agreement(out["area_code"], pts["ward_code"])
    print(f"best-fit agreement with the ONS lookup: {rate:.2%} of {len(pts):,} LSOAs")
    # Not 100%: the BSC outlines are generalised to 200 m and ONS fits on full-resolution boundaries.
    assert 0.97 <= rate < 1.0
    assert (out["method"] != "unassigned").all()
    luton = pts["code"].str.startswith("E0101") & pts.index.isin(lsoa.index[lsoa["lad_code"] == "E06000032"])
    assert agreement(out.loc[luton, "area_code"], pts.loc[luton, "ward_code"]) > 0.95
