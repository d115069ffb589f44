"""Requests from the values of the pages' widgets: the app's half of each task (no Streamlit here).

Each function takes what the widgets (and the session's choices) hold and
returns the frozen request the task runs; ``cli.py`` builds the same requests
from its arguments, and tests/test_tasks_symmetry.py checks both give the
same result.
"""

from __future__ import annotations

from layers.robustness import DEFAULT_DRAWS, DEFAULT_SEED
from tasks.access import AccessRequest, with_gap_modes
from tasks.boundaries import BoundariesRequest
from tasks.export import ExportRequest
from tasks.indicators import IndicatorsRequest
from tasks.inputs import SitesInput, profile_text
from tasks.score import AccessInScore, ScoreRequest

#: The hub planner's solver time limit per solve (seconds), as ``cli.py hubs`` by default.
HUB_TIME_LIMIT_S = 60.0


def boundaries_request(area, level: str) -> BoundariesRequest:
    return BoundariesRequest(area, level)


def indicators_request(area, level: str, ids=None, period: int | None = None) -> IndicatorsRequest:
    """``period``: first year of district figures from Explore Local Statistics (None = each one's latest)."""
    return IndicatorsRequest(area, level, tuple(ids) if ids is not None else None,
                             None if period is None else int(period))


def score_request(area, level: str, profile, draws: int = DEFAULT_DRAWS, access=None, sites=None,
                  users=()) -> ScoreRequest:
    """The session's profile (weights and method applied) for an area; ``access`` is (mode, weight) when the
    user added minutes to the nearest of ``sites`` to the score; ``users`` (id, weight) saved user indicators."""
    extra = None
    if access:
        mode, weight = access
        extra = AccessInScore(SitesInput.from_layer(sites), mode, float(weight))
    return ScoreRequest(area, profile_text(profile), level, int(draws), DEFAULT_SEED, extra,
                        tuple((i, float(w)) for i, w in users if w > 0))


def export_request(score: ScoreRequest, selection: str) -> ExportRequest:
    return ExportRequest(score, selection)


def access_request(area, level: str, sites, mode: str, engine: str, network: str | None,
                   params: dict | None = None, *, gtfs: str | None = None, date: str | None = None,
                   depart: str | None = None) -> AccessRequest:
    """Minutes by ``mode`` and by the access gap's modes (bus, walk), for the map, the gaps and the catchment.

    The gtfs engine (``gtfs``: a feed's path, an accepted upload's or the server's ``WARDSCOPE_GTFS``; ``date``
    YYYY-MM-DD and ``depart`` 07:00-09:00, blank = the engine's default) does bus only: its bus times already
    allow walking all the way, so the gap uses them alone.
    """
    timetable = engine == "gtfs"
    modes = (mode,) if timetable else with_gap_modes(mode)
    return AccessRequest(area, SitesInput.from_layer(sites), modes, level, engine,
                         network if engine == "network" else None, tuple(sorted((params or {}).items())),
                         gtfs=gtfs if timetable else None, date=(date or None) if timetable else None,
                         depart=(depart or None) if timetable else None)


def hubs_request(area, profile, *, bands, weight: str, existing, generated, own, mode: str, minutes: float,
                 model: str, k: int, capacity: bool = False):
    """The Hub planner's question (:class:`tasks.hubs.HubsRequest`); uploaded hubs outside the area are left out."""
    from tasks.hubs import HubsRequest

    candidates = tuple(generated) + ((SitesInput.from_layer(own),) if own is not None and len(own) else ())
    return HubsRequest(area, profile=profile_text(profile), weight=weight, bands=tuple(bands),
                       existing=SitesInput.from_layer(existing) if existing is not None and len(existing) else None,
                       candidates=candidates, sites_outside="drop", mode=mode, minutes=float(minutes), model=model,
                       k=int(k) if model in ("mclp", "pmedian") else None, time_limit_s=HUB_TIME_LIMIT_S,
                       capacity=bool(capacity) and model == "mclp")


def ward_profile_request(area, ward: str, profile, draws: int = DEFAULT_DRAWS):
    """The ward's profile (:class:`tasks.profile.WardProfileRequest`) with the session's profile first (its
    weights) and the other shipped one as published; and the note that says so."""
    from tasks.profile import WardProfileRequest, profiles_for

    texts, note = profiles_for(profile)
    return WardProfileRequest(area, ward, texts, draws), note


def pack_request(area, profile, out: str, draws: int = DEFAULT_DRAWS):
    """Every ward's profile of ``area`` in one zip at ``out`` (:class:`tasks.profile.PackRequest`), with the same
    profiles as :func:`ward_profile_request` (the session's first, its weights applied)."""
    from tasks.profile import PackRequest, profiles_for

    texts, _ = profiles_for(profile)
    return PackRequest(area, out, texts, draws)


def dashboard_request(area, period: int | None = None, indicators=None):
    """The district dashboard (:class:`tasks.dashboard.DashboardRequest`): ``period`` is the picker's year
    (None = each indicator's latest), ``indicators`` the chosen ids (None = all installed)."""
    from tasks.dashboard import DashboardRequest

    return DashboardRequest(area, None if period is None else int(period),
                            None if indicators is None else tuple(indicators))


def indicator_id_for(label: str) -> str:
    """An indicator id from its label (snake_case, starting with a letter), as the upload panel gives it."""
    import re

    words = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
    return ("my_" + words if not words[:1].isalpha() else words)[:40].rstrip("_") or "my_indicator"


def user_indicator_request(name: str, data: bytes, label: str, kind: str, value: str, denominator: str | None,
                           direction: str, *, id: str | None = None, dry_run: bool = False):
    """Save (or with ``dry_run`` only check) an uploaded CSV as a user indicator
    (:class:`tasks.user_indicator.UserIndicatorRequest`); ``data`` is the file's text as UTF-8 bytes."""
    from tasks.user_indicator import UserIndicatorRequest

    return UserIndicatorRequest(name, data, id or indicator_id_for(label), label, kind, value,
                                denominator if kind == "rate" else None, direction, dry_run=dry_run)
