"""`python cli.py serve`: the app, with the store and England's tables loaded in the background at start.

`streamlit run app.py` loads them when the first visitor arrives, so the first
map of a fresh server waits for them. Here a thread loads them while the server
starts, into the same process-wide caches every session reads
(:mod:`app_pages.cache`), and says "ready" on stderr when they are in memory.
A visitor who arrives before that waits for the same load, never a second one.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THREAD = "wardscope-warm"
READY = "Wardscope is ready"
#: Environment variables that name files: made absolute before the server runs from the project folder.
PATH_VARIABLES = ("WARDSCOPE_DATA", "WARDSCOPE_USER", "WARDSCOPE_MIRROR", "WARDSCOPE_GTFS", "WARDSCOPE_NETWORK_PBF")
#: What the first page (Map explorer, priority layer) imports and what those imports cost: loaded up front.
#: No module that declares a Streamlit component (streamlit_folium, app_pages.maps and what imports it):
#: a component declared outside a session is never registered, and its iframe would stay blank.
WARM_MODULES = ("geopandas", "folium", "branca", "mapclassify", "geo.webmap", "geo.place_search",
                "layers.mapview", "layers.mapclasses", "layers.scoring", "layers.profiles", "layers.robustness",
                "layers.comparators", "tasks.boundaries", "tasks.score", "tasks.indicators", "tasks.neighbourhoods")


def warm(levels=("ward", "lsoa"), say=None) -> float | None:
    """Load the store, the registry and England's indicator table at each of ``levels`` into the shared caches.

    Returns the seconds it took, or None when no store is installed (the app then shows its install page).
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
    except Exception as exc:  # noqa: BLE001  a damaged store: the app itself shows the one-line message
        say(f"{READY} (the store could not be loaded: {exc})")
        return None
    if store is None:
        say(f"{READY} (no store installed: the app shows how to install one)")
        return None
    cache.registry()
    for level in levels:
        cache.national_table(cache.key(), level)
    for name in WARM_MODULES:
        importlib.import_module(name)
    seconds = time.monotonic() - t0
    say(f"{READY}: store {store.generation} and England's tables loaded in {seconds:.1f} s")
    return seconds


def _warm_when_running() -> None:
    from streamlit.runtime import Runtime

    # Page caches are declared on import of app_pages.cache; declared before the runtime exists they would
    # check themselves against a stand-in storage (and say so in the log).
    deadline = time.monotonic() + 60
    while not Runtime.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    warm()


def serve(port: int | None = None, address: str | None = None, extra: list[str] = ()) -> int:
    """Run the Streamlit server for app.py in this process, warming the caches in a background thread."""
    for name in PATH_VARIABLES:
        if os.environ.get(name):
            os.environ[name] = str(Path(os.environ[name]).expanduser().resolve())
    os.chdir(ROOT)  # Streamlit reads .streamlit/config.toml from the working folder
    sys.path.insert(0, str(ROOT))
    threading.Thread(target=_warm_when_running, name=THREAD, daemon=True).start()

    from streamlit.web import cli as stcli

    args = ["run", str(ROOT / "app.py")]
    if port:
        args += ["--server.port", str(port)]
    if address:
        args += ["--server.address", address]
    try:
        stcli.main(args=[*args, *extra], prog_name="streamlit", standalone_mode=False)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
