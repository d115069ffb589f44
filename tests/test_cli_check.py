"""`cli.py check`: the command line's way through the upload gate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile_corpus import CASES, HOSTILE_DIR
from tests.upload_fixtures import shapefile_zip, squares

ROOT = Path(__file__).resolve().parent.parent


def check(*args, sessions: Path):
    env = {**os.environ, "WARDSCOPE_SESSIONS": str(sessions)}
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "check", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


def test_check_accepts_a_shapefile_and_asks_about_a_missing_prj(tmp_path):
    good = tmp_path / "sites.zip"
    good.write_bytes(shapefile_zip(squares(4, bowtie_at=1), drop=(".prj",)))
    out = check(good, sessions=tmp_path / "s")
    assert out.returncode == 2
    assert out.stderr.startswith("error: sites.zip: the shapefile has no .prj file")
    assert "--assume-crs 27700 or --assume-crs 4326" in out.stderr
    out = check(good, "--assume-crs", 27700, "--repair", sessions=tmp_path / "s")
    assert out.returncode == 0, out.stderr
    assert "sites.zip: accepted as zip-shapefile" in out.stdout
    assert "4 features" in out.stdout and "(assumed EPSG:27700)" in out.stdout and "repaired 1 geometr" in out.stdout
    assert list((tmp_path / "s").iterdir()) == []  # the session directory is gone when the command ends


def test_check_refuses_hostile_files_with_their_message(tmp_path):
    out = check(HOSTILE_DIR / "traversal_dotdot.zip", sessions=tmp_path / "s")
    assert out.returncode == 2 and "(path traversal); refused, nothing was extracted" in out.stderr
    out = check(HOSTILE_DIR / "formula_injection.csv", "--kinds", "csv", sessions=tmp_path / "s")
    assert out.returncode == 0 and "warning: formula_injection.csv: 6 cells start with =" in out.stdout
    out = check(HOSTILE_DIR / "png_renamed.csv", "--kinds", "csv", sessions=tmp_path / "s")
    assert out.returncode == 2 and "this is a PNG image, not a CSV table" in out.stderr


#: Numbers and coordinates that cannot be right (issue 12, item 6), each through `cli.py check`.
NUMBER_CASES = ["bng_declared_lonlat.zip", "lonlat_assumed_bng.zip", "nan_point.geojson", "mixed_encoding.csv",
                "decimal_commas.csv", "mixed_decimals.csv", "many_keys.yaml", "dotdot_folder.zip"]


@pytest.mark.parametrize("filename", NUMBER_CASES)
def test_check_says_why_a_number_or_coordinate_cannot_be_right(tmp_path, filename):
    case = next(c for c in CASES if c.filename == filename)
    path = tmp_path / "in" / case.filename
    path.parent.mkdir()
    path.write_bytes(case.data())
    before = path.read_bytes()
    options = [a for key, value in case.read_options for a in (f"--{key.replace('_', '-')}", value)]
    out = check(path, "--kinds", ",".join(sorted(case.kinds)), *options, sessions=tmp_path / "s")
    if case.error is None:  # accepted: what it holds, and the note, on stdout
        assert out.returncode == 0, out.stderr
        assert case.message in out.stdout and out.stdout.startswith(f"{case.filename}: accepted")
    else:
        assert out.returncode == 2, out.stdout
        assert out.stderr.startswith(f"error: {case.filename}") and case.message in out.stderr
        assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert path.read_bytes() == before and sorted(p.name for p in path.parent.iterdir()) == [case.filename]
    assert list((tmp_path / "s").iterdir()) == []  # nothing left in the session directory either
