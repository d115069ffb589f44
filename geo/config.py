"""Where things live on disk.

``WARDSCOPE_DATA`` moves the installed store (default: ``data/`` beside this
project). ``WARDSCOPE_USER`` moves saved user work (default: ``user/``).
``WARDSCOPE_MIRROR`` names a local mirror directory for ``cli.py install``.
"""

from __future__ import annotations

import os
from pathlib import Path

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
