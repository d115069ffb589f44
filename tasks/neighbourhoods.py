"""Priority neighbourhoods of a score: touching priority areas joined and named, with Gi* hot spots
(``cli.py score --neighbourhoods``; the "Priority neighbourhoods" layer and table).

Neighbours under the one rule of :mod:`geo.contiguity` (Rook); hot spots as
:mod:`layers.hotspots` tests them. Geometry EPSG:27700; populations are
Census 2021 usual residents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.contiguity import ADJACENCY
from layers.hotspots import FDR_ALPHA, HOTSPOT_SEED, PERMUTATIONS, contiguity, hotspots, priority_clusters
from layers.indicators import available, indicator_table
from layers.scoring import POPULATION_COLUMNS, population_of, priority_bands
from tasks import score as score_task
from tasks.result import Provenance, Result, versions
from tasks.score import ScoreRequest, ScoreResult


@dataclass(frozen=True)
class Neighbourhoods:
    """Priority neighbourhoods of a score: cluster id per area code (None: not a priority), one row per
    neighbourhood, and how many areas are significant hot spots."""

    labels: pd.Series
    table: pd.DataFrame
    hot_spots: int


def run(request: ScoreRequest, store, scored: ScoreResult | None = None) -> Result:
    """Touching priority areas of the score ``request`` asks for (``scored``, when the caller has it already)
    joined into named neighbourhoods, with Gi* hot spots (see :mod:`layers.hotspots`)."""
    result = scored or score_task.run(request, store)
    areas = result.data
    level, lad_codes = areas.level, areas.area.lad_codes
    gdf = store.boundaries(level, lad_codes).set_index("code").reindex(areas.areas["code"]).reset_index()
    w = contiguity(gdf)
    score = areas.areas["score"].to_numpy(dtype=float)
    hs = hotspots(gdf, score, w=w)
    bands = priority_bands(areas.profile)
    priority = areas.areas["band"].isin(bands).to_numpy()
    ids = [c for c in POPULATION_COLUMNS[:1] if c in set(available(level, store=store))]
    pop = population_of(indicator_table(level, lad_codes, ids, store=store), areas.areas["code"])
    labels, clusters = priority_clusters(gdf, priority, pop, score, hot=hs["hotspot"].to_numpy(), w=w)
    by_code = pd.Series(labels.to_numpy(dtype=object), index=areas.areas["code"], dtype=object)
    provenance = Provenance(
        "neighbourhoods",
        f"priority areas ({' + '.join(bands)}) joined where {ADJACENCY}; hot spots: Getis-Ord Gi* of the score over "
        f"the same neighbours and the area itself, {PERMUTATIONS} conditional permutations, Benjamini-Hochberg "
        f"false discovery rate {FDR_ALPHA:.0%}",
        {**result.provenance.parameters, "bands": bands, "permutations": PERMUTATIONS, "fdr_alpha": FDR_ALPHA},
        result.provenance.sources, seed=HOTSPOT_SEED, draws=PERMUTATIONS, versions=versions(store))
    return Result(Neighbourhoods(by_code, clusters, int(np.sum(hs["hotspot"]))), provenance, result.notes)
