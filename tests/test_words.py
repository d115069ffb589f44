"""Counts in plain words (geo.words): what every message with a number of things uses."""

from geo.words import agree, count_of


def test_counts_are_singular_only_for_one():
    assert count_of(1, "site") == "1 site"
    assert count_of(0, "site") == "0 sites"
    assert count_of(1204, "priority area") == "1,204 priority areas"
    assert count_of(2, "geometry", "geometries") == "2 geometries" and count_of(1, "geometry", "geometries") == "1 geometry"
    assert [agree(n, "has", "have") for n in (0, 1, 2)] == ["have", "has", "have"]
