"""A ward profile for councillors: one ward against its district, the area and England (Ward profile page;
``cli.py ward-profile``)."""

from __future__ import annotations

from dataclasses import dataclass

from geo.areas import Area
from layers.comparators import comparators
from layers.indicators import available, indicator_table
from layers.profiles import load_profile
from layers.provenance import dataset_sources, indicator_sources
from layers.registry import load_registry
from layers.robustness import DEFAULT_DRAWS
from layers.ward_report import build_ward_report
from tasks import score
from tasks.inputs import profile_text
from tasks.result import BOUNDARY_DATASETS, Provenance, Result, versions

#: The shipped profiles a ward profile reports on (the session's own first, the others as published).
SHIPPED_PROFILES = ("neighbourhood", "multi-agency")


@dataclass(frozen=True)
class WardProfileRequest:
    area: Area
    ward: str                      # ward (2024) GSS code in the area
    profiles: tuple[str, ...]      # profiles' YAML texts, reported in this order
    draws: int = DEFAULT_DRAWS


def profiles_for(mine) -> tuple[tuple[str, ...], str]:
    """``mine`` (a profile with the user's weights) and the other shipped profiles as published, as YAML texts,
    and a note saying which weights each uses."""
    others = [load_profile(n) for n in SHIPPED_PROFILES if n != mine.id]
    note = (f"{mine.name} uses this session's weights; "
            + ", ".join(f"{p.name} its published weights" for p in others) + ".")
    return tuple(profile_text(p) for p in [mine, *others]), note


def run(request: WardProfileRequest, store) -> Result:
    """The :class:`layers.ward_report.WardReport` of one ward (print it with ``report_pdf``/``report_html``)."""
    area = request.area
    comp = comparators("ward", area, available("ward", store=store), store=store)
    scored = [score.run(score.ScoreRequest(area, text, "ward", draws=request.draws), store).data
              for text in request.profiles]
    registry = load_registry()
    notes = indicator_table("ward", area.lad_codes, [], store=store).attrs.get("notes", {})
    report = build_ward_report(ward_code=request.ward, area=area, store=store, comparators=comp, registry=registry,
                               scored=scored, notes=notes)
    ids = list(report.figures["indicator"]) if len(report.figures) else []
    provenance = Provenance(
        "ward profile", "every indicator against the district, the area and England, with red/amber/green ratings "
                        "against England; priority scores of each profile at ward level",
        {"ward": request.ward, "area_of_interest": {"name": area.name, "lad_codes": list(area.lad_codes)},
         "profiles": [{"name": s.profile.name, "id": s.profile.id,
                       "weights": {i.id: i.weight for i in s.profile.indicators}} for s in scored]},
        tuple(indicator_sources(ids, registry) + dataset_sources(store, BOUNDARY_DATASETS["ward"])),
        draws=request.draws, seed=score.DEFAULT_SEED, versions=versions(store))
    return Result(report, provenance)
