"""IoD 2019 to 2025 decile change on 2021 LSOAs: the mapping by change kind on the real mirror, the merged-LSOA
population weighting on a small fixture, and the installed layer at LSOA, ward and district."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.store import Store
from layers import iod, iod_change
from layers.indicators import available, indicator_table, installed_catalogue
from layers.install import install
from layers.mapview import indicator_map
from layers.registry import builtin_registry

MIRROR_FILES = {"ranks": "indicators/imd2019_lsoa11_file2.csv",
                "pop": "indicators/imd2019_lsoa11_file6_population_denominators.csv"}
LUTON, NOTTINGHAM = "E06000032", "E06000018"
X_LSOAS = ["E01035637", "E01035624"]  # Northumberland 043F, Gateshead 029D: irregular changes
DECILES = [f"imd{suffix}_decile" for suffix, _, _ in iod_change.STEMS]


@pytest.fixture(scope="module")
def national(mirror, store):
    """The change table for all England, from the real mirror and the installed store's lookups (read only)."""
    codes11 = pd.Index(store.table("indicators", "index_lsoa11")["code"].to_numpy(dtype=object), dtype=object)
    ranks = iod.read_iod2019_ranks(mirror / MIRROR_FILES["ranks"], codes11, source="File 2")
    pop = iod.read_iod2019_population(mirror / MIRROR_FILES["pop"], codes11, source="File 6")
    iod2025 = store.table("indicators", "iod2025_lsoa")
    change = store.table("boundaries", "lsoa11_lsoa21")
    table = iod_change.build(ranks, pop, change, iod2025, store.table("indicators", "index_lsoa"),
                             iod2025.set_index("code")["imd2025_score__den"])
    file2 = pd.read_csv(mirror / MIRROR_FILES["ranks"], dtype=str, encoding="utf-8-sig", thousands=",")
    return table.set_index("code"), change, file2.set_index("LSOA code (2011)"), pop, iod2025.set_index("code")


def _published_decile(file2: pd.DataFrame, code11: str, name: str) -> int:
    return int(file2.at[code11, iod.decile_header(name)])


def test_unchanged_and_split_lsoas_take_their_2011_lsoas_deciles(national):
    table, change, file2, _, _ = national
    luton = change[change["lad_code"] == LUTON]
    for kind in ("U", "S"):
        links = luton[luton["change"] == kind]
        assert len(links) > 0
        for code11, code21 in links[["lsoa11_code", "lsoa21_code"]].itertuples(index=False):
            assert table.at[code21, "iod_change__kind"] == kind and table.at[code21, "iod_change__from"] == code11
            for (stem19, name), column in zip(iod.DOMAINS19, DECILES):
                assert table.at[code21, f"{column}_2019"] == _published_decile(file2, code11, name), (code21, column)


def test_merged_lsoas_take_the_decile_of_the_population_weighted_mean_rank(national):
    table, change, file2, pop, _ = national
    merged = change[(change["lad_code"] == NOTTINGHAM) & (change["change"] == "M")]
    assert merged["lsoa21_code"].nunique() == 5
    for code21, links in merged.groupby("lsoa21_code"):
        parts = links["lsoa11_code"].tolist()
        assert table.at[code21, "iod_change__from"] == ";".join(sorted(parts))
        for name, column in zip([n for _, n in iod.DOMAINS19], DECILES):
            ranks = np.array([float(file2.at[p, iod.rank_header(name)]) for p in parts])
            weights = pop.reindex(parts).to_numpy()
            expected = np.ceil(10 * (ranks * weights).sum() / weights.sum() / iod.LSOA11_ENGLAND)
            assert table.at[code21, f"{column}_2019"] == expected, (code21, column)


def test_irregular_lsoas_are_unknown_never_zero(national):
    table, _, _, _, _ = national
    irregular = table.index[table["iod_change__kind"] == "X"]
    assert sorted(irregular) == sorted(["E01035637", "E01035581", "E01035608", "E01035609", "E01035582", "E01035624"])
    assert set(X_LSOAS) <= set(irregular)
    for column in DECILES:
        assert table.loc[irregular, f"{column}_2019"].isna().all()
        assert table.loc[irregular, f"{column}_change"].isna().all()
        assert table.loc[irregular, f"{column}_2025"].notna().all()  # IoD 2025 is published on 2021 LSOAs
    assert table.loc[irregular, "imd_moved_more_deprived_pct__den"].isna().all()


def test_changes_are_whole_deciles_from_minus_9_to_9_and_2025_minus_2019(national):
    table, _, _, _, iod2025 = national
    for (_, _, stem25), column in zip(iod_change.STEMS, DECILES):
        change = table[f"{column}_change"]
        known = change.dropna()
        assert len(known) == len(table) - 6
        assert (known == np.round(known)).all() and known.between(-9, 9).all()
        assert (table[f"{column}_2025"] == iod2025.loc[table.index, f"{stem25}_decile"]).all()
        assert np.allclose(known, (table[f"{column}_2025"] - table[f"{column}_2019"]).dropna())
    imd = table["imd_decile_change"]
    # negative = moved into a more deprived decile (towards decile 1)
    assert ((table["imd_moved_more_deprived_pct__num"] == 1) == (imd < 0)).all()
    assert ((table["imd_moved_less_deprived_pct__num"] == 1) == (imd > 0)).all()


def test_population_weighting_of_merged_lsoas_on_a_fixture():
    n = iod.LSOA11_ENGLAND
    ranks = pd.DataFrame({"code": ["A", "B", "C", "D", "E", "F"]})
    for stem, _ in iod.DOMAINS19:
        ranks[f"{stem}_rank"] = [100.0, 10000.0, 20000.0, 5.0, 30000.0, 40.0]
    pop = pd.Series([1000.0, 3000.0, np.nan, 1500.0, 1200.0, 800.0], index=["A", "B", "C", "D", "E", "F"])
    change = pd.DataFrame({"lsoa11_code": ["A", "B", "C", "D", "E", "E", "F", "F"],
                           "lsoa21_code": ["M1", "M1", "U1", "M2", "M2", "S1", "S2", "X1"],
                           "change": ["M", "M", "U", "M", "M", "S", "S", "X"]})
    # D (1,500 people) and part of E: a merged LSOA whose parts' population is known
    out = iod_change.deciles_2019_on_lsoa21(ranks, pop, change, pd.Index(["M1", "U1", "M2", "S1", "S2", "X1"]))
    col = out["imd2019_decile"]
    # M1: (100 x 1,000 + 10,000 x 3,000) / 4,000 = 7,525: decile 3 (not 2 from the plain mean, nor 4 from the
    # most populous part)
    assert col["M1"] == np.ceil(10 * 7525 / n) == 3
    assert col["M2"] == np.ceil(10 * (5 * 1500 + 30000 * 1200) / 2700 / n)
    assert col["U1"] == np.ceil(10 * 20000 / n)  # one part: its own decile, population not needed
    assert col["S1"] == np.ceil(10 * 30000 / n) and col["S2"] == 1
    assert np.isnan(col["X1"])
    pop_gap = pop.drop("A")
    assert np.isnan(iod_change.deciles_2019_on_lsoa21(ranks, pop_gap, change, pd.Index(["M1"]))["imd2019_decile"]["M1"])


def test_registry_labels_and_caveats_carry_the_warning():
    reg = builtin_registry()
    ids = [i for i, m in reg.items() if m.table == iod_change.TABLE]
    assert ids == [iod_change.change_id(s) for s, _, _ in iod_change.STEMS] + list(iod_change.SHARES)
    for ind_id in ids:
        ind = reg[ind_id]
        assert "scores cannot be compared" in ind.caveat and "relative" in ind.caveat, ind_id
        assert "MHCLG" in ind.caveat and "Open Government Licence" in ind.attribution
        assert "_" not in ind.label
    change = reg["imd_decile_change"]
    assert change.kind == "score" and change.levels == ["lsoa", "ward", "lad"] and change.direction == -1
    assert "below 0 = moved into a more deprived decile" in change.label
    assert "below 0 means the area moved into a more deprived decile" in change.caveat


@pytest.fixture(scope="module")
def installed(mini_mirror, tmp_path_factory):
    root = tmp_path_factory.mktemp("iod_change_store") / "data"
    manifest = install(mini_mirror, root=root)
    return Store(root), manifest


def test_installed_layer_at_lsoa_ward_and_district(installed, national):
    store, manifest = installed
    assert "indicators/iod_change_lsoa" in manifest["counts"]
    note = next(n for n in manifest["notes"] if n.startswith("IMD decile change 2019 to 2025"))
    assert "368 of 368 LSOAs 2021" in note and "M 5, S 13, U 350" in note  # Luton, Worcester, Nottingham
    catalogue = installed_catalogue(store).set_index("id")
    assert "population-weighted mean rank" in catalogue.at["imd_decile_change", "method"]
    for level in ("lsoa", "ward", "lad"):
        assert "imd_decile_change" in available(level, store)
    assert "imd_moved_more_deprived_pct" in available("ward", store)
    assert "imd_moved_more_deprived_pct" not in available("lsoa", store)
    lsoa = indicator_table("lsoa", ids=["imd_decile_change"], store=store).set_index("code")
    table = national[0]
    assert (lsoa["imd_decile_change"] == table.loc[lsoa.index, "imd_decile_change"]).all()  # same as all England
    ids = ["imd_decile_change", "imd_moved_more_deprived_pct", "imd_moved_less_deprived_pct"]
    ward = indicator_table("ward", ids=ids, store=store).set_index("code")
    rows = store.table("indicators", "iod_change_lsoa").merge(
        store.table("indicators", "index_lsoa")[["code", "ward_code"]], on="code")
    some = rows.groupby("ward_code").size().idxmax()
    mine = rows[rows["ward_code"] == some]
    expected = (mine["imd_decile_change"] * mine["imd_decile_change__den"]).sum() / mine["imd_decile_change__den"].sum()
    assert ward.at[some, "imd_decile_change"] == pytest.approx(expected)
    assert ward.at[some, "imd_moved_more_deprived_pct"] == pytest.approx(100 * (mine["imd_decile_change"] < 0).mean())
    assert ward.at[some, "imd_moved_more_deprived_pct__den"] == len(mine)
    lad = indicator_table("lad", ids=ids, store=store).set_index("code")
    assert lad.loc[[LUTON, NOTTINGHAM], ids].notna().all().all()


def test_the_change_maps_like_any_registry_indicator(installed):
    store, _ = installed
    reg = builtin_registry()
    ind = reg["imd_decile_change"]
    values = indicator_table("ward", [LUTON], ["imd_decile_change"], store=store)
    areas = store.table("boundaries", "ward", [LUTON])
    md = indicator_map(areas, values, ind, area_name="Luton")
    have = md.gdf["value"].notna()
    assert md.n_with_data == int(have.sum()) == int(values["imd_decile_change"].notna().sum()) > 10
    assert md.caveat == ind.caveat and md.title.startswith(ind.label) and "(deciles)" in md.title
    assert all(text.endswith(" deciles") for text in md.gdf.loc[have, "shown"])


def test_the_explorer_page_lists_and_maps_the_change(installed, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    store, _ = installed
    monkeypatch.setenv("WARDSCOPE_DATA", str(store.root))
    monkeypatch.setenv("WARDSCOPE_USER", str(tmp_path / "user"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page("app_pages/explorer.py").run()
    at.sidebar.radio(key="explorer_show").set_value("Indicator").run()
    choice = at.sidebar.selectbox(key="explorer_indicator")
    reg = builtin_registry()
    wanted = ["imd_decile_change", "imd_moved_more_deprived_pct", "imd_health_decile_change"]
    assert {f"{reg[i].topic} · {reg[i].label}" for i in wanted} <= set(choice.options)  # shown by label
    choice.set_value("imd_decile_change").run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error and not at.info, ([e.value for e in at.error], [i.value for i in at.info])
    assert "2019 to 2025" in at.caption[0].value
