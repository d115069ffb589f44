"""Labour-market figures: the Explore Local Statistics install step, and the district dashboard.

``install_labour_market_step``: the step alone (read, check and write the ten files for all England) into
a scratch generation, with the districts and Census weights the install has already built; that is what
installing labour_market adds to an install. ``dashboard_east_midlands_cca``: every indicator, every year,
17 districts, the area and England, with distance to 80% (warm: the long table already read once;
cold: a fresh Store). ``*_cpu`` figures are the process's CPU seconds for the same work: on a shared
machine (2 cores, several jobs) wall-clock time also counts the waits for a core.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.timing import best_of


def run():
    from geo.config import default_mirror
    from geo.sources import MirrorSource
    from geo.store import Store, StoreWriter
    from layers.dashboard import DashboardRequest, build_dashboard
    from layers.labour_market import step_labour_market
    from layers.registry import builtin_registry

    from geo.sources import catalogue
    from layers import aps, iod  # noqa: F401  (imported by every install before this step)

    builtin_registry(), catalogue()  # read once by every install before this step
    store = Store()
    mirror = default_mirror()
    if mirror is not None:
        census = store.table("indicators", "census_lsoa", columns=["code", "census21_population", "census21_pop_16_64"])
        weights = census.set_index("code").rename(columns={"census21_population": "pop_total",
                                                           "census21_pop_16_64": "pop_working_age"})
        ctx = {"lad": store.districts(), "lsoa_table": store.table("indicators", "index_lsoa"), "census_weights": weights}

        def step():
            with tempfile.TemporaryDirectory() as tmp, StoreWriter(Path(tmp)) as writer:
                step_labour_market(MirrorSource(mirror), writer, {**ctx, "installed": []})

        yield "install_labour_market_step", best_of(step, 3), "s"
        yield "install_labour_market_step_cpu", best_of(step, 3, clock=time.process_time), "s"
    request = DashboardRequest("East Midlands CCA")
    build_dashboard(request, store)
    yield "dashboard_east_midlands_cca", best_of(lambda: build_dashboard(request, store), 5), "s"
    yield "dashboard_east_midlands_cca_cpu", best_of(lambda: build_dashboard(request, store), 5, clock=time.process_time), "s"
    yield "dashboard_east_midlands_cca_cold", best_of(lambda: build_dashboard(request, Store()), 3), "s"
