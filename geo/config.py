"""Where things live on disk, and the limits every upload is held to.

``WARDSCOPE_DATA`` moves the installed store (default: ``data/`` beside this
project). ``WARDSCOPE_USER`` moves saved user work (default: ``user/``).
``WARDSCOPE_MIRROR`` names a local mirror directory for ``cli.py install``.
``WARDSCOPE_SESSIONS`` moves the per-session upload directories (default:
``<system temp>/wardscope-<uid>``). ``WARDSCOPE_MAX_UPLOAD_MB`` sets the
upload size limit (default 50; keep ``.streamlit/config.toml``'s
``server.maxUploadSize`` at least as large, see SECURITY.md).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path

from geo.errors import WardscopeError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """Root of the installed store."""
    return Path(os.environ.get("WARDSCOPE_DATA") or PROJECT_ROOT / "data")


def user_dir() -> Path:
    """Root of saved user work (areas, profiles, site lists); never touched by install."""
    return Path(os.environ.get("WARDSCOPE_USER") or PROJECT_ROOT / "user")


def default_mirror() -> Path | None:
    """The mirror to install from when ``--from`` is not given, or None (download)."""
    env = os.environ.get("WARDSCOPE_MIRROR")
    if env:
        return Path(env)
    sibling = PROJECT_ROOT.parent / "shared" / "data"
    return sibling if sibling.is_dir() else None


#: Travel-time engine used when none is named (``estimate`` or ``network``).
DEFAULT_TRAVEL_ENGINE = "estimate"


def travel_engine() -> str:
    """The configured travel-time engine: ``$WARDSCOPE_TRAVEL_ENGINE``, else :data:`DEFAULT_TRAVEL_ENGINE`."""
    return (os.environ.get("WARDSCOPE_TRAVEL_ENGINE") or DEFAULT_TRAVEL_ENGINE).strip().lower()

def sessions_root() -> Path:
    """Parent of the per-session upload directories (see :mod:`geo.workspace`)."""
    env = os.environ.get("WARDSCOPE_SESSIONS")
    if env:
        return Path(env)
    return Path(tempfile.gettempdir()) / f"wardscope-{os.getuid()}"


#: Default upload limit in megabytes (MiB, as Streamlit counts them); ``.streamlit/config.toml`` matches it.
DEFAULT_MAX_UPLOAD_MB = 50
MB = 1024 * 1024


def max_upload_mb() -> int:
    """The upload size limit in megabytes: ``$WARDSCOPE_MAX_UPLOAD_MB`` or 50."""
    env = os.environ.get("WARDSCOPE_MAX_UPLOAD_MB", "").strip()
    if not env:
        return DEFAULT_MAX_UPLOAD_MB
    try:
        value = int(env)
    except ValueError:
        value = 0
    if value < 1:
        raise WardscopeError(f"WARDSCOPE_MAX_UPLOAD_MB must be a whole number of megabytes above 0, got {env!r}")
    return value


def streamlit_upload_limit_problem(streamlit_max_upload_mb: int) -> str | None:
    """A one-line warning when Streamlit's ``server.maxUploadSize`` is below Wardscope's limit, else None.

    Streamlit refuses larger files before Wardscope sees them, so a smaller
    Streamlit setting silently lowers the limit users are told about.
    """
    ours = max_upload_mb()
    if int(streamlit_max_upload_mb) < ours:
        return (f"Streamlit's server.maxUploadSize is {streamlit_max_upload_mb} MB but Wardscope's upload limit is "
                f"{ours} MB; set both to the same value (.streamlit/config.toml and WARDSCOPE_MAX_UPLOAD_MB)")
    return None


@dataclasses.dataclass(frozen=True)
class UploadLimits:
    """Limits every upload is held to (sizes in bytes; counts are per upload).

    ``max_bytes`` follows ``max_upload_mb()``; the others are fixed defaults,
    changed by passing ``limits=dataclasses.replace(upload_limits(), ...)``.
    """

    max_bytes: int
    #: zip archives (checked before anything is extracted)
    max_zip_members: int = 100
    max_zip_total_bytes: int = 512 * MB
    #: uncompressed/compressed size above which a member counts as a zip bomb (deflate peaks near 1,030)
    max_zip_ratio: float = 250.0
    #: members smaller than this are not ratio-checked (they cannot bomb)
    zip_ratio_min_bytes: int = 1 * MB
    #: tables
    max_rows: int = 1_000_000
    max_columns: int = 1_000
    #: vector layers
    max_features: int = 250_000
    max_vertices_per_feature: int = 250_000
    max_vertices_total: int = 10_000_000
    #: YAML profiles
    max_yaml_bytes: int = 1 * MB
    max_yaml_depth: int = 32
    max_yaml_nodes: int = 100_000


def upload_limits() -> UploadLimits:
    """The current limits (``max_bytes`` from ``$WARDSCOPE_MAX_UPLOAD_MB``)."""
    return UploadLimits(max_bytes=max_upload_mb() * MB)
