"""Download ONS Open Geography Portal layers (ArcGIS REST feature services).

The result is written in the mirror's own format so the same parsers read it:
polygons as an RFC 7946 GeoJSON FeatureCollection (EPSG:4326), tables as CSV
with the dataset's fields, points (population-weighted centroids) as CSV with
``<code field>,LONG,LAT``.

ArcGIS answers errors with HTTP 200 and ``{"error": {...}}`` in the body, and
pages results: keep asking with ``resultOffset`` while the service says
``exceededTransferLimit`` (top level in JSON, under ``properties`` in
GeoJSON), advancing by the number of features actually returned.

Pages are only consistent when the rows are ordered by a unique key: rows
tied on the sort key come back in any order, so a page boundary inside a
tie repeats one row and drops another. Each dataset names its key
(``online.key``, default the first field; the LSOA 2011 to 2021 lookup
needs both codes). The download is refused if a key comes back twice or
the number of features differs from the service's own count
(``returnCountOnly``).

Every page goes through the download cache (``geo.download_cache``), so an
install that failed part-way through a layer asks only for the pages it
has not got.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from geo import atomic
from geo.download_cache import Downloader, fresh_if_inconsistent
from geo.errors import PublisherError
from geo.fetch import base

#: Features asked for per request; services may return fewer.
PAGE_SIZE = 2000
#: Stop after this many pages (a service that never stops paging is broken).
MAX_PAGES = 1000


class InconsistentPages(PublisherError):
    """The pages of a layer do not add up (a feature twice, or fewer than the service holds)."""


def _query_url(service: str) -> str:
    return f"{base('ons')}/{service}/FeatureServer/0/query"


def _parse(path: Path, service: str, *, what: str, landing: str) -> dict:
    """One query's parsed JSON body; ArcGIS errors (sent with HTTP 200) become :class:`PublisherError`."""
    try:
        page = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError):
        raise PublisherError(f"{what}: the ONS service {service} did not answer with JSON") from None
    if not isinstance(page, dict):
        raise PublisherError(f"{what}: the ONS service {service} answered with JSON that is not a query result")
    if "error" in page:
        err = page["error"] if isinstance(page["error"], dict) else {"message": page["error"]}
        if str(err.get("message", "")).strip().lower() == "invalid url":
            raise PublisherError(
                f"{what}: the ONS Open Geography Portal no longer has a service named {service} (ONS may have "
                f"republished the layer under a new name); find it from {landing} and update geo/sources.yaml")
        raise PublisherError(f"{what}: the ONS service {service} answered error {err.get('code')}: {err.get('message')}")
    return page


def _answer(dl: Downloader, service: str, params: dict, *, what: str, landing: str, cache: bool = True) -> dict:
    """One query, from the download cache when it was answered before (``cache=False``: always asked)."""
    return dl.fetch(_query_url(service), params, what=what, publisher=f"the ONS service {service}", cache=cache,
                    check=lambda path: _parse(path, service, what=what, landing=landing)).value


def _count(dl: Downloader, service: str, *, what: str, landing: str) -> int:
    """How many features the layer holds now (never cached: it is how a layer changed since is noticed)."""
    page = _answer(dl, service, {"where": "1=1", "returnCountOnly": "true", "f": "json"}, what=what, landing=landing,
                   cache=False)
    count = page.get("count")
    if not isinstance(count, int) or count < 0:
        raise PublisherError(f"{what}: the ONS service {service} did not say how many features it holds")
    return count


def _pages(dl: Downloader, service: str, fields: list[str], key: list[str], *, geometry: bool, what: str, landing: str):
    """Yield pages (lists of features) of an ArcGIS query until the service has no more.

    Checks that no ``key`` comes back twice and that the features add up to
    the service's count.
    """
    total = _count(dl, service, what=what, landing=landing)
    seen: set[tuple] = set()
    offset = 0
    for _ in range(MAX_PAGES):
        params = {
            "where": "1=1",
            "outFields": ",".join(fields),
            "returnGeometry": "true" if geometry else "false",
            "outSR": "4326",
            "f": "geojson" if geometry else "json",
            "resultOffset": str(offset),
            "resultRecordCount": str(PAGE_SIZE),
            "orderByFields": ",".join(key),
        }
        page = _answer(dl, service, params, what=what, landing=landing)
        features = page.get("features")
        if not isinstance(features, list):
            raise PublisherError(f"{what}: the ONS service {service} answered without a 'features' list")
        for feature in features:
            values = (feature or {}).get("properties" if geometry else "attributes") or {}
            ident = tuple(values.get(k) for k in key)
            if ident in seen:
                raise InconsistentPages(f"{what}: the ONS service {service} sent {'/'.join(map(str, ident))} twice "
                                        f"(its pages overlap); try again later")
            seen.add(ident)
        yield features
        more = page.get("exceededTransferLimit") or (page.get("properties") or {}).get("exceededTransferLimit")
        offset += len(features)
        if not features or not more:
            break
    else:
        raise PublisherError(f"{what}: the ONS service {service} kept paging past {MAX_PAGES} pages")
    if offset != total:
        raise InconsistentPages(f"{what}: the ONS service {service} sent {offset:,} features but says it holds "
                                f"{total:,}; it may have changed during the download: try again")


def fetch_arcgis(dataset, dest: Path, dl: Downloader) -> Path:
    """Download ``dataset`` (a :class:`geo.sources.Dataset` with ``online.kind == 'arcgis'``) to ``dest``.

    Pages come from the download cache when an earlier install fetched them.
    If cached pages no longer fit together (the layer changed in between:
    a feature twice, or a total that differs from the count), they are
    forgotten and the layer is fetched again once, from the service.
    """
    return fresh_if_inconsistent(dl, lambda: _fetch(dataset, dest, dl), InconsistentPages)


def _fetch(dataset, dest: Path, dl: Downloader) -> Path:
    spec = dataset.online
    service, fields = spec["service"], list(spec["fields"])
    rename = spec.get("rename", {})
    shape = spec.get("geometry", False)
    key = list(spec.get("key", fields[:1]))
    unknown = [k for k in key if k not in fields]
    if unknown:
        raise ValueError(f"geo/sources.yaml: {dataset.id}: key field {unknown[0]} is not one of its fields")
    what, landing = dataset.title, dataset.landing
    if shape is True:
        features = [f for page in _pages(dl, service, fields, key, geometry=True, what=what, landing=landing) for f in page]
        for feature in features:
            feature.pop("id", None)  # ids restart on every page; the GSS code is the key
            props = feature.get("properties") or {}
            feature["properties"] = {rename.get(k, k): props.get(k) for k in fields}
        text = json.dumps({"type": "FeatureCollection", "features": features})
        return atomic.write_text(dest, text)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if shape == "points":
        writer.writerow([rename.get(fields[0], fields[0]), "LONG", "LAT"])
        for page in _pages(dl, service, fields, key, geometry=True, what=what, landing=landing):
            for feature in page:
                lon, lat = (feature.get("geometry") or {}).get("coordinates", (None, None))[:2]
                writer.writerow([(feature.get("properties") or {}).get(fields[0]), lon, lat])
    else:
        writer.writerow([rename.get(f, f) for f in fields])
        for page in _pages(dl, service, fields, key, geometry=False, what=what, landing=landing):
            for feature in page:
                attrs = feature.get("attributes") or {}
                writer.writerow(["" if attrs.get(f) is None else attrs.get(f) for f in fields])
    return atomic.write_text(dest, out.getvalue())
