"""The upload gate: the one way any uploaded or user-supplied file enters Wardscope.

Every page and CLI command that takes a file from a user calls
:func:`accept_upload` (or :func:`accept_file` for a local path), then one
reader for what it expects::

    upload = accept_upload(name, data, workspace=ws, kinds={"csv"})
    table = read_table_upload(upload)                    # pandas DataFrame of text
    layer = read_vector_upload(upload, assume_crs=None)  # GeoDataFrame, EPSG:27700
    profile = read_yaml_upload(upload)                   # plain dict/list data

The gate enforces the size limit (``geo.config.max_upload_mb()``), decides
the kind from the content (never the extension), inspects zip archives before
extracting anything, and writes only inside the session's
:class:`~geo.workspace.SessionWorkspace`, under names it chooses. Nothing
uploaded is ever unpickled, evaluated or imported. Every refusal is a
one-line :class:`~geo.errors.UploadRejected` (a ``WardscopeError``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from pathlib import Path
from typing import Any, BinaryIO

from geo import atomic
from geo.upload import archives
from geo.config import UploadLimits, upload_limits
from geo.errors import UploadExpired, UploadRejected, UploadTooLarge
from geo.safe_yaml import load_yaml_safely
from geo.upload.sniff import DESCRIPTIONS, KINDS, decode_text, detect_kind
from geo.words import count_of
from geo.workspace import SessionWorkspace

__all__ = [
    "Upload", "accept_upload", "accept_file", "read_upload", "read_table_upload", "read_vector_upload",
    "read_yaml_upload", "read_gtfs_upload", "describe_result", "load_yaml_safely", "TABLE_KINDS", "VECTOR_KINDS",
    "PROFILE_KINDS", "GTFS_KINDS", "KINDS",
]

TABLE_KINDS = frozenset({"csv"})
VECTOR_KINDS = frozenset({"geojson", "zip-shapefile", "gpkg"})
PROFILE_KINDS = frozenset({"yaml"})
GTFS_KINDS = frozenset({"gtfs"})

#: File name each kind is stored under inside its upload directory (GDAL picks drivers by suffix).
_STORED_NAME = {"csv": "upload.csv", "geojson": "upload.geojson", "gpkg": "upload.gpkg", "yaml": "upload.yaml",
                "gtfs": "feed.zip"}
_READ_CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True)
class Upload:
    """A file that passed the gate, stored inside a session workspace.

    Attributes
    ----------
    name : the name the user gave, cleaned for display (never used as a path).
    kind : ``csv``, ``geojson``, ``zip-shapefile``, ``gpkg``, ``yaml`` or ``gtfs``, from the content.
    path : the stored file inside the workspace (for a zipped shapefile, the extracted ``layer.shp``;
        a GTFS feed stays zipped, its archive checked like any other).
    sha256 : hex digest of the bytes as uploaded: the cache key (see ``geo.contentcache``).
    size : bytes as uploaded.
    encoding : ``utf-8``, ``utf-8-sig`` or ``cp1252`` for text kinds, else None.
    files : every file stored for this upload (shapefile parts included).
    member : for a zipped shapefile, the .shp's name inside the zip (shown to the user, never a path).
    """

    name: str
    kind: str
    path: Path
    sha256: str
    size: int
    encoding: str | None = None
    files: tuple[Path, ...] = ()
    member: str | None = None

    @property
    def has_prj(self) -> bool:
        """For a zipped shapefile: whether a .prj file came with it."""
        return any(p.suffix == ".prj" for p in self.files)

    def require_present(self) -> None:
        """Raise :class:`UploadExpired` if the stored file is gone (session closed)."""
        if not all(p.is_file() for p in (self.path, *self.files)):
            raise UploadExpired(f"{self.name}: the uploaded file is no longer available (the session ended); upload it again")


def display_name(name: object) -> str:
    """A user-supplied file name made safe to show: last path part, printable, at most 80 characters."""
    text = str(name or "")
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(c for c in text if unicodedata.category(c)[0] not in ("C", "Z") or c == " ").strip()
    if len(text) > 80:
        text = text[:60] + "..." + text[-17:]
    return text or "upload"


def _read_bounded(data: Any, max_bytes: int, label: str) -> bytes:
    def size(n: int, decimals: int) -> str:
        return f"{n / 2**20:,.{decimals}f} MB" if n >= 2**20 else f"{n:,} bytes"

    def too_big(n: int | None) -> UploadTooLarge:
        shown = size(n, 1) if n is not None else "more than that"
        return UploadTooLarge(f"{label}: is {shown}; the upload limit is {size(max_bytes, 0)} (WARDSCOPE_MAX_UPLOAD_MB)")

    if isinstance(data, (bytes, bytearray, memoryview)):
        if len(data) > max_bytes:
            raise too_big(len(data))
        return bytes(data)
    if not hasattr(data, "read"):
        raise TypeError(f"accept_upload takes bytes or a binary file object, not {type(data).__name__}")
    declared = getattr(data, "size", None)  # Streamlit's UploadedFile
    if isinstance(declared, int) and declared > max_bytes:
        raise too_big(declared)
    if getattr(data, "seekable", lambda: False)():
        data.seek(0)
    chunks, total = [], 0
    while True:
        chunk = data.read(min(_READ_CHUNK, max_bytes + 1 - total))
        if not chunk:
            break
        if isinstance(chunk, str):
            raise TypeError("accept_upload needs a binary file object (open it with 'rb')")
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            raise too_big(None)
    return b"".join(chunks)


def accept_upload(
    name: str,
    data: bytes | BinaryIO,
    *,
    workspace: SessionWorkspace,
    kinds: set[str] | frozenset[str],
    max_bytes: int | None = None,
    limits: UploadLimits | None = None,
) -> Upload:
    """Check an upload and store it in ``workspace``; the gate every page and command uses.

    Parameters
    ----------
    name : the file name as the user gave it (for messages only).
    data : the bytes, or a binary file object (e.g. Streamlit's ``UploadedFile``);
        at most ``max_bytes + 1`` bytes are ever read.
    workspace : the session's workspace; the only place anything is written.
    kinds : what the caller accepts, e.g. ``{"csv"}`` or ``VECTOR_KINDS``.
    max_bytes : size limit in bytes (default ``geo.config.max_upload_mb()`` MB).
    limits : all limits (default ``geo.config.upload_limits()``).

    Returns
    -------
    :class:`Upload` (kind from the content; for a zipped shapefile the parts
    are extracted after the archive passed inspection).

    Raises
    ------
    UploadTooLarge, UnsupportedUpload, UploadEncodingError, UnsafeArchive,
    IncompleteShapefile, UploadRejected: one-line messages naming the file.
    When any of these is raised nothing has been written.
    """
    kinds = frozenset(kinds)
    unknown = kinds - set(KINDS)
    if not kinds or unknown:
        raise ValueError(f"kinds must be a non-empty subset of {KINDS}, got {sorted(kinds)}")
    limits = limits or upload_limits()
    if max_bytes is not None:
        limits = dataclasses.replace(limits, max_bytes=int(max_bytes))
    label = display_name(name)
    workspace.require_open()
    raw = _read_bounded(data, limits.max_bytes, label)
    if not raw or raw.isspace():
        raise UploadRejected(f"{label}: the file is empty")
    kind, encoding = detect_kind(raw, kinds, label)
    sha = hashlib.sha256(raw).hexdigest()
    parts = None
    if kind == "zip-shapefile":
        parts = archives.shapefile_members(archives.inspect_zip(raw, label, limits), label)
    elif kind == "gtfs":  # kept zipped: the reader streams its tables out of the checked archive
        archives.gtfs_members(archives.inspect_zip(raw, label, limits), label)
    elif kind == "yaml":  # small, so checked in full before it is stored
        load_yaml_safely(decode_text(raw, label)[0], source=label, limits=limits)
    # Everything above only read; from here on the upload is known to be acceptable.
    workspace.touch()
    dest = workspace.subdir(f"{kind}-{sha[:32]}")
    if parts is not None:
        stored = archives.extract_shapefile(raw, parts, dest, label)
        path, files = stored[".shp"], tuple(stored[s] for s in sorted(stored))
    else:
        dest.mkdir(mode=0o700, exist_ok=True)
        path = dest / _STORED_NAME[kind]
        if not path.is_file():
            atomic.write_bytes(path, raw)
        files = (path,)
    member = parts[".shp"].filename if parts is not None else None
    return Upload(name=label, kind=kind, path=path, sha256=sha, size=len(raw), encoding=encoding, files=files,
                  member=member)


def accept_file(path: Path, *, workspace: SessionWorkspace, kinds, limits: UploadLimits | None = None) -> Upload:
    """:func:`accept_upload` for a local file (the CLI's way in); the file is read, never moved."""
    path = Path(path)
    if not path.is_file():
        raise UploadRejected(f"{display_name(path.name)}: file not found ({path})")
    with open(path, "rb") as handle:
        return accept_upload(path.name, handle, workspace=workspace, kinds=kinds, limits=limits)


def upload_text(upload: Upload) -> str:
    """The text of a text upload, decoded with the encoding the gate detected."""
    upload.require_present()
    raw = upload.path.read_bytes()
    text, _ = decode_text(raw, upload.name)
    return text


def _require_kind(upload: Upload, kinds, what: str) -> None:
    if not isinstance(upload, Upload):
        raise TypeError("pass the Upload returned by accept_upload")
    if upload.kind not in kinds:
        raise UploadRejected(f"{upload.name}: is {DESCRIPTIONS[upload.kind]}, not {what}")


def read_yaml_upload(upload: Upload, *, limits: UploadLimits | None = None) -> Any:
    """Load a ``yaml`` upload as plain data (:func:`geo.safe_yaml.load_yaml_safely`)."""
    _require_kind(upload, PROFILE_KINDS, "a YAML profile")
    return load_yaml_safely(upload_text(upload), source=upload.name, limits=limits)


def read_table_upload(upload: Upload, *, limits: UploadLimits | None = None):
    """Read a ``csv`` upload as a DataFrame of text; see :func:`geo.upload.tables.read_table`."""
    from geo.upload.tables import read_table

    _require_kind(upload, TABLE_KINDS, "a CSV table")
    return read_table(upload_text(upload), source=upload.name, limits=limits)


def read_vector_upload(upload: Upload, *, assume_crs: int | None = None, repair: bool = False,
                       layer: str | None = None, limits: UploadLimits | None = None):
    """Read a GeoJSON / zipped shapefile / GeoPackage upload; see :func:`geo.upload.vectors.read_vector`."""
    from geo.upload.vectors import read_vector

    _require_kind(upload, VECTOR_KINDS, "a boundary or site file (GeoJSON, zipped shapefile or GeoPackage)")
    upload.require_present()
    return read_vector(upload, assume_crs=assume_crs, repair=repair, layer=layer, limits=limits)


def describe_result(upload: Upload, result: Any) -> str:
    """One line saying what the gate accepted and what was read from it (``cli.py check`` prints it)."""
    if upload.kind == "yaml":
        shape = f"{type(result).__name__} with {count_of(len(result) if hasattr(result, '__len__') else 1, 'item')}"
    elif upload.kind == "gtfs":
        shape = (f"{len(result.stop_ids):,} stops, {len(result.trip_ids):,} trips, "
                 f"{count_of(len(result.skipped), 'stop')} skipped")
    elif upload.kind == "csv":
        shape = f"{len(result):,} rows x {len(result.columns):,} columns ({upload.encoding})"
    else:
        assumed = result.attrs.get("crs_assumed")
        shape = (f"{len(result):,} features, {', '.join(sorted(set(result.geom_type)))}, read as EPSG:27700"
                 f"{f' (assumed EPSG:{assumed})' if assumed else ''}")
        if result.attrs.get("repaired_rows"):
            shape += f", repaired {len(result.attrs['repaired_rows']):,} geometr(ies)"
    holds = f" (the shapefile {upload.member[:120]!r})" if upload.member else ""
    return f"{upload.name}: accepted as {upload.kind}{holds}, {upload.size:,} bytes, sha256 {upload.sha256[:16]}; {shape}"


def read_gtfs_upload(upload: Upload):
    """Read and check a ``gtfs`` upload; see :func:`geo.travel.gtfs_feed.read_feed` (a ``GtfsFeed``)."""
    from geo.travel.gtfs_feed import read_feed

    _require_kind(upload, GTFS_KINDS, "a GTFS timetable feed (zip)")
    upload.require_present()
    return read_feed(upload)


def read_upload(upload: Upload, *, assume_crs: int | None = None, repair: bool = False, layer: str | None = None,
                limits: UploadLimits | None = None):
    """Read any upload with the reader for its kind; vector options are ignored for tables and YAML."""
    if upload.kind in TABLE_KINDS:
        return read_table_upload(upload, limits=limits)
    if upload.kind in VECTOR_KINDS:
        return read_vector_upload(upload, assume_crs=assume_crs, repair=repair, layer=layer, limits=limits)
    if upload.kind in GTFS_KINDS:
        return read_gtfs_upload(upload)
    return read_yaml_upload(upload, limits=limits)
