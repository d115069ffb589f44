"""The app's caches: the store and England's indicator tables once per process, every task's result by its request.

Streamlit caches live here (never in geo/, layers/ or tasks/). The store and
the national indicator tables are loaded once per process and shared
read-only by every session (st.cache_resource). Task results are cached on
the task's frozen request (st.cache_data hashes it field by field), whose
inputs are content: the profile's YAML text, the sites' CSV text, the area's
districts. Equal keys mean equal inputs, so one session never sees another's
data. Every key also carries the store generation and the saved user
indicators' stamp, so a new install or a newly saved indicator is never
answered from old tables. Tasks are imported when first run: a page
loads only what it uses (hub models and hot-spot statistics take seconds).
"""

from __future__ import annotations

import gc
import importlib
from pathlib import Path

import pandas as pd
import streamlit as st

from geo.errors import StoreNotInstalled
from geo.store import Store


def _kept_for_the_process(value):
    """``value``, after moving everything now in memory out of the garbage collector's reach (gc.freeze).

    The store and England's tables are about 300,000 long-lived objects. Streamlit collects garbage after every
    page run; a full collection that walks them all took 0.1-0.25 s a run. gc.freeze moves *every* object alive
    at that moment, so a load made inside a visitor's page run also pins what that run holds then (its maps
    and frames). Frozen objects are still freed by reference counting; only a reference cycle among them is
    never collected. That is bounded: it happens once per load (per store generation, and per level and
    saved-indicator version for England's tables, of which a few are kept), and `cli.py serve` makes the
    first loads before any visitor.
    """
    freeze_what_is_loaded()
    return value


def freeze_what_is_loaded() -> None:
    """Collect garbage, then move every object now alive out of the collector's reach (see
    :func:`_kept_for_the_process`). `cli.py serve` calls it once more after its warm-up: the modules it imported
    and the opening maps it drew would otherwise be walked by the collection after every page run (44-99 ms
    a run, against under 5 ms once frozen, measured with gc.callbacks). Anything a visitor's run holds at
    that moment is pinned too (see :func:`_kept_for_the_process`): it happens once per server start."""
    gc.collect()
    gc.freeze()


@st.cache_resource(show_spinner="Loading the boundary store…")
def _load_store(root: str, generation_key: str) -> Store:
    # Every file is hashed against store.json once per process and generation, before any page draws
    # (geo.storecheck), so a damaged file never reaches a figure.
    store = Store(Path(root)).check_all().preload()
    if store.has("boundaries", "lad_outline"):  # every map draws district outlines over its areas
        store.load("boundaries", "lad_outline")
    return _kept_for_the_process(store)


def get_store() -> Store | None:
    """The installed store (shared by every session), or None when nothing is installed.

    Raises StoreDamaged (a file missing, truncated or changed since install); :func:`app_pages.setup.app_store` shows it.
    """
    try:
        store = Store()  # cheap: reads store.json and stats every file
    except StoreNotInstalled:
        return None
    return _load_store(str(store.root), store.generation)


def key() -> str:
    """The store generation and the saved user indicators' stamp (every task and table cache key carries it)."""
    from layers.registry import user_indicators_stamp

    return f"{get_store().generation}:{user_indicators_stamp()}"


@st.cache_resource(show_spinner=False)
def _registry(stamp: str) -> dict:
    from layers.registry import load_registry

    return load_registry()


def registry() -> dict:
    """Every indicator, with this installation's saved user indicators."""
    from layers.registry import user_indicators_stamp

    return _registry(user_indicators_stamp())


@st.cache_resource(max_entries=6, show_spinner="Computing indicators for England…")  # 3 levels, this and the last version
def national_table(generation_key: str, level: str) -> pd.DataFrame:
    """Every installed indicator for every area of ``level`` in England (shared, read-only)."""
    from layers.indicators import available, england_table

    store = get_store()
    # scores take their columns from it
    return _kept_for_the_process(england_table(level, available(level, store=store), store))


def table_for(store: Store, level: str) -> pd.DataFrame:
    return national_table(key(), level)


def _cached_task(name: str, spinner: str, max_entries: int, *, resource: bool = False):
    """``tasks.<name>.run`` cached on (store generation, request); ``resource`` keeps results unpickled (shared)."""
    def run(generation: str, task: str, request):
        return importlib.import_module(f"tasks.{task}").run(request, get_store())

    run.__qualname__ = run.__name__ = f"run_{name}"  # Streamlit keys a cache by its function's name
    cached = (st.cache_resource if resource else st.cache_data)(max_entries=max_entries, show_spinner=spinner)(run)

    def result(request):
        return cached(key(), name, request)

    result.__doc__ = f":func:`tasks.{name}.run`, cached on the request."
    return result


scored = _cached_task("score", "Scoring areas…", 64)
access_result = _cached_task("access", "Measuring travel times…", 16)
indicator_values = _cached_task("indicators", "Reading indicators…", 32)
# only for dry runs (check and describe): saving is never cached
user_indicator_check = _cached_task("user_indicator", "Checking every row…", 4)
# a plan holds its solved model (not worth pickling): kept as it is, shared by requests with equal content
hub_plan = _cached_task("hubs", "Measuring travel times and solving (the solver stops at 60 s)…", 4, resource=True)


@st.cache_data(max_entries=32, show_spinner="Finding priority neighbourhoods…")
def _neighbourhoods(generation: str, request):
    from tasks import neighbourhoods

    return neighbourhoods.run(request, get_store(), scored=scored(request))


def neighbourhoods(request):
    """:func:`tasks.neighbourhoods.run` for the score ``request`` asks for, cached on the request."""
    return _neighbourhoods(key(), request)


@st.cache_data(max_entries=32, show_spinner="Comparing with the district and England…")
def cached_comparators(generation: str, level: str, area_name: str, lad_codes: tuple) -> pd.DataFrame:
    from geo.areas import Area
    from layers.comparators import comparators
    from layers.indicators import available

    store = get_store()
    return comparators(level, Area(area_name, lad_codes, "preset"), available(level, store=store), store=store)


@st.cache_data(show_spinner=False)
def not_installed(generation: str) -> pd.DataFrame:
    """Registry indicators this installation lacks, with the command that installs them."""
    from layers.indicators import status

    table = status(get_store())
    return table[~table["installed"].astype(str).eq("yes")]
