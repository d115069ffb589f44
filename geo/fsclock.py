"""The file system's own clock, for measuring how old a file is.

File times are stamped by whatever wrote them (the kernel, or a file server
on a network share), not by this process's clock. Comparing an mtime with
``time.time()`` goes wrong when the two clocks disagree: a server whose clock
runs ahead would see every fresh file as stale and delete work in progress.
So ages are measured against the time the same file system stamps on a
probe file written now.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path


def fs_now(directory: Path) -> float:
    """Seconds since the epoch as the file system holding ``directory`` stamps files now.

    Falls back to this process's clock when nothing can be written there
    (a read-only folder has nothing of its own to clean up anyway).
    """
    try:
        fd, probe = tempfile.mkstemp(prefix=".clock-", dir=directory)
    except OSError:
        return time.time()
    try:
        return os.fstat(fd).st_mtime
    finally:
        os.close(fd)
        os.unlink(probe)


def age_s(path: Path, now: float) -> float:
    """How many seconds ago ``path`` (not followed if a symlink) was last modified, by the clock ``now`` came from."""
    return now - os.lstat(path).st_mtime
