"""Small files read once and again only when they change (pages ask for profiles and areas several times a run).

A result is kept under the file's identity: path, inode, size and modification time in nanoseconds.
Wardscope's writes replace a file by renaming a new one over it (geo.atomic), which gives it a new inode,
so a saved change is seen (only a file system reusing an inode for a file of the same size within the
same clock tick could hide one). What ``make`` raises is not kept: a damaged file is read again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, TypeVar

from geo.contentcache import LRUCache

T = TypeVar("T")

_MEMO = LRUCache(max_entries=64)


def read_memoised(path: Path, make: Callable[[Path], T]) -> T:
    """``make(path)``, kept until the file at ``path`` changes; raises OSError when it cannot be read.

    Keep results immutable (frozen dataclasses, tuples): every caller gets the same object.
    """
    stat = os.stat(path)
    key = (str(Path(path).resolve()), getattr(make, "__qualname__", repr(make)), stat.st_ino, stat.st_size,
           stat.st_mtime_ns)
    return _MEMO.get_or_compute(key, lambda: make(Path(path)))
