"""The local store: GeoParquet boundaries and Parquet tables, swapped in atomically.

Layout under the data directory (``geo.config.data_dir()``)::

    store.json                       which generation is current (+ manifest)
    boundaries/<generation>/*.parquet  boundaries and geographic lookups (EPSG:27700)
    indicators/<generation>/*.parquet  indicator tables
    places/<generation>/*.parquet      stations and sample sites (EPSG:27700)

An install writes a new generation beside the current one, checks it against
its manifest (every table, size, sha256, rows), and then replaces
``store.json`` in one atomic rename. Readers resolve the generation once, so
an interrupted or failed install leaves the previous store working. The
previous generation is kept for readers that opened it; older ones are
removed on the next successful install. Only one install runs at a time
(:mod:`geo.storelock`); files are checked against ``store.json`` when read
(:mod:`geo.storecheck`).
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import shutil
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq

from geo import atomic, storecheck
from geo.config import data_dir
from geo.errors import InstallCheckFailed, StoreNotInstalled, WardscopeError
from geo.storelock import DEFAULT_WAIT_S, install_lock, pause_point

KINDS = ("boundaries", "indicators", "places")
POINTER = "store.json"
#: Boundary levels held in the store.
LEVELS = ("lad", "ward", "lsoa", "lsoa11")
INSTALL_HINT = storecheck.REPAIR_HINT
#: Generation directory names (``StoreWriter``): only these are ever removed by an install's clean-up.
GENERATION_RE = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{6}$")
#: Table keys in store.json (``kind/name``).
TABLE_KEY_RE = re.compile(r"^[a-z]+/[A-Za-z0-9_]+$")
#: Rows per Parquet row group: small enough that reading one district skips most of a file.
ROW_GROUP_ROWS = 1024


def table_file(root: Path, generation: str, key: str) -> Path:
    """Where table ``key`` (``kind/name``) of ``generation`` lives under the data directory ``root``."""
    kind, name = key.split("/", 1)
    return Path(root) / kind / generation / f"{name}.parquet"


class Store:
    """Read access to one installed generation of the store.

    Boundary layers come back as GeoDataFrames in EPSG:27700 with ``code``
    and ``name`` (GSS code and name), ``lad_code`` and ``lad_name``.
    Loaded layers are memoised per instance, so a long-lived process (the app)
    reads each file once and then filters in memory.
    """

    def __init__(self, root: Path | None = None, *, check: bool = True):
        self.root = Path(root) if root else data_dir()
        pointer = self.root / POINTER
        if not pointer.is_file():
            raise StoreNotInstalled(
                f"No Wardscope store is installed in {self.root}. Run: {INSTALL_HINT}"
            )
        try:
            self.manifest = json.loads(pointer.read_text(encoding="utf-8"))
            self.generation = self.manifest["generation"]
            files = self.manifest.get("files")
            #: table key (``kind/name``) -> sha256/bytes/rows; None values for a store from before checksums
            self.records: dict[str, dict | None] = (dict(files) if files is not None
                                                    else dict.fromkeys(self.manifest.get("counts", {})))
            bad = [key for key, record in self.records.items() if not TABLE_KEY_RE.match(key) or not (
                record is None or isinstance(record, dict) and set(record) >= {"sha256", "bytes", "rows"})]
            if bad:
                raise ValueError(f"its entry for {bad[0]!r} is not a table with sha256, bytes and rows")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StoreNotInstalled(f"{pointer} is damaged ({exc}). Run: {INSTALL_HINT}") from None
        #: False for a store installed before checksums (files are read unchecked; see storecheck.PREDATES)
        self.checksums = files is not None
        self._cache: dict[tuple[str, str], pd.DataFrame] = {}
        if check:  # a stat per file: a missing or truncated file is reported before anything is read
            problems = storecheck.check_files(self._items(), contents=False)
            if problems:
                raise storecheck.damaged(problems)

    # -- paths ---------------------------------------------------------------
    def path(self, kind: str, name: str) -> Path:
        return table_file(self.root, self.generation, f"{kind}/{name}")

    def has(self, kind: str, name: str) -> bool:
        if self.checksums:
            return f"{kind}/{name}" in self.records
        return self.path(kind, name).is_file()

    def checked_path(self, kind: str, name: str) -> Path:
        """The path of a stored table after checking it against store.json (raises StoreDamaged / StoreNotInstalled)."""
        key = f"{kind}/{name}"
        path = self.path(kind, name)
        if key not in self.records and (self.checksums or not path.is_file()):
            raise StoreNotInstalled(f"{kind}/{name} is not in the installed store {self.root}. Run: {INSTALL_HINT}")
        record = self.records.get(key)
        if record is not None:
            storecheck.check_read(path, record)
        return path

    # -- checking ------------------------------------------------------------
    def _items(self):
        for key, record in self.records.items():
            rows = record["rows"] if record else self.manifest.get("counts", {}).get(key)
            yield table_file(self.root, self.generation, key), record, rows

    def verify(self) -> list[str]:
        """Check every file (presence, size, sha256, row count); one line per damaged file, naming the repair.

        A store from before checksums is checked for presence and row counts only (see :attr:`checksums`).
        """
        problems = storecheck.check_files(self._items(), rows=True)
        return [storecheck.message([p], verify_hint=False) for p in problems]

    def check_all(self) -> "Store":
        """Hash every file now (the app does this once per process); raise StoreDamaged naming the first damaged one."""
        problems = storecheck.check_files(self._items())
        if problems:
            raise storecheck.damaged(problems)
        return self

    # -- reading -------------------------------------------------------------
    def _read(self, kind: str, name: str, lad_codes: Iterable[str] | None, columns=None) -> pd.DataFrame:
        key = (kind, name)
        if key in self._cache:
            frame = self._cache[key]
            if lad_codes is not None:
                frame = frame[frame["lad_code"].isin(list(lad_codes))]
            return frame[columns] if columns else frame
        path = self.checked_path(kind, name)
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


#: Generations being written by this process, (root, generation): never removed by a clean-up.
_writing: set[tuple[str, str]] = set()
_writing_lock = threading.Lock()


class StoreWriter:
    """Writes a new generation and makes it current only on :meth:`commit`.

    Use as a context manager: it holds the install lock (:mod:`geo.storelock`;
    ``wait_s`` and ``on_wait`` say how to wait for another install), and
    leaving the block with an exception removes everything written so far and
    leaves the current store as it was.
    """

    def __init__(self, root: Path | None = None, *, wait_s: float | None = DEFAULT_WAIT_S,
                 on_wait: Callable[[str], None] | None = None):
        self.root = Path(root) if root else data_dir()
        self.generation = time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
        self.datasets: dict[str, dict] = {}
        self.counts: dict[str, int] = {}
        #: table key -> sha256, bytes and rows of the file written (store.json's ``files``)
        self.files: dict[str, dict] = {}
        self.notes: list[str] = []
        self.committed = False
        self._wait_s, self._on_wait = wait_s, on_wait
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> "StoreWriter":
        self.root.mkdir(parents=True, exist_ok=True)
        self._stack.enter_context(install_lock(self.root, wait_s=self._wait_s, on_wait=self._on_wait))
        with _writing_lock:
            _writing.add((str(self.root.resolve()), self.generation))
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        with self._stack:  # the lock is released last
            if not self.committed:
                self._remove(self.generation)
            with _writing_lock:
                _writing.discard((str(self.root.resolve()), self.generation))

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
        frame.to_parquet(path, index=False, row_group_size=ROW_GROUP_ROWS, compression="zstd")
        self.counts[f"{kind}/{name}"] = int(len(frame))
        self.files[f"{kind}/{name}"] = storecheck.file_record(path, len(frame))
        pause_point(f"written:{kind}/{name}")
        return path

    def record(self, dataset_id: str, **info) -> None:
        """Record provenance of a source dataset used by this install."""
        self.datasets[dataset_id] = info

    def check(self) -> list[storecheck.Problem]:
        """This generation against its manifest: every table present, size, sha256, rows; no file it does not list."""
        items = [(table_file(self.root, self.generation, key), record, record["rows"])
                 for key, record in self.files.items()]
        problems = storecheck.check_files(items, rows=True)
        listed = {path for path, _, _ in items}
        for kind in KINDS:
            folder = self.root / kind / self.generation
            for path in sorted(folder.iterdir()) if folder.is_dir() else ():
                if path not in listed:
                    problems.append((path, "is not in the new store's manifest"))
        return problems

    def commit(self, source: str) -> dict:
        """Check this generation, make it current (atomic), keep the previous one, remove older ones.

        Raises :class:`~geo.errors.InstallCheckFailed` (the current store unchanged) when the check fails.
        """
        problems = self.check()
        if problems:
            path, what = problems[0]
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise InstallCheckFailed(f"the new store failed its check before the swap, so the current store was "
                                     f"kept: {path} {what}{more}; run the install again")
        pause_point("checked")
        pointer = self.root / POINTER
        previous = None
        if pointer.is_file():
            try:
                previous = json.loads(pointer.read_text(encoding="utf-8")).get("generation")
            except (ValueError, AttributeError):
                previous = None
        manifest = {
            "generation": self.generation,
            "previous": previous,
            "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "source": source,
            "datasets": self.datasets,
            "counts": self.counts,
            "files": self.files,
            "notes": self.notes,
        }
        from geo import __version__

        manifest["wardscope_version"] = __version__
        atomic.write_text(pointer, json.dumps(manifest, indent=2, sort_keys=True))
        self.committed = True
        pause_point("swapped")
        self._collect_garbage(keep={self.generation, previous})
        return manifest

    def _remove(self, generation: str) -> None:
        for kind in KINDS:
            shutil.rmtree(self.root / kind / generation, ignore_errors=True)

    def _collect_garbage(self, keep: set) -> None:
        """Remove generations other than ``keep`` (and temporary pointer files), holding the install lock.

        Only directories named like a generation go, never one this process is
        writing; other processes cannot be writing one, as they would hold the lock.
        """
        root = str(self.root.resolve())
        with _writing_lock:
            keep = set(keep) | {gen for r, gen in _writing if r == root}
        for kind in KINDS:
            base = self.root / kind
            if not base.is_dir():
                continue
            for child in sorted(base.iterdir()):
                if child.is_dir() and GENERATION_RE.match(child.name) and child.name not in keep:
                    shutil.rmtree(child, ignore_errors=True)
            pause_point(f"cleaned:{kind}")
        for tmp in self.root.glob(f".{POINTER}.*.tmp"):  # left by an install killed while writing the pointer
            tmp.unlink(missing_ok=True)
