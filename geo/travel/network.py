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
  else a default by highway class that differs for urban and rural roads
  (:data:`CAR_URBAN_MPH`, :data:`CAR_RURAL_MPH`); times :data:`CAR_SPEED_FACTOR`;
  one-way streets, roundabouts and motorways in their direction only; private
  and no-access roads excluded. A road segment is *urban* when the 1 km grid
  square (EPSG:27700) holding its midpoint has at least
  :data:`URBAN_RESIDENTIAL_KM_PER_KM2` km of residential streets
  (``highway=residential`` or ``living_street``) - a simple stand-in for ONS
  built-up areas, which the data mirror does not hold for Wales.

Origins and destinations are snapped to the nearest *edge* (road segment) of
the main (largest strongly connected: every node reaches every other) network within ``snap_m`` metres (shapely
STRtree over segment LineStrings): the point joins the segment at its
perpendicular foot, the segment's travel time is split pro rata to the
distance along it, and the snap distance is walked at walking speed x
:data:`OFF_NETWORK_CIRCUITY`. The snap distance (metres) of every point is
reported in ``info["snap_m"]`` (``attrs["snap_m"]`` of the matrix). Points that
cannot be snapped are unreachable (NaN) with a reason. Points more than
:data:`COVERAGE_MARGIN_M` from any road of the extract raise
:class:`geo.errors.NetworkCoverageError` saying how many are covered
("covers 94 of 100 origins (94%)"). Many-to-many times come from
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

#: Urban default car speed (mph) by highway class for ways without a ``maxspeed`` tag. Source: the
#: national limits (Highway Code rule 124: 30 mph on roads with street lights in built-up areas, 70 mph
#: motorways); links, living streets and service roads are Wardscope assumptions. Wales moved most
#: 30 mph roads to 20 mph in September 2023, after this extract (2023-06): tag ``maxspeed`` to override.
CAR_URBAN_MPH = {
    "motorway": 70, "motorway_link": 40, "trunk": 40, "trunk_link": 30, "primary": 30, "primary_link": 30,
    "secondary": 30, "secondary_link": 30, "tertiary": 30, "tertiary_link": 30, "unclassified": 30,
    "residential": 30, "living_street": 10, "service": 10, "road": 20,
}
#: Rural default car speed (mph) by highway class. Source: Highway Code rule 124 national limits (70 mph
#: motorways and dual carriageways, 60 mph single carriageways) for trunk and primary roads; lower
#: values for secondary (50), tertiary (40) and minor roads (30) are Wardscope assumptions reflecting that
#: DfT's vehicle speed compliance statistics find free-flow speeds on national-limit single carriageways
#: well below the 60 mph limit and narrow lanes slower still.
CAR_RURAL_MPH = {
    "motorway": 70, "motorway_link": 40, "trunk": 60, "trunk_link": 40, "primary": 60, "primary_link": 40,
    "secondary": 50, "secondary_link": 40, "tertiary": 40, "tertiary_link": 30, "unclassified": 30,
    "residential": 30, "living_street": 10, "service": 10, "road": 20,
}
#: Kept for callers of the old single table: the urban defaults.
CAR_DEFAULT_MPH = CAR_URBAN_MPH
#: A 1 km grid square with at least this many km of residential streets is urban (km per km^2).
#: Wardscope rule: suburban housing has about 8-15 km of streets per km^2; open country under 1.
URBAN_RESIDENTIAL_KM_PER_KM2 = 4.0
#: Grid square for the urban rule, metres (EPSG:27700).
URBAN_CELL_M = 1000.0
#: Share of the speed limit actually driven (ratio): 59.0 mph average on the Strategic Road Network,
#: mostly 70 mph roads, year to June 2019 (DfT travel time measures): 59/70 = 0.84.
CAR_SPEED_FACTOR = 0.84
#: Off-network legs (point to snapped node) are walked along 1.2 x the straight line (the factor the
#: DfT-style accessibility studies apply to reach the highway network).
OFF_NETWORK_CIRCUITY = 1.2
#: A point this close (metres along its segment) to the end of a one-way segment may walk to that end.
ONE_WAY_WALK_M = 50.0
#: Furthest a point is snapped to the network, metres.
SNAP_M = 500.0
#: Points farther than this from any road of the extract (metres) are not covered by it.
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
    Parameter("urban_residential_km_per_km2", URBAN_RESIDENTIAL_KM_PER_KM2, "km/km2", "car",
              "Wardscope rule: a 1 km square with this much residential street is urban (urban speed defaults)"),
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
    main: np.ndarray              # bool per node: in the largest strongly connected component
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


def urban_segments(ways, threshold_km_per_km2: float = URBAN_RESIDENTIAL_KM_PER_KM2) -> np.ndarray:
    """Bool per segment of ``ways``: its midpoint's 1 km EPSG:27700 square is urban (see module doc)."""
    u, v = ways.seg_u, ways.seg_v
    mx, my = (ways.x[u] + ways.x[v]) / 2.0, (ways.y[u] + ways.y[v]) / 2.0
    cell = np.floor(mx / URBAN_CELL_M).astype(np.int64) * 10_000_000 + np.floor(my / URBAN_CELL_M).astype(np.int64)
    resi = np.isin(ways.highway[ways.seg_way], ["residential", "living_street"])
    km = np.hypot(ways.x[u] - ways.x[v], ways.y[u] - ways.y[v]) / 1000.0
    cells, inverse = np.unique(cell, return_inverse=True)
    per_cell = np.bincount(inverse, weights=np.where(resi, km, 0.0), minlength=len(cells))
    area_km2 = (URBAN_CELL_M / 1000.0) ** 2
    return per_cell[inverse] / area_km2 >= threshold_km_per_km2


def _car_speeds(ways, urban: np.ndarray) -> np.ndarray:
    """km/h per segment: the way's maxspeed, else the urban or rural default for its highway class."""
    hw = ways.highway[ways.seg_way]
    tagged = ways.maxspeed_kmh[ways.seg_way]
    urban_kmh = np.array([CAR_URBAN_MPH.get(h, 20) for h in hw], dtype=float) * 1.609344
    rural_kmh = np.array([CAR_RURAL_MPH.get(h, 20) for h in hw], dtype=float) * 1.609344
    return np.where(np.isfinite(tagged), tagged, np.where(urban, urban_kmh, rural_kmh))


def build_network(ways, mode: str, *, walk_speed_kmh: float = WALK_SPEED_KMH,
                  cycle_speed_kmh: float = CYCLE_SPEED_KMH, car_speed_factor: float = CAR_SPEED_FACTOR,
                  urban_residential_km_per_km2: float = URBAN_RESIDENTIAL_KM_PER_KM2) -> RoadNetwork:
    """A :class:`RoadNetwork` for ``mode`` from :class:`geo.travel.osm.OsmWays`."""
    from geo.travel.osm import CYCLE_TYPES

    start = time.perf_counter()
    urban_share = float("nan")
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
        urban = urban_segments(ways, urban_residential_km_per_km2)
        seg_speed = _car_speeds(ways, urban) * car_speed_factor
        urban_share = float(urban[allowed[ways.seg_way]].mean()) if allowed[ways.seg_way].any() else float("nan")
    else:
        raise TravelError(f"the network engine has no mode {mode!r}")
    if mode != "car":
        seg_speed = speed[ways.seg_way]
    keep = allowed[ways.seg_way]
    u, v, w = ways.seg_u[keep], ways.seg_v[keep], ways.seg_way[keep]
    length = np.hypot(ways.x[u] - ways.x[v], ways.y[u] - ways.y[v])
    minutes = length / (seg_speed[keep] * 1000.0 / 60.0)
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
    n_comp, labels = connected_components(graph, directed=True, connection="strong")
    main = labels == np.bincount(labels).argmax()
    x, y = ways.x[used], ways.y[used]
    return RoadNetwork(
        mode=mode, path=ways.path, x=x, y=y, graph=graph, reverse=graph.T.tocsr(), main=main,
        bounds=(float(x.min()), float(y.min()), float(x.max()), float(y.max())),
        stats={"nodes": int(n), "edges": int(len(a)), "components": int(n_comp), "main_nodes": int(main.sum()),
               "missing_nodes": int(ways.missing_nodes),
               "urban_segment_share": urban_share, "build_seconds": time.perf_counter() - start},
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


def edge_index(net: RoadNetwork):
    """Undirected segments of the main network: (lo, hi node arrays, minutes lo->hi and hi->lo or 0, STRtree)."""
    if "edges" not in net._trees:
        import shapely

        coo = net.graph.tocoo()
        keep = net.main[coo.row] & net.main[coo.col]
        a, b = coo.row[keep], coo.col[keep]
        pairs = np.unique(np.column_stack([np.minimum(a, b), np.maximum(a, b)]), axis=0)
        lo, hi = pairs[:, 0], pairs[:, 1]
        fwd = np.asarray(net.graph[lo, hi]).ravel()
        back = np.asarray(net.graph[hi, lo]).ravel()
        coords = np.stack([np.column_stack([net.x[lo], net.y[lo]]), np.column_stack([net.x[hi], net.y[hi]])], axis=1)
        net._trees["edges"] = (lo, hi, fwd, back, shapely.STRtree(shapely.linestrings(coords)))
    return net._trees["edges"]


@dataclass
class Snapped:
    """Points placed on network segments: segment index (-1 when not snapped), fraction t from ``lo``
    (0-1), snap distance in metres (NaN when farther than the search radius) and a reason per point."""

    seg: np.ndarray
    t: np.ndarray
    dist: np.ndarray
    reasons: list
    cover_dist: np.ndarray  # metres to the nearest road of any part of the network (main edge or any node)


def snap_to_edges(net: RoadNetwork, xy: np.ndarray, snap_m: float, search_m: float | None = None) -> Snapped:
    """Nearest main-network segment of each point (EPSG:27700 metres) within ``search_m`` (default ``snap_m``).

    ``dist`` holds the perpendicular distance to the segment (or to its nearer end) up to ``search_m``;
    a point farther than ``snap_m`` gets ``seg = -1`` and a reason.
    """
    import shapely

    lo, hi, _, _, tree = edge_index(net)
    search = max(snap_m, search_m or 0.0)
    n = len(xy)
    seg = np.full(n, -1, dtype=np.int64)
    t = np.zeros(n)
    dist = np.full(n, np.nan)
    if n:
        found, _ = tree.query_nearest(shapely.points(xy), max_distance=search, return_distance=True, all_matches=False)
        pts, segs = found
        ax, ay = net.x[lo[segs]], net.y[lo[segs]]
        dx, dy = net.x[hi[segs]] - ax, net.y[hi[segs]] - ay
        length2 = dx * dx + dy * dy
        px, py = xy[pts, 0], xy[pts, 1]
        tt = np.where(length2 > 0, ((px - ax) * dx + (py - ay) * dy) / np.where(length2 > 0, length2, 1.0), 0.0)
        tt = np.clip(tt, 0.0, 1.0)
        dist[pts] = np.hypot(px - (ax + tt * dx), py - (ay + tt * dy))
        t[pts] = tt
        seg[pts] = segs
    reasons: list[str | None] = [None] * n
    node_dist, _ = net.tree("all")[0].query(xy, k=1, distance_upper_bound=search) if n else (np.zeros(0), None)
    cover_dist = np.fmin(dist, np.where(np.isfinite(node_dist), node_dist, np.nan))
    far = ~(dist <= snap_m)
    seg[far] = -1
    if far.any():
        all_tree, _ = net.tree("all")
        near_any, _ = all_tree.query(xy[far], k=1, distance_upper_bound=snap_m)
        for i, d in zip(np.flatnonzero(far), near_any):
            reasons[i] = (f"the nearest {net.mode} route ({d:.0f} m) is not connected to the main network"
                          if np.isfinite(d) else f"no {net.mode} route within {snap_m:.0f} m")
    return Snapped(seg=seg, t=t, dist=np.where(far, np.nan, dist), reasons=reasons, cover_dist=cover_dist)


def check_coverage(net: RoadNetwork, snapped: Snapped, xy: np.ndarray, *, role: str,
                   margin_m: float = COVERAGE_MARGIN_M) -> None:
    """Raise :class:`NetworkCoverageError` saying how many points the extract covers when any point lies
    more than ``margin_m`` metres from its main network (``snapped`` searched at least that far)."""
    outside = ~(snapped.cover_dist <= margin_m)
    if outside.any():
        x0, y0, x1, y1 = net.bounds
        i = int(np.flatnonzero(outside)[0])
        covered = len(xy) - int(outside.sum())
        raise NetworkCoverageError(
            f"{net.path.name} does not cover the area: the network covers {covered} of {len(xy)} {role} "
            f"({100.0 * covered / len(xy):.0f}%); {int(outside.sum())} of {len(xy)} {role} lie more than "
            f"{margin_m:.0f} m from any of its {net.mode} routes (first at E {xy[i, 0]:.0f}, N {xy[i, 1]:.0f}; "
            f"network extent E {x0:.0f}-{x1:.0f}, N {y0:.0f}-{y1:.0f}); use an extract that covers every origin and site")


def _virtual_edges(net: RoadNetwork, snapped: Snapped, first_node: int, *, outgoing: bool, walk_m_per_min: float):
    """Edges joining each snapped point (as node first_node + k) to both ends of its segment, in minutes.

    Along a direction the mode may use, the segment's time pro rata to the distance (lo->hi: t x
    minutes lo->hi). Against a one-way segment only an end within :data:`ONE_WAY_WALK_M` is joined, the
    distance along it walked at ``walk_m_per_min`` (a point at a junction may leave by any road). Outgoing = an origin (point -> end), incoming = a
    destination (end -> point).
    """
    lo, hi, fwd, back, _ = edge_index(net)
    ok = np.flatnonzero(snapped.seg >= 0)
    s, t = snapped.seg[ok], snapped.t[ok]
    node = first_node + np.arange(len(ok))
    length = np.hypot(net.x[hi[s]] - net.x[lo[s]], net.y[hi[s]] - net.y[lo[s]])
    to_lo_m, to_hi_m = t * length, (1 - t) * length
    if outgoing:  # point -> hi uses lo->hi; point -> lo uses hi->lo
        c_hi = np.where(fwd[s] > 0, (1 - t) * fwd[s], np.where(to_hi_m <= ONE_WAY_WALK_M, to_hi_m / walk_m_per_min, np.inf))
        c_lo = np.where(back[s] > 0, t * back[s], np.where(to_lo_m <= ONE_WAY_WALK_M, to_lo_m / walk_m_per_min, np.inf))
        rows, cols = np.concatenate([node, node]), np.concatenate([hi[s], lo[s]])
    else:  # lo -> point uses lo->hi; hi -> point uses hi->lo
        c_lo = np.where(fwd[s] > 0, t * fwd[s], np.where(to_lo_m <= ONE_WAY_WALK_M, to_lo_m / walk_m_per_min, np.inf))
        c_hi = np.where(back[s] > 0, (1 - t) * back[s], np.where(to_hi_m <= ONE_WAY_WALK_M, to_hi_m / walk_m_per_min, np.inf))
        rows, cols = np.concatenate([hi[s], lo[s]]), np.concatenate([node, node])
    cost = np.concatenate([c_hi, c_lo])
    keep = np.isfinite(cost)
    return rows[keep], cols[keep], np.maximum(cost[keep], 1e-9), ok


def _same_segment_minutes(net: RoadNetwork, o: Snapped, d: Snapped) -> dict:
    """{(origin, destination): minutes} for pairs on the same segment, driven directly along it."""
    _, _, fwd, back, _ = edge_index(net)
    by_seg: dict[int, list[int]] = {}
    for j in np.flatnonzero(d.seg >= 0):
        by_seg.setdefault(int(d.seg[j]), []).append(int(j))
    out = {}
    for i in np.flatnonzero(o.seg >= 0):
        for j in by_seg.get(int(o.seg[i]), ()):
            s, ti, tj = int(o.seg[i]), o.t[i], d.t[j]
            options = []
            if fwd[s] > 0 and tj >= ti:
                options.append((tj - ti) * fwd[s])
            if back[s] > 0 and ti >= tj:
                options.append((ti - tj) * back[s])
            if options:
                out[(int(i), j)] = min(options)
    return out


def network_minutes(net: RoadNetwork, o: Snapped, d: Snapped, limit: float,
                    walk_m_per_min: float = WALK_SPEED_KMH * 1000.0 / 60.0) -> np.ndarray:
    """(origins x destinations) minutes on the network between snapped points (no off-network legs)."""
    from scipy.sparse import coo_matrix

    n = net.graph.shape[0]
    orow, ocol, ocost, o_ok = _virtual_edges(net, o, n, outgoing=True, walk_m_per_min=walk_m_per_min)
    drow, dcol, dcost, d_ok = _virtual_edges(net, d, n + len(o_ok), outgoing=False, walk_m_per_min=walk_m_per_min)
    base = net.graph.tocoo()
    size = n + len(o_ok) + len(d_ok)
    aug = coo_matrix((np.concatenate([base.data, ocost, dcost]),
                      (np.concatenate([base.row, orow, drow]), np.concatenate([base.col, ocol, dcol]))),
                     shape=(size, size)).tocsr()
    # Duplicates add up in csr: none here (each virtual node meets each segment end once; lo != hi).
    reverse = aug.T.tocsr()
    out = np.full((len(o.seg), len(d.seg)), np.nan)
    o_nodes = n + np.arange(len(o_ok))
    d_nodes = n + len(o_ok) + np.arange(len(d_ok))
    for start in range(0, len(d_ok), BATCH_DESTINATIONS):
        batch = d_nodes[start:start + BATCH_DESTINATIONS]
        dist = dijkstra(reverse, directed=True, indices=batch, limit=limit)
        out[np.ix_(o_ok, d_ok[start:start + len(batch)])] = dist[:, o_nodes].T
    for (i, j), minutes in _same_segment_minutes(net, o, d).items():
        out[i, j] = min(out[i, j], minutes) if np.isfinite(out[i, j]) else minutes
    out[~np.isfinite(out)] = np.nan
    return out


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
              "car_speed_factor": p["car_speed_factor"],
              "urban_residential_km_per_km2": p["urban_residential_km_per_km2"]}
    net = network if isinstance(network, RoadNetwork) else load_network(Path(network), mode, **speeds)
    snap_m, limit = p["snap_m"], p["max_minutes"]
    cover_m = max(snap_m, COVERAGE_MARGIN_M)
    d_snap = snap_to_edges(net, destination_xy, snap_m, cover_m)
    check_coverage(net, d_snap, destination_xy, role="sites", margin_m=cover_m)
    o_snap = snap_to_edges(net, origin_xy, snap_m, cover_m)
    check_coverage(net, o_snap, origin_xy, role="origins", margin_m=cover_m)
    walk_m_per_min = p["walk_speed_kmh"] * 1000.0 / 60.0
    o_leg = o_snap.dist * OFF_NETWORK_CIRCUITY / walk_m_per_min
    d_leg = d_snap.dist * OFF_NETWORK_CIRCUITY / walk_m_per_min
    park = {"cycle": p["cycle_park_min"], "car": p["car_park_min"]}.get(mode, 0.0)
    minutes = network_minutes(net, o_snap, d_snap, limit, walk_m_per_min) + o_leg[:, None] + d_leg[None, :] + park
    minutes[~np.isfinite(minutes) | (minutes > limit)] = np.nan
    o_why, d_why = o_snap.reasons, d_snap.reasons
    unreachable = ([{"index": i, "role": "origin", "reason": r} for i, r in enumerate(o_why) if r]
                   + [{"index": i, "role": "destination", "reason": r} for i, r in enumerate(d_why) if r])
    return minutes, {"params": {**p, "network": str(net.path)}, "unreachable": unreachable, "network_stats": net.stats,
                     "snap_m": {"origins": o_snap.dist, "destinations": d_snap.dist}}
