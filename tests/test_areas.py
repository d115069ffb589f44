"""Areas of interest: presets, districts, user areas and bad names."""

from __future__ import annotations

import pytest

from geo.areas import list_areas, resolve_area, save_area, user_areas
from geo.errors import UnknownAreaError, WardscopeError


def test_presets_resolve_to_their_districts(store):
    districts = store.districts()
    sm = resolve_area("south midlands", districts)
    assert sm.lad_codes == ("E06000055", "E06000056", "E06000032", "E06000042", "E06000061", "E06000062")
    emcca = resolve_area("East Midlands CCA", districts)
    assert len(emcca.lad_codes) == 17 and "E06000018" in emcca.lad_codes
    assert resolve_area("Worcestershire", districts).lad_codes == tuple(f"E0700023{i}" for i in range(4, 10))


def test_single_districts_by_name_or_code(store):
    districts = store.districts()
    assert resolve_area("Luton", districts).lad_codes == ("E06000032",)
    assert resolve_area("e06000018", districts).name == "Nottingham"
    assert len([a for a in list_areas(districts) if a.kind == "district"]) == 296


def test_unknown_area_suggests(store):
    with pytest.raises(UnknownAreaError, match="did you mean 'South Midlands'"):
        resolve_area("Midlands", store.districts())
    with pytest.raises(UnknownAreaError, match="not a district"):
        resolve_area("E06999999", store.districts())


def test_user_area_saved_atomically_with_previous(store, tmp_env):
    districts = store.districts()
    save_area("Luton and Bedford", ["E06000032", "E06000055"], districts)
    save_area("Luton and Bedford", ["E06000032"], districts, replace=True)
    with pytest.raises(WardscopeError, match="already saved"):
        save_area("luton AND bedford", ["E06000055"], districts)
    assert resolve_area("luton and bedford", districts).lad_codes == ("E06000032",)
    assert (tmp_env / "user" / "areas.yaml.prev").exists()
    assert [a.name for a in user_areas()] == ["Luton and Bedford"]
    with pytest.raises(WardscopeError, match="already a preset"):
        save_area("Worcestershire", ["E07000237"], districts)
    with pytest.raises(UnknownAreaError, match="E06999999"):
        save_area("Bad", ["E06999999"], districts)


def test_damaged_user_areas_file_offers_the_previous_version(store, tmp_env):
    from geo.errors import CorruptSavedFile
    from geo.saved import restore_previous

    districts = store.districts()
    save_area("Luton and Bedford", ["E06000032", "E06000055"], districts)
    save_area("Luton only", ["E06000032"], districts)
    path = tmp_env / "user" / "areas.yaml"
    path.write_text("areas: {Luton only: {districts: [E06000032")  # a save interrupted by a disk fault
    with pytest.raises(CorruptSavedFile, match="areas.yaml: is damaged .*previous version"):
        resolve_area("Luton", districts)
    restore_previous(path)
    assert [a.name for a in user_areas()] == ["Luton and Bedford"]
