"""Indicator values for an area of interest, and the catalogue of every indicator (``cli.py indicators``)."""

from __future__ import annotations

from dataclasses import dataclass

from geo.areas import Area
from layers.indicators import area_indicator_table, status
from layers.provenance import indicator_sources
from layers.registry import load_registry
from tasks.result import Provenance, Result, versions


@dataclass(frozen=True)
class IndicatorsRequest:
    area: Area
    level: str                          # lsoa, lsoa11, ward or lad
    ids: tuple[str, ...] | None = None  # None: every indicator installed at the level
    period: int | None = None           # first year of district ELS figures; None = each indicator's latest


def run(request: IndicatorsRequest, store) -> Result:
    """One row per area (code, name, lad_code, lad_name), one column per indicator (and its ``__ci`` and
    ``__period`` where published), rounded as published; ``Result.notes`` says which period each figure is for.

    Raises :class:`~layers.labour_market.PeriodNotHeld` (one line) for a period an asked-for indicator lacks.
    """
    table = area_indicator_table(request.level, request.area, list(request.ids) if request.ids else None, store,
                                 period=request.period)
    notes = list(table.attrs.get("period_notes", []))
    registry = load_registry()
    ids = [c for c in table.columns if c in registry]
    provenance = Provenance(
        "indicators", "installed indicator values; above their base level, sums of numerators and denominators",
        {"level": request.level, "ids": ids, "period": request.period,
         "area_of_interest": {"name": request.area.name, "lad_codes": list(request.area.lad_codes)}},
        tuple(indicator_sources(ids, registry)), versions=versions(store))
    return Result(table, provenance, notes=tuple(notes))


def catalogue(store=None) -> Result:
    """Every indicator in the registry: levels, period, source and whether this installation has it."""
    table = status(store)
    return Result(table, Provenance("indicators", "layers/registry.yaml and the installed catalogue",
                                    versions=versions(store) if store is not None else {}))
