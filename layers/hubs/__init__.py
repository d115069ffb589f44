"""Hub planning: where employment-support hubs reach priority residents, and where new ones should go.

CRS: every layer is EPSG:27700 (metres). Units: minutes for travel, people (or the demand table's unit)
for weights, seconds for solver time limits.

Public surface::

    demand_points(table, ...)                   a demand layer from code, weight, priority (+ x/y)
    read_demand_file(path, area=...)            the same from a CSV
    priority_demand(area, profile, ...)         from scoring bands and Census counts (needs layers.indicators)
    read_hub_sites(path, role)                  existing hubs or candidates from a sites file
    station_candidates(area, store)             railway stations inside the area (England)
    priority_centroid_candidates(demand)        centroids of priority areas as candidates
    HubCoverage.from_matrix / from_geodataframe coverage, cold spots, duplication, per district
    HubMCLP, HubPMedian, HubLSCP                optimisation (CBC; sparse PuLP MCLP/LSCP, spopt p-median); from_matrix, from_geodataframe, solve()
    HubCapacityMCLP                             MCLP where each hub serves at most its capacity (people served, unmet)
    plan_hubs(...)                              a plan from plain inputs (tasks.hubs calls it)
"""

from layers.hubs.candidates import priority_centroid_candidates, station_candidates
from layers.hubs.cbc import DEFAULT_TIME_LIMIT_S, SolveInfo, solve_cbc
from layers.hubs.coverage import HubCoverage
from layers.hubs.demand import demand_points, priority_demand, read_demand_file
from layers.hubs.errors import (DemandError, HubError, IndicatorsMissing, InfeasibleCoverageError, ModelTooLargeError,
                                NoCandidatesError, SitesOutsideAreaError, SolverError, TooFewCandidatesError)
from layers.hubs.plan import HubPlan, plan_hubs
from layers.hubs.hub_sites import HUB_TYPES, hub_sites, read_hub_sites, site_pool

#: Imported on first use: spopt (and its dependencies) take about two seconds to import, and coverage
#: alone does not need them.
_LAZY = {"MODELS": "layers.hubs.models", "HubLSCP": "layers.hubs.models", "HubMCLP": "layers.hubs.models",
         "HubPMedian": "layers.hubs.models", "HubCapacityMCLP": "layers.hubs.models"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'layers.hubs' has no attribute {name!r}")


__all__ = [
    "DEFAULT_TIME_LIMIT_S", "DemandError", "HUB_TYPES", "HubCapacityMCLP", "HubCoverage", "HubError", "HubLSCP", "HubMCLP",
    "HubPMedian", "HubPlan", "IndicatorsMissing", "InfeasibleCoverageError", "MODELS", "ModelTooLargeError",
    "NoCandidatesError", "SitesOutsideAreaError", "SolveInfo", "SolverError", "TooFewCandidatesError",
    "demand_points", "hub_sites", "plan_hubs", "priority_centroid_candidates",
    "priority_demand", "read_demand_file", "read_hub_sites", "site_pool", "solve_cbc", "station_candidates",
]
