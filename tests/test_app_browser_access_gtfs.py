"""The Transport access page on the timetable engine (the server's GTFS feed around Chester), in headless
Chromium: the page shows the same whole minutes as ``cli.py access --engine gtfs`` does."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ARTIFACTS, GTFS_CHESTER
from tests.test_app_browser_pages import feature_props
from tests.test_travel_gtfs_real import SITES
from tests.ui import SIDEBAR_UPLOAD, choose, error_texts, map_codes, upload_sites, wait_ready

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
CHESTER = "E06000050"


@pytest.fixture(scope="module")
def sites_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("sites") / "chester_sites.csv"
    path.write_text("name,longitude,latitude\n" + "".join(f"{n},{x},{y}\n" for n, (x, y) in SITES.items()))
    return path


@pytest.fixture(scope="module")
def cli_minutes(sites_file, mirror):
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "access", "--engine", "gtfs", "--gtfs",
                          str(mirror / "transport" / GTFS_CHESTER.name),
                          "--sites", str(sites_file), "--area", "Cheshire West and Chester", "--level", "lsoa",
                          "--mode", "bus", "--format", "csv"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return pd.read_csv(io.StringIO(out.stdout)).set_index("code")


def catchment_rows(page, timeout_s: float = 60) -> list[list[str]]:
    """The visible rows (Code, Area, District, Minutes) of the catchment table, the one whose cells are codes."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        for grid in page.locator("[data-testid='stDataFrame']").all():
            cells = grid.locator("td").all_text_contents()
            if cells and cells[0].startswith("E01") and len(cells) % 4 == 0:
                return [cells[i:i + 4] for i in range(0, len(cells), 4)]
        time.sleep(0.3)
    return []


def open_with_sites(page, app, sites_file) -> None:
    """The access page for Cheshire West and Chester's LSOAs with the Chester sites uploaded, engine timetable."""
    page.goto(app.url + "/access")
    page.get_by_text("Transport access: South Midlands").first.wait_for(timeout=180000)
    wait_ready(page)
    choose(page, "Area of interest", "Cheshire West and Chester (district)")
    wait_ready(page)
    page.get_by_text("LSOAs (2021)", exact=True).first.click()
    wait_ready(page)
    upload_sites(page, sites_file, len(SITES))
    page.locator("[data-testid='stSidebar']").get_by_text("timetable (GTFS)", exact=True).first.click()
    wait_ready(page, 180)


def method_notes(page):
    """The access page's notes on how the times were worked out, opened (they are folded away)."""
    wait_ready(page, 180)
    panel = page.locator("[data-testid='stExpander']").filter(has_text="How these times were worked out").first
    panel.wait_for(timeout=180000)
    if panel.locator("li").first.is_hidden():
        panel.locator("summary").first.click()
    return panel


def test_timetable_minutes_on_the_page_match_the_cli(gtfs_app, page, store, sites_file, cli_minutes):
    open_with_sites(page, gtfs_app, sites_file)
    page.get_by_text("Timetable: the server's feed").first.wait_for(timeout=60000)
    method_notes(page).get_by_text("each time is the middle (median) journey over those departures", exact=False).first.wait_for(
        timeout=60000)
    wait_ready(page)

    # every LSOA's tooltip: the nearest site by name, whole minutes as the CLI's, the quartiles beside them
    expected = set(store.boundaries("lsoa", [CHESTER])["code"])
    codes = set(map_codes(page, timeout_s=60))
    assert codes == expected
    props = feature_props(page)
    names = set(SITES)
    checked = 0
    for code in sorted(expected):
        minutes, shown = cli_minutes.loc[code, "access_bus_nearest_min"], props[code]["shown"]
        if pd.isna(minutes):
            assert shown == "no site reachable", (code, shown)
            continue
        site = cli_minutes.loc[code, "access_bus_nearest_site_name"]
        assert shown.startswith(f"{np.round(minutes):.0f} min") and shown.endswith(f" to {site}"), (code, shown, minutes)
        assert site in names
        low, high = cli_minutes.loc[code, ["access_bus_nearest_p25", "access_bus_nearest_p75"]]
        if " over the departures" in shown:
            assert f"({np.round(low):.0f}-{np.round(high):.0f} over the departures)" in shown
            checked += 1
        else:  # the same whole minute for every departure (e.g. walking all the way): said once
            assert f"{low:.0f}" == f"{high:.0f}", (code, shown, low, high)
    assert checked > 20

    # the catchment table (Chester Town Hall, the first site) shows the CLI's minutes, whole
    rows = catchment_rows(page)
    assert len(rows) >= 4
    for code, _, district, minutes in rows:
        cli = cli_minutes.loc[code, "access_bus_min__chester_town_hall"]
        assert district == "Cheshire West and Chester" and minutes == f"{np.round(cli):.0f}", (code, minutes, cli)

    main = page.locator("[data-testid='stMain']").inner_text()
    assert "Measured to the 4 sites in this session: Chester Town Hall" in main
    assert "DfT measured the average time to the nearest of its own employment centres" in main
    assert error_texts(page) == []
    page.screenshot(path=str(ARTIFACTS / "access_gtfs_chester.png"))
    for name, heading in (("dft", "Beside DfT's district average"), ("gaps", "Priority areas with the worst access"),
                          ("catchment", "One site's catchment")):
        page.get_by_text(heading).first.scroll_into_view_if_needed()
        time.sleep(0.5)
        page.screenshot(path=str(ARTIFACTS / f"access_gtfs_chester_{name}.png"))


def test_an_uploaded_feed_goes_through_the_gate_and_gives_the_same_minutes(private_app, page, store, sites_file,
                                                                           cli_minutes, mirror, tmp_path):
    open_with_sites(page, private_app, sites_file)
    page.get_by_text("The timetable engine needs a GTFS feed", exact=False).first.wait_for(timeout=60000)
    page.locator(SIDEBAR_UPLOAD).nth(1).set_input_files(str(mirror / "transport" / GTFS_CHESTER.name))
    wait_ready(page, 180)
    page.get_by_text(f"{GTFS_CHESTER.name}: accepted").first.wait_for(timeout=120000)
    method_notes(page).get_by_text("each time is the middle (median) journey over those departures", exact=False).first.wait_for(
        timeout=60000)
    wait_ready(page)
    props = feature_props(page)
    reached = cli_minutes["access_bus_nearest_min"].dropna()
    for code in reached.index[:40]:
        assert props[code]["shown"].startswith(f"{np.round(reached[code]):.0f} min"), (code, props[code]["shown"])
    # a file that is not a timetable is refused with one line, and nothing is measured
    bad = tmp_path / "not_a_feed.zip"
    import zipfile

    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("readme.txt", "hello")
    page.locator(SIDEBAR_UPLOAD).nth(1).set_input_files(str(bad))
    wait_ready(page, 60)
    page.get_by_text("The timetable was refused", exact=False).first.wait_for(timeout=30000)
    page.screenshot(path=str(ARTIFACTS / "access_gtfs_refused.png"))
    errors = error_texts(page)
    assert len(errors) == 1 and "The timetable was refused, so nothing is measured: not_a_feed.zip" in errors[0], errors
    assert page.locator("[data-testid='stMain'] iframe").count() == 0
