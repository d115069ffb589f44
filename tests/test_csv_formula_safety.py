"""Every CSV Wardscope writes is formula-safe: each CSV command and download, fed hostile names, and a search for new ones.

A name starting with =, +, -, @, tab or carriage return (OWASP's list) goes in through every way a
name gets into a CSV: site, hub and candidate files, saved areas, a user indicator's publisher, and
the store's own area names (rewritten on their way out of ``Store``, see tests/formula_check.py).
Every cell of every CSV that comes out must then be safe to open in a spreadsheet, the table must
still parse, and the hostile names must be there, neutralised (so the test cannot pass by printing
nothing). The last tests keep it complete: a CSV-capable command, a ``download_button`` or a
``.to_csv(`` that this file does not know about fails here.
"""

from __future__ import annotations

import ast
import csv

import pandas as pd
import pytest
import yaml

import cli
from tests.conftest import ROOT
from tests.formula_check import PREFIXES, check_csv, csv_files, csv_rows, hostile, hostile_store_names

AREA = "Worcestershire"  # six districts with consecutive codes, so cycled names carry all six prefixes
WORCESTERSHIRE = ["E07000234", "E07000235", "E07000236", "E07000237", "E07000238", "E07000239"]
#: A point in each of the six districts (WGS84), so every site has a district of its own.
PLACES = [(-2.0015, 52.3644), (-2.3382, 52.1678), (-1.9569, 52.2779), (-2.2096, 52.1977), (-2.0593, 52.1810),
          (-2.2583, 52.3837)]
ALL = set(PREFIXES)
#: Site files: the reader strips leading spaces, tabs and carriage returns from names, so these four remain.
READ_SITE_NAMES = {"=", "+", "-", "@"}

SCORE = ["--profile", "neighbourhood", "--level", "ward", "--area", AREA, "--sensitivity", "0"]
HUBS = ["hubs", "--area", AREA, "--demand", "neighbourhood", "--sites", "{sites}"]
MCLP = ["--candidates", "{candidates}", "--model", "mclp", "--k", "6"]
#: Every CSV the CLI prints or writes: id -> (arguments, the hostile prefixes that must come out neutralised).
CLI_CASES = {
    "areas": (["areas"], ALL),
    "boundaries": (["boundaries", "--level", "ward", "--area", AREA], ALL),
    "indicators-list": (["indicators", "--list"], ALL),
    "indicators": (["indicators", "--level", "ward", "--area", AREA, "--ids", "census21_inactive_pct"], ALL),
    "score": (["score", *SCORE], ALL),
    "access": (["access", "--sites", "{sites}", "--mode", "walk", "--level", "ward", "--area", AREA], ALL),
    "hubs-districts": ([*HUBS, "--model", "coverage", "--table", "districts"], ALL),
    "hubs-areas": ([*HUBS, "--model", "coverage", "--table", "areas"], ALL),
    "hubs-sites": ([*HUBS, "--model", "coverage", "--table", "sites"], ALL),
    # every LSOA a priority and no existing hubs, so each district's candidate adds something (only those are listed)
    "hubs-marginal": (["hubs", "--area", AREA, "--demand-file", "{demand}", *MCLP, "--table", "marginal"],
                      READ_SITE_NAMES),
    "hubs-curve": ([*HUBS, *MCLP, "--curve", "--table", "curve"], set()),  # lists site ids (slugs), never names
    "dashboard": (["dashboard", "--area", AREA, "--format", "csv"], ALL),
    "export-csv": (["export", *SCORE, "--select", "all", "--format", "csv", "--out", "{out}/areas.csv"], ALL),
    "export-shp": (["export", *SCORE, "--select", "all", "--dissolve", "--format", "shp", "--out", "{out}/areas.zip"],
                   ALL),
}
#: Subcommands that print no CSV (checked against the parser, so a new command must be put in one list).
NOT_CSV = {"install": "prints a summary", "check": "prints one line per file", "bench": "prints name value unit",
           "verify": "prints one line per damaged file", "ward-profile": "writes PDF, HTML or JSON",
           "profile": "writes PDF, HTML, JSON or a zip of PDFs", "serve": "runs the app"}


def _write_points(path, names, shift_deg):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(["name", "longitude", "latitude"])
        writer.writerows([name, lon + shift_deg, lat] for name, (lon, lat) in zip(names, PLACES))
    return path


@pytest.fixture()
def hostile_inputs(tmp_path, monkeypatch, store):
    """Site and candidate files, saved areas and user indicators: one name per hostile prefix."""
    monkeypatch.setenv("WARDSCOPE_USER", str(tmp_path / "user"))
    (tmp_path / "user").mkdir()
    areas = {hostile(p, "Our area"): {"districts": WORCESTERSHIRE} for p in PREFIXES}
    (tmp_path / "user" / "areas.yaml").write_text(yaml.safe_dump({"areas": areas}), encoding="utf-8")

    def indicators():
        from layers.user_indicators import load_user_indicator

        wards = store.table("indicators", "index_ward", WORCESTERSHIRE)["code"]
        rows = ("code,value\n" + "".join(f"{c},{i}\n" for i, c in enumerate(wards))).encode()
        for i, p in enumerate(PREFIXES):
            load_user_indicator(rows, id=f"hostile_{i}", label=f"Visits {i}", store=store,
                                publisher=hostile(p, "Publisher"), dataset=hostile(p, "Dataset"))

    out = tmp_path / "out"
    out.mkdir()
    sites = [hostile(p, f"Hub {i}") for i, p in enumerate(PREFIXES)]
    candidates = [hostile(p, f"Candidate {i}") for i, p in enumerate(PREFIXES)]
    lsoas = store.boundaries("lsoa", WORCESTERSHIRE)["code"]
    demand = tmp_path / "demand.csv"
    demand.write_text("code,weight,priority\n" + "".join(f"{c},1000,true\n" for c in lsoas), encoding="utf-8")
    return {"sites": _write_points(tmp_path / "sites.csv", sites, 0.0), "demand": demand,
            "candidates": _write_points(tmp_path / "candidates.csv", candidates, 0.01),
            "out": out, "indicators": indicators}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_csv_is_formula_safe(case, hostile_inputs, monkeypatch, capsys):
    args, expected = CLI_CASES[case]
    if case == "indicators-list":
        hostile_inputs["indicators"]()
    argv = [a.format(**hostile_inputs) for a in args]
    with hostile_store_names(monkeypatch):
        code = cli.main(argv)
    printed = capsys.readouterr()
    assert code == 0, printed.err
    if "--out" in argv:
        outputs = {p.name: p.read_bytes() for p in hostile_inputs["out"].iterdir()}
        csvs = {k: v for name, data in outputs.items() for k, v in csv_files(name, data).items()}
    else:
        csvs = {" ".join(argv[:2]): printed.out}
    assert csvs, f"{case} wrote no CSV"
    found = set()
    for what, data in csvs.items():
        found |= check_csv(what, data)
    assert found == expected, f"{case}: hostile names neutralised in the output: {sorted(found)}"



def test_the_writer_quotes_text_keeps_numbers_and_neutralises_every_kind_of_text_column():
    import io

    import numpy as np

    from geo import csvsafe

    frame = pd.DataFrame({"band": pd.Categorical(["=a", "b;=c"]), "note": pd.array(["\r=x", None], dtype="string"),
                          "score": [-1.5, -np.inf], "rank": [1, 2], "robust": [True, False], "@n": ["-1.5", "+44 1"], "change": [-0.25, 3.0]})
    data = csvsafe.to_csv_bytes(frame)
    text = data.decode("utf-8")
    assert text.startswith("\ufeff") and text.endswith("\r\n")
    rows = csv_rows(data, "frame")
    assert rows == [["band", "note", "score", "rank", "robust", "'@n", "change"],
                    ["'=a", "'\r=x", "-1.5", "1", "True", "-1.5", "-0.25"],
                    ["b;=c", "", "'-inf", "2", "False", "'+44 1", "3.0"]]
    assert '"b;=c",' in text and ",-1.5,1,True," in text  # text quoted (a ; cannot start a cell), numbers bare
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert back["rank"].tolist() == [1, 2] and back["change"].tolist() == [-0.25, 3.0]  # negative numbers stay numbers
    assert csvsafe.to_csv_text(frame) == text[1:]  # the same CSV, without the byte-order mark

# -- the app's download buttons ------------------------------------------------------------

#: Pages with CSV downloads, and what each needs in the session to show them.
PAGES = {
    "access": "app_pages/access.py",      # the site list
    "scoring": "app_pages/scoring.py",    # the ranking, and the exports (CSV zip; shapefile zip with fields.csv)
    "hubs": "app_pages/hubs.py",          # the exports with the hubs layer
    "dashboard": "app_pages/dashboard.py",  # the district dashboard's figures
}


@pytest.fixture()
def downloads(monkeypatch):
    """Every st.download_button's file as the page hands it over: [(file name, mime, bytes)]."""
    from streamlit.elements.widgets import button

    real, seen = button.marshall_file, []

    def record(coordinates, data, proto, mimetype, file_name=None, **kwargs):
        seen.append((file_name, mimetype, data))
        return real(coordinates, data, proto, mimetype, file_name, **kwargs)

    monkeypatch.setattr(button, "marshall_file", record)

    def files():
        out = []
        for name, mime, data in seen:
            data = data() if callable(data) else data  # deferred: made when clicked
            out.append((name, mime, data.encode("utf-8") if isinstance(data, str) else bytes(data)))
        return out
    return files


@pytest.fixture()
def fresh_caches():
    """Streamlit's process-wide caches emptied before and after, so hostile names never leak into other tests."""
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


def _session_sites(store):
    """Six sites in the six districts, one hostile name per prefix (set after reading: the reader strips tabs)."""
    from geo.employment_sites import sites_from_frame

    frame = pd.DataFrame({"name": [f"Hub {i}" for i in range(6)], "longitude": [str(x) for x, _ in PLACES],
                          "latitude": [str(y) for _, y in PLACES]})
    sites = sites_from_frame(frame, source="test")
    sites["name"] = [hostile(p, f"Hub {i}") for i, p in enumerate(PREFIXES)]
    return sites


@pytest.mark.parametrize("page", list(PAGES))
def test_app_csv_downloads_are_formula_safe(page, store, tmp_env, monkeypatch, downloads, fresh_caches):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("WARDSCOPE_DATA", str(store.root))
    with hostile_store_names(monkeypatch):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        at.session_state["area"] = AREA  # a preset: district names are hostile here
        at.session_state["level"] = "ward"
        if page == "access":
            at.session_state["sites"], at.session_state["sites_from"] = _session_sites(store), "edited"
        at.run()
        at.switch_page(PAGES[page]).run()
        assert not at.exception, [e.message for e in at.exception]
        if page == "scoring":
            at.radio(key="scoring-sel").set_value("all").run()  # export every ward, not only the priority ones
        files = downloads()
    found = {member: check_csv(member, text) for name, _, data in files for member, text in csv_files(name, data).items()}
    assert found, f"no CSV download on the {page} page"
    named = set().union(*found.values())
    assert named == set(PREFIXES), f"{page}: hostile names neutralised in the downloads: {sorted(named)}"


# -- nothing slips past: commands, buttons and CSV writers this file does not know fail here ----------

#: Export formats whose files hold a CSV (the shapefile zip carries fields.csv and members.csv).
EXPORT_CSV_FORMATS = {"csv", "shp"}
#: Every st.download_button in the app, by (file, function): what it hands over and how it is covered.
DOWNLOADS = {
    ("app_pages/access.py", "<module>"): "CSV site list: to_csv_bytes, driven on the access page above",
    ("app_pages/details.py", "ranking_table"): "CSV ranking: to_csv_bytes, driven on the scoring page above",
    ("app_pages/details.py", "export_buttons"): "geo.export.export_bytes (CSV zip, shapefile zip): scoring and hubs pages",
    ("app_pages/ward_profile.py", "<module>"): "PDF and HTML ward profile (2 buttons): no CSV",
    ("app_pages/pack.py", "councillor_pack"): "councillor pack: a zip of PDF ward profiles and a PDF contents page, no CSV",
    ("app_pages/scoring.py", "<module>"): "YAML profile: no CSV",
    ("app_pages/dashboard.py", "<module>"): "CSV dashboard figures: to_csv_bytes, driven on the dashboard page above",
    ("app_pages/dashboard.py", "file_button"): "Excel workbook (csvsafe.to_xlsx_bytes) and PNG trend chart: no CSV",
}
DOWNLOAD_COUNTS = {("app_pages/ward_profile.py", "<module>"): 2}
#: CSV-writing calls allowed outside geo/csvsafe.py, by (file, function, call): why each writes no CSV for people.
CSV_CALLS_ALLOWED = {
    ("app_pages/access.py", "<module>", "to_csv"): "hashes the uploaded list to notice a new file; never written",
    ("tasks/inputs.py", "from_layer", "to_csv"): "the sites' content in the request (cache key); never written",
    ("tasks/inputs.py", "from_file", "to_csv"): "the sites' content in the request (cache key); never written",
    ("geo/arcgis.py", "_fetch", "csv.writer"): "the publisher's table kept for install to read; not an output",
    ("layers/census.py", "fetch_oa_lookup", "to_csv"): "the mirror's OA lookup layout kept for install to read; not an output",
    ("layers/nomis.py", "write", "csv.writer"): "the publisher's table kept for install to read; not an output",
    ("bench/bench_gtfs.py", "write_county_feed", "csv.DictWriter"): "a GTFS feed built for the benchmark; not an output",
}
WRITER = "geo/csvsafe.py"
SOURCES = ["app.py", "cli.py", "app_pages", "tasks", "geo", "layers", "bench"]


def _subcommands() -> dict:
    import argparse

    parser = cli.build_parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def _option(parser, flag):
    return next((a for a in parser._actions if flag in a.option_strings), None)


def test_every_command_that_prints_csv_is_driven_above():
    driven = {}
    for args, _ in CLI_CASES.values():
        driven.setdefault(args[0], []).append(args)
    for name, parser in _subcommands().items():
        fmt = _option(parser, "--format")
        choices = set(fmt.choices) if fmt is not None and fmt.choices else set()
        if name == "export":
            formats = {a[a.index("--format") + 1] for a in driven[name]}
            assert formats == EXPORT_CSV_FORMATS and choices - formats == {"gpkg", "geojson"}, formats
        elif "csv" in choices:
            assert name in driven, f"cli.py {name} prints CSV: add it to CLI_CASES"
        else:
            assert name in NOT_CSV, f"cli.py {name}: add it to CLI_CASES (if it can print CSV) or NOT_CSV"
    tables = set(_option(_subcommands()["hubs"], "--table").choices)
    assert {a[a.index("--table") + 1] for a in driven["hubs"]} == tables, "every hubs --table needs a case"


def _calls(path):
    """(function, call name, node) for every call in a source file, with the enclosing function's name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []

    def visit(node, scope):
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else scope
            if isinstance(child, ast.Call):
                func = child.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "csv":
                    name = f"csv.{func.attr}"
                out.append((scope, name, child))
            visit(child, inner)
    visit(tree, "<module>")
    return out


def _source_files():
    for entry in SOURCES:
        path = ROOT / entry
        yield from ([path] if path.is_file() else sorted(path.rglob("*.py")))


def test_no_csv_or_spreadsheet_is_written_outside_the_one_writer():
    found, imports = {}, []
    for path in _source_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel == WRITER:
            continue
        for scope, name, _ in _calls(path):
            if name in ("to_csv", "to_excel", "ExcelWriter", "csv.writer", "csv.DictWriter"):
                found.setdefault((rel, scope, name), 0)
                found[(rel, scope, name)] += 1
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports += [(rel, n.name) for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                    for n in getattr(node, "names", []) if n.name.split(".")[0] in ("openpyxl", "xlsxwriter", "xlwt")]
    unknown = {k: v for k, v in found.items() if k not in CSV_CALLS_ALLOWED or v != 1}
    assert unknown == {}, f"CSV written outside {WRITER}: use geo.csvsafe.to_csv_bytes/to_csv_text ({unknown})"
    assert set(found) == set(CSV_CALLS_ALLOWED), f"stale entries: {set(CSV_CALLS_ALLOWED) - set(found)}"
    assert imports == [], f"a spreadsheet writer is imported: {imports}; it must neutralise cells like {WRITER}"


def test_every_download_button_is_known_and_csv_ones_use_the_writer():
    seen = {}
    for path in [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py"))]:
        rel = path.relative_to(ROOT).as_posix()
        for scope, name, node in _calls(path):
            if name != "download_button":
                continue
            seen[(rel, scope)] = seen.get((rel, scope), 0) + 1
            data = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "data"), None)
            if isinstance(data, ast.Lambda):  # a file made when its button is clicked
                data = data.body
            if DOWNLOADS.get((rel, scope), "").startswith("CSV"):
                assert isinstance(data, ast.Call) and getattr(data.func, "id", "") == "to_csv_bytes", (rel, scope)
    assert seen == {k: DOWNLOAD_COUNTS.get(k, 1) for k in DOWNLOADS}, (
        f"a download button this test does not know: add it to DOWNLOADS and drive it ({seen})")
