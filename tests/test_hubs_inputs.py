"""Hub planning inputs: hub sites (types, capacity, fixed), the area check, demand tables, candidates."""

from __future__ import annotations

import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.areas import resolve_area
from geo.employment_sites import SitesError
from layers.access import lsoa_centroids
from layers.hubs.candidates import priority_centroid_candidates, station_candidates
from layers.hubs.demand import band_set, demand_from_scores, demand_points, priority_demand, read_demand_file
from layers.hubs.errors import DemandError, HubError, IndicatorsMissing, SitesOutsideAreaError
from layers.hubs.hub_sites import locate_in_area, read_hub_sites, site_pool

LUTON = "E06000032"
SOUTH_MIDLANDS = {"E06000055", "E06000056", "E06000032", "E06000042", "E06000061", "E06000062"}


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def luton(store):
    return resolve_area("Luton", store.districts())


# -- sites ------------------------------------------------------------------------------------------------
def test_hub_sites_types_capacity_and_fixed(tmp_path):
    path = write(tmp_path / "hubs.csv",
                 "name,easting,northing,type,Capacity,fixed\n"
                 "Luton Jobcentre,509000,221500,Jobcentre Plus,\"1,200\",\n"
                 "Central Library,509200,221300,library,,no\n"
                 "Marsh Farm surgery,506000,225000,GP practice,300,yes\n"
                 "Old office,508000,222000,libary,,\n")
    hubs = read_hub_sites(path)
    assert hubs.crs.to_epsg() == 27700
    assert hubs["type"].tolist() == ["jobcentre", "library", "GP surgery", "other"]
    assert hubs["type_given"].tolist() == ["Jobcentre Plus", "library", "GP practice", "libary"]
    assert hubs["capacity"].iloc[0] == 1200 and np.isnan(hubs["capacity"].iloc[1]) and hubs["capacity"].iloc[2] == 300
    assert hubs["fixed"].tolist() == [True, False, True, True]  # blank = fixed for existing hubs
    assert set(hubs["role"]) == {"existing"}
    notes = " ".join(hubs.attrs["notes"])
    assert "row 5 'Old office': 'libary'" in notes and "counted as other" in notes


def test_bad_capacity_and_fixed_are_all_reported(tmp_path):
    path = write(tmp_path / "hubs.csv", "name,easting,northing,capacity,fixed\n"
                                        "A,509000,221500,lots,\nB,509200,221300,10,maybe\nC,509300,221300,-5,\n")
    with pytest.raises(SitesError) as err:
        read_hub_sites(path)
    problems = [(p["row"], p["problem"]) for p in err.value.problems]
    assert problems == [("row 2", "capacity 'lots' is not a number of people"),
                        ("row 3", "fixed 'maybe' is not true/false (or yes/no)"),
                        ("row 4", "capacity '-5' is not a number of people")]
    assert str(err.value).count("\n") == 0


def test_candidates_are_never_fixed(tmp_path):
    path = write(tmp_path / "cands.csv", "name,easting,northing,fixed\nA,509000,221500,yes\nB,509200,221300,\n")
    cands = read_hub_sites(path, "candidate")
    assert not cands["fixed"].any() and set(cands["role"]) == {"candidate"}
    assert "ignored for candidate sites" in " ".join(cands.attrs["notes"])


def test_site_ids_must_be_unique_across_existing_and_candidates(tmp_path):
    a = read_hub_sites(write(tmp_path / "a.csv", "name,easting,northing\nHub One,509000,221500\n"))
    b = read_hub_sites(write(tmp_path / "b.csv", "name,easting,northing\nHub One,508000,222500\n"), "candidate")
    with pytest.raises(HubError, match="site id 'hub_one' is used twice \\(existing and candidate sites\\)"):
        site_pool(a, b)
    pool = site_pool(a, None)
    assert pool["fixed"].tolist() == [True]


def test_sites_outside_the_area_are_refused_dropped_or_kept(store, luton, tmp_path):
    lsoa = store.boundaries("lsoa", luton.lad_codes)
    outline = lsoa.geometry.union_all()
    near = outline.buffer(300).exterior.interpolate(0.3, normalized=True)   # 300 m outside: inside by tolerance
    far = outline.buffer(2000).exterior.interpolate(0.3, normalized=True)   # 2 km outside
    path = write(tmp_path / "hubs.csv", "name,easting,northing\n"
                 f"Town centre,509000,221500\nEdge,{near.x:.1f},{near.y:.1f}\nBeyond,{far.x:.1f},{far.y:.1f}\n"
                 "Leeds,429900,433500\n")
    hubs = read_hub_sites(path)
    with pytest.raises(SitesOutsideAreaError) as err:
        locate_in_area(hubs, lsoa, area_name="Luton")
    message = str(err.value)
    assert message.startswith("2 sites lie outside Luton: 'Beyond' (existing, 2.0 km outside), 'Leeds' (existing, ")
    assert "--sites-outside keep" in message and message.count("\n") == 0
    dropped = locate_in_area(hubs, lsoa, area_name="Luton", outside="drop")
    assert dropped["name"].tolist() == ["Town centre", "Edge"] and set(dropped["lad_name"]) == {"Luton"}
    assert "left out 2 sites outside Luton" in dropped.attrs["notes"][-1]
    kept = locate_in_area(hubs, lsoa, area_name="Luton", outside="keep")
    assert kept["lad_code"].tolist() == [LUTON, LUTON, None, None]
    assert kept["outside_m"].iloc[3] > 100_000


# -- demand -----------------------------------------------------------------------------------------------
def test_demand_points_sit_on_lsoa_centroids(store, luton):
    cent = lsoa_centroids(store, luton.lad_codes)
    table = pd.DataFrame({"code": cent["code"], "weight": np.arange(len(cent)) * 10.0,
                          "priority": np.where(np.arange(len(cent)) % 3 == 0, "top 10%", "other")})
    demand = demand_points(table, store=store, lad_codes=luton.lad_codes, area_name="Luton")
    assert demand.crs.to_epsg() == 27700 and len(demand) == len(cent)
    assert np.allclose(demand.geometry.x, cent.geometry.x) and np.allclose(demand.geometry.y, cent.geometry.y)
    assert (demand["lad_name"] == "Luton").all() and demand["name"].str.startswith("Luton ").all()
    assert demand["priority"].tolist() == (np.arange(len(cent)) % 3 == 0).tolist()
    assert demand.attrs["label"] == "priority demand" and demand.attrs["verb"] == "is"


def test_priority_flags_and_bands():
    table = pd.DataFrame({"code": list("ABCDEFG"), "weight": [1] * 7, "x": [500000.0] * 7, "y": [200000.0] * 7,
                          "name": list("abcdefg"), "lad_code": ["X"] * 7, "lad_name": ["x"] * 7,
                          "priority": ["top 10%", "top 20%", "other", "yes", "0", True, "no data"]})
    assert demand_points(table)["priority"].tolist() == [True, True, False, True, False, True, False]
    narrow = demand_points(table, band="top 10%")
    assert narrow["priority"].tolist() == [True, False, False, True, False, True, False]
    assert band_set("top 20%") >= {"top 10%", "top 20%", "priority"} and "top 30%" not in band_set("top 20%")
    by_band = demand_points(table.drop(columns="priority").assign(band=["top 10%", "top 20%", "other", "x", "", "priority", "no data"]))
    assert by_band["priority"].tolist() == [True, True, False, False, False, True, False]


def test_bad_demand_rows_are_named(store, luton):
    codes = lsoa_centroids(store, luton.lad_codes)["code"].tolist()
    table = pd.DataFrame({"code": [codes[0], codes[1], codes[1], "E01999999"], "weight": ["10", "-3", "4", "5"],
                          "priority": ["true", "maybe", "false", "true"]})
    with pytest.raises(DemandError) as err:
        demand_points(table, store=store)
    text = str(err.value)
    assert text.startswith("demand: 4 demand rows cannot be used: ")
    assert f"row 4 {codes[1]}: duplicate code (also row 3)" in text
    assert f"row 3 {codes[1]}: weight '-3' is not a number 0 or more" in text
    assert "(and 1 more)" in text and text.count("\n") == 0


def test_demand_outside_the_area_is_refused(store, luton):
    bedford = lsoa_centroids(store, ["E06000055"])["code"].iloc[:2].tolist()
    table = pd.DataFrame({"code": bedford, "weight": [1, 2], "priority": [True, True]})
    with pytest.raises(DemandError, match=rf"2 demand codes are not in Luton: {bedford[0]} \(Bedford\)"):
        demand_points(table, store=store, lad_codes=luton.lad_codes, area_name="Luton")


def test_read_demand_file(store, luton, tmp_path):
    codes = lsoa_centroids(store, luton.lad_codes)["code"].iloc[:3].tolist()
    path = write(tmp_path / "demand.csv", "code,weight,priority\n" + "".join(f"{c},\"1,50{i}\",{i % 2}\n" for i, c in enumerate(codes)))
    demand = read_demand_file(path, store=store, area=luton)
    assert demand["weight"].tolist() == [1500.0, 1501.0, 1502.0] and demand["priority"].tolist() == [False, True, False]


def test_demand_from_scores_joins_bands_weights_and_centroids(store, luton):
    cent = lsoa_centroids(store, luton.lad_codes)
    codes = cent["code"].tolist()
    scores = pd.DataFrame({"code": codes, "band": ["top 10%", "top 20%", "other"] * (len(codes) // 3) + ["other"] * (len(codes) % 3)})
    weights = pd.Series(np.arange(len(codes), dtype=float) + 1000, index=codes).drop(codes[5])
    demand = demand_from_scores(scores, weights, cent, kind="population")
    assert len(demand) == len(codes) - 1 and codes[5] not in set(demand["code"])
    assert demand.attrs["label"] == "priority residents" and demand.attrs["verb"] == "live"
    row = demand.set_index("code").loc[codes[1]]
    assert row["priority"] and row["weight"] == 1001 and row["band"] == "top 20%"
    assert not demand.set_index("code").loc[codes[2], "priority"]
    assert "1 area has no population figure" in demand.attrs["notes"][0]
    narrow = demand_from_scores(scores, weights, cent, band="top 10%")
    assert not narrow.set_index("code").loc[codes[1], "priority"]


def test_priority_demand_without_the_indicator_layers_says_what_to_do(monkeypatch, store):
    monkeypatch.setitem(sys.modules, "layers.indicators", None)  # as on a branch without the indicator layers
    with pytest.raises(IndicatorsMissing) as err:
        priority_demand("Luton", "neighbourhood", store=store)
    assert "--demand-file CSV with code,weight,priority" in str(err.value)
    with pytest.raises(DemandError, match="unknown demand 'jobs'"):
        priority_demand("Luton", "neighbourhood", demand="jobs", store=store)


# -- candidates -------------------------------------------------------------------------------------------
def test_station_candidates_in_the_south_midlands(store):
    area = resolve_area("South Midlands", store.districts())
    cands = station_candidates(area, store)
    codes = set(cands["site_id"].str.removeprefix("station_"))
    assert {"LUT", "LTN", "LEA", "BDM", "MKC", "BLY", "NMP", "KET", "WEL", "COR", "LBZ", "FLT"} <= codes
    assert not {"HIT", "WFJ", "SVG", "MHR", "BAN", "LEI"} & codes  # Hitchin, Watford, Stevenage, Market Harborough, Banbury, Leicester
    assert cands.crs.to_epsg() == 27700 and not cands["fixed"].any() and set(cands["role"]) == {"candidate"}
    assert set(cands["lad_code"]) <= SOUTH_MIDLANDS and (cands["type"] == "railway station").all()
    # Independent check: every English station inside the districts' outlines, and no other.
    stations = store.table("places", "stations")
    outlines = store.boundaries("lad", sorted(SOUTH_MIDLANDS)).geometry.union_all()
    inside = stations[(stations["country"] == "england") & stations.within(outlines)]
    assert codes == set(inside["code"])
    assert cands.set_index("site_id").loc["station_LUT", "lad_name"] == "Luton"


def test_priority_centroid_candidates(store, luton):
    cent = lsoa_centroids(store, luton.lad_codes)
    table = pd.DataFrame({"code": cent["code"], "weight": 100.0, "priority": np.arange(len(cent)) % 4 == 0})
    demand = demand_points(table, store=store)
    cands = priority_centroid_candidates(demand)
    pri = demand[demand["priority"]]
    assert cands["site_id"].tolist() == ("centre_" + pri["code"]).tolist()
    assert np.allclose(cands.geometry.x, pri.geometry.x) and cands["name"].iloc[0] == f"{pri['name'].iloc[0]} (centre)"
    assert not cands["fixed"].any()
    with pytest.raises(DemandError, match="no priority areas"):
        priority_centroid_candidates(demand.assign(priority=False))


def test_demand_codes_keep_their_spelling_and_lsoa_codes_are_matched_in_any_case(store, luton):
    code = lsoa_centroids(store, luton.lad_codes)["code"].iloc[0]
    lsoa = demand_points(pd.DataFrame({"code": [code.lower()], "weight": ["1,500"]}), store=store)
    assert lsoa["code"].tolist() == [code] and lsoa["weight"].tolist() == [1500.0] and lsoa["priority"].all()
    own = demand_points(pd.DataFrame({"code": ["site-a"], "weight": [3], "x": [509000], "y": [221500], "name": ["A"],
                                      "lad_code": [LUTON], "lad_name": ["Luton"]}))
    assert own["code"].tolist() == ["site-a"] and own.geometry.x.iloc[0] == 509000


def test_models_refuse_a_demand_table_that_is_not_a_demand_layer():
    from layers.hubs.coverage import HubCoverage

    with pytest.raises(DemandError, match="demand must be a GeoDataFrame of points in EPSG:27700"):
        HubCoverage.from_geodataframe(pd.DataFrame({"code": ["a"], "weight": [1]}), None, "bus", 30)
    points = gpd.GeoDataFrame({"code": ["a"]}, geometry=gpd.points_from_xy([509000], [221500]), crs=27700)
    with pytest.raises(DemandError, match="demand has no weight column"):
        HubCoverage.from_geodataframe(points, None, "bus", 30)


def test_rural_demand_points_travel_at_the_estimate_engines_rural_speeds(store):
    """Hub plans measure rural LSOAs with the rural bus speed, headway and circuity, as the access page does."""
    from layers.hubs.matrix import travel_minutes
    from layers.profiles import load_profile

    area = resolve_area("Cheshire West and Chester", store.districts())
    demand = priority_demand(area, load_profile("neighbourhood"), store=store)
    classes = lsoa_centroids(store, area.lad_codes, urban_rural=True).set_index("code")["urban_rural"]
    assert demand["urban_rural"].tolist() == classes.reindex(demand["code"]).tolist()
    rural = (demand["urban_rural"] == "Rural").to_numpy()
    assert 0 < rural.sum() < len(demand)  # both kinds among the priority areas
    sites = gpd.GeoDataFrame({"site_id": ["chester"], "name": ["Chester"]},
                             geometry=gpd.points_from_xy([340700], [366300]), crs="EPSG:27700")
    with_classes, _ = travel_minutes(demand, sites, "bus", engine="estimate")
    all_urban, _ = travel_minutes(demand.drop(columns="urban_rural"), sites, "bus", engine="estimate")
    assert (with_classes[rural] > all_urban[rural]).all()  # slower, hourly, more roundabout
    assert np.array_equal(with_classes[~rural], all_urban[~rural])
