"""Reading uploaded vector layers (GeoJSON, zipped shapefile, GeoPackage).

The CRS rule: a layer must say its CRS. GeoJSON does by definition (RFC 7946:
WGS84), a GeoPackage in its metadata, a shapefile in its .prj. A shapefile
without a .prj (or any layer whose CRS is unknown) raises
:class:`~geo.errors.MissingPrjError` / :class:`~geo.errors.MissingCRSError`
asking whether it is EPSG:27700 or EPSG:4326; the answer comes back as
``assume_crs``. Nothing is guessed. The declared CRS is then checked against
the coordinates (``geo.crs.to_bng``) and the layer returned in EPSG:27700.

Geometries are checked: none may be missing or empty, none may have more
vertices than the limits allow (a 1,000,000-vertex polygon is refused before
any geometry work), and invalid ones are reported by feature number and
repaired (``shapely.make_valid``) only when ``repair=True``.
"""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from geo.config import UploadLimits, upload_limits
from geo.crs import BNG_BOUNDS, GB_LONLAT_BOUNDS, to_bng
from geo.errors import (
    CRSError, IncompleteShapefile, InvalidGeometryError, MissingCRSError, MissingPrjError, MultipleLayersError,
    UploadRejected, UploadTooLarge,
)
from geo.words import agree, count_of

#: GDAL driver each upload kind must open with.
DRIVERS = {"geojson": "GeoJSON", "zip-shapefile": "ESRI Shapefile", "gpkg": "GPKG"}
CRS_CHOICES = (27700, 4326)
_SHOWN_ROWS = 10


def _first_line(exc: BaseException, path: Path | None = None) -> str:
    """GDAL's first message line, without the server-side path of the stored file."""
    text = str(exc).strip()
    if path is not None:
        text = text.replace(str(path.parent) + "/", "").replace(str(path.parent), "")
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _rows(numbers) -> str:
    numbers = list(numbers)
    shown = ", ".join(f"#{n}" for n in numbers[:_SHOWN_ROWS])
    return shown + (f" and {len(numbers) - _SHOWN_ROWS:,} more" if len(numbers) > _SHOWN_ROWS else "")


def check_shapefile_parts(shp: Path, label: str) -> None:
    """Refuse a truncated or inconsistent shapefile from its headers (GDAL would read it silently short).

    Checks the .shp and .shx file codes and declared lengths against the real
    file sizes, and that .shx and .dbf hold the same number of records.
    """
    shp = Path(shp)
    shx, dbf = shp.with_suffix(".shx"), shp.with_suffix(".dbf")
    for part in (shp, shx):
        head = part.read_bytes()[:100] if part.stat().st_size else b""
        if len(head) < 100:
            raise IncompleteShapefile(f"{label}: the {part.suffix} file is truncated ({len(head)} bytes, less than its header)")
        code, = struct.unpack(">i", head[0:4])
        declared = struct.unpack(">i", head[24:28])[0] * 2
        if code != 9994:
            raise IncompleteShapefile(f"{label}: the {part.suffix} file is not a shapefile part (bad file code {code})")
        actual = part.stat().st_size
        if declared != actual:
            raise IncompleteShapefile(
                f"{label}: the {part.suffix} file is truncated or damaged (its header says {declared:,} bytes, "
                f"the file has {actual:,}); export or zip the shapefile again"
            )
    shx_records = (shx.stat().st_size - 100) // 8
    head = dbf.read_bytes()[:32]
    if len(head) < 32:
        raise IncompleteShapefile(f"{label}: the .dbf file is truncated ({len(head)} bytes, less than its header)")
    records, = struct.unpack("<I", head[4:8])
    header_len, record_len = struct.unpack("<HH", head[8:12])
    needed = header_len + records * record_len
    if dbf.stat().st_size < needed:
        raise IncompleteShapefile(
            f"{label}: the .dbf file is truncated (its header says {records:,} records needing {needed:,} bytes, "
            f"the file has {dbf.stat().st_size:,}); export or zip the shapefile again"
        )
    if records != shx_records:
        raise IncompleteShapefile(
            f"{label}: the .shx and .dbf files disagree ({shx_records:,} shapes but {records:,} attribute rows); "
            f"they are from different exports"
        )


def _crs_hint(gdf: gpd.GeoDataFrame) -> int | None:
    if not len(gdf) or gdf.geometry.isna().all():
        return None
    minx, miny, maxx, maxy = gdf.total_bounds
    box = (minx, miny, maxx, maxy)
    for epsg, (bx0, by0, bx1, by1) in ((4326, GB_LONLAT_BOUNDS), (27700, BNG_BOUNDS)):
        if bx0 <= box[0] and by0 <= box[1] and box[2] <= bx1 and box[3] <= by1:
            return epsg
    return None


def _missing_crs(gdf, upload, label: str) -> MissingCRSError:
    hint = _crs_hint(gdf)
    looks = {27700: " (the coordinates look like British National Grid metres)",
             4326: " (the coordinates look like longitude/latitude degrees)"}.get(hint, "")
    question = ("is it British National Grid (EPSG:27700, metres such as 512000, 221000) or WGS84 "
                f"longitude/latitude (EPSG:4326, such as -0.42, 51.88)?{looks}")
    if upload.kind == "zip-shapefile" and not upload.has_prj:
        return MissingPrjError(f"{label}: the shapefile has no .prj file, so its coordinate system is unknown; "
                               f"{question}", hint=hint)
    return MissingCRSError(f"{label}: the layer does not say its coordinate system; {question}", hint=hint)


def _choose_layer(path: Path, layer: str | None, label: str) -> str | None:
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # pyogrio raises GDAL-specific error types
        raise UploadRejected(f"{label}: cannot be read as a GeoPackage ({_first_line(exc, path)})") from None
    spatial = [str(name) for name, geom in layers if geom is not None]
    if layer is not None:
        if layer not in spatial:
            raise UploadRejected(f"{label}: has no layer with geometry called {layer!r}; it has {', '.join(spatial) or 'none'}")
        return layer
    if not spatial:
        raise UploadRejected(f"{label}: has no layer with geometry")
    if len(spatial) > 1:
        raise MultipleLayersError(
            f"{label}: holds {len(spatial)} layers ({', '.join(spatial[:8])}); choose which one to use",
            layers=tuple(spatial))
    return spatial[0]


def _rows_outside(geoms: np.ndarray, box: tuple[float, float, float, float] | None) -> np.ndarray:
    """Row positions with a non-finite vertex, or (with ``box``) a vertex outside ``box``."""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    if box is not None:
        x0, y0, x1, y1 = box
        bad |= (coords[:, 0] < x0) | (coords[:, 0] > x1) | (coords[:, 1] < y0) | (coords[:, 1] > y1)
    return np.unique(index[bad])


def _not_a_number(label: str, rows) -> UploadRejected:
    n = len(rows)
    return UploadRejected(f"{label}: {agree(n, 'feature', 'features')} {_rows(rows)} {agree(n, 'has', 'have')} a "
                          "coordinate that is not a number (NaN or "
                          f"infinite; counting from 1); fix or remove them in your GIS")


def nan_points(path: Path, rows, layer: str | None = None) -> list[int]:
    """Which of ``rows`` (0-based) are points with a NaN or infinite coordinate in the file at ``path``.

    GDAL hands such a point (GeoJSON ``[NaN, 51]``) to geopandas as an empty point, indistinguishable
    from a feature without geometry, so the point's own WKB is read again to tell the two apart.
    """
    rows = [int(r) for r in rows]
    if not rows:
        return []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # GDAL's notes were collected by the first read
            wkbs = pyogrio.raw.read(path, layer=layer, columns=[], read_geometry=True)[2]
    except Exception:  # pyogrio raises GDAL-specific error types; the file was readable a moment ago
        return []
    out = []
    for row in rows:
        wkb = wkbs[row] if row < len(wkbs) else None
        if wkb is None or len(wkb) < 21:
            continue
        order = "<" if wkb[0] == 1 else ">"
        kind, = struct.unpack(order + "I", wkb[1:5])
        start = 9 if kind & 0x20000000 else 5  # EWKB may carry an SRID before the coordinates
        if (kind & 0x0FFFFFFF) % 1000 == 1:  # Point, with or without Z/M (ISO 1001..3001 or EWKB flags)
            coords = np.frombuffer(wkb[start:start + 8 * ((len(wkb) - start) // 8)], dtype=order + "f8")
            if coords.size and not np.isfinite(coords).all():
                out.append(row)
    return out


def _repair(geoms: np.ndarray) -> np.ndarray:
    fixed = shapely.make_valid(geoms)
    out = []
    for before, after in zip(geoms, fixed):
        dim = shapely.get_dimensions(before)
        parts = [p for p in shapely.get_parts(after) if shapely.get_dimensions(p) == dim]
        out.append(shapely.union_all(parts) if len(parts) > 1 else (parts[0] if parts else after))
    return np.asarray(out, dtype=object)


def read_vector(upload, *, assume_crs: int | None = None, repair: bool = False, layer: str | None = None,
                limits: UploadLimits | None = None) -> gpd.GeoDataFrame:
    """Read a vector ``Upload`` as a GeoDataFrame in EPSG:27700.

    Parameters
    ----------
    upload : an ``Upload`` of kind ``geojson``, ``zip-shapefile`` or ``gpkg``.
    assume_crs : 27700 or 4326: the user's answer to a :class:`MissingCRSError`.
        Used only when the file does not declare a CRS; a declared CRS wins.
    repair : repair invalid geometries with ``shapely.make_valid`` (keeping
        parts of the original dimension) instead of refusing them.
    layer : GeoPackage layer to read when there are several.

    Returns
    -------
    GeoDataFrame in EPSG:27700 with the file's attribute columns, one row per
    feature in file order. ``attrs``: ``source``, ``repaired_rows`` (1-based
    feature numbers repaired), ``crs_assumed`` (the EPSG code applied, or None),
    ``warnings`` (GDAL's notes while reading, e.g. a column it could not parse).

    Raises
    ------
    MissingPrjError / MissingCRSError (choose 27700 or 4326), CRSError (CRS
    not 27700/4326, or coordinates that do not match it), InvalidGeometryError
    (rows listed), UploadTooLarge (features/vertices), IncompleteShapefile,
    MultipleLayersError, UploadRejected (unreadable).
    """
    limits = limits or upload_limits()
    label = upload.name
    if assume_crs is not None and assume_crs not in CRS_CHOICES:
        raise CRSError(f"{label}: the coordinate system must be EPSG:27700 or EPSG:4326, not {assume_crs!r}")
    path = upload.path
    if upload.kind == "zip-shapefile":
        check_shapefile_parts(path, label)
    if upload.kind == "gpkg":
        layer = _choose_layer(path, layer, label)
    if upload.kind != "geojson":  # GDAL parses a whole GeoJSON to open it, so it is checked after reading
        try:
            info = pyogrio.read_info(path, layer=layer)
        except Exception as exc:  # pyogrio raises GDAL-specific error types
            raise UploadRejected(f"{label}: cannot be read as {upload.kind} ({_first_line(exc, path)})") from None
        if info.get("driver") != DRIVERS[upload.kind]:
            raise UploadRejected(f"{label}: opened as {info.get('driver')}, not {DRIVERS[upload.kind]}; refused")
        features = int(info.get("features") or 0)
        if features > limits.max_features:
            raise UploadTooLarge(f"{label}: has {features:,} features; the limit is {limits.max_features:,}")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gdf = pyogrio.read_dataframe(path, layer=layer, use_arrow=True)
    except Exception as exc:  # pyogrio raises GDAL-specific error types
        raise UploadRejected(f"{label}: cannot be read as {upload.kind} ({_first_line(exc, path)})") from None
    # GDAL's warnings (e.g. a column it could not parse) become notes for the user, not log noise
    notes = list(dict.fromkeys(f"{label}: {_first_line(w.message, path)}" for w in caught))[:5]
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise UploadRejected(f"{label}: has no geometry")
    if gdf.empty:
        raise UploadRejected(f"{label}: contains no features")
    if len(gdf) > limits.max_features:
        raise UploadTooLarge(f"{label}: has {len(gdf):,} features; the limit is {limits.max_features:,}")
    gdf = gdf.reset_index(drop=True)
    geoms = gdf.geometry.to_numpy()
    missing = np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if len(missing):
        nan = nan_points(path, missing, layer)
        if nan:
            raise _not_a_number(label, np.asarray(nan) + 1)
        raise UploadRejected(
            f"{label}: {count_of(len(missing), 'feature')} {agree(len(missing), 'has', 'have')} no geometry: "
            f"{_rows(missing + 1)} (counting from 1)")
    vertices = shapely.get_num_coordinates(geoms)
    worst = int(vertices.argmax())
    if vertices[worst] > limits.max_vertices_per_feature:
        raise UploadTooLarge(
            f"{label}: feature #{worst + 1} has {int(vertices[worst]):,} vertices; the limit is "
            f"{limits.max_vertices_per_feature:,} per feature (simplify it first, e.g. QGIS Vector > Geometry Tools > Simplify)")
    if int(vertices.sum()) > limits.max_vertices_total:
        raise UploadTooLarge(
            f"{label}: has {int(vertices.sum()):,} vertices in all; the limit is {limits.max_vertices_total:,} "
            f"(simplify the layer first)")
    odd = _rows_outside(geoms, None)
    if len(odd):
        raise _not_a_number(label, odd + 1)
    crs_assumed = None
    if gdf.crs is None:
        if assume_crs is None:
            raise _missing_crs(gdf, upload, label)
        gdf = gdf.set_crs(assume_crs)
        crs_assumed = assume_crs
    try:
        gdf = to_bng(gdf, source=label)
    except CRSError:
        if crs_assumed is None:
            raise
        other = {27700: 4326, 4326: 27700}[crs_assumed]
        if crs_assumed == 27700 and _crs_hint(gdf) == 4326:
            raise CRSError(f"{label}: you chose EPSG:27700 but the coordinates look like longitude/latitude, not "
                           f"British National Grid metres; choose EPSG:4326 instead") from None
        fits = " but fit EPSG:%d; choose that instead" % other if _crs_hint(gdf) == other else ""
        raise CRSError(f"{label}: you chose EPSG:{crs_assumed} but the coordinates do not fit it{fits}") from None
    geoms = gdf.geometry.to_numpy()
    # to_bng checks the layer's envelope, which ignores holes; every vertex must lie in Great Britain.
    outside = _rows_outside(geoms, BNG_BOUNDS)
    if len(outside):
        raise CRSError(f"{label}: {agree(len(outside), 'feature', 'features')} {_rows(outside + 1)} "
                       f"{agree(len(outside), 'has', 'have')} points outside Great Britain "
                       f"(counting from 1); check the coordinates and the coordinate system")
    valid = shapely.is_valid(geoms)
    bad = np.flatnonzero(~valid)
    repaired: list[int] = []
    if len(bad):
        if not repair:
            reason = shapely.is_valid_reason(geoms[bad[0]])
            raise InvalidGeometryError(
                f"{label}: {len(bad):,} invalid geometr{'y' if len(bad) == 1 else 'ies'} at "
                f"{agree(len(bad), 'feature', 'features')} {_rows(bad + 1)} "
                f"(counting from 1; first: {reason}); fix them in your GIS or choose to repair them",
                rows=tuple(int(b) + 1 for b in bad))
        geoms = geoms.copy()
        try:
            geoms[bad] = _repair(geoms[bad])
        except shapely.errors.GEOSException as exc:
            raise InvalidGeometryError(f"{label}: could not repair {agree(len(bad), 'feature', 'features')} "
                                       f"{_rows(bad + 1)} ({_first_line(exc)}); "
                                       f"fix them in your GIS", rows=tuple(int(b) + 1 for b in bad)) from None
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, crs=gdf.crs, index=gdf.index))
        repaired = [int(b) + 1 for b in bad]
    gdf.attrs.update(source=label, repaired_rows=repaired, crs_assumed=crs_assumed, warnings=notes)
    return gdf
