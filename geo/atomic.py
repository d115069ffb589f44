"""Atomic file writes: nothing half-written is ever left where a reader looks.

A write goes to a temporary file in the same directory, is flushed and
fsync'd, then renamed over the target (rename is atomic on POSIX). With
``keep_previous`` the old file is first kept as ``<name>.prev`` so saved work
survives a bad save.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _copy_atomic(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` through a temporary file, so ``dst`` is never half-written."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
    os.close(fd)
    try:
        shutil.copy2(src, tmp_name)
        with open(tmp_name, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_name, dst)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


def previous_path(path: Path) -> Path:
    """Where the previous version of ``path`` is kept."""
    path = Path(path)
    return path.with_name(path.name + ".prev")


@contextlib.contextmanager
def atomic_path(path: Path, *, keep_previous: bool = False, overwrite: bool = True,
                suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path in ``path``'s directory; on success rename it to ``path``.

    The caller writes a complete file to the yielded path. On an exception the
    temporary file is removed and ``path`` is untouched. ``suffix`` ends the
    temporary name (e.g. ``.tmp.gpkg`` for writers that check the extension).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers such as GDAL want to create the file themselves
    try:
        yield tmp
        if tmp.is_file():
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        if keep_previous and path.exists():
            _copy_atomic(path, previous_path(path))
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def write_bytes(path: Path, data: bytes, *, keep_previous: bool = False) -> Path:
    """Atomically write ``data`` to ``path``."""
    with atomic_path(path, keep_previous=keep_previous) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    return Path(path)


def write_text(path: Path, text: str, *, keep_previous: bool = False) -> Path:
    """Atomically write UTF-8 ``text`` to ``path``."""
    return write_bytes(path, text.encode("utf-8"), keep_previous=keep_previous)


def write_with(path: Path, writer: Callable[[Path], None], *, keep_previous: bool = False) -> Path:
    """Atomically create ``path`` by calling ``writer(tmp_path)``."""
    with atomic_path(path, keep_previous=keep_previous) as tmp:
        writer(tmp)
    return Path(path)
