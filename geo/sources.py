"""The catalogue of source datasets (geo/sources.yaml and the files added to it) and where to read them.

A *source* is either a local mirror directory laid out like ``../shared/data``
or the official publishers online. Both hand the parsers a local file path:
:class:`MirrorSource` points into the mirror, :class:`OnlineSource` downloads
into a cache directory first. Parsers never know which one they got.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import yaml

from geo.errors import MissingSourceFile

CATALOGUE = Path(__file__).with_name("sources.yaml")
#: The catalogue files read, in order: geo's own, then those registered with :func:`add_catalogue`.
_CATALOGUES: list[Path] = [CATALOGUE]


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


def add_catalogue(path: Path) -> None:
    """Read the datasets of another catalogue file too (``layers`` adds layers/sources.yaml this way)."""
    path = Path(path)
    if path not in _CATALOGUES:
        _CATALOGUES.append(path)


@lru_cache(maxsize=None)
def load_catalogue(paths: tuple[Path, ...]) -> dict[str, Dataset]:
    """All datasets by id from the catalogue files ``paths`` (YAML with a ``datasets`` mapping), later files last."""
    out: dict[str, Dataset] = {}
    for path in paths:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key, spec in raw["datasets"].items():
            out[key] = Dataset(id=key, catalogue=f"{path.parent.name}/{path.name}", **spec)
    return out


def catalogue() -> dict[str, Dataset]:
    """All datasets by id: geo/sources.yaml and every catalogue added with :func:`add_catalogue`."""
    return load_catalogue(tuple(_CATALOGUES))


def dataset(dataset_id: str) -> Dataset:
    return catalogue()[dataset_id]


class Source(Protocol):
    """Where install steps read datasets from: a mirror directory, the publishers online, or one over the other.

    Every kind hands the parsers a local file, so a parser never knows which it got.
    """

    kind: str

    def describe(self) -> str:
        """One line for the manifest and messages (``mirror /path``, ``online``...)."""

    def has(self, dataset_id: str) -> bool:
        """True when the dataset can be read from this source (optional datasets may be absent)."""

    def path(self, dataset_id: str) -> Path:
        """A local file holding the dataset; raises :class:`MissingSourceFile` naming it and its publisher."""

    def origin(self, dataset_id: str) -> str:
        """Where the dataset came from, for the manifest (a path or an address)."""


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
