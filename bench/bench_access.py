"""Transport access figures.

* Estimate engine: every English LSOA 2021 population-weighted centroid x 1,000 sites: nearest site and
  counts within 30/45/60 minutes by bus (target <= 2 s); the same with job sums; the same with each
  LSOA's urban/rural classification (rural origins answered with the rural parameters).
* Network engine: 1,500 origins x 50 sites on a synthetic ~200,000-node drive network written as an
  .osm.pbf with pyosmium (perturbed grid, mixed highway types and limits, one-way streets, missing
  links), including reading the file and building the graph (target <= 60 s); side by side, plain
  networkx Dijkstra from each site on the same graph, as a ratio, with the largest difference in minutes.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from bench.timing import best_of

GRID_SIDE = 448            # 448 x 448 = 200,704 nodes
GRID_SPACING_M = 100.0
ORIGINS, SITES = 1500, 50
X0, Y0 = 430_000.0, 230_000.0  # the synthetic town sits in the Midlands (BNG metres)


def _estimate_inputs():
    from geo.store import Store

    store = Store()
    lsoa = pd.read_parquet(store.path("boundaries", "lsoa"), columns=["code", "pwc_x", "pwc_y"])
    origins = gpd.GeoDataFrame(lsoa[["code"]], geometry=gpd.points_from_xy(lsoa["pwc_x"], lsoa["pwc_y"]), crs=27700)
    rng = np.random.default_rng(2024)
    pick = rng.choice(len(lsoa), 1000, replace=False)
    sites = gpd.GeoDataFrame({"site_id": [f"s{i}" for i in range(1000)], "jobs": rng.integers(50, 5000, 1000).astype(float)},
                             geometry=gpd.points_from_xy(lsoa["pwc_x"].to_numpy()[pick] + rng.normal(0, 500, 1000),
                                                         lsoa["pwc_y"].to_numpy()[pick] + rng.normal(0, 500, 1000)),
                             crs=27700)
    return origins, sites


def _lsoa_path():
    from geo.store import Store

    return Store().path("boundaries", "lsoa")


def write_synthetic_network(path: Path, seed: int = 6) -> dict:
    """A perturbed-grid drive network as .osm.pbf: primary every 10th line, tertiary every 5th, residential
    between (20/30 mph, 15% one-way, 3% of residential links missing). Returns counts."""
    import osmium
    from osmium.osm.mutable import Node, Way
    from pyproj import Transformer

    rng = np.random.default_rng(seed)
    n = GRID_SIDE
    jj, ii = np.meshgrid(np.arange(n), np.arange(n))
    x = X0 + jj.ravel() * GRID_SPACING_M + rng.uniform(-25, 25, n * n)
    y = Y0 + ii.ravel() * GRID_SPACING_M + rng.uniform(-25, 25, n * n)
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(x, y)
    ways = 0
    with osmium.SimpleWriter(str(path), overwrite=True) as writer:
        for k in range(n * n):
            writer.add_node(Node(id=k + 1, location=(float(lon[k]), float(lat[k])), version=1))
        way_id = 1
        for line in range(n):
            if line % 10 == 0:
                tags = {"highway": "primary", "maxspeed": "40 mph"}
            elif line % 5 == 0:
                tags = {"highway": "tertiary"}  # untagged: speed imputed from the extract
            else:
                tags = None
            for horizontal in (True, False):
                ids = [line * n + j + 1 for j in range(n)] if horizontal else [j * n + line + 1 for j in range(n)]
                for start in range(0, n - 1, 10):
                    chunk = ids[start:start + 11]
                    way_tags = dict(tags) if tags else {"highway": "residential",
                                                        "maxspeed": "20 mph" if rng.random() < 0.3 else "30 mph"}
                    if tags is None:
                        if rng.random() < 0.03:
                            continue
                        if rng.random() < 0.15:
                            way_tags["oneway"] = "yes" if rng.random() < 0.5 else "-1"
                    writer.add_way(Way(id=way_id, nodes=chunk, tags=way_tags, version=1))
                    way_id += 1
                    ways += 1
    return {"nodes": n * n, "ways": ways}


def _points(rng, count, prefix):
    span = (GRID_SIDE - 1) * GRID_SPACING_M
    return gpd.GeoDataFrame({"id": [f"{prefix}{i}" for i in range(count)]},
                            geometry=gpd.points_from_xy(X0 + rng.uniform(0, span, count), Y0 + rng.uniform(0, span, count)),
                            crs=27700)


def run():
    from geo.travel import access_summary
    from geo.travel import network as net_engine

    origins, sites = _estimate_inputs()
    yield "access_estimate_lsoa_england_x_1000_sites_nearest_counts", best_of(
        lambda: access_summary(origins, sites, "bus", engine="estimate"), 3), "s"
    yield "access_estimate_lsoa_england_x_1000_sites_with_jobs", best_of(
        lambda: access_summary(origins, sites, "bus", engine="estimate", weight="jobs"), 3), "s"
    classed = origins.assign(urban_rural=pd.read_parquet(_lsoa_path(), columns=["urban_rural"])["urban_rural"].to_numpy())
    yield "access_estimate_lsoa_england_x_1000_sites_with_jobs_urban_rural", best_of(
        lambda: access_summary(classed, sites, "bus", engine="estimate", weight="jobs"), 3), "s"

    with tempfile.TemporaryDirectory() as tmp:
        pbf = Path(tmp) / "synthetic_drive.osm.pbf"
        start = time.perf_counter()
        counts = write_synthetic_network(pbf)
        yield "access_network_synthetic_pbf_write", time.perf_counter() - start, "s"
        yield "access_network_synthetic_osm_nodes", counts["nodes"], "nodes"
        yield "access_network_synthetic_osm_ways", counts["ways"], "ways"
        rng = np.random.default_rng(11)
        o, s = _points(rng, ORIGINS, "o"), _points(rng, SITES, "s")

        from bench.bench_network_newport import cold_and_warm, networkx_side_by_side

        ours, total, ours_routing = cold_and_warm(o, s, pbf)
        net = net_engine.load_network(pbf, "car", walk_speed_kmh=4.8, cycle_speed_kmh=16.0,
                                      car_speed_factor=net_engine.CAR_SPEED_FACTOR)
        yield "access_network_graph_nodes", net.stats["nodes"], "nodes"
        yield "access_network_graph_edges", net.stats["edges"], "edges"
        yield "access_network_1500x50_drive_total_incl_build", total, "s"
        yield "access_network_1500x50_drive_routing_csgraph", ours_routing, "s"

        # networkx on the same graph, node to node (the engine's edge snapping is the same for both routers).
        tree, nodes = net.tree("main")
        o_node = nodes[tree.query(np.column_stack([o.geometry.x, o.geometry.y]))[1]]
        s_node = nodes[tree.query(np.column_stack([s.geometry.x, s.geometry.y]))[1]]
        nx_build, nx_routing, diff = networkx_side_by_side(net, s_node, o_node, net_engine.MAX_MINUTES)
        mine = ours["minutes"].to_numpy()
        yield "access_network_1500x50_drive_networkx_build", nx_build, "s"
        yield "access_network_1500x50_drive_routing_networkx", nx_routing, "s"
        yield "access_network_networkx_over_csgraph_routing_ratio", nx_routing / ours_routing, "x"
        # The same pipeline (read the file, build the graph, snap) with networkx doing the routing instead.
        yield "access_network_networkx_over_csgraph_pipeline_ratio", ((total - ours_routing) + nx_build + nx_routing) / total, "x"
        yield "access_network_max_abs_difference_vs_networkx", diff, "min"
        yield "access_network_reachable_pairs_share", float(np.isfinite(mine).mean()), "ratio"
