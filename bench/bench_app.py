"""App figures (issue 5), and the 10-session load figures (issue 9), measured in headless Chromium.

* Map payload: the map the explorer sends for South Midlands LSOAs (priority score layer, neighbourhood
  profile): ``geo.webmap.payload_bytes`` of ``layers.mapview.folium_map`` (target <= 1.5 MB), side by side
  with geopandas' ``explore()`` of the store's unsimplified LSOA polygons joined with the same score
  column (target: ours at least 8x smaller), and the time each takes to build and render.
* Area of interest chosen -> map drawn, on the Map explorer of a fresh server: from the click on the
  option until the map's feature codes equal the area's (polled every 50 ms). Cold: the first time the
  area is asked for since the server started (target <= 3 s); warm: the same area again (<= 1 s). At the
  default level (wards) and at LSOA level. Also the first page of a fresh server and of a new session.
* Weight slider moved -> map redrawn, on Priority scoring (target <= 1.5 s): the "Unemployed" thumb
  pressed to a new weight (cold: never scored before) and back to one already seen (warm).
* Ward profile PDF (target <= 3 s): ``layers.ward_report.report_pdf`` called directly as the page's
  download button does, the whole profile built from nothing, and click -> file in the browser.
* Server CPU seconds for each browser action (process tree of `streamlit run`, from /proc).
* The 10-session load scenario of tests/test_load.py on another fresh server (``load_*``).

Playwright is driven through its async API in a thread of its own (bench/appdriver.py).
"""

from __future__ import annotations

import statistics
import time

from bench.timing import best_of, once

PAYLOAD_AREA = "South Midlands"
#: Areas asked for on the explorer after it opens (on South Midlands), each cold once then warm.
COLD_AREAS = ["East Midlands CCA", "Worcestershire", "Luton"]
#: At LSOA level (switched to while the last of COLD_AREAS is shown), each cold once then warm.
LSOA_AREAS = [PAYLOAD_AREA, "East Midlands CCA"]
PDF_WARD = ("Biscot", "E06000032")  # a Luton ward, in South Midlands
TIMEOUT_S = 120


# -- without a browser --------------------------------------------------------------------------

def payload_figures(store):
    from geo.areas import resolve_area
    from geo.webmap import payload_bytes
    from layers.mapview import folium_map, score_map
    from layers.profiles import load_profile
    from layers.scoring import score_area

    area = resolve_area(PAYLOAD_AREA, store.districts())
    scored = score_area(load_profile("neighbourhood"), area, level="lsoa", store=store, sensitivity=200)
    areas = store.boundaries("lsoa", area.lad_codes)
    outline = store.table("boundaries", "lad_outline", area.lad_codes)

    def ours():
        return folium_map(score_map(areas, scored, "score"), outline)

    gdf = areas.merge(scored.areas[["code", "score"]], on="code", how="left")
    slim = gdf[["code", "name", "lad_name", "score", "geometry"]]
    ours_b = payload_bytes(ours())
    explore_b = payload_bytes(gdf.explore(column="score"))
    slim_b = payload_bytes(slim.explore(column="score"))
    yield "map_payload_south_midlands_lsoa_features", len(areas), "areas"
    yield "map_payload_south_midlands_lsoa_ours", ours_b, "bytes"
    yield "map_payload_south_midlands_lsoa_ours_mb", ours_b / 1e6, "MB"
    yield "map_payload_south_midlands_lsoa_explore", explore_b, "bytes"
    yield "map_payload_south_midlands_lsoa_explore_mb", explore_b / 1e6, "MB"
    yield "map_payload_south_midlands_lsoa_explore_over_ours", explore_b / ours_b, "x"
    # explore() with only the columns our tooltip carries: the difference that is geometry alone
    yield "map_payload_south_midlands_lsoa_explore_5cols_mb", slim_b / 1e6, "MB"
    yield "map_payload_south_midlands_lsoa_explore_5cols_over_ours", slim_b / ours_b, "x"
    yield "map_build_render_south_midlands_lsoa_ours", best_of(lambda: payload_bytes(ours()), 3), "s"
    yield "map_build_render_south_midlands_lsoa_explore", best_of(
        lambda: payload_bytes(gdf.explore(column="score")), 3), "s"


def pdf_figures(store):
    """The ward profile as the page makes it: comparators and both scores (cached per area in the app),
    the report and its images on the first visit, then the PDF when the button is clicked."""
    from geo.areas import resolve_area
    from layers.comparators import comparators
    from layers.indicators import available, indicator_table
    from layers.profiles import load_profile
    from layers.registry import load_registry
    from layers.scoring import score_table
    from layers.ward_report import build_ward_report, chart_png, map_png, report_html, report_pdf, trend_png

    reg = load_registry()
    area = resolve_area(PAYLOAD_AREA, store.districts())
    installed = available("ward", store=store)
    table = indicator_table("ward", None, installed, store=store)  # shared by every session in the app
    wards = store.boundaries("ward", [PDF_WARD[1]])
    code = wards.set_index("name").loc[PDF_WARD[0], "code"]

    def build():
        comp = comparators("ward", area, installed, store=store)
        scored = [score_table(table, load_profile(n), area, "ward", reg, set(installed), sensitivity=200)
                  for n in ("neighbourhood", "multi-agency")]
        report = build_ward_report(ward_code=code, area=area, store=store, comparators=comp, registry=reg,
                                   scored=scored, notes=table.attrs.get("notes", {}))
        map_png(report), chart_png(report), trend_png(report)
        return report

    build_s, report = once(build)
    pdf_s, pdf = once(lambda: report_pdf(report))
    yield "ward_profile_build_first_visit", build_s, "s"
    yield "ward_profile_pdf_first", pdf_s, "s"
    yield "ward_profile_pdf", best_of(lambda: report_pdf(report), 3), "s"
    yield "ward_profile_pdf_size", len(pdf) / 1e6, "MB"
    yield "ward_profile_html", best_of(lambda: report_html(report), 3), "s"


def pack_figures(store):
    """``cli.py profile --area Luton --out pack.zip``: every Luton ward's PDF and a contents page, one zip."""
    import tempfile
    from pathlib import Path

    from geo.areas import resolve_area
    from tasks.inputs import profile_text
    from tasks.profile import SHIPPED_PROFILES, PackRequest, run_pack

    area = resolve_area("Luton", store.districts())
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "pack.zip"
        request = PackRequest(area, str(out), tuple(profile_text(p) for p in SHIPPED_PROFILES))
        took, result = once(lambda: run_pack(request, store))
        size = out.stat().st_size
    yield "ward_pack_luton", took, "s"
    yield "ward_pack_luton_per_ward", took / len(result.data), "s"
    yield "ward_pack_luton_size", size / 1e6, "MB"


# -- in the browser -----------------------------------------------------------------------------

async def _timed(page, pid, act, expected, fresh_map: bool = True):
    """(seconds from ``act()`` to the map showing ``expected``, server CPU seconds until the run ended)."""
    from bench import appdriver as d

    cpu0 = d.process_tree_cpu_s(pid)
    start = await act()
    done = await d.wait_for_map(page, expected, TIMEOUT_S)
    await d.wait_ready(page, TIMEOUT_S)
    errors = await d.error_texts(page)
    if errors:
        raise RuntimeError(f"the app showed errors: {errors}")
    return done - start, d.process_tree_cpu_s(pid) - cpu0


async def _browser(url: str, pid: int, store) -> list[tuple[str, float, str]]:
    from playwright.async_api import async_playwright

    from bench import appdriver as d
    from geo.areas import resolve_area

    districts = store.districts()
    areas = {name: resolve_area(name, districts) for name in [PAYLOAD_AREA, *COLD_AREAS]}

    def codes(name, level="ward"):
        return set(store.boundaries(level, areas[name].lad_codes)["code"])

    def pick(name):
        return lambda: d.choose(page, "Area of interest", d.area_label(areas[name]))

    out: list[tuple[str, float, str]] = []
    async with async_playwright() as p:
        browser = await d.launch(p)
        try:
            # Map explorer, fresh server: the first page loads the store and England's indicator table
            page = await d.new_page(browser)

            async def goto(path="/"):
                start = time.perf_counter()
                await page.goto(url + path, timeout=TIMEOUT_S * 1000)
                return start

            s, cpu = await _timed(page, pid, goto, codes(PAYLOAD_AREA))
            out += [("app_first_page_map_fresh_server", s, "s"), ("app_first_page_server_cpu_fresh_server", cpu, "s")]

            cold, warm, cold_cpu, warm_cpu = [], [], [], []
            for name in COLD_AREAS:
                s, cpu = await _timed(page, pid, pick(name), codes(name))
                out.append((f"app_area_map_cold_ward_{name.lower().replace(' ', '_')}", s, "s"))
                cold.append(s)
                cold_cpu.append(cpu)
            for name in [*COLD_AREAS, PAYLOAD_AREA, *COLD_AREAS]:
                s, cpu = await _timed(page, pid, pick(name), codes(name))
                warm.append(s)
                warm_cpu.append(cpu)
            out += [("app_area_map_cold_ward_max", max(cold), "s"),
                    ("app_area_map_cold_ward_median", statistics.median(cold), "s"),
                    ("app_area_map_warm_ward_median", statistics.median(warm), "s"),
                    ("app_area_map_warm_ward_max", max(warm), "s"),
                    ("app_area_change_server_cpu_cold_ward_median", statistics.median(cold_cpu), "s"),
                    ("app_area_change_server_cpu_warm_ward_median", statistics.median(warm_cpu), "s")]

            # LSOA level: the first switch builds England's LSOA table; then areas cold and warm
            last = COLD_AREAS[-1]

            async def lsoa_level():
                await page.get_by_text("LSOAs (2021)", exact=True).first.wait_for(timeout=30000)
                start = time.perf_counter()
                await page.get_by_text("LSOAs (2021)", exact=True).first.click()
                return start

            s, cpu = await _timed(page, pid, lsoa_level, codes(last, "lsoa"))
            out += [("app_level_lsoa_first_switch_map", s, "s"), ("app_level_lsoa_first_switch_server_cpu", cpu, "s")]
            cold, warm = [], []
            for name in LSOA_AREAS:
                s, _ = await _timed(page, pid, pick(name), codes(name, "lsoa"))
                cold.append(s)
            for name in [last, *LSOA_AREAS, last]:
                s, _ = await _timed(page, pid, pick(name), codes(name, "lsoa"))
                warm.append(s)
            out += [("app_area_map_cold_lsoa_max", max(cold), "s"),
                    ("app_area_map_warm_lsoa_median", statistics.median(warm), "s"),
                    ("app_area_map_warm_lsoa_max", max(warm), "s")]
            await page.context.close()

            # a new session on the warm server (as every later user sees it)
            page = await d.new_page(browser)
            s, cpu = await _timed(page, pid, goto, codes(PAYLOAD_AREA))
            out += [("app_first_page_map_new_session", s, "s"), ("app_first_page_server_cpu_new_session", cpu, "s")]
            await page.context.close()

            # Priority scoring: a weight slider -> the map redrawn
            page = await d.new_page(browser)
            await page.goto(url + "/scoring", timeout=TIMEOUT_S * 1000)
            expected = codes(PAYLOAD_AREA)
            await d.wait_for_map(page, expected, TIMEOUT_S)
            await d.wait_ready(page, TIMEOUT_S)
            # weights 1 -> 5 -> 4.5 -> 4 are new (cold); 4.5 and 5 again are warm
            moves = [("End", 5.0, "cold"), ("ArrowLeft", 4.5, "cold"), ("ArrowLeft", 4.0, "cold"),
                     ("ArrowRight", 4.5, "warm"), ("End", 5.0, "warm")]
            timings = {"cold": [], "warm": []}
            cpus = {"cold": [], "warm": []}
            for key, target, kind in moves:
                cpu0 = d.process_tree_cpu_s(pid)
                s, _ = await d.set_slider_and_wait(page, "Unemployed", key, target, expected, timeout_s=TIMEOUT_S)
                await d.wait_ready(page, TIMEOUT_S)
                timings[kind].append(s)
                cpus[kind].append(d.process_tree_cpu_s(pid) - cpu0)
            out += [("app_slider_map_cold_median", statistics.median(timings["cold"]), "s"),
                    ("app_slider_map_cold_max", max(timings["cold"]), "s"),
                    ("app_slider_map_warm_median", statistics.median(timings["warm"]), "s"),
                    ("app_slider_server_cpu_median", statistics.median(cpus["cold"] + cpus["warm"]), "s")]
            await page.context.close()

            # Ward profile: open it, then download the PDF (made when the button is clicked)
            page = await d.new_page(browser)
            start = time.perf_counter()
            await page.goto(url + "/ward_profile", timeout=TIMEOUT_S * 1000)
            button = page.get_by_role("button", name="Download profile (PDF)")
            await button.wait_for(timeout=TIMEOUT_S * 1000)
            await d.wait_ready(page, TIMEOUT_S)
            out.append(("app_ward_profile_page_first_visit", time.perf_counter() - start, "s"))
            sizes = []
            for i in range(2):
                async with page.expect_download(timeout=TIMEOUT_S * 1000) as info:
                    start = time.perf_counter()
                    await button.click()
                download = await info.value
                path = await download.path()
                s = time.perf_counter() - start
                data = open(path, "rb").read()
                if data[:5] != b"%PDF-":
                    raise RuntimeError("the download is not a PDF")
                sizes.append(len(data))
                out.append((f"app_ward_profile_pdf_click_to_file{'_again' if i else ''}", s, "s"))
            await page.context.close()
        finally:
            await browser.close()
    return out


def browser_figures(store):
    from bench.appdriver import process_tree_rss_mb, run_async
    from tests.apprunner import AppServer

    server = AppServer(timeout_s=120)
    try:
        figures = run_async(lambda: _browser(server.url, server.proc.pid, store))
        figures.append(("app_server_rss_after_bench_session", process_tree_rss_mb(server.proc.pid), "MB"))
    finally:
        server.stop()
    return figures


def load_figures(store):
    """tests/test_load.py's scenario, for the record (the test asserts; this only measures)."""
    from bench.appdriver import load_plans, load_scenario, run_async
    from tests.apprunner import AppServer

    plans, default = load_plans(store)
    server = AppServer(timeout_s=120)
    try:
        result = run_async(lambda: load_scenario(server.url, server.proc.pid, plans, default, timeout_s=180))
    finally:
        server.stop()
    bad = [f"{s.label}: {s.problem or f.problem}" for s, f in zip(result.sessions, result.final) if not (s.ok and f.ok)]
    if bad:
        print("# load: sessions with problems: " + "; ".join(bad), flush=True)
    return result.figures()


def run():
    from geo.store import Store

    store = Store().preload()
    yield from payload_figures(store)
    yield from pdf_figures(store)
    yield from pack_figures(store)
    yield from browser_figures(store)
    yield from load_figures(store)
