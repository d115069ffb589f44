"""Source records for provenance: one plain dict per indicator or installed dataset.

Used by every export's methodology.json (:mod:`layers.priority_export`) and by
every task's result (:mod:`tasks.result`), so both name a source the same way.
"""

from __future__ import annotations

from typing import Iterable


def indicator_sources(ids: Iterable[str], registry: dict) -> list[dict]:
    """One source dict per indicator id in ``registry`` (unknown ids left out)."""
    sources = []
    for i in ids:
        ind = registry.get(i)
        if ind is not None:
            sources.append({"indicator": i, "label": ind.label, "dataset": ind.dataset, "publisher": ind.publisher,
                            "period": ind.period, "licence": ind.licence, "attribution": ind.attribution})
    return sources


def dataset_sources(store, keys: Iterable[str]) -> list[dict]:
    """Manifest entries of the installed datasets ``keys`` as source dicts (datasets not installed left out)."""
    sources = []
    boundary = store.manifest.get("datasets", {})
    for key in keys:
        if key in boundary:
            d = boundary[key]
            sources.append({"dataset": d.get("title"), "publisher": d.get("publisher"), "period": d.get("vintage"),
                            "licence": d.get("licence"), "attribution": d.get("attribution")})
    return sources
