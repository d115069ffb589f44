"""Build the local store from a mirror or the publishers (``cli.py install``; the app's set-up page)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from geo.progress import Progress, silent
from geo.storelock import DEFAULT_WAIT_S
from layers.install import dry_run as plan
from layers.install import install, install_only
from tasks.result import Provenance, Result


@dataclass(frozen=True)
class InstallRequest:
    from_dir: str | None = None   # a mirror directory; None: $WARDSCOPE_MIRROR, ../shared/data, else online
    nomis: bool = False           # also fetch the claimant count and APS from the Nomis API
    only: str | None = None       # just this optional part (census, claimant, aps, labour), into a copy of the current store
    wait_s: float | None = DEFAULT_WAIT_S  # another install running: wait this long (s; 0: refuse at once; None: no limit)


def _from_dir(request: InstallRequest) -> Path | None:
    return Path(request.from_dir) if request.from_dir else None


def run(request: InstallRequest, progress: Progress = silent, on_wait: Callable[[str], None] | None = None) -> Result:
    """Install a new store generation atomically (or one optional part); the data is the manifest.

    ``on_wait(message)`` is called once when another install holds the lock and this one waits for it.
    """
    if request.only:
        manifest = install_only(request.only, _from_dir(request), progress=progress)
    else:
        manifest = install(_from_dir(request), progress=progress, nomis=request.nomis, wait_s=request.wait_s,
                           on_wait=on_wait)
    provenance = Provenance("install", f"installed from {manifest['source']}",
                            {"from": request.from_dir, "nomis": request.nomis, "only": request.only},
                            tuple(manifest.get("datasets", {}).values()),
                            versions={"store_generation": manifest["generation"]})
    return Result(manifest, provenance, tuple(manifest.get("notes", [])))


def dry_run(request: InstallRequest) -> list[str]:
    """What :func:`run` would fetch and from where, one line per dataset after a summary line; contacts no one."""
    return plan(_from_dir(request), only=request.only, nomis=request.nomis)
