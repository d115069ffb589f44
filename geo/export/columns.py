"""Columns an export carries: full name, label, unit, shapefile short name, dissolve rule.

Every export starts with the identity columns :data:`BASE_COLUMNS` (code,
name, lad_code, lad_name), then the columns asked for, in the order asked.
A column is a name, or a :class:`ColumnSpec` (or a dict with the same keys)
giving its label and unit for ``fields.csv``, the GeoPackage ``fields``
table and methodology.json.

Field names in the files: GeoPackage, GeoJSON and CSV carry each column's
label as its name (:func:`field_names`: ``Ward code (GSS)``, ``Land area
(km²)``), unique without regard to case, so a person opening the file in
QGIS, ArcGIS or Excel reads words; the shapefile carries 10-character names
(:mod:`geo.export.fieldnames`) with ``fields.csv``. The full (snake_case)
names stay in the ``fields`` table, methodology.json (``columns``: name,
label, unit, ``field_name``) and, on request, in the file itself
(``raw_names=True``, the CLI's ``export --raw-names``) for scripts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Iterable, Mapping, Sequence

import pandas as pd

from geo.errors import FieldNameCollisionError, UnknownColumnError

#: Identity columns every export starts with.
BASE_COLUMNS = ("code", "name", "lad_code", "lad_name")
#: Column names the GeoPackage keeps for itself (feature id and geometry).
RESERVED = ("fid", "geom", "geometry")
#: How a column is combined when adjacent areas are merged (see geo.export.neighbourhoods).
DISSOLVE_RULES = ("sum", "weighted", "mean", "min", "max", "all", "any", "join", "first")

#: Labels and units of columns Wardscope itself writes.
KNOWN: dict[str, tuple[str, str]] = {
    "code": ("Area code (GSS)", ""),
    "name": ("Area name", ""),
    "lad_code": ("District code (GSS, LAD 2024)", ""),
    "lad_name": ("District name (LAD 2024)", ""),
    "ward_code": ("Ward code (GSS, 2024)", ""),
    "ward_name": ("Electoral ward (2024) name", ""),
    "population": ("Population", "people"),
    "n_areas": ("Number of areas merged into this neighbourhood", "areas"),
    "member_codes": ("GSS codes of the areas merged into this neighbourhood", ""),
    "member_names": ("Names of the areas merged into this neighbourhood", ""),
    "ward_names": ("Electoral wards the neighbourhood lies in", ""),
    "area_km2": ("Land area", "km²"),
    "easting": ("Easting (British National Grid, EPSG:27700)", "metres"),
    "northing": ("Northing (British National Grid, EPSG:27700)", "metres"),
}
#: Labels of ``code`` and ``name`` by level: what kind of area the export holds.
LEVEL_LABELS: dict[str, tuple[str, str]] = {
    "ward": ("Ward code (GSS)", "Ward name"),
    "lsoa": ("LSOA code (GSS, 2021)", "LSOA name (2021)"),
    "lsoa11": ("LSOA code (GSS, 2011)", "LSOA name (2011)"),
    "lad": ("District code (GSS)", "District name"),
    "oa": ("Output area code (GSS)", "Output area"),
}


@dataclass(frozen=True)
class ColumnSpec:
    """One exported column.

    ``short`` fixes its shapefile field name (else :mod:`geo.export.fieldnames`
    chooses); ``dissolve`` is one of :data:`DISSOLVE_RULES` (else chosen from
    the data type, see :func:`geo.export.neighbourhoods.default_rule`).
    """

    name: str
    label: str = ""
    unit: str = ""
    short: str | None = None
    dissolve: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, "") or k in ("label", "unit")}


def as_spec(column: str | ColumnSpec | Mapping) -> ColumnSpec:
    """A :class:`ColumnSpec` from a name, a spec or a dict with its fields."""
    if isinstance(column, ColumnSpec):
        spec = column
    elif isinstance(column, str):
        spec = ColumnSpec(column)
    elif isinstance(column, Mapping) and "name" in column:
        unknown = set(column) - {"name", "label", "unit", "short", "dissolve"}
        if unknown:
            raise UnknownColumnError(f"column spec {dict(column)!r} has unknown keys {sorted(unknown)}")
        spec = ColumnSpec(**column)
    else:
        raise UnknownColumnError(f"a column is a name or a dict with 'name' (and label, unit), not {column!r}")
    if spec.dissolve is not None and spec.dissolve not in DISSOLVE_RULES:
        raise UnknownColumnError(f"column {spec.name!r}: dissolve rule {spec.dissolve!r} is not one of {', '.join(DISSOLVE_RULES)}")
    label, unit = KNOWN.get(spec.name, (spec.name.replace("_", " ").capitalize(), ""))
    return replace(spec, label=spec.label or label, unit=spec.unit or unit)


def resolve_columns(frame: pd.DataFrame, columns: Iterable[str | ColumnSpec | Mapping], *,
                    what: str = "the areas", base: Sequence[str] = BASE_COLUMNS,
                    level: str | None = None) -> list[ColumnSpec]:
    """Base columns then ``columns`` (duplicates dropped), each checked against ``frame``.

    With ``level`` (``ward``, ``lsoa``...) the base ``code`` and ``name``
    are labelled for that kind of area (:data:`LEVEL_LABELS`).

    Raises :class:`UnknownColumnError` for a column ``frame`` lacks (naming
    the nearest ones it has) and :class:`FieldNameCollisionError` for names
    that differ only in case or that the file formats keep for themselves.
    """
    specs: dict[str, ColumnSpec] = {}
    geometry = frame.geometry.name if hasattr(frame, "geometry") else None
    code_label, name_label = LEVEL_LABELS.get(level, (None, None))
    by_level = {"code": code_label, "name": name_label}
    base = [ColumnSpec(b, by_level[b]) if isinstance(b, str) and by_level.get(b) else b for b in base]
    for column in [*base, *columns]:
        spec = as_spec(column)
        if spec.name == geometry:
            continue  # the geometry always goes out as the layer's geometry
        if spec.name in specs:
            if spec != as_spec(spec.name):  # a later, richer spec replaces the plain base one
                specs[spec.name] = spec
            continue
        specs[spec.name] = spec
    have = [c for c in frame.columns if c != geometry]
    for name in specs:
        if name not in frame.columns:
            close = [c for c in have if name.casefold()[:4] in c.casefold()][:5]
            hint = f"; similar: {', '.join(close)}" if close else f"; available: {', '.join(have[:12])}" + (" ..." if len(have) > 12 else "")
            raise UnknownColumnError(f"column {name!r} is not in {what}{hint}")
    check_names(specs, what=what)
    return list(specs.values())


def check_names(names: Iterable[str], *, what: str) -> None:
    """Refuse names GeoPackage/dBASE cannot hold side by side (same but for case) or keep for themselves."""
    seen: dict[str, str] = {}
    for name in names:
        if name.casefold() in RESERVED:
            raise FieldNameCollisionError(
                f"column {name!r} in {what} clashes with the GeoPackage's own {name.casefold()!r} column; rename it")
        if name.casefold() in seen:
            raise FieldNameCollisionError(
                f"columns {seen[name.casefold()]!r} and {name!r} in {what} differ only in case; "
                f"GeoPackage and Shapefile treat them as one field; rename one")
        seen[name.casefold()] = name


def label_lookup(specs: Iterable[ColumnSpec]) -> dict[str, ColumnSpec]:
    return {s.name: s for s in specs}


def header(spec: ColumnSpec) -> str:
    """What a person reads as the column's name: its label, with its unit unless the label says it already.

    ``Land area (km²)``, ``Usual residents (Census 2021), people``; a unit
    the label already contains (``Rank within Luton`` / ``rank``) is not
    repeated. Line breaks and runs of spaces become one space, and a double
    quote a single one: GDAL's CSV and GeoJSON readers drop double quotes
    from field names, and QGIS/SQL expressions quote field names with them.
    """
    label = " ".join(str(spec.label or spec.name).replace('"', "'").split())
    unit = " ".join(str(spec.unit or "").split())
    if not unit or unit.casefold() in label.casefold():
        return label
    return f"{label}, {unit}" if label.endswith(")") else f"{label} ({unit})"


def field_names(specs: Iterable[ColumnSpec]) -> dict[str, str]:
    """Full name -> readable field name (:func:`header`) for GeoPackage, GeoJSON and CSV.

    Unique without regard to case (GeoPackage/SQLite and GDAL compare
    field names that way) and never ``fid``/``geom``/``geometry``: a label
    that is taken keeps its meaning and gets the full name after it
    (``Score [score_2]``), then a number if even that is taken. Names are
    given in the order of ``specs``, so the same columns always get the
    same names.
    """
    taken = {r.casefold() for r in RESERVED}
    out: dict[str, str] = {}
    for spec in specs:
        base = header(spec)
        name = base if base.casefold() not in taken else f"{base} [{spec.name}]"
        number = 2
        while name.casefold() in taken:
            name = f"{base} [{spec.name}] {number}"
            number += 1
        taken.add(name.casefold())
        out[spec.name] = name
    return out
