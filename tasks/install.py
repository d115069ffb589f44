"""Build the local store from a mirror or the publishers (``cli.py install``; the app's set-up page)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from geo.progress import Progress, silent
from layers.install import install
from tasks.result import Provenance, Result


@dataclass(frozen=True)
class InstallRequest:
    from_dir: str | None = None   # a mirror directory; None: $WARDSCOPE_MIRROR, ../shared/data, else online
    nomis: bool = False           # also fetch the claimant count and APS from the Nomis API


def run(request: InstallRequest, progress: Progress = silent) -> Result:
    """Install a new store generation atomically; the data is the manifest."""
    manifest = install(Path(request.from_dir) if request.from_dir else None, progress=progress, nomis=request.nomis)
    provenance = Provenance("install", f"installed from {manifest['source']}",
                            {"from": request.from_dir, "nomis": request.nomis},
                            tuple(manifest.get("datasets", {}).values()),
                            versions={"store_generation": manifest["generation"]})
    return Result(manifest, provenance, tuple(manifest.get("notes", [])))
