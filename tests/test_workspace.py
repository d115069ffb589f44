"""Session workspaces (private, removed at session end, swept after crashes) and content-keyed caches."""

from __future__ import annotations

import gc
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from geo.contentcache import ContentCache, content_key
from geo.errors import UploadExpired, WardscopeError
from geo.fsclock import fs_now
from geo.upload.gate import accept_upload, read_table_upload
from geo.workspace import SessionWorkspace, sweep_stale

ROOT = Path(__file__).resolve().parent.parent


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_workspace_is_private_and_removed_by_close(tmp_path):
    root = tmp_path / "sessions"
    ws = SessionWorkspace(root)
    assert mode(root) == 0o700 and mode(ws.path) == 0o700
    assert ws.path.parent == root and ws.path.name.startswith(f"session-{os.getpid()}-")
    (ws.subdir("x")).mkdir()
    ws.close()
    assert ws.closed and not ws.path.exists()
    ws.close()  # idempotent
    with pytest.raises(UploadExpired, match="upload the file again"):
        ws.require_open()


def test_two_sessions_get_different_directories(tmp_path):
    with SessionWorkspace(tmp_path) as a, SessionWorkspace(tmp_path) as b:
        assert a.path != b.path and a.path.is_dir() and b.path.is_dir()
    assert not a.path.exists() and not b.path.exists()


def test_workspace_is_removed_when_garbage_collected(tmp_path):
    ws = SessionWorkspace(tmp_path)
    path = ws.path
    del ws
    gc.collect()
    assert not path.exists()


def test_upload_is_gone_after_the_session_ends(tmp_path):
    ws = SessionWorkspace(tmp_path)
    upload = accept_upload("a.csv", b"code\nE01000001\n", workspace=ws, kinds={"csv"})
    ws.close()
    with pytest.raises(UploadExpired, match="a.csv: the uploaded file is no longer available"):
        read_table_upload(upload)
    with pytest.raises(UploadExpired):
        accept_upload("a.csv", b"code\nE01000001\n", workspace=ws, kinds={"csv"})


@pytest.mark.parametrize("make_unsafe", ["world-writable", "symlink"])
def test_unsafe_root_is_refused(tmp_path, make_unsafe):
    root = tmp_path / "root"
    if make_unsafe == "symlink":
        (tmp_path / "elsewhere").mkdir()
        root.symlink_to(tmp_path / "elsewhere")
    else:
        root.mkdir()
        root.chmod(0o777)
    with pytest.raises(WardscopeError, match="session directory root"):
        SessionWorkspace(root)


def test_contains_and_subdir_refuse_escapes(tmp_path):
    with SessionWorkspace(tmp_path / "s") as ws:
        assert ws.contains(ws.path / "a" / "b")
        assert not ws.contains(ws.path / ".." / "other")
        assert not ws.contains(tmp_path)
        for bad in ("../x", "a/b", "", ".hidden", "x" * 200):
            with pytest.raises(ValueError):
                ws.subdir(bad)


def _child(root: Path, then: str) -> tuple[subprocess.Popen, Path]:
    code = (f"import sys, time; sys.path.insert(0, {str(ROOT)!r}); from geo.workspace import SessionWorkspace; "
            f"ws = SessionWorkspace(sys.argv[1]); (ws.path / 'upload.csv').write_text('x'); "
            f"print(ws.path, flush=True); {then}")
    proc = subprocess.Popen([sys.executable, "-c", code, str(root)], stdout=subprocess.PIPE, text=True)
    return proc, Path(proc.stdout.readline().strip())


def test_workspace_is_removed_when_the_process_exits(tmp_path):
    proc, path = _child(tmp_path, "pass")
    assert proc.wait(timeout=30) == 0
    assert path.name.startswith("session-") and not path.exists()


def test_sweep_removes_directories_of_killed_processes_only(tmp_path):
    proc, orphan = _child(tmp_path, "time.sleep(60)")
    assert orphan.is_dir()
    live = SessionWorkspace(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert orphan.is_dir()  # SIGKILL: no chance to clean up
    other = tmp_path / "not-a-session"
    other.mkdir()
    removed = sweep_stale(tmp_path, max_age_s=3600)
    assert removed == [orphan] and not orphan.exists()
    assert live.path.is_dir() and other.is_dir()
    live.close()


def test_sweep_removes_old_directories_of_live_processes_and_own_leftovers(tmp_path):
    alive_pid = os.getppid()
    old = tmp_path / f"session-{alive_pid}-old"
    recent = tmp_path / f"session-{alive_pid}-recent"
    leftover = tmp_path / f"session-{os.getpid()}-leftover"  # same pid, earlier process (containers)
    for d in (old, recent, leftover):
        d.mkdir(mode=0o700)
    two_days_ago = fs_now(tmp_path) - 2 * 86400  # on the clock that stamps the files, not this process's
    os.utime(old, (two_days_ago, two_days_ago))
    removed = sweep_stale(tmp_path, max_age_s=86400)
    assert sorted(removed) == sorted([old, leftover])
    assert recent.is_dir()


def test_sweep_keeps_fresh_directories_when_this_clock_runs_ahead_of_the_file_system(tmp_path, monkeypatch):
    """A server whose clock is a year ahead of its (network) file system must not take fresh work for stale."""
    recent = tmp_path / f"session-{os.getppid()}-recent"
    recent.mkdir(mode=0o700)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 365 * 86400)
    assert sweep_stale(tmp_path, max_age_s=86400) == []
    assert recent.is_dir()


def test_sweep_never_follows_symlinks(tmp_path):
    target = tmp_path / "precious"
    target.mkdir()
    (target / "keep.txt").write_text("keep")
    root = tmp_path / "root"
    root.mkdir()
    (root / "session-999999999-x").symlink_to(target)
    assert sweep_stale(root, max_age_s=0) == []
    assert (target / "keep.txt").exists()


# --- content-keyed caches -------------------------------------------------------------


def test_content_key_depends_on_content_not_names(tmp_path):
    with SessionWorkspace(tmp_path) as a, SessionWorkspace(tmp_path) as b:
        ua = accept_upload("sites.csv", b"code\nE01000001\n", workspace=a, kinds={"csv"})
        ub = accept_upload("sites.csv", b"code\nE01000002\n", workspace=b, kinds={"csv"})
        same = accept_upload("copy.csv", b"code\nE01000001\n", workspace=b, kinds={"csv"})
        assert content_key(ua) != content_key(ub)
        assert content_key(ua) == content_key(same)
        assert content_key(ua, 27700) != content_key(ua, 4326)
    assert content_key(b"ab", b"c") != content_key(b"a", b"bc")
    with pytest.raises(TypeError, match="a path names a file"):
        content_key(tmp_path / "sites.csv")
    with pytest.raises(TypeError):
        content_key(object())


def test_cache_never_hands_one_sessions_upload_to_another(tmp_path):
    cache = ContentCache(max_entries=8)
    calls = []

    def read(upload):
        calls.append(upload.name)
        return read_table_upload(upload)

    with SessionWorkspace(tmp_path) as a, SessionWorkspace(tmp_path) as b:
        ua = accept_upload("sites.csv", b"code\nE01000001\n", workspace=a, kinds={"csv"})
        ub = accept_upload("sites.csv", b"code\nE01000002\n", workspace=b, kinds={"csv"})
        fa = cache.get_or_compute(content_key(ua), lambda: read(ua))
        fb = cache.get_or_compute(content_key(ub), lambda: read(ub))
        assert fa["code"].tolist() == ["E01000001"] and fb["code"].tolist() == ["E01000002"]
        # the same bytes in another session share the parse, but as a copy
        uc = accept_upload("mine.csv", b"code\nE01000001\n", workspace=b, kinds={"csv"})
        fc = cache.get_or_compute(content_key(uc), lambda: read(uc))
        assert len(calls) == 2
        fc.loc[0, "code"] = "changed"
        assert cache.get_or_compute(content_key(ua), lambda: read(ua))["code"].tolist() == ["E01000001"]


def test_cache_is_bounded_and_checks_keys():
    cache = ContentCache(max_entries=2)
    keys = [content_key(i) for i in range(3)]
    for i, key in enumerate(keys):
        cache.get_or_compute(key, lambda i=i: pd.DataFrame({"v": [i]}))
    assert len(cache) == 2 and keys[0] not in cache and keys[2] in cache
    with pytest.raises(ValueError, match="content_key"):
        cache.get_or_compute("sites.csv", lambda: 1)
