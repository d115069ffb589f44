"""The command line: subcommands, output shapes and one-line errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def run(*args, env=None):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True, cwd=ROOT, env=env)


def test_help_lists_subcommands():
    out = run("--help")
    assert out.returncode == 0
    for cmd in ("install", "areas", "boundaries", "access", "hubs", "bench"):
        assert cmd in out.stdout


def test_boundaries_csv_prints_every_ward_of_south_midlands(store):
    out = run("boundaries", "--level", "ward", "--area", "South Midlands", "--format", "csv")
    assert out.returncode == 0, out.stderr
    frame = pd.read_csv(io.StringIO(out.stdout))
    assert list(frame.columns[:4]) == ["code", "name", "lad_code", "lad_name"]
    six = {"E06000055", "E06000056", "E06000032", "E06000042", "E06000061", "E06000062"}
    assert set(frame["lad_code"]) == six
    expected = store.boundaries("ward", six)
    assert sorted(frame["code"]) == sorted(expected["code"])
    assert frame["code"].is_unique and frame["name"].notna().all()
    assert "Luton" in set(frame["lad_name"]) and "Biscot" in set(frame["name"])


def test_boundaries_geojson_is_wgs84(store):
    out = run("boundaries", "--level", "lsoa", "--area", "Luton", "--format", "geojson")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert "crs" not in data  # RFC 7946: WGS84 implied
    assert len(data["features"]) == len(store.boundaries("lsoa", ["E06000032"]))
    lon, lat = data["features"][0]["geometry"]["coordinates"][0][0][0]
    assert -0.6 < lon < -0.3 and 51.8 < lat < 52.0


def test_areas_lists_presets_and_districts(store):
    out = run("areas")
    frame = pd.read_csv(io.StringIO(out.stdout))
    assert {"South Midlands", "East Midlands CCA", "Worcestershire", "Luton", "Worcester", "Nottingham"} <= set(frame["name"])


def test_unknown_area_is_one_line_error(store):
    out = run("boundaries", "--level", "ward", "--area", "Atlantis")
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and out.stderr.startswith("error: no area or district called 'Atlantis'")


def test_no_store_is_one_line_error(tmp_path):
    import os

    env = dict(os.environ, WARDSCOPE_DATA=str(tmp_path / "empty"))
    out = run("boundaries", "--level", "ward", "--area", "Luton", env=env)
    assert out.returncode == 2 and "python cli.py install" in out.stderr
