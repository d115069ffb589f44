"""The recipes in CONTRIBUTING.md hold: whatever is added by a recipe is complete, or a test here says what is missing.

Each test is driven by the registry the recipe adds to (indicators, datasets,
travel engines, export formats, pages), so a new entry is checked without
the test being edited.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

import cli
from geo.export import FORMAT_LABELS, FORMATS, export_areas, export_bytes
from geo.sources import catalogue
from geo.travel.base import ENGINES, MODES
from layers.registry import builtin_registry
from tests.conftest import ROOT

import layers  # noqa: F401  (adds layers/sources.yaml to the catalogue)

REGISTRY = builtin_registry()
DATASETS = catalogue()
#: Where install steps and indicator builders name the datasets they read.
INSTALL_CODE = "\n".join(p.read_text(encoding="utf-8") for p in
                         [ROOT / "geo" / "install.py", *sorted((ROOT / "layers").glob("*.py"))])


# -- add an indicator: an entry in layers/registry.yaml, a column in its table ----------------------

@pytest.mark.parametrize("ind_id", list(REGISTRY))
def test_every_indicator_says_what_it_is_and_where_it_comes_from(ind_id):
    ind = REGISTRY[ind_id]
    for field in ("label", "topic", "publisher", "dataset", "period", "caveat", "licence", "attribution", "unit",
                  "table"):
        assert str(getattr(ind, field)).strip(), f"{ind_id} has no {field} (layers/registry.yaml)"
    assert ind.levels, f"{ind_id}: at which levels?"
    if ind.kind == "rate":
        assert ind.numerator and ind.denominator, f"{ind_id} is a rate: name its numerator and denominator"
    assert re.search(rf"\b{ind.table}\b", INSTALL_CODE), f"{ind_id}: no install code writes table {ind.table!r}"


def test_every_installed_indicator_is_in_the_registry_and_installed_tables_name_their_datasets(store):
    from layers.indicators import installed_catalogue

    installed = installed_catalogue(store)
    assert set(installed["id"]) <= set(REGISTRY)
    recorded = set(store.manifest.get("datasets", {}))
    for row in installed.itertuples(index=False):
        assert {d.strip() for d in row.datasets.split(",")} <= recorded, row.id


# -- add a data source: an entry in geo/sources.yaml or layers/sources.yaml, a step that reads it ------

@pytest.mark.parametrize("dataset_id", list(DATASETS))
def test_every_dataset_has_its_licence_a_mirror_path_and_a_reader(dataset_id):
    from geo.online import FETCHERS

    importlib.import_module("layers.install")  # registers every fetcher an install uses (Nomis API, OA lookup)
    ds = DATASETS[dataset_id]
    for field in ("title", "publisher", "vintage", "licence", "attribution", "mirror", "landing"):
        assert str(getattr(ds, field)).strip(), f"{dataset_id} has no {field}"
    kind = ds.online.get("kind")
    assert kind is None or kind in FETCHERS or ds.optional, f"{dataset_id}: no fetcher for online kind {kind!r}"
    assert f'"{dataset_id}"' in INSTALL_CODE or f"'{dataset_id}'" in INSTALL_CODE or \
        re.search(rf"DATASET\w* = .*{dataset_id}", INSTALL_CODE), f"no install step reads {dataset_id}"


def test_every_dataset_is_in_the_mirror_unless_optional(mirror):
    missing = [k for k, d in DATASETS.items() if not d.optional and not (mirror / d.mirror).is_file()
               and d.online.get("kind") != "nomis_api"]
    assert missing == []


# -- add a travel engine: a module in geo/travel/, its name in ENGINES ---------------------------------

@pytest.mark.parametrize("name", list(ENGINES))
def test_every_engine_documents_its_units_and_parameters_and_answers_in_minutes(name):
    module = importlib.import_module(ENGINES[name])
    doc = module.__doc__ or ""
    assert "EPSG:27700" in doc and "minutes" in doc, f"{ENGINES[name]}: the docstring must state the CRS and units"
    assert module.NAME == name and module.LABEL
    assert set(module.MODES) <= set(MODES)
    for p in module.PARAMETERS:
        assert p.unit and p.source and p.applies_to, f"{name}: parameter {p.name} needs a unit, a source and a use"
    assert callable(module.matrix)
    if any(p.name == "network" for p in module.PARAMETERS):
        return  # needs a file (tested with its own fixtures in tests/test_travel_network.py)
    origins = np.array([[510000.0, 220000.0], [511000.0, 221000.0]])
    for mode in module.MODES:
        minutes, info = module.matrix(origins, origins[::-1], mode)
        assert minutes.shape == (2, 2) and np.all(minutes[~np.isnan(minutes)] >= 0)
        assert minutes[0, 1] < minutes[0, 0]  # nearer is quicker


def test_the_cli_offers_every_engine_and_mode():
    parser = cli.build_parser()
    for name in ENGINES:
        assert parser.parse_args(["access", "--sites", "sample", "--mode", ",".join(MODES), "--area", "Luton",
                                  "--engine", name]).engine == name


# -- add an export format: a writer in geo/export/writers.py, its entry in geo/export/core.py ------------

@pytest.fixture(scope="module")
def areas(store):
    gdf = store.boundaries("ward", ["E06000032"]).head(6)[["code", "name", "lad_code", "lad_name", "geometry"]]
    out = gpd.GeoDataFrame(gdf.reset_index(drop=True), geometry="geometry", crs=27700)
    out["score"] = np.linspace(10.0, 60.0, len(out))
    out["population"] = 1000
    return out


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_export_format_writes_files_and_bytes(areas, tmp_path, fmt):
    assert FORMAT_LABELS.get(fmt), f"{fmt} needs a label for the app's download button (FORMAT_LABELS)"
    result = export_areas(areas, ["score", "population"], "top:3", fmt, tmp_path / "out")
    assert result.feature_count == 3 and all(Path(p).is_file() and Path(p).stat().st_size for p in result.files)
    assert result.methodology["format"] == fmt
    data = export_bytes(areas, ["score", "population"], "top:3", fmt, stem="recipe").data
    assert len(data) > 100
    assert cli.build_parser().parse_args(["export", "--profile", "neighbourhood", "--area", "Luton", "--select",
                                          "all", "--format", fmt, "--out", "x"]).format == fmt


# -- add a page: a file in app_pages/, its line in app.py -----------------------------------------------

def test_every_page_file_is_in_the_navigation():
    listed = set(re.findall(r'st\.Page\("(app_pages/\w+\.py)"', (ROOT / "app.py").read_text(encoding="utf-8")))
    # a page is a script (it opens the store at its top level); the other modules are its helpers
    pages = {f"app_pages/{p.name}" for p in (ROOT / "app_pages").glob("*.py")
             if re.search(r"^store = cache\.get_store\(\)", p.read_text(encoding="utf-8"), re.M)}
    assert pages == listed, "a page must be listed in app.py, and every listed page exist"
