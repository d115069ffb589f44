"""The app's caches: the store and England's indicator tables once per process, every task's result by its request.

Streamlit caches live here (never in geo/, layers/ or tasks/). The store and
the national indicator tables are loaded once per process and shared
read-only by every session (st.cache_resource). Task results are cached on
the task's frozen request (st.cache_data hashes it field by field), whose
inputs are content: the profile's YAML text, the sites' CSV text, the area's
districts. Equal keys mean equal inputs, so one session never sees another's
data. Every key also carries the store generation, so a new install is
never answered from an old one. Tasks are imported when first run: a page
loads only what it uses (hub models and hot-spot statistics take seconds).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.errors import StoreNotInstalled
from geo.store import Store


@st.cache_resource(show_spinner="Loading the boundary store…")
def _load_store(generation_key: str) -> Store:
    return Store().preload()


def get_store() -> Store | None:
    """The installed store (shared by every session), or None when nothing is installed."""
    try:
        generation = Store().generation  # cheap: reads store.json only
    except StoreNotInstalled:
        return None
    return _load_store(generation)


@st.cache_resource(show_spinner=False)
def registry() -> dict:
    from layers.registry import load_registry

    return load_registry()


@st.cache_resource(show_spinner="Computing indicators for England…")
def national_table(generation_key: str, level: str) -> pd.DataFrame:
    """Every installed indicator for every area of ``level`` in England (shared, read-only)."""
    from layers.indicators import available, england_table

    store = get_store()
    return england_table(level, available(level, store=store), store)  # scores take their columns from it


def table_for(store: Store, level: str) -> pd.DataFrame:
    return national_table(store.generation, level)


@st.cache_data(max_entries=64, show_spinner="Scoring areas…")
def _score(generation: str, request):
    from tasks import score

    return score.run(request, get_store())


def scored(request):
    """:func:`tasks.score.run`, cached on the request."""
    return _score(get_store().generation, request)


@st.cache_data(max_entries=32, show_spinner="Finding priority neighbourhoods…")
def _neighbourhoods(generation: str, request):
    from tasks import neighbourhoods

    return neighbourhoods.run(request, get_store(), scored=scored(request))


def neighbourhoods(request):
    """:func:`tasks.neighbourhoods.run` for the score ``request`` asks for, cached on the request."""
    return _neighbourhoods(get_store().generation, request)


@st.cache_data(max_entries=16, show_spinner="Measuring travel times…")
def _access(generation: str, request):
    from tasks import access

    return access.run(request, get_store())


def access_result(request):
    """:func:`tasks.access.run`, cached on the request."""
    return _access(get_store().generation, request)


@st.cache_data(max_entries=32, show_spinner="Reading indicators…")
def _indicators(generation: str, request):
    from tasks import indicators

    return indicators.run(request, get_store())


def indicator_values(request):
    """:func:`tasks.indicators.run`, cached on the request."""
    return _indicators(get_store().generation, request)


# a plan holds its solved model (not worth pickling): kept as it is, shared by requests with equal content
@st.cache_resource(max_entries=4, show_spinner="Measuring travel times and solving (the solver stops at 60 s)…")
def _hubs(generation: str, request):
    from tasks import hubs

    return hubs.run(request, get_store())


def hub_plan(request):
    """:func:`tasks.hubs.run`, cached on the request."""
    return _hubs(get_store().generation, request)


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
