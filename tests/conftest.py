"""Shared fixtures.

Most tests run on the real installed store (``python cli.py install`` first;
.ci/run does it). ``mini_mirror`` builds a three-district mirror from the real
mirror for install tests. ``tmp_env`` points the store and user directories at
a temporary folder so a test never touches the real ones.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo.config import default_mirror  # noqa: E402
from hypothesis import settings  # noqa: E402

# Property tests check behaviour, not speed: a per-example deadline fails on a busy machine
# (or under faketime), so every test runs without one.
settings.register_profile("wardscope", deadline=None)
settings.load_profile("wardscope")

#: Luton (unchanged wards), Worcester (re-warded in 2024), Nottingham (no Dec 2023 ward without LSOA).
MINI_DISTRICTS = ["E06000032", "E07000237", "E06000018"]


@pytest.fixture(scope="session", autouse=True)
def quick_retries():
    """Retries and Nomis pauses take milliseconds in tests (same policy, tiny waits); no Nomis key from the machine.

    Tests that look at the waits themselves replace ``geo.fetch.sleep``.
    """
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WARDSCOPE_RETRY_BASE_S", "0.005")
        mp.setenv("WARDSCOPE_RETRY_AFTER_MAX_S", "0.02")
        mp.setenv("WARDSCOPE_NOMIS_PAUSE_S", "0")
        mp.setenv("WARDSCOPE_NOMIS_CALLS_PER_MINUTE", "100000")
        mp.setenv("WARDSCOPE_NOMIS_KEY_FILE", "")
        mp.delenv("WARDSCOPE_NOMIS_KEY", raising=False)
        yield


@pytest.fixture(scope="session")
def mirror() -> Path:
    path = default_mirror()
    if path is None or not path.is_dir():
        pytest.fail("the real data mirror is needed (../shared/data or WARDSCOPE_MIRROR)")
    return path


@pytest.fixture(scope="session")
def store():
    from geo.store import Store, StoreNotInstalled

    try:
        return Store().preload()
    except StoreNotInstalled as exc:
        pytest.fail(f"{exc} (the tests use the real installed store)")


@pytest.fixture(scope="session")
def mini_mirror(tmp_path_factory, mirror) -> Path:
    from tests.mirror_subset import build_subset

    dst = tmp_path_factory.mktemp("mini_mirror")
    build_subset(mirror, dst, MINI_DISTRICTS)
    return dst


@pytest.fixture(scope="session")
def mini_store(tmp_path_factory, mini_mirror) -> Path:
    """A data directory installed twice from ``mini_mirror`` (a current and a previous generation).

    Shared by the session: copy it with :func:`copy_store` before changing anything.
    """
    from layers.install import install

    root = tmp_path_factory.mktemp("mini_store") / "data"
    install(mini_mirror, root=root)
    install(mini_mirror, root=root)
    return root


def copy_store(src: Path, dst: Path) -> Path:
    """A copy of the data directory ``src`` at ``dst`` (which must not exist yet)."""
    import shutil

    shutil.copytree(src, dst)
    return dst


@pytest.fixture()
def tmp_env(tmp_path, monkeypatch):
    """A private data and user directory for one test."""
    monkeypatch.setenv("WARDSCOPE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("WARDSCOPE_USER", str(tmp_path / "user"))
    return tmp_path


@pytest.fixture()
def fake_http():
    """A local server standing in for the publishers (see tests/httpfake.py)."""
    from tests.httpfake import FakePublisher

    server = FakePublisher()
    yield server
    server.close()


ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session")
def app_server(store):
    """One `streamlit run app.py` for the browser tests (real installed store)."""
    from tests.apprunner import AppServer

    ARTIFACTS.mkdir(exist_ok=True)
    server = AppServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    from tests.apprunner import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (as .ci/run does)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()

@pytest.fixture()
def workspace(tmp_path):
    """A session workspace under a private root in this test's temporary folder."""
    from geo.workspace import SessionWorkspace

    ws = SessionWorkspace(tmp_path / "sessions")
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def private_app(store, tmp_path_factory):
    """The app with its own saved-work folder (WARDSCOPE_USER), one per test module, so what a module saves
    is the only saved work its browsers see."""
    from tests.apprunner import AppServer

    ARTIFACTS.mkdir(exist_ok=True)
    server = AppServer(env={"WARDSCOPE_USER": str(tmp_path_factory.mktemp("user"))})
    yield server
    server.stop()


#: The mirror's Bus Open Data Service subset around Chester (the timetable engine's real feed).
GTFS_CHESTER = Path("/work/shared/data/transport/gtfs_chester_wrexham_bods_2023_subset.zip")


@pytest.fixture(scope="module")
def gtfs_app(store, tmp_path_factory, mirror):
    """The app with the server's timetable set (WARDSCOPE_GTFS: the mirror's Chester subset) and its own
    saved-work folder."""
    from tests.apprunner import AppServer

    feed = mirror / "transport" / GTFS_CHESTER.name
    if not feed.is_file():
        pytest.fail(f"the mirror has no {GTFS_CHESTER.name} (transport/)")
    ARTIFACTS.mkdir(exist_ok=True)
    server = AppServer(env={"WARDSCOPE_USER": str(tmp_path_factory.mktemp("user")), "WARDSCOPE_GTFS": str(feed)})
    yield server
    server.stop()
