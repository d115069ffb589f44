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


def test_explorer_lists_the_top_priorities_and_links_to_the_full_ranking(store):
    """The map's page keeps a short plain table (quick to open); the grid, CSV and exports are on Priority scoring."""
    import html

    from layers.profiles import load_profile
    from layers.scoring import score_area

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    assert not at.exception, [e.message for e in at.exception]
    assert [s.value for s in at.subheader] == ["Highest priority wards in South Midlands"]
    table = next(h.proto.body for h in at.get("html") if "class=\"ws-top\"" in h.proto.body)
    scored = score_area(load_profile("neighbourhood"), "South Midlands", level="ward", store=store).areas
    top = scored[scored["rank"].notna()].sort_values("rank").head(10)
    rows = re.findall(r"<tr><td class=\"n\">(\d+)</td><td>([^<]*)</td>", table)
    assert [(int(r), html.unescape(n)) for r, n in rows] == list(zip(top["rank"].astype(int), top["name"]))
    assert not at.dataframe  # no data grid on the map's page
    link = next(e for e in at.main if type(e).__name__ == "PageLink")
    assert link.proto.label == "The full ranking, how robust it is, and priority-area exports"
    assert link.proto.page.endswith("scoring")


def test_top_list_shows_every_hostile_name_as_text():
    import html as html_lib

    import pandas as pd

    from app_pages.details import top_areas_html
    from tests.hostile_text import HOSTILE

    names = list(HOSTILE)
    frame = pd.DataFrame({"rank": [float(i + 1) for i in range(len(names))], "name": names,
                          "lad_name": names[::-1], "score": [59.84] * len(names), "band": ["top 10%"] * len(names)})
    html = top_areas_html(frame, [[n, "Health"] for n in names])
    cells = re.findall(r"<td(?: class=\"n\")?>([^<]*)</td>", html)
    assert len(cells) == 6 * len(names)  # no name opened or closed a tag
    for i, name in enumerate(names):
        row = [html_lib.unescape(c) for c in cells[6 * i:6 * i + 6]]
        assert row[1] == name and row[2] == names[::-1][i] and row[5] == f"{name}, Health" and row[3] == "59.8"


def _shown_text(at) -> str:
    """Every text a user of the page can read in the AppTest tree (markdown, captions, notes, widget labels
    and options)."""
    parts = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "success") for e in at.get(kind)]
    parts += [e.proto.body for e in at.get("html")]
    for kind in ("selectbox", "radio", "multiselect"):
        for w in at.get(kind):
            parts += [w.label, *map(str, w.options)]
    parts += [s.label for s in at.slider]
    return "\n".join(map(str, parts)).replace("\\", "")  # as shown: markdown escapes undone


@pytest.mark.parametrize("page", [p for p in PAGES if not p.endswith("about.py")])
def test_pages_show_no_install_commands_or_indicator_ids(store, page):
    # Councillors and place teams cannot run commands: what is missing points to About and sources, which
    # keeps the commands for administrators, and no remedy names a command-line flag. A weight of 0 is named
    # by its label, not its id.
    from layers.indicators import available

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page(page).run()
    if page.endswith("scoring.py"):
        next(s for s in at.slider if s.label.startswith("Economically inactive")).set_value(0.0).run()
    if page.endswith("explorer.py"):
        at.radio(key="explorer_show").set_value("Indicator").run()
    assert not at.exception, [e.message for e in at.exception]
    text = _shown_text(at)
    assert "cli.py" not in text and not re.search(r"(?<![\w-])--[a-z]", text), re.findall(r"--[a-z][\w-]*", text)
    assert "(s)" not in text, re.findall(r"\w+\(s\)", text)  # "1 site", "5 sites"
    assert not re.search(r"\b(census21|claimant|iod2025|aps)_[a-z0-9_]+\b", text), re.findall(
        r"\b(?:census21|claimant|iod2025|aps)_[a-z0-9_]+\b", text)
    if page.endswith("scoring.py"):
        assert "Economically inactive (% of residents aged 16+) has weight 0 and does not affect the score" in text
    if page.endswith("hubs.py") and "claimant_count" not in set(available("lsoa", store=store)):
        weighted = next(w for w in at.selectbox if w.label == "Weighted by")
        assert "Claimants" not in weighted.options
        assert "Not installed on this server, so not offered: Claimants; whoever runs Wardscope can add it" in text
