"""Provenance that travels with every export: methodology.json, README.txt, the GeoPackage metadata table.

The caller gives what only it knows, as a plain dict::

    {"profile": {"name": ..., "indicators": [...], "weights": {...}, "method": ...},
     "area_of_interest": {"name": "South Midlands", "lad_codes": [...]},   # or just a name
     "level": "lsoa",
     "sources": [{"name": ..., "period": ..., "attribution": ..., "licence": ...}, ...]}

and :func:`build_methodology` adds what the export knows: the Wardscope
version, the export time (UTC), format and CRS, the selection (with any
hand-picked codes written out), the dissolve settings, every column with its
label, unit and shapefile short name, the layers with their feature counts,
and the codes of the areas selected. :func:`request_from_methodology` turns
a methodology back into the arguments that reproduce the same areas.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any, Mapping

import pandas as pd

from geo import __version__
from geo.errors import ExportError
from geo.escape import plain_line
from geo.export.columns import ColumnSpec
from geo.export.selection import Selection, SelectionColumns
from geo.gss import LEVEL_NAMES
from geo.words import count_of

#: Bumped when the layout of methodology.json changes.
SCHEMA = "wardscope-export-methodology/1"
CALLER_KEYS = ("profile", "area_of_interest", "level", "sources")


def _jsonable(value: Any, where: str) -> Any:
    try:
        return json.loads(json.dumps(value, allow_nan=False, default=_default))
    except (TypeError, ValueError) as exc:
        raise ExportError(f"provenance {where} cannot be written as JSON ({exc})") from None


def _default(value):
    if hasattr(value, "item"):  # numpy scalars
        item = value.item()
        if isinstance(item, float) and not math.isfinite(item):
            return None
        return item
    if isinstance(value, (set, tuple, frozenset)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def build_methodology(provenance: Mapping | None, *, fmt: str, crs: str, selection: Selection,
                      selection_columns: SelectionColumns, dissolve: dict | None,
                      columns: list[ColumnSpec], short_names: Mapping[str, str] | None,
                      layers: Mapping[str, int], selected_codes: list[str], files: list[str],
                      now: datetime | None = None, field_names: Mapping[str, str] | None = None) -> dict:
    """The methodology record of one export (a JSON-ready dict).

    ``short_names`` (shapefile) and ``field_names`` (readable names in a
    GeoPackage, GeoJSON or CSV) map full column names to the names in the file.
    """
    provenance = dict(provenance or {})
    if "area" in provenance and "area_of_interest" not in provenance:
        provenance["area_of_interest"] = provenance.pop("area")
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    record = {
        "schema": SCHEMA,
        "title": "Wardscope priority areas",
        "wardscope_version": __version__,
        "exported_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "format": fmt,
        "crs": crs,
        "level": provenance.get("level"),
        "area_of_interest": provenance.get("area_of_interest"),
        "profile": provenance.get("profile"),
        "sources": provenance.get("sources") or [],
        "selection": selection.to_dict(),
        "selection_columns": dict(selection_columns.__dict__),
        "dissolve": dissolve,
        "columns": [{**c.to_dict(), **({"short_name": short_names[c.name]} if short_names else {}),
                     **({"field_name": field_names[c.name]} if field_names else {})} for c in columns],
        "layers": dict(layers),
        "files": files,
        "selected_codes": list(selected_codes),
    }
    extra = {k: v for k, v in provenance.items() if k not in CALLER_KEYS}
    if extra:
        record["notes"] = extra
    return _jsonable(record, "record")


def request_from_methodology(methodology: Mapping) -> dict:
    """Keyword arguments for :func:`geo.export.export_areas` that reproduce an export's areas.

    Returns ``columns``, ``selection``, ``selection_columns``, ``dissolve``,
    ``population`` and ``provenance`` (profile, area of interest, level,
    sources). The caller supplies the areas (scored with that profile) and
    the output path.
    """
    if methodology.get("schema") != SCHEMA:
        raise ExportError(f"not a Wardscope export methodology (schema {methodology.get('schema')!r}, expected {SCHEMA!r})")
    dissolve = methodology.get("dissolve") or None
    columns = [{k: v for k, v in c.items() if k not in ("short_name", "field_name")} for c in methodology["columns"]]
    if dissolve:
        columns = dissolve["columns"]
    return {
        "columns": columns,
        "selection": Selection.from_dict(methodology["selection"]),
        "selection_columns": SelectionColumns(**methodology.get("selection_columns", {})),
        "dissolve": bool(dissolve),
        "population": dissolve["population"] if dissolve else "population",
        "provenance": {k: methodology.get(k) for k in CALLER_KEYS},
    }


# -- plain words -------------------------------------------------------------------

def _area_words(area) -> str:
    if isinstance(area, Mapping):
        name = area.get("name", "?")
        codes = area.get("lad_codes") or []
        names = area.get("lad_names") or []
        listed = ", ".join(f"{n} ({c})" for n, c in zip(names, codes)) if names else ", ".join(codes)
        return f"{name}" + (f" ({count_of(len(codes), 'district')}: {listed})" if codes else "")
    return str(area) if area else "not recorded"


def _level_words(level) -> str:
    if not level:
        return "not recorded"
    return f"{LEVEL_NAMES[level]} ({level})" if level in LEVEL_NAMES else str(level)


def _profile_lines(profile) -> list[str]:
    if not profile:
        return ["- Profile: not recorded."]
    if not isinstance(profile, Mapping):
        return [f"- Profile: {profile}"]
    lines = [f"- Profile: {profile.get('name', 'unnamed')}"]
    if profile.get("method"):
        lines.append(f"- Method: {profile['method']}")
    weights = profile.get("weights") or {}
    indicators = profile.get("indicators") or list(weights)
    if indicators:
        lines.append("- Indicators and weights:")
        for ind in indicators:
            label = ind if isinstance(ind, str) else ind.get("name", str(ind))
            weight = weights.get(label) if isinstance(weights, Mapping) else None
            lines.append(f"    {label}" + (f": weight {weight}" if weight is not None else ""))
    return lines


def readme_text(m: Mapping, file_notes: list[str]) -> str:
    """README.txt for the shapefile zip: the methodology in plain words."""
    selection = Selection.from_dict(m["selection"])
    lines = [
        "Wardscope priority areas",
        "========================",
        f"Exported {m['exported_at']} (UTC) by Wardscope {m['wardscope_version']}.",
        "",
        "What is in this zip",
        *[f"- {note}" for note in file_notes],
        "",
        "How the areas were chosen",
        f"- Area of interest: {_area_words(m.get('area_of_interest'))}",
        f"- Level: {_level_words(m.get('level'))}",
        *_profile_lines(m.get("profile")),
        f"- Selection: {selection.describe()} (as text: {selection.text()})",
    ]
    if m.get("dissolve"):
        d = m["dissolve"]
        lines.append(f"- Merged: the {len(m['selected_codes'])} selected areas were merged into {m['layers'].get('areas', '?')} "
                     f"priority neighbourhoods: {d['adjacency']}. Populations ({d['population']}) are summed; "
                     f"scores and other measures are population-weighted means.")
    lines += ["", "Fields (shapefile names are at most 10 characters; fields.csv has the same list)"]
    for c in m["columns"]:
        unit = f" [{c['unit']}]" if c.get("unit") else ""
        lines.append(f"- {c.get('short_name', c['name']):<10}  {c['name']}: {c['label']}{unit}")
    lines += ["", "Data sources"]
    sources = m.get("sources") or []
    for s in sources:
        if isinstance(s, Mapping):
            period = f" ({s['period']})" if s.get("period") else ""
            lines.append(f"- {s.get('name', '?')}{period}: {s.get('attribution', '')}".rstrip(": "))
        else:
            lines.append(f"- {s}")
    if not sources:
        lines.append("- not recorded")
    lines += ["", "Re-running this export with the same profile, area, level and selection gives the same areas;",
              "methodology.json holds all of it in machine-readable form.", ""]
    return "\n".join(plain_line(line) for line in lines)  # a name cannot start a line of its own


def metadata_rows(m: Mapping) -> pd.DataFrame:
    """Key/value rows for the GeoPackage ``metadata`` table (the last row holds the whole JSON)."""
    profile = m.get("profile") if isinstance(m.get("profile"), Mapping) else {}
    rows = [
        ("title", m["title"]),
        ("wardscope_version", m["wardscope_version"]),
        ("exported_at", m["exported_at"]),
        ("crs", m["crs"]),
        ("level", m.get("level") or ""),
        ("area_of_interest", _area_words(m.get("area_of_interest"))),
        ("profile", (profile or {}).get("name", "") if profile else str(m.get("profile") or "")),
        ("method", (profile or {}).get("method", "")),
        ("indicators", json.dumps((profile or {}).get("indicators", []), ensure_ascii=False)),
        ("weights", json.dumps((profile or {}).get("weights", {}), ensure_ascii=False)),
        ("selection", Selection.from_dict(m["selection"]).text()),
        ("selection_in_words", Selection.from_dict(m["selection"]).describe()),
        ("dissolve", json.dumps(m.get("dissolve"), ensure_ascii=False) if m.get("dissolve") else "no"),
        ("feature_counts", json.dumps(m["layers"], ensure_ascii=False)),
    ]
    for i, s in enumerate(m.get("sources") or [], start=1):
        rows.append((f"source_{i}", json.dumps(s, ensure_ascii=False) if not isinstance(s, str) else s))
    rows.append(("methodology_json", json.dumps(m, ensure_ascii=False, indent=1)))
    return pd.DataFrame(rows, columns=["key", "value"])
