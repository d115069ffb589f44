"""Drive the running app from Playwright's async API: timings, many sessions at once, server memory.

Shared by ``bench/bench_app.py`` (figures) and ``tests/test_load.py`` (the
10-session load test). The async API lets one Chromium hold many sessions
(one browser context each) driven concurrently from one thread; everything
here runs in its own thread (:func:`run_async`) so it never meets a sync
Playwright loop that another test fixture may hold open.

The helpers mirror ``tests/ui.py`` (same selectors) but never raise while the
map is being redrawn: a map that is not there yet reads as empty.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

MAP_FRAME = "iframe[title='streamlit_folium.st_folium']"
POLL_S = 0.05

_CODES_JS = ("() => window.map ? Object.values(window.map._layers)"
             ".filter(l => l.feature && l.feature.properties && l.feature.properties.code)"
             ".map(l => l.feature.properties.code) : []")
# fill colour and the tooltip's value text: a small area can keep every colour when a weight moves, never every score
_STATE_JS = ("() => window.map ? Object.values(window.map._layers)"
             ".filter(l => l.feature && l.feature.properties && l.feature.properties.code)"
             ".map(l => [l.feature.properties.code, [l.options.fillColor, String(l.feature.properties.shown)]]) : []")


# -- running coroutines -----------------------------------------------------------------------

def run_async(factory):
    """Run ``factory()`` (a coroutine function) in a fresh event loop on its own thread; return its result."""
    box: dict = {}

    def target():
        try:
            box["value"] = asyncio.run(factory())
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="appdriver", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


async def launch(playwright):
    """Headless Debian Chromium (never a downloaded browser)."""
    from tests.apprunner import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install chromium (as .ci/run does)")
    return await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


async def new_page(browser):
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    return await context.new_page()


# -- reading the page --------------------------------------------------------------------------

async def wait_ready(page, timeout_s: float = 120) -> None:
    """Wait until Streamlit has finished running the script (no status widget twice in a row)."""
    await page.wait_for_selector("[data-testid='stApp']", timeout=timeout_s * 1000)
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if not await page.locator("[data-testid='stStatusWidget']").count():
            await asyncio.sleep(0.3)
            if not await page.locator("[data-testid='stStatusWidget']").count():
                return
        await asyncio.sleep(0.2)
    raise TimeoutError("app still running")


async def _map_eval(page, script: str, index: int = 0):
    """Evaluate ``script`` in the map's iframe; None when there is no map (yet)."""
    try:
        frames = page.locator(MAP_FRAME)
        if await frames.count() <= index:
            return None
        handle = await frames.nth(index).element_handle(timeout=2000)
        frame = await handle.content_frame() if handle else None
        if frame is None:
            return None
        return await frame.evaluate(script)
    except Exception:  # the iframe was replaced or is still loading
        return None


async def map_codes(page, index: int = 0) -> list[str]:
    """GSS codes of the features drawn on the Leaflet map now ([] when none)."""
    return await _map_eval(page, _CODES_JS, index) or []


async def map_state(page, index: int = 0) -> dict[str, tuple[str, str]]:
    """code -> (fill colour, value shown in the tooltip) of every feature drawn now ({} when none)."""
    return {code: tuple(v) for code, v in await _map_eval(page, _STATE_JS, index) or []}


async def error_texts(page) -> list[str]:
    texts = await page.locator("[data-testid='stException'], [data-testid='stAlertContentError']").all_inner_texts()
    return [t for t in texts if t.strip()]


async def wait_for_map(page, expected: set[str], timeout_s: float = 120, index: int = 0) -> float:
    """Poll until the map's feature codes equal ``expected``; returns time.perf_counter() when they did.

    Raises TimeoutError naming what was seen instead.
    """
    deadline = time.perf_counter() + timeout_s
    seen: list[str] = []
    while time.perf_counter() < deadline:
        seen = await map_codes(page, index)
        if seen and set(seen) == expected:
            return time.perf_counter()
        await asyncio.sleep(POLL_S)
    raise TimeoutError(f"map never showed the {len(expected)} expected features in {timeout_s:.0f} s; last saw "
                       f"{len(set(seen))} codes, {len(set(seen) & expected)} of them expected")


async def wait_for_map_change(page, before: dict, expected: set[str], timeout_s: float = 60,
                              index: int = 0) -> tuple[float | None, dict]:
    """Poll until :func:`map_state` differs from ``before`` over exactly the ``expected`` codes.

    Returns (time.perf_counter() when it did, the new state), or (None, the last state seen).
    """
    deadline = time.perf_counter() + timeout_s
    now: dict = {}
    while time.perf_counter() < deadline:
        now = await map_state(page, index)
        if now and set(now) == expected and now != before:
            return time.perf_counter(), now
        await asyncio.sleep(POLL_S)
    return None, now


# -- acting on the page ------------------------------------------------------------------------

async def choose(page, label: str, option: str) -> float:
    """Pick ``option`` in the selectbox labelled ``label``; returns time.perf_counter() at the choosing click."""
    box = page.locator("[data-testid='stSelectbox']").filter(has_text=label).first
    await box.click()
    await page.keyboard.type(option)
    target = page.get_by_role("option", name=option, exact=True).first
    await target.wait_for(timeout=30000)
    start = time.perf_counter()
    await target.click()
    return start


def slider(page, label: str):
    """The thumb of the slider labelled ``label``."""
    return page.locator("[data-testid='stSlider']").filter(has_text=label).first.get_by_role("slider")


async def press_slider(page, label: str, key: str) -> float:
    """Focus the slider thumb and press ``key`` (End, Home, ArrowRight...); returns perf_counter at the press."""
    thumb = slider(page, label)
    await thumb.focus()
    start = time.perf_counter()
    await page.keyboard.press(key)
    return start


async def slider_value(page, label: str) -> float | None:
    try:
        return float(await slider(page, label).input_value(timeout=5000))  # an <input type="range">
    except Exception:
        return None


async def set_slider_and_wait(page, label: str, key: str, target: float, expected: set[str], *,
                              attempts: int = 3, timeout_s: float = 90) -> tuple[float, dict]:
    """Move a slider to ``target`` with ``key`` and wait for the map to change.

    The key is pressed again only when the slider did not move at all (a press lost while the page was
    rerunning), so a relative key (ArrowLeft) never overshoots. Returns (seconds from the last press to
    the changed map, new map state); raises when the map never changes.
    """
    before = await map_state(page)
    initial = await slider_value(page, label)
    for _ in range(attempts):
        start = await press_slider(page, label, key)
        done, state = await wait_for_map_change(page, before, expected, timeout_s)
        if done is not None:
            return done - start, state
        value = await slider_value(page, label)
        if value is None or value != initial:  # the press registered (or cannot be told): wait, never press again
            await wait_ready(page, timeout_s)
            done, state = await wait_for_map_change(page, before, expected, timeout_s)
            if done is not None:
                return done - start, state
            raise TimeoutError(f"the map did not change after {label!r} moved to {value} (wanted {target:g})")
    raise TimeoutError(f"{label!r} did not move after {attempts} presses of {key}")


# -- the server process ------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # the command name may contain spaces; fields after the closing paren are fixed
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == pid:
            kids.append(int(entry))
    return kids


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p in out:
            continue
        out.append(p)
        todo.extend(_children(p))
    return out


def process_tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds used so far by ``pid`` and its running descendants, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in _tree(pid):
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def process_tree_rss_mb(pid: int) -> float:
    """Resident memory (VmRSS) of ``pid`` and all its descendants, in MB (2**20 bytes), from /proc."""
    total_kb = 0
    for p in _tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
                    break
        except OSError:
            continue
    return total_kb / 1024


# -- the 10-session load scenario ---------------------------------------------------------------

UNEMPLOYED = "census21_unemployed_pct"


@dataclass
class SessionPlan:
    """One browser session: the area it picks, the codes its map must show, and how it moves the slider."""

    label: str                 # the option text in the "Area of interest" selectbox
    expected: set[str]         # the area's ward codes (the page's default level)
    key: str = "End"           # the key pressed on the "Unemployed" thumb: End -> 5, ArrowLeft -> 0.5 (from 1)
    target: float = 5.0        # the weight it should end at (shown in the page caption)
    shown: dict[str, str] | None = None   # code -> the tooltip value the map must show ("23.0 (top 20%)")


def area_label(area) -> str:
    """The option text of ``area`` in the app's "Area of interest" selectbox (app_pages.state.area_picker)."""
    return area.name if area.kind != "district" else f"{area.name} (district)"


def expected_shown(store, area, weights: dict[str, float], level: str = "ward", sensitivity: int = 200) -> dict[str, str]:
    """code -> the value text the /scoring map shows for ``area`` with the neighbourhood profile and ``weights``.

    Computed here with the same functions the page uses (score_area, then score_map's formatting), so a
    session that shows anything else is showing somebody else's scores (or stale ones).
    """
    from layers.mapview import score_map
    from layers.profiles import load_profile
    from layers.scoring import score_area

    scored = score_area(load_profile("neighbourhood").with_weights(weights), area, level=level, store=store,
                        sensitivity=sensitivity)
    md = score_map(store.boundaries(level, area.lad_codes), scored, "score")
    return dict(zip(md.gdf["code"], md.gdf["shown"]))


@dataclass
class SessionResult:
    label: str
    ok: bool = False
    first_map_s: float | None = None    # page opened -> first map drawn
    area_map_s: float | None = None     # area chosen -> its map drawn
    slider_map_s: float | None = None   # slider moved -> map redrawn
    codes: set[str] = field(default_factory=set)
    state: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    caption_ok: bool = False
    problem: str = ""


@dataclass
class LoadResult:
    sessions: list[SessionResult]
    rss_1_mb: float
    rss_n_mb: float
    rss_start_mb: float
    final: list[SessionResult] = field(default_factory=list)   # every page re-read at the end
    server_cpu_1_s: float = 0.0       # CPU the server used for session 1 (fresh server: loads the store)
    server_cpu_rest_s: float = 0.0    # CPU the server used while sessions 2..n ran
    client_cpu_rest_s: float = 0.0    # CPU the simulated users used meanwhile (Chromium, Playwright, this process)

    @property
    def served(self) -> int:
        return sum(1 for s, f in zip(self.sessions, self.final) if s.ok and f.ok)

    @property
    def per_session_mb(self) -> float:
        return (self.rss_n_mb - self.rss_1_mb) / max(len(self.sessions) - 1, 1)

    @property
    def nth_first_map_s(self) -> float | None:
        """The last session to get its first map, measured from when it (and the other concurrent ones) opened."""
        times = [s.first_map_s for s in self.sessions[1:] if s.first_map_s is not None]
        return max(times) if len(times) == len(self.sessions) - 1 else None

    def figures(self, prefix: str = "load") -> list[tuple[str, float, str]]:
        n = len(self.sessions)
        out = [(f"{prefix}_sessions_served_without_error", self.served, "count"),
               (f"{prefix}_sessions_total", n, "count"),
               (f"{prefix}_server_rss_idle", self.rss_start_mb, "MB"),
               (f"{prefix}_server_rss_1_session", self.rss_1_mb, "MB"),
               (f"{prefix}_server_rss_{n}_sessions", self.rss_n_mb, "MB"),
               (f"{prefix}_server_rss_per_extra_session", self.per_session_mb, "MB"),
               (f"{prefix}_server_rss_limit_{n}_sessions", memory_limit_mb(self.rss_1_mb, n), "MB")]
        if self.sessions[0].first_map_s is not None:  # a fresh server: includes loading the store and England's table
            out.append((f"{prefix}_1st_session_first_map_fresh_server", self.sessions[0].first_map_s, "s"))
        if self.nth_first_map_s is not None:
            out.append((f"{prefix}_{n}th_session_first_map", self.nth_first_map_s, "s"))
        rest = max(n - 1, 1)
        out += [(f"{prefix}_server_cpu_1st_session_fresh_server", self.server_cpu_1_s, "s"),
                (f"{prefix}_server_cpu_per_concurrent_session", self.server_cpu_rest_s / rest, "s"),
                (f"{prefix}_client_cpu_per_concurrent_session", self.client_cpu_rest_s / rest, "s")]
        for name, attr in (("area_map", "area_map_s"), ("slider_map", "slider_map_s")):
            values = [getattr(s, attr) for s in self.sessions[1:] if getattr(s, attr) is not None]
            if values:
                out.append((f"{prefix}_concurrent_{name}_median", statistics.median(values), "s"))
                out.append((f"{prefix}_concurrent_{name}_max", max(values), "s"))
        return out


#: The load scenario: session 1 runs alone, the other nine together, each on a different area of interest
#: (the page opens on South Midlands, so that session keeps it).
LOAD_AREAS = ["Worcestershire", "South Midlands", "East Midlands CCA", "Luton", "Worcester", "Nottingham", "Bedford",
              "Milton Keynes", "Derby", "Redditch"]
#: (key pressed on the Unemployed thumb, the weight it gives from the default 1), alternating between sessions.
LOAD_MOVES = [("End", 5.0), ("ArrowLeft", 0.5)]


def load_plans(store, areas: list[str] = LOAD_AREAS) -> tuple[list[SessionPlan], set[str]]:
    """The sessions' plans (with the values each map must show) and the ward codes of the page's default area."""
    from geo.areas import resolve_area

    districts = store.districts()
    plans = []
    for i, name in enumerate(areas):
        area = resolve_area(name, districts)
        key, weight = LOAD_MOVES[i % len(LOAD_MOVES)]
        plans.append(SessionPlan(area_label(area), set(store.boundaries("ward", area.lad_codes)["code"]), key, weight,
                                 expected_shown(store, area, {UNEMPLOYED: weight})))
    default = set(store.boundaries("ward", resolve_area("South Midlands", districts).lad_codes)["code"])
    return plans, default


def memory_limit_mb(rss_1_mb: float, sessions: int) -> float:
    """Issue 9: RSS with ``sessions`` sessions <= 1.5 x the one-session RSS + 50 MB per session."""
    return 1.5 * rss_1_mb + 50.0 * sessions


def caption_text(plan: SessionPlan) -> str:
    return f"Unemployed {plan.target:g}"


async def _session(browser, url: str, plan: SessionPlan, default: set[str], timeout_s: float) -> tuple[SessionResult, object]:
    """Open /scoring, pick the plan's area, move the Unemployed slider; never raises (problems are recorded)."""
    result = SessionResult(plan.label)
    page = await new_page(browser)
    try:
        start = time.perf_counter()
        await page.goto(url + "/scoring", timeout=timeout_s * 1000)
        result.first_map_s = await wait_for_map(page, default, timeout_s) - start
        await wait_ready(page, timeout_s)
        if plan.expected != default:
            chosen = await choose(page, "Area of interest", plan.label)
            result.area_map_s = await wait_for_map(page, plan.expected, timeout_s) - chosen
            await wait_ready(page, timeout_s)
        result.slider_map_s, _ = await set_slider_and_wait(page, "Unemployed", plan.key, plan.target, plan.expected,
                                                           timeout_s=timeout_s)
        await wait_ready(page, timeout_s)
        await read_back(page, plan, result)
    except Exception as exc:  # recorded, so one slow session does not hide what the others saw
        result.problem = f"{type(exc).__name__}: {exc}"
        try:
            result.errors = await error_texts(page)
        except Exception:
            pass
    return result, page


async def read_back(page, plan: SessionPlan, result: SessionResult) -> SessionResult:
    """Fill ``result`` from what the page shows now and judge it against the plan."""
    result.codes = set(await map_codes(page))
    result.state = await map_state(page)
    result.errors = await error_texts(page)
    result.caption_ok = await page.get_by_text(caption_text(plan), exact=False).count() > 0
    problems = []
    if result.codes != plan.expected:
        problems.append(f"map shows {len(result.codes)} codes, {len(result.codes & plan.expected)} of the "
                        f"{len(plan.expected)} expected")
    elif plan.shown is not None:
        wrong = sorted(c for c in plan.expected if result.state.get(c, ("", ""))[1] != plan.shown.get(c))
        if wrong:
            c = wrong[0]
            problems.append(f"{len(wrong)} area(s) show other values than this session's weights give, e.g. {c}: "
                            f"{result.state.get(c, ('', ''))[1]!r} instead of {plan.shown.get(c)!r}")
    if result.errors:
        problems.append(f"errors: {result.errors}")
    if not result.caption_ok:
        problems.append(f"caption lacks {caption_text(plan)!r}")
    result.problem = "; ".join(problems)
    result.ok = not problems
    return result


async def load_scenario(url: str, pid: int, plans: list[SessionPlan], default: set[str], *,
                        timeout_s: float = 240, settle_s: float = 2.0) -> LoadResult:
    """Session 1 alone (memory after one session), then sessions 2..n at once (memory after all n).

    Every session stays open to the end; finally every page is read again, so a session whose map
    changed to someone else's data while the others worked is caught.
    """
    from playwright.async_api import async_playwright

    rss_start = process_tree_rss_mb(pid)
    me = os.getpid()  # Playwright's driver and Chromium are our descendants (and so is a server we started)
    async with async_playwright() as p:
        browser = await launch(p)
        try:
            cpu0 = process_tree_cpu_s(pid)
            first, first_page = await _session(browser, url, plans[0], default, timeout_s)
            await asyncio.sleep(settle_s)
            rss_1 = process_tree_rss_mb(pid)
            server0, all0 = process_tree_cpu_s(pid), process_tree_cpu_s(me)
            rest = await asyncio.gather(*[_session(browser, url, plan, default, timeout_s) for plan in plans[1:]])
            server1, all1 = process_tree_cpu_s(pid), process_tree_cpu_s(me)
            await asyncio.sleep(settle_s)
            rss_n = process_tree_rss_mb(pid)
            pages = [first_page] + [pg for _, pg in rest]
            final = []
            for plan, page in zip(plans, pages):
                again = SessionResult(plan.label)
                try:
                    await read_back(page, plan, again)
                except Exception as exc:
                    again.problem = f"{type(exc).__name__}: {exc}"
                final.append(again)
        finally:
            await browser.close()
    server_in_tree = pid in _tree(me)
    client_cpu = (all1 - all0) - ((server1 - server0) if server_in_tree else 0.0)
    return LoadResult([first] + [r for r, _ in rest], rss_1, rss_n, rss_start, final,
                      server0 - cpu0, server1 - server0, client_cpu)
