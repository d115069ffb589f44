"""The catalogue of source datasets (geo/sources.yaml) and where to read them.

A *source* is either a local mirror directory laid out like ``../shared/data``
or the official publishers online. Both hand the parsers a local file path:
:class:`MirrorSource` points into the mirror, :class:`OnlineSource` downloads
into a cache directory first. Parsers never know which one they got.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from geo.errors import MissingSourceFile

CATALOGUE = Path(__file__).with_name("sources.yaml")


@dataclass(frozen=True)
class Dataset:
    """One published dataset: what it is, who publishes it and where the file lives."""

    id: str
    title: str
    publisher: str
    vintage: str
    licence: str
    attribution: str
    mirror: str
    landing: str
    online: dict = field(default_factory=dict)
    optional: bool = False
    year: int | None = None
    #: The catalogue file that lists it (for messages saying where to change it).
    catalogue: str = "geo/sources.yaml"

    def credit(self) -> str:
        """The attribution line this dataset's licence requires."""
        return self.attribution.format(year=self.year or "", edition=self.vintage)


@lru_cache(maxsize=None)
def catalogue() -> dict[str, Dataset]:
    """All datasets by id, from geo/sources.yaml (and layers/sources.yaml when present)."""
    out: dict[str, Dataset] = {}
    for path in (CATALOGUE, CATALOGUE.parent.parent / "layers" / "sources.yaml"):
        if not path.exists():
            continue
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key, spec in raw["datasets"].items():
            out[key] = Dataset(id=key, catalogue=f"{path.parent.name}/{path.name}", **spec)
    return out


def dataset(dataset_id: str) -> Dataset:
    return catalogue()[dataset_id]


class MirrorSource:
    """Files from a local mirror directory (layout of ../shared/data)."""

    kind = "mirror"

    def __init__(self, root: Path):
        self.root = Path(root)
        if not self.root.is_dir():
            raise MissingSourceFile(f"mirror directory {self.root} does not exist")

    def describe(self) -> str:
        return f"mirror {self.root}"

    def has(self, dataset_id: str) -> bool:
        return (self.root / dataset(dataset_id).mirror).is_file()

    def path(self, dataset_id: str) -> Path:
        ds = dataset(dataset_id)
        path = self.root / ds.mirror
        if not path.is_file():
            raise MissingSourceFile(
                f"mirror {self.root} is missing {ds.mirror}: {ds.title} "
                f"(published by {ds.publisher}: {ds.landing})"
            )
        return path

    def origin(self, dataset_id: str) -> str:
        return str(self.root / dataset(dataset_id).mirror)
