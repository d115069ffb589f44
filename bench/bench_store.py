"""Foundation figures: install from the mirror, load one area, load all LSOAs; what the store check costs.

The check figures (seconds) are measured on a store installed from the mirror
into a temporary folder (the installed store may predate checksums), with the
files in the page cache, as they are when the app or a command has just run:

* ``store_open_check_s``: what opening a Store adds (a stat of every file);
* ``store_verify_first_read_s``: hashing the files ``cli.py indicators --level ward --area Luton``
  reads, on their first read in the process; plus the open check it is what that command's start pays;
* ``store_check_cli_start_s``: the same for ``cli.py areas`` (reads one file), open check included;
* ``store_check_app_start_s``: the app's start: open check plus a hash of every file (``Store.check_all``);
* ``store_verify_all_s``: ``cli.py verify``: every file's size, sha256 and Parquet row count.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path

from bench.timing import best_of, once


def _files_read_by(argv: list[str], root: Path) -> list[Path]:
    """The store files a CLI command hashes on first read (run in this process)."""
    import cli
    from geo import storecheck

    storecheck.forget()
    saved = os.environ.get("WARDSCOPE_DATA")
    os.environ["WARDSCOPE_DATA"] = str(root)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            if cli.main(argv) != 0:
                raise RuntimeError(f"cli.py {' '.join(argv)} failed")
    finally:
        if saved is None:
            os.environ.pop("WARDSCOPE_DATA")
        else:
            os.environ["WARDSCOPE_DATA"] = saved
    return [Path(p) for p in storecheck.checked_files()]


def check_figures(root: Path):
    from geo import storecheck
    from geo.store import Store

    def hash_all(paths):
        for path in paths:
            storecheck.sha256_file(path)

    def cold(fn):
        def run():
            storecheck.forget()
            fn()
        return run

    bare = best_of(lambda: Store(root, check=False), 20)
    opened = best_of(lambda: Store(root), 20)
    open_check = max(opened - bare, 0.0)
    yield "store_open_check_s", open_check, "s"
    indicators = _files_read_by(["indicators", "--level", "ward", "--area", "Luton"], root)
    yield "store_verify_first_read_s", best_of(lambda: hash_all(indicators), 5), "s"
    yield "store_verify_first_read_files", len(indicators), "count"
    areas = _files_read_by(["areas"], root)
    yield "store_check_cli_start_s", open_check + best_of(lambda: hash_all(areas), 5), "s"
    yield "store_check_app_start_s", open_check + best_of(cold(lambda: Store(root, check=False).check_all()), 5), "s"
    yield "store_verify_all_s", best_of(cold(lambda: Store(root, check=False).verify()), 5), "s"
    yield "store_files_mb", sum(r["bytes"] for r in Store(root).records.values()) / 1e6, "MB"


def run():
    from geo.areas import resolve_area
    from geo.config import default_mirror
    from geo.area_boundaries import area_layers
    from geo.store import Store
    from layers.install import install

    mirror = default_mirror()
    if mirror is not None:
        with tempfile.TemporaryDirectory() as tmp:
            seconds, _ = once(lambda: install(mirror, root=Path(tmp)))
            yield "install_mirror_all_england", seconds, "s"
            yield from check_figures(Path(tmp))

    store = Store()
    area = resolve_area("South Midlands", store.districts())

    def load_area():
        area_layers(area, Store())  # a fresh Store: nothing cached in memory

    yield "load_area_all_levels_south_midlands", best_of(load_area, 5), "s"
    yield "load_all_lsoa21_england", best_of(lambda: Store().boundaries("lsoa"), 3), "s"
