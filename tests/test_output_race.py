"""Writes that race, and --out paths that cannot work: one export wins, the other is refused; one line, exit 2."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading

import geopandas as gpd
import pytest
from shapely.geometry import box

from geo import atomic
from geo.errors import OutputExistsError
from geo.export import export_areas
from tests.conftest import ROOT

REPEATS = 5
FORMATS = ["csv", "gpkg", "shp", "geojson"]


def _areas(n: int) -> gpd.GeoDataFrame:
    """``n`` square areas in British National Grid (EPSG:27700, metres) with a score."""
    return gpd.GeoDataFrame({"code": [f"E0100000{i}" for i in range(n)], "name": [f"Area {i}" for i in range(n)],
                             "lad_code": "E06000032", "lad_name": "Luton", "score": [float(i) for i in range(n)]},
                            geometry=[box(510000 + 100 * i, 220000, 510090 + 100 * i, 220090) for i in range(n)],
                            crs=27700)


def _meet_before_placing(barrier):
    """Make every export wait at ``barrier`` just before it puts its first file in place: a real race."""
    real, waited = atomic.place, threading.local()

    def place(tmp, path, **kwargs):
        if not getattr(waited, "done", False):
            waited.done = True
            barrier.wait(timeout=60)
        return real(tmp, path, **kwargs)
    return place


def _export(fmt, out, n, results):
    try:
        result = export_areas(_areas(n), ["score"], None, fmt, out)
        results.append(("ok", n, [p.name for p in result.files]))
    except OutputExistsError as exc:
        results.append(("refused", n, str(exc)))


def _check_one_won(results, folder, fmt):
    outcome = sorted(r[0] for r in results)
    assert outcome == ["ok", "refused"], results
    (_, winner, files), (_, _, message) = sorted(results)
    assert "already exists" in message and "\n" not in message
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)  # the winner's files, no temporaries
    back = gpd.read_file(folder / files[0], **({"layer": "areas"} if fmt == "gpkg" else {})) if fmt != "csv" else None
    rows = len(back) if back is not None else (folder / files[0]).read_text(encoding="utf-8-sig").count("\n") - 1
    assert rows == winner  # the file is the winner's, whole, not a mix


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_threads_exporting_to_one_path_one_wins(tmp_path, monkeypatch, fmt):
    for attempt in range(REPEATS):
        folder = tmp_path / str(attempt)
        folder.mkdir()
        monkeypatch.setattr(atomic, "place", _meet_before_placing(threading.Barrier(2)))
        results: list = []
        threads = [threading.Thread(target=_export, args=(fmt, folder / "out", n, results)) for n in (3, 5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        _check_one_won(results, folder, fmt)


def _process_export(fmt, out, n, barrier, queue):
    atomic.place = _meet_before_placing(barrier)  # this process's copy of the module
    results: list = []
    _export(fmt, out, n, results)
    queue.put(results[0])


@pytest.mark.parametrize("fmt", ["csv", "shp"])
def test_two_processes_exporting_to_one_path_one_wins(tmp_path, fmt):
    ctx = multiprocessing.get_context("fork")
    for attempt in range(REPEATS):
        folder = tmp_path / str(attempt)
        folder.mkdir()
        barrier, queue = ctx.Barrier(2), ctx.Queue()
        procs = [ctx.Process(target=_process_export, args=(fmt, folder / "out", n, barrier, queue)) for n in (3, 5)]
        for p in procs:
            p.start()
        results = [queue.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(60)
            assert p.exitcode == 0
        _check_one_won(results, folder, fmt)


def test_without_links_the_name_is_still_taken_exclusively(tmp_path, monkeypatch):
    """A file system without hard links (FAT, some shares): O_CREAT|O_EXCL claims the name instead."""
    def no_links(src, dst):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    (tmp_path / "a").write_text("first")
    atomic.place(tmp_path / "a", tmp_path / "out", overwrite=False)
    (tmp_path / "b").write_text("second")
    with pytest.raises(FileExistsError):
        atomic.place(tmp_path / "b", tmp_path / "out", overwrite=False)
    assert (tmp_path / "out").read_text() == "first" and (tmp_path / "b").read_text() == "second"


# -- --out that cannot work: one line naming it, exit 2, nothing written -----------------------

def _cli(*args, cwd):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True, cwd=cwd)


COMMANDS = {
    "areas": ["areas"],
    "indicators": ["indicators", "--list", "--format", "json"],
    "export": ["export", "--profile", "neighbourhood", "--area", "Luton", "--select", "top:5", "--format", "csv",
               "--sensitivity", "0"],
}
LONG = "a" * 300  # bytes: over the 255 every common file system allows


def _bad_out(where, tmp_path):
    """(--out, what the message must say) for each way an output path can fail."""
    if where == "folder":
        (tmp_path / "exports").mkdir()
        return tmp_path / "exports", "exports is a folder; give a file name, e.g. "
    if where == "under_a_file":
        (tmp_path / "notes.txt").write_text("a file, not a folder")
        return tmp_path / "notes.txt" / "out.csv", "notes.txt is a file, not a folder; choose a folder you can write to"
    if where == "long_name":
        return tmp_path / f"{LONG}.csv", "the file name is 304 bytes long and this file system allows 255; choose a shorter name"
    if where == "long_folder":
        return tmp_path / LONG / "out.csv", "the folder name aaaaaaaaaaaaaaaaaaaa... is 300 bytes long"
    if not os.path.isdir("/sys/kernel"):
        pytest.skip("needs Linux sysfs, where nobody (not even root) can create a file")
    return "/sys/wardscope-out-test.csv", "cannot write /sys/wardscope-out-test.csv: Permission denied; choose a folder"


@pytest.mark.parametrize("where", ["folder", "under_a_file", "long_name", "long_folder", "read_only"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_bad_out_is_one_line_and_writes_nothing(store, tmp_path, command, where):
    out, message = _bad_out(where, tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    done = _cli(*COMMANDS[command], "--out", str(out), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
