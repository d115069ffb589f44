"""Regressions for problems a review found: each reproduces the original failure on real data."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from layers.hotspots import hotspots
from layers.mapview import score_map
from layers.profiles import load_profile
from layers.scoring import score_area
from tests.conftest import ROOT

CITY = "E09000001"  # City of London: most of its wards have no LSOA, so no score


def test_unscored_wards_have_blank_ranks_not_zero(store):
    areas = score_area(load_profile("multi-agency"), "City of London", level="ward", store=store).areas
    unscored = areas["score"].isna()
    assert unscored.any() and (~unscored).any()
    assert areas.loc[unscored, ["rank", "rank_national", "overlap_count"]].isna().all().all()
    assert areas.loc[~unscored, "rank"].min() == 1


def test_hot_spots_with_unscored_areas(store):
    gdf = store.boundaries("ward", [CITY, "E09000033"])  # City of London and Westminster
    scored = score_area(load_profile("neighbourhood"), "City of London", level="ward", store=store)
    values = np.full(len(gdf), np.nan)
    values[: len(gdf) // 2] = np.arange(len(gdf) // 2, dtype=float)
    out = hotspots(gdf, values, permutations=99, seed=1)
    assert len(out) == len(gdf) and not out.loc[np.isnan(values), "hotspot"].any()
    assert scored is not None


def test_cluster_layer_draws_with_missing_cluster_ids(store):
    scored = score_area(load_profile("neighbourhood"), "Worcester", level="ward", store=store)
    areas = store.boundaries("ward", scored.area.lad_codes)
    ids = pd.Series([None if i % 2 else "N01" for i in range(len(areas))], index=areas["code"], dtype="str")
    md = score_map(areas, scored, "cluster", clusters=ids)  # str dtype turns None into NaN
    assert set(md.gdf["value"]) == {"N01", "not in a cluster"}


def test_custom_band_shares_are_drawn(store):
    profile = replace(load_profile("neighbourhood"), band_shares=(0.05, 0.25))
    scored = score_area(profile, "Luton", level="lsoa", store=store)
    md = score_map(store.boundaries("lsoa", scored.area.lad_codes), scored, "band")
    drawn = {md.classes.legend[i][1] for i in md.classes.index if i >= 0}
    assert {"top 5%", "top 25%", "other"} == drawn


def test_area_choice_follows_the_user_between_pages(store):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.selectbox(key="w:area").set_value("Worcester (district)").run()
    assert at.title[0].value == "Worcester"
    at.switch_page("app_pages/scoring.py").run()
    assert at.title[0].value == "Worcester" and not at.exception
    at.switch_page("app_pages/ward_profile.py").run()
    assert not at.exception and "ward profile" in at.title[0].value
    ward = at.selectbox(key="w:profile_ward").value
    assert ward in set(store.boundaries("ward", ["E07000237"])["code"])  # a Worcester ward, not a Northampton one


def test_access_in_the_score_exports(store):
    from geo.employment_sites import sample_sites
    from layers.access import access_indicators, access_layer
    from layers.indicators import indicator_table
    from layers.priority_export import export_layer
    from layers.profiles import ProfileIndicator
    from layers.registry import load_registry

    frame = access_layer("Luton", sample_sites(store), ("bus",), level="ward", store=store)
    extra, entries = access_indicators(frame, ["bus"])
    base = load_profile("neighbourhood")
    profile = replace(base, indicators=base.indicators + (ProfileIndicator("access_bus_nearest_min", 1.0),))
    scored = score_area(profile, "Luton", level="ward", store=store, extra=extra, extra_registry=entries)
    table = indicator_table("ward", scored.area.lad_codes, None, store=store).merge(extra, on="code", how="left")
    areas, columns = export_layer(scored, store, table, {**load_registry(), **entries})
    assert "access_bus_nearest_min" in areas and areas["access_bus_nearest_min"].notna().all()
    assert any(c.name == "contrib__access_bus_nearest_min" for c in columns)
