"""Links that reproduce a view: parsing a link's query parameters against the real store (app_pages.links)."""

from __future__ import annotations

import pytest

from app_pages.links import link_params, parse_link
from geo.areas import resolve_area
from layers.profiles import load_profile

BISCOT, LUTON = "E05014737", "E06000032"



@pytest.fixture()
def parse(store):
    districts = store.districts()
    wards = store.boundaries("ward")[["code", "lad_code"]]
    profiles = {name: [i.id for i in load_profile(name).indicators] for name in ("neighbourhood", "multi-agency")}

    def run(params):
        return parse_link(params, resolve_area=lambda t: resolve_area(t, districts), levels=("ward", "lsoa"),
                          profiles=profiles, layers=("score", "robust"), indicators=("census21_inactive_pct",),
                          wards_of=lambda a: set(wards.loc[wards["lad_code"].isin(a.lad_codes), "code"]),
                          default_area=resolve_area("South Midlands", districts))
    run.profiles = profiles
    run.wards = wards
    return run


def test_good_link_applies_everything(parse):
    ind = parse.profiles["neighbourhood"][0]
    got = parse({"area": "Luton", "ward": BISCOT.lower(), "level": "lsoa", "profile": "neighbourhood",
                 f"w.{ind}": "2.5", "layer": "robust"})
    assert got.notes == []
    assert got.area.lad_codes == (LUTON,) and got.ward == BISCOT and got.level == "lsoa"
    assert got.profile == "neighbourhood" and got.weights == {ind: 2.5} and got.layer == "robust"


def test_ward_outside_the_area_is_ignored_with_a_note(parse):
    other = parse.wards.loc[parse.wards["lad_code"] == "E06000055", "code"].iloc[0]  # a Bedford ward
    got = parse({"area": "Luton", "ward": other})
    assert got.area.lad_codes == (LUTON,) and got.ward is None
    assert got.notes == [f"This link could not apply: ward {other!r} (not a ward in Luton)."]


def test_stale_area_name_is_ignored_and_the_rest_applies(parse):
    got = parse({"area": "Luton & Dunstable (deleted)", "level": "ward", "ward": BISCOT})
    assert got.area is None and got.level == "ward"
    assert "area 'Luton & Dunstable (deleted)' (no area of that name" in got.notes[0]
    assert got.ward == BISCOT  # looked up in the default area, South Midlands, which holds Luton


@pytest.mark.parametrize("value", ["7", "-1", "nan", "inf", "lots"])
def test_weight_out_of_range_is_ignored_with_a_note(parse, value):
    ind = parse.profiles["neighbourhood"][0]
    got = parse({f"w.{ind}": value, "profile": "neighbourhood"})
    assert got.weights == {}
    assert f"weight {value!r} for {ind} (weights run from 0 to 5)" in got.notes[0]


def test_unknown_values_and_parameters_each_get_named(parse):
    got = parse({"level": "county", "profile": "mine", "w.not_an_indicator": "1", "layer": "x" * 500, "zoom": "3"})
    note = got.notes[0]
    for part in ("level 'county'", "profile 'mine'", "weight for 'not_an_indicator'", "layer 'xxxx", "'zoom'"):
        assert part in note
    assert len(note) < 500  # a long value is shortened, not quoted whole


def test_link_params_round_trip(parse):
    profile = load_profile("neighbourhood")
    defaults = {i.id: i.weight for i in profile.indicators}
    ind = next(iter(defaults))
    params = link_params(area="Luton", level="ward", profile="neighbourhood", weights={**defaults, ind: 4.0},
                         default_weights=defaults, ward=BISCOT)
    assert params == {"area": "Luton", "level": "ward", "profile": "neighbourhood", f"w.{ind}": "4", "ward": BISCOT}
    got = parse(params)
    assert got.notes == [] and got.weights == {ind: 4.0} and got.ward == BISCOT
