"""Hostile site and hub names on the Transport access and Hub planner pages, in headless Chromium.

Sites, hubs and candidates whose names, types and notes try to become script
(tests/hostile_text.py) are uploaded, saved as a site list and opened again
from a second browser session. Nothing may run (no dialog opens), no injected
element may exist, the map must still draw, and every name must show as typed
in the map tooltips, the tables and the text.
"""

from __future__ import annotations

import time

import pandas as pd
import pytest

from tests.conftest import ARTIFACTS
from tests.hostile_text import HOSTILE
from tests.ui import MAP_FRAME, SIDEBAR_UPLOAD, error_texts, map_frame, upload_sites, wait_for_codes, wait_ready

pytestmark = pytest.mark.browser
SOUTH_MIDLANDS = ["E06000055", "E06000056", "E06000032", "E06000042", "E06000061", "E06000062"]
# points inside South Midlands (EPSG:27700): Luton, Bedford, Milton Keynes, Northampton town centres
TOWNS = [(509200, 221300), (504900, 249700), (485300, 238500), (475400, 260600)]
INJECTED = "img[src='x'], [onerror], a[href^='javascript']"


def hostile_frame(prefix: str) -> pd.DataFrame:
    """One row per hostile name, a few hundred metres apart around the four towns."""
    rows = []
    for i, text in enumerate(HOSTILE):
        x, y = TOWNS[i % len(TOWNS)]
        rows.append({"name": f"{prefix}{i} {text}", "easting": x + 300 * (i // len(TOWNS)), "northing": y + 200,
                     "type": f"type {text}", "notes": f"note {text}"})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def app(private_app):
    return private_app


def watch_dialogs(page) -> list[str]:
    """Every alert/confirm/prompt any frame of ``page`` opens (dismissed, so the page carries on)."""
    opened: list[str] = []
    page.on("dialog", lambda d: (opened.append(d.message), d.dismiss()))
    return opened


def map_tooltips(page, marker: str) -> dict:
    """Text of every point tooltip, and of each area tooltip whose value mentions ``marker``, as the browser shows it."""
    return map_frame(page).evaluate("""([marker, injected]) => {
        const out = {points: [], areas: [], shown: [], tags: 0, injected: document.querySelectorAll(injected).length};
        for (const l of Object.values(window.map._layers)) {
            if (l._layers) continue;  // a layer: its areas are visited one by one
            if (l.feature) {  // an area: its layer's one tooltip opens on hover, as the mouse opens it
                if (!String(l.feature.properties.shown || "").includes(marker)) continue;
                const group = Object.values(l._eventParents || {})[0], t = group && group.getTooltip();
                if (!t) continue;
                l.fire("mouseover", {latlng: l.getBounds().getCenter()}, true);
                out.areas.push(t.getElement().textContent); out.shown.push(l.feature.properties.shown);
                l.fire("mouseout", {latlng: l.getBounds().getCenter()}, true);
                continue;
            }
            const t = l.getTooltip && l.getTooltip();
            if (!t) continue;
            l.openTooltip(l.getLatLng());
            const el = t.getElement();
            out.points.push(el.textContent.trim()); out.tags += el.querySelectorAll("*").length - 1;
            l.closeTooltip();
        }
        return out;
    }""", [marker, INJECTED])


def wait_for_points(page, marker: str, n: int, timeout_s: float = 180, areas: bool = False) -> dict:
    """:func:`map_tooltips` once the map shows ``n`` points whose names hold ``marker`` (the page may still be redrawing).

    ``areas``: also wait for an area whose tooltip mentions ``marker`` (a busy machine can draw the points
    before the areas' layer).
    """
    deadline = time.time() + timeout_s
    while True:
        try:
            tips = map_tooltips(page, marker)
        except Exception:  # the map's frame was replaced under the call
            tips = {"points": [], "areas": [], "shown": [], "tags": 0, "injected": 0}
        if (sum(marker in t for t in tips["points"]) >= n and (tips["areas"] or not areas)) or time.time() > deadline:
            return tips
        time.sleep(0.5)


def show_one_tooltip(page, text: str) -> None:
    """Leave open the point tooltip that shows ``text``, for the screenshot."""
    map_frame(page).evaluate("""(text) => {
        for (const l of Object.values(window.map._layers)) {
            if (l.feature || !(l.getTooltip && l.getTooltip())) continue;
            l.openTooltip();
            if (l.getTooltip().getElement().textContent.includes(text)) return;
            l.closeTooltip();
        }
    }""", text)


def grid_text(page, has_text: str) -> str:
    """Every cell of the data grid that shows ``has_text``, scrolling it down and across (it draws only what is in view)."""
    grids = page.locator("[data-testid='stDataFrame']")
    deadline = time.monotonic() + 120  # a busy machine draws the grid's cells some time after the page settles
    while True:
        grid = next((g for g in grids.all() if any(has_text in t for t in g.locator("td").all_text_contents())), None)
        if grid is not None:
            break
        assert time.monotonic() < deadline, f"no table shows {has_text!r}"
        time.sleep(0.5)
    scroller = grid.locator(".dvn-scroller").first
    seen: list[str] = []
    for left in (0, 10**6):
        top, bottom = 0, 1
        while top < bottom:
            bottom = scroller.evaluate("(e, [l, t]) => { e.scrollLeft = l; e.scrollTop = t; "
                                       "return e.scrollHeight - e.clientHeight; }", [left, top])
            time.sleep(0.3)  # the grid redraws its accessible table after a scroll
            seen += grid.locator("td").all_text_contents()
            top += 200
    scroller.evaluate("e => { e.scrollLeft = 0; e.scrollTop = 0; }")
    grid.scroll_into_view_if_needed()
    return "\n".join(seen)


def assert_nothing_injected(page, dialogs: list[str]) -> None:
    assert dialogs == []
    assert page.locator(INJECTED).count() == 0
    assert error_texts(page) == []


def expect_sites_on_the_access_map(page, store, names: list[str]) -> None:
    expected = set(store.boundaries("lsoa", SOUTH_MIDLANDS)["code"])
    assert wait_for_codes(page, expected, timeout_s=60) == expected  # the map still draws every LSOA
    tips = wait_for_points(page, "ESC", len(names), areas=True)
    assert sorted(tips["points"]) == sorted(names) and tips["tags"] == 0 and tips["injected"] == 0
    assert tips["areas"], "no area's nearest site is an uploaded one"
    for text, shown in zip(tips["areas"], tips["shown"]):
        assert shown in text and any(f"min to {n}" in shown for n in names)


def test_access_page_shows_hostile_site_names_as_text_and_a_second_session_opens_them(app, page, browser, store,
                                                                                     tmp_path):
    sites = hostile_frame("ESC")
    names = list(sites["name"])
    path = tmp_path / "sites ${alert(1)} `<img src=x onerror=alert(1)>`.csv"
    sites.to_csv(path, index=False)
    dialogs = watch_dialogs(page)
    page.goto(app.url + "/access")
    page.get_by_text("Transport access: South Midlands").first.wait_for(timeout=180000)  # the first run loads the store
    wait_ready(page)
    page.get_by_text("LSOAs (2021)", exact=True).first.click()  # LSOA tooltips name the nearest site
    wait_ready(page)
    upload_sites(page, path, len(names))
    expect_sites_on_the_access_map(page, store, names)
    wait_ready(page)
    main = page.locator("[data-testid='stMain']").inner_text()
    assert f"minutes of {names[0]} by bus" in main  # the catchment sentence (markdown) shows the name as typed
    cells = grid_text(page, "ESC0")  # the sites in this session
    for i, text in enumerate(HOSTILE):
        assert names[i] in cells and f"type {text}" in cells and f"note {text}" in cells
    assert_nothing_injected(page, dialogs)
    show_one_tooltip(page, names[2])
    page.screenshot(path=str(ARTIFACTS / "escaping_access_uploaded.png"))

    list_name = "ESC list <b>${alert(1)}</b>"
    page.get_by_text("Save or load a site list on the server").first.click()
    box = page.get_by_label("Save these sites as")
    box.fill(list_name)
    box.press("Enter")
    wait_ready(page)
    page.get_by_role("button", name="Save", exact=True).first.click()
    wait_ready(page)
    page.get_by_text("(the previous version is kept)", exact=False).first.wait_for(timeout=30000)

    # a second officer, in another browser session, opens the saved list
    other = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        page2 = other.new_page()
        dialogs2 = watch_dialogs(page2)
        page2.goto(app.url + "/access")
        wait_ready(page2)
        page2.get_by_text("LSOAs (2021)", exact=True).first.click()
        wait_ready(page2)
        map_frame(page2)  # the page has drawn down to its end: the popover stays where it opens
        wait_ready(page2)
        opener = page2.get_by_text("Save or load a site list on the server").first
        opener.scroll_into_view_if_needed()
        opener.click()
        load = page2.get_by_role("button", name="Load", exact=True).first
        load.wait_for(timeout=30000)
        load.scroll_into_view_if_needed()
        load.click()
        wait_ready(page2)
        expect_sites_on_the_access_map(page2, store, names)
        wait_ready(page2)
        cells = grid_text(page2, "ESC0")
        assert all(n in cells for n in names)
        assert_nothing_injected(page2, dialogs2)
        page2.screenshot(path=str(ARTIFACTS / "escaping_access_second_session_table.png"))
        page2.keyboard.press("Escape")  # close the popover
        page2.locator(MAP_FRAME).first.scroll_into_view_if_needed()
        show_one_tooltip(page2, names[0])
        page2.screenshot(path=str(ARTIFACTS / "escaping_access_second_session_map.png"))
    finally:
        other.close()
    assert dialogs == []


def test_hub_planner_shows_hostile_hub_and_candidate_names_as_text(app, page, tmp_path):
    hubs, candidates = hostile_frame("HUB"), hostile_frame("CAND")
    candidates["easting"] += 1500  # not on top of the hubs
    hubs_path, cands_path = tmp_path / "hubs `${x}`.csv", tmp_path / "candidates <i onmouseover=alert(1)>x.csv"
    hubs.to_csv(hubs_path, index=False)
    candidates.to_csv(cands_path, index=False)
    dialogs = watch_dialogs(page)
    page.goto(app.url + "/hubs")
    page.get_by_text("Hub planner: South Midlands").first.wait_for(timeout=180000)  # the first run loads the store
    wait_ready(page)
    page.locator(SIDEBAR_UPLOAD).nth(0).set_input_files(str(hubs_path))
    # the second upload only once the first one's rerun has shown its result: on a slow machine
    # an upload made while the previous run is still drawing can wait behind it for minutes
    page.get_by_text(f"{hubs_path.name}: {len(hubs)} {'site' if len(hubs) == 1 else 'sites'} read").first.wait_for(timeout=180000)
    wait_ready(page, timeout_s=180)
    page.locator(SIDEBAR_UPLOAD).nth(1).set_input_files(str(cands_path))
    page.get_by_text(f"{cands_path.name}: {len(candidates)} {'site' if len(candidates) == 1 else 'sites'} read").first.wait_for(timeout=180000)
    wait_ready(page, timeout_s=180)
    page.get_by_text("After the plan").first.wait_for(timeout=120000)
    wait_ready(page)
    hub_names = list(hubs["name"])
    tips = wait_for_points(page, "HUB", len(hub_names), areas=True)
    # existing hubs are drawn with the plan's decision: "<name> (fixed)" or "(kept)"
    assert sorted(t.rsplit(" (", 1)[0] for t in tips["points"] if t.startswith("HUB")) == sorted(hub_names)
    assert tips["tags"] == 0 and tips["injected"] == 0
    assert tips["areas"] and all(shown in text for text, shown in zip(tips["areas"], tips["shown"]))
    page.locator(MAP_FRAME).first.scroll_into_view_if_needed()
    show_one_tooltip(page, hub_names[2])
    page.screenshot(path=str(ARTIFACTS / "escaping_hubs_map.png"))
    page.locator("[data-testid='stExpander']").filter(has_text="Sites").last.locator("summary").click()
    wait_ready(page)
    cells = grid_text(page, "HUB0")  # the plan's sites
    assert all(n in cells for n in hub_names)
    assert all(n in cells for n in candidates["name"])  # every candidate is listed with its decision
    # unknown hub types are named in the notes under the page (markdown), as typed
    main = page.locator("[data-testid='stMain']").inner_text()
    assert f"{hubs_path.name}: {len(hubs)} site types not in the list" in main
    assert all(f"'type {text}'" in main for text in HOSTILE[:4])  # the first five are named, with their rows
    assert_nothing_injected(page, dialogs)
    page.screenshot(path=str(ARTIFACTS / "escaping_hubs_sites_table.png"))
