"""Links that reproduce a view: the URL's query parameters <-> the app's choices (no Streamlit here).

A link carries ``area`` (an area name, or a district name or code), ``level`` (``ward``/``lsoa``),
``profile`` (a shipped profile name), ``w.<indicator id>`` (a weight the user changed, 0 to 5),
``layer`` and ``indicator`` (the map explorer's layer) and ``ward`` (a ward GSS code, for the ward
profile). :func:`parse_link` keeps what it can apply and says, in a note per value, what it ignored;
it never raises. :func:`link_params` is the reverse: the query parameters for a view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

#: The weight sliders' range (app_pages/scoring.py): relative weights, unitless.
WEIGHT_MIN, WEIGHT_MAX = 0.0, 5.0
#: Longest value a note quotes back (characters); links can be long and come from anyone.
QUOTE_CHARS = 60
KNOWN = ("area", "level", "profile", "layer", "indicator", "ward")


@dataclass
class LinkChoices:
    """What a link asks for, after checking; ``notes`` say what was ignored and why (plain text, unescaped)."""

    area: object = None  # the resolved area (geo.areas.Area), or None to keep the default
    level: str | None = None
    profile: str | None = None
    weights: dict = field(default_factory=dict)
    layer: str | None = None
    indicator: str | None = None
    ward: str | None = None
    notes: list = field(default_factory=list)


def _quote(value: str) -> str:
    text = str(value)
    return repr(text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS] + "…")


def _one(params: Mapping, key: str):
    value = params.get(key)
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    return None if value is None else str(value).strip()



def _allowed(params, key: str, allowed, why: str, ignored: list) -> str | None:
    """The link's ``key`` if it is one of ``allowed``; otherwise None, and a note of what was ignored."""
    value = _one(params, key)
    if value and value not in allowed:
        ignored.append(f"{key} {_quote(value)} ({why})")
        return None
    return value or None

def parse_link(params: Mapping, *, resolve_area: Callable, levels, profiles: Mapping, layers=(), indicators=(),
               wards_of: Callable = lambda area: set(), default_area=None) -> LinkChoices:
    """Check a link's query parameters against what this installation offers.

    Parameters
    ----------
    params : the query parameters (name -> value, or a list of values: the last wins).
    resolve_area : name or code -> Area; raises ValueError for an unknown area (``geo.areas.resolve_area``).
    levels : the levels offered (``ward``, ``lsoa``).
    profiles : profile name -> the indicator ids it weights.
    layers, indicators : the explorer's priority layers and indicator ids.
    wards_of : Area -> the ward codes in it (WD 2024 GSS codes).
    default_area : the area a ward is looked up in when the link names none.
    """
    out = LinkChoices()
    ignored = []
    area_text = _one(params, "area")
    if area_text:
        try:
            out.area = resolve_area(area_text)
        except ValueError:
            ignored.append(f"area {_quote(area_text)} (no area of that name on this installation; showing the default)")
    out.level = _allowed(params, "level", levels, f"use {' or '.join(levels)}", ignored)
    out.profile = _allowed(params, "profile", profiles, "not a profile shipped with Wardscope", ignored)
    weight_ids = set(profiles.get(out.profile or next(iter(profiles), ""), ()))
    for key in sorted(k for k in params if str(k).startswith("w.")):
        ind, text = key[2:], _one(params, key)
        if ind not in weight_ids:
            ignored.append(f"weight for {_quote(ind)} (not an indicator of this profile)")
            continue
        try:
            value = float(text)
        except (TypeError, ValueError):
            value = math.nan
        if not (math.isfinite(value) and WEIGHT_MIN <= value <= WEIGHT_MAX):
            ignored.append(f"weight {_quote(text)} for {ind} (weights run from {WEIGHT_MIN:g} to {WEIGHT_MAX:g})")
            continue
        out.weights[ind] = value
    for key, allowed in (("layer", layers), ("indicator", indicators)):
        text = _one(params, key)
        if text:
            if text in allowed:
                setattr(out, key, text)
            else:
                ignored.append(f"{key} {_quote(text)} (not offered here)")
    ward = _one(params, "ward")
    if ward:
        area = out.area if out.area is not None else default_area
        if area is not None and ward.upper() in wards_of(area):
            out.ward = ward.upper()
        else:
            ignored.append(f"ward {_quote(ward)} (not a ward in {area.name if area is not None else 'the area'})")
    unknown = sorted(k for k in params if k not in KNOWN and not str(k).startswith("w."))
    ignored += [f"{_quote(k)} (not something a link sets)" for k in unknown]
    if ignored:
        out.notes.append("This link could not apply: " + "; ".join(ignored) + ".")
    return out


def link_params(*, area: str, level: str, profile: str, weights: Mapping, default_weights: Mapping,
                layer: str | None = None, indicator: str | None = None, ward: str | None = None) -> dict:
    """The query parameters for a view; weights only where they differ from the profile's own."""
    params = {"area": area, "level": level, "profile": profile}
    for ind in sorted(weights):
        if ind in default_weights and float(weights[ind]) != float(default_weights[ind]):
            params[f"w.{ind}"] = f"{float(weights[ind]):g}"
    for key, value in (("layer", layer), ("indicator", indicator), ("ward", ward)):
        if value:
            params[key] = value
    return params
