"""Exports for planners: priority areas as GeoPackage, Shapefile (zip), GeoJSON and CSV.

One function for the app and the CLI, :func:`export_areas` (and
:func:`export_bytes` for download buttons). Inputs are plain: a
GeoDataFrame of areas in EPSG:27700, the columns, a selection, a format and
a path; provenance (profile, area of interest, sources) travels with every
export as methodology.json. GeoPackage and Shapefile are written in
EPSG:27700, GeoJSON in EPSG:4326 (RFC 7946), CSV without geometry.

Modules: :mod:`~geo.export.selection` (``top:N,band:NAME,...``),
:mod:`~geo.export.columns` (labels, units), :mod:`~geo.export.fieldnames`
(10-character shapefile names), :mod:`~geo.export.dissolve` (priority
neighbourhoods), :mod:`~geo.export.provenance` (methodology.json,
README.txt), :mod:`~geo.export.csvsafe` (formula injection),
:mod:`~geo.export.writers` (one per format), :mod:`~geo.export.core`.
"""

from geo.export.columns import BASE_COLUMNS, ColumnSpec
from geo.export.core import FORMATS, ExportFile, ExportResult, export_areas, export_bytes
from geo.export.fieldnames import short_names
from geo.export.provenance import request_from_methodology
from geo.export.selection import Selection, SelectionColumns, Threshold, parse_selection

__all__ = [
    "BASE_COLUMNS", "ColumnSpec", "ExportFile", "ExportResult", "FORMATS", "Selection", "SelectionColumns",
    "Threshold", "export_areas", "export_bytes", "parse_selection", "request_from_methodology", "short_names",
]
