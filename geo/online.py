"""Source datasets downloaded from the official publishers, for installs without a mirror.

:class:`OnlineSource` has the interface of :class:`geo.sources.MirrorSource`
(``describe``, ``has``, ``path``, ``origin``): ``path(id)`` fetches the
dataset into a cache under the data directory and returns the local file,
so the same parsers read mirror files and downloads.

How a dataset is fetched depends on its ``online.kind`` (geo/sources.yaml,
layers/sources.yaml):

* ``nomis_bulk`` - a Nomis Census 2021 bulk zip; the ``member`` CSV is extracted;
* ``govuk`` - a file on GOV.UK's asset server (the Indices of Deprivation);
* ``url`` - a plain file at a fixed address: ``url``, or ``path`` below the
  base address of a publisher named by ``base`` (``geo.fetch.base``, so tests
  and mirrors of the CDN can move it);
* ``arcgis`` - an ONS Open Geography Portal feature service:
  :func:`fetch_arcgis`, implemented in ``geo.arcgis`` (imported when needed);
* other kinds are registered by the modules that own them with
  :func:`register_fetcher` (``layers.nomis`` registers ``nomis_api``,
  ``layers.census`` ``oa_lookup``); ``mirror_only`` marks a dataset an
  online install does without (``instead`` names what it reads in its place).

Every answer goes through one :class:`geo.download_cache.Downloader`:
retried when that may help, checked before it is kept (a web page is
refused with a one-line error), cached by content and kept when an install
fails, so the next install fetches only what is missing. What each dataset
cost (downloaded, from the cache, failed and why) is reported to the
install's :class:`geo.progress.InstallReport`.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

from geo import atomic
from geo.config import data_dir
from geo.download_cache import DISK_FULL, Downloader, check_zip, disk_full, request_key
from geo.errors import MissingSourceFile, PublisherError, WardscopeError
from geo.fetch import MB, base, size_text
from geo.progress import DatasetLine, InstallReport
from geo.sources import Dataset, dataset

Fetcher = Callable[[Dataset, Path, Downloader], Path]
FETCHERS: dict[str, Fetcher] = {}
#: Kinds whose data changes every month: rebuilt by every install from answers at most this old (seconds).
VOLATILE_KINDS = {"nomis_api": 24 * 3600}


def register_fetcher(kind: str, fetcher: Fetcher) -> None:
    """Register ``fetcher(dataset, dest, downloader) -> path`` for datasets whose ``online.kind`` is ``kind``."""
    FETCHERS[kind] = fetcher


def fetch_arcgis(ds: Dataset, dest: Path, dl: Downloader) -> Path:
    """Boundary and lookup datasets from the ONS Open Geography Portal: ``geo.arcgis.fetch_arcgis``.

    The paged ArcGIS REST client lives in ``geo.arcgis`` (imported only when
    an online install needs it).
    """
    try:
        from geo.arcgis import fetch_arcgis as fetch
    except ModuleNotFoundError as exc:
        if exc.name != "geo.arcgis":
            raise
        raise MissingSourceFile(
            f"{ds.title}: downloading from the ONS Open Geography Portal is not available in this version; "
            f"install from a mirror: python cli.py install --from DIR") from None
    return fetch(ds, dest, dl)


def moved_hint(ds: Dataset) -> str:
    """Added to a 404: where to find a file the publisher moved or republished under a new name."""
    return (f": the publisher may have moved the file or republished it under a new name; find it from "
            f"{ds.landing} and update {ds.id} in {ds.catalogue}")


def link_into(src: Path, dest: Path) -> Path:
    """``dest`` becomes ``src``'s bytes (a hard link to the cached object when possible), atomically."""
    with atomic.atomic_path(dest) as tmp:
        try:
            os.link(src, tmp)
        except OSError:  # a file system without hard links
            shutil.copyfile(src, tmp)
    return dest


def bulk_url(table: str) -> str:
    return f"{base('nomis')}/output/census/2021/census2021-{table.lower()}.zip"


def fetch_bulk_zip(ds: Dataset, dl: Downloader, table: str) -> Path:
    """The cached Nomis bulk zip of ``table`` (downloaded once, whichever dataset asks)."""
    return dl.fetch(bulk_url(table), what=ds.title, publisher="Nomis", check=lambda p: _zip_or_error(p, ds, table),
                    missing_hint=moved_hint(ds)).path


def _zip_or_error(path: Path, ds: Dataset, table: str) -> None:
    try:
        check_zip(path)
    except PublisherError:
        raise PublisherError(f"{ds.title}: Nomis returned a file that is not a zip from {bulk_url(table)}") from None


def fetch_nomis_bulk(ds: Dataset, dest: Path, dl: Downloader) -> Path:
    """A Nomis Census 2021 bulk zip (downloaded once per table); the ``member`` CSV is extracted to ``dest``."""
    table, member = ds.online["table"], ds.online["member"]
    zip_path = fetch_bulk_zip(ds, dl, table)
    try:
        with zipfile.ZipFile(zip_path) as zf:
            if member not in zf.namelist():
                raise PublisherError(f"{ds.title}: the Nomis zip census2021-{table}.zip has no {member} "
                                     f"(it holds {', '.join(zf.namelist()[:8])})")
            data = zf.read(member)
    except zipfile.BadZipFile as exc:
        raise PublisherError(f"{ds.title}: damaged zip from Nomis ({exc})") from None
    return atomic.write_bytes(dest, data)


def govuk_url(spec: dict) -> str:
    return f"{base('govuk')}/{spec['path'].lstrip('/')}"


def fetch_govuk(ds: Dataset, dest: Path, dl: Downloader) -> Path:
    """A file published on GOV.UK's asset server (base ``WARDSCOPE_GOVUK``)."""
    got = dl.fetch(govuk_url(ds.online), what=ds.title, publisher="GOV.UK", missing_hint=moved_hint(ds))
    return link_into(got.path, dest)


def file_url(spec: dict) -> str:
    """The address of a ``url``-kind dataset: ``base`` + ``path``, or its fixed ``url``."""
    if spec.get("base"):
        return f"{base(spec['base'])}/{spec['path'].lstrip('/')}"
    return spec["url"]


def fetch_url(ds: Dataset, dest: Path, dl: Downloader) -> Path:
    url = file_url(ds.online)
    got = dl.fetch(url, what=ds.title, publisher=urlparse(url).netloc, missing_hint=moved_hint(ds))
    return link_into(got.path, dest)


register_fetcher("nomis_bulk", fetch_nomis_bulk)
register_fetcher("govuk", fetch_govuk)
register_fetcher("url", fetch_url)
register_fetcher("arcgis", fetch_arcgis)


@dataclass(frozen=True)
class PlanLine:
    """What an install would do for one dataset (``python cli.py install --dry-run``)."""

    dataset_id: str
    title: str
    action: str  # "download", "in cache", "mirror", "not available"
    origin: str
    approx_bytes: int = 0
    optional: bool = False
    note: str = ""

    def text(self) -> str:
        size = "" if self.action != "download" or not self.approx_bytes else (
            f"~{self.approx_bytes / MB:,.0f} MB" if self.approx_bytes >= MB else "<1 MB")
        opt = " (optional)" if self.optional else ""
        note = f"; {self.note}" if self.note else ""
        return f"  {self.action:<13} {self.dataset_id:<28} {size:>8}  {self.title}{opt}\n{'':17}from {self.origin}{note}"


class OnlineSource:
    """Datasets fetched from the publishers into ``cache_dir`` (default ``<data dir>/cache``).

    Raw answers live in ``<cache>/downloads`` (:mod:`geo.download_cache`);
    what the parsers read (a GeoJSON built from ArcGIS pages, a CSV taken
    out of a zip) in ``<cache>/<dataset id>/``.
    """

    kind = "online"

    def __init__(self, cache_dir: Path | None = None, report: InstallReport | None = None):
        self.cache = Path(cache_dir) if cache_dir else data_dir() / "cache"
        self.report = report or InstallReport()
        self.downloader = Downloader(self.cache / "downloads", report=self.report)
        self._fetched: dict[str, Path] = {}
        self._estimated: dict[str, int] = {}
        self._keys: dict[str, list[str]] = {}

    def set_report(self, report: InstallReport) -> None:
        self.report = self.downloader.report = report

    def describe(self) -> str:
        return "the official publishers online (ONS Open Geography Portal, Nomis, GOV.UK; railway stations from unpkg)"

    def has(self, dataset_id: str) -> bool:
        return dataset(dataset_id).online.get("kind") in FETCHERS

    def dest(self, dataset_id: str) -> Path:
        ds = dataset(dataset_id)
        spec = ds.online
        if spec.get("kind") == "nomis_bulk":
            name = spec["member"]
        elif spec.get("kind") == "govuk":  # one file can serve several datasets (IoD 2019 File 7)
            return self.cache / "govuk" / Path(spec["path"]).name
        elif spec.get("kind") == "url":
            name = Path(urlparse(file_url(spec)).path).name or dataset_id
        else:
            name = f"{dataset_id}.{'geojson' if spec.get('geometry') else 'csv'}"
        return self.cache / dataset_id / name

    def _built(self, dataset_id: str) -> int | None:
        """The bytes downloaded for the file the parsers read, when it is here, built from this dataset's current
        ``online`` spec; else None."""
        dest = self.dest(dataset_id)
        try:
            built = json.loads(_spec_path(dest).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not dest.is_file() or built.get("spec") != _spec(dataset(dataset_id)):
            return None
        return int(built.get("downloaded_bytes", 0))

    def in_cache(self, dataset_id: str) -> bool:
        """True when the file the parsers read is already here (monthly Nomis figures never are)."""
        spec = dataset(dataset_id).online
        if spec.get("kind") in VOLATILE_KINDS:
            return False
        if self._built(dataset_id) is not None:
            return True
        if spec.get("kind") in ("govuk", "url"):
            url = govuk_url(spec) if spec["kind"] == "govuk" else file_url(spec)
            return self.downloader.cache.has(request_key(url, None))
        return False

    def approx_bytes(self, dataset_id: str) -> int:
        return int(float(dataset(dataset_id).online.get("approx_mb", 0)) * MB)

    def expect(self, dataset_ids) -> int:
        """Tell the report how much the datasets not yet in the cache will download (one estimate per file)."""
        total, seen = 0, set()
        for ds_id in dataset_ids:
            if not self.has(ds_id) or self.in_cache(ds_id):
                continue
            origin = self.origin(ds_id)
            estimate = 0 if origin in seen else self.approx_bytes(ds_id)
            seen.add(origin)
            self._estimated[ds_id] = estimate
            total += estimate
        self.report.expect(total)
        return total

    def path(self, dataset_id: str) -> Path:
        if dataset_id in self._fetched:
            return self._fetched[dataset_id]
        ds = dataset(dataset_id)
        if not self.has(dataset_id):
            raise MissingSourceFile(f"{ds.title} cannot be downloaded automatically; get it from {ds.landing} "
                                    f"and install from a mirror: python cli.py install --from DIR")
        kind = ds.online["kind"]
        dest = self.dest(dataset_id)
        built = self._built(dataset_id) if kind not in VOLATILE_KINDS else None
        if built is not None:
            self._line(DatasetLine(dataset_id, ds.title, "from cache", built))
        else:
            nbytes = self._fetch(ds, kind, dest)
            atomic.write_text(_spec_path(dest), json.dumps({"spec": _spec(ds), "downloaded_bytes": nbytes}))
        self._fetched[dataset_id] = dest
        return dest

    def _fetch(self, ds: Dataset, kind: str, dest: Path) -> int:
        """Fetch ``ds`` into ``dest`` and report it; returns the bytes its answers hold."""
        stats = self.downloader.stats
        before = (stats.downloaded_bytes, stats.hits, stats.hit_bytes, stats.resumed, stats.requests, stats.fresh)
        start = time.monotonic()
        estimate = self._estimated.pop(ds.id, 0)
        first_key = len(stats.keys)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            FETCHERS[kind](ds, dest, self.downloader)
        except OSError as exc:
            if exc.errno not in DISK_FULL:
                raise
            self.report.expect(stats.downloaded_bytes - before[0] - estimate)
            error = disk_full(ds.title, self.cache)
            self._line(DatasetLine(ds.id, ds.title, "failed", detail=str(error)))
            raise error from None
        except WardscopeError as exc:
            self.report.expect(stats.downloaded_bytes - before[0] - estimate)
            self._line(DatasetLine(ds.id, ds.title, "failed", detail=str(exc)))
            raise
        self._keys[ds.id] = stats.keys[first_key:]
        new = stats.downloaded_bytes - before[0]
        hits, hit_bytes = stats.hits - before[1], stats.hit_bytes - before[2]
        resumed, requests, fresh = stats.resumed - before[3], stats.requests - before[4], stats.fresh - before[5]
        self.report.expect(new - estimate)
        if not requests:
            status, detail = "from cache", f"checked against {fresh} fresh metadata answers" if fresh else ""
        elif resumed:
            status, detail = "resumed", f"{resumed} interrupted download(s) resumed"
        else:
            status = "downloaded"
            detail = f"{hits} of {hits + requests} answers from the cache" if hits else ""
        self._line(DatasetLine(ds.id, ds.title, status, new + hit_bytes, time.monotonic() - start, detail))
        return new + hit_bytes

    def forget(self, dataset_ids) -> None:
        """Fetch these datasets afresh next time: their reader refused what came (the answers may be fixed since)."""
        for ds_id in dataset_ids:
            self.downloader.forget(self._keys.pop(ds_id, []))
            self._fetched.pop(ds_id, None)
            for path in (self.dest(ds_id), _spec_path(self.dest(ds_id))):
                path.unlink(missing_ok=True)

    def _line(self, line: DatasetLine) -> None:
        self.report.dataset(line)

    def origin(self, dataset_id: str) -> str:
        ds = dataset(dataset_id)
        spec = ds.online
        kind = spec.get("kind")
        if kind == "nomis_bulk":
            return f"{bulk_url(spec['table'])} ({spec['member']})"
        if kind == "govuk":
            return govuk_url(spec)
        if kind == "url":
            return file_url(spec)
        if kind == "nomis_api":
            return f"{base('nomis')}/api/v01/dataset/{spec['dataset']}.data.csv"
        if kind == "arcgis":
            return f"{base('ons')}/{spec.get('service')}/FeatureServer/0"
        if kind == "oa_lookup":
            return (f"{base('ons')}/{spec['lookup']['service']}/FeatureServer/0 and "
                    f"{bulk_url(spec['residents']['table'])} ({spec['residents']['member']})")
        return ds.landing

    def plan(self, dataset_id: str) -> PlanLine:
        ds = dataset(dataset_id)
        if not self.has(dataset_id):
            instead = ", ".join(ds.online.get("instead", [])) or "nothing"
            return PlanLine(dataset_id, ds.title, "not available", ds.landing, optional=ds.optional,
                            note=f"read instead: {instead}")
        note = ds.online.get("plan_note", "")
        action = "in cache" if self.in_cache(dataset_id) else "download"
        return PlanLine(dataset_id, ds.title, action, self.origin(dataset_id), self.approx_bytes(dataset_id),
                        ds.optional, note)

    def cache_summary(self, dataset_ids) -> str | None:
        """One line on what the download cache already holds for ``dataset_ids`` (None when it holds nothing)."""
        ids = [i for i in dataset_ids if self.has(i)]
        monthly = [i for i in ids if dataset(i).online.get("kind") in VOLATILE_KINDS]
        cached = [i for i in ids if self.in_cache(i)]
        held = self.downloader.cache.size_bytes()
        if not cached and not held:
            return None
        missing = len(ids) - len(cached) - len(monthly)
        checked = f"; the monthly Nomis figures ({len(monthly)}) are checked for a newer month" if monthly else ""
        return (f"download cache {self.cache}: {len(cached)} of {len(ids)} datasets already downloaded "
                f"({size_text(held)} kept); {missing} to fetch{checked}")

    def close(self) -> None:
        """Drop monthly answers older than they may be reused, and the bytes nothing points at any more."""
        self.downloader.cache.expire(max(VOLATILE_KINDS.values()))


def _spec_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".spec.json")


def _spec(ds: Dataset) -> dict:
    """What a built file was made from: a file built from another spec (changed fields, say) is built again."""
    return json.loads(json.dumps(ds.online, sort_keys=True, default=str))


class OverlaySource:
    """A mirror, with some datasets (e.g. the Nomis API ones) fetched online when the mirror lacks them."""

    def __init__(self, primary, secondary, dataset_ids):
        self.primary, self.secondary, self.ids = primary, secondary, set(dataset_ids)
        self.kind = getattr(primary, "kind", "mirror")

    def _pick(self, dataset_id: str):
        if self.primary.has(dataset_id) or dataset_id not in self.ids:
            return self.primary
        return self.secondary

    def describe(self) -> str:
        return f"{self.primary.describe()}, with {', '.join(sorted(self.ids))} from {self.secondary.describe()}"

    def has(self, dataset_id: str) -> bool:
        return self._pick(dataset_id).has(dataset_id)

    def path(self, dataset_id: str) -> Path:
        return self._pick(dataset_id).path(dataset_id)

    def origin(self, dataset_id: str) -> str:
        return self._pick(dataset_id).origin(dataset_id)


def online_half(source) -> OnlineSource | None:
    """The :class:`OnlineSource` a source downloads through (itself, an overlay's second half), or None."""
    if isinstance(source, OnlineSource):
        return source
    if isinstance(source, OverlaySource):
        return online_half(source.secondary)
    return None


def downloads(source, dataset_id: str) -> bool:
    """True when ``source`` would download ``dataset_id`` (rather than read it from a mirror)."""
    if isinstance(source, OverlaySource):
        return source._pick(dataset_id) is source.secondary and source.has(dataset_id)
    return isinstance(source, OnlineSource) and source.has(dataset_id)


def plan_line(source, dataset_id: str) -> PlanLine:
    """What installing from ``source`` would do for ``dataset_id``, without contacting anyone."""
    picked = source._pick(dataset_id) if isinstance(source, OverlaySource) else source
    if isinstance(picked, OnlineSource):
        return picked.plan(dataset_id)
    ds = dataset(dataset_id)
    action = "mirror" if picked.has(dataset_id) else "not available"
    return PlanLine(dataset_id, ds.title, action, picked.origin(dataset_id), optional=ds.optional,
                    note="" if action == "mirror" else "not in the mirror")
