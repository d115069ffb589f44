"""The district dashboard: labour-market figures for each district of an area, the area and England
(Dashboard page; ``cli.py dashboard``)."""

from __future__ import annotations

from dataclasses import dataclass

from geo.areas import Area
from layers.dashboard import DashboardRequest as _BoardRequest
from layers.dashboard import build_dashboard
from layers.provenance import indicator_sources
from layers.registry import load_registry
from tasks.result import Provenance, Result, versions

METHOD = ("one row per indicator, one column per district, the area and England; red/amber/green against England "
          "uses the 95% interval where there is one (worse only when the whole interval is worse); the area's APS "
          "rates are population-weighted from its districts unless the ONS publishes the area's own row; distance "
          "to 80% is the residents aged 16-64 who would need to be in work")


@dataclass(frozen=True)
class DashboardRequest:
    area: Area
    period: int | None = None                  # first year of the period; None = each indicator's latest
    indicators: tuple[str, ...] | None = None  # registry ids; None = every installed district indicator


def run(request: DashboardRequest, store) -> Result:
    """The :class:`layers.dashboard.Dashboard` (render it with :mod:`layers.dashboard_out`)."""
    board = build_dashboard(_BoardRequest(request.area, request.period, request.indicators), store)
    provenance = Provenance(
        "district dashboard", METHOD,
        {"area_of_interest": {"name": request.area.name, "lad_codes": list(request.area.lad_codes)},
         "period": request.period, "indicators": list(board.indicators)},
        tuple(indicator_sources(board.indicators, load_registry())), versions=versions(store))
    return Result(board, provenance, tuple(board.notes))
