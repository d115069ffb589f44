"""The councillor pack from the Ward profile page: one PDF per ward and a contents page, as the CLI makes it."""

from __future__ import annotations

import io
import zipfile

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
