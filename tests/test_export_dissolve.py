"""Merging adjacent selected areas into priority neighbourhoods (fixtures and real LSOAs)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from geo.errors import CRSError, ExportError, UnknownColumnError
from geo.export.columns import resolve_columns
from geo.export.neighbourhoods import dissolve_adjacent
from geo.export.selection import parse_selection

SOUTH_MIDLANDS = ["E06000055", "E06000056", "E06000032", "E06000042", "E06000061", "E06000062"]


def _squares():
    """A and B share an edge; C meets B only at a corner; D is on its own (metres, EPSG:27700)."""
    return gpd.GeoDataFrame({
        "code": ["E01000001", "E01000002", "E01000003", "E01000004"],
        "name": ["Area A", "Area B", "Area C", "Area D"],
        "lad_code": ["E06000001", "E06000002", "E06000002", "E06000002"],
        "lad_name": ["Hôtel District", "Ynys Môn", "Ynys Môn", "Ynys Môn"],
        "ward_name": ["Ward 1", "Ward 2", "Ward 2", "Ward 3"],
        "population": [1000, 3000, 500, 2000],
        "score": [2.0, 1.0, 3.0, np.nan],
        "rank": [2, 3, 1, 4],
        "robust": [True, False, True, True],
        "band": ["High", "Medium", "High", "Low"],
    }, geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 100, 300, 200), box(1000, 0, 1100, 100)], crs=27700)


def test_edge_neighbours_merge_corner_neighbours_do_not():
    areas = _squares()
    specs = resolve_columns(areas, ["population", "score", "rank", "robust", "band"])
    hoods, members = dissolve_adjacent(areas, specs)
    assert len(hoods) == 3
    ab = hoods[hoods["n_areas"] == 2].iloc[0]
    assert ab["member_codes"] == "E01000001; E01000002"
    assert ab["population"] == 4000
    assert ab["score"] == pytest.approx((1000 * 2.0 + 3000 * 1.0) / 4000)  # population-weighted
    assert ab["rank"] == 2 and not ab["robust"] and ab["band"] == "High; Medium"
    assert ab["lad_code"] == "E06000001; E06000002" and ab["lad_name"] == "Hôtel District; Ynys Môn"
    assert ab["name"] == "Ward 1 / Ward 2" and ab["ward_names"] == "Ward 1; Ward 2"
    assert ab.geometry.area == pytest.approx(20_000) and ab.geometry.is_valid
    # order: weighted score, highest first (C 3.0, AB 1.25, D no score last)
    assert hoods["code"].tolist() == ["PN001", "PN002", "PN003"]
    assert hoods["member_codes"].tolist() == ["E01000003", "E01000001; E01000002", "E01000004"]
    assert np.isnan(hoods["score"].iloc[2])
    assert members.set_index("code")["neighbourhood"].to_dict() == {
        "E01000003": "PN001", "E01000001": "PN002", "E01000002": "PN002", "E01000004": "PN003"}
    assert hoods.crs.to_epsg() == 27700


def test_missing_values_are_left_out_of_the_weighted_mean():
    areas = _squares()
    areas.loc[1, "score"] = np.nan
    hoods, _ = dissolve_adjacent(areas, resolve_columns(areas, ["score"]))
    assert hoods.set_index("member_codes").loc["E01000001; E01000002", "score"] == pytest.approx(2.0)


def test_dissolve_needs_good_populations_and_british_national_grid():
    areas = _squares()
    specs = resolve_columns(areas, ["score"])
    with pytest.raises(UnknownColumnError, match="population column 'people'"):
        dissolve_adjacent(areas, specs, population="people")
    bad = areas.assign(population=[1000, -5, 10, 10])
    with pytest.raises(ExportError, match="missing or negative for E01000002"):
        dissolve_adjacent(bad, specs)
    with pytest.raises(CRSError):
        dissolve_adjacent(areas.to_crs(4326), specs)


def _libpysal(frame):
    """libpysal's Rook groups and Queen-only (corner) pairs: an independent reference implementation."""
    from libpysal.weights import Queen, Rook
    from scipy.sparse.csgraph import connected_components

    frame = frame.reset_index(drop=True)
    rook = Rook.from_dataframe(frame, use_index=False, silence_warnings=True)
    queen = Queen.from_dataframe(frame, use_index=False, silence_warnings=True)
    _, labels = connected_components(rook.sparse, directed=False)
    codes = frame["code"].to_numpy()
    corners = {(codes[i], codes[j]) for i in queen.neighbors for j in queen.neighbors[i] if j not in rook.neighbors[i]}
    return {frozenset(codes[labels == k]) for k in np.unique(labels)}, corners


def test_real_lsoas_merge_exactly_along_shared_boundaries(store):
    lsoas = store.boundaries("lsoa", SOUTH_MIDLANDS)
    area_m2 = lsoas.geometry.area
    lsoas["population"] = (1200 + (area_m2 % 997)).astype("int64")           # deterministic stand-ins
    lsoas["score"] = (1e6 / (area_m2 + 2e5)).round(6)                        # small (dense, urban) areas score high
    chosen = parse_selection("top:200").apply(lsoas)
    specs = resolve_columns(chosen, ["population", "score", "ward_name"])
    hoods, members = dissolve_adjacent(chosen, specs)

    # every selected area is in exactly one neighbourhood, and people are neither lost nor counted twice
    assert sorted(members["code"]) == sorted(chosen["code"])
    assert hoods["n_areas"].sum() == len(chosen) and hoods["population"].sum() == chosen["population"].sum()
    # the neighbourhoods are exactly libpysal's Rook-connected groups of the selected areas
    got = {frozenset(codes.split("; ")) for codes in hoods["member_codes"]}
    rook_groups, corner_pairs = _libpysal(chosen)
    assert got == rook_groups
    home = members.set_index("code")["neighbourhood"]
    assert any(home[a] != home[b] for a, b in corner_pairs)  # real areas meeting at a corner stayed apart
    assert any(len(c) > 1 for c in got)  # the test means something: some areas did merge
    for row in hoods.itertuples():
        rows = chosen[chosen["code"].isin(row.member_codes.split("; "))]
        assert row.score == pytest.approx(np.average(rows["score"], weights=rows["population"]))
        assert row.geometry.area == pytest.approx(rows.geometry.area.sum(), rel=1e-9)
    assert hoods.is_valid.all() and hoods["score"].is_monotonic_decreasing
