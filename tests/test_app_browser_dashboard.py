"""The District dashboard as a person uses it, in headless Chromium: South Midlands, 2023."""

from __future__ import annotations

import time

import pytest

from tests.conftest import ARTIFACTS
from tests.ui import choose, error_texts, wait_ready

pytestmark = pytest.mark.browser


def row_cells(page, label: str, text: str, timeout_s: float = 60) -> dict[str, str]:
    """Header -> cell text of the dashboard table's row ``label``, once the row shows ``text`` (the page reruns)."""
    table = page.locator(".dash-table table").first
    deadline = time.time() + timeout_s
    cells: dict[str, str] = {}
    while time.time() < deadline:
        headers = [t.strip() for t in table.locator("tr").first.locator("th").all_inner_texts()]
        row = table.locator("tr").filter(has=page.get_by_role("rowheader", name=label, exact=True)).first
        texts = [t.strip() for t in row.locator("th, td").all_inner_texts()] if row.count() else []
        cells = dict(zip(headers, texts))
        if text in texts:
            return cells
        time.sleep(0.3)
    return cells


def test_dashboard_shows_luton_employment_rate_for_2023_with_downloads(app_server, page, store):
    from app_pages.requests import dashboard_request
    from tasks import dashboard
    from tasks.inputs import area_of

    board = dashboard.run(dashboard_request(area_of("South Midlands", store), 2023), store).data
    table = board.table().set_index("Indicator")
    label = table.index[board.indicators.index("aps_employment_rate")]
    expected = table.loc[label, "Luton"]
    assert expected.startswith("70.5% (") and expected.endswith(": worse")  # what a reader of 2023 sees for Luton

    page.goto(app_server.url + "/dashboard")
    wait_ready(page, 240)
    page.get_by_text("South Midlands: district dashboard").first.wait_for(timeout=180000)  # the first run loads the store
    choose(page, "Area of interest", "South Midlands")
    wait_ready(page, 120)
    choose(page, "Period", "2023")
    wait_ready(page, 120)
    cells = row_cells(page, label, expected)
    assert cells.get("Luton") == expected, (expected, cells)  # in Luton's column, on the employment-rate row
    assert cells["Period"] == "2023" and cells["England"] == table.loc[label, "England"]
    page.get_by_role("button", name="Download table (CSV)").first.wait_for(timeout=30000)
    assert page.get_by_role("button", name="Download workbook (Excel)").count() == 1
    assert page.get_by_text("Distance to an 80% employment rate").first.is_visible()
    assert error_texts(page) == []
    page.screenshot(path=str(ARTIFACTS / "dashboard_south_midlands_2023.png"))
    page.get_by_text("Distance to an 80% employment rate").first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "dashboard_south_midlands_2023_distance.png"))
    page.locator("[data-testid='stImage']").first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "dashboard_south_midlands_2023_trend.png"))
