"""Network engine on the real Newport OpenStreetMap extract (the data mirror's transport/ file).

1,500 origins x 50 sites placed at random (seeded) on the extract's car network area in EPSG:27700,
timed including reading the .osm.pbf and building the graph. Side by side, on the same graph: networkx
Dijkstra from each site (the naive alternative), with the largest difference in minutes between the two
routers' node-to-node times (the engine's edge snapping is then the same for both, so it is left out).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
from scipy.sparse.csgraph import dijkstra

ORIGINS, SITES = 1500, 50
PBF = "transport/osm_newport_south_wales_2023-06-13.osm.pbf"


def _mirror() -> Path:
    return Path(os.environ.get("WARDSCOPE_MIRROR", Path(__file__).resolve().parents[2] / "shared" / "data"))


def _points(rng, net, count, prefix):
    """Points near random main-network nodes (within 300 m), so every one can join the network."""
    main = np.flatnonzero(net.main)
    pick = rng.choice(main, count)
    x = net.x[pick] + rng.uniform(-300, 300, count)
    y = net.y[pick] + rng.uniform(-300, 300, count)
    return gpd.GeoDataFrame({"id": [f"{prefix}{i}" for i in range(count)]}, geometry=gpd.points_from_xy(x, y), crs=27700)


def networkx_side_by_side(net, s_node, o_node, limit):
    """(build s, routing s, largest |difference| minutes) of networkx vs scipy on ``net.reverse``."""
    import networkx as nx

    start = time.perf_counter()
    coo = net.reverse.tocoo()
    g = nx.DiGraph()
    g.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()))
    build = time.perf_counter() - start
    start = time.perf_counter()
    nx_min = np.full((len(o_node), len(s_node)), np.nan)
    for j, node in enumerate(s_node):
        lengths = nx.single_source_dijkstra_path_length(g, int(node), cutoff=limit)
        nx_min[:, j] = [lengths.get(int(k), np.nan) for k in o_node]
    routing = time.perf_counter() - start
    ours = dijkstra(net.reverse, directed=True, indices=np.asarray(s_node), limit=limit)[:, np.asarray(o_node)].T
    ours[~np.isfinite(ours)] = np.nan
    same = bool((np.isnan(ours) == np.isnan(nx_min)).all())
    diff = float(np.nanmax(np.abs(ours - nx_min))) if same else float("inf")
    return build, routing, diff


def cold_and_warm(o, s, pbf):
    """(matrix, seconds including reading the .osm.pbf and building the graph, seconds again on the cached
    graph) of the network engine's car matrix from ``o`` to ``s``."""
    from geo.travel import network as net_engine
    from geo.travel import travel_time_matrix

    net_engine._WAYS_CACHE.clear()
    net_engine._NET_CACHE.clear()
    timings = []
    for _ in range(2):
        start = time.perf_counter()
        ours = travel_time_matrix(o, s, "car", engine="network", network=pbf, origin_id="id", destination_id="id")
        timings.append(time.perf_counter() - start)
    return ours, timings[0], timings[1]


def run():
    from geo.travel import network as net_engine

    pbf = _mirror() / PBF
    if not pbf.exists():
        raise FileNotFoundError(f"{pbf} (the data mirror's Newport extract) is not there")
    net = net_engine.load_network(pbf, "car", walk_speed_kmh=4.8, cycle_speed_kmh=16.0,
                                  car_speed_factor=net_engine.CAR_SPEED_FACTOR)
    rng = np.random.default_rng(7)
    o, s = _points(rng, net, ORIGINS, "o"), _points(rng, net, SITES, "s")
    ours, total, routing = cold_and_warm(o, s, pbf)
    yield "access_network_newport_graph_nodes", net.stats["nodes"], "nodes"
    yield "access_network_newport_graph_edges", net.stats["edges"], "edges"
    yield "access_network_newport_1500x50_car_total_incl_build", total, "s"
    yield "access_network_newport_1500x50_car_routing_and_snapping", routing, "s"
    yield "access_network_newport_reachable_pairs_share", float(np.isfinite(ours["minutes"].to_numpy()).mean()), "ratio"
    snap_m = np.array(list(ours.attrs["snap_m"]["origins"].values()), dtype=float)
    if np.isfinite(snap_m).any():
        yield "access_network_newport_origin_snap_median_m", float(np.nanmedian(snap_m)), "m"

    tree, nodes = net.tree("main")
    o_node = nodes[tree.query(np.column_stack([o.geometry.x, o.geometry.y]))[1]]
    s_node = nodes[tree.query(np.column_stack([s.geometry.x, s.geometry.y]))[1]]
    start = time.perf_counter()
    dijkstra(net.reverse, directed=True, indices=s_node, limit=net_engine.MAX_MINUTES)
    scipy_routing = time.perf_counter() - start
    nx_build, nx_routing, diff = networkx_side_by_side(net, s_node, o_node, net_engine.MAX_MINUTES)
    yield "access_network_newport_1500x50_networkx_build", nx_build, "s"
    yield "access_network_newport_1500x50_networkx_routing", nx_routing, "s"
    yield "access_network_newport_1500x50_scipy_routing", scipy_routing, "s"
    yield "access_network_newport_networkx_over_scipy_routing_ratio", nx_routing / scipy_routing, "x"
    yield "access_network_newport_max_abs_difference_vs_networkx", diff, "min"
