"""Explore Local Statistics files: installed from the mirror with every year, intervals and status flags;
bad files refused in one line with the store unchanged; nothing ever below district level."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
import pytest

from geo.errors import GSSCodeError, SourceFileError
from geo.sources import MirrorSource
from geo.store import Store
from layers import labour_market as lm
from layers.indicators import available, indicator_table, installed_catalogue
from layers.install import install
from layers.registry import IndicatorLevelError, builtin_registry
from tests.test_indicators_install import kept_after_bad_file

LUTON, WORCESTER = "E06000032", "E07000237"


def raw(mirror, dataset_id: str) -> pd.DataFrame:
    """The mirror's file as published (text), read independently of the parser."""
    path = MirrorSource(mirror).path(dataset_id)
    return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)


@pytest.fixture(scope="module")
def installed(mini_mirror, tmp_path_factory):
    root = tmp_path_factory.mktemp("labour_store")
    manifest = install(mini_mirror, root=root)
    return root, manifest


def test_every_year_is_installed_with_its_interval_and_period(installed, mini_mirror):
    root, manifest = installed
    store = Store(root)
    series = store.table("indicators", lm.SERIES)
    rows = raw(mini_mirror, "els_employment_rate")
    luton = rows[(rows["areacd"] == LUTON) & (rows["indicator"] == "Employment rate")]
    mine = series[(series["code"] == LUTON) & (series["indicator"] == "aps_employment_rate")].set_index("period")
    assert sorted(mine.index) == sorted(int(p[:4]) for p in luton["period"])  # 2004-2023, every year
    for r in luton.itertuples(index=False):
        got = mine.loc[int(r.period[:4])]
        # limits as published, without the files' float noise (74.10000000000001 is 74.1)
        assert got["value"] == float(r.observation)
        assert got["lci"] == round(float(r.lci_95), 10) and got["uci"] == round(float(r.uci_95), 10)
    lad = indicator_table("lad", ids=["aps_employment_rate", "hle_male", "claimant_rate_annual"], store=store)
    lad = lad.set_index("code")
    latest = luton[luton["period"].str.startswith("2023")].iloc[0]
    assert lad.at[LUTON, "aps_employment_rate"] == float(latest["observation"])
    assert lad.at[LUTON, "aps_employment_rate__ci"] == pytest.approx(float(latest["uci_95"]) - float(latest["observation"]))
    assert lad.at[LUTON, "aps_employment_rate__period"] == 2023
    assert {"hle_male__lci", "hle_male__uci"} <= set(lad.columns) and "hle_male__ci" not in lad.columns
    assert lad.at[LUTON, "claimant_rate_annual__period"] == 2025
    assert "claimant_rate_annual__ci" not in lad.columns  # a count: no interval
    assert "labour market (ONS Explore Local Statistics)" in " ".join(manifest["notes"])
    for ds in lm.DATASETS:
        assert "Open Government Licence" in manifest["datasets"][ds]["attribution"], ds
    catalogue = installed_catalogue(store).set_index("id")
    assert catalogue.at["aps_employment_rate", "datasets"] == "els_employment_rate"
    assert "Explore Local Statistics" in catalogue.at["aps_employment_rate", "method"]
    assert catalogue.at["hle_male", "period"].startswith("2011-2013 to 2022-2024")


def test_status_x_is_unknown_and_u_is_kept(mirror, store):
    series = store.table("indicators", lm.SERIES)
    rows = raw(mirror, "els_employment_rate")
    flagged = rows[(rows["status"] == "x") & rows["areacd"].isin(set(store.districts()["code"]))]
    assert len(flagged) > 0
    ids = flagged["indicator"].map(lm.DATASETS["els_employment_rate"])
    keys = set(zip(flagged["areacd"], ids, flagged["period"].str[:4].astype(int)))
    mine = np.array([k in keys for k in zip(series["code"], series["indicator"], series["period"])])
    hit = series[mine & (series["dataset"] == "els_employment_rate").to_numpy()]
    assert len(hit) == len(flagged) and hit["value"].isna().all() and (hit["status"] == "x").all()  # never 0
    unreliable = rows[rows["status"] == "u"]
    assert len(unreliable) > 0
    kept = series[(series["status"] == "u") & (series["dataset"] == "els_employment_rate")]
    assert set(zip(kept["code"], kept["indicator"], kept["period"])) == set(zip(
        unreliable["areacd"], unreliable["indicator"].map(lm.DATASETS["els_employment_rate"]),
        unreliable["period"].str[:4].astype(int)))


def test_england_regions_counties_and_combined_authorities_are_kept(store):
    series = store.table("indicators", lm.SERIES)
    levels = series.groupby("level")["code"].unique()
    assert set(levels.index) == {"england", "region", "county", "combined_authority", "district"}
    assert {"E10000034", "E47000013"} <= set(series["code"])  # Worcestershire, East Midlands CCA
    assert not series["code"].str[:1].isin(["W", "S", "N", "K"]).any()  # other countries left out
    assert set(series.loc[series["level"] == "district", "code"]) <= set(store.districts()["code"])
    # Barnsley's healthy life expectancy is published only under its 2025 code: read as the store's code
    barnsley = series[(series["code"] == "E08000016") & (series["indicator"] == "hle_male")]
    assert len(barnsley) == 12 and barnsley["note"].str.contains("E08000038").all()


def test_intervals_are_symmetric_except_those_kept_as_bounds(mirror):
    """The check behind ASYMMETRIC: other intervals are value +/- a half-width (or cut at 100%)."""
    for ds, names in lm.DATASETS.items():
        rows = raw(mirror, ds)
        value, lci, uci = (pd.to_numeric(rows[c], errors="coerce") for c in ("observation", "lci_95", "uci_95"))
        gap = ((value - lci) - (uci - value)).abs()
        for name, ind in names.items():
            mine = (rows["indicator"] == name) & gap.notna()
            if ind in lm.ASYMMETRIC:
                assert (gap[mine] > 0.05).any(), ind
            else:
                assert ((gap[mine] <= 0.051) | (uci[mine] == 100)).all(), ind


def _edit(path, fn):
    lines = path.read_text(encoding="utf-8-sig").split("\n")
    path.write_text("\n".join(fn(lines)), encoding="utf-8")


def _cell(lines, row, column, value):
    header = lines[0].split(",")
    cells = lines[row - 1].split(",")
    cells[header.index(column)] = value
    lines[row - 1] = ",".join(cells)
    return lines


def _row_of(lines, code):
    return next(i + 1 for i, line in enumerate(lines) if line.startswith(code))


EMPLOYMENT = "labour_market/els_employment-rate.csv"
BAD = [
    ("changed column", EMPLOYMENT, lambda ls: [ls[0].replace("lci_95", "lower_95")] + ls[1:], SourceFileError,
     r"els_employment-rate.csv: missing column lci_95"),
    ("extra column", EMPLOYMENT, lambda ls: [ls[0] + ",extra"] + [line + "," if line else line for line in ls[1:]],
     SourceFileError, r"els_employment-rate.csv: unexpected column 'extra'"),
    ("unknown district code", EMPLOYMENT, lambda ls: _cell(ls, _row_of(ls, LUTON), "areacd", "E06099999"), GSSCodeError,
     r"els_employment-rate.csv: row \d+: unknown geography code E06099999 \(Luton\): not a district in the store"),
    ("unknown kind of area", EMPLOYMENT, lambda ls: _cell(ls, _row_of(ls, LUTON), "areacd", "E99000001"), GSSCodeError,
     r"els_employment-rate.csv: row \d+: unknown geography code 'E99000001'"),
    ("status flag", "labour_market/els_claimant-count.csv", lambda ls: _cell(ls, _row_of(ls, WORCESTER), "status", "z"),
     SourceFileError, r"els_claimant-count.csv: row \d+: status flag 'z' is not x \(not available\) or u \(unreliable\)"),
    ("text in a value", EMPLOYMENT, lambda ls: _cell(ls, _row_of(ls, LUTON), "observation", "n/a"), SourceFileError,
     r"els_employment-rate.csv: row \d+ column 'observation': 'n/a' is not a number"),
    ("interval without its value", EMPLOYMENT, lambda ls: _cell(ls, _row_of(ls, LUTON), "lci_95", "99.5"),
     SourceFileError, r"els_employment-rate.csv: row \d+: the 95% interval 99.5 to .* does not contain the value"),
    ("period", EMPLOYMENT, lambda ls: _cell(ls, _row_of(ls, LUTON), "period", "2023"), SourceFileError,
     r"els_employment-rate.csv: row \d+: period '2023' is not a date or a yearly ISO interval"),
    ("renamed indicator", EMPLOYMENT, lambda ls: [line.replace(",Economically inactive,", ",Inactivity rate,")
                                                  for line in ls], SourceFileError,
     r"els_employment-rate.csv: row \d+: unexpected indicator 'Inactivity rate'"),
    ("changed unit", "labour_market/els_gross-median-weekly-pay.csv", lambda ls: [
        line.replace(",Pounds,£,", ",Euros,€,") for line in ls], SourceFileError,
     r"els_gross-median-weekly-pay.csv: row \d+: Gross median weekly pay has measure 'Euros', expected 'Pounds'"),
]


LABOUR_TABLES = (lm.SERIES, f"{lm.TABLE}_lad", lm.ENGLAND_TABLE)


@pytest.mark.parametrize("label, rel, corrupt, error, message", BAD, ids=[b[0] for b in BAD])
def test_bad_files_are_refused_in_one_line_and_nothing_is_installed(installed, mini_mirror, tmp_path, label, rel,
                                                                   corrupt, error, message):
    """The labour market is an optional part: a bad file keeps the previous figures whole (never half) and says why."""
    kept_after_bad_file(installed[0], mini_mirror, tmp_path, rel, lambda path: _edit(path, corrupt), message, "labour",
                        "labour market (ONS Explore Local Statistics)", LABOUR_TABLES)

def test_a_bad_file_without_a_previous_store_leaves_the_labour_market_not_installed(mini_mirror, tmp_path):
    label, rel, corrupt, error, message = BAD[0]
    bad = tmp_path / "mirror"
    shutil.copytree(mini_mirror, bad)
    _edit(bad / rel, corrupt)
    manifest = install(bad, root=tmp_path / "store")
    store = Store(tmp_path / "store")
    assert not any(store.has("indicators", t) for t in LABOUR_TABLES)
    note = next(n for n in manifest["notes"] if n.startswith("labour market (ONS Explore Local Statistics) not installed"))
    assert re.search(message, note) and note.endswith("To retry just it: python cli.py install --only labour")
    assert "aps_employment_rate" not in available("lad", store)


def test_a_mirror_without_the_files_installs_without_them(mini_mirror, tmp_path):
    bare = tmp_path / "mirror"
    shutil.copytree(mini_mirror, bare)
    shutil.rmtree(bare / "labour_market")
    manifest = install(bare, root=tmp_path / "store")
    assert any("labour-market files (ONS Explore Local Statistics) not in the source" in n for n in manifest["notes"])
    assert "aps_employment_rate" not in available("lad", Store(tmp_path / "store"))


# --- never below district --------------------------------------------------------------------------------

DISTRICT_ONLY = sorted(set(lm.IDS) | {i for i, m in builtin_registry().items() if m.table in ("aps", lm.TABLE)})


def test_district_figures_exist_only_for_districts_in_the_registry():
    registry = builtin_registry()
    for ind_id in DISTRICT_ONLY:
        assert registry[ind_id].levels == ["lad"], ind_id
        assert registry[ind_id].caveat, ind_id


@pytest.mark.parametrize("level", ["ward", "lsoa", "lsoa11"])
def test_no_ward_or_lsoa_layer_is_built_from_district_figures(store, level):
    assert not set(available(level, store)) & set(DISTRICT_ONLY)
    for ind_id in DISTRICT_ONLY:
        with pytest.raises(IndicatorLevelError, match=f"{ind_id} .* not available at {level} level"):
            indicator_table(level, ["E06000032"], [ind_id], store=store)


def test_no_stored_table_below_district_carries_a_district_figure(store):
    folder = store.path("indicators", lm.SERIES).parent
    for path in folder.glob("*.parquet"):
        import pyarrow.parquet as pq

        columns = pq.read_schema(path).names
        carried = [c for c in columns if any(c == i or c.startswith(f"{i}__") for i in DISTRICT_ONLY)]
        if carried:
            assert path.stem.endswith(("_lad", "_england")), (path.stem, carried[:3])
            assert set(pd.read_parquet(path, columns=["code"])["code"].str[:3]) <= {"E06", "E07", "E08", "E09", "E92"}
    levels = set(store.table("indicators", lm.SERIES)["level"])
    assert levels <= {"england", "region", "county", "combined_authority", "district"}
    assert not np.isin(store.table("indicators", lm.SERIES)["code"].str[:3], ["E01", "E02", "E05"]).any()
