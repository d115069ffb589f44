"""Areas of interest (presets, saved areas) and districts (``cli.py areas``; the app's area picker)."""

from __future__ import annotations

from geo.areas import area_table, list_areas
from tasks.result import Provenance, Result, versions


def run(store) -> Result:
    """Every area a user can choose, as a table (name, kind, districts)."""
    return Result(area_table(store.districts()), Provenance("areas", "presets, saved areas and every district",
                                                           versions=versions(store)))


def choices(store) -> list:
    """The areas to choose from, presets first, then every district (:class:`geo.areas.Area`)."""
    return list_areas(store.districts())
