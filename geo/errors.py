"""Errors a user can act on.

Every error Wardscope raises on purpose subclasses :class:`WardscopeError`
(itself a ``ValueError``), so the CLI and the app can show its message as a
single line instead of a traceback. Messages name the file, row or value
that is wrong and, where possible, what would fix it.
"""


class WardscopeError(ValueError):
    """Base class: the message is written for the user."""


class StoreNotInstalled(WardscopeError):
    """The local store has not been installed yet."""


class StoreDamaged(WardscopeError):
    """A store file is missing, truncated or changed since install; ``problems`` has one line per file."""

    def __init__(self, message: str, *, problems: tuple[str, ...] = ()):
        super().__init__(message)
        self.problems = tuple(problems) or (message,)


class InstallRunning(WardscopeError):
    """Another install holds the store's lock (and waiting was not asked for, or timed out)."""


class InstallCheckFailed(WardscopeError):
    """A new store generation did not match its manifest before the swap; the current store was kept."""


class SourceFileError(WardscopeError):
    """A source file (mirror, download or upload) is missing or malformed."""


class MissingSourceFile(SourceFileError):
    """A file the install needs is not in the mirror directory."""


class CRSError(WardscopeError):
    """A coordinate reference system is missing, unexpected or mismatched."""


class GSSCodeError(WardscopeError):
    """A GSS code is malformed, duplicated or unknown."""


class UnknownAreaError(WardscopeError):
    """An area of interest or district name/code does not match anything."""


class OfflineError(WardscopeError):
    """A download was needed but the publisher could not be reached."""


class PublisherError(WardscopeError):
    """A publisher answered, but not with the data we asked for."""


class DiskFull(WardscopeError):
    """The disk filled while a download or install was being written; what was complete is kept."""


class TravelError(WardscopeError):
    """Travel-time inputs (points, mode, engine, network) cannot be used as given."""


class NetworkCoverageError(TravelError):
    """A road network extract does not cover the places being routed."""


class GTFSFeedError(SourceFileError):
    """A GTFS timetable feed is incomplete or inconsistent (the message names the file and row)."""


class GTFSDateError(GTFSFeedError):
    """A date or departure window that the GTFS feed cannot answer (outside its validity, no service)."""


class GTFSCoverageError(GTFSFeedError):
    """A GTFS feed has no stop within walking distance of the places being routed."""


class ExportError(WardscopeError):
    """An export could not be written as asked; nothing was written."""


class EmptySelectionError(ExportError):
    """The selection matched no areas, so there is nothing to export."""


class SelectionSyntaxError(ExportError):
    """A selection spec (``top:20,band:High,...``) could not be read."""


class UnknownColumnError(ExportError):
    """A column asked for (to export, select or dissolve on) is not in the areas."""


class FieldNameCollisionError(ExportError):
    """Two column names would become the same field in the output file."""


class OutputExistsError(ExportError):
    """The output file is already there and overwriting was not asked for."""


class OutputNotWritableError(ExportError):
    """The output file cannot be created (missing permission, a file in the way, read-only disk)."""

class UploadRejected(SourceFileError):
    """An uploaded file was refused by the upload gate; nothing from it was kept."""


class UploadTooLarge(UploadRejected):
    """An upload is over a size limit (bytes, rows, columns, features or vertices)."""


class UnsupportedUpload(UploadRejected):
    """An upload's content is not one of the kinds the caller accepts (whatever its extension)."""


class UploadEncodingError(UploadRejected):
    """A text upload is not UTF-8, UTF-8 with BOM or Windows-1252, or holds binary data."""


class UnsafeArchive(UploadRejected):
    """A zip archive is refused before extraction (zip bomb, path traversal, symlink, encryption...)."""


class IncompleteShapefile(UploadRejected):
    """A zipped shapefile lacks .shp/.shx/.dbf, holds several shapefiles, or is truncated."""


class MissingCRSError(UploadRejected, CRSError):
    """A vector upload does not say its coordinate reference system; the user must choose one.

    ``choices`` lists the EPSG codes the user may answer with (pass one as
    ``assume_crs``); ``hint`` is 27700 or 4326 when the coordinates make one
    of them plausible, else None. Wardscope never applies the hint silently.
    """

    choices = (27700, 4326)

    def __init__(self, message: str, *, hint: int | None = None):
        super().__init__(message)
        self.hint = hint


class MissingPrjError(MissingCRSError):
    """A zipped shapefile has no .prj file, so its CRS must be given (27700 or 4326)."""


class InvalidGeometryError(UploadRejected):
    """Some geometries are invalid; ``rows`` are their 1-based feature numbers. Repair only on request."""

    def __init__(self, message: str, *, rows: tuple[int, ...] = ()):
        super().__init__(message)
        self.rows = tuple(rows)


class MultipleLayersError(UploadRejected):
    """A GeoPackage holds several layers; ``layers`` names them so the user can choose one."""

    def __init__(self, message: str, *, layers: tuple[str, ...] = ()):
        super().__init__(message)
        self.layers = tuple(layers)


class UnsafeYAML(UploadRejected):
    """A YAML document uses object tags, is nested too deeply or expands too far (alias bomb)."""


class UploadExpired(UploadRejected):
    """An upload's file is gone because its session workspace was closed; upload it again."""


class SavedFileError(WardscopeError):
    """A saved profile, site list or area file is missing or cannot be used."""


class CorruptSavedFile(SavedFileError):
    """A saved file is damaged. ``previous`` is the kept previous version (a Path) or None."""

    def __init__(self, message: str, *, path=None, previous=None):
        super().__init__(message)
        self.path = path
        self.previous = previous
