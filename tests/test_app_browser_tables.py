"""Every table the app shows reads as words: labelled column headers, no snake_case names, no None or nan.

Each page is opened in headless Chromium as a person would open it, and every
data grid's header and cells are read from the accessible table Streamlit
keeps beside the canvas it draws.
"""

from __future__ import annotations

import re
import time

import pandas as pd
import pytest

from tests.conftest import ARTIFACTS
from tests.ui import choose, error_texts, wait_ready

pytestmark = pytest.mark.browser

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
RAW_VALUES = {"None", "nan", "NaN", "<NA>", "NaT", "null"}
#: Pages with tables, and a text each shows once its tables are drawn.
PAGES = {"scoring": "Priority neighbourhoods", "hubs": "By district", "access": "Sites in this session",
         "about": "Sources in this installation", "dashboard": None, "ward_profile": None}


def grids(page, timeout_s: float = 60) -> list[dict]:
    """Header and cell texts of every data grid on the page (waits until each has cells)."""
    deadline = time.time() + timeout_s
    found: list[dict] = []
    while time.time() < deadline:
        found = page.evaluate("""() => [...document.querySelectorAll("[data-testid='stDataFrame']")].map(g => ({
            headers: [...g.querySelectorAll("th")].map(t => t.textContent.trim()),
            cells: [...g.querySelectorAll("td")].map(t => t.textContent.trim())}))""")
        if found and all(g["cells"] for g in found):
            return found
        time.sleep(0.5)
    return found


@pytest.mark.parametrize("name", list(PAGES))
def test_tables_show_labels_and_words_for_missing_values(name, app_server, page):
    page.goto(f"{app_server.url}/{name}")
    wait_ready(page)
    if name == "scoring":  # the neighbourhood table comes with the neighbourhood layer
        page.get_by_text("Download the ranking (CSV)").first.wait_for(timeout=120000)  # scored: the page is complete
        choose(page, "Layer", "Priority neighbourhoods")
        wait_ready(page)
    if PAGES[name]:
        page.get_by_role("heading", name=PAGES[name]).first.wait_for(timeout=120000)
    else:
        page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=120000)
    wait_ready(page)
    for expander in page.locator("[data-testid='stExpander'] summary").all():  # tables folded away count too
        expander.click()
    wait_ready(page)
    found = grids(page)
    from playwright.sync_api import Error as PlaywrightError

    for i, grid in enumerate(page.locator("[data-testid='stDataFrame']").all()):
        # Pictures to look at, not what is asserted (``found`` above is): a grid redrawn by a late rerun
        # between listing and taking its picture only loses that picture.
        try:
            grid.scroll_into_view_if_needed(timeout=10000)
            grid.screenshot(path=str(ARTIFACTS / f"tables_{name}_{i}.png"), timeout=10000)
        except PlaywrightError as exc:
            print(f"tables_{name}_{i}.png not taken: {str(exc).splitlines()[0]}")
    assert found, f"no table drawn on /{name}"
    for grid in found:
        headers = [h for h in grid["headers"] if h]
        assert headers, grid
        assert not [h for h in headers if SNAKE_CASE.match(h)], (name, headers)
        assert not [c for c in grid["cells"] if c in RAW_VALUES], (name, headers, sorted(set(grid["cells"]) & RAW_VALUES))
    if name in ("access", "hubs"):  # a site list is a list of sites, not of areas
        assert any("Site" in g["headers"] and "Area name" not in g["headers"] for g in found), found
    assert error_texts(page) == []


def test_readable_table_names_columns_and_says_what_is_missing():
    import numpy as np

    from layers.readable import UNKNOWN, readable_table

    frame = pd.DataFrame({"lad_code": ["E06000032", None], "covered_pct_before": [12.5, np.nan], "fixed": [True, False],
                          "capacity": ["", 40], "order": pd.array([1, None], dtype="Int64"), "Area": ["Luton", "x"],
                          "n": [0, 2]})
    got = readable_table(frame, {"covered_pct_before": "Share within reach (%), now"},
                         missing={"capacity": "not given", "lad_code": "all districts"})
    assert list(got.columns) == ["District code (GSS, LAD 2024)", "Share within reach (%), now", "Fixed", "Capacity",
                                 "Order", "Area", "N"]
    assert got.iloc[1].tolist() == ["all districts", UNKNOWN, "no", "40", UNKNOWN, "x", 2]
    assert got.iloc[0].tolist() == ["E06000032", "12.5", "yes", "not given", "1", "Luton", 0]
    assert got["N"].dtype.kind == "i"  # a column without gaps stays numbers (0 is a real zero, not a gap)


def test_hub_tables_are_labelled_by_what_is_weighted(store):
    from app_pages.requests import hubs_request
    from geo.areas import resolve_area
    from layers.profiles import load_profile
    from layers.readable import readable_table
    from tasks import hubs as hub_task

    area = resolve_area("Luton", store.districts())
    plan = hub_task.run(hubs_request(area, load_profile("neighbourhood"), bands=("top 10%", "top 20%"),
                                     weight="population", existing=None, generated=("stations",), own=None,
                                     mode="bus", minutes=30, model="mclp", k=2), store).data
    for table in ("districts", "sites"):
        raw = plan.table(table)
        shown = readable_table(raw, plan.table_labels(), missing=plan.TABLE_MISSING)
        assert len(shown) == len(raw) and not [c for c in shown.columns if SNAKE_CASE.match(c) or "_" in c]
        assert not shown.isin(list(RAW_VALUES)).any().any() and not shown.isna().any().any()
    districts = readable_table(plan.table("districts"), plan.table_labels(), missing=plan.TABLE_MISSING)
    assert districts["District code (GSS)"].tolist()[-1] == "all districts"  # the whole area's row
