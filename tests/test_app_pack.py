"""The councillor pack from the Ward profile page: one PDF per ward and a contents page, as the CLI makes it."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

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


def _job_with(monkeypatch, make):
    """A PackJob whose run_pack is ``make(request, store, progress)``."""
    from dataclasses import dataclass

    import tasks.profile
    from app_pages.pack_job import PackJob

    @dataclass(frozen=True)
    class Request:
        out: str = ""

    monkeypatch.setattr(tasks.profile, "run_pack", make)
    return lambda made_for="x", wards=3: PackJob(Request(), None, made_for, wards)


def test_a_pack_job_reports_progress_then_its_zip(monkeypatch):
    def make(request, store, progress):
        for i in range(3):
            progress(i, 3, f"ward {i}")
        Path(request.out).write_bytes(b"PK zip")

    job = _job_with(monkeypatch, make)()
    assert job.wait(30) and job.zip == b"PK zip" and job.error is None
    assert (job.done, job.total) == (2, 3)


def test_a_cancelled_pack_keeps_nothing_and_a_failed_one_says_why_in_one_line(monkeypatch):
    import threading

    from geo.errors import WardscopeError

    started, go_on = threading.Event(), threading.Event()

    def slow(request, store, progress):
        progress(0, 3, "first ward")
        started.set()
        go_on.wait(30)
        progress(1, 3, "second ward")  # cancelled by now: raises inside the thread
        Path(request.out).write_bytes(b"PK never")

    job = _job_with(monkeypatch, slow)()
    assert started.wait(30)
    job.cancel()
    go_on.set()
    assert job.wait(30) and job.zip is None and job.error is None

    def broken(request, store, progress):
        raise WardscopeError("ward E05000000 has no boundary")

    failed = _job_with(monkeypatch, broken)()
    assert failed.wait(30) and failed.zip is None and failed.error == "ward E05000000 has no boundary"

    def bug(request, store, progress):
        raise KeyError("lad_code")

    crashed = _job_with(monkeypatch, bug)()
    assert crashed.wait(30) and crashed.error.startswith("an unexpected error (KeyError)")


def test_one_pack_is_made_at_a_time_and_the_next_says_it_is_waiting(monkeypatch):
    import threading

    from app_pages.pack_job import WAITING

    release = threading.Event()

    def held(request, store, progress):
        progress(0, 1, "a ward")
        release.wait(30)
        Path(request.out).write_bytes(b"PK first")

    new = _job_with(monkeypatch, held)
    first = new("first")
    deadline = time.monotonic() + 30
    while first.message != "a ward" and time.monotonic() < deadline:
        time.sleep(0.05)
    second = new("second")
    time.sleep(1.0)
    assert not second.finished and second.message == WAITING and second.done == 0
    release.set()
    assert first.wait(30) and second.wait(30)
    assert first.zip == b"PK first" and second.zip == b"PK first"


def test_choosing_another_area_while_a_pack_is_made_stops_it(store, monkeypatch):
    import threading

    import tasks.profile

    release = threading.Event()
    seen = []

    def slow(request, store, progress):
        seen.append(request.area.name)
        progress(0, 5, "first ward")
        release.wait(60)
        progress(1, 5, "second ward")
        Path(request.out).write_bytes(b"PK never")

    monkeypatch.setattr(tasks.profile, "run_pack", slow)
    at = profile_page(SCILLY)
    at.button(key="make-pack").click().run()
    job = at.session_state["councillor_pack_job"]
    at.sidebar.selectbox(key="w:area").set_value("Luton (district)").run()
    assert not at.exception, [e.message for e in at.exception]
    release.set()
    assert job.wait(30) and job.zip is None
    assert "councillor_pack_job" not in at.session_state and "councillor_pack" not in at.session_state
    assert "make-pack" in [b.key for b in at.button]  # Luton's pack can be asked for
