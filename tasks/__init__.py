"""Wardscope's user tasks: one module per question a user asks, shared by the app and the CLI.

Each module has a frozen request dataclass (hashable, inputs by content: a
profile is its YAML text, a sites list its CSV text) and one function
``run(request, store) -> Result`` (:mod:`tasks.result`): the data, its
provenance (sources, method, parameters, seed, draws, versions) and its
notes. ``cli.py`` parses arguments into a request and renders the result;
the app's pages build the same request from their widgets, cache on it and
render. Neither does any of the work itself.

Layering (one way): ``app.py``/``app_pages`` and ``cli.py`` -> ``tasks`` ->
``layers`` -> ``geo``. Tasks never import Streamlit; layers never import tasks.

Modules: :mod:`~tasks.boundaries`, :mod:`~tasks.indicators`,
:mod:`~tasks.score`, :mod:`~tasks.neighbourhoods`, :mod:`~tasks.access`,
:mod:`~tasks.hubs`, :mod:`~tasks.export`, :mod:`~tasks.dashboard`, :mod:`~tasks.profile` (the ward
profile report), :mod:`~tasks.areas`, :mod:`~tasks.install`.
"""
