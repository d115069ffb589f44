"""The network engine on small OpenStreetMap files written here, against hand-computed times."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest

from geo.errors import NetworkCoverageError, SourceFileError, TravelError
from geo.travel import UnknownModeError, travel_time_matrix
from geo.travel.network import load_network
from geo.travel.osm import parse_maxspeed, read_osm_ways
from tests.osmfile import write_osm

X0, Y0 = 510_000.0, 220_000.0  # near Luton; BNG metres
MPH = 1.609344

NODES = {
    1: (X0, Y0), 2: (X0 + 1000, Y0), 3: (X0 + 2000, Y0),
    4: (X0, Y0 + 1000), 5: (X0 + 1000, Y0 + 1000), 6: (X0 + 2000, Y0 + 1000),
    20: (X0 + 5000, Y0), 21: (X0 + 5300, Y0),  # an island: roads joined to nothing else
}
WAYS = [
    (101, [1, 2, 3], {"highway": "residential", "maxspeed": "30 mph"}),
    (102, [4, 5, 6], {"highway": "primary", "maxspeed": "60"}),
    (103, [1, 4], {"highway": "residential", "maxspeed": "30 mph", "oneway": "yes"}),
    (104, [3, 6], {"highway": "residential", "maxspeed": "30 mph"}),
    (105, [2, 5], {"highway": "footway"}),
    (106, [20, 21], {"highway": "residential", "maxspeed": "30 mph"}),
    (107, [5, 6], {"highway": "service", "access": "private"}),
    (108, [3, 6], {"highway": "proposed"}),
]
NO_EXTRAS = {"car_park_min": 0, "cycle_park_min": 0, "car_speed_factor": 1}


def minutes_at(metres: float, kmh: float) -> float:
    return metres / (kmh * 1000 / 60)


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    return write_osm(tmp_path_factory.mktemp("osm") / "town.osm.pbf", NODES, WAYS)


def points(xy, prefix):
    return gpd.GeoDataFrame({"id": [f"{prefix}{i}" for i in range(len(xy))]},
                            geometry=gpd.points_from_xy([p[0] for p in xy], [p[1] for p in xy]), crs=27700)


def times(town, origins, sites, mode, **params):
    m = travel_time_matrix(points(origins, "o"), points(sites, "s"), mode, engine="network", network=town,
                           origin_id="id", destination_id="id", **{**NO_EXTRAS, **params})
    return m["minutes"].to_numpy().reshape(len(origins), len(sites)), m


def test_reader_keeps_roads_and_tags(town):
    ways = read_osm_ways(town)
    assert ways.stats["ways"] == 7  # highway=proposed is not a road
    assert set(ways.highway) == {"residential", "primary", "footway", "service"}
    assert np.allclose(sorted(ways.x), sorted(v[0] for k, v in NODES.items()), atol=0.05)
    assert parse_maxspeed("30 mph") == pytest.approx(30 * MPH)
    assert parse_maxspeed("50") == 50 and parse_maxspeed("GB:nsl_single") == pytest.approx(60 * MPH)
    assert np.isnan(parse_maxspeed("signals"))


def test_car_times_follow_speeds_and_one_way_streets(town):
    m, _ = times(town, [NODES[1], NODES[6]], [NODES[6], NODES[1]], "car")
    # 1 -> 6: the one-way 1->4 at 30 mph, then 2 km of primary at 60 km/h.
    assert m[0, 0] == pytest.approx(minutes_at(1000, 30 * MPH) + minutes_at(2000, 60), rel=1e-4)
    # 6 -> 1 may not use 4->1 against the one-way, nor the footway or the private road: 6-3-2-1 at 30 mph.
    assert m[1, 1] == pytest.approx(minutes_at(3000, 30 * MPH), rel=1e-4)
    assert m[0, 1] == pytest.approx(0, abs=1e-3) and m[1, 0] == pytest.approx(0, abs=1e-3)  # same place: 0, not NaN


def test_parking_and_speed_factor_are_added(town):
    m, frame = times(town, [NODES[3]], [NODES[6]], "car", car_park_min=5, car_speed_factor=0.5)
    assert m[0, 0] == pytest.approx(minutes_at(1000, 30 * MPH * 0.5) + 5, rel=1e-4)
    assert frame.attrs["params"]["car_park_min"] == 5 and frame.attrs["engine"] == "network"


def test_walking_uses_footways_both_ways(town):
    m, _ = times(town, [NODES[1], NODES[6]], [NODES[5], NODES[1]], "walk")
    assert m[0, 0] == pytest.approx(minutes_at(2000, 4.8), rel=1e-4)  # 1-2 then the footway 2-5
    assert m[1, 1] == pytest.approx(minutes_at(3000, 4.8), rel=1e-4)  # 6-5-4-1 against the one-way is fine on foot


def test_cycling_obeys_one_way_and_pushes_on_footways(town):
    m, _ = times(town, [NODES[4], NODES[2]], [NODES[1], NODES[5]], "cycle")
    # 4 -> 1 may not ride against the one-way (3.75 min); the loop 4-5-6-3-2-1 is 5 km at 16 km/h.
    assert m[0, 0] == pytest.approx(minutes_at(5000, 16), rel=1e-4)
    # A very slow rider (4 km/h) is quicker pushing along the footway at walking pace (4.8 km/h).
    slow, _ = times(town, [NODES[4], NODES[2]], [NODES[1], NODES[5]], "cycle", cycle_speed_kmh=4)
    assert slow[0, 0] == pytest.approx(minutes_at(2000, 4) + minutes_at(1000, 4.8), rel=1e-4)  # ride 4-5, push 5-2, ride 2-1
    assert slow[1, 1] == pytest.approx(minutes_at(1000, 4.8), rel=1e-4)


def test_snapping_adds_the_walk_and_refuses_far_points(town):
    off = (X0, Y0 - 300)  # 300 m south of node 1
    lost = (X0 + 3500, Y0 + 500)  # inside the extract, 1.5 km from any road
    m, frame = times(town, [off, lost], [NODES[2]], "walk", snap_m=500)
    assert m[0, 0] == pytest.approx(300 * 1.2 / 80 + minutes_at(1000, 4.8), rel=1e-4)
    assert np.isnan(m[1, 0])
    assert frame.attrs["unreachable"] == [{"id": "o1", "role": "origin", "reason": "no walk route within 500 m"}]
    tight, _ = times(town, [off], [NODES[2]], "walk", snap_m=200)
    assert np.isnan(tight[0, 0])


def test_island_is_unreachable_never_short(town):
    on_island = (X0 + 5150, Y0 + 20)
    m, frame = times(town, [on_island, NODES[1]], [NODES[2], (X0 + 5300, Y0)], "car")
    assert np.isnan(m[0]).all() and np.isnan(m[:, 1]).all()  # from the island, and to the island site
    assert m[1, 0] == pytest.approx(minutes_at(1000, 30 * MPH), rel=1e-3)
    reasons = {(u["role"], u["id"]): u["reason"] for u in frame.attrs["unreachable"]}
    assert "not connected to the main network" in reasons[("origin", "o0")]
    assert "not connected to the main network" in reasons[("destination", "s1")]
    assert not (frame["minutes"] < 1).any()


def test_journeys_beyond_max_minutes_are_unreachable(town):
    m, _ = times(town, [NODES[1]], [NODES[3]], "walk", max_minutes=20)  # 2 km walk is 25 minutes
    assert np.isnan(m[0, 0])


def test_network_not_covering_the_area_is_refused(town):
    with pytest.raises(NetworkCoverageError, match=r"town.osm.pbf does not cover the area: the network covers 1 of 2 origins \(50%\)"):
        times(town, [NODES[1], (X0 + 40_000, Y0)], [NODES[2]], "walk")
    with pytest.raises(NetworkCoverageError, match="sites"):
        times(town, [NODES[1]], [(X0, Y0 + 30_000)], "car")


def test_bus_and_missing_network_are_clear_errors(town):
    with pytest.raises(UnknownModeError, match="cannot do bus"):
        times(town, [NODES[1]], [NODES[2]], "bus")
    with pytest.raises(TravelError, match="needs a road network"):
        travel_time_matrix(points([NODES[1]], "o"), points([NODES[2]], "s"), "walk", engine="network",
                           origin_id="id", destination_id="id")


def test_not_an_osm_file_is_a_source_error(tmp_path):
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"this is not a protocol buffer")
    with pytest.raises(SourceFileError, match="bad.osm.pbf"):
        read_osm_ways(bad)


def test_matches_networkx_on_a_random_one_way_grid(tmp_path):
    rng = np.random.default_rng(7)
    n = 12
    nodes = {i * n + j + 1: (X0 + 200 * j + rng.uniform(-40, 40), Y0 + 200 * i + rng.uniform(-40, 40))
             for i in range(n) for j in range(n)}
    ways, wid = [], 1000
    for i in range(n):
        for j in range(n - 1):
            for a, b in ((i * n + j + 1, i * n + j + 2), (j * n + i + 1, (j + 1) * n + i + 1)):
                tags = {"highway": str(rng.choice(["residential", "tertiary", "primary"])),
                        "maxspeed": str(rng.choice(["20 mph", "30 mph", "40"]))}
                if rng.random() < 0.3:
                    tags["oneway"] = "yes"
                ways.append((wid, [a, b], tags))
                wid += 1
    path = write_osm(tmp_path / "grid.osm.pbf", nodes, ways)
    origins = [nodes[k] for k in rng.choice(list(nodes), 30, replace=False)]
    sites = [nodes[k] for k in rng.choice(list(nodes), 5, replace=False)]
    m, _ = times(path, origins, sites, "car")
    net = load_network(path, "car", walk_speed_kmh=4.8, cycle_speed_kmh=16.0, car_speed_factor=1.0)
    coo = net.graph.tocoo()
    g = nx.DiGraph()
    g.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()))
    index = {(round(x), round(y)): k for k, (x, y) in enumerate(zip(net.x, net.y))}
    for a, o in enumerate(origins):
        for b, s in enumerate(sites):
            src, dst = index[(round(o[0]), round(o[1]))], index[(round(s[0]), round(s[1]))]
            try:
                expected = nx.dijkstra_path_length(g, src, dst)
            except nx.NetworkXNoPath:
                expected = np.nan
            snap_legs = (np.hypot(net.x[src] - o[0], net.y[src] - o[1]) + np.hypot(net.x[dst] - s[0], net.y[dst] - s[1])) * 1.2 / 80
            if np.isnan(expected):
                assert np.isnan(m[a, b])
            else:
                assert m[a, b] == pytest.approx(expected + snap_legs, rel=1e-6, abs=1e-4)  # node vs edge snap of a point ~1e-5 m off
