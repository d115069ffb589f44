"""Caches keyed by content, so one session never sees another's data.

A cache keyed by a file *name* ("sites.csv") would hand one officer's
parsed upload to another who uploads a different file with the same name.
Keys built by :func:`content_key` come from the bytes themselves (an
upload's SHA-256) plus the parameters that change the result, so equal keys
mean equal inputs: sharing a result between sessions then reveals nothing a
session did not already hold.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import PurePath
from typing import Any, Callable, TypeVar

T = TypeVar("T")


def _feed(h, part: Any) -> None:
    if part is None or isinstance(part, (bool, int, float)):
        h.update(b"n" + repr(part).encode())
    elif isinstance(part, str):
        h.update(b"s" + str(len(part)).encode() + b":" + part.encode("utf-8", "surrogatepass"))
    elif isinstance(part, (bytes, bytearray, memoryview)):
        data = bytes(part)
        h.update(b"b" + str(len(data)).encode() + b":" + data)
    elif isinstance(part, (tuple, list)):
        h.update(b"(" + str(len(part)).encode())
        for item in part:
            _feed(h, item)
        h.update(b")")
    elif isinstance(part, (frozenset, set)):
        _feed(h, sorted(repr(p) for p in part))
    elif isinstance(part, PurePath):
        raise TypeError("content_key: a path names a file but says nothing of its content; pass its bytes or Upload")
    elif hasattr(part, "sha256") and hasattr(part, "kind"):  # geo.upload.gate.Upload
        h.update(b"u" + part.kind.encode() + b":" + part.sha256.encode())
    else:
        raise TypeError(f"content_key: cannot key on {type(part).__name__}; use bytes, str, numbers or an Upload")


def content_key(*parts: Any) -> str:
    """A SHA-256 hex key over ``parts`` (bytes, text, numbers, None, tuples, Uploads).

    An ``Upload`` contributes its kind and content hash, not its name or path.
    Include every parameter that changes the cached result (e.g. ``assume_crs``).
    """
    h = hashlib.sha256()
    for part in parts:
        _feed(h, part)
    return h.hexdigest()


def _copy(value: Any) -> Any:
    copy = getattr(value, "copy", None)
    return copy() if callable(copy) and hasattr(value, "attrs") else value  # pandas objects


class LRUCache:
    """A small thread-safe least-recently-used cache: ``get_or_compute(key, compute)``.

    ``compute()`` runs outside the lock, so a slow one does not hold up other sessions (two sessions
    missing the same key at once may both compute it; the last one is kept).
    """

    def __init__(self, max_entries: int = 32):
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key) -> bool:
        return key in self._items

    def keys(self) -> list:
        """The keys held now, least recently used first."""
        with self._lock:
            return list(self._items)

    def get_or_compute(self, key, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class ContentCache(LRUCache):
    """An :class:`LRUCache` for results computed from uploaded content.

    pandas objects are copied on the way out so a session changing its frame cannot change another's.
    Keys must come from :func:`content_key`.
    """

    def get_or_compute(self, key: str, compute: Callable[[], T]) -> T:
        if not (isinstance(key, str) and len(key) == 64 and all(c in "0123456789abcdef" for c in key)):
            raise ValueError("ContentCache keys must come from content_key()")
        return _copy(super().get_or_compute(key, compute))
