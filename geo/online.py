"""Source datasets downloaded from the official publishers, for installs without a mirror.

:class:`OnlineSource` has the interface of :class:`geo.sources.MirrorSource`
(``describe``, ``has``, ``path``, ``origin``): ``path(id)`` downloads the
dataset once into a cache under the data directory and returns the local
file, so the same parsers read mirror files and downloads.

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
  :func:`register_fetcher` (``layers.nomis`` registers ``nomis_api``).

Every download is checked before it is cached (a publisher's HTML error
page is refused with a one-line error) and written atomically.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

from geo import atomic
from geo.config import data_dir
from geo.errors import MissingSourceFile, PublisherError
from geo.fetch import base, download
from geo.sources import Dataset, dataset

Fetcher = Callable[[Dataset, Path], Path]
FETCHERS: dict[str, Fetcher] = {}
#: Kinds whose data changes every month: fetched again by every install (never reused from the cache).
VOLATILE_KINDS = {"nomis_api"}


def register_fetcher(kind: str, fetcher: Fetcher) -> None:
    """Register ``fetcher(dataset, dest) -> path`` for datasets whose ``online.kind`` is ``kind``."""
    FETCHERS[kind] = fetcher


def fetch_arcgis(ds: Dataset, dest: Path) -> Path:
    """Boundary and lookup datasets from the ONS Open Geography Portal: ``geo.arcgis.fetch_arcgis(dataset, dest)``.

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
    return fetch(ds, dest)


def looks_like_html(head: bytes) -> bool:
    text = head[:512].lstrip().lower()
    return text.startswith(b"<!doctype html") or text.startswith(b"<html") or b"<html" in text[:200] or text.startswith(b"<?xml")


def page_title(head: bytes) -> str:
    text = head.decode("utf-8", "replace")
    low = text.lower()
    if "<title>" in low:
        start = low.index("<title>") + 7
        end = low.find("</title>", start)
        return " ".join(text[start:end if end > 0 else start + 80].split())[:80]
    return " ".join(text.split())[:80]


def refuse_html(path: Path, *, what: str, publisher: str) -> None:
    """Raise :class:`PublisherError` when a download is a web page (an error page) rather than data."""
    with open(path, "rb") as handle:
        head = handle.read(2048)
    if not head.strip():
        raise PublisherError(f"{what}: {publisher} returned an empty file")
    if looks_like_html(head):
        raise PublisherError(f"{what}: {publisher} returned a web page, not the data ({page_title(head)!r}); try again later")


def _download_checked(url: str, dest: Path, *, what: str, publisher: str) -> Path:
    tmp = dest.with_name(dest.name + ".part")
    download(url, tmp, what=what)
    try:
        refuse_html(tmp, what=what, publisher=publisher)
    except PublisherError:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(dest)
    return dest


def bulk_url(table: str) -> str:
    return f"{base('nomis')}/output/census/2021/census2021-{table.lower()}.zip"


def fetch_nomis_bulk(ds: Dataset, dest: Path) -> Path:
    """Download a Nomis Census 2021 bulk zip (once per table) and extract the ``member`` CSV to ``dest``."""
    table, member = ds.online["table"], ds.online["member"]
    zip_path = dest.parent.parent / "nomis_bulk" / f"census2021-{table.lower()}.zip"
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    what = f"{ds.title}"
    if not zipfile.is_zipfile(zip_path):
        _download_checked(bulk_url(table), zip_path, what=what, publisher="Nomis")
        if not zipfile.is_zipfile(zip_path):
            zip_path.unlink(missing_ok=True)
            raise PublisherError(f"{what}: Nomis returned a file that is not a zip from {bulk_url(table)}")
    try:
        with zipfile.ZipFile(zip_path) as zf:
            if member not in zf.namelist():
                raise PublisherError(f"{what}: the Nomis zip {zip_path.name} has no {member} "
                                     f"(it holds {', '.join(zf.namelist()[:8])})")
            data = zf.read(member)
    except zipfile.BadZipFile as exc:
        zip_path.unlink(missing_ok=True)
        raise PublisherError(f"{what}: damaged zip from Nomis ({exc})") from None
    return atomic.write_bytes(dest, data)


def fetch_govuk(ds: Dataset, dest: Path) -> Path:
    """A file published on GOV.UK's asset server (base ``WARDSCOPE_GOVUK``)."""
    return _download_checked(f"{base('govuk')}/{ds.online['path'].lstrip('/')}", dest, what=ds.title, publisher="GOV.UK")


def file_url(spec: dict) -> str:
    """The address of a ``url``-kind dataset: ``base`` + ``path``, or its fixed ``url``."""
    if spec.get("base"):
        return f"{base(spec['base'])}/{spec['path'].lstrip('/')}"
    return spec["url"]


def fetch_url(ds: Dataset, dest: Path) -> Path:
    url = file_url(ds.online)
    return _download_checked(url, dest, what=ds.title, publisher=urlparse(url).netloc)


register_fetcher("nomis_bulk", fetch_nomis_bulk)
register_fetcher("govuk", fetch_govuk)
register_fetcher("url", fetch_url)
register_fetcher("arcgis", fetch_arcgis)


class OnlineSource:
    """Datasets fetched from the publishers into ``cache_dir`` (default ``<data dir>/cache``)."""

    kind = "online"

    def __init__(self, cache_dir: Path | None = None):
        self.cache = Path(cache_dir) if cache_dir else data_dir() / "cache"
        self._fetched: dict[str, Path] = {}
        self._downloaded: list[tuple[str, Path]] = []

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

    def path(self, dataset_id: str) -> Path:
        if dataset_id in self._fetched:
            return self._fetched[dataset_id]
        ds = dataset(dataset_id)
        if not self.has(dataset_id):
            raise MissingSourceFile(f"{ds.title} cannot be downloaded automatically; get it from {ds.landing} "
                                    f"and install from a mirror: python cli.py install --from DIR")
        kind = ds.online["kind"]
        dest = self.dest(dataset_id)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if kind in VOLATILE_KINDS or not dest.is_file():
            FETCHERS[kind](ds, dest)
            self._downloaded.append((dataset_id, dest))
        self._fetched[dataset_id] = dest
        return dest

    def discard_downloads(self) -> None:
        """Remove what this source downloaded (called when an install fails, so a bad file is not reused)."""
        for dataset_id, path in self._downloaded:
            path.unlink(missing_ok=True)
            spec = dataset(dataset_id).online
            if spec.get("kind") == "nomis_bulk":
                (self.cache / "nomis_bulk" / f"census2021-{spec['table'].lower()}.zip").unlink(missing_ok=True)
        self._downloaded.clear()
        self._fetched.clear()

    def origin(self, dataset_id: str) -> str:
        ds = dataset(dataset_id)
        spec = ds.online
        kind = spec.get("kind")
        if kind == "nomis_bulk":
            return f"{bulk_url(spec['table'])} ({spec['member']})"
        if kind == "govuk":
            return f"{base('govuk')}/{spec['path']}"
        if kind == "url":
            return file_url(spec)
        if kind == "nomis_api":
            return f"{base('nomis')}/api/v01/dataset/{spec['dataset']}.data.csv"
        if kind == "arcgis":
            return f"{base('ons')}/{spec.get('service')}/FeatureServer/0"
        return ds.landing


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

    def discard_downloads(self) -> None:
        for source in (self.primary, self.secondary):
            if hasattr(source, "discard_downloads"):
                source.discard_downloads()
