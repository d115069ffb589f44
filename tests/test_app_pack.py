"""The councillor pack from the Ward profile page: one PDF per ward and a contents page, as the CLI makes it."""

from __future__ import annotations

import io
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.pdftext import pdf_pages

SCILLY = "Isles of Scilly (district)"  # the district with fewest wards (5): a pack made in seconds


def profile_page(area: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.sidebar.selectbox(key="w:area").set_value(area).run()
    at.switch_page("app_pages/ward_profile.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_the_pack_is_made_when_asked_and_holds_every_ward_as_the_cli_makes_it(store, tmp_path):
    from app_pages.requests import pack_request
    from geo.areas import resolve_area
    from layers.profiles import load_profile
    from tasks.profile import run_pack

    at = profile_page(SCILLY)
    assert not [b for b in at.get("download_button") if b.proto.label.startswith("Download the councillor pack")]
    at.button(key="make-pack").click().run()
    assert not at.exception, [e.message for e in at.exception]
    # made in the background: the page shows its progress and stays usable meanwhile
    assert not [b for b in at.get("download_button") if "councillor pack" in b.proto.label]
    assert [p for p in at.get("progress")] and "make-pack" not in [b.key for b in at.button]
    assert at.session_state["councillor_pack_job"].wait(300)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert [b.proto.label for b in at.get("download_button") if "councillor pack" in b.proto.label] == [
        "Download the councillor pack (5 wards, zip)"]
    made = zipfile.ZipFile(io.BytesIO(at.session_state["councillor_pack"]["zip"]))

    wards = store.boundaries("ward", ["E06000053"])
    area = resolve_area("Isles of Scilly", store.districts())
    cli = tmp_path / "cli.zip"
    run_pack(pack_request(area, load_profile("neighbourhood"), out=str(cli)), store)
    assert made.namelist() == zipfile.ZipFile(cli).namelist()
    assert len(made.namelist()) == len(wards) + 1 and "00-contents.pdf" in made.namelist()
    contents = " ".join(pdf_pages(made.read("00-contents.pdf")))
    for name in wards["name"]:
        assert name in contents
    for entry in sorted(made.namelist())[1:]:
        first_page = pdf_pages(made.read(entry))[0]
        assert "Summary" in first_page and any(name in first_page for name in wards["name"])

    at.run()  # the page drawn again (any widget): the pack is still there to download, not made again
    assert [b.proto.label for b in at.get("download_button") if "councillor pack" in b.proto.label]
    assert "make-pack" not in [b.key for b in at.button]


def test_an_area_too_big_for_one_visit_says_so_and_offers_no_button(store):
    at = profile_page("England")
    said = " ".join(c.value for c in at.caption)
    assert f"has {len(store.boundaries('ward')):,} wards; a pack holds at most 150" in said, said
    assert "make-pack" not in [b.key for b in at.button]


@pytest.fixture(autouse=True)
def _no_pack_left_running():
    """Every test leaves the server's one pack slot free (a job left holding it would fail the tests after)."""
    from app_pages.pack_job import _TURN

    yield
    assert _TURN.acquire(timeout=60), "a pack job still holds the slot"
    _TURN.release()


class Gate:
    """A stand-in for tasks.profile.run_pack: reports its first ward, then waits for :meth:`open` (or 30 s)
    before the second; writes ``zip`` at the end."""

    def __init__(self, zip_bytes: bytes = b"PK made"):
        self.zip, self.started, self._open = zip_bytes, threading.Event(), threading.Event()

    def open(self) -> None:
        self._open.set()

    def __call__(self, request, store, progress):
        progress(0, 3, "first ward")
        self.started.set()
        self._open.wait(30)
        progress(1, 3, "second ward")  # raises Cancelled once the job is cancelled
        Path(request.out).write_bytes(self.zip)


@dataclass(frozen=True)
class FakeRequest:
    out: str = ""


def _jobs(monkeypatch, make):
    """A maker of PackJobs whose run_pack is ``make(request, store, progress)``."""
    import tasks.profile
    from app_pages.pack_job import PackJob

    monkeypatch.setattr(tasks.profile, "run_pack", make)
    return lambda made_for="x", wards=3, alive=None: PackJob(FakeRequest(), None, made_for, wards, alive=alive)


def test_a_pack_job_reports_progress_then_its_zip(monkeypatch):
    gate = Gate()
    job = _jobs(monkeypatch, gate)()
    assert gate.started.wait(30) and (job.done, job.message, job.finished) == (0, "first ward", False)
    gate.open()
    assert job.wait(30) and job.zip == b"PK made" and job.error is None and (job.done, job.total) == (1, 3)


def test_a_cancelled_pack_keeps_nothing_and_a_failed_one_says_why_in_one_line(monkeypatch):
    from geo.errors import WardscopeError

    gate = Gate()
    job = _jobs(monkeypatch, gate)()
    assert gate.started.wait(30)
    job.cancel()
    gate.open()
    assert job.wait(30) and job.zip is None and job.error is None

    def broken(request, store, progress):
        raise WardscopeError("ward E05000000 has no boundary")

    failed = _jobs(monkeypatch, broken)()
    assert failed.wait(30) and failed.zip is None and failed.error == "ward E05000000 has no boundary"

    def bug(request, store, progress):
        raise KeyError("lad_code")

    crashed = _jobs(monkeypatch, bug)()
    assert crashed.wait(30) and crashed.error.startswith("an unexpected error (KeyError)")


def test_one_pack_is_made_at_a_time_the_next_waits_and_one_cancelled_while_waiting_frees_nothing(monkeypatch):
    from app_pages.pack_job import WAITING

    gate = Gate()
    new = _jobs(monkeypatch, gate)
    first = new("first")
    assert gate.started.wait(30)
    second, third = new("second"), new("third")
    time.sleep(1.0)
    assert first.message == "first ward"  # the slot was free: it never said it was waiting
    assert second.message == third.message == WAITING and not second.finished and second.done == 0
    second.cancel()  # while waiting: it ends at once, and the slot is still the first job's
    assert second.wait(5) and second.zip is None
    time.sleep(1.0)
    assert not first.finished and not third.finished and third.message == WAITING
    gate.open()
    assert first.wait(30) and third.wait(30) and first.zip == third.zip == b"PK made"


def test_a_pack_whose_visitor_has_gone_is_stopped(monkeypatch):
    import app_pages.pack_job

    monkeypatch.setattr(app_pages.pack_job, "GONE_GRACE_S", 0.0)
    gate = Gate()
    here = [True]
    job = _jobs(monkeypatch, gate)(alive=lambda: here[0])
    assert gate.started.wait(30)
    here[0] = False  # the tab was closed
    time.sleep(0.05)
    gate.open()
    assert job.wait(30) and job.zip is None and job.error is None


def _pack_buttons(at) -> list[str]:
    return [b.proto.label for b in at.get("download_button") if "councillor pack" in b.proto.label]


def test_another_area_neither_stops_a_pack_nor_drops_one_and_the_stop_button_stops_it(store, monkeypatch):
    # "Nothing a user made is ever lost": the area picker is on every page, so it used to stop a pack half made
    # (or drop a finished one) as soon as the visitor came back to this page with another area chosen.
    import tasks.profile

    gate = Gate()
    monkeypatch.setattr(tasks.profile, "run_pack", gate)
    n = len(store.boundaries("ward", ["E06000053"]))
    at = profile_page(SCILLY)
    at.button(key="make-pack").click().run()
    job = at.session_state["councillor_pack_job"]
    assert gate.started.wait(30)
    at.sidebar.selectbox(key="w:area").set_value("Luton (district)").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["councillor_pack_job"] is job and not job.stopping
    said = " ".join(c.value for c in at.caption)
    assert "Making the pack for Isles of Scilly" in said
    assert "To make the pack for Luton now, stop this one first" in said
    assert "make-pack" not in [b.key for b in at.button]  # one pack at a time in a session
    gate.open()
    assert job.wait(30) and job.zip == b"PK made"
    at.run()
    assert _pack_buttons(at) == [f"Download the councillor pack for Isles of Scilly ({n} wards, zip)"]
    assert "make-pack" in [b.key for b in at.button]  # Luton's pack can be asked for beside it
    assert "It replaces the pack above once it is ready" in " ".join(c.value for c in at.caption)
    at.sidebar.selectbox(key="w:area").set_value(SCILLY).run()
    assert _pack_buttons(at) == [f"Download the councillor pack ({n} wards, zip)"]

    stop = Gate()  # Luton's pack, stopped by its button part way: Scilly's stays
    monkeypatch.setattr(tasks.profile, "run_pack", stop)
    at.sidebar.selectbox(key="w:area").set_value("Luton (district)").run()
    at.button(key="make-pack").click().run()
    luton = at.session_state["councillor_pack_job"]
    assert stop.started.wait(30)
    at.button(key="stop-pack").click().run()
    assert luton.stopping and "Stopping at the end of this ward" in " ".join(c.value for c in at.caption)
    stop.open()
    assert luton.wait(30) and luton.zip is None
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert [i.value for i in at.info if i.value == "The pack for Luton was stopped."]
    assert _pack_buttons(at) == [f"Download the councillor pack for Isles of Scilly ({n} wards, zip)"]
    assert "make-pack" in [b.key for b in at.button]


def test_a_failed_pack_says_why_on_its_own_area_only(store, monkeypatch):
    import tasks.profile
    from geo.errors import WardscopeError

    def broken(request, store, progress):
        raise WardscopeError("ward E05000000 has no boundary")

    monkeypatch.setattr(tasks.profile, "run_pack", broken)
    at = profile_page(SCILLY)
    at.button(key="make-pack").click().run()
    for _ in range(60):  # the job fails at once, often before the page's own rerun has collected it
        if "councillor_pack_job" not in at.session_state or at.session_state["councillor_pack_job"].wait(0.5):
            break
    at.run()
    assert [e.value for e in at.error] == ["The pack could not be made: ward E05000000 has no boundary"]
    at.sidebar.selectbox(key="w:area").set_value("Luton (district)").run()
    assert not at.exception and not at.error  # Luton's pack was never asked for
    assert "make-pack" in [b.key for b in at.button]
