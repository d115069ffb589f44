"""Walking legs for the timetable engine: to the first stop, from the last, and all the way.

CRS: EPSG:27700 metres. Units: seconds.

* :class:`StraightWalks`: the straight line x circuity at walking speed (the estimate engine's formula).
* :class:`NetworkWalks`: shortest paths on the OpenStreetMap walking network of a local ``.osm.pbf``
  (the network engine's graph, :func:`geo.travel.network.load_network`), plus the off-network gap to
  the nearest node at walking speed x :data:`~geo.travel.network.OFF_NETWORK_CIRCUITY`. A point that
  cannot be placed on the network cannot walk anywhere; its reason is kept in ``reasons``.

Both answer ``near(points, stops, limit_s)`` -> (point, stop, seconds) for every stop within the limit,
sorted by point, and ``between(a, b, limit_s)`` -> (len a x len b) seconds, inf beyond the limit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from geo.travel.estimate import minutes_for_distance

#: Sources searched together on the walking network (bounds memory at batch x nodes x 8 bytes).
NETWORK_BATCH = 32


class StraightWalks:
    """Straight line x ``circuity`` at ``walk_speed_kmh``."""

    label = "straight line x circuity"

    def __init__(self, walk_speed_kmh: float, circuity: float):
        self.walk_speed_kmh, self.circuity = walk_speed_kmh, circuity
        self.reasons: dict[str, list[str | None]] = {}

    def seconds(self, metres):
        return 60.0 * minutes_for_distance(metres, "walk", walk_speed_kmh=self.walk_speed_kmh, circuity=self.circuity)

    def reach_m(self, limit_s: float) -> float:
        """The straight-line distance walked in ``limit_s``."""
        return limit_s * self.walk_speed_kmh / 3.6 / self.circuity

    def near(self, points: np.ndarray, stops: np.ndarray, limit_s: float, *, role: str):
        if len(stops) == 0 or len(points) == 0:
            return np.array([], dtype=int), np.array([], dtype=int), np.array([])
        pairs = cKDTree(points).sparse_distance_matrix(cKDTree(stops), self.reach_m(limit_s), output_type="ndarray")
        order = np.lexsort((pairs["j"], pairs["i"]))
        return pairs["i"][order].astype(int), pairs["j"][order].astype(int), self.seconds(pairs["v"][order])

    def between(self, a: np.ndarray, b: np.ndarray, limit_s: float) -> np.ndarray:
        out = self.seconds(cdist(a, b))
        out[out > limit_s] = np.inf
        return out


class NetworkWalks:
    """Shortest walks on an OpenStreetMap walking network (``network``: a path to a .osm.pbf)."""

    label = "OpenStreetMap walking network"

    def __init__(self, network, walk_speed_kmh: float, snap_m: float):
        from geo.travel.network import RoadNetwork, load_network

        self.net = network if isinstance(network, RoadNetwork) else load_network(Path(network), "walk",
                                                                                walk_speed_kmh=walk_speed_kmh)
        self.walk_m_per_s = walk_speed_kmh / 3.6
        self.snap_m = snap_m
        self.reasons: dict[str, list[str | None]] = {}

    def check_covers(self, xy: np.ndarray, role: str) -> None:
        from geo.travel.network import COVERAGE_MARGIN_M, check_coverage, snap_to_edges

        cover_m = max(self.snap_m, COVERAGE_MARGIN_M)
        check_coverage(self.net, snap_to_edges(self.net, xy, self.snap_m, cover_m), xy, role=role, margin_m=cover_m)

    def _place(self, xy: np.ndarray, role: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        from geo.travel.network import OFF_NETWORK_CIRCUITY, snap

        node, dist, why = snap(self.net, xy, self.snap_m)
        if role:
            self.reasons[role] = why
        return node, np.where(node >= 0, dist * OFF_NETWORK_CIRCUITY / self.walk_m_per_s, np.inf)

    def _from(self, nodes: np.ndarray, limit_s: float):
        """Yield (indices into ``nodes``, seconds to every network node) for batches of the placed ``nodes``."""
        placed = np.flatnonzero(nodes >= 0)
        for k in range(0, len(placed), NETWORK_BATCH):
            batch = placed[k:k + NETWORK_BATCH]
            minutes = dijkstra(self.net.graph, directed=True, indices=nodes[batch], limit=limit_s / 60.0)
            yield batch, 60.0 * minutes

    def near(self, points: np.ndarray, stops: np.ndarray, limit_s: float, *, role: str):
        p_node, p_leg = self._place(points, role)
        s_node, s_leg = self._place(stops)
        found = []
        ok = s_node >= 0
        for batch, seconds in self._from(p_node, limit_s):
            total = seconds[:, s_node[ok]] + p_leg[batch, None] + s_leg[ok][None, :]
            i, j = np.nonzero(total <= limit_s)
            found.append((batch[i], np.flatnonzero(ok)[j], total[i, j]))
        if not found:
            return np.array([], dtype=int), np.array([], dtype=int), np.array([])
        i, j, t = (np.concatenate(parts) for parts in zip(*found))
        order = np.lexsort((j, i))
        return i[order], j[order], t[order]

    def between(self, a: np.ndarray, b: np.ndarray, limit_s: float) -> np.ndarray:
        a_node, a_leg = self._place(a)
        b_node, b_leg = self._place(b)
        out = np.full((len(a), len(b)), np.inf)
        ok = a_node >= 0
        for batch, seconds in self._from(b_node, limit_s):  # walking is the same both ways: search from b
            out[np.ix_(ok, batch)] = (seconds[:, a_node[ok]] + b_leg[batch, None]).T + a_leg[ok, None]
        out[out > limit_s] = np.inf
        return out
