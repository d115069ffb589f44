"""What a new browser downloads to see the first map, as served and as a gzip-ing proxy would send it.

Streamlit serves its own JavaScript, CSS and fonts (``/static/``) uncompressed, so over a council network
a first visit pays for every byte: this is the case for turning compression on at the reverse proxy
(README, Performance). One new browser context opens the Map explorer (South Midlands wards) on a warm
``cli.py serve``; every HTTP response until the map shows is counted:

* ``page_weight_new_browser_requests``: responses;
* ``page_weight_new_browser_mb``: bytes as sent over the wire (MB, 10^6 bytes; Streamlit gzips what is not
  ``/static/`` or the page itself);
* ``page_weight_new_browser_gzip_mb``: the same with every text body gzip-compressed at level 6, as a proxy
  with ``gzip_comp_level 6`` sends it (fonts and images, already compressed, count as sent);
* ``page_weight_streamlit_static_mb``: the part that is Streamlit's own ``/static/`` files (sent uncompressed).

The map's data comes over the websocket, not counted here (it is 0.13 MB: ``map_payload_*`` in bench_app).
"""

from __future__ import annotations

import gzip

from bench.bench_latency import DEFAULT_AREA, TIMEOUT_S, VIEWPORT

#: Already compressed: a proxy sends these as they are.
COMPRESSED = ("font/", "image/png", "image/jpeg", "application/font-woff")


def _weigh(bodies: list[tuple[str, str, bytes, int]]) -> dict[str, float]:
    """Figures for (url, content type, decoded body, bytes sent) of each response."""
    sent = sum(n for *_, n in bodies)
    zipped = sum(len(b) if t.startswith(COMPRESSED) else len(gzip.compress(b, 6)) for _, t, b, _ in bodies)
    static = sum(n for u, _, _, n in bodies if "/static/" in u and "/app/static/" not in u and "/component/" not in u)
    return {"requests": len(bodies), "mb": sent / 1e6, "gzip_mb": zipped / 1e6, "static_mb": static / 1e6}


def run():
    from bench import appdriver as d
    from bench.appdriver import run_async
    from geo.areas import resolve_area
    from geo.store import Store
    from tests.apprunner import AppServer

    store = Store().preload()
    expected = set(store.boundaries("ward", resolve_area(DEFAULT_AREA, store.districts()).lad_codes)["code"])
    server = AppServer(timeout_s=TIMEOUT_S, warm=True)

    async def visit():
        from playwright.async_api import async_playwright

        async with async_playwright() as p:
            browser = await d.launch(p)
            try:
                context = await browser.new_context(viewport=VIEWPORT)
                page = await context.new_page()
                responses = []
                page.on("response", lambda r: responses.append(r))
                await page.goto(server.url + "/", timeout=TIMEOUT_S * 1000)
                await d.wait_for_map(page, expected, TIMEOUT_S)
                bodies = []
                for r in list(responses):
                    try:
                        body = await r.body()
                    except Exception:  # a redirect or an aborted request has no body
                        continue
                    sizes = await r.request.sizes()  # responseBodySize: as encoded on the wire
                    bodies.append((r.url, r.headers.get("content-type", ""), body, sizes["responseBodySize"]))
                return bodies
            finally:
                await browser.close()

    try:
        figures = _weigh(run_async(visit))
    finally:
        server.stop()
    yield "page_weight_new_browser_requests", figures["requests"], "requests"
    yield "page_weight_new_browser_mb", figures["mb"], "MB"
    yield "page_weight_new_browser_gzip_mb", figures["gzip_mb"], "MB"
    yield "page_weight_streamlit_static_mb", figures["static_mb"], "MB"
