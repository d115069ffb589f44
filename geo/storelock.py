"""One install at a time: an exclusive lock on the store's data directory.

:func:`install_lock` takes ``fcntl.flock(LOCK_EX)`` on ``<data dir>/install.lock``.
The operating system drops a flock when the process holding it ends, however
it ends (``kill -9`` included), so a crashed install never leaves a stale
lock. The lock file itself is never deleted: deleting it would let two
processes lock two different files. While held it names the holder (pid,
start time) for the message a second install gives.

The lock is re-entrant within one thread (``layers.install.install`` holds it
around :class:`geo.store.StoreWriter`, which takes it again) and exclusive
between threads and processes: every acquisition opens the file afresh, and a
Linux flock belongs to the open file, so two sessions of one app process
exclude each other as two processes do.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

from geo.errors import InstallRunning, WardscopeError

LOCK_NAME = "install.lock"
#: How long a second install waits for the first by default (seconds); an online install can take many minutes.
DEFAULT_WAIT_S = 30 * 60
#: How often a waiting install tries the lock again (seconds).
POLL_S = 0.2
#: Test hook (see :func:`pause_point`): the point to stop at, and the folder holding ``paused`` and the ``resume`` FIFO.
PAUSE_AT_ENV = "WARDSCOPE_TEST_PAUSE_AT"
PAUSE_DIR_ENV = "WARDSCOPE_TEST_PAUSE_DIR"

_held = threading.local()


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def holder(root: Path) -> str:
    """Who holds (or last held) the lock, for messages: ``pid N, started ...``."""
    try:
        info = json.loads((Path(root) / LOCK_NAME).read_text(encoding="utf-8"))
        where = "" if info.get("host") == socket.gethostname() else f" on {info.get('host')}"
        return f"pid {int(info['pid'])}{where}, started {info['started']}"
    except (OSError, ValueError, KeyError, TypeError):  # being written, or written by a holder that crashed
        return "pid unknown"


def _acquire(fd: int, root: Path, wait_s: float | None, on_wait: Callable[[str], None] | None) -> None:
    deadline = None if wait_s is None else time.monotonic() + max(wait_s, 0.0)
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        except OSError as exc:  # e.g. ENOLCK on a network file system without locks
            raise WardscopeError(f"cannot lock {root / LOCK_NAME} ({exc.strerror}); keep the data directory on a "
                                 "local disk") from None
        who = holder(root)
        if deadline is not None and time.monotonic() >= deadline:
            if wait_s <= 0:
                raise InstallRunning(f"another install is running ({who}); try again when it has finished")
            raise InstallRunning(f"another install is still running ({who}) after waiting {_minutes(wait_s)}; "
                                 "try again when it has finished")
        if not told and on_wait is not None:
            limit = "until it finishes" if wait_s is None else f"up to {_minutes(wait_s)}"
            on_wait(f"another install is running ({who}); waiting ({limit})...")
            told = True
        time.sleep(POLL_S)


@contextlib.contextmanager
def install_lock(root: Path, *, wait_s: float | None = DEFAULT_WAIT_S,
                 on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the store's install lock for the ``with`` block.

    ``wait_s``: seconds to wait for another install (0: refuse at once; None:
    no limit); then :class:`~geo.errors.InstallRunning` is raised.
    ``on_wait(message)`` is called once if the lock is busy, before waiting.
    """
    root = Path(root)
    key = os.path.realpath(root)
    held: dict = _held.__dict__.setdefault("roots", {})
    if key in held:  # this thread already holds it
        held[key] += 1
        try:
            yield
        finally:
            held[key] -= 1
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:  # read-only or not ours, or a symbolic link put in its place (O_NOFOLLOW)
        raise WardscopeError(f"cannot open the install lock {root / LOCK_NAME} ({exc.strerror}); the data "
                             "directory must be writable by the user running Wardscope") from None
    try:
        _acquire(fd, root, wait_s, on_wait)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S %z")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        held[key] = 1
        try:
            yield
        finally:
            del held[key]
            os.ftruncate(fd, 0)  # no holder any more (a killed holder's details stay, but its lock is gone)
    finally:
        os.close(fd)  # closing the file releases the lock


def pause_point(name: str) -> None:
    """Test hook: stop here when ``$WARDSCOPE_TEST_PAUSE_AT`` equals ``name``; otherwise do nothing.

    Writes ``$WARDSCOPE_TEST_PAUSE_DIR/paused`` (pid and point), then blocks
    opening the FIFO ``resume`` in that folder until the test opens it to let
    the install go on, or kills the process. Lets tests kill an install at an
    exact step without racing the clock (tests/test_install_lock.py).
    """
    if os.environ.get(PAUSE_AT_ENV) != name:
        return
    from geo import atomic

    folder = Path(os.environ[PAUSE_DIR_ENV])
    atomic.write_text(folder / "paused", f"{os.getpid()} {name}\n")
    with open(folder / "resume", "rb") as fifo:
        fifo.read()
