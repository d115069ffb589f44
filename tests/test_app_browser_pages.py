"""Transport access, hub planner and exports as a person uses them, in headless Chromium."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pyogrio
import pytest

from tests.conftest import ARTIFACTS
from tests.ui import error_texts, map_codes, wait_for_codes, wait_ready

pytestmark = pytest.mark.browser
SOUTH_MIDLANDS = ["E06000055", "E06000056", "E06000032", "E06000042", "E06000061", "E06000062"]


def feature_props(page, index: int = 0) -> dict[str, dict]:
    from tests.ui import map_frame

    frame = map_frame(page, index)
    return {p["code"]: p for p in frame.evaluate(
        "() => Object.values(window.map._layers).filter(l => l.feature && l.feature.properties.code)"
        ".map(l => l.feature.properties)")}


def download(page, label: str, folder, attempts: int = 3):
    """Click a download button and save the file (a rerun can renew the link under a click: try again)."""
    for attempt in range(attempts):
        try:
            with page.expect_download(timeout=30000) as info:
                page.get_by_role("button", name=label).first.click()
            path = folder / info.value.suggested_filename
            info.value.save_as(path)
            return path
        except Exception:
            if attempt == attempts - 1:
                raise
            page.reload()  # a fresh page gets fresh download links
            wait_ready(page)
            map_codes(page)
            wait_ready(page)


def test_access_page_shows_bus_minutes_for_every_lsoa_and_the_gaps(app_server, page, store):
    from tasks import access
    from tasks.inputs import SitesInput, area_of

    page.goto(app_server.url + "/access")
    wait_ready(page)
    page.get_by_text("LSOAs (2021)", exact=True).first.click()
    wait_ready(page)
    expected = set(store.boundaries("lsoa", SOUTH_MIDLANDS)["code"])
    assert wait_for_codes(page, expected) == expected
    props = feature_props(page)
    request = access.AccessRequest(area_of("South Midlands", store), SitesInput.from_file("sample", store), ("bus",))
    cli = access.run(request, store).data.set_index("code")
    districts = store.boundaries("lsoa", SOUTH_MIDLANDS).set_index("code")["lad_name"]
    for code in list(expected)[:200]:
        minutes = cli.loc[code, "access_bus_nearest_min"]
        shown = props[code]["shown"]
        assert " min to " in shown and abs(float(shown.split(" min")[0]) - minutes) <= 0.51, (code, shown, minutes)
        assert props[code]["lad_name"] == districts[code]  # sent once per district, decoded in the browser
    assert page.get_by_text("Priority areas with the worst access by bus").first.is_visible()
    assert page.get_by_text("Access gap", exact=False).count() >= 1
    assert error_texts(page) == []
    page.screenshot(path=str(ARTIFACTS / "access_south_midlands_bus.png"))


def test_hub_planner_best_five_sites_with_existing_hubs_and_export(app_server, page, store, tmp_path):
    from app_pages.requests import hubs_request
    from geo.areas import resolve_area
    from geo.employment_sites import sites_from_frame
    from layers.profiles import load_profile
    from tasks import hubs as hub_task

    hubs = pd.DataFrame({"name": ["Luton Jobcentre Plus", "Northampton Library", "Bedford Family Hub"],
                         "easting": [509200, 475400, 504900], "northing": [221300, 260600, 249700],
                         "type": ["jobcentre", "library", "family hub"]})
    path = tmp_path / "hubs.csv"
    hubs.to_csv(path, index=False)
    page.goto(app_server.url + "/hubs")
    wait_ready(page)
    page.locator("[data-testid='stSidebar'] [data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(path))
    wait_ready(page)
    page.get_by_text("After the plan").first.wait_for(timeout=180000)
    wait_ready(page)
    area = resolve_area("South Midlands", store.districts())
    plan = hub_task.run(hubs_request(area, load_profile("neighbourhood"), bands=("top 10%", "top 20%"), weight="population",
                                     existing=sites_from_frame(hubs.astype(str)), generated=("stations",), own=None,
                                     mode="bus", minutes=30, model="mclp", k=5), store).data
    before, after = plan.coverage.summary["covered_pct"], plan.result.after.summary["covered_pct"]
    assert before > 0 and after > before
    # the page first shows the plan without the uploaded hubs; wait for the one with them
    page.get_by_text(f"{after:.1f}%").first.wait_for(timeout=180000)
    page.get_by_text(f"{before:.1f}%").first.wait_for(timeout=30000)
    page.get_by_text("What each added site brings").first.wait_for(timeout=30000)  # drawn after the figures
    sentence = next(t for t in plan.statements() if t.startswith("the best 5"))
    assert page.get_by_text(sentence[:60], exact=False).count() >= 1
    page.screenshot(path=str(ARTIFACTS / "hubs_south_midlands_best5.png"))
    gpkg = download(page, "GeoPackage", tmp_path)
    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    assert {"areas", "hubs"} <= layers
    assert len(pyogrio.read_dataframe(gpkg, layer="hubs")) >= 3 + 5
    assert error_texts(page) == []


def test_priority_wards_export_in_all_four_formats_from_the_app(app_server, page, store, tmp_path):
    from layers.profiles import load_profile
    from layers.scoring import score_area

    page.goto(app_server.url + "/scoring")
    wait_ready(page)
    scored = score_area(load_profile("neighbourhood"), "South Midlands", level="ward", store=store)
    expected = set(scored.areas.loc[scored.areas["band"].isin(["top 10%", "top 20%"]), "code"])
    map_codes(page)  # the map has mounted (its first message reruns the page, renewing download links)
    wait_ready(page)
    got = {}
    for label in ("GeoPackage", "Shapefile (zip)", "GeoJSON", "CSV (Excel)"):
        got[label] = download(page, label, tmp_path)
    assert set(pyogrio.read_dataframe(got["GeoPackage"], layer="areas")["Ward code (GSS)"]) == expected  # labels
    shp = pyogrio.read_dataframe(f"/vsizip/{got['Shapefile (zip)']}/areas.shp")
    assert set(shp["code"]) == expected and shp.crs.to_epsg() == 27700
    with zipfile.ZipFile(got["GeoJSON"]) as z:
        name = next(n for n in z.namelist() if n.endswith(".geojson"))
        gj = pyogrio.read_dataframe(io.BytesIO(z.read(name)))
        assert set(gj["Ward code (GSS)"]) == expected and gj.crs.to_epsg() == 4326
        assert any(n.endswith("methodology.json") for n in z.namelist())
    with zipfile.ZipFile(got["CSV (Excel)"]) as z:
        name = next(n for n in z.namelist() if n.endswith(".csv"))
        table = pd.read_csv(io.BytesIO(z.read(name)), encoding="utf-8-sig")
        assert set(table["Ward code (GSS)"]) == expected and "District name (LAD 2024)" in table.columns
    assert error_texts(page) == []
