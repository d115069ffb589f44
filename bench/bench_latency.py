"""How soon the app shows a map (issue 15, point 7), in headless Chromium, each on a fresh server.

For each way of starting the server, `python cli.py serve` (the store, England's tables and the opening
maps loaded in the background at start) and plain `streamlit run app.py` (the naive alternative: they load
when the first visitor arrives):

* ``*_ready``: process start until it answers (and, for serve, until it says the store is loaded);
* ``*_first_map``: a first visitor opens the Map explorer (South Midlands wards, the default view):
  from ``page.goto`` until the map shows exactly the area's ward codes (target <= 3 s);
* ``*_new_tab_map``: the same visitor opens it again in a new tab: a new session, with Streamlit's
  JavaScript already in the browser's cache, as for anyone who has used the app before (target <= 1.5 s);
* ``*_new_session_map``: a second visitor, in a new browser (nothing cached), the same view;
* ``*_england_ward_map``: a third visitor, in a new browser, follows a link to England at ward level
  (target <= 3 s); ``*_england_ward_new_tab_map``: the first visitor follows it in a new tab.

``latency_floor_*`` is the same measure for a Streamlit page holding only a title and a one-polygon map
(Leaflet from the app's static folder, the app's Streamlit settings) on this machine: what Streamlit and
Chromium take before any Wardscope code runs.

Each is the median of ``REPEATS`` fresh servers; the server's CPU seconds for the first map are
alongside. Timings are never asserted in tests.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

REPEATS = 3
TIMEOUT_S = 180
DEFAULT_AREA = "South Midlands"
VIEWPORT = {"width": 1366, "height": 768}

FLOOR_APP = '''
import folium
import streamlit as st
from streamlit_folium import st_folium

st.set_page_config(page_title="Floor", layout="wide")
st.title("A title and a one-polygon map")
fmap = folium.Map(location=[51.9, -0.4], zoom_start=9, tiles=None, prefer_canvas=True)
fmap.default_js = [("leaflet", "/app/static/vendor/leaflet/leaflet.js")]
fmap.default_css = [("leaflet_css", "/app/static/vendor/leaflet/leaflet.css")]
square = [[[-0.5, 51.8], [-0.3, 51.8], [-0.3, 52.0], [-0.5, 52.0], [-0.5, 51.8]]]
folium.GeoJson({"type": "Feature", "properties": {"code": "FLOOR"},
                "geometry": {"type": "Polygon", "coordinates": square}}).add_to(fmap)
st_folium(fmap, height=540, use_container_width=True, returned_objects=[], key="floor")
'''


async def _visit(context, url: str, expected: set[str], pid: int) -> tuple[float, float]:
    """A new tab of ``context`` opens ``url``: (seconds to the map showing ``expected``, server CPU seconds)."""
    from bench.bench_app import _timed

    page = await context.new_page()

    async def goto():
        start = time.perf_counter()
        await page.goto(url, timeout=TIMEOUT_S * 1000)
        return start

    try:
        return await _timed(page, pid, goto, expected)
    finally:
        await page.close()


def _with_server(server, visits):
    """Run ``visits(browser, server)`` (a coroutine function) in headless Chromium; stop the server after."""
    from playwright.async_api import async_playwright

    from bench import appdriver as d
    from bench.appdriver import run_async

    async def run():
        async with async_playwright() as p:
            browser = await d.launch(p)
            try:
                return await visits(browser, server)
            finally:
                await browser.close()

    try:
        out = {"ready": server.ready_s}
        out.update(run_async(run))
        return out
    finally:
        server.stop()


def _one_server(warm: bool, south_midlands: set[str], england: set[str]) -> dict[str, float]:
    from tests.apprunner import AppServer

    async def visits(browser, server):
        pid, home, nation = server.proc.pid, server.url + "/", server.url + "/?area=England&level=ward"
        first_browser = await browser.new_context(viewport=VIEWPORT)
        first, cpu = await _visit(first_browser, home, south_midlands, pid)
        tab, _ = await _visit(first_browser, home, south_midlands, pid)
        out = {"first_map": first, "first_map_server_cpu": cpu, "new_tab_map": tab}
        for name, url, codes in [("new_session_map", home, south_midlands), ("england_ward_map", nation, england)]:
            context = await browser.new_context(viewport=VIEWPORT)
            out[name], _ = await _visit(context, url, codes, pid)
            await context.close()
        out["england_ward_new_tab_map"], _ = await _visit(first_browser, nation, england, pid)
        await first_browser.close()
        return out

    return _with_server(AppServer(timeout_s=TIMEOUT_S, warm=warm), visits)


def _floor_server() -> dict[str, float]:
    from tests.apprunner import ROOT, AppServer

    async def visits(browser, server):
        context = await browser.new_context(viewport=VIEWPORT)
        first, _ = await _visit(context, server.url + "/", {"FLOOR"}, server.proc.pid)
        tab, _ = await _visit(context, server.url + "/", {"FLOOR"}, server.proc.pid)
        await context.close()
        fresh = await browser.new_context(viewport=VIEWPORT)
        again, _ = await _visit(fresh, server.url + "/", {"FLOOR"}, server.proc.pid)
        await fresh.close()
        return {"first_map": first, "new_tab_map": tab, "new_session_map": again}

    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "floor.py"
        script.write_text(FLOOR_APP, encoding="utf-8")
        (Path(folder) / "static").symlink_to(ROOT / "static")  # Streamlit serves static/ beside the script
        return _with_server(AppServer(timeout_s=TIMEOUT_S, warm=False, script=script), visits)


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
    floors = [_floor_server() for _ in range(REPEATS)]
    for key in floors[0]:
        yield f"latency_floor_{key}", statistics.median(r[key] for r in floors), "s"
