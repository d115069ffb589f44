"""`cli.py indicators`: the list, area tables in CSV and JSON, and one-line errors."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd

from layers.indicators import indicator_table
from layers.registry import builtin_registry
from tests.test_cli import run

WORCS = {"E07000234", "E07000235", "E07000236", "E07000237", "E07000238", "E07000239"}


def test_list_has_one_line_per_indicator_and_says_what_is_not_installed(store):
    out = run("indicators", "--list")
    assert out.returncode == 0, out.stderr
    frame = pd.read_csv(io.StringIO(out.stdout))
    assert list(frame.columns) == ["id", "label", "levels", "period", "source", "installed"]
    assert frame["id"].tolist() == list(builtin_registry())
    rows = frame.set_index("id")
    claimant = rows.at["claimant_rate", "installed"]
    assert claimant.startswith("not installed: it needs the Nomis API") and "python cli.py install --nomis" in claimant
    assert claimant.endswith("to install just it: python cli.py install --only claimant")
    assert rows.at["aps_employment_rate", "levels"] == "lad"
    assert rows.at["imd2025_score", "installed"] == "yes"


def test_worcestershire_wards_with_real_values(store):
    out = run("indicators", "--level", "ward", "--area", "Worcestershire", "--ids", "census21_inactive_pct,imd2025_score",
              "--format", "csv")
    assert out.returncode == 0, out.stderr
    frame = pd.read_csv(io.StringIO(out.stdout))
    assert list(frame.columns) == ["code", "name", "lad_code", "lad_name", "census21_inactive_pct", "imd2025_score"]
    wards = store.boundaries("ward", sorted(WORCS))
    assert sorted(frame["code"]) == sorted(wards["code"]) and set(frame["lad_code"]) == WORCS
    with_lsoas = set(wards.loc[wards["n_lsoa"] > 0, "code"])
    values = frame.set_index("code").loc[sorted(with_lsoas)]
    assert values[["census21_inactive_pct", "imd2025_score"]].notna().all().all()
    assert values["census21_inactive_pct"].between(5, 90).all()
    exact = indicator_table("ward", sorted(WORCS), ["census21_inactive_pct", "imd2025_score"], store=store).set_index("code")
    assert np.allclose(values["census21_inactive_pct"], exact.loc[values.index, "census21_inactive_pct"].round(1))
    assert np.allclose(values["imd2025_score"], exact.loc[values.index, "imd2025_score"].round(3))


def test_json_output_for_lsoas(store):
    out = run("indicators", "--level", "lsoa", "--area", "Luton", "--ids", "imd2025_decile,census21_no_car_pct", "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert len(rows) == len(store.boundaries("lsoa", ["E06000032"]))
    assert set(rows[0]) == {"code", "name", "lad_code", "lad_name", "imd2025_decile", "census21_no_car_pct"}
    assert all(1 <= r["imd2025_decile"] <= 10 for r in rows)


def test_errors_are_one_line(store):
    for args, text in [
        (("--level", "ward", "--area", "Luton", "--ids", "imd2025_decile"), "error: imd2025_decile"),
        (("--level", "ward", "--area", "Luton", "--ids", "census21_inactve_pct"), "error: unknown indicator 'census21_inactve_pct'; did you mean census21_inactive_pct"),
        (("--level", "ward", "--area", "Luton", "--ids", "claimant_rate"), "error: claimant_rate"),
        (("--area", "Luton"), "error: give --list, or --level and --area"),
    ]:
        out = run("indicators", *args)
        assert out.returncode == 2, args
        assert out.stderr.startswith(text) and out.stderr.strip().count("\n") == 0, out.stderr
