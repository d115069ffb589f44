"""Saved work (scoring profiles, site lists, areas): never lost, never half-written.

A save writes a temporary file beside the target, fsyncs it and renames it
over the target (``geo.atomic``), keeping the version it replaces as
``<name>.prev``. A reader therefore sees the old file or the new one, never a
mixture, even if the app is killed mid-save. If a saved file is damaged
anyway (disk fault, hand edit), :func:`load_saved` raises
:class:`~geo.errors.CorruptSavedFile` saying so and whether a previous
version exists; :func:`load_previous` reads it and :func:`restore_previous`
puts it back.

Files live in ``geo.config.user_dir()/<kind>/<slug>.<suffix>``;
:func:`saved_path` turns a user's name into a safe file name.
"""

from __future__ import annotations

import os
import re
import time
import unicodedata
from pathlib import Path
from typing import Any, Callable, TypeVar

import yaml

from geo import atomic
from geo.config import user_dir
from geo.errors import CorruptSavedFile, SavedFileError, WardscopeError
from geo.fsclock import age_s, fs_now
from geo.safe_yaml import load_yaml_safely

T = TypeVar("T")

KINDS = ("profiles", "sites", "areas", "hubs")
#: Test hook: when set to a path, a save writes half its bytes, creates that path and waits to be killed.
PAUSE_ENV = "WARDSCOPE_TEST_SAVE_PAUSE"
#: Leftover temporary files older than this are removed by the next save of the same file (seconds).
STALE_TEMP_S = 3600


def slug(name: str, *, max_len: int = 80, fallback: str | None = None) -> str:
    """A file-name-safe version of a user's name ('Growth & jobs' -> 'growth-jobs'): [a-z0-9-], at most ``max_len``.

    Never empty and never '.' or '..': a name with no letters or digits gives ``fallback``, or raises
    :class:`WardscopeError` when there is none.
    """
    text = unicodedata.normalize("NFKD", str(name or "")).encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:max_len].strip("-")
    if not text:
        if fallback is not None:
            return fallback
        raise WardscopeError(f"the name {str(name)[:80]!r} needs some letters or digits")
    return text


def saved_path(kind: str, name: str, suffix: str = ".yaml") -> Path:
    """Where saved work of ``kind`` called ``name`` lives (under ``geo.config.user_dir()``)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    if suffix not in (".yaml", ".csv", ".geojson"):
        raise ValueError("suffix must be .yaml, .csv or .geojson")
    return user_dir() / kind / f"{slug(name)}{suffix}"


def _remove_stale_temps(path: Path) -> None:
    temps = sorted(path.parent.glob(f".{path.name}.*.tmp"))
    if not temps:
        return
    now = fs_now(path.parent)
    for tmp in temps:
        try:
            if age_s(tmp, now) > STALE_TEMP_S:
                tmp.unlink()
        except OSError:
            pass


def _write(tmp: Path, data: bytes) -> None:
    pause = os.environ.get(PAUSE_ENV)
    with open(tmp, "wb") as handle:
        if pause:
            half = len(data) // 2
            handle.write(data[:half])
            handle.flush()
            os.fsync(handle.fileno())
            Path(pause).write_text(str(tmp))
            time.sleep(60)  # the test kills the process here
            handle.write(data[half:])
        else:
            handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def save_bytes(path: Path, data: bytes) -> Path:
    """Atomically write ``data`` to ``path``, keeping the replaced version as ``<path>.prev``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(path)
    return atomic.write_with(path, lambda tmp: _write(tmp, data), keep_previous=True)


def save_text(path: Path, text: str) -> Path:
    """:func:`save_bytes` for UTF-8 text."""
    return save_bytes(path, text.encode("utf-8"))


def save_yaml(path: Path, data: Any) -> Path:
    """Save plain data as YAML (``yaml.safe_dump``: no object tags can be written)."""
    return save_text(path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _read(path: Path, parse: Callable[[str], T]) -> T:
    raw = path.read_bytes()
    if not raw.strip():
        raise ValueError("the file is empty")
    text = raw.decode("utf-8")
    return parse(text)


def _problem(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def load_saved(path: Path, parse: Callable[[str], T] | None = None) -> T:
    """Read saved work with ``parse(text)`` (default: :func:`geo.safe_yaml.load_yaml_safely`).

    Raises :class:`SavedFileError` when the file does not exist, and
    :class:`CorruptSavedFile` when it cannot be decoded or parsed; its
    ``previous`` attribute is the ``.prev`` file when one exists (offer
    :func:`load_previous` / :func:`restore_previous`), else None.
    """
    path = Path(path)
    parse = parse or (lambda text: load_yaml_safely(text, source=path.name))
    if not path.is_file():
        raise SavedFileError(f"{path.name}: no saved file at {path}")
    try:
        return _read(path, parse)
    except Exception as exc:  # whatever ``parse`` objects to (any type), the file is unusable
        prev = atomic.previous_path(path)
        if prev.is_file():
            when = time.strftime("%d %b %Y %H:%M", time.localtime(prev.stat().st_mtime))
            offer = f"the previous version (saved before {when}) can be restored"
        else:
            prev, offer = None, "no previous version was kept"
        raise CorruptSavedFile(f"{path.name}: is damaged and cannot be loaded ({_problem(exc)}); {offer}",
                               path=path, previous=prev) from None


def load_previous(path: Path, parse: Callable[[str], T] | None = None) -> T:
    """Read the previous version of ``path`` (its ``.prev`` file) with ``parse``."""
    path = Path(path)
    prev = atomic.previous_path(path)
    if not prev.is_file():
        raise SavedFileError(f"{path.name}: no previous version was kept")
    parse = parse or (lambda text: load_yaml_safely(text, source=prev.name))
    try:
        return _read(prev, parse)
    except Exception as exc:  # as in load_saved
        raise CorruptSavedFile(f"{prev.name}: the previous version is damaged too ({_problem(exc)})",
                               path=prev, previous=None) from None


def restore_previous(path: Path) -> Path:
    """Put the previous version back as ``path`` (atomically); the damaged file is kept as ``<name>.damaged``."""
    path = Path(path)
    prev = atomic.previous_path(path)
    if not prev.is_file():
        raise SavedFileError(f"{path.name}: no previous version was kept")
    if path.is_file():
        atomic.write_bytes(path.with_name(path.name + ".damaged"), path.read_bytes())
    return atomic.write_bytes(path, prev.read_bytes())
