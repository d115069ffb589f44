"""`python cli.py serve`: the app, with the store and England's tables loaded in the background at start.

`streamlit run app.py` loads them when the first visitor arrives, so the first
map of a fresh server waits for them. Here a thread loads them while the server
starts, into the same process-wide caches every session reads
(:mod:`app_pages.cache`), and says "ready" on stderr when they are in memory.
A visitor who arrives before that waits for the same load, never a second one.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THREAD = "wardscope-warm"
READY = "Wardscope is ready"
#: What the first page (Map explorer, priority layer) imports and what those imports cost: loaded up front.
#: No module that declares a Streamlit component (streamlit_folium, app_pages.maps and what imports it):
#: a component declared outside a session is never registered, and its iframe would stay blank.
WARM_MODULES = ("geopandas", "folium", "branca", "mapclassify", "geo.webmap", "geo.place_search",
                "layers.mapview", "layers.mapclasses", "layers.scoring", "layers.profiles", "layers.robustness",
                "layers.comparators", "tasks.boundaries", "tasks.score", "tasks.indicators", "tasks.neighbourhoods")


def warm(levels=("ward", "lsoa"), say=None) -> float | None:
    """Load the store, the registry and England's indicator table at each of ``levels`` into the shared caches,
    then score and draw the opening view and England (:func:`opening_map`).

    Returns the seconds it took, or None when nothing was loaded: no store is installed (the app then shows its
    install page) or loading failed (said on stderr; the first visitor loads it, as with `streamlit run`).
    """
    import importlib
    import logging

    from app_pages import cache

    # The caches are filled outside any session, which Streamlit warns about on every call; here that is intended.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: record.threadName != THREAD)

    say = say or (lambda text: print(text, file=sys.stderr, flush=True))
    t0 = time.monotonic()
    try:
        store = cache.get_store()
        if store is None:
            say(f"{READY} (no store installed: the app shows how to install one)")
            return None
        cache.registry()
        for level in levels:
            cache.national_table(cache.key(), level)
        for name in WARM_MODULES:
            importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001  the app itself shows a damaged store in one line; never a dead thread
        import traceback

        traceback.print_exc(file=sys.stderr)
        say(f"{READY} (nothing was loaded in advance: {type(exc).__name__}: {exc}; the first visitor loads it)")
        return None
    drawn = _draw_opening_views(store)
    cache.freeze_what_is_loaded()  # modules and caches: kept for the server's life, out of each run's collection
    seconds = time.monotonic() - t0
    say(f"{READY}: store {store.generation} and England's tables loaded, {drawn}, in {seconds:.1f} s")
    return seconds


def opening_map(store, area):
    """The Map explorer's opening map of ``area`` (wards, the default profile's score), through the caches a
    session's page reads: the score (:func:`app_pages.cache.scored`), the simplified geometry's JSON text
    (:func:`geo.webmap.encoded_geometry_json`) and the label points (:func:`geo.webmap.label_points`)."""
    from app_pages import cache, requests
    from app_pages.state import DEFAULT_PROFILE
    from layers.mapview import SCORE_LAYERS, folium_map, score_map
    from layers.profiles import load_profile
    from tasks import boundaries

    result = cache.scored(requests.score_request(area, "ward", load_profile(DEFAULT_PROFILE)))
    areas = boundaries.run(requests.boundaries_request(area, "ward"), store).data
    return folium_map(score_map(areas, result.data, next(iter(SCORE_LAYERS))),
                      store.table("boundaries", "lad_outline", area.lad_codes))


def _draw_opening_views(store) -> str:
    """Draw the opening area's and England's opening maps (:func:`opening_map`); says what was drawn.

    A failure here only means the first visitor draws it: the store and tables are loaded already.
    """
    from app_pages.state import DEFAULT_AREA
    from geo.areas import ENGLAND, resolve_area

    drawn, missed = [], []
    for name in (DEFAULT_AREA, ENGLAND):
        try:
            opening_map(store, resolve_area(name, store.districts()))
            drawn.append(name)
        except Exception as exc:  # noqa: BLE001  e.g. a store without the opening area's districts
            missed.append(f"{name} ({type(exc).__name__}: {exc})")
    said = f"the opening maps of {' and '.join(drawn)} drawn" if drawn else "no opening map drawn"
    return said + (f" (not drawn: {'; '.join(missed)})" if missed else "")


def _warm_when_running(wait_s: float = 120) -> None:
    from streamlit.runtime import Runtime, RuntimeState

    # Page caches are declared on import of app_pages.cache; declared before the runtime is set up they would
    # check themselves against a stand-in storage. Runtime.exists() is true from the first line of its
    # __init__, so wait for it to leave its initial state.
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if Runtime.exists() and Runtime.instance().state != RuntimeState.INITIAL:
            warm()
            return
        time.sleep(0.05)
    print(f"{READY} (the server took over {wait_s:g} s to start, so nothing was loaded in advance; "
          "the first visitor loads it)", file=sys.stderr, flush=True)


def serve(port: int | None = None, address: str | None = None) -> int:
    """Run the Streamlit server for app.py in this process, warming the caches in a background thread."""
    # Streamlit reads .streamlit/config.toml beside app.py as well as in the working folder; relative paths
    # in WARDSCOPE_* variables keep meaning the folder the command was run from.
    sys.path.insert(0, str(ROOT))
    threading.Thread(target=_warm_when_running, name=THREAD, daemon=True).start()

    import click
    from streamlit.web import cli as stcli

    args = ["run", str(ROOT / "app.py")]
    if port:
        args += ["--server.port", str(port)]
    if address:
        args += ["--server.address", address]
    try:
        stcli.main(args=args, prog_name="streamlit", standalone_mode=False)
    except click.ClickException as exc:  # a bad Streamlit option: click's own one-line message
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0
