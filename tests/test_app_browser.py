"""The app as a new user sees it, in headless Chromium: South Midlands, layers, weights, a Luton ward profile."""

from __future__ import annotations

import pytest

from layers.profiles import load_profile
from layers.scoring import score_area
from tests.conftest import ARTIFACTS
from tests.ui import (choose, click_until, error_texts, map_codes, map_fills, slider, table_cells, wait_for_codes,
                      wait_for_map_change, wait_for_table_change, wait_ready)

pytestmark = pytest.mark.browser
SOUTH_MIDLANDS = {"E06000055", "E06000056", "E06000032", "E06000042", "E06000061", "E06000062"}


def test_explorer_shows_south_midlands_wards_and_switches_layer(app_server, page, store):
    page.goto(app_server.url)
    wait_ready(page)
    expected = set(store.boundaries("ward", SOUTH_MIDLANDS)["code"])
    assert set(map_codes(page)) == expected
    assert page.get_by_text("Neighbourhood-level priority: score").first.is_visible()
    before = map_fills(page)
    assert len(set(before.values())) >= 4  # a real choropleth, not one colour
    page.screenshot(path=str(ARTIFACTS / "explorer_south_midlands_priority.png"))
    page.get_by_text("Indicator", exact=True).first.click()
    wait_ready(page)
    choose(page, "Indicator", "Economic activity · Economically inactive (% of residents aged 16+)")
    wait_ready(page)
    after = wait_for_map_change(page, before)
    assert set(after) == expected and after != before
    # the caveat sits next to the legend: 16+ inactivity includes retired people
    assert page.get_by_text("retired", exact=False).first.is_visible()
    assert error_texts(page) == []
    page.screenshot(path=str(ARTIFACTS / "explorer_inactivity.png"))


def test_weight_slider_updates_map_and_ranking(app_server, page):
    page.goto(app_server.url + "/scoring")
    wait_ready(page)
    before = map_fills(page)
    table_before = table_cells(page)
    top = score_area(load_profile("neighbourhood"), "South Midlands", level="ward").areas.sort_values("rank").iloc[0]
    assert table_before[:2] == ["1", top["name"]]
    thumb = slider(page, "Unemployed")
    thumb.focus()
    page.keyboard.press("End")  # weight 5: unemployment dominates
    wait_ready(page)
    after = wait_for_map_change(page, before)
    assert after != before
    assert wait_for_table_change(page, table_before) != table_before
    assert page.get_by_text("Unemployed 5").first.is_visible()  # the caption states the weights used
    assert error_texts(page) == []
    page.screenshot(path=str(ARTIFACTS / "scoring_after_slider.png"))


def test_click_a_luton_ward_open_its_profile_and_download_pdf(app_server, page, store):
    page.goto(app_server.url)
    wait_ready(page)
    codes = map_codes(page)
    biscot = store.boundaries("ward", ["E06000032"]).set_index("name").loc["Biscot", "code"]
    assert biscot in codes
    click_until(page, biscot, page.get_by_role("button", name="Open ward profile"))
    assert page.get_by_text("Biscot").first.is_visible()
    page.get_by_role("button", name="Open ward profile").click()
    wait_ready(page)
    page.get_by_role("heading", name="Biscot ward profile").wait_for(timeout=30000)
    page.get_by_role("button", name="Download profile (PDF)").wait_for(timeout=30000)
    wait_ready(page)
    # the ward map, the indicator chart (and the trend when there is one) are images: every one arrives and draws
    images = page.locator("[data-testid='stImage'] img, [data-testid='stFullScreenFrame'] img")
    images.first.wait_for(timeout=30000)
    page.wait_for_function("() => [...document.querySelectorAll('img')].filter(i => i.closest(\"[data-testid='stMain']\"))"
                           ".every(i => i.complete && i.naturalWidth > 0)", timeout=30000)
    assert images.count() >= 2
    page.screenshot(path=str(ARTIFACTS / "ward_profile_biscot.png"))
    assert page.get_by_text("Neighbourhood-level priority", exact=False).count() >= 1
    with page.expect_download(timeout=30000) as info:
        page.get_by_role("button", name="Download profile (PDF)").click()
    path = info.value.path()
    data = open(path, "rb").read()
    assert data[:5] == b"%PDF-" and len(data) > 20000
    assert info.value.suggested_filename == f"ward-profile-{biscot}.pdf"
    assert error_texts(page) == []


def test_the_councillor_pack_is_made_in_the_background_while_the_visitor_uses_another_page(app_server, page, store):
    import zipfile

    scilly = set(store.boundaries("ward", ["E06000053"])["code"])
    page.goto(f"{app_server.url}/ward_profile?area=Isles%20of%20Scilly")
    wait_ready(page)
    page.get_by_role("button", name=f"Make the pack ({len(scilly)} wards)").click()
    page.get_by_text(f"of {len(scilly)}:").first.wait_for(timeout=60000)  # the progress bar, updating itself
    page.screenshot(path=str(ARTIFACTS / "ward_profile_pack_progress.png"))
    assert page.get_by_role("button", name=f"Make the pack ({len(scilly)} wards)").count() == 0
    page.get_by_role("link", name="Map explorer").first.click()  # the app stays usable while the pack is made
    wait_for_codes(page, scilly, timeout_s=120)
    page.get_by_role("link", name="Ward profile").first.click()
    button = page.get_by_role("button", name=f"Download the councillor pack ({len(scilly)} wards, zip)")
    button.wait_for(timeout=240000)
    with page.expect_download(timeout=60000) as info:
        button.click()
    with zipfile.ZipFile(info.value.path()) as made:
        assert len(made.namelist()) == len(scilly) + 1 and "00-contents.pdf" in made.namelist()
    assert error_texts(page) == []


def test_a_pack_goes_on_while_the_visitor_is_on_another_page_and_area_until_stopped(app_server, page, store):
    # Wiltshire: 98 wards, about 3 minutes of pack, so it is still being made when the visitor is back
    wiltshire = store.districts().set_index("name").loc["Wiltshire", "code"]
    wards = store.boundaries("ward", [wiltshire])
    page.goto(f"{app_server.url}/ward_profile?area=Wiltshire")
    wait_ready(page)
    page.get_by_role("button", name=f"Make the pack ({len(wards)} wards)").click()
    page.get_by_text(f"of {len(wards)}:").first.wait_for(timeout=60000)
    page.get_by_role("link", name="Map explorer").first.click()
    wait_for_codes(page, set(wards["code"]), timeout_s=120)
    choose(page, "Area of interest", "Luton (district)")  # on another page: the pack goes on
    page.get_by_role("link", name="Ward profile").first.click()
    # still being made (about 2 s a ward): the bar is back, further on, named, with no button to start another
    page.get_by_text(f"of {len(wards)}:").first.wait_for(timeout=60000)
    other = page.get_by_text("To make the pack for Luton now, stop this one first").first
    other.wait_for(timeout=60000)
    other.scroll_into_view_if_needed()
    luton = len(store.boundaries("ward", ["E06000032"]))
    assert page.get_by_role("button", name=f"Make the pack ({luton} wards)").count() == 0
    page.screenshot(path=str(ARTIFACTS / "ward_profile_pack_other_area.png"))
    page.get_by_role("button", name="Stop making the pack").click()
    page.get_by_text("The pack for Wiltshire was stopped").first.wait_for(timeout=60000)
    page.get_by_role("button", name=f"Make the pack ({luton} wards)").wait_for(timeout=60000)
    page.screenshot(path=str(ARTIFACTS / "ward_profile_pack_stopped.png"))
    assert error_texts(page) == []
