"""Helpers for driving the Streamlit app in Playwright."""

from __future__ import annotations

import time

from playwright.sync_api import Frame, Page

from layers.mapview import SELECTED_COLOUR as SELECTED  # the outline of the selected area

MAP_FRAME = "iframe[title='streamlit_folium.st_folium']"


def wait_ready(page: Page, timeout_s: float = 60) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout_s * 1000)
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        running = page.locator("[data-testid='stStatusWidget']").count()
        if not running:
            time.sleep(0.3)
            if not page.locator("[data-testid='stStatusWidget']").count():
                return
        time.sleep(0.2)
    raise TimeoutError("app still running")


def choose(page: Page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label``."""
    box = page.locator("[data-testid='stSelectbox']").filter(has_text=label).first
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).first.click()


def map_frame(page: Page, index: int = 0, timeout_s: float = 30) -> Frame:
    page.wait_for_selector(MAP_FRAME, timeout=timeout_s * 1000)
    handle = page.locator(MAP_FRAME).nth(index).element_handle()
    return handle.content_frame()


def map_codes(page: Page, index: int = 0, timeout_s: float = 30) -> list[str]:
    """GSS codes of the features drawn on the Leaflet map (waits until there are some)."""
    deadline = time.time() + timeout_s
    codes: list[str] = []
    while time.time() < deadline:
        frame = map_frame(page, index, timeout_s)
        try:
            codes = frame.evaluate(
                "() => window.map ? Object.values(window.map._layers)"
                ".filter(l => l.feature && l.feature.properties && l.feature.properties.code)"
                ".map(l => l.feature.properties.code) : []")
        except Exception:
            codes = []
        if codes:
            return codes
        time.sleep(0.25)
    return codes




def selected_codes(page: Page, index: int = 0) -> list[str]:
    """Codes of the areas outlined as selected on the map."""
    return map_frame(page, index).evaluate(
        "(c) => Object.values(window.map._layers).filter(l => l.feature && l.options.color === c)"
        ".map(l => l.feature.properties.code)", SELECTED)


def error_texts(page: Page) -> list[str]:
    """Visible Streamlit exceptions and error boxes."""
    texts = page.locator("[data-testid='stException'], [data-testid='stAlertContentError']").all_inner_texts()
    return [t for t in texts if t.strip()]


def wait_for_codes(page: Page, expected: set[str], timeout_s: float = 20, index: int = 0) -> set[str]:
    """Wait until the map shows exactly the features ``expected``; returns what it shows."""
    deadline = time.time() + timeout_s
    codes = set(map_codes(page, index))
    while codes != expected and time.time() < deadline:
        time.sleep(0.25)
        codes = set(map_codes(page, index))
    return codes


def map_fills(page: Page, index: int = 0) -> dict[str, str]:
    """code -> fill colour of every feature on the map."""
    frame = map_frame(page, index)
    return dict(frame.evaluate(
        "() => Object.values(window.map._layers).filter(l => l.feature && l.feature.properties.code)"
        ".map(l => [l.feature.properties.code, l.options.fillColor])"))


def wait_for_map_change(page: Page, before: dict, timeout_s: float = 20, index: int = 0) -> dict:
    """Wait until the map's fills differ from ``before``; returns the new fills."""
    deadline = time.time() + timeout_s
    now = before
    while time.time() < deadline:
        try:
            now = map_fills(page, index)
        except Exception:
            now = {}
        if now and now != before:
            return now
        time.sleep(0.2)
    return now


def click_feature(page: Page, code: str, index: int = 0) -> None:
    """Click the map where the feature ``code`` is (a real mouse click in the map's iframe)."""
    frame = map_frame(page, index)
    xy = frame.evaluate(
        """(code) => { const l = Object.values(window.map._layers).find(l => l.feature && l.feature.properties.code === code);
            const p = window.map.latLngToContainerPoint(l.getCenter ? l.getCenter() : l.getBounds().getCenter());
            const r = window.map.getContainer().getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }""", code)
    box = page.locator(MAP_FRAME).nth(index).bounding_box()
    page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])


def click_until(page: Page, code: str, target, *, attempts: int = 4, wait_s: float = 8, index: int = 0) -> None:
    """Click feature ``code`` until the locator ``target`` appears (the map may still be settling)."""
    for _ in range(attempts):
        click_feature(page, code, index)
        try:
            target.wait_for(timeout=wait_s * 1000)
            return
        except Exception:
            time.sleep(0.5)
    target.wait_for(timeout=wait_s * 1000)


def slider(page: Page, label: str):
    """The thumb of the slider labelled ``label``."""
    return page.locator("[data-testid='stSlider']").filter(has_text=label).first.get_by_role("slider")


def table_cells(page: Page, index: int = 0, timeout_s: float = 20) -> list[str]:
    """Text of the cells Streamlit's data grid keeps in its accessible table (waits for some)."""
    deadline = time.time() + timeout_s
    cells: list[str] = []
    while time.time() < deadline:
        cells = page.locator("[data-testid='stDataFrame']").nth(index).locator("td").all_text_contents()
        if cells:
            return cells
        time.sleep(0.2)
    return cells


def wait_for_table_change(page: Page, before: list[str], timeout_s: float = 20, index: int = 0) -> list[str]:
    deadline = time.time() + timeout_s
    now = before
    while time.time() < deadline:
        now = table_cells(page, index)
        if now and now != before:
            return now
        time.sleep(0.2)
    return now


SIDEBAR_UPLOAD = "[data-testid='stSidebar'] [data-testid='stFileUploaderDropzoneInput']"


def upload_sites(page: Page, path, count: int) -> None:
    """Choose 'Upload a file' for the employment sites and upload ``path``; wait until its ``count`` sites are read."""
    choose(page, "Employment sites", "Upload a file")
    wait_ready(page)
    page.locator(SIDEBAR_UPLOAD).first.set_input_files(str(path))
    # a slow machine can take minutes to rerun after an upload
    page.get_by_text(f"{path.name}: {count} {'site' if count == 1 else 'sites'} read").first.wait_for(timeout=180000)
    wait_ready(page, 180)
