"""Online installs of all of England against local fake publishers (no network: the processing an online install adds).

The publishers' answers are built from the real mirror in their own formats
(tests/online_recording.py) and served on localhost with ONS's real page
size (2,000 features); the Nomis API answers 503, so the (optional)
claimant count and APS are left out and their ~100 MB of pages are not
part of the figures. Figures: the first install from an empty download
cache, then a second one from the cache (what a re-run after a failure at
the last step costs), with the requests each made.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bench.timing import once


def run():
    from geo.config import default_mirror
    from geo.online import OnlineSource
    from geo.store import Store
    from layers.install import install
    from tests import online_recording as rec
    from tests.httpfake import FakePublisher

    mirror = default_mirror()
    if mirror is None:
        return
    recording = rec.build_recording(mirror, Store().table("indicators", "census_lsoa"))
    for layer in recording.layers.values():
        layer.max_records = 2000  # the services' maxRecordCount
    down = {p: (lambda q: (503, "text/html", b"<html>down</html>")) for p in recording.routes if "/api/v01/" in p}
    server = FakePublisher()
    recording.serve(server, down)
    saved = dict(os.environ)
    try:
        os.environ.update(rec.Recording.environment(server.url))
        os.environ.update({"WARDSCOPE_RETRY_ATTEMPTS": "1", "WARDSCOPE_NOMIS_KEY_FILE": ""})
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp) / "cache"
            seconds, _ = once(lambda: install(source=OnlineSource(cache), root=Path(tmp) / "store"))
            first = len(server.requests)
            yield "install_online_all_england_fake_publishers", seconds, "s"
            yield "install_online_all_england_requests", first, "requests"
            seconds, _ = once(lambda: install(source=OnlineSource(cache), root=Path(tmp) / "store"))
            yield "install_online_all_england_from_cache", seconds, "s"
            yield "install_online_all_england_from_cache_requests", len(server.requests) - first, "requests"
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.close()
