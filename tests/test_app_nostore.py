"""Without an installed store the app explains how to install, with no traceback."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


def test_app_without_store_shows_install_command(tmp_env):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception
    assert "not set up yet" in at.title[0].value
    assert any("python cli.py install" in m.value for m in at.markdown)


def test_app_with_store_shows_an_area(store):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "South Midlands"
