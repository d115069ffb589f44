"""One request, one path: each task asked through the CLI and through the app's code path gives the same result.

For every task, the CLI runs in-process (``cli.main``) and prints JSON (or
writes its files) with ``--provenance``; the app's side builds its request
with the function its page uses (:mod:`app_pages.requests`) from the values
the widgets would hold, runs the same task and renders the result the way the
CLI does. Rows, values and provenance must be equal, so a front door that
post-processes a result (rounds, drops a note, adds a column) or builds a
different request fails here.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import pandas as pd
import pytest

import cli
from app_pages import requests as page
from geo.employment_sites import sample_sites, sites_from_frame
from geo.textout import render
from layers import dashboard_out
from layers.profiles import load_profile
from layers.scoring import score_output
from layers.ward_report import report_record
from tasks import access, boundaries, dashboard, export, hubs, indicators, neighbourhoods, profile, score
from tasks.inputs import area_of

LUTON = "E06000032"
IDS = ("census21_inactive_pct", "imd2025_employment_score")


def _cli(argv, tmp_path):
    """(stdout text or the --out file's text, provenance dict) of one in-process CLI run."""
    out, prov = tmp_path / "out.txt", tmp_path / "provenance.json"
    code = cli.main([*argv, "--out", str(out), "--provenance", str(prov)])
    assert code == 0
    text = out.read_text(encoding="utf-8") if out.exists() else ""  # an export writes out.txt.<format> instead
    return text, json.loads(prov.read_text(encoding="utf-8"))


def _rows(text: str):
    return json.loads(text)


def _hubs_file(tmp_path):
    path = tmp_path / "hubs.csv"
    pd.DataFrame({"name": ["Luton Jobcentre Plus", "Marsh Farm Library"], "easting": [509200, 507300],
                  "northing": [221300, 225400], "type": ["jobcentre", "library"]}).to_csv(path, index=False)
    return path


def boundaries_case(store, tmp_path):
    text, prov = _cli(["boundaries", "--level", "ward", "--area", "Luton", "--format", "geojson"], tmp_path)
    result = boundaries.run(page.boundaries_request(area_of("Luton", store), "ward"), store)
    return (json.loads(text), prov), (json.loads(render(result.data, "geojson")), result.provenance.to_dict())


def indicators_case(store, tmp_path):
    text, prov = _cli(["indicators", "--level", "ward", "--area", "Luton", "--ids", ",".join(IDS), "--format", "json"],
                      tmp_path)
    result = indicators.run(page.indicators_request(area_of("Luton", store), "ward", IDS), store)
    return (_rows(text), prov), (_rows(render(result.data, "json")), result.provenance.to_dict())


def score_case(store, tmp_path):
    text, prov = _cli(["score", "--profile", "multi-agency", "--level", "ward", "--area", "Luton", "--format", "json"],
                      tmp_path)
    result = score.run(page.score_request(area_of("Luton", store), "ward", load_profile("multi-agency"), 200), store)
    return (_rows(text), prov), (_rows(render(score_output(result.data), "json")), result.provenance.to_dict())


def score_with_access_case(store, tmp_path):
    text, prov = _cli(["score", "--profile", "neighbourhood", "--level", "lsoa", "--area", "Luton", "--format", "json",
                       "--access-sites", "sample", "--access-mode", "walk", "--access-weight", "2"], tmp_path)
    request = page.score_request(area_of("Luton", store), "lsoa", load_profile("neighbourhood"), 200,
                                 access=("walk", 2.0), sites=sample_sites(store))
    result = score.run(request, store)
    return (_rows(text), prov), (_rows(render(score_output(result.data), "json")), result.provenance.to_dict())


def neighbourhoods_case(store, tmp_path):
    text, prov = _cli(["score", "--profile", "neighbourhood", "--level", "lsoa", "--area", "Luton", "--format", "json",
                       "--neighbourhoods"], tmp_path)
    request = page.score_request(area_of("Luton", store), "lsoa", load_profile("neighbourhood"), 200)
    result = neighbourhoods.run(request, store)
    return (_rows(text), prov), (_rows(render(result.data.table, "json")), result.provenance.to_dict())


def access_case(store, tmp_path):
    text, prov = _cli(["access", "--sites", "sample", "--mode", "walk,bus", "--level", "ward", "--area", "Luton",
                       "--engine", "estimate", "--format", "json"], tmp_path)
    request = page.access_request(area_of("Luton", store), "ward", sample_sites(store), "walk", "estimate", None)
    result = access.run(request, store)
    return ((_rows(text), prov, None),
            (_rows(render(result.data, "json")), result.provenance.to_dict(), list(result.notes)))


def hubs_case(store, tmp_path):
    path = _hubs_file(tmp_path)
    text, prov = _cli(["hubs", "--demand", "neighbourhood", "--band", "top 10%", "--band", "top 20%", "--area", "Luton",
                       "--sites", str(path),
                       "--candidates", "stations", "--candidates", "priority-centroids", "--sites-outside", "drop",
                       "--model", "mclp", "--k", "2", "--mode", "walk", "--minutes", "20", "--format", "json"],
                      tmp_path)
    uploaded = sites_from_frame(pd.read_csv(path, dtype=str), source=path.name)
    request = page.hubs_request(area_of("Luton", store), load_profile("neighbourhood"), bands=("top 10%", "top 20%"),
                                weight="population", existing=uploaded, generated=("stations", "priority-centroids"),
                                own=None, mode="walk", minutes=20, model="mclp", k=2)
    result = hubs.run(request, store)
    return ((_untimed(_rows(text)), _untimed(prov)),
            (_untimed(_rows(result.data.to_json_text())), _untimed(result.provenance.to_dict())))


def _untimed(value):
    """``value`` without the solver's run time (seconds differ between any two runs)."""
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    if isinstance(value, str):  # "... (CBC) proved it in 1.2 s": the statement carries the run time too
        return re.sub(r"proved it in (under )?\d+(\.\d+)? s", "proved it in … s", value)
    return value


def export_case(store, tmp_path):
    selection = "band:top 10%,band:top 20%"
    _, prov = _cli(["export", "--profile", "neighbourhood", "--level", "ward", "--area", "Luton", "--select", selection,
                    "--format", "csv"], tmp_path)
    cli_csv = (tmp_path / "out.txt.csv").read_bytes()
    cli_method = json.loads((tmp_path / "out.txt.csv.methodology.json").read_text(encoding="utf-8"))
    request = page.export_request(page.score_request(area_of("Luton", store), "ward", load_profile("neighbourhood"),
                                                     200), selection)
    result = export.run(request, store)
    layer = result.data
    with zipfile.ZipFile(io.BytesIO(layer.file("csv").data)) as bundle:
        names = bundle.namelist()
        app_csv = bundle.read(next(n for n in names if n.endswith(".csv")))
        app_method = json.loads(bundle.read(next(n for n in names if n.endswith("methodology.json"))))

    def comparable(m):  # when and under which file names it was written differ by nature
        return {k: v for k, v in m.items() if k not in ("exported_at", "files")}

    return (cli_csv, comparable(cli_method), prov), (app_csv, comparable(app_method), result.provenance.to_dict())


def ward_profile_case(store, tmp_path):
    ward = store.boundaries("ward", [LUTON])["code"].iloc[0]
    text, prov = _cli(["ward-profile", "--area", "Luton", "--ward", ward, "--format", "json"], tmp_path)
    request, _ = page.ward_profile_request(area_of("Luton", store), ward, load_profile("neighbourhood"))
    result = profile.run(request, store)
    return (_rows(text), prov), (report_record(result.data), result.provenance.to_dict())


def dashboard_case(store, tmp_path):
    _, prov = _cli(["dashboard", "--area", "South Midlands", "--period", "2023", "--format", "csv"], tmp_path)
    text = (tmp_path / "out.txt").read_bytes().decode("utf-8")  # byte for byte: CSV rows end in CRLF
    result = dashboard.run(page.dashboard_request(area_of("South Midlands", store), 2023), store)
    return (text, prov, None), (dashboard_out.to_csv_bytes(result.data).decode("utf-8"),
                                result.provenance.to_dict(), list(result.notes))


CASES = [boundaries_case, indicators_case, score_case, score_with_access_case, neighbourhoods_case, access_case,
         hubs_case, export_case, ward_profile_case, dashboard_case]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__.removesuffix("_case") for c in CASES])
def test_the_cli_and_the_app_give_the_same_result(store, tmp_path, case, capsys):
    from_cli, from_app = case(store, tmp_path)
    assert from_app[0], "the task gave nothing to compare"
    assert from_cli[0] == from_app[0]  # same rows, same values
    assert from_cli[1] == from_app[1]  # same provenance (for an export: the same methodology.json)
    if len(from_cli) > 2 and from_cli[2] is None:  # the notes the CLI prints are the result's notes
        printed = [line.removeprefix("note: ") for line in capsys.readouterr().err.splitlines()
                   if line.startswith("note: ")]
        assert printed == from_app[2]
    elif len(from_cli) > 2:
        assert from_cli[2] == from_app[2]


def test_equal_inputs_make_equal_requests(store):
    """The two doors build equal (hashable) requests, so the app's cache key is the CLI's question."""
    args = cli.build_parser().parse_args(["score", "--profile", "multi-agency", "--level", "ward", "--area", "Luton",
                                          "--access-sites", "sample"])
    from_cli = cli.score_request(args, store)
    from_app = page.score_request(area_of("Luton", store), "ward", load_profile("multi-agency"), 200,
                                  access=("bus", 1.0), sites=sample_sites(store))
    assert from_cli == from_app and hash(from_cli) == hash(from_app)
    args = cli.build_parser().parse_args(["access", "--sites", "sample", "--mode", "cycle,bus,walk", "--area", "Luton",
                                          "--engine", "estimate"])
    assert cli.access_request(args, store) == page.access_request(area_of("Luton", store), "lsoa", sample_sites(store),
                                                                  "cycle", "estimate", None)


def test_the_timetable_engine_makes_equal_requests_from_both_doors(store, mirror):
    """The page's timetable choice (feed, day, window) is the CLI's --engine gtfs question; bus only."""
    feed = str(mirror / "transport" / "gtfs_chester_wrexham_bods_2023_subset.zip")
    args = cli.build_parser().parse_args(["access", "--sites", "sample", "--mode", "bus", "--area",
                                          "Cheshire West and Chester", "--engine", "gtfs", "--gtfs", feed,
                                          "--date", "2023-08-01", "--depart", "07:30-08:30"])
    from_app = page.access_request(area_of("Cheshire West and Chester", store), "lsoa", sample_sites(store), "bus",
                                   "gtfs", None, {}, gtfs=feed, date="2023-08-01", depart="07:30-08:30")
    assert cli.access_request(args, store) == from_app and from_app.modes == ("bus",)
    # blank day and window on the page mean the engine's defaults, as leaving the options out does
    args = cli.build_parser().parse_args(["access", "--sites", "sample", "--mode", "bus", "--area",
                                          "Cheshire West and Chester", "--engine", "gtfs", "--gtfs", feed])
    assert cli.access_request(args, store) == page.access_request(
        area_of("Cheshire West and Chester", store), "lsoa", sample_sites(store), "bus", "gtfs", None, gtfs=feed,
        date="", depart="")
