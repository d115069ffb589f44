"""Every page runs on the real store without an exception (Streamlit AppTest: fast, no browser)."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

#: Every page app.py navigates to (a new page is tested here without editing this file).
PAGES = re.findall(r'st\.Page\("(app_pages/\w+\.py)"', (ROOT / "app.py").read_text(encoding="utf-8"))
assert len(PAGES) >= 6


@pytest.mark.parametrize("page", PAGES)
def test_page_runs(store, page):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title, "every page has a title"


def test_scoring_page_weights_change_the_ranking(store):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page("app_pages/scoring.py").run()
    before = list(at.dataframe[0].value["Area"])
    next(s for s in at.slider if s.label.startswith("Unemployed")).set_value(5.0).run()
    next(s for s in at.slider if s.label.startswith("Economically inactive")).set_value(0.0).run()
    caption = " ".join(c.value for c in at.caption)
    assert "Unemployed 5" in caption and "Economically inactive 0" in caption
    assert list(at.dataframe[0].value["Area"]) != before  # the ranking follows the weights


def test_access_page_notes_read_once_with_the_method_folded_away(store):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page("app_pages/access.py").run()
    assert not at.exception, [e.message for e in at.exception]
    captions = [c.value for c in at.caption]
    assert not [c for c in captions if "- area: South Midlands" in c]
    folded = [e for e in at.expander if e.label == "How these times were worked out"]
    assert len(folded) == 1
    method = " ".join(c.value for c in folded[0].caption).replace("\\", "")  # as shown: markdown escapes undone
    assert "bus and walk: estimate" in method and "- bus: estimate" not in method, method
