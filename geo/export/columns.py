"""Columns an export carries: full name, label, unit, shapefile short name, dissolve rule.

Every export starts with the identity columns :data:`BASE_COLUMNS` (code,
name, lad_code, lad_name), then the columns asked for, in the order asked.
A column is a name, or a :class:`ColumnSpec` (or a dict with the same keys)
giving its label and unit for ``fields.csv``, the GeoPackage ``fields``
table and methodology.json.
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
    "code": ("GSS code", ""),
    "name": ("Area name", ""),
    "lad_code": ("District (LAD 2024) GSS code", ""),
    "lad_name": ("District (LAD 2024) name", ""),
    "ward_code": ("Electoral ward (2024) GSS code", ""),
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
                    what: str = "the areas", base: Sequence[str] = BASE_COLUMNS) -> list[ColumnSpec]:
    """Base columns then ``columns`` (duplicates dropped), each checked against ``frame``.

    Raises :class:`UnknownColumnError` for a column ``frame`` lacks (naming
    the nearest ones it has) and :class:`FieldNameCollisionError` for names
    that differ only in case or that the file formats keep for themselves.
    """
    specs: dict[str, ColumnSpec] = {}
    geometry = frame.geometry.name if hasattr(frame, "geometry") else None
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
