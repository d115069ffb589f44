"""Atomic file writes: nothing half-written is ever left where a reader looks.

A write goes to a temporary file in the same directory, is flushed and
fsync'd, then renamed over the target (rename is atomic on POSIX). With
``keep_previous`` the old file is first kept as ``<name>.prev`` so saved work
survives a bad save. With ``overwrite=False`` the final name is taken
exclusively (:func:`place`): two writers racing for one new file never both
succeed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator, Sequence


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


#: Longest temporary suffix kept (``.tmp.gpkg``); a longer extension is dropped from the temporary name.
_SUFFIX_MAX = 16
#: Room left in a temporary name for mkstemp's random part and separators (bytes, of 255).
_TEMP_NAME_BYTES = 255 - 8 - 2


def _temp_path(path: Path, suffix: str) -> Path:
    """A fresh temporary name beside ``path`` (nothing left there), short enough for any file system."""
    suffix = suffix if len(suffix.encode()) <= _SUFFIX_MAX else ".tmp"
    stem = os.fsencode(path.name)[: _TEMP_NAME_BYTES - len(suffix.encode())].decode("utf-8", "ignore")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{stem}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers such as GDAL want to create the file themselves
    return tmp


#: errno values of file systems that cannot hard-link (FAT/exFAT, some network shares).
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}


def place(tmp: Path, path: Path, *, overwrite: bool = True) -> None:
    """Move the complete file ``tmp`` to ``path``; without ``overwrite``, only if ``path`` does not exist.

    Without ``overwrite`` the name is taken exclusively (a hard link fails if
    the name exists; where links are not supported the name is claimed with
    ``O_CREAT | O_EXCL`` first), so of two writers racing for one name exactly
    one succeeds and the other gets :class:`FileExistsError`, never an
    overwrite.
    """
    if overwrite:
        os.replace(tmp, path)
        return
    if tmp.is_dir():  # directories cannot be linked; a rename onto a non-empty one fails anyway
        if path.exists() or path.is_symlink():
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path))
        os.rename(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path)) from None
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))  # claim the name, then fill it
        try:
            os.replace(tmp, path)
        except BaseException:
            os.unlink(path)  # the empty file claimed just above is this call's own
            raise
    else:
        os.unlink(tmp)


def _fsync_file(path: Path) -> None:
    if path.is_file():
        with open(path, "rb+") as handle:
            os.fsync(handle.fileno())


def _discard(tmp: Path) -> None:
    if tmp.is_dir():
        shutil.rmtree(tmp, ignore_errors=True)
    elif tmp.exists():
        tmp.unlink()


@contextlib.contextmanager
def atomic_path(path: Path, *, keep_previous: bool = False, overwrite: bool = True,
                suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path in ``path``'s directory; on success rename it to ``path``.

    The caller writes a complete file to the yielded path. On an exception the
    temporary file is removed and ``path`` is untouched. ``suffix`` ends the
    temporary name (e.g. ``.tmp.gpkg`` for writers that check the extension).
    Without ``overwrite`` an existing ``path`` raises :class:`FileExistsError`,
    also when another writer creates it meanwhile (see :func:`place`).
    """
    with atomic_files([path], keep_previous=keep_previous, overwrite=overwrite, suffixes=[suffix]) as temps:
        yield temps[0]


@contextlib.contextmanager
def atomic_files(paths: Sequence[Path], *, keep_previous: bool = False, overwrite: bool = True,
                 suffixes: Sequence[str] | None = None) -> Iterator[list[Path]]:
    """:func:`atomic_path` for several files written together (an export and its side files).

    Yields one temporary path per target (suffix ``.tmp<suffix of the target>``
    unless ``suffixes`` are given). On success every file is moved into place,
    the first target last, so a reader who finds the first file finds them all.
    On any failure the temporaries are removed and, without ``overwrite``, so
    are the files this call already placed (they were created exclusively, so
    they are this call's own): a refused or failed export leaves nothing. With
    ``overwrite``, a failure while moving (rare: every file is complete by
    then) can leave the files already moved in their new version.
    """
    paths = [Path(p) for p in paths]
    suffixes = list(suffixes) if suffixes is not None else [".tmp" + p.suffix for p in paths]
    if not overwrite:
        for path in paths:
            if path.exists() or path.is_symlink():
                raise FileExistsError(errno.EEXIST, f"{path} already exists", str(path))
    temps: list[Path] = []
    placed: list[Path] = []
    try:
        for path, suffix in zip(paths, suffixes):
            path.parent.mkdir(parents=True, exist_ok=True)
            temps.append(_temp_path(path, suffix))
        yield list(temps)
        for tmp in temps:
            _fsync_file(tmp)
        for path, tmp in reversed(list(zip(paths, temps))):
            if keep_previous and path.exists():
                _copy_atomic(path, previous_path(path))
            place(tmp, path, overwrite=overwrite)
            placed.append(path)
        for folder in {p.parent for p in paths}:
            _fsync_dir(folder)
    except BaseException:
        if not overwrite:
            for path in placed:
                path.unlink(missing_ok=True)
        raise
    finally:
        for tmp in temps:
            _discard(tmp)


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
