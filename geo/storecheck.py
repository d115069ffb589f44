"""Checksums of the store's files: recorded at install, checked before the swap and when files are read.

``store.json`` lists every table (``<kind>/<name>``) under ``files`` with its
``sha256``, size in ``bytes`` and ``rows``. A store is checked:

* before an install swaps it in: every table present, its size, sha256 and row count (``StoreWriter.commit``);
* when a :class:`geo.store.Store` is opened: every file is there with its installed size (a stat each);
* on the first read of each file in a process: the whole file is hashed before it is parsed, and its
  (size, mtime) remembered, so later reads in the process only stat it; a file that changed is hashed again;
* by the app, once per process and generation, for the whole store before any page is drawn
  (``bench/bench_store.py``: ``store_verify_all_s``), so a damaged file never reaches a figure;
* by ``python cli.py verify``, which lists every damaged file.

Stores installed before checksums existed have no ``files``: they are read as
before, with :data:`PREDATES` said by the app and ``verify``.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from geo.errors import StoreDamaged

REPAIR_HINT = "python cli.py install"
VERIFY_HINT = "python cli.py verify"
PREDATES = f"this store predates checksums, so damaged files cannot be detected; run {REPAIR_HINT}"

#: A damaged file: (path, what is wrong with it, e.g. "is missing").
Problem = tuple[Path, str]

_seen: dict[str, tuple[int, int, str]] = {}  # path -> (size, mtime_ns, sha256) of bytes that matched
_seen_lock = threading.Lock()


def sha256_file(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def file_record(path: Path, rows: int) -> dict:
    """What ``store.json`` records for one file: sha256, size in bytes, rows."""
    return {"sha256": sha256_file(path), "bytes": Path(path).stat().st_size, "rows": int(rows)}


def message(problems: list[Problem], *, verify_hint: bool = True) -> str:
    """One line naming the first damaged file, how many more there are, and the command that repairs the store."""
    path, what = problems[0]
    more = f" (and {len(problems) - 1} more file(s))" if len(problems) > 1 else ""
    hint = f" ({VERIFY_HINT} lists every damaged file)" if verify_hint else ""
    return f"the store is damaged: {path} {what}{more}; repair it with: {REPAIR_HINT}{hint}"


def damaged(problems: list[Problem]) -> StoreDamaged:
    """The error for ``problems``; its ``problems`` hold one line per file."""
    return StoreDamaged(message(problems), problems=tuple(message([p], verify_hint=False) for p in problems))


def size_problem(path: Path, record: dict | None) -> str | None:
    """Missing, or not the size installed (``record`` None: an old store, presence only)."""
    try:
        size = Path(path).stat().st_size
    except FileNotFoundError:
        return "is missing"
    if record is None or size == record["bytes"]:
        return None
    if size < record["bytes"]:
        return f"is truncated ({size:,} of {record['bytes']:,} bytes)"
    return f"is {size:,} bytes, not the {record['bytes']:,} installed"


def content_problem(path: Path, record: dict) -> str | None:
    """Missing, wrong size, or bytes that no longer match the recorded sha256."""
    problem = size_problem(path, record)
    if problem is None and sha256_file(path) != record["sha256"]:
        problem = "has changed since it was installed (its sha256 does not match store.json)"
    return problem


def rows_problem(path: Path, rows: int) -> str | None:
    """A Parquet footer that cannot be read, or a row count other than ``rows``."""
    try:
        found = pq.ParquetFile(path).metadata.num_rows
    except (OSError, pa.ArrowException) as exc:
        return f"cannot be read as Parquet ({str(exc).splitlines()[0]})"
    return None if found == rows else f"has {found:,} rows, not the {rows:,} installed"


def _stamp(path: Path, record: dict) -> tuple[int, int, str] | None:
    try:
        st = Path(path).stat()
    except FileNotFoundError:
        return None
    return st.st_size, st.st_mtime_ns, record["sha256"]


def check_read(path: Path, record: dict) -> None:
    """Raise :class:`StoreDamaged` unless ``path`` matches ``record``; hashes it once per process (again if changed)."""
    stamp = _stamp(path, record)
    with _seen_lock:
        if stamp is not None and _seen.get(str(path)) == stamp:
            return
    problem = "is missing" if stamp is None else content_problem(path, record)
    if problem:
        raise damaged([(Path(path), problem)])
    with _seen_lock:
        _seen[str(path)] = stamp


def check_files(items: Iterable[tuple[Path, dict | None, int | None]], *, contents: bool = True,
                rows: bool = False) -> list[Problem]:
    """Problems of ``(path, record, rows)`` items: presence and size, then sha256 (``contents``), then row counts.

    A record of None (an old store) checks presence and, with ``rows``, the row count only.
    Files whose contents match are remembered, so their first read in this process does not hash them again.
    """
    problems: list[Problem] = []
    for path, record, expected_rows in items:
        stamp = _stamp(path, record) if record else None
        problem = size_problem(path, record)
        if problem is None and record is not None and contents:
            problem = content_problem(path, record)
            if problem is None and stamp is not None:
                with _seen_lock:
                    _seen[str(path)] = stamp
        if problem is None and rows and expected_rows is not None:
            problem = rows_problem(path, expected_rows)
        if problem:
            problems.append((Path(path), problem))
    return problems


def forget() -> None:
    """Forget which files this process has checked, so the next read hashes them again (benchmarks, tests)."""
    with _seen_lock:
        _seen.clear()


def checked_files() -> list[str]:
    """Paths this process has hashed and found matching store.json."""
    with _seen_lock:
        return sorted(_seen)
