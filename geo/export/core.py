"""The one export function used by the app and the CLI, and its in-memory variant.

Files written (``OUT`` is the output path, ``STEM`` its name without suffix):

=========  ===================================================================
format     files
=========  ===================================================================
gpkg       ``OUT`` (``.gpkg``: areas + extra layers + metadata/fields[/members]
           tables) and ``OUT.methodology.json`` beside it
shp        ``OUT`` (``.zip``: areas.shp/.shx/.dbf/.prj/.cpg, one shapefile per
           extra layer, fields.csv, README.txt, methodology.json[, members.csv])
geojson    ``OUT`` (``.geojson``), ``STEM.<layer>.geojson`` per extra layer,
           ``OUT.methodology.json``
csv        ``OUT`` (``.csv``), ``STEM.<layer>.csv`` per extra layer (points get
           easting/northing), ``OUT.methodology.json``
=========  ===================================================================

Field names: GeoPackage, GeoJSON and CSV name each field by its label
(``Ward code (GSS)``, ``Priority band ...``); the shapefile uses 10-character
names with ``fields.csv``. Every format maps the names back to the full
column names: the GeoPackage's ``fields`` table (``field_name``), fields.csv
(``short_name``) and methodology.json (``columns[].field_name``).
``raw_names=True`` writes the full names themselves (for scripts).

Rule: the shapefile zip carries its methodology inside; every other format
gets ``OUT.methodology.json`` beside the file (``top20.csv`` ->
``top20.csv.methodology.json``, so a CSV and a GeoPackage of the same name
never share one) (the GeoPackage also holds it
in its ``metadata`` table). All files of one export are written to temporary
names in the output directory and renamed into place only when all are
complete (the main file last), so a failure leaves nothing behind and an
existing export is untouched.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Mapping, Sequence

import geopandas as gpd
import pandas as pd
import pyogrio.errors
import shapely

from geo import atomic, csvsafe
from geo.crs import require_bng
from geo.errors import EmptySelectionError, ExportError, GSSCodeError, OutputExistsError, UnknownColumnError
from geo.export import writers
from geo.export.columns import BASE_COLUMNS, ColumnSpec, as_spec, check_names, resolve_columns
from geo.contiguity import ADJACENCY
from geo.export.neighbourhoods import dissolve_adjacent, dissolved_specs
from geo.export.provenance import build_methodology, metadata_rows, readme_text
from geo.export.selection import Selection, SelectionColumns, parse_selection
from geo.export.writers import Layer
from geo.gss import LEVEL_NAMES
from geo.outputs import check_output, not_writable

#: format -> (file suffix, MIME type)
FORMATS: dict[str, tuple[str, str]] = {
    "gpkg": (".gpkg", "application/geopackage+sqlite3"),
    "shp": (".zip", "application/zip"),
    "geojson": (".geojson", "application/geo+json"),
    "csv": (".csv", "text/csv"),
}
#: format -> what a person calls it (the app's download buttons)
FORMAT_LABELS: dict[str, str] = {"gpkg": "GeoPackage", "shp": "Shapefile (zip)", "geojson": "GeoJSON", "csv": "CSV (Excel)"}
_LAYER_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
RESERVED_LAYERS = ("areas", "metadata", "fields", "members")


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: the main file, every file, the methodology record and the feature count."""

    path: Path
    files: tuple[Path, ...]
    methodology: dict
    feature_count: int


@dataclass(frozen=True)
class ExportFile:
    """An export in memory, for a download button: bytes, a file name and a MIME type."""

    data: bytes
    filename: str
    mime: str


def export_areas(areas: gpd.GeoDataFrame, columns: Sequence[str | ColumnSpec | Mapping],
                 selection: Selection | str | None, fmt: str, out: str | Path, *,
                 overwrite: bool = False, dissolve: bool = False, population: str = "population",
                 layers: Mapping[str, gpd.GeoDataFrame] | None = None, provenance: Mapping | None = None,
                 selection_columns: SelectionColumns = SelectionColumns(),
                 now: datetime | None = None, raw_names: bool = False) -> ExportResult:
    """Export selected areas with chosen columns and their provenance.

    Parameters
    ----------
    areas : GeoDataFrame in EPSG:27700 (British National Grid, metres) with
        ``code``, ``name``, ``lad_code``, ``lad_name`` and any other columns
        (score, rank, band, robust, indicators...). Unique ``code``.
    columns : columns to export after the base four, in order: names or
        :class:`ColumnSpec`/dicts with ``label`` and ``unit``.
    selection : a :class:`Selection`, selection text (``"top:20,robust"``,
        see :mod:`geo.export.selection`) or None for every area.
    fmt : ``gpkg``, ``shp``, ``geojson`` or ``csv``.
    out : output path; a missing suffix is added (``.gpkg``, ``.zip``,
        ``.geojson``, ``.csv``), a different one is refused.
    overwrite : replace existing output files (else :class:`OutputExistsError`).
    dissolve : merge adjacent selected areas into priority neighbourhoods
        (:mod:`geo.export.neighbourhoods`); needs ``population``.
    layers : extra layers by name (e.g. ``{"hubs": ..., "sites": ...}``),
        EPSG:27700, all their columns exported.
    provenance : profile, area_of_interest, level and sources (see
        :mod:`geo.export.provenance`); recorded in methodology.json.
    selection_columns : names of the rank/score/band/robust columns.
    now : export time (default: the current time, recorded in UTC).
    raw_names : name GeoPackage, GeoJSON and CSV fields by their full
        column names (``lad_code``) instead of their labels (``District
        code (GSS, LAD 2024)``); the shapefile always has short names.

    Returns
    -------
    ExportResult
        GeoPackage and shapefile in EPSG:27700; GeoJSON in EPSG:4326.

    Raises
    ------
    WardscopeError subclasses, each with a one-line message, before any file
    is opened: CRSError, UnknownColumnError, FieldNameCollisionError,
    SelectionSyntaxError, EmptySelectionError, OutputExistsError,
    ExportError; and OutputNotWritableError when the disk refuses. In every
    case (and on any other failure while writing) no file is left behind.
    """
    prepared = _prepare(areas, columns, selection, fmt, dissolve=dissolve, population=population,
                        layers=layers or {}, selection_columns=selection_columns, provenance=provenance,
                        raw_names=raw_names)
    path, side = _checked_targets(out, fmt, prepared.extra, overwrite=overwrite)
    targets = [path, *side.values()]
    names = [p.name for p in targets] if fmt != "shp" else _zip_names(prepared)
    methodology = build_methodology(
        provenance, fmt=fmt, crs="EPSG:4326" if fmt == "geojson" else "EPSG:27700", selection=prepared.selection,
        selection_columns=selection_columns, dissolve=prepared.dissolve_info, columns=prepared.main.specs,
        short_names=prepared.main.short if fmt == "shp" else None,
        field_names=prepared.main.short if fmt != "shp" else None, layers={l.name: len(l.frame) for l in prepared.all_layers},
        selected_codes=prepared.selected_codes, files=names, now=now)
    try:
        with atomic.atomic_files(targets, overwrite=overwrite) as temps:
            _write_format(fmt, prepared, methodology, temps, side, path.parent)
    except FileExistsError as exc:  # another export took the name while this one was writing
        raise OutputExistsError(f"{exc.filename or path} already exists (another export wrote it meanwhile); "
                                f"choose another name or overwrite it (--overwrite)") from None
    except (OSError, pyogrio.errors.DataSourceError) as exc:
        raise not_writable(path, exc) from None
    return ExportResult(path, tuple(targets), methodology, len(prepared.main.frame))


def check_export_path(out: str | Path, fmt: str, *, overwrite: bool = False) -> Path:
    """The file an export to ``out`` would write, after the checks :func:`export_areas` makes first.

    For a caller with slow work to do before exporting (the CLI scores first): a folder, a file in
    the way, a name that is too long or an existing file without ``overwrite`` is refused at once.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return _checked_targets(out, fmt, [], overwrite=overwrite)[0]


def _checked_targets(out, fmt: str, extra: list[Layer], *, overwrite: bool) -> tuple[Path, dict[str, Path]]:
    example = f"priority_areas{FORMATS[fmt][0]}"
    check_output(Path(out), example=example)  # a folder is refused, not written as "folder.csv" beside it
    path = _output_path(out, fmt)
    side = _side_files(path, fmt, extra)
    for target in (path, *side.values()):
        check_output(target, overwrite=overwrite, example=example)
    return path, side


def bytes_filename(stem: str, fmt: str, *, bundle: bool = True) -> tuple[str, str]:
    """(file name, MIME type) that :func:`export_bytes` gives for ``stem`` and ``fmt``."""
    suffix, mime = FORMATS[fmt]
    if fmt in ("gpkg", "shp") or not bundle:
        return f"{stem}{suffix}", mime
    return f"{stem}_{fmt}.zip", "application/zip"


def export_bytes(areas: gpd.GeoDataFrame, columns: Sequence[str | ColumnSpec | Mapping],
                 selection: Selection | str | None, fmt: str, *, stem: str = "wardscope_priority_areas",
                 bundle: bool = True, **options) -> ExportFile:
    """The same export in memory, for Streamlit's ``st.download_button(data=, file_name=, mime=)``.

    GeoPackage (methodology inside) and shapefile zip come back as the file
    itself. GeoJSON and CSV come back as a zip of the file, any extra layers
    and the methodology.json (``STEM_<fmt>.zip``) unless ``bundle=False``,
    which returns the bare file. ``options`` are those of :func:`export_areas`.
    """
    if not re.match(r"^[\w.-]+$", stem):
        raise ExportError(f"file name {stem!r} should be letters, digits, '.', '-' or '_'")
    with tempfile.TemporaryDirectory(prefix="wardscope-export-") as tmp:
        result = export_areas(areas, columns, selection, fmt, Path(tmp) / stem, **options)
        name, mime = bytes_filename(stem, fmt, bundle=bundle)
        if fmt in ("gpkg", "shp") or not bundle:
            return ExportFile(result.path.read_bytes(), name, mime)
        target = Path(tmp) / name
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for file in result.files:
                writers.add_to_zip(archive, file.name, file.read_bytes())
        return ExportFile(target.read_bytes(), name, mime)


# -- preparation (no files touched) ----------------------------------------------

@dataclass
class _Prepared:
    main: Layer
    extra: list[Layer]
    tables: dict[str, pd.DataFrame]
    selection: Selection
    selected_codes: list[str]
    dissolve_info: dict | None
    what: str

    @property
    def all_layers(self) -> list[Layer]:
        return [self.main, *self.extra]


def _prepare(areas, columns, selection, fmt, *, dissolve, population, layers, selection_columns, provenance,
             raw_names=False) -> _Prepared:
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if not isinstance(areas, gpd.GeoDataFrame):
        raise ExportError(f"areas must be a GeoDataFrame with geometry, not {type(areas).__name__}")
    require_bng(areas, what="areas to export")
    missing = [c for c in BASE_COLUMNS if c not in areas.columns]
    if missing:
        raise UnknownColumnError(f"the areas lack the column(s) {', '.join(missing)}; every export needs {', '.join(BASE_COLUMNS)}")
    duplicated = areas["code"][areas["code"].duplicated()]
    if len(duplicated):
        raise GSSCodeError(f"area code {duplicated.iloc[0]} appears more than once; each area must appear once")
    level = (provenance or {}).get("level")
    specs = resolve_columns(areas, columns, level=level)
    if not isinstance(selection, Selection):
        selection = parse_selection(selection) if selection is not None else Selection()
    chosen = selection.apply(areas, selection_columns)
    if chosen.empty:
        raise EmptySelectionError(f"the selection {selection.text()!r} matched none of the {len(areas)} areas; nothing was written")
    chosen = gpd.GeoDataFrame(chosen, geometry=areas.geometry.name, crs=areas.crs)
    chosen = _valid(chosen)
    selected_codes = chosen["code"].tolist()
    what = f"{LEVEL_NAMES.get(level, level)} areas" if level else "areas"
    tables: dict[str, pd.DataFrame] = {}
    info = None
    if dissolve:
        frame, members = dissolve_adjacent(chosen, specs, population=population,
                                           score=selection_columns.score, rank=selection_columns.rank)
        info = {"population": population, "adjacency": ADJACENCY, "neighbourhoods": len(frame),
                "areas": len(chosen), "columns": [s.to_dict() for s in specs]}
        specs = dissolved_specs(specs, population)
        tables["members"] = members
        main = Layer("areas", frame, specs, f"{len(frame)} priority neighbourhoods merged from {len(chosen)} selected {what}")
        what = "priority neighbourhoods"
    else:
        frame = chosen[[s.name for s in specs] + [chosen.geometry.name]]
        main = Layer("areas", frame, specs, f"{len(frame)} selected {what}; selection {selection.text()}")
    # an extra layer (hubs, sites) shares the areas' labels, except what an area's code and name are called
    labels = {s.name: s for s in specs if s.name not in ("code", "name")}
    labels.update({"code": ColumnSpec("code", "Code"), "name": ColumnSpec("name", "Name")})
    extra = []
    for name, layer in layers.items():
        if not _LAYER_NAME.match(name) or name in RESERVED_LAYERS:
            raise ExportError(f"extra layer name {name!r} should be lower-case letters, digits and _ (not {', '.join(RESERVED_LAYERS)})")
        if not isinstance(layer, gpd.GeoDataFrame):
            raise ExportError(f"extra layer {name!r} must be a GeoDataFrame, not {type(layer).__name__}")
        require_bng(layer, what=f"extra layer {name!r}")
        layer_specs = [as_spec(labels.get(c, c)) for c in layer.columns if c != layer.geometry.name]
        check_names([s.name for s in layer_specs], what=f"extra layer {name!r}")
        extra.append(Layer(name, _valid(layer.reset_index(drop=True)), layer_specs, f"{len(layer)} {name}"))
    if fmt == "shp":  # choose short names now: a collision must stop the export before any file exists
        main, *extra = writers.shapefile_layers([main, *extra])
    elif not raw_names:
        main, *extra = writers.labelled_layers([main, *extra])
    return _Prepared(main, extra, tables, selection, selected_codes, info, what)


def _valid(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Repair invalid geometries (keeping their structure) so every export holds valid ones."""
    invalid = ~frame.geometry.is_valid
    if invalid.any():
        frame = frame.copy()
        fixed = shapely.make_valid(frame.geometry.to_numpy()[invalid.to_numpy()], method="structure", keep_collapsed=False)
        frame.loc[invalid, frame.geometry.name] = fixed
    return frame


def _output_path(out: str | Path, fmt: str) -> Path:
    path = Path(out).expanduser()
    suffix = FORMATS[fmt][0]
    allowed = {suffix, ".json"} if fmt == "geojson" else {suffix}
    if path.suffix.lower() in allowed:
        return path
    if path.suffix == "" or path.suffix.lower() not in {".gpkg", ".zip", ".geojson", ".json", ".csv", ".shp"}:
        return path.with_name(path.name + suffix)
    raise ExportError(f"{path.name}: a {fmt} export is written as a {suffix} file; change the name to end in {suffix}")


def _side_files(path: Path, fmt: str, extra: list[Layer]) -> dict[str, Path]:
    if fmt == "shp":
        return {}
    stem = path.name[: -len(path.suffix)]
    files = {"methodology": path.with_name(f"{path.name}.methodology.json")}
    if fmt in ("geojson", "csv"):
        for layer in extra:
            files[layer.name] = path.with_name(f"{stem}.{layer.name}{path.suffix}")
    return files


def _zip_names(prepared: _Prepared) -> list[str]:
    names = [f"{l.name}{s}" for l in prepared.all_layers for s in writers.SHAPEFILE_PARTS]
    return names + ["fields.csv", *(["members.csv"] if prepared.dissolve_info else []), "README.txt", "methodology.json"]


# -- per-format writing ------------------------------------------------------------

def _write_format(fmt: str, prepared: _Prepared, methodology: dict, temps: list[Path], side: dict[str, Path], folder: Path) -> None:
    main_tmp, side_tmps = temps[0], dict(zip(side, temps[1:]))
    method_json = writers.json_bytes(methodology)
    if "methodology" in side_tmps:
        side_tmps["methodology"].write_bytes(method_json)
    if fmt == "gpkg":
        tables = {"metadata": metadata_rows(methodology), "fields": writers.fields_table(prepared.all_layers, "field_name"),
                  **prepared.tables}
        writers.write_gpkg(main_tmp, prepared.all_layers, tables)
    elif fmt == "shp":
        extras = {"fields.csv": csvsafe.to_csv_bytes(writers.fields_table(prepared.all_layers))}
        if "members" in prepared.tables:
            extras["members.csv"] = csvsafe.to_csv_bytes(prepared.tables["members"])
        extras["README.txt"] = readme_text(methodology, _zip_notes(prepared)).encode("utf-8")
        extras["methodology.json"] = method_json
        with tempfile.TemporaryDirectory(prefix=f".{main_tmp.name}.", dir=folder) as work:
            writers.write_shapefile_zip(main_tmp, prepared.all_layers, extras, Path(work))
    else:
        write = writers.write_geojson if fmt == "geojson" else writers.write_csv
        write(main_tmp, prepared.main)
        for layer in prepared.extra:
            write(side_tmps[layer.name], layer)


def _zip_notes(prepared: _Prepared) -> list[str]:
    notes = [f"areas.shp (.shx .dbf .prj .cpg): {len(prepared.main.frame)} {prepared.what} as polygons in "
             f"British National Grid (EPSG:27700); text is UTF-8 (.cpg)."]
    for layer in prepared.extra:
        notes.append(f"{layer.name}.shp (.shx .dbf .prj .cpg): {len(layer.frame)} {layer.name}, EPSG:27700.")
    notes.append("fields.csv: every field's 10-character shapefile name with its full name, label and unit.")
    if prepared.dissolve_info:
        notes.append("members.csv: every selected area and the priority neighbourhood it was merged into "
                     "(lists in the shapefile are cut at 254 characters; this file has them all).")
    notes += ["methodology.json: how these areas were chosen, machine-readable (for re-running the export).",
              "README.txt: this file."]
    return notes
