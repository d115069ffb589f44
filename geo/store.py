"""The local store: GeoParquet boundaries and Parquet tables, swapped in atomically.

Layout under the data directory (``geo.config.data_dir()``)::

    store.json                       which generation is current (+ manifest)
    boundaries/<generation>/*.parquet  boundaries and geographic lookups (EPSG:27700)
    indicators/<generation>/*.parquet  indicator tables
    places/<generation>/*.parquet      stations and sample sites (EPSG:27700)

An install writes a new generation beside the current one and then replaces
``store.json`` in one atomic rename. Readers resolve the generation once, so
an interrupted or failed install leaves the previous store working. The
previous generation is kept for readers that opened it; older ones are
removed on the next successful install.
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
from pathlib import Path
from typing import Iterable

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq

from geo import atomic
from geo.config import data_dir
from geo.errors import StoreNotInstalled, WardscopeError

KINDS = ("boundaries", "indicators", "places")
POINTER = "store.json"
#: Boundary levels held in the store.
LEVELS = ("lad", "ward", "lsoa", "lsoa11")
INSTALL_HINT = "python cli.py install"
#: Rows per Parquet row group: small enough that reading one district skips most of a file.
ROW_GROUP_ROWS = 1024


class Store:
    """Read access to one installed generation of the store.

    Boundary layers come back as GeoDataFrames in EPSG:27700 with ``code``
    and ``name`` (GSS code and name), ``lad_code`` and ``lad_name``.
    Loaded layers are memoised per instance, so a long-lived process (the app)
    reads each file once and then filters in memory.
    """

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else data_dir()
        pointer = self.root / POINTER
        if not pointer.is_file():
            raise StoreNotInstalled(
                f"No Wardscope store is installed in {self.root}. Run: {INSTALL_HINT}"
            )
        try:
            self.manifest = json.loads(pointer.read_text(encoding="utf-8"))
            self.generation = self.manifest["generation"]
        except (ValueError, KeyError) as exc:
            raise StoreNotInstalled(f"{pointer} is damaged ({exc}). Run: {INSTALL_HINT}") from None
        self._cache: dict[tuple[str, str], pd.DataFrame] = {}

    # -- paths ---------------------------------------------------------------
    def path(self, kind: str, name: str) -> Path:
        return self.root / kind / self.generation / f"{name}.parquet"

    def has(self, kind: str, name: str) -> bool:
        return self.path(kind, name).is_file()

    # -- reading -------------------------------------------------------------
    def _read(self, kind: str, name: str, lad_codes: Iterable[str] | None, columns=None) -> pd.DataFrame:
        key = (kind, name)
        if key in self._cache:
            frame = self._cache[key]
            if lad_codes is not None:
                frame = frame[frame["lad_code"].isin(list(lad_codes))]
            return frame[columns] if columns else frame
        path = self.path(kind, name)
        if not path.is_file():
            raise StoreNotInstalled(f"{kind}/{name} is not in the installed store {self.root}. Run: {INSTALL_HINT}")
        filters = [("lad_code", "in", sorted(set(lad_codes)))] if lad_codes is not None else None
        meta = pq.read_schema(path).metadata or {}
        if b"geo" in meta:
            return gpd.read_parquet(path, filters=filters, columns=columns)
        return pd.read_parquet(path, filters=filters, columns=columns)

    def load(self, kind: str, name: str) -> pd.DataFrame:
        """Read a whole table once and keep it in memory for later calls."""
        key = (kind, name)
        if key not in self._cache:
            self._cache[key] = self._read(kind, name, None)
        return self._cache[key]

    def boundaries(self, level: str, lad_codes: Iterable[str] | None = None) -> gpd.GeoDataFrame:
        """Boundary layer ``level`` (``lad``, ``ward``, ``lsoa``, ``lsoa11``), optionally for some districts.

        EPSG:27700. Rows are sorted by district then code.
        """
        if level not in LEVELS:
            raise WardscopeError(f"unknown level {level!r}; choose one of {', '.join(LEVELS)}")
        name = "lad" if level == "lad" else level
        if level == "lad" and lad_codes is not None:
            frame = self._read("boundaries", name, None) if ("boundaries", name) not in self._cache else self.load("boundaries", name)
            return frame[frame["code"].isin(list(lad_codes))].reset_index(drop=True)
        return self._read("boundaries", name, lad_codes).reset_index(drop=True)

    def table(self, kind: str, name: str, lad_codes: Iterable[str] | None = None, columns=None) -> pd.DataFrame:
        """A stored table, optionally filtered to districts (tables carrying ``lad_code``)."""
        return self._read(kind, name, lad_codes, columns)

    def districts(self) -> pd.DataFrame:
        """``code`` and ``name`` of every district in the store (no geometry)."""
        lad = self.load("boundaries", "lad")
        return pd.DataFrame({"code": lad["code"].to_numpy(), "name": lad["name"].to_numpy()})

    def preload(self, names: Iterable[tuple[str, str]] = (("boundaries", lvl) for lvl in LEVELS)) -> "Store":
        for kind, name in names:
            self.load(kind, name)
        return self


def open_store(root: Path | None = None) -> Store:
    """Open the installed store or raise :class:`StoreNotInstalled` with the install command."""
    return Store(root)


class StoreWriter:
    """Writes a new generation and makes it current only on :meth:`commit`.

    Use as a context manager: leaving the block with an exception removes
    everything written so far and leaves the current store as it was.
    """

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else data_dir()
        self.generation = time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
        self.datasets: dict[str, dict] = {}
        self.counts: dict[str, int] = {}
        self.notes: list[str] = []
        self.committed = False

    def __enter__(self) -> "StoreWriter":
        self.root.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.committed:
            self._remove(self.generation)

    def dir(self, kind: str) -> Path:
        path = self.root / kind / self.generation
        path.mkdir(parents=True, exist_ok=True)
        return path

    def write(self, kind: str, name: str, frame: pd.DataFrame) -> Path:
        """Write ``frame`` as (Geo)Parquet into this generation; sorted by district when it has one."""
        if "lad_code" in frame.columns:
            sort = ["lad_code", "code"] if "code" in frame.columns else ["lad_code"]
            frame = frame.sort_values(sort).reset_index(drop=True)
        path = self.dir(kind) / f"{name}.parquet"
        if isinstance(frame, gpd.GeoDataFrame):
            frame.to_parquet(path, index=False, row_group_size=ROW_GROUP_ROWS, compression="zstd")
        else:
            frame.to_parquet(path, index=False, row_group_size=ROW_GROUP_ROWS, compression="zstd")
        self.counts[f"{kind}/{name}"] = int(len(frame))
        return path

    def record(self, dataset_id: str, **info) -> None:
        """Record provenance of a source dataset used by this install."""
        self.datasets[dataset_id] = info

    def commit(self, source: str) -> dict:
        """Make this generation current (atomic), keep the previous one, remove older ones."""
        pointer = self.root / POINTER
        previous = None
        if pointer.is_file():
            try:
                previous = json.loads(pointer.read_text(encoding="utf-8")).get("generation")
            except ValueError:
                previous = None
        manifest = {
            "generation": self.generation,
            "previous": previous,
            "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "source": source,
            "datasets": self.datasets,
            "counts": self.counts,
            "notes": self.notes,
        }
        from geo import __version__

        manifest["wardscope_version"] = __version__
        atomic.write_text(pointer, json.dumps(manifest, indent=2, sort_keys=True))
        self.committed = True
        self._collect_garbage(keep={self.generation, previous})
        return manifest

    def _remove(self, generation: str) -> None:
        for kind in KINDS:
            shutil.rmtree(self.root / kind / generation, ignore_errors=True)

    def _collect_garbage(self, keep: set) -> None:
        for kind in KINDS:
            base = self.root / kind
            if not base.is_dir():
                continue
            for child in base.iterdir():
                if child.is_dir() and child.name not in keep:
                    shutil.rmtree(child, ignore_errors=True)
