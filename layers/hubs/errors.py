"""Errors a user planning hubs can act on (one line each, saying what would make it solvable)."""

from geo.errors import WardscopeError


class HubError(WardscopeError):
    """Hub-planning inputs or settings cannot be used as given."""


class DemandError(HubError):
    """The demand table (areas, weights, priority flags) is missing or malformed."""


class IndicatorsMissing(DemandError):
    """Priority demand needs the indicator layers, which are not installed in this version."""


class NoCandidatesError(HubError):
    """An optimisation was asked for but there are no sites to choose from."""


class TooFewCandidatesError(HubError):
    """More new sites were asked for than there are candidates."""


class InfeasibleCoverageError(HubError):
    """Some priority demand cannot be reached within the threshold by any site (LSCP)."""


class SitesOutsideAreaError(HubError):
    """Sites lie outside the area of interest."""


class ModelTooLargeError(HubError):
    """The optimisation model would be too large to build and solve in reasonable time."""


class SolverError(HubError):
    """The solver failed, or stopped at the time limit without any solution."""


class NothingToAddError(HubError):
    """The existing (fixed) hubs already reach every priority area any site can reach: no new site adds coverage."""
