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


class TravelError(WardscopeError):
    """Travel-time inputs (points, mode, engine, network) cannot be used as given."""


class NetworkCoverageError(TravelError):
    """A road network extract does not cover the places being routed."""


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
