"""Saved work: atomic saves keep the previous version; damage is reported; a kill mid-save loses nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from geo.errors import CorruptSavedFile, SavedFileError, WardscopeError
from geo.saved import (
    PAUSE_ENV, load_previous, load_saved, restore_previous, save_text, save_yaml, saved_path, slug,
)

ROOT = Path(__file__).resolve().parent.parent
OLD = {"name": "Growth", "weights": {"inactivity": 0.5, "imd": 0.5}}
NEW = {"name": "Growth", "weights": {"inactivity": 0.7, "imd": 0.3}, "notes": "revised " * 2_000}


def test_save_keeps_previous_version_and_loads_latest(tmp_path):
    path = tmp_path / "profiles" / "growth.yaml"
    save_yaml(path, OLD)
    save_yaml(path, NEW)
    assert load_saved(path) == NEW
    assert load_previous(path) == OLD
    assert sorted(p.name for p in path.parent.iterdir()) == ["growth.yaml", "growth.yaml.prev"]


@pytest.mark.parametrize("damage", [b"weights: {inactivity: 0.7, imd:", b"", b"\xff\xfe\x00garbage", b"- [unclosed"])
def test_corrupt_file_is_reported_and_previous_version_offered(tmp_path, damage):
    path = tmp_path / "growth.yaml"
    save_yaml(path, OLD)
    save_yaml(path, NEW)
    path.write_bytes(damage)  # a disk fault or a bad hand edit
    with pytest.raises(CorruptSavedFile, match=r"growth.yaml: is damaged and cannot be loaded .*previous version") as err:
        load_saved(path)
    assert err.value.previous == path.with_name("growth.yaml.prev")
    assert load_previous(path) == OLD
    restore_previous(path)
    assert load_saved(path) == OLD
    assert path.with_name("growth.yaml.damaged").read_bytes() == damage


def test_corrupt_file_without_previous_version_says_so(tmp_path):
    path = tmp_path / "sites.yaml"
    path.write_text("a: [1, 2\n")
    with pytest.raises(CorruptSavedFile, match="no previous version was kept") as err:
        load_saved(path)
    assert err.value.previous is None
    with pytest.raises(SavedFileError, match="no previous version"):
        load_previous(path)


def test_saved_file_with_object_tag_is_refused_not_run(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.yaml"
    path.write_text(f"x: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(CorruptSavedFile, match=r"tag !!python/object/apply:os.system is not allowed"):
        load_saved(path)
    assert not marker.exists()


def test_custom_parser_errors_count_as_damage(tmp_path):
    path = tmp_path / "sites.csv"
    save_text(path, "code,name\nE01000001,A\n")
    save_text(path, "code,name\nE01000001\n")

    def parse(text):
        rows = [line.split(",") for line in text.splitlines()]
        if any(len(r) != 2 for r in rows):
            raise KeyError("short row")
        return rows

    with pytest.raises(CorruptSavedFile, match="short row"):
        load_saved(path, parse)
    assert load_previous(path, parse)[1] == ["E01000001", "A"]


def test_saved_path_cannot_escape_the_user_directory(tmp_env):
    path = saved_path("profiles", "../../etc/passwd")
    assert path.parent == tmp_env / "user" / "profiles"
    assert path.name == "etc-passwd.yaml"
    assert slug("Growth & Jobs 2025") == "growth-jobs-2025"
    with pytest.raises(WardscopeError, match="needs some letters or digits"):
        slug("../..")


def _start_paused_save(tmp_path: Path, path: Path, data: dict) -> tuple[subprocess.Popen, Path]:
    """Run save_yaml in another process that stops after writing half the temp file."""
    ready = tmp_path / "ready"
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps(data))
    code = (f"import sys, json; sys.path.insert(0, {str(ROOT)!r}); from geo.saved import save_yaml; "
            f"save_yaml(sys.argv[1], json.loads(open(sys.argv[2]).read()))")
    proc = subprocess.Popen([sys.executable, "-c", code, str(path), str(payload)],
                            env={**os.environ, PAUSE_ENV: str(ready)})
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None, "the saving process exited before reaching the pause"
        assert time.monotonic() < deadline, "the saving process never reached the pause"
        time.sleep(0.02)
    return proc, Path(ready.read_text())


def test_killing_the_app_mid_save_leaves_the_previous_version_loadable(tmp_path):
    path = tmp_path / "user" / "profiles" / "growth.yaml"
    save_yaml(path, OLD)
    before = path.read_bytes()
    proc, tmp_file = _start_paused_save(tmp_path, path, NEW)
    full = len(yaml.safe_dump(NEW, sort_keys=False, allow_unicode=True).encode())
    assert tmp_file.parent == path.parent and 0 < tmp_file.stat().st_size < full  # really mid-write
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert path.read_bytes() == before
    assert load_saved(path) == OLD
    # the half-written temporary file is ignored, and the next save works and keeps OLD as previous
    save_yaml(path, NEW)
    assert load_saved(path) == NEW and load_previous(path) == OLD


def test_killing_the_first_save_leaves_no_half_file(tmp_path):
    path = tmp_path / "profiles" / "new.yaml"
    proc, _ = _start_paused_save(tmp_path, path, NEW)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert not path.exists()
    with pytest.raises(SavedFileError, match="no saved file"):
        load_saved(path)
