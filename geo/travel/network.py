"""The network engine: walking, cycling and driving times on an OpenStreetMap road network.

CRS: points and the network are British National Grid (EPSG:27700, metres).
Units: metres, km/h, minutes.

The graph is built from a local ``.osm.pbf`` (``network=PATH``) read with
pyosmium (:mod:`geo.travel.osm`): one directed edge per way segment and
allowed direction, weighted by minutes at the mode's speed:

* walk: :data:`WALK_SPEED_KMH` on every way walkers may use, both directions;
* cycle: :data:`CYCLE_SPEED_KMH` on cyclable ways, respecting one-way streets
  (unless ``oneway:bicycle=no`` or a contraflow cycleway); footways, pedestrian
  streets and steps at walking pace;
* car: the tagged ``maxspeed`` (mph or km/h; UK national-limit codes read),
  else the mean tagged ``maxspeed`` of the same highway type in the extract
  (as osmnx imputes speeds), else :data:`CAR_DEFAULT_MPH`; times
  :data:`CAR_SPEED_FACTOR`; one-way streets, roundabouts and motorways in their
  direction only; private and no-access roads excluded.

Origins and destinations are snapped to the nearest node of the main
(largest weakly connected) network within ``snap_m`` metres; the gap is walked
at walking speed x :data:`OFF_NETWORK_CIRCUITY`. Points that cannot be snapped
are unreachable (NaN) with a reason. Points outside the extract raise
:class:`geo.errors.NetworkCoverageError`. Many-to-many times come from
``scipy.sparse.csgraph.dijkstra`` run from the destinations on the reversed
graph (few sites, many origins), cut off at ``max_minutes``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from geo.errors import NetworkCoverageError, TravelError
from geo.travel.estimate import CAR_PARK_MIN, CYCLE_PARK_MIN, CYCLE_SPEED_KMH, WALK_SPEED_KMH, Parameter

NAME = "network"
LABEL = "network (OpenStreetMap road network, shortest paths)"
MODES = ("walk", "cycle", "car")

#: Default car speed (mph) by highway type when no way of that type in the extract has a maxspeed.
#: Wardscope assumption from the national limits (Highway Code rule 124: 70 mph motorways and dual
#: carriageways, 60 mph single carriageways, 30 mph in built-up areas) and typical urban limits.
CAR_DEFAULT_MPH = {
    "motorway": 70, "motorway_link": 40, "trunk": 60, "trunk_link": 40, "primary": 50, "primary_link": 30,
    "secondary": 40, "secondary_link": 30, "tertiary": 30, "tertiary_link": 30, "unclassified": 30,
    "residential": 30, "living_street": 10, "service": 10, "road": 20,
}
#: Share of the speed limit actually driven (ratio): 59.0 mph average on the Strategic Road Network,
#: mostly 70 mph roads, year to June 2019 (DfT travel time measures): 59/70 = 0.84.
CAR_SPEED_FACTOR = 0.84
#: Off-network legs (point to snapped node) are walked along 1.2 x the straight line (the factor the
#: DfT-style accessibility studies apply to reach the highway network).
OFF_NETWORK_CIRCUITY = 1.2
#: Furthest a point is snapped to the network, metres.
SNAP_M = 500.0
#: Points farther than this beyond the extract's extent (metres) mean the extract does not cover the area.
COVERAGE_MARGIN_M = 2000.0
#: Longest journey routed, minutes; longer ones are unreachable (NaN).
MAX_MINUTES = 120.0
#: Destinations routed per Dijkstra batch (bounds memory at batch x nodes x 8 bytes).
BATCH_DESTINATIONS = 64

PARAMETERS = [
    Parameter("network", float("nan"), "path", "all", "a local .osm.pbf extract covering the area (required)"),
    Parameter("walk_speed_kmh", WALK_SPEED_KMH, "km/h", "walk; cycle on footpaths; off-network legs",
              "DfT Journey Time Statistics (4.8 km/h)"),
    Parameter("cycle_speed_kmh", CYCLE_SPEED_KMH, "km/h", "cycle", "DfT Journey Time Statistics (16 km/h)"),
    Parameter("cycle_park_min", CYCLE_PARK_MIN, "minutes", "cycle", "DfT Journey Time Statistics (5 minutes)"),
    Parameter("car_park_min", CAR_PARK_MIN, "minutes", "car", "Wardscope assumption (as cycle parking)"),
    Parameter("car_speed_factor", CAR_SPEED_FACTOR, "ratio", "car",
              "DfT travel time measures 2019: SRN average 59.0 mph against 70 mph limits"),
    Parameter("snap_m", SNAP_M, "metres", "all", "Wardscope default; farther points are unreachable"),
    Parameter("max_minutes", MAX_MINUTES, "minutes", "all", "routing cut-off; longer journeys are unreachable"),
]
DEFAULTS = {p.name: p.value for p in PARAMETERS if p.name != "network"}


@dataclass
class RoadNetwork:
    """A directed graph for one mode; node coordinates in EPSG:27700 metres, edge weights in minutes."""

    mode: str
    path: Path
    x: np.ndarray
    y: np.ndarray
    graph: csr_matrix
    reverse: csr_matrix
    main: np.ndarray              # bool per node: in the largest weakly connected component
    bounds: tuple
    stats: dict = field(default_factory=dict)
    _trees: dict = field(default_factory=dict, repr=False)

    def tree(self, which: str) -> tuple[cKDTree, np.ndarray]:
        """k-d tree over ``main`` nodes or ``all`` nodes, with the node indices it covers."""
        if which not in self._trees:
            nodes = np.flatnonzero(self.main) if which == "main" else np.arange(len(self.x))
            self._trees[which] = (cKDTree(np.column_stack([self.x[nodes], self.y[nodes]])), nodes)
        return self._trees[which]


_WAYS_CACHE: dict[tuple, object] = {}
_NET_CACHE: dict[tuple, RoadNetwork] = {}
_CACHE_SIZE = 4


def _file_key(path: Path) -> tuple:
    st = os.stat(path)
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


def _remember(cache: dict, key, value):
    cache[key] = value
    while len(cache) > _CACHE_SIZE:
        cache.pop(next(iter(cache)))
    return value


def _ways(path: Path):
    from geo.travel.osm import read_osm_ways

    key = _file_key(path)
    return _WAYS_CACHE.get(key) or _remember(_WAYS_CACHE, key, read_osm_ways(path))


def _car_speeds(ways) -> np.ndarray:
    """km/h per way: maxspeed, else the extract's mean for the type, else the default table."""
    speeds = ways.maxspeed_kmh.copy()
    for highway in np.unique(ways.highway):
        of_type = ways.highway == highway
        tagged = ways.maxspeed_kmh[of_type]
        tagged = tagged[np.isfinite(tagged)]
        fill = tagged.mean() if len(tagged) else CAR_DEFAULT_MPH.get(highway, 20) * 1.609344
        speeds[of_type & ~np.isfinite(speeds)] = fill
    return speeds


def build_network(ways, mode: str, *, walk_speed_kmh: float = WALK_SPEED_KMH,
                  cycle_speed_kmh: float = CYCLE_SPEED_KMH, car_speed_factor: float = CAR_SPEED_FACTOR) -> RoadNetwork:
    """A :class:`RoadNetwork` for ``mode`` from :class:`geo.travel.osm.OsmWays`."""
    from geo.travel.osm import CYCLE_TYPES

    start = time.perf_counter()
    if mode == "walk":
        allowed, direction = ways.walk_ok, np.zeros(len(ways.highway), dtype=np.int8)
        speed = np.full(len(ways.highway), walk_speed_kmh)
    elif mode == "cycle":
        allowed, direction = ways.cycle_ok, ways.oneway_bicycle
        rides = np.isin(ways.highway, list(CYCLE_TYPES))
        speed = np.where(rides, cycle_speed_kmh, walk_speed_kmh)
        direction = np.where(rides, direction, 0).astype(np.int8)  # pushing a bike: either way
    elif mode == "car":
        allowed, direction = ways.car_ok, ways.oneway_vehicle
        speed = _car_speeds(ways) * car_speed_factor
    else:
        raise TravelError(f"the network engine has no mode {mode!r}")
    keep = allowed[ways.seg_way]
    u, v, w = ways.seg_u[keep], ways.seg_v[keep], ways.seg_way[keep]
    length = np.hypot(ways.x[u] - ways.x[v], ways.y[u] - ways.y[v])
    minutes = length / (speed[w] * 1000.0 / 60.0)
    d = direction[w]
    fwd, back = d >= 0, d <= 0
    a = np.concatenate([u[fwd], v[back]])
    b = np.concatenate([v[fwd], u[back]])
    cost = np.concatenate([minutes[fwd], minutes[back]])
    loop = a == b
    a, b, cost = a[~loop], b[~loop], cost[~loop]
    # Compact node numbering to the nodes this mode uses.
    used, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    a, b = inverse[: len(a)], inverse[len(a):]
    n = len(used)
    if n == 0:
        raise TravelError(f"{ways.path}: no ways usable for {mode}")
    # Parallel edges: keep the quickest (csr construction would add them up).
    order = np.lexsort((cost, b, a))
    a, b, cost = a[order], b[order], cost[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    a, b, cost = a[first], b[first], cost[first]
    # csgraph treats a stored 0 as "no edge"; coincident nodes still need a usable link.
    cost = np.maximum(cost, 1e-9)
    graph = csr_matrix((cost, (a, b)), shape=(n, n))
    n_comp, labels = connected_components(graph, directed=True, connection="weak")
    main = labels == np.bincount(labels).argmax()
    x, y = ways.x[used], ways.y[used]
    return RoadNetwork(
        mode=mode, path=ways.path, x=x, y=y, graph=graph, reverse=graph.T.tocsr(), main=main,
        bounds=(float(x.min()), float(y.min()), float(x.max()), float(y.max())),
        stats={"nodes": int(n), "edges": int(len(a)), "components": int(n_comp), "main_nodes": int(main.sum()),
               "missing_nodes": int(ways.missing_nodes), "build_seconds": time.perf_counter() - start},
    )


def load_network(path: Path, mode: str, **speeds) -> RoadNetwork:
    """Read ``path`` (cached by file, size and modification time) and build the ``mode`` graph."""
    path = Path(path)
    if not path.is_file():
        raise TravelError(f"{path}: network file not found (pass a local .osm.pbf extract)")
    key = (_file_key(path), mode, tuple(sorted(speeds.items())))
    if key not in _NET_CACHE:
        _remember(_NET_CACHE, key, build_network(_ways(path), mode, **speeds))
    return _NET_CACHE[key]


def _params(overrides: dict) -> dict:
    unknown = sorted(set(overrides) - set(DEFAULTS) - {"network"})
    if unknown:
        raise TravelError(f"unknown network parameter(s) {', '.join(unknown)}; known: network, {', '.join(DEFAULTS)}")
    values = {**DEFAULTS, **{k: float(v) for k, v in overrides.items() if k != "network" and v is not None}}
    for key, value in values.items():
        if np.isnan(value) or value < 0 or (value == 0 and not key.endswith("_min")):
            raise TravelError(f"network parameter {key} must be positive, got {value:g}")
    return values


def check_coverage(net: RoadNetwork, xy: np.ndarray, *, role: str, margin_m: float = COVERAGE_MARGIN_M) -> None:
    """Raise :class:`NetworkCoverageError` when any point lies outside the extract's extent (+ ``margin_m``)."""
    x0, y0, x1, y1 = net.bounds
    m = margin_m
    outside = (xy[:, 0] < x0 - m) | (xy[:, 0] > x1 + m) | (xy[:, 1] < y0 - m) | (xy[:, 1] > y1 + m)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise NetworkCoverageError(
            f"{net.path.name} does not cover the area: {int(outside.sum())} of {len(xy)} {role} lie outside it "
            f"(network extent E {x0:.0f}-{x1:.0f}, N {y0:.0f}-{y1:.0f}; first at E {xy[i, 0]:.0f}, N {xy[i, 1]:.0f}); "
            f"use an extract that covers every origin and site")


def snap(net: RoadNetwork, xy: np.ndarray, snap_m: float) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """Nearest main-network node of each point within ``snap_m`` metres.

    Returns (node index or -1, distance in metres or NaN, reason or None per point).
    """
    tree, nodes = net.tree("main")
    dist, pos = tree.query(xy, k=1, distance_upper_bound=snap_m)
    ok = np.isfinite(dist)
    node = np.where(ok, nodes[np.clip(pos, 0, len(nodes) - 1)], -1)
    reasons: list[str | None] = [None] * len(xy)
    if (~ok).any():
        all_tree, _ = net.tree("all")
        near_any, _ = all_tree.query(xy[~ok], k=1, distance_upper_bound=snap_m)
        for i, d in zip(np.flatnonzero(~ok), near_any):
            reasons[i] = (f"the nearest {net.mode} route ({d:.0f} m) is not connected to the main network"
                          if np.isfinite(d) else f"no {net.mode} route within {snap_m:.0f} m")
    return node, np.where(ok, dist, np.nan), reasons


def matrix(origin_xy: np.ndarray, destination_xy: np.ndarray, mode: str, *, network=None,
           **params) -> tuple[np.ndarray, dict]:
    """(origins x destinations) minutes on the road network; NaN where unreachable.

    ``network`` is a path to a ``.osm.pbf`` or a :class:`RoadNetwork`. Times are the snapped off-network
    walks + the shortest network path + parking (cycle, car). NaN when a point cannot be snapped, when
    no path exists (one-way traps, islands) or when the journey exceeds ``max_minutes``.
    """
    if mode not in MODES:
        raise TravelError(f"the network engine has no mode {mode!r}")
    if network is None:
        raise TravelError("the network engine needs a road network: pass network=PATH to a .osm.pbf extract")
    p = _params(params)
    speeds = {"walk_speed_kmh": p["walk_speed_kmh"], "cycle_speed_kmh": p["cycle_speed_kmh"],
              "car_speed_factor": p["car_speed_factor"]}
    net = network if isinstance(network, RoadNetwork) else load_network(Path(network), mode, **speeds)
    snap_m, limit = p["snap_m"], p["max_minutes"]
    check_coverage(net, destination_xy, role="sites", margin_m=max(snap_m, COVERAGE_MARGIN_M))
    check_coverage(net, origin_xy, role="origins", margin_m=max(snap_m, COVERAGE_MARGIN_M))
    o_node, o_dist, o_why = snap(net, origin_xy, snap_m)
    d_node, d_dist, d_why = snap(net, destination_xy, snap_m)
    walk_m_per_min = p["walk_speed_kmh"] * 1000.0 / 60.0
    o_leg = o_dist * OFF_NETWORK_CIRCUITY / walk_m_per_min
    d_leg = d_dist * OFF_NETWORK_CIRCUITY / walk_m_per_min
    park = {"cycle": p["cycle_park_min"], "car": p["car_park_min"]}.get(mode, 0.0)
    minutes = np.full((len(origin_xy), len(destination_xy)), np.nan)
    o_ok = o_node >= 0
    targets = np.flatnonzero(d_node >= 0)
    unique_dest, which = np.unique(d_node[targets], return_inverse=True)
    for start in range(0, len(unique_dest), BATCH_DESTINATIONS):
        batch = unique_dest[start:start + BATCH_DESTINATIONS]
        dist = dijkstra(net.reverse, directed=True, indices=batch, limit=limit)
        for k in range(len(batch)):
            cols = targets[which == start + k]
            net_min = dist[k, o_node[o_ok]]
            for c in cols:
                minutes[o_ok, c] = net_min + o_leg[o_ok] + d_leg[c] + park
    minutes[~np.isfinite(minutes) | (minutes > limit)] = np.nan
    unreachable = ([{"index": i, "role": "origin", "reason": r} for i, r in enumerate(o_why) if r]
                   + [{"index": i, "role": "destination", "reason": r} for i, r in enumerate(d_why) if r])
    return minutes, {"params": {**p, "network": str(net.path)}, "unreachable": unreachable, "network_stats": net.stats}
