"""Foundation figures: install from the mirror, load one area, load all LSOAs."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.timing import best_of, once


def run():
    from geo.areas import resolve_area
    from geo.config import default_mirror
    from geo.layers import area_layers
    from geo.store import Store
    from layers.install import install

    mirror = default_mirror()
    if mirror is not None:
        with tempfile.TemporaryDirectory() as tmp:
            seconds, _ = once(lambda: install(mirror, root=Path(tmp)))
        yield "install_mirror_all_england", seconds, "s"

    store = Store()
    area = resolve_area("South Midlands", store.districts())

    def load_area():
        area_layers(area, Store())  # a fresh Store: nothing cached in memory

    yield "load_area_all_levels_south_midlands", best_of(load_area, 5), "s"
    yield "load_all_lsoa21_england", best_of(lambda: Store().boundaries("lsoa"), 3), "s"
