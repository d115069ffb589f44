"""`python cli.py serve`: the caches are warmed before the first visitor, and nothing warmed breaks a page.

The browser tests all run against `cli.py serve` (tests/apprunner.py), so every page is checked on it;
these tests pin the two things that are easy to break without noticing.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


def test_warming_imports_no_module_that_declares_a_streamlit_component():
    # A component declared outside a session is never registered: its iframe stays blank for every visitor.
    code = ("import importlib, sys; from app_pages.server import WARM_MODULES; import app_pages.cache; "
            "[importlib.import_module(m) for m in WARM_MODULES]; "
            "bad = [m for m in sys.modules if m.startswith('streamlit_folium') or m in ('app_pages.maps', "
            "'app_pages.place_finder', 'app_pages.details', 'app_pages.access')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_the_store_and_englands_tables_are_kept_out_of_the_post_run_garbage_collection(store):
    # Streamlit collects garbage after every page run (runner.postScriptGC); walking the store and England's
    # tables took 0.1-0.25 s a run. Once loaded they are frozen: the collector no longer walks them.
    code = ("import gc, logging; logging.disable(logging.WARNING); from app_pages import cache; "
            "store = cache.get_store(); table = cache.national_table(cache.key(), 'ward'); "
            "walked = gc.get_objects(); ids = {id(o) for o in walked}; "
            "print(len(walked), gc.get_freeze_count(), id(store) in ids, id(table) in ids, "
            "id(table._mgr) in ids)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    walked, frozen, store_walked, table_walked, column_walked = out.stdout.split()
    assert (store_walked, table_walked, column_walked) == ("False", "False", "False"), out.stdout
    assert int(frozen) > 10 * int(walked), out.stdout
    config = (ROOT / ".streamlit" / "config.toml").read_text()
    assert "postScriptGC = true" in config  # memory stays flat: the collection stays on, and is cheap


def test_what_the_warm_up_imported_and_drew_is_frozen_too(store):
    # The modules the warm-up imports (folium, geopandas...) and its opening maps live as long as the server;
    # left in the collector's reach they made every page run's collection walk them (44-99 ms a run).
    code = ("import gc, logging; logging.disable(logging.WARNING); from app_pages import server; "
            "server.warm(say=lambda text: None); import folium, mapclassify; "
            "walked = gc.get_objects(); ids = {id(o) for o in walked}; "
            "print(len(walked), gc.get_freeze_count(), id(vars(folium)) in ids, id(vars(mapclassify)) in ids)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    walked, frozen, folium_walked, mapclassify_walked = out.stdout.split()
    assert (folium_walked, mapclassify_walked) == ("False", "False"), out.stdout
    assert int(walked) < 10_000 < int(frozen), out.stdout


def test_the_server_says_ready_once_the_store_englands_tables_and_the_opening_maps_are_loaded(store):
    from tests.apprunner import AppServer

    server = AppServer()
    try:
        log = server.log_path.read_text()
        assert (f"Wardscope is ready: store {store.generation} and England's tables loaded, the opening maps of "
                "South Midlands and England drawn, in " in log), log
        assert "Traceback" not in log and "missing ScriptRunContext" not in log and "No runtime found" not in log
    finally:
        server.stop()


def test_serve_without_a_store_still_says_ready_and_the_app_shows_the_install_page(tmp_path):
    from tests.apprunner import AppServer

    server = AppServer(env={"WARDSCOPE_DATA": str(tmp_path / "empty")})
    try:
        assert "Wardscope is ready (no store installed: the app shows how to install one)" in server.log_path.read_text()
    finally:
        server.stop()


def test_a_failure_while_warming_is_said_and_never_kills_the_server_silently(monkeypatch):
    from app_pages import cache, server

    def broken():
        raise OSError("disk unplugged")

    monkeypatch.setattr(cache, "get_store", broken)
    said = []
    assert server.warm(say=said.append) is None
    assert said == [f"{server.READY} (nothing was loaded in advance: OSError: disk unplugged; the first visitor loads it)"]


def test_warming_draws_the_opening_maps_so_the_first_visitor_reuses_their_scores_and_geometry(store, monkeypatch):
    from app_pages import server
    from app_pages.state import DEFAULT_AREA
    from geo import webmap
    from geo.areas import resolve_area
    from tasks import score

    webmap._GEOMETRY_CACHE.clear()  # nothing left from earlier tests in this process
    assert server.warm(levels=("ward",), say=lambda text: None) is not None
    encoded = set(webmap._GEOMETRY_CACHE.keys())
    assert len(encoded) >= 4  # wards and district outlines, for each of the two areas
    scored = []
    monkeypatch.setattr(score, "run", lambda *a, **k: scored.append(a) or pytest.fail("scored again"))
    for name in (DEFAULT_AREA, "England"):  # as the Map explorer draws them, with the default choices
        area = resolve_area(name, store.districts())
        server.opening_map(store, area)
    assert set(webmap._GEOMETRY_CACHE.keys()) == encoded and scored == []  # nothing was encoded or scored again


def test_an_opening_map_that_cannot_be_drawn_is_said_and_the_store_is_still_ready(monkeypatch):
    from app_pages import server

    def broken(store, area):
        if area.name == "England":
            raise MemoryError("out of memory")

    monkeypatch.setattr(server, "opening_map", broken)
    said = []
    assert server.warm(levels=("ward",), say=said.append) is not None
    assert said[0].startswith(f"{server.READY}: store ") and (
        "the opening maps of South Midlands drawn (not drawn: England (MemoryError: out of memory))" in said[0]), said
