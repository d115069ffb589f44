"""Priority neighbourhoods: adjacent priority areas merged into named clusters, and hot spots.

* Clusters: priority areas (in a priority band) that touch under the one
  neighbourhood rule of :mod:`geo.contiguity` (Rook: a shared stretch of
  boundary, never a corner alone; the rule every export's dissolve uses) are
  joined into one neighbourhood, whatever ward or district line runs between
  them. Each reports its population, wards and districts, and is named after
  its two most populous wards and its district(s).
* Hot spots: Getis-Ord Gi* (esda) of the score with binary weights over the
  same neighbours, including the area itself, 999 conditional permutations,
  and a Benjamini-Hochberg false-discovery-rate correction across all areas
  (scipy.stats.false_discovery_control). A hot spot is an area whose
  neighbourhood scores significantly high; a cluster is *significant* when
  it contains at least one hot spot.

Geometry in EPSG:27700.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control

from geo.contiguity import adjacency
from geo.crs import require_bng

PERMUTATIONS = 999
FDR_ALPHA = 0.05
#: Seed of the permutation test (results are reproducible).
HOTSPOT_SEED = 12345


def contiguity(gdf: gpd.GeoDataFrame):
    """Spatial weights (libpysal ``W``) for the rows of ``gdf`` (EPSG:27700) under :mod:`geo.contiguity`'s rule."""
    from libpysal.weights import W

    require_bng(gdf, what="areas")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # islands and disconnected components are expected
        return W.from_sparse(adjacency(gdf.reset_index(drop=True)))


def hotspots(gdf: gpd.GeoDataFrame, values: np.ndarray, *, permutations: int = PERMUTATIONS, seed: int = HOTSPOT_SEED,
             alpha: float = FDR_ALPHA, w=None) -> pd.DataFrame:
    """Gi* z-scores, permutation p-values, FDR-adjusted p-values and hot/cold flags per row.

    Areas without a value or without neighbours (islands) get NaN and no flag.
    """
    from esda import G_Local

    values = np.asarray(values, dtype=float)
    out = pd.DataFrame({"gi_z": np.nan, "gi_p": np.nan, "gi_p_fdr": np.nan, "hotspot": False, "coldspot": False},
                       index=range(len(values)))
    ok = ~np.isnan(values)
    if ok.sum() < 3:
        return out
    sub = gdf.reset_index(drop=True).loc[ok]
    # weights must match the areas tested: rebuild them when some areas have no value
    w = contiguity(sub) if w is None or not ok.all() else w
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = G_Local(values[ok], w, transform="B", permutations=permutations, star=True, seed=seed, n_jobs=1)
    idx = np.flatnonzero(ok)
    cardinality = np.array([w.cardinalities[i] for i in w.id_order])
    has_neighbours = cardinality > 0
    z = np.where(has_neighbours, g.Zs, np.nan)
    p = np.where(has_neighbours, g.p_sim, np.nan)
    adjusted = np.full(len(p), np.nan)
    if has_neighbours.any():
        adjusted[has_neighbours] = false_discovery_control(p[has_neighbours], method="bh")
    out.loc[idx, "gi_z"] = z
    out.loc[idx, "gi_p"] = p
    out.loc[idx, "gi_p_fdr"] = adjusted
    sig = np.nan_to_num(adjusted, nan=1.0) <= alpha
    out.loc[idx, "hotspot"] = sig & (np.nan_to_num(z) > 0)
    out.loc[idx, "coldspot"] = sig & (np.nan_to_num(z) < 0)
    return out


def _cluster_name(members: pd.DataFrame) -> str:
    wards = members.groupby("ward_name")["population"].sum().sort_values(ascending=False)
    lead = list(wards.index[:2])
    more = len(wards) - len(lead)
    wards_text = " and ".join(lead) + (f" (+{more} ward{'s' if more > 1 else ''})" if more > 0 else "")
    districts = ", ".join(sorted(members["lad_name"].unique()))
    return f"{wards_text}, {districts}"


#: Labels of the neighbourhood table's columns (:func:`priority_clusters`), for people.
CLUSTER_LABELS = {"cluster_id": "Neighbourhood", "name": "Name (its main wards)", "n_areas": "Priority areas in it",
                  "population": "Usual residents (Census 2021)", "score_popweighted": "Score (population-weighted average)",
                  "wards": "Wards", "districts": "Districts", "hotspot_areas": "Areas that are significant hot spots",
                  "significant": "Holds a significant hot spot"}


def priority_clusters(gdf: gpd.GeoDataFrame, priority: np.ndarray, population: np.ndarray, score: np.ndarray,
                      *, hot: np.ndarray | None = None, w=None) -> tuple[pd.Series, pd.DataFrame]:
    """Join adjacent priority areas into named neighbourhoods.

    ``gdf`` rows are the areas (``code``, ``lad_code``, ``lad_name`` and, for
    LSOAs, ``ward_code``/``ward_name``; for wards the ward is the area itself).
    Returns (cluster id per row, ``None`` when not a priority; and one row per
    cluster: ``cluster_id``, ``name``, ``n_areas``, ``population``,
    ``score_popweighted``, ``wards``, ``districts``, ``hotspot_areas``,
    ``significant``, ``codes``), largest population first.
    """
    from scipy.sparse.csgraph import connected_components

    frame = gdf.reset_index(drop=True).copy()
    if "ward_name" not in frame:
        frame["ward_code"], frame["ward_name"] = frame["code"], frame["name"]
    frame["population"] = np.nan_to_num(np.asarray(population, dtype=float))
    frame["score"] = np.asarray(score, dtype=float)
    frame["hot"] = np.zeros(len(frame), dtype=bool) if hot is None else np.asarray(hot, dtype=bool)
    priority = np.asarray(priority, dtype=bool)
    labels = pd.Series([None] * len(frame), dtype=object)
    if not priority.any():
        return labels, pd.DataFrame(columns=["cluster_id", "name", "n_areas", "population", "score_popweighted",
                                             "wards", "districts", "hotspot_areas", "significant", "codes"])
    w = contiguity(frame) if w is None else w
    adj = w.sparse.tocsr()
    keep = np.flatnonzero(priority)
    sub = adj[keep][:, keep]
    n_comp, comp = connected_components(sub, directed=False)
    rows = []
    for c in range(n_comp):
        members = frame.iloc[keep[comp == c]]
        pop = members["population"].sum()
        weighted = (members["score"] * members["population"]).sum() / pop if pop > 0 else members["score"].mean()
        rows.append({"name": _cluster_name(members), "n_areas": len(members), "population": int(round(pop)),
                     "score_popweighted": round(float(weighted), 3),
                     "wards": "; ".join(sorted(members["ward_name"].unique())),
                     "districts": "; ".join(sorted(members["lad_name"].unique())),
                     "hotspot_areas": int(members["hot"].sum()), "significant": bool(members["hot"].any()),
                     "codes": ";".join(members["code"]), "_comp": c})
    clusters = pd.DataFrame(rows).sort_values(["population", "name"], ascending=[False, True]).reset_index(drop=True)
    clusters.insert(0, "cluster_id", [f"N{i + 1:02d}" for i in range(len(clusters))])
    id_of = dict(zip(clusters["_comp"], clusters["cluster_id"]))
    labels.iloc[keep] = [id_of[c] for c in comp]
    # identical names happen when two clusters share their leading wards; number them apart
    dup = clusters["name"].duplicated(keep=False)
    clusters.loc[dup, "name"] = clusters.loc[dup, "name"] + " (" + clusters.loc[dup, "cluster_id"] + ")"
    return labels, clusters.drop(columns="_comp")
