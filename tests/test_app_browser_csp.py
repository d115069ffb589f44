"""The Content-Security-Policy that SECURITY.md recommends for the proxy keeps the app working.

Streamlit cannot send headers itself, so the test adds them the way a proxy
would: every document the app serves gets the policy from SECURITY.md (the
map's frame under /component/ its own). The explorer's map and the hub
planner's chart must draw with no policy violation.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, ROOT
from tests.ui import click_until, map_codes, selected_codes, wait_ready

pytestmark = pytest.mark.browser
SOUTH_MIDLANDS = ["E06000055", "E06000056", "E06000032", "E06000042", "E06000061", "E06000062"]


def documented_policies() -> dict[str, str]:
    """{"page": ..., "component": ...} from the fenced block in SECURITY.md."""
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    found = re.findall(r"^\s*Content-Security-Policy: (.+)$", text, flags=re.M)
    assert len(found) == 2, "SECURITY.md should give one policy for the pages and one for /component/"
    return {"page": found[0].strip(), "component": found[1].strip()}


def streamlit_inline_script_hash() -> str:
    import streamlit

    page = (Path(streamlit.__file__).parent / "static" / "index.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", page, flags=re.S)
    assert len(scripts) == 1
    return "sha256-" + base64.b64encode(hashlib.sha256(scripts[0].encode("utf-8")).digest()).decode("ascii")


def test_the_documented_hash_is_streamlits_inline_script():
    wanted = streamlit_inline_script_hash()
    assert f"'{wanted}'" in documented_policies()["page"], f"update SECURITY.md's policy to '{wanted}'"


def fetch_retrying(route, attempts: int = 3):
    """route.fetch(), tried again when the connection is reset.

    Playwright's own HTTP client reuses kept-alive connections, and Tornado may close an idle
    one just as it is reused (ECONNRESET, seen once on a busy CI run); a browser retries
    such a request itself, so the test does too.
    """
    from playwright.sync_api import Error as PlaywrightError

    for attempt in range(attempts):
        try:
            return route.fetch()
        except PlaywrightError as error:
            if "ECONNRESET" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.5)


@pytest.fixture(scope="module")
def csp_page(browser):
    """A page whose documents all carry the documented policy; yields (page, violations)."""
    from tests.apprunner import CHROMIUM, CHROMIUM_ARGS

    policies = documented_policies()
    # a response the test fulfils loses its "local network" origin, and Chromium would then block the
    # page's websocket to 127.0.0.1; a real proxy serves the page from the same address as the socket
    args = CHROMIUM_ARGS + ["--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests"]
    own = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=args)  # the session's Playwright
    context = own.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

    def add_policy(route, request):
        if request.resource_type != "document":
            return route.continue_()
        response = fetch_retrying(route)
        headers = dict(response.headers)
        headers["content-security-policy"] = policies["component" if "/component/" in request.url else "page"]
        route.fulfill(response=response, headers=headers)

    context.route("**/*", add_policy)
    yield page, violations
    own.close()


def test_explorer_map_draws_under_the_policy(app_server, csp_page, store):
    page, violations = csp_page
    page.goto(app_server.url)
    page.get_by_text("South Midlands").first.wait_for(timeout=180000)
    wait_ready(page)
    expected = set(store.boundaries("ward", SOUTH_MIDLANDS)["code"])
    assert set(map_codes(page, timeout_s=60)) == expected
    page.screenshot(path=str(ARTIFACTS / "csp_explorer.png"))
    assert violations == []


def test_a_clicked_area_is_outlined_under_the_policy(app_server, csp_page, store):
    page, violations = csp_page
    page.goto(app_server.url + "/?area=Luton")
    page.get_by_text("Luton").first.wait_for(timeout=180000)
    wait_ready(page)
    biscot = store.boundaries("ward", ["E06000032"]).set_index("name").loc["Biscot", "code"]
    map_codes(page, timeout_s=60)
    click_until(page, biscot, page.get_by_role("heading", name="Biscot"))
    wait_ready(page)
    deadline = time.time() + 30
    while selected_codes(page) != [biscot] and time.time() < deadline:
        time.sleep(0.25)
    assert selected_codes(page) == [biscot]  # the outline is added to the drawn map with eval
    assert violations == []


def test_hub_planner_chart_draws_under_the_policy(app_server, csp_page):
    page, violations = csp_page
    page.goto(app_server.url + "/hubs")
    page.get_by_text("What each added site brings").first.wait_for(timeout=180000)
    wait_ready(page)
    chart = page.locator("[data-testid='stVegaLiteChart']").first
    chart.locator("canvas, svg").first.wait_for(timeout=30000)
    assert map_codes(page, timeout_s=60)
    page.screenshot(path=str(ARTIFACTS / "csp_hubs.png"))
    assert violations == []
