"""Finding a place on the real store: a Luton ward by name and code, a postcode, an LSOA code, a miss."""

from __future__ import annotations

import pytest

from geo.areas import Area
from geo.place_search import CHOICES, FOUND, NOT_FOUND, find_place

LUTON = Area("Luton", ("E06000032",), "district")
SOUTH_MIDLANDS = Area("South Midlands", ("E06000055", "E06000056", "E06000032", "E06000042", "E06000061",
                                         "E06000062"), "preset")


@pytest.mark.parametrize("query", ["Biscot", "biscot", "E05014737", " e05014737 "])
def test_biscot_ward_by_name_or_code(store, query):
    got = find_place(query, store, LUTON)
    assert got.status == FOUND
    (place,) = got.places
    assert (place.code, place.name, place.kind, place.lad_name) == ("E05014737", "Biscot", "ward", "Luton")
    ward = store.boundaries("ward", ["E06000032"]).set_index("code").loc["E05014737"]
    assert place.bounds == pytest.approx(ward.geometry.bounds)


def test_luton_postcode_gives_the_ward_that_contains_it(store):
    from geo.postcodes import lookup

    got = find_place("lu1 2bq", store, LUTON)
    assert got.status == FOUND
    point = lookup(["LU1 2BQ"]).iloc[0]
    assert got.postcode_point == (point["easting"], point["northing"])
    wards = store.boundaries("ward", ["E06000032"]).set_index("code")
    import shapely

    assert wards.loc[got.places[0].code].geometry.covers(shapely.Point(*got.postcode_point))
    lsoa = find_place("LU1 2BQ", store, LUTON, level="lsoa").places[0]
    assert lsoa.kind == "lsoa" and lsoa.code.startswith("E01")


def test_lsoa_code_and_district(store):
    lsoa = store.boundaries("lsoa", ["E06000032"]).iloc[0]
    got = find_place(lsoa["code"], store, SOUTH_MIDLANDS)
    assert got.status == FOUND and got.places[0].kind == "lsoa" and got.places[0].code == lsoa["code"]
    assert got.places[0].ward_code == lsoa["ward_code"] and got.places[0].ward_code.startswith("E05")
    lad = find_place("Luton", store, SOUTH_MIDLANDS)
    assert lad.status == FOUND and lad.places[0].kind == "lad" and lad.places[0].code == "E06000032"


def test_ambiguous_name_lists_choices(store):
    wards = store.boundaries("ward", list(SOUTH_MIDLANDS.lad_codes))
    words = wards["name"].str.split().str[0]
    word = words.value_counts().index[0]  # the commonest first word of a ward name, e.g. "Bedford"
    got = find_place(word, store, SOUTH_MIDLANDS)
    assert got.status == CHOICES and len(got.places) >= 2
    assert len({p.code for p in got.places}) == len(got.places)
    assert str(len(got.places)) in got.message


@pytest.mark.parametrize("query,says", [("Atlantis", "Nothing called 'Atlantis' in Luton"),
                                        ("ZZ9 9ZZ", "not in the postcode directory"),
                                        ("E05000001", "No ward, LSOA or district with code E05000001"),
                                        ("", "Type a ward")])
def test_unknown_says_so(store, query, says):
    got = find_place(query, store, LUTON)
    assert got.status == NOT_FOUND and got.places == [] and says in got.message
