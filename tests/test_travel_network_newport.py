"""The network engine on the real OpenStreetMap extract of Newport (data mirror, transport/).

CRS: EPSG:27700 metres. Places come from the mirror: Newport (South Wales) and Risca & Pontymister
railway stations, and ONS LSOA 2021 population-weighted centroids in Wales (W01) and Cardiff.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from scipy.sparse.csgraph import dijkstra

from geo.errors import NetworkCoverageError
from geo.travel import travel_time_matrix
from geo.travel import network as N

MIRROR = Path("/work/shared/data")
PBF = MIRROR / "transport" / "osm_newport_south_wales_2023-06-13.osm.pbf"
pytestmark = pytest.mark.skipif(not PBF.is_file(), reason="data mirror not available")
TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)
NO_EXTRAS = {"car_park_min": 0, "car_speed_factor": 1}


def points(xy, ids):
    xy = np.asarray(xy, dtype=float)
    return gpd.GeoDataFrame({"id": list(ids)}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=27700)


def station(crs_code: str) -> tuple[float, float]:
    s = pd.read_csv(MIRROR / "places" / "uk_railway_stations.csv")
    row = s[s["crsCode"] == crs_code].iloc[0]
    return TO_BNG.transform(row["long"], row["lat"])


@pytest.fixture(scope="module")
def centroids():
    c = pd.read_csv(MIRROR / "lookups" / "lsoa21_population_weighted_centroids.csv")
    c = c[c["LSOA21CD"].str.startswith("W01")].copy()
    c["x"], c["y"] = TO_BNG.transform(c["LONG"].to_numpy(), c["LAT"].to_numpy())
    return c.sort_values("LSOA21CD")


@pytest.fixture(scope="module")
def net():
    return N.load_network(PBF, "car", walk_speed_kmh=4.8, cycle_speed_kmh=16.0, car_speed_factor=1.0,
                          urban_residential_km_per_km2=N.URBAN_RESIDENTIAL_KM_PER_KM2)


def test_newport_to_rogerstone_by_car_is_believable_and_near_the_estimate():
    # The extract's roads span only E 324-336 km, N 180-189 km (about 12 x 9 km around Newport; Risca
    # and Cardiff lie outside), so the longest known pair is Newport station to Rogerstone station,
    # 4.6 km apart in a straight line.
    nwp, ror = station("NWP"), station("ROR")
    o, s = points([nwp], ["Newport"]), points([ror], ["Rogerstone"])
    net_m = travel_time_matrix(o, s, "car", engine="network", network=PBF, origin_id="id", destination_id="id")
    est_m = travel_time_matrix(o, s, "car", engine="estimate", origin_id="id", destination_id="id")
    ours, estimate = float(net_m["minutes"].iloc[0]), float(est_m["minutes"].iloc[0])
    # About 6 km by road (A4042 / A467 or Bassaleg Road); a driver would say 10-20 minutes door to door.
    assert 7 <= ours <= 25
    assert 0.5 <= ours / estimate <= 2.0
    snaps = net_m.attrs["snap_m"]
    # Newport station sits on Queensway; Rogerstone station's own lane is not joined to the routable car
    # network in this extract, so it snaps about 360 m away (walked, and reported).
    assert 0 <= snaps["origins"]["Newport"] < 100
    assert 100 < snaps["destinations"]["Rogerstone"] < N.SNAP_M


def test_urban_and_rural_defaults_both_apply(net):
    share = net.stats["urban_segment_share"]
    assert 0.3 < share < 0.95  # Newport's streets are urban; the lanes to the west and north are not
    assert N.CAR_RURAL_MPH["primary"] > N.CAR_URBAN_MPH["primary"]


def test_engine_equals_networkx_between_network_nodes(net):
    rng = np.random.default_rng(3)
    main = np.flatnonzero(net.main)
    src, dst = rng.choice(main, 15, replace=False), rng.choice(main, 4, replace=False)
    o = points(np.column_stack([net.x[src], net.y[src]]), [f"o{i}" for i in range(len(src))])
    s = points(np.column_stack([net.x[dst], net.y[dst]]), [f"s{i}" for i in range(len(dst))])
    m = travel_time_matrix(o, s, "car", engine="network", network=net, origin_id="id", destination_id="id",
                           max_minutes=1000, **NO_EXTRAS)
    m = m["minutes"].to_numpy().reshape(len(src), len(dst))
    coo = net.graph.tocoo()
    g = nx.DiGraph()
    g.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()))
    for a, u in enumerate(src):
        for b, v in enumerate(dst):
            try:
                expected = nx.dijkstra_path_length(g, int(u), int(v))
            except nx.NetworkXNoPath:
                assert np.isnan(m[a, b])
                continue
            assert m[a, b] == pytest.approx(expected, abs=1e-6)


def test_a_point_beside_a_long_edge_snaps_to_it_and_splits_its_time(net):
    lo, hi, fwd, back, _ = N.edge_index(net)
    length = np.hypot(net.x[hi] - net.x[lo], net.y[hi] - net.y[lo])
    two_way = np.flatnonzero((fwd > 0) & (back > 0) & (length > 400))
    e = two_way[np.argmax(length[two_way])]
    ax, ay, bx, by = net.x[lo[e]], net.y[lo[e]], net.x[hi[e]], net.y[hi[e]]
    nx_, ny_ = -(by - ay) / length[e], (bx - ax) / length[e]  # unit normal
    p = np.array([[(ax + bx) / 2 + 25 * nx_, (ay + by) / 2 + 25 * ny_]])
    snapped = N.snap_to_edges(net, p, 500)
    assert snapped.dist[0] == pytest.approx(25, abs=1.0)  # the perpendicular distance, not to a node
    assert snapped.t[0] == pytest.approx(0.5, abs=0.05)
    # A destination across town: the point's time lies between its segment ends' times.
    target = int(np.flatnonzero(net.main)[0])
    dest = N.snap_to_edges(net, np.array([[net.x[target], net.y[target]]]), 500)
    got = N.network_minutes(net, snapped, dest, limit=np.inf)[0, 0]
    to_target = dijkstra(net.reverse, directed=True, indices=[target])[0]
    t_lo, t_hi = to_target[lo[e]], to_target[hi[e]]
    t = snapped.t[0]
    assert got == pytest.approx(min(t * back[e] + t_lo, (1 - t) * fwd[e] + t_hi), abs=1e-6)
    assert min(t_lo, t_hi) <= got <= min(t_lo, t_hi) + max(fwd[e], back[e])
    # Door to door adds the snap distance walked (x circuity) at walking speed.
    door = travel_time_matrix(points(p, ["p"]), points([[net.x[target], net.y[target]]], ["d"]), "car",
                              engine="network", network=net, origin_id="id", destination_id="id",
                              max_minutes=1000, **NO_EXTRAS)
    walk = snapped.dist[0] * N.OFF_NETWORK_CIRCUITY / (4.8 * 1000 / 60)
    assert door["minutes"].iloc[0] == pytest.approx(got + walk, abs=1e-4)
    assert door.attrs["snap_m"]["origins"]["p"] == pytest.approx(25, abs=1.0)


def test_origins_outside_the_extract_get_a_coverage_message(centroids):
    inside = centroids[centroids.x.between(327000, 333000) & centroids.y.between(184000, 188000)].head(10)
    cardiff = centroids[(centroids.x < 318000) & centroids.y.between(172000, 180000)].head(3)
    assert len(inside) == 10 and len(cardiff) == 3
    both = pd.concat([inside, cardiff])
    o = points(np.column_stack([both.x, both.y]), both["LSOA21CD"])
    s = points([station("NWP")], ["Newport"])
    with pytest.raises(NetworkCoverageError, match=r"osm_newport_south_wales_2023-06-13.osm.pbf does not cover "
                       r"the area: the network covers 10 of 13 origins \(77%\); 3 of 13 origins lie more than 2000 m"):
        travel_time_matrix(o, s, "car", engine="network", network=PBF, origin_id="id", destination_id="id")
    inside_only = travel_time_matrix(points(np.column_stack([inside.x, inside.y]), inside["LSOA21CD"]), s, "car",
                                     engine="network", network=PBF, origin_id="id", destination_id="id")
    assert inside_only["minutes"].notna().all()
    assert (inside_only["minutes"] > 0).all() and (inside_only["minutes"] < 30).all()
