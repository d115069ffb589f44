"""Saving and deleting areas of interest from the command line (``cli.py areas --save/--delete``) on a
private user directory, on the real store; bad input changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LUTON, CENTRAL_BEDS = "E06000032", "E06000056"
BISCOT = "E05014737"  # a ward in Luton


@pytest.fixture()
def cli(store, tmp_path):
    env = {**os.environ, "WARDSCOPE_DATA": str(store.root), "WARDSCOPE_USER": str(tmp_path / "user")}

    def run(*args):
        return subprocess.run([sys.executable, str(ROOT / "cli.py"), "areas", *args], capture_output=True,
                              text=True, cwd=ROOT, env=env)
    run.user = tmp_path / "user"
    return run


def saved(cli) -> dict:
    import yaml

    path = cli.user / "areas.yaml"
    return yaml.safe_load(path.read_text()) if path.exists() else None


def test_save_by_district_names_then_use_and_delete(cli):
    done = cli("--save", "Luton & Dunstable", "--districts", "Luton", "central bedfordshire")
    assert done.returncode == 0, done.stderr
    assert "saved area 'Luton & Dunstable': 2 districts" in done.stderr
    assert saved(cli)["areas"]["Luton & Dunstable"]["districts"] == [LUTON, CENTRAL_BEDS]
    listed = cli("--format", "json")
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["Luton & Dunstable"]["kind"] == "user" and rows["England"]["n_districts"] == 296
    gone = cli("--delete", "luton & dunstable")
    assert gone.returncode == 0 and saved(cli)["areas"] == {}


def test_wards_save_the_districts_they_are_in(cli):
    done = cli("--save", "Biscot area", "--wards", BISCOT)
    assert done.returncode == 0, done.stderr
    assert "whole districts these wards are in" in done.stderr
    assert saved(cli)["areas"]["Biscot area"]["districts"] == [LUTON]


def test_boundary_file_saves_the_districts_it_overlaps(cli, store, tmp_path):
    wards = store.boundaries("ward", [LUTON])
    path = tmp_path / "biscot.geojson"
    wards[wards["code"] == BISCOT][["code", "geometry"]].to_crs(4326).to_file(path, driver="GeoJSON")
    done = cli("--save", "From a file", "--boundary", str(path))
    assert done.returncode == 0, done.stderr
    assert saved(cli)["areas"]["From a file"]["districts"] == [LUTON]


@pytest.mark.parametrize("args, message", [
    (("--save", "X", "--districts", "Lutonn"), "'Lutonn' is not a district"),
    (("--save", "X", "--wards", "E05999999"), "'E05999999' is not a ward"),
    (("--save", "X", "--districts", " "), "at least one district"),
    (("--save", " ", "--districts", "Luton"), "an area needs a name"),
    (("--save", "Worcestershire", "--districts", "Luton"), "already a preset"),
    (("--save", "England", "--districts", "Luton"), "already a preset"),
    (("--save", "Kept", "--districts", "Bedford"), "already saved"),
    (("--delete", "Nope"), "no saved area called 'Nope'"),
    (("--districts", "Luton"), "go with --save NAME"),
])
def test_bad_input_is_one_line_and_changes_nothing(cli, args, message):
    assert cli("--save", "Kept", "--districts", "Luton").returncode == 0
    before = (cli.user / "areas.yaml").read_bytes()
    done = cli(*args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], done.stderr
    assert (cli.user / "areas.yaml").read_bytes() == before


def test_boundary_outside_england_is_refused(cli, tmp_path):
    path = tmp_path / "paris.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [[[2.3, 48.8], [2.4, 48.8], [2.4, 48.9], [2.3, 48.8]]]}}]}))
    done = cli("--save", "Paris", "--boundary", str(path))
    assert done.returncode == 2 and done.stderr.startswith("error: ")
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (cli.user / "areas.yaml").exists()


def test_export_file_names_take_only_safe_characters_from_an_area_name():
    from geo.areas import Area
    from tasks.export import stem_for

    area = Area("Luton & Dunstable / ../x", (LUTON,), "user")
    assert stem_for("neighbourhood", "ward", area.key) == "wardscope_neighbourhood_ward_luton_dunstable_x"
    assert stem_for("multi-agency", "lsoa", "South Midlands") == "wardscope_multi-agency_lsoa_south_midlands"
