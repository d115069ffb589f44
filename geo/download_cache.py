"""A content-addressed cache of everything downloaded, kept across installs, and the downloader that fills it.

Layout under ``root`` (``<data dir>/cache/downloads``)::

    objects/<ab>/<sha256>   the bytes of one answer, named by their SHA-256
    refs/<key>.json         which object answers a request (key: SHA-256 of the address and
                            parameters, secrets left out), with its size, validators and time
    partial/<key>.part      an answer still arriving (+ <key>.json: how to resume it)

A request whose answer is in the cache is never sent again (unless the
answer is older than the ``max_age_s`` the caller allows, as for the
monthly Nomis figures), so a second install after a failure fetches only
what is missing. An object is checked against its hash before use; a
damaged one is fetched again. A partial answer is resumed with ``Range``
when the server allows it (``Accept-Ranges: bytes`` and an ``ETag`` or
``Last-Modified`` to check it is the same file, RFC 9110 sections 13.1.5 and
14) and discarded otherwise: it is never used. Nothing enters the cache
before it passed the caller's ``check`` (a web page, an ArcGIS error body,
a truncated zip never do), and a failed install leaves the cache as it is.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

import requests

from geo.errors import DiskFull, PublisherError, WardscopeError
from geo.fetch import (SECRET_PARAMS, USER_AGENT, Reporter, RetryPolicy, Transient, broke_off, host_of, open_response,
                       redact, retrying, size_text)

T = TypeVar("T")
CHUNK_BYTES = 1 << 20
DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


def looks_like_html(head: bytes) -> bool:
    """True when ``head`` (the first bytes of an answer) is a web page rather than data."""
    text = head[:512].lstrip().lower()
    return text.startswith(b"<!doctype html") or text.startswith(b"<html") or b"<html" in text[:200] or text.startswith(b"<?xml")


def page_title(head: bytes) -> str:
    """The ``<title>`` of a web page (or its first words), for a message."""
    text = head.decode("utf-8", "replace")
    low = text.lower()
    if "<title>" in low:
        start = low.index("<title>") + 7
        end = low.find("</title>", start)
        return " ".join(text[start:end if end > 0 else start + 80].split())[:80]
    return " ".join(text.split())[:80]


def web_page_error(what: str, publisher: str, head: bytes) -> WebPageError:
    """The one-line error for a web page sent instead of data (a publisher's error page or a proxy's sign-in page)."""
    return WebPageError(
        f"{what}: {publisher} returned a web page, not the data ({page_title(head)!r}); if your network needs you to "
        f"sign in to a proxy, sign in with a web browser (or set HTTPS_PROXY) and run the install again, otherwise "
        f"try again later")


class WebPageError(PublisherError):
    """A web page came instead of data."""


def disk_full(what: str, where: Path) -> DiskFull:
    try:
        free = f"{size_text(shutil.disk_usage(where).free)} free"
    except OSError:
        free = "no space left"
    return DiskFull(f"cannot save {what}: the disk holding {where} is full ({free}); free some space and run the "
                    f"install again (the downloads already in the cache are kept and will not be fetched again)")


def request_key(url: str, params: dict | None) -> str:
    """The cache key of a GET: the address and the parameters in order, without the secret ones."""
    kept = sorted((str(k), str(v)) for k, v in (params or {}).items() if str(k).lower() not in SECRET_PARAMS)
    text = url + "?" + "&".join(f"{k}={v}" for k, v in kept)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class Entry:
    path: Path
    size: int


class DownloadCache:
    """The files under ``root``; see the module docstring for the layout."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _ref(self, key: str) -> Path:
        return self.root / "refs" / f"{key}.json"

    def partial(self, key: str) -> tuple[Path, Path]:
        """(the partial body, its resume information)."""
        return self.root / "partial" / f"{key}.part", self.root / "partial" / f"{key}.json"

    def object_path(self, sha: str) -> Path:
        return self.root / "objects" / sha[:2] / sha

    def lookup(self, key: str, max_age_s: float | None = None) -> Entry | None:
        """The cached answer of ``key``, checked against its hash; None when absent, too old or damaged."""
        ref = self._ref(key)
        try:
            info = json.loads(ref.read_text(encoding="utf-8"))
            sha, size = info["sha256"], int(info["bytes"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, OSError):
            self.forget(key)
            return None
        if max_age_s is not None and time.time() - float(info.get("fetched_at", 0)) > max_age_s:
            return None
        path = self.object_path(sha)
        try:
            if path.stat().st_size != size or sha256_of(path) != sha:
                raise ValueError("damaged")
        except (OSError, ValueError):
            self.forget(key)
            path.unlink(missing_ok=True)
            return None
        return Entry(path, size)

    def has(self, key: str) -> bool:
        return self._ref(key).is_file()

    def commit(self, key: str, part: Path, info: dict) -> Entry:
        """Move a complete ``part`` into ``objects/`` under its hash and point ``key`` at it."""
        sha = sha256_of(part)
        dest = self.object_path(sha)
        dest.parent.mkdir(parents=True, exist_ok=True)
        size = part.stat().st_size
        if dest.is_file() and dest.stat().st_size == size:
            part.unlink()
        else:
            os.replace(part, dest)
        _replace_text(self._ref(key), json.dumps({**info, "sha256": sha, "bytes": size, "fetched_at": time.time()},
                                                 sort_keys=True))
        self.partial(key)[1].unlink(missing_ok=True)
        return Entry(dest, size)

    def forget(self, key: str) -> None:
        self._ref(key).unlink(missing_ok=True)

    def discard_partial(self, key: str) -> None:
        for path in self.partial(key):
            path.unlink(missing_ok=True)

    def expire(self, max_age_s: float) -> int:
        """Remove refs marked ``volatile`` older than ``max_age_s`` and objects nothing points at; returns objects removed."""
        refs = self.root / "refs"
        keep: set[str] = set()
        now = time.time()
        for ref in refs.glob("*.json") if refs.is_dir() else ():
            try:
                info = json.loads(ref.read_text(encoding="utf-8"))
            except (ValueError, OSError):
                ref.unlink(missing_ok=True)
                continue
            if info.get("volatile") and now - float(info.get("fetched_at", 0)) > max_age_s:
                ref.unlink(missing_ok=True)
            else:
                keep.add(info.get("sha256", ""))
        removed = 0
        objects = self.root / "objects"
        for obj in objects.glob("*/*") if objects.is_dir() else ():
            if obj.name not in keep:
                obj.unlink(missing_ok=True)
                removed += 1
        return removed

    def size_bytes(self) -> int:
        objects = self.root / "objects"
        return sum(p.stat().st_size for p in objects.glob("*/*")) if objects.is_dir() else 0


@dataclass
class Fetched:
    """One answer: where its bytes are (None when not cached), how it came, and what ``check`` made of it."""

    path: Path | None
    nbytes: int
    from_cache: bool
    resumed: bool = False
    value: object = None


@dataclass
class Stats:
    """Counts since the downloader was made: ``requests`` asks for cacheable answers, ``fresh`` for metadata."""

    requests: int = 0
    fresh: int = 0
    downloaded_bytes: int = 0
    hits: int = 0
    hit_bytes: int = 0
    resumed: int = 0
    keys: list = field(default_factory=list)


def check_zip(path: Path) -> None:
    if not zipfile.is_zipfile(path):
        raise PublisherError("the file is not a zip")


class Downloader:
    """Fetches through a :class:`DownloadCache` with retries (``policy``), reporting to ``report``."""

    def __init__(self, root: Path, *, policy: RetryPolicy | None = None, report: Reporter | None = None,
                 session: requests.Session | None = None):
        self.cache = DownloadCache(root)
        self.policy = policy or RetryPolicy.from_env()
        self.report = report or Reporter()
        self.session = session or requests.Session()
        self.stats = Stats()
        self.limits: dict[str, object] = {}

    def fetch(self, url: str, params: dict | None = None, *, what: str, publisher: str | None = None,
              check: Callable[[Path], object] | None = None, cache: bool = True, max_age_s: float | None = None,
              before: Callable[[], None] | None = None, refused_hint: str = "", missing_hint: str = "") -> Fetched:
        """GET ``url`` (``params``) into the cache, or take it from there; see the module docstring.

        ``check(path)`` validates the bytes (raising :class:`WardscopeError`)
        and returns what the caller wants from them (``Fetched.value``); it
        runs on cached answers too, and one that fails is fetched again.
        ``cache=False`` never stores the answer (metadata that must be
        current). ``before()`` runs before every request (a rate limit).
        """
        params = {k: str(v) for k, v in (params or {}).items()}
        key = request_key(url, params)
        self.stats.keys.append(key)
        if cache:
            hit = self.cache.lookup(key, max_age_s)
            if hit is not None:
                try:
                    value = check(hit.path) if check else None
                except (WardscopeError, Transient):
                    self.cache.forget(key)  # an answer that no longer passes its checks is fetched again
                else:
                    self.stats.hits += 1
                    self.stats.hit_bytes += hit.size
                    return Fetched(hit.path, hit.size, True, value=value)

        def attempt(_: int) -> Fetched:
            if before is not None:
                before()
            return self._download(url, params, key, what=what, publisher=publisher or host_of(url), check=check,
                                  cache=cache, volatile=max_age_s is not None, refused_hint=refused_hint,
                                  missing_hint=missing_hint)

        return retrying(attempt, what=what, policy=self.policy, report=self.report)

    def forget(self, keys) -> None:
        for key in keys:
            self.cache.forget(key)

    def _download(self, url, params, key, *, what, publisher, check, cache, volatile, refused_hint, missing_hint) -> Fetched:
        part, meta_path = self.cache.partial(key)
        part.parent.mkdir(parents=True, exist_ok=True)
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        offset = 0
        meta = _read_json(meta_path)
        if part.is_file() and meta.get("resumable") and part.stat().st_size > 0:
            offset = part.stat().st_size
            headers["Range"] = f"bytes={offset}-"
            headers["If-Range"] = meta.get("etag") or meta.get("last_modified")
        else:
            self.cache.discard_partial(key)
        if cache:
            self.stats.requests += 1
        else:
            self.stats.fresh += 1
        response = open_response(self.session, url, params, what=what, policy=self.policy, headers=headers,
                                 stream=True, refused_hint=refused_hint, missing_hint=missing_hint)
        shown, host = redact(response.url), host_of(url)
        # A body cut off part-way then ends quietly and the size check below catches it, instead of urllib3
        # raising and dropping the bytes it had buffered (which could have been resumed from).
        response.raw.enforce_content_length = False
        resumed = offset > 0 and response.status_code == 206 and _range_start(response) == offset
        if response.status_code == 206 and not resumed:  # a part of the file, but not the part asked for
            response.close()
            self.cache.discard_partial(key)
            raise Transient("the server sent a part of the file that was not asked for",
                            broke_off(what, host, "unexpected partial answer"))
        if not resumed:
            offset = 0  # a 200 answers with the whole file (the server ignored Range, or the file changed)
        encoded = bool(response.headers.get("Content-Encoding", "identity") not in ("", "identity"))
        length = response.headers.get("Content-Length")
        total = _range_total(response) if resumed else (int(length) if length and length.isdigit() and not encoded else None)
        etag = response.headers.get("ETag")
        etag = etag if etag and not etag.startswith("W/") else None  # a weak ETag cannot go in If-Range (RFC 9110 13.1.5)
        validator = etag or response.headers.get("Last-Modified")
        resumable = (response.headers.get("Accept-Ranges", "").lower() == "bytes" and bool(validator) and not encoded)
        info = {"url": shown, "etag": etag, "last_modified": response.headers.get("Last-Modified"),
                "content_type": response.headers.get("Content-Type", ""), "volatile": volatile}
        try:
            _write_json(meta_path, {**info, "resumable": resumable, "total": total}, what=what)
        except DiskFull:
            response.close()
            raise
        received = 0
        try:
            with open(part, "ab" if resumed else "wb") as handle:
                for chunk in response.iter_content(CHUNK_BYTES):
                    if not received and not resumed and looks_like_html(chunk[:512]):
                        raise web_page_error(what, publisher, chunk)
                    handle.write(chunk)
                    received += len(chunk)
                    self.stats.downloaded_bytes += len(chunk)
                    self.report.transferred(len(chunk))
        except OSError as exc:
            if isinstance(exc, requests.RequestException):
                if not resumable:
                    self.cache.discard_partial(key)
                raise Transient(f"the connection broke off after {size_text(offset + received)}",
                                broke_off(what, host, type(exc).__name__)) from None
            if exc.errno in DISK_FULL:
                raise disk_full(what, self.cache.root) from None
            raise
        except WardscopeError:
            self.cache.discard_partial(key)
            raise
        finally:
            response.close()
        size = part.stat().st_size
        if total is not None and size != total:
            if size > total or not resumable:
                self.cache.discard_partial(key)
            raise Transient(f"only {size_text(size)} of {size_text(total)} arrived",
                            broke_off(what, host, f"{size_text(size)} of {size_text(total)}"))
        if size == 0:
            self.cache.discard_partial(key)
            raise PublisherError(f"{what}: {publisher} returned an empty answer for {shown}")
        try:
            value = check(part) if check else None
        except (WardscopeError, Transient):  # a check may ask for another attempt (Transient)
            self.cache.discard_partial(key)
            raise
        if resumed:
            self.stats.resumed += 1
        if not cache:
            self.cache.discard_partial(key)
            return Fetched(None, size, False, resumed, value)
        try:
            entry = self.cache.commit(key, part, info)
        except OSError as exc:
            if exc.errno in DISK_FULL:
                raise disk_full(what, self.cache.root) from None
            raise
        return Fetched(entry.path, entry.size, False, resumed, value)


def fresh_if_inconsistent(dl: Downloader, fetch: Callable[[], T], inconsistent: type[Exception]) -> T:
    """``fetch()``; if it raises ``inconsistent`` after using cached answers, forget them and fetch once more.

    Pages cached by an earlier install may not fit pages fetched now when
    the publisher changed the data in between; asking again for all of
    them gives a consistent set.
    """
    first, hits = len(dl.stats.keys), dl.stats.hits
    try:
        return fetch()
    except inconsistent:
        if dl.stats.hits == hits:
            raise
        dl.forget(dl.stats.keys[first:])
        return fetch()


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _replace_text(path: Path, text: str) -> None:
    """Write through a temporary file and rename: never torn. Not fsync'd: the cache only has to be
    consistent, not durable (after a power cut, a lost or damaged entry fails its hash and is fetched again)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_json(path: Path, data: dict, *, what: str) -> None:
    try:
        _replace_text(path, json.dumps(data, sort_keys=True))
    except OSError as exc:
        if exc.errno in DISK_FULL:
            raise disk_full(what, path.parent) from None
        raise


def _range_start(response: requests.Response) -> int | None:
    """The first byte of a ``Content-Range: bytes <start>-<end>/<total>`` answer."""
    value = response.headers.get("Content-Range", "")
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _range_total(response: requests.Response) -> int | None:
    value = response.headers.get("Content-Range", "")
    total = value.rsplit("/", 1)[-1] if "/" in value else ""
    return int(total) if total.isdigit() else None
