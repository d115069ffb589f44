"""`cli.py install`: every install step, boundaries first, in one atomic generation."""

from __future__ import annotations

from pathlib import Path

from geo.install import GEO_STEPS, resolve_source, run_install
from geo.progress import Progress, silent


def install_steps():
    """Boundary and lookup steps, then indicator steps (added by the indicator layers)."""
    return list(GEO_STEPS)


def install(from_dir: Path | None = None, *, root: Path | None = None, progress: Progress = silent, source=None) -> dict:
    """Install the store from ``from_dir`` (or the default source); returns the manifest."""
    source = source or resolve_source(from_dir)
    return run_install(source, install_steps(), root=root, progress=progress)
