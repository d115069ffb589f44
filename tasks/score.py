"""Priority scores for an area of interest (``cli.py score``; the explorer and scoring pages).

Scores are on the 0-100 need scale of :mod:`layers.scoring`; their priority
neighbourhoods are :mod:`tasks.neighbourhoods`. Geometry EPSG:27700.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from geo.areas import Area
from layers.access import access_indicators
from layers.priority_export import provenance as export_provenance
from layers.profiles import Profile, ProfileIndicator
from layers.registry import load_registry
from layers.robustness import DEFAULT_DRAWS, DEFAULT_SEED
from layers.scoring import score_area
from tasks import access
from tasks.inputs import SitesInput, profile_of
from tasks.result import Provenance, Result, versions


@dataclass(frozen=True)
class AccessInScore:
    """Minutes to the nearest of ``sites`` by ``mode`` added to the profile as one more indicator."""

    sites: SitesInput
    mode: str = "bus"
    weight: float = 1.0


@dataclass(frozen=True)
class ScoreRequest:
    area: Area
    profile: str                        # the profile's YAML text (tasks.inputs.profile_text)
    level: str | None = None            # lsoa or ward; None: the profile's level
    draws: int = DEFAULT_DRAWS          # robustness draws of the weights (0 = none)
    seed: int = DEFAULT_SEED
    access: AccessInScore | None = None
    #: Saved user indicators added to the profile: (id, weight) pairs (``cli.py score --user-indicator``).
    user_indicators: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class ScoreResult(Result):
    """A score (``data``: :class:`layers.scoring.Scored`) and the session indicators it used.

    ``access`` is the access indicator table (``code`` and minutes) when one was added, and
    ``registry`` describes it (registry entries by id).
    """

    access: pd.DataFrame | None = None
    registry: dict = field(default_factory=dict)

    @property
    def indicators(self) -> dict:
        """Every registry entry the score may name: the registry and this score's session indicators."""
        return {**load_registry(), **self.registry}


def with_access(profile: Profile, mode: str, weight: float) -> Profile:
    """``profile`` plus minutes to the nearest site by ``mode``; an access indicator is never there twice."""
    item = ProfileIndicator(f"access_{mode}_nearest_min", float(weight))
    kept = tuple(i for i in profile.indicators if not i.id.startswith("access_"))  # never twice
    return replace(profile, indicators=kept + (item,))


def with_user_indicators(profile: Profile, items, level: str) -> Profile:
    """``profile`` plus saved user indicators with their weights (one already there takes the new weight)."""
    from geo.errors import WardscopeError

    registry = load_registry()
    added = []
    for ind_id, weight in items:
        ind = registry.get(ind_id)
        if ind is None or not ind.user:
            saved = sorted(i for i, e in registry.items() if e.user)
            raise WardscopeError(f"{ind_id!r} is not a saved user indicator; saved: {', '.join(saved) or 'none'} "
                                 f"(save one with: cli.py indicators --user FILE --id ID ...)")
        if level not in ind.levels:
            raise WardscopeError(f"user indicator {ind_id!r} is given for {', '.join(ind.levels)} only, "
                                 f"not {level}; score at --level {ind.levels[0]} or give its figures for {level}s")
        if not weight > 0:
            raise WardscopeError(f"weight of {ind_id!r} must be above 0 (got {weight:g})")
        added.append(ProfileIndicator(ind_id, float(weight)))
    ids = {i.id for i in added}
    return replace(profile, indicators=tuple(i for i in profile.indicators if i.id not in ids) + tuple(added))


def run(request: ScoreRequest, store) -> ScoreResult:
    """Score the area of interest: one row per area with score, ranks, band, reasons and robustness."""
    profile = profile_of(request.profile)
    level = request.level or profile.level
    extra = entries = None
    if request.user_indicators:
        profile = with_user_indicators(profile, request.user_indicators, level)
    if request.access is not None:
        choice = request.access
        frame = access.run(access.AccessRequest(request.area, choice.sites, (choice.mode,), level=level), store).data
        extra, entries = access_indicators(frame, [choice.mode])
        profile = with_access(profile, choice.mode, choice.weight)
    scored = score_area(profile, request.area, level=level, store=store, sensitivity=request.draws,
                        seed=request.seed, extra=extra, extra_registry=entries)
    record = export_provenance(scored, {**load_registry(), **(entries or {})}, store, sensitivity=request.draws,
                               seed=request.seed)
    provenance = Provenance(
        "score", record["profile"]["method"],
        {"profile": record["profile"], "area_of_interest": record["area_of_interest"], "level": record["level"],
         "robustness": record["robustness"]},
        tuple(record["sources"]), seed=request.seed, draws=request.draws, versions=versions(store))
    return ScoreResult(scored, provenance, tuple(scored.notes), access=extra, registry=entries or {})
