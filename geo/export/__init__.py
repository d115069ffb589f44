"""Exports for planners: priority areas as GeoPackage, Shapefile (zip), GeoJSON and CSV.

One function for the app and the CLI, :func:`export_areas` (and
:func:`export_bytes` for download buttons). Inputs are plain: a
GeoDataFrame of areas in EPSG:27700, the columns, a selection, a format and
a path; provenance (profile, area of interest, sources) travels with every
export as methodology.json. GeoPackage and Shapefile are written in
EPSG:27700, GeoJSON in EPSG:4326 (RFC 7946), CSV without geometry.

Modules: :mod:`~geo.export.selection` (``top:N,band:NAME,...``),
:mod:`~geo.export.columns` (labels, units), :mod:`~geo.export.fieldnames`
(10-character shapefile names), :mod:`~geo.export.neighbourhoods` (priority
neighbourhoods), :mod:`~geo.export.provenance` (methodology.json,
README.txt), :mod:`geo.csvsafe` (formula injection, shared by every CSV),
:mod:`~geo.export.writers` (one per format), :mod:`~geo.export.core`.

Wiring the CLI (``python cli.py export``)::

    p = sub.add_parser("export", help="export priority areas for QGIS, ArcGIS or Excel")
    p.add_argument("--profile", required=True); p.add_argument("--level", choices=["ward", "lsoa"], required=True)
    p.add_argument("--area", required=True)
    p.add_argument("--select", required=True, metavar="SPEC", help="e.g. top:20,band:High,robust,codes:FILE")
    p.add_argument("--dissolve", action="store_true")
    p.add_argument("--format", choices=list(FORMATS), required=True)
    p.add_argument("--out", required=True, metavar="PATH"); p.add_argument("--overwrite", action="store_true")

    def cmd_export(args):
        areas, provenance = ...  # the scored layer (EPSG:27700) and {"profile", "area_of_interest", "level", "sources"}
        result = export_areas(areas, columns, parse_selection(args.select), args.format, args.out,
                              overwrite=args.overwrite, dissolve=args.dissolve, provenance=provenance,
                              layers={"hubs": hubs} if hubs is not None else None)
        print(f"wrote {', '.join(str(p) for p in result.files)} ({result.feature_count} areas)", file=sys.stderr)
        return 0

``parse_selection`` reads ``codes:FILE`` relative to the current directory.
Every refusal is a :class:`~geo.errors.WardscopeError` with a one-line
message, so ``cli.main`` prints ``error: ...`` and exits 2 as for other
commands.

Wiring the app (a button per format wherever a selection is shown)::

    f = export_bytes(areas, columns, selection, fmt, stem="south_midlands_top20", provenance=provenance)
    st.download_button(f"Download {fmt}", data=f.data, file_name=f.filename, mime=f.mime)

(cache ``export_bytes`` with ``st.cache_data`` in the page, keyed by the inputs).
"""

from geo.export.columns import BASE_COLUMNS, ColumnSpec
from geo.export.core import (FORMAT_LABELS, FORMATS, ExportFile, ExportResult, bytes_filename, check_export_path,
                             export_areas, export_bytes)
from geo.export.fieldnames import short_names
from geo.export.provenance import request_from_methodology
from geo.export.selection import Selection, SelectionColumns, Threshold, parse_selection

__all__ = [
    "BASE_COLUMNS", "ColumnSpec", "ExportFile", "ExportResult", "FORMAT_LABELS", "FORMATS", "Selection", "SelectionColumns",
    "Threshold", "bytes_filename", "check_export_path", "export_areas", "export_bytes", "parse_selection",
    "request_from_methodology", "short_names",
]
