"""How soon the app shows a map (issue 15, point 7), in headless Chromium, each on a fresh server.

For each way of starting the server, `python cli.py serve` (the store and England's tables loaded in
the background at start) and plain `streamlit run app.py` (the naive alternative: they load when the
first visitor arrives):

* ``*_ready``: process start until it answers (and, for serve, until it says the store is loaded);
* ``*_first_map``: a first visitor opens the Map explorer (South Midlands wards, the default view):
  from ``page.goto`` until the map shows exactly the area's ward codes (target <= 3 s);
* ``*_new_session_map``: a second visitor, in a new browser context (no cache), the same view
  (target <= 1.5 s);
* ``*_england_ward_map``: a third visitor follows a link to England at ward level (target <= 3 s).

Each is the median of ``REPEATS`` fresh servers; the server's CPU seconds for the first map are
alongside. Timings are never asserted in tests.
"""

from __future__ import annotations

import statistics
import time

REPEATS = 3
TIMEOUT_S = 180
DEFAULT_AREA = "South Midlands"


async def _visit(browser, url: str, expected: set[str], pid: int) -> tuple[float, float]:
    """A new browser context opens ``url``: (seconds to the map showing ``expected``, server CPU seconds)."""
    from bench import appdriver as d
    from bench.bench_app import _timed

    page = await d.new_page(browser)

    async def goto():
        start = time.perf_counter()
        await page.goto(url, timeout=TIMEOUT_S * 1000)
        return start

    try:
        return await _timed(page, pid, goto, expected)
    finally:
        await page.context.close()


def _one_server(warm: bool, south_midlands: set[str], england: set[str]) -> dict[str, float]:
    from playwright.async_api import async_playwright

    from bench.appdriver import run_async
    from tests.apprunner import AppServer

    async def visits(server):
        from bench import appdriver as d

        async with async_playwright() as p:
            browser = await d.launch(p)
            try:
                first, cpu = await _visit(browser, server.url + "/", south_midlands, server.proc.pid)
                again, _ = await _visit(browser, server.url + "/", south_midlands, server.proc.pid)
                nation, _ = await _visit(browser, server.url + "/?area=England&level=ward", england, server.proc.pid)
            finally:
                await browser.close()
        return {"first_map": first, "first_map_server_cpu": cpu, "new_session_map": again,
                "england_ward_map": nation}

    server = AppServer(timeout_s=TIMEOUT_S, warm=warm)
    try:
        out = {"ready": server.ready_s}
        out.update(run_async(lambda: visits(server)))
        return out
    finally:
        server.stop()


def run():
    from geo.areas import resolve_area
    from geo.store import Store

    store = Store().preload()
    area = resolve_area(DEFAULT_AREA, store.districts())
    south_midlands = set(store.boundaries("ward", area.lad_codes)["code"])
    england = set(store.boundaries("ward")["code"])
    for warm, name in [(True, "serve"), (False, "streamlit_run")]:
        runs = [_one_server(warm, south_midlands, england) for _ in range(REPEATS)]
        for key in runs[0]:
            yield f"latency_{name}_{key}", statistics.median(r[key] for r in runs), "s"
        yield f"latency_{name}_first_map_max", max(r["first_map"] for r in runs), "s"
