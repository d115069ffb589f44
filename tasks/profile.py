"""Ward profiles for councillors: one ward against its district, the area and England (Ward profile page;
``cli.py profile``, alias ``cli.py ward-profile``), or a pack of every ward of an area in one zip."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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


@dataclass
class AreaInputs:
    """What every ward profile of one area shares: comparators, scores, registry and ward notes (built once)."""

    comparators: object
    scored: list
    registry: dict
    notes: dict


def area_inputs(area: Area, profiles: tuple[str, ...], draws: int, store) -> AreaInputs:
    """Comparators and priority scores for ``area`` at ward level (shared by a pack's profiles)."""
    comp = comparators("ward", area, available("ward", store=store), store=store)
    scored = [score.run(score.ScoreRequest(area, text, "ward", draws=draws), store).data for text in profiles]
    notes = indicator_table("ward", area.lad_codes, [], store=store).attrs.get("notes", {})
    return AreaInputs(comp, scored, load_registry(), notes)


def resolve_ward(text: str, area: Area | None, store) -> tuple[str, str]:
    """A ward (2024) GSS code or name (any case) to ``(code, lad_code)``; within ``area`` when given.

    Raises :class:`geo.errors.UnknownAreaError` with one clear line when nothing or several wards match.
    """
    from geo.errors import UnknownAreaError
    from geo.gss import is_gss

    wanted = (text or "").strip()
    if not wanted:
        raise UnknownAreaError("no ward given: use a ward (2024) GSS code such as E05014737 or a ward name")
    wards = store.boundaries("ward", area.lad_codes if area else None)
    where = f" in {area.name}" if area else " in England"
    if is_gss(wanted.upper()):
        hit = wards[wards["code"] == wanted.upper()]
        if hit.empty:
            raise UnknownAreaError(f"ward {wanted.upper()} is not a ward (2024){where}")
    else:
        hit = wards[wards["name"].str.casefold() == wanted.casefold()]
        if hit.empty:
            close = sorted(set(wards.loc[wards["name"].str.casefold().str.contains(wanted.casefold(), regex=False),
                                         "name"]))[:5]
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise UnknownAreaError(f"no ward called {wanted!r}{where}{hint}")
        if len(hit) > 1:
            places = "; ".join(f"{r.code} in {r.lad_name}" for r in hit.itertuples())
            raise UnknownAreaError(f"{len(hit)} wards are called {wanted!r}{where} ({places}): give the code or --area")
    return str(hit["code"].iloc[0]), str(hit["lad_code"].iloc[0])


def run(request: WardProfileRequest, store, inputs: AreaInputs | None = None) -> Result:
    """The :class:`layers.ward_report.WardReport` of one ward (print it with ``report_pdf``/``report_html``).

    ``inputs`` (from :func:`area_inputs` for the same area, profiles and draws) saves recomputing them
    for each ward of a pack.
    """
    area = request.area
    inputs = inputs or area_inputs(area, request.profiles, request.draws, store)
    scored, registry = inputs.scored, inputs.registry
    report = build_ward_report(ward_code=request.ward, area=area, store=store, comparators=inputs.comparators,
                               registry=registry, scored=scored, notes=inputs.notes, draws=request.draws or None)
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


@dataclass(frozen=True)
class PackRequest:
    area: Area
    out: str                       # the zip to write
    profiles: tuple[str, ...]      # profiles' YAML texts; the first one ranks the contents page
    draws: int = DEFAULT_DRAWS


def run_pack(request: PackRequest, store, progress=None) -> Result:
    """Every ward of the area as a PDF profile plus a contents page, in one zip (see :mod:`layers.ward_pack`).

    The area's comparators and scores are computed once; ``progress(done, total, message)`` is called per ward.
    """
    from layers.ward_pack import write_pack
    from layers.ward_report import report_pdf

    area = request.area
    inputs = area_inputs(area, request.profiles, request.draws, store)
    wards = store.boundaries("ward", area.lad_codes).sort_values(["lad_name", "name", "code"])
    codes = list(wards["code"])

    def reports():
        for code in codes:
            yield run(WardProfileRequest(area, code, request.profiles, request.draws), store, inputs).data

    kwargs = {"progress": progress} if progress else {}
    entries = write_pack(Path(request.out), reports(), len(codes), area_name=area.name, render=report_pdf, **kwargs)
    provenance = Provenance(
        "ward profile pack", "one ward profile (PDF) per ward of the area and a contents page, in one zip",
        {"area_of_interest": {"name": area.name, "lad_codes": list(area.lad_codes)}, "wards": codes,
         "profiles": [{"name": s.profile.name, "id": s.profile.id,
                       "weights": {i.id: i.weight for i in s.profile.indicators}} for s in inputs.scored]},
        tuple(dataset_sources(store, BOUNDARY_DATASETS["ward"])),
        draws=request.draws, seed=score.DEFAULT_SEED, versions=versions(store))
    return Result(entries, provenance)
