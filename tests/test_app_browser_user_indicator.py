"""A user's own indicator in the app, in headless Chromium: upload, see the row problems, save, map it."""

from __future__ import annotations

import pytest

from tests.conftest import ARTIFACTS
from tests.ui import choose, error_texts, map_codes, wait_ready

pytestmark = pytest.mark.browser
LUTON = "E06000032"
HOSTILE_CODE = "**x**[y](https://e.org)"
SOUTH_MIDLANDS = ["E06000055", "E06000056", "E06000032", "E06000042", "E06000061", "E06000062"]


@pytest.fixture()
def user_app(store, tmp_path):
    """The app with a private user directory (the indicator is saved there, not in the real one)."""
    from tests.apprunner import AppServer

    ARTIFACTS.mkdir(exist_ok=True)
    server = AppServer(env={"WARDSCOPE_USER": str(tmp_path / "user")})
    yield server
    server.stop()


def test_an_uploaded_indicator_is_saved_with_its_row_problems_shown_and_maps(user_app, page, store, tmp_path):
    lsoa = store.table("indicators", "index_lsoa", [LUTON])["code"]
    path = tmp_path / "people_helped.csv"
    path.write_text("code,people\n" + "".join(f"{c},{i + 1}\n" for i, c in enumerate(lsoa)) + "E01999999,3\n"
                    f"{lsoa.iloc[0]},*\n{HOSTILE_CODE},4\n", encoding="utf-8")
    page.goto(user_app.url + "/your_areas")
    wait_ready(page, 120)
    page.get_by_role("heading", name="Your own indicators").wait_for(timeout=60000)
    page.locator("[data-testid='stMain'] [data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(path))
    wait_ready(page, 120)
    label = page.get_by_label("What it shows (its label)")
    label.wait_for(timeout=60000)
    label.fill("People helped into work")
    label.press("Enter")
    wait_ready(page, 120)
    page.get_by_text("3 rows have a problem", exact=False).first.wait_for(timeout=60000)
    rows = page.locator("[data-testid='stMain'] [data-testid='stTable']").first
    rows.wait_for(timeout=60000)
    # each problem in full words, not cut off at the column's edge
    text = rows.inner_text().replace("\u2060", "")  # md_text's invisible word joiner stops autolinks
    assert "Row in the file" in text and "not an LSOA 2021 or 2011 code in the store" in text
    assert HOSTILE_CODE.upper() in text  # as read (codes are upper-cased), not as a link or bold text
    assert rows.locator("a, img, strong").count() == 0, rows.locator("a, img, strong").evaluate_all("els => els.map(e => e.outerHTML)")
    problem = rows.get_by_text("not an LSOA 2021 or 2011 code", exact=False).first
    box, table = problem.bounding_box(), rows.bounding_box()
    assert box["x"] + box["width"] <= table["x"] + table["width"] + 1
    page.get_by_role("button", name="Save this indicator").click()
    wait_ready(page, 180)
    page.get_by_text("Saved People helped into work", exact=False).first.wait_for(timeout=120000)
    assert (tmp_path / "user" / "indicators" / "people_helped_into_work.yaml").is_file()
    page.screenshot(path=str(ARTIFACTS / "user_indicator_saved.png"), full_page=True)

    page.goto(user_app.url)  # the map explorer offers it among the indicators
    wait_ready(page, 180)

    page.get_by_text("Indicator", exact=True).first.click()
    wait_ready(page, 180)
    choose(page, "Indicator", "User indicators · People helped into work")
    wait_ready(page, 180)
    page.get_by_text("People helped into work · Wards", exact=False).first.wait_for(timeout=120000)
    codes = set(map_codes(page, timeout_s=120))
    assert set(store.table("indicators", "index_ward", [LUTON])["code"]) <= codes
    page.screenshot(path=str(ARTIFACTS / "user_indicator_mapped.png"), full_page=True)
    assert error_texts(page) == []
