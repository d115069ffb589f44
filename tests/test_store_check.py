"""A store that knows when it is damaged: flipped bytes, a truncated file or a missing one gives one line
naming the file and the repair command, in the CLI, `cli.py verify` and the app; never a figure.

Each test damages a copy of a store installed from the mini mirror (tests/conftest.py ``mini_store``).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from geo.errors import StoreDamaged
from geo.store import Store
from geo.storecheck import PREDATES
from tests.conftest import ROOT, copy_store

REPAIR = "repair it with: python cli.py install"


def flip(path):
    """Invert one byte in the middle of the file (same size, so only the checksum can tell)."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def delete(path):
    path.unlink()


#: damage -> (how, what the message says about the file)
DAMAGES = {
    "flipped": (flip, "has changed since it was installed (its sha256 does not match store.json)"),
    "truncated": (truncate, "is truncated ("),
    "missing": (delete, "is missing"),
}


@pytest.fixture()
def data(mini_store, tmp_env):
    """A private copy of the mini store, where $WARDSCOPE_DATA points."""
    return copy_store(mini_store, tmp_env / "data")


def table_path(key: str):
    kind, name = key.split("/")
    return Store(check=False).path(kind, name)


def cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True, cwd=ROOT)


def only_the_message(at) -> bool:
    """The page holds the title, message, install instructions and button only: no map, table, chart or metric."""
    kinds = {type(e).__name__ for e in at.main if not isinstance(e, Block)}
    return kinds <= {"Title", "Error", "Markdown", "Button"}


def one_error_line(out) -> str:
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    return lines[0]


def test_install_records_a_checksum_for_every_file(data):
    store = Store()
    assert store.checksums
    assert set(store.records) == set(store.manifest["counts"])
    for key, record in store.records.items():
        kind, name = key.split("/")
        path = store.path(kind, name)
        assert record["bytes"] == path.stat().st_size and len(record["sha256"]) == 64
        assert record["rows"] == store.manifest["counts"][key]
    assert store.verify() == []


@pytest.mark.parametrize("damage", DAMAGES)
def test_cli_names_the_damaged_file_and_prints_no_figure(data, damage):
    how, what = DAMAGES[damage]
    path = table_path("indicators/census_lsoa")
    how(path)
    out = cli("indicators", "--level", "ward", "--area", "Luton", "--ids", "census21_inactive_pct")
    line = one_error_line(out)
    assert line.startswith(f"error: the store is damaged: {path} {what}")
    assert f"; {REPAIR} (python cli.py verify lists every damaged file)" in line
    assert out.stdout == ""  # no table of numbers read from the damaged file


def test_damage_is_caught_on_first_read_in_a_process(data):
    store = Store()
    lad = table_path("boundaries/lad")
    flip(lad)
    with pytest.raises(StoreDamaged, match=r"lad\.parquet has changed since it was installed"):
        store.boundaries("lad")
    ward = table_path("boundaries/ward")
    assert len(store.boundaries("ward")) > 0  # an undamaged file still reads
    flip(ward)  # changed after it was checked in this process: checked again
    with pytest.raises(StoreDamaged, match=r"ward\.parquet has changed"):
        store.table("boundaries", "ward")


def test_verify_lists_each_damaged_file(data):
    healthy = cli("verify")
    assert healthy.returncode == 0 and healthy.stderr == ""
    assert f"all {len(Store().records)} files match store.json" in healthy.stdout
    damaged = {"boundaries/lsoa": "flipped", "indicators/iod2025_lsoa": "truncated", "places/stations": "missing"}
    for key, damage in damaged.items():
        DAMAGES[damage][0](table_path(key))
    out = cli("verify")
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == len(damaged)
    for line, (key, damage) in zip(sorted(lines), sorted(damaged.items(), key=lambda kv: str(table_path(kv[0])))):
        assert line.startswith(f"error: the store is damaged: {table_path(key)} {DAMAGES[damage][1]}"), line
        assert line.endswith(REPAIR), line


def test_verify_without_a_store_is_one_line(tmp_env):
    line = one_error_line(cli("verify"))
    assert "No Wardscope store is installed" in line and "python cli.py install" in line


@pytest.mark.parametrize("damage", DAMAGES)
def test_app_shows_the_message_and_no_page(data, damage):
    how, what = DAMAGES[damage]
    path = table_path("indicators/iod2025_lsoa")
    how(path)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception, [e.message for e in at.exception]
    assert len(at.error) == 1
    message = at.error[0].value
    assert message.startswith(f"the store is damaged: {path} {what}") and REPAIR in message and "\n" not in message
    assert at.title[0].value == "Wardscope's data store needs repairing"
    assert only_the_message(at)


def test_app_finds_a_file_damaged_while_it_runs(data):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    assert at.title[0].value != "Wardscope's data store needs repairing"
    path = table_path("boundaries/ward")
    truncate(path)
    at.run()
    assert not at.exception
    assert at.error[0].value.startswith(f"the store is damaged: {path} is truncated (")
    assert only_the_message(at)


# -- stores installed before checksums ----------------------------------------------------------

@pytest.fixture()
def old_data(data):
    pointer = data / "store.json"
    manifest = json.loads(pointer.read_text())
    del manifest["files"]
    pointer.write_text(json.dumps(manifest))
    return data


def test_old_store_is_read_and_verify_says_it_predates_checksums(old_data):
    assert not Store().checksums
    areas = cli("areas")
    assert areas.returncode == 0 and "Luton" in areas.stdout
    out = cli("verify")
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and PREDATES in out.stderr
    assert "this store predates checksums" in out.stderr and "run python cli.py install" in out.stderr


def test_old_store_missing_file_is_still_named(old_data):
    path = table_path("boundaries/lsoa")
    path.unlink()
    line = one_error_line(cli("areas"))
    assert line.startswith(f"error: the store is damaged: {path} is missing") and REPAIR in line
    out = cli("verify")
    assert out.returncode == 2 and out.stderr.startswith(f"error: the store is damaged: {path} is missing")


def test_app_warns_about_an_old_store(old_data):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("predates checksums" in w.value and "python cli.py install" in w.value for w in at.sidebar.warning)
