"""Download ONS Open Geography Portal layers (ArcGIS REST feature services).

The result is written in the mirror's own format so the same parsers read it:
polygons as an RFC 7946 GeoJSON FeatureCollection (EPSG:4326), tables as CSV
with the dataset's fields, points (population-weighted centroids) as CSV with
``<code field>,LONG,LAT``.

ArcGIS answers errors with HTTP 200 and ``{"error": {...}}`` in the body, and
pages results: keep asking with ``resultOffset`` while the service says
``exceededTransferLimit`` (top level in JSON, under ``properties`` in
GeoJSON), advancing by the number of features actually returned.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from geo import atomic
from geo.errors import PublisherError
from geo.fetch import base, get

#: Features asked for per request; services may return fewer.
PAGE_SIZE = 2000
#: Stop after this many pages (a service that never stops paging is broken).
MAX_PAGES = 1000


def _query_url(service: str) -> str:
    return f"{base('ons')}/{service}/FeatureServer/0/query"


def _pages(service: str, fields: list[str], *, geometry: bool, what: str):
    """Yield parsed pages (dicts) of an ArcGIS query until the service has no more."""
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
            "orderByFields": fields[0],
        }
        response = get(_query_url(service), params, what=what)
        try:
            page = response.json()
        except ValueError:
            raise PublisherError(f"{what}: the ONS service {service} did not answer with JSON "
                                 f"(got {response.headers.get('Content-Type', '?')})") from None
        if "error" in page:
            err = page["error"]
            raise PublisherError(f"{what}: the ONS service {service} answered error {err.get('code')}: {err.get('message')}")
        features = page.get("features")
        if not isinstance(features, list):
            raise PublisherError(f"{what}: the ONS service {service} answered without a 'features' list")
        yield features
        more = page.get("exceededTransferLimit") or (page.get("properties") or {}).get("exceededTransferLimit")
        if not features or not more:
            return
        offset += len(features)
    raise PublisherError(f"{what}: the ONS service {service} kept paging past {MAX_PAGES} pages")


def fetch_arcgis(dataset, dest: Path) -> Path:
    """Download ``dataset`` (a :class:`geo.sources.Dataset` with ``online.kind == 'arcgis'``) to ``dest``."""
    spec = dataset.online
    service, fields = spec["service"], list(spec["fields"])
    rename = spec.get("rename", {})
    shape = spec.get("geometry", False)
    what = dataset.title
    if shape is True:
        features = [f for page in _pages(service, fields, geometry=True, what=what) for f in page]
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
        for page in _pages(service, fields, geometry=True, what=what):
            for feature in page:
                lon, lat = (feature.get("geometry") or {}).get("coordinates", (None, None))[:2]
                writer.writerow([(feature.get("properties") or {}).get(fields[0]), lon, lat])
    else:
        writer.writerow([rename.get(f, f) for f in fields])
        for page in _pages(service, fields, geometry=False, what=what):
            for feature in page:
                attrs = feature.get("attributes") or {}
                writer.writerow(["" if attrs.get(f) is None else attrs.get(f) for f in fields])
    return atomic.write_text(dest, out.getvalue())
