"""What every task returns: its data, where it came from (provenance) and what the user should know (notes)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from geo import __version__


@dataclass(frozen=True)
class Provenance:
    """How a result was made: enough to say where each figure came from and to make it again.

    ``parameters`` are the request's choices as plain data (weights, level, mode, ...); ``sources`` one
    dict per dataset (title, publisher, period, licence, attribution); ``seed`` and ``draws`` are set
    where randomness is involved (robustness draws, permutation tests); ``versions`` names the Wardscope
    version and the store generation the figures were read from.
    """

    task: str
    method: str
    parameters: dict = field(default_factory=dict)
    sources: tuple = ()
    seed: int | None = None
    draws: int | None = None
    versions: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain JSON-ready data (tuples become lists, numpy scalars Python numbers)."""
        return json.loads(json.dumps(asdict(self), default=_plain, allow_nan=False))


def _plain(value):
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


@dataclass(frozen=True)
class Result:
    """A task's answer: ``data`` (a table, a layer, a plan...), its provenance and its notes."""

    data: Any
    provenance: Provenance
    notes: tuple[str, ...] = ()


def versions(store) -> dict:
    """The Wardscope version and the installed store generation the figures come from."""
    return {"wardscope": __version__, "store_generation": store.generation}


#: Store datasets that describe each level's boundaries (their manifest entries become sources).
BOUNDARY_DATASETS = {
    "lad": ("lad_boundaries",),
    "ward": ("ward_boundaries", "ward23_lad23", "lsoa21_ward24_lad24"),
    "lsoa": ("lsoa21_boundaries", "lsoa21_ward24_lad24", "lsoa21_centroids"),
    "lsoa11": ("lsoa11_boundaries", "lsoa11_lsoa21_lad22"),
}
