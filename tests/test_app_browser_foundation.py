"""The app as a person sees it: pick Luton, see its wards on the map (headless Chromium)."""

from __future__ import annotations

import pytest

from tests.conftest import ARTIFACTS
from tests.ui import choose, error_texts, wait_for_codes, wait_ready

pytestmark = pytest.mark.browser


def test_luton_wards_on_the_map(app_server, page, store):
    page.goto(app_server.url)
    wait_ready(page)
    choose(page, "Area of interest", "Luton (district)")
    wait_ready(page)
    page.get_by_text("Wards (2024)", exact=True).first.click()
    wait_ready(page)
    expected = set(store.boundaries("ward", ["E06000032"])["code"])
    assert wait_for_codes(page, expected) == expected
    assert page.get_by_role("heading", name="Luton").count() >= 1
    assert error_texts(page) == []
    page.screenshot(path=str(ARTIFACTS / "foundation_luton_wards.png"))
