"""Real figures from the installed store checked against the published files in the mirror."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from layers.comparators import comparators
from layers.indicators import NO_LSOA_NOTE, available, indicator_table
from layers.registry import IndicatorLevelError, IndicatorNotInstalled

DOMAINS19 = {"imd2019_income_decile": "Income Decile (where 1 is most deprived 10% of LSOAs)",
             "imd2019_employment_decile": "Employment Decile (where 1 is most deprived 10% of LSOAs)",
             "imd2019_education_decile": "Education, Skills and Training Decile (where 1 is most deprived 10% of LSOAs)",
             "imd2019_health_decile": "Health Deprivation and Disability Decile (where 1 is most deprived 10% of LSOAs)",
             "imd2019_crime_decile": "Crime Decile (where 1 is most deprived 10% of LSOAs)",
             "imd2019_barriers_decile": "Barriers to Housing and Services Decile (where 1 is most deprived 10% of LSOAs)",
             "imd2019_living_environment_decile": "Living Environment Decile (where 1 is most deprived 10% of LSOAs)"}


@pytest.fixture(scope="module")
def file2(mirror):
    return pd.read_csv(mirror / "indicators/imd2019_lsoa11_file2.csv", encoding="utf-8-sig").set_index("LSOA code (2011)")


@pytest.fixture(scope="module")
def file6(mirror):
    f6 = pd.read_csv(mirror / "indicators/imd2019_lsoa11_file6_population_denominators.csv", encoding="utf-8-sig",
                     thousands=",")
    return f6.set_index("LSOA code (2011)")["Total population: mid 2015 (excluding prisoners)"]


def test_imd2025_lsoa_values_are_as_published(store, mirror):
    published = pd.read_csv(mirror / "indicators/imd2025_lsoa21.csv").set_index("LSOA21CD")
    table = indicator_table("lsoa", ids=["imd2025_decile", "imd2025_rank", "imd2025_score", "imd2025_income_decile",
                                         "imd2025_living_environment_score"], store=store).set_index("code")
    assert len(table) == len(published) == 33755
    pub = published.reindex(table.index)
    assert (table["imd2025_decile"] == pub["IMD_decile"]).all()
    assert (table["imd2025_rank"] == pub["IMD_rank"]).all()
    assert np.allclose(table["imd2025_score"], pub["IMD_score"])
    assert (table["imd2025_income_decile"] == pub["Income_decile"]).all()
    assert np.allclose(table["imd2025_living_environment_score"], pub["Environment_score"])
    # one LSOA, as a reader of the published file would look it up
    assert table.at["E01000001", "imd2025_decile"] == published.at["E01000001", "IMD_decile"]


def test_imd2019_deciles_on_2011_lsoas_match_the_official_files_exactly(store, mirror, file2):
    file1 = pd.read_csv(mirror / "indicators/imd2019_lsoa11_file1.csv", encoding="utf-8-sig", thousands=",",
                        dtype={"LSOA code (2011)": str}).set_index("LSOA code (2011)")
    ids = ["imd2019_rank", "imd2019_decile", *DOMAINS19]
    table = indicator_table("lsoa11", ids=ids, store=store).set_index("code")
    assert len(table) == len(file1) == 32844 and table[ids].notna().all().all()
    f1 = file1.reindex(table.index)
    assert (table["imd2019_rank"] == f1["Index of Multiple Deprivation (IMD) Rank"]).all()
    assert (table["imd2019_decile"] == f1["Index of Multiple Deprivation (IMD) Decile"]).all()
    f2 = file2.reindex(table.index)
    for ind, column in DOMAINS19.items():
        assert (table[ind] == f2[column]).all(), ind


def _lookup(mirror):
    change = pd.read_csv(mirror / "lookups/lsoa11_lsoa21_lad22_ew.csv", dtype=str)
    return change[change["LSOA11CD"].str.startswith("E")]


@pytest.mark.parametrize("chgind", ["U", "S", "M", "X"])
def test_imd2019_conversion_to_lsoa2021_by_change_type(store, mirror, file2, file6, chgind):
    change = _lookup(mirror)
    converted = store.table("indicators", "iod2019_lsoa").set_index("code")
    decile_col = "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"
    examples = change[change["CHGIND"] == chgind]["LSOA21CD"].drop_duplicates()
    assert len(examples)
    for lsoa21 in examples.iloc[:25]:
        parents = change.loc[change["LSOA21CD"] == lsoa21, "LSOA11CD"].unique()
        if chgind in ("U", "S"):
            assert len(parents) == 1
            expected_from = parents[0]
        else:
            pops = file6.reindex(parents)
            ranks = file2.reindex(parents)["Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)"]
            order = pd.DataFrame({"pop": pops.to_numpy(), "rank": ranks.to_numpy()}, index=parents)
            expected_from = order.sort_values(["pop", "rank"], ascending=[False, True]).index[0]
        row = converted.loc[lsoa21]
        assert row["imd2019__from"] == expected_from, lsoa21
        assert row["imd2019_decile"] == file2.at[expected_from, decile_col], lsoa21
        assert row["imd2019__change"] == chgind
    if chgind == "S":  # every part of a split 2011 LSOA carries its value
        parent = change[change["CHGIND"] == "S"]["LSOA11CD"].iloc[0]
        parts = change.loc[change["LSOA11CD"] == parent, "LSOA21CD"]
        assert len(parts) > 1 and (converted.loc[parts, "imd2019_decile"] == file2.at[parent, decile_col]).all()
    assert converted["imd2019_decile"].notna().all()


def test_ward_census_rate_recomputed_by_hand_from_output_areas(store, mirror):
    lsoa = store.table("indicators", "index_lsoa")
    counts = lsoa.groupby("ward_code").size()
    ward = counts[counts >= 4].index[100]
    members = set(lsoa.loc[lsoa["ward_code"] == ward, "code"])
    oa = pd.read_csv(mirror / "indicators/oa21_lsoa21_lookup.csv", dtype={"OA21CD": str, "LSOA21CD": str})
    oa = oa[oa["LSOA21CD"].isin(members)]
    pct = pd.read_csv(mirror / "indicators/census2021_oa_percentages/census2021_oa_economic_activity_status_4a.csv")
    oa = oa.merge(pct, on="OA21CD")
    age = pd.read_csv(mirror / "indicators/census2021_population_age_lsoa21.csv")
    age = age[age["LSOA21CD"].isin(members) & (age["age_group"] != "Aged 15 years and under")]
    pop16 = age.groupby("LSOA21CD")["usual_residents"].sum()
    num = den = 0.0
    for code, group in oa.groupby("LSOA21CD"):
        lsoa_pct = (group["Economically inactive"] * group["usual_residents"]).sum() / group["usual_residents"].sum()
        num += lsoa_pct / 100 * pop16[code]
        den += pop16[code]
    table = indicator_table("ward", ids=["census21_inactive_pct"], store=store).set_index("code")
    assert table.at[ward, "census21_inactive_pct"] == pytest.approx(100 * num / den, rel=1e-9)
    assert table.at[ward, "census21_inactive_pct__den"] == den


def test_disability_is_the_published_ts038_ratio(store, mirror):
    ts038 = pd.read_csv(mirror / "indicators/census2021_disability_lsoa21.csv")
    ts038 = ts038[ts038["disability"] == "Disabled under the Equality Act"].set_index("LSOA21CD")
    table = indicator_table("lsoa", ids=["census21_disabled_pct"], store=store).set_index("code")
    pub = ts038.reindex(table.index)
    assert (table["census21_disabled_pct__num"] == pub["n"]).all()
    assert np.allclose(table["census21_disabled_pct"], 100 * pub["n"] / pub["total_residents"])


def test_districts_sum_their_lsoas(store):
    ids = ["census21_inactive_pct", "imd2025_score", "imd2025_most_deprived_10pct", "census21_pop_16_64"]
    lsoa = indicator_table("lsoa", ["E06000032"], ["census21_inactive_pct", "imd2025_decile", "imd2025_score",
                                                   "census21_pop_16_64", "census21_disabled_pct"], store=store)
    lad = indicator_table("lad", ["E06000032"], ids, store=store).iloc[0]
    assert lad["census21_inactive_pct__num"] == pytest.approx(lsoa["census21_inactive_pct__num"].sum())
    assert lad["census21_inactive_pct"] == pytest.approx(
        100 * lsoa["census21_inactive_pct__num"].sum() / lsoa["census21_inactive_pct__den"].sum())
    assert lad["census21_pop_16_64"] == lsoa["census21_pop_16_64"].sum()
    weights = lsoa["census21_disabled_pct__den"]  # Census 2021 usual residents (the mirror lacks IoD populations)
    assert lad["imd2025_score"] == pytest.approx((lsoa["imd2025_score"] * weights).sum() / weights.sum())
    assert lad["imd2025_most_deprived_10pct"] == pytest.approx(100 * (lsoa["imd2025_decile"] == 1).mean())


def test_england_values_are_plausible(store):
    lad = indicator_table("lad", ids=["census21_inactive_pct", "imd2025_most_deprived_10pct"], store=store)
    england = 100 * lad["census21_inactive_pct__num"].sum() / lad["census21_inactive_pct__den"].sum()
    assert 35 < england < 45  # Census 2021: about 39% of residents aged 16+ were inactive
    assert lad["imd2025_most_deprived_10pct__num"].sum() == pytest.approx(0.1 * 33755, abs=1)


def test_wards_without_lsoas_are_nan_with_the_reason(store):
    table = indicator_table("ward", ids=["census21_inactive_pct", "imd2025_score"], store=store)
    wards = store.table("indicators", "index_ward").set_index("code")
    empty = wards.index[wards["n_lsoa"] == 0]
    assert len(empty) > 0
    rows = table.set_index("code").loc[empty]
    assert rows[["census21_inactive_pct", "imd2025_score"]].isna().all().all()
    assert all(table.attrs["notes"][c] == NO_LSOA_NOTE for c in empty)
    others = table.set_index("code").drop(empty)
    assert others[["census21_inactive_pct", "imd2025_score"]].notna().all().all()


def test_levels_and_installation_are_checked(store):
    with pytest.raises(IndicatorLevelError, match="imd2025_decile .* not available at ward level.*imd2025_score"):
        indicator_table("ward", ids=["imd2025_decile"], store=store)
    with pytest.raises(IndicatorLevelError, match="aps_employment_rate .* not available at ward level"):
        indicator_table("ward", ids=["aps_employment_rate"], store=store)
    with pytest.raises(IndicatorNotInstalled, match="python cli.py install --nomis"):
        indicator_table("ward", ids=["claimant_rate"], store=store)
    with pytest.raises(IndicatorNotInstalled, match="python cli.py install --nomis"):
        indicator_table("lad", ids=["aps_inactive_long_term_sick_pct"], store=store)
    nomis_only = ("claimant_count", "claimant_rate", "claimant_rate_change_12m", "aps_inactive_long_term_sick_pct")
    for level in ("lsoa", "ward", "lad"):
        ids = available(level, store)
        assert "census21_inactive_pct" in ids and not set(ids) & set(nomis_only)
    # the district survey and annual claimant figures come from the mirror (Explore Local Statistics)
    assert {"aps_employment_rate", "aps_inactivity_rate", "claimant_rate_annual"} <= set(available("lad", store))
    assert set(available("lsoa11", store)) == {"imd2019_rank", "imd2019_decile", *DOMAINS19}


def test_comparators_for_wards_of_one_district(store):
    ids = ["census21_inactive_pct", "imd2025_score", "imd2025_most_deprived_10pct", "imd2025_income_count"]
    comp = comparators("ward", "Luton", ids, store=store)
    lad = indicator_table("lad", ["E06000032"], ids, store=store).iloc[0]
    national = indicator_table("ward", None, ids, store=store)
    for ind in ids:
        part = comp[comp["indicator"] == ind]
        assert (part["lad_code"] == "E06000032").all() and len(part) == (national["lad_code"] == "E06000032").sum()
        assert np.allclose(part["district_value"], lad[ind]) and np.allclose(part["area_value"], lad[ind])
        vals = part.set_index("code")["value"]
        best = vals.idxmax()  # every indicator here: higher = more need
        assert part.set_index("code").at[best, "rank_in_district"] == 1
        england_rank = national[ind].rank(method="min", ascending=False)
        assert (part.set_index("code")["rank_in_england"] == england_rank.set_axis(national["code"]).reindex(vals.index)).all()
    inactive = comp[comp["indicator"] == "census21_inactive_pct"]
    england = inactive["england_value"].iloc[0]
    expect = np.where(inactive["value"] > 1.1 * england, "red", np.where(inactive["value"] < 0.9 * england, "green", "amber"))
    assert (inactive["rag"].to_numpy() == expect).all()
    share = comp[comp["indicator"] == "imd2025_most_deprived_10pct"]
    assert (share["small_denominator"] == (share["denominator"] < 5)).all() and share["small_denominator"].any()
    assert share.loc[share["small_denominator"], "note"].str.contains("small denominator").all()
    assert comp.loc[comp["indicator"] == "imd2025_income_count", "rag"].isna().all()


def test_area_value_sums_every_district_of_the_area(store):
    worcs = ["E07000234", "E07000235", "E07000236", "E07000237", "E07000238", "E07000239"]
    comp = comparators("lad", "Worcestershire", ["census21_no_car_pct"], store=store)
    lad = indicator_table("lad", worcs, ["census21_no_car_pct"], store=store)
    expected = 100 * lad["census21_no_car_pct__num"].sum() / lad["census21_no_car_pct__den"].sum()
    assert np.allclose(comp["area_value"], expected)
    assert set(comp["code"]) == set(worcs) and (comp["rank_in_district"] == 1).all()
