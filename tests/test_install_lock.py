"""One install at a time: two real overlapping installs, `kill -9` at several points, the check before the swap.

Installs run as real `python cli.py install` processes on a copy of the mini store
(tests/conftest.py ``mini_store``). The test hook in geo.storelock.pause_point stops an
install at a named point and says so in a file, so a test kills or resumes it exactly
there, with no sleep racing the clock.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from geo import storecheck
from geo.errors import InstallCheckFailed, InstallRunning, WardscopeError
from geo.store import GENERATION_RE, KINDS, Store, StoreWriter, table_file
from geo.storelock import LOCK_NAME, PAUSE_AT_ENV, PAUSE_DIR_ENV, install_lock
from tests.conftest import ROOT, copy_store

#: Generous: how long to wait for an install to reach a point on a loaded machine (an event, not a race).
EVENT_TIMEOUT_S = 600


class Install:
    """A `cli.py install` process on ``data``, optionally stopped at ``pause_at``."""

    def __init__(self, data: Path, mirror: Path, tmp: Path, *, pause_at: str | None = None, args=()):
        self.pause_dir = Path(tempfile.mkdtemp(prefix="pause-", dir=tmp))
        os.mkfifo(self.pause_dir / "resume")
        env = dict(os.environ, WARDSCOPE_DATA=str(data))
        if pause_at:
            env.update({PAUSE_AT_ENV: pause_at, PAUSE_DIR_ENV: str(self.pause_dir)})
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "install", "--from", str(mirror), *args],
                                     cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stderr: list[str] = []
        self._reader = threading.Thread(target=lambda: self.stderr.extend(iter(self.proc.stderr.readline, "")),
                                        daemon=True)
        self._reader.start()

    def wait_for(self, condition, what: str) -> None:
        deadline = time.monotonic() + EVENT_TIMEOUT_S
        while not condition():
            assert self.proc.poll() is None, f"install exited ({self.proc.returncode}) before {what}: {self.stderr}"
            assert time.monotonic() < deadline, f"install did not reach {what}"
            time.sleep(0.05)

    def wait_paused(self) -> str:
        self.wait_for((self.pause_dir / "paused").exists, "its pause point")
        return (self.pause_dir / "paused").read_text()

    def resume(self) -> None:
        with open(self.pause_dir / "resume", "wb"):
            pass

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.finish()

    def finish(self) -> tuple[int, str, str]:
        out = self.proc.stdout.read()
        self.proc.wait(timeout=EVENT_TIMEOUT_S)
        self._reader.join()
        return self.proc.returncode, out, "".join(self.stderr)


def generations(data: Path) -> dict[str, set[str]]:
    return {kind: {p.name for p in (data / kind).iterdir() if p.is_dir()} for kind in KINDS}


def manifest(data: Path) -> dict:
    return json.loads((data / "store.json").read_text())


def intact(data: Path, generation_manifest: dict) -> list:
    """Problems of one generation's files against its own manifest (empty: every file there and unchanged)."""
    gen = generation_manifest["generation"]
    items = [(table_file(data, gen, key), rec, rec["rows"]) for key, rec in generation_manifest["files"].items()]
    return storecheck.check_files(items, rows=True)


@pytest.fixture()
def data(mini_store, tmp_path):
    return copy_store(mini_store, tmp_path / "data")


@pytest.fixture()
def start(data, mini_mirror, tmp_path):
    """Start an install on ``data``: ``start(pause_at=None, args=())``; any left running at the end is killed."""
    started: list[Install] = []

    def _start(pause_at: str | None = None, args=()) -> Install:
        started.append(Install(data, mini_mirror, tmp_path, pause_at=pause_at, args=args))
        return started[-1]

    yield _start
    for install in started:
        if install.proc.poll() is None:
            install.kill()


@pytest.fixture()
def other_holder():
    """Hold the install lock on a folder from another thread: ``path = other_holder(root)``; released at the end."""
    release = threading.Event()
    threads = []

    def _hold(root: Path, on_release=None) -> None:
        held = threading.Event()

        def run():
            with install_lock(root):
                held.set()
                release.wait()
            if on_release:
                on_release()

        threads.append(threading.Thread(target=run, daemon=True))
        threads[-1].start()
        assert held.wait(EVENT_TIMEOUT_S)

    _hold.release = release
    yield _hold
    release.set()
    for thread in threads:
        thread.join(EVENT_TIMEOUT_S)


def test_second_install_refuses_or_waits_and_both_stores_are_whole(data, start):
    before = manifest(data)
    first = start(pause_at="written:boundaries/lsoa")
    first.wait_paused()  # holds the lock, half way through writing its generation

    code, out, err = start(args=["--no-wait"]).finish()
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and out == "" and len(errors) == 1, err
    assert errors[0].startswith(f"error: another install is running (pid {first.proc.pid}, started ")
    assert errors[0].endswith("); try again when it has finished")
    assert manifest(data) == before

    second = start()  # waits for the first
    second.wait_for(lambda: any("waiting" in line for line in second.stderr), "its waiting message")
    waiting = next(line for line in second.stderr if "waiting" in line)
    assert f"another install is running (pid {first.proc.pid}, started " in waiting and "up to 30 min" in waiting
    assert manifest(data) == before  # still waiting: nothing written by the second
    first.resume()
    code1, out1, _ = first.finish()
    code2, out2, err2 = second.finish()
    assert code1 == 0 and code2 == 0, err2
    gen1 = out1.split()[2]
    now = manifest(data)
    assert out2.split()[2] == now["generation"] and now["previous"] == gen1  # one after the other
    assert Store().verify() == []
    assert all(gens == {gen1, now["generation"]} for gens in generations(data).values())
    first_manifest = dict(now, generation=gen1)  # the two installs wrote identical tables
    assert intact(data, first_manifest) == []


#: Points to kill an install at: mid-way through writing, all written and checked, swapped, cleaning up.
KILL_POINTS = ["written:boundaries/lsoa", "checked", "swapped", "cleaned:boundaries"]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_kill_9_leaves_a_working_store_and_no_stale_lock(data, start, point):
    before = manifest(data)
    victim = start(pause_at=point)
    assert victim.wait_paused().split() == [str(victim.proc.pid), point]
    victim.kill()
    assert victim.proc.returncode == -signal.SIGKILL

    after = manifest(data)
    swapped = point in ("swapped", "cleaned:boundaries")
    assert (after["generation"] != before["generation"]) is swapped
    assert Store().verify() == [] and len(Store().boundaries("lsoa")) > 0  # whichever is current opens whole
    assert intact(data, before) == []  # the store that was current before is still there, unchanged
    if swapped:
        assert after["previous"] == before["generation"]

    code, out, err = start(args=["--no-wait"]).finish()  # the OS dropped the killed lock
    assert code == 0, err
    final = manifest(data)
    assert final["previous"] == after["generation"]
    assert Store().verify() == []
    assert all(gens == {final["generation"], after["generation"]} for gens in generations(data).values())
    assert not list(data.glob(".store.json.*"))


# -- the check before the swap -------------------------------------------------------------------

def _with_step(monkeypatch, step):
    import geo.install as gi

    steps = list(gi.GEO_STEPS) + [gi.Step("meddling", step)]
    monkeypatch.setattr("layers.install.install_steps", lambda: steps)


@pytest.mark.parametrize("meddle, says", [
    (lambda path: path.unlink(), "is missing"),
    (lambda path: path.write_bytes(path.read_bytes()[:100]), "is truncated (100 of "),
    (lambda path: path.write_bytes(path.read_bytes()[::-1]), "has changed since it was installed"),
])
def test_new_generation_that_does_not_match_its_manifest_is_not_swapped_in(data, mini_mirror, monkeypatch,
                                                                            meddle, says):
    from layers.install import install

    before = (data / "store.json").read_text()

    def damage_lsoa(source, writer, ctx):  # as the old clean-up of an overlapping install did
        meddle(writer.dir("boundaries") / "lsoa.parquet")

    _with_step(monkeypatch, damage_lsoa)
    with pytest.raises(InstallCheckFailed) as err:
        install(mini_mirror, root=data)
    message = str(err.value)
    assert message.startswith("the new store failed its check before the swap, so the current store was kept: ")
    assert "lsoa.parquet " + says in message and message.endswith("; run the install again")
    assert (data / "store.json").read_text() == before
    assert all(len(gens) == 2 for gens in generations(data).values())  # the failed generation was removed


def test_a_file_the_manifest_does_not_list_fails_the_check(data, mini_mirror, monkeypatch):
    from layers.install import install

    def stray(source, writer, ctx):
        pd.DataFrame({"x": [1]}).to_parquet(writer.dir("boundaries") / "stray.parquet")

    _with_step(monkeypatch, stray)
    with pytest.raises(InstallCheckFailed, match=r"stray\.parquet is not in the new store's manifest"):
        install(mini_mirror, root=data)


# -- the lock itself and the clean-up ------------------------------------------------------------

def test_lock_excludes_another_thread_and_waits_for_it(tmp_path, other_holder):
    done = threading.Event()
    other_holder(tmp_path, on_release=done.set)
    with pytest.raises(InstallRunning, match=rf"another install is running \(pid {os.getpid()}, started "):
        with install_lock(tmp_path, wait_s=0):
            pass
    told = []

    def on_wait(message):
        told.append(message)
        other_holder.release.set()  # let the holder go only once this one is waiting

    with install_lock(tmp_path, wait_s=EVENT_TIMEOUT_S, on_wait=on_wait):
        assert told and done.wait(EVENT_TIMEOUT_S)  # got the lock only after the holder let go
    assert len(told) == 1 and "waiting (up to 10 min)" in told[0]
    assert (tmp_path / LOCK_NAME).read_text() == ""  # released: no holder named


def test_lock_times_out_with_a_message(tmp_path, other_holder):
    other_holder(tmp_path)
    with pytest.raises(InstallRunning, match=r"is still running \(pid \d+, started .*\) after waiting 0.3 s; "
                                             r"try again when it has finished"):
        with install_lock(tmp_path, wait_s=0.3):
            pass


def test_lock_is_reentrant_in_one_thread(tmp_path):
    with install_lock(tmp_path, wait_s=0):
        with install_lock(tmp_path, wait_s=0):
            pass
        with install_lock(tmp_path, wait_s=0):  # still held by this thread after the inner one
            pass


def test_app_install_button_fails_fast_while_another_install_runs(tmp_env, other_holder):
    from streamlit.testing.v1 import AppTest

    data = tmp_env / "data"
    other_holder(data)  # another thread, as another session of the same app would be
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.button[0].click().run()
    assert not at.exception
    messages = [e.value for e in at.error if e.value.startswith("Install failed")]
    assert len(messages) == 1, [e.value for e in at.error]
    assert messages[0].startswith(f"Install failed: another install is running (pid {os.getpid()}, started ")
    assert messages[0].endswith("); try again when it has finished")
    assert not (data / "store.json").exists()


def test_clean_up_keeps_current_previous_and_generations_being_written(tmp_path):
    root = tmp_path / "data"
    frame = pd.DataFrame({"code": ["a"], "value": [1]})
    gens = []
    for _ in range(2):
        with StoreWriter(root) as w:
            w.write("indicators", "t", frame)
            gens.append(w.commit("test")["generation"])
    (root / "indicators" / "not-a-generation").mkdir()
    with StoreWriter(root) as outer:
        outer.write("indicators", "t", frame)
        with StoreWriter(root) as inner:  # same thread: the lock is re-entrant, the clean-up must spare outer
            inner.write("indicators", "t", frame)
            inner.commit("test")
        assert (root / "indicators" / outer.generation / "t.parquet").is_file()
        outer.commit("test")
    kept = {p.name for p in (root / "indicators").iterdir()}
    assert kept == {outer.generation, inner.generation, "not-a-generation"}
    assert all(GENERATION_RE.match(g) for g in gens + [outer.generation])
    assert Store(root).verify() == []


def test_a_lock_file_that_cannot_be_opened_is_one_line(tmp_path):
    (tmp_path / LOCK_NAME).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(WardscopeError, match=r"cannot open the install lock .*install\.lock \(.+\); the data "
                                             r"directory must be writable"):
        with install_lock(tmp_path):
            pass
    assert not (tmp_path / "elsewhere").exists()
