"""Which areas touch: the one neighbourhood rule for the map, the tables, hot spots and every export.

Two areas are neighbours when they share at least :data:`MIN_SHARED_BOUNDARY_M`
of boundary, or overlap: **Rook** contiguity. Areas that meet only at a
corner are **not** neighbours.

Why Rook, not Queen: when a planner says two neighbourhoods "touch" they mean
a shared street or edge that people cross, not a single survey point where
four outlines happen to meet; a corner is no walkable link. It is also what a
GIS user gets from the exported layer: QGIS's *Dissolve* unions the chosen
areas, and a union of areas that meet only at a corner is a multipart
feature whose parts *Multipart to singleparts* (or "keep disjoint features
separate") splits apart again, so under Queen a neighbourhood drawn on our
map would come apart in QGIS. Under Rook every merged neighbourhood is one
connected polygon.

The test uses shapely lengths in EPSG:27700 metres, so it does not depend on
outlines sharing exact vertices; on the store's boundaries it agrees with
libpysal's Rook weights (the tests check this).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from geo.crs import require_bng

#: Least shared boundary (metres) for two areas to count as adjacent; a corner shares none.
MIN_SHARED_BOUNDARY_M = 1.0
#: The rule in words (methodology.json, provenance, captions).
ADJACENCY = (f"areas sharing at least {MIN_SHARED_BOUNDARY_M:g} m of boundary (Rook contiguity) are neighbours; "
             "areas meeting only at a corner are not")


def _shared_edge_lengths(boundaries: np.ndarray, n: int) -> dict[int, float]:
    """Length (metres) of boundary each pair shares edge for edge, by pair key ``i * n + j`` (i < j).

    Outlines that share vertices (the store's are generalised together) share
    whole edges; hashing the edges finds those pairs in one pass over the
    coordinates, without any geometry operation.
    """
    parts, owner = shapely.get_parts(boundaries, return_index=True)
    xy, part = shapely.get_coordinates(parts, return_index=True)
    if len(xy) < 2:
        return {}
    same = part[:-1] == part[1:]
    start, end = xy[:-1][same], xy[1:][same]
    own = owner[part[:-1][same]]
    q0, q1 = np.round(start * 1000).astype(np.int64), np.round(end * 1000).astype(np.int64)  # millimetres
    swap = (q0[:, 0] > q1[:, 0]) | ((q0[:, 0] == q1[:, 0]) & (q0[:, 1] > q1[:, 1]))
    lo, hi = np.where(swap[:, None], q1, q0), np.where(swap[:, None], q0, q1)
    order = np.lexsort((own, hi[:, 1], hi[:, 0], lo[:, 1], lo[:, 0]))
    keys = np.concatenate([lo, hi], axis=1)[order]
    dup = (keys[1:] == keys[:-1]).all(axis=1)
    a, b = own[order][:-1][dup], own[order][1:][dup]
    length = np.hypot(*(end - start)[order][1:][dup].T)
    keep = a != b
    pair = np.minimum(a, b)[keep] * n + np.maximum(a, b)[keep]
    codes, inverse = np.unique(pair, return_inverse=True)
    return dict(zip(codes.tolist(), np.bincount(inverse, weights=length[keep]).tolist()))


def neighbour_pairs(areas: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (i, j), i < j, of every pair of neighbouring ``areas`` (EPSG:27700)."""
    require_bng(areas, what="areas")
    geoms = areas.geometry.to_numpy()
    n = len(geoms)
    if n < 2:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    boundaries = shapely.boundary(geoms)
    edges = _shared_edge_lengths(boundaries, n)
    hashed = np.array([edges.get(int(k), 0.0) for k in (left * n + right)]) >= MIN_SHARED_BOUNDARY_M
    # the rest (corners, outlines that do not share vertices) are measured exactly
    rest = np.flatnonzero(~hashed)
    l, r = left[rest], right[rest]
    shared = shapely.length(shapely.intersection(boundaries[l], boundaries[r])) >= MIN_SHARED_BOUNDARY_M
    overlap = shapely.area(shapely.intersection(geoms[l], geoms[r])) > 0.0
    edge = hashed.copy()
    edge[rest] = shared | overlap
    return left[edge], right[edge]


def adjacency(areas: gpd.GeoDataFrame) -> csr_matrix:
    """Symmetric 0/1 adjacency matrix (n x n) of ``areas`` under the rule above."""
    n = len(areas)
    left, right = neighbour_pairs(areas)
    ones = np.ones(2 * len(left))
    return coo_matrix((ones, (np.concatenate([left, right]), np.concatenate([right, left]))), shape=(n, n)).tocsr()


def components(areas: gpd.GeoDataFrame) -> np.ndarray:
    """Label of each row's group of neighbouring areas, 0..k-1 in order of first member."""
    n = len(areas)
    if n == 1:
        return np.zeros(1, dtype=int)
    _, labels = connected_components(adjacency(areas), directed=False)
    # renumber by first appearance so labels follow the input (priority) order
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(np.argsort(first))
    return order[labels]
