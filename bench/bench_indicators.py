"""Indicator figures: every indicator for all of England at every level, and for one area of interest.

Each timing opens a fresh Store, so reading the Parquet tables is included.
Targets (issue 3): all England LSOA + ward + district <= 2 s; one area <= 0.2 s.
"""

from __future__ import annotations

from bench.timing import best_of


def run():
    from geo.areas import resolve_area
    from geo.store import Store
    from layers.comparators import comparators
    from layers.indicators import available, indicator_table

    probe = Store()
    ids = {level: available(level, probe) for level in ("lsoa", "ward", "lad", "lsoa11")}
    yield "indicators_count_lsoa_ward_lad", len(set(ids["lsoa"]) | set(ids["ward"]) | set(ids["lad"])), "indicators"

    def england():
        store = Store()
        for level in ("lsoa", "ward", "lad"):
            indicator_table(level, None, ids[level], store)

    yield "indicators_all_england_lsoa_ward_lad", best_of(england, 3), "s"

    area = resolve_area("South Midlands", probe.districts())

    def one_area():
        store = Store()
        for level in ("lsoa", "ward", "lad"):
            indicator_table(level, area.lad_codes, ids[level], store)

    yield "indicators_one_area_lsoa_ward_lad_south_midlands", best_of(one_area, 5), "s"
    yield "indicators_comparators_wards_south_midlands", best_of(lambda: comparators("ward", area, None, Store()), 3), "s"
