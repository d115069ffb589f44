"""The indicator registry: complete, consistent, honest metadata; clear errors for unknown ids."""

from __future__ import annotations

import pytest
import yaml

from layers.registry import (KINDS, LEVELS, REGISTRY_FILE, RegistryError, UnknownIndicatorError, build_indicator,
                             builtin_registry, get_indicator)

REQUIRED_IDS = (
    ["imd2025_score", "imd2025_decile", "imd2019_rank", "imd2019_decile", "census21_inactive_pct", "census21_unemployed_pct"]
    + [f"imd2019_{d}_decile" for d in ("income", "employment", "education", "health", "crime", "barriers", "living_environment")]
    + [f"imd2025_{d}_{m}" for d in ("income", "employment", "education", "health", "crime", "barriers", "living_environment")
       for m in ("score", "rank", "decile")]
    + ["census21_bad_health_pct", "census21_disabled_pct", "census21_no_qualifications_pct", "census21_unpaid_carers_pct",
       "census21_never_worked_pct", "census21_poor_english_pct", "census21_no_car_pct", "census21_hh_deprived_3plus_pct",
       "census21_pop_16_64", "claimant_rate", "claimant_count", "aps_employment_rate", "aps_inactivity_rate",
       "aps_inactive_long_term_sick_pct", "imd2025_most_deprived_10pct", "imd2025_most_deprived_20pct",
       "imd2025_income_count", "imd2025_employment_count"])


def test_every_required_indicator_is_registered_with_full_metadata():
    reg = builtin_registry()
    missing = [i for i in REQUIRED_IDS if i not in reg]
    assert not missing
    for ind in reg.values():
        assert ind.label and ind.topic and ind.publisher and ind.dataset and ind.period, ind.id
        assert ind.licence and "Open Government Licence" in ind.attribution, ind.id
        assert ind.caveat, ind.id
        assert set(ind.levels) <= set(LEVELS) and ind.levels, ind.id
        assert ind.kind in KINDS and ind.direction in (-1, 0, 1), ind.id
        assert ind.rag_rule(), ind.id
        if ind.kind == "rate":
            assert ind.numerator and ind.denominator and ind.universe, ind.id


def test_caveats_say_what_the_issue_requires():
    reg = builtin_registry()
    assert "retired" in reg["census21_inactive_pct"].caveat.lower()
    assert reg["census21_inactive_pct"].estimate and "estimate" in reg["census21_inactive_pct"].caveat.lower()
    assert not reg["census21_disabled_pct"].estimate  # real TS038 counts
    assert "rounded" in reg["claimant_rate"].caveat.lower()
    assert "confidence interval" in reg["aps_inactivity_rate"].caveat.lower()
    assert "rank of averaged ranks" in reg["imd2025_score"].caveat.lower()
    for ind in reg.values():
        if ind.table == "aps":
            assert ind.levels == ["lad"], ind.id  # never apportioned to wards or LSOAs
            assert ind.rag == "ci"
        if ind.kind in ("decile", "rank"):
            assert set(ind.levels) <= {"lsoa", "lsoa11"}, ind.id  # never averaged upwards


def test_directions_mean_need():
    reg = builtin_registry()
    assert reg["imd2025_score"].direction == 1 and reg["imd2025_decile"].direction == -1
    assert reg["aps_employment_rate"].direction == -1 and reg["aps_inactivity_rate"].direction == 1
    assert reg["census21_pop_16_64"].direction == 0


def test_registry_is_data_with_shared_groups():
    raw = yaml.safe_load(REGISTRY_FILE.read_text(encoding="utf-8"))
    assert set(raw["groups"]) >= {"census", "iod2025", "iod2019", "claimant", "aps"}
    # the publisher is written once per group, not repeated per indicator
    assert sum("publisher" in spec for spec in raw["indicators"].values()) == 0


def test_unknown_id_suggests_close_matches():
    with pytest.raises(UnknownIndicatorError, match=r"unknown indicator 'imd2025_scor'.*imd2025_score"):
        get_indicator("imd2025_scor")
    with pytest.raises(UnknownIndicatorError, match="python cli.py indicators --list"):
        get_indicator("zzzz")


@pytest.mark.parametrize("spec, message", [
    ({"label": "x", "levels": ["msoa"], "caveat": "c"}, "levels must be"),
    ({"label": "x", "levels": ["lsoa"], "kind": "average", "caveat": "c"}, "kind 'average'"),
    ({"label": "x", "levels": ["lsoa"], "colour": "red", "caveat": "c"}, "unknown field"),
    ({"label": "x", "levels": ["lsoa"]}, "needs a caveat"),
    ({"label": "x", "levels": ["lsoa"], "caveat": "c", "direction": 2}, "direction"),
    ({"levels": ["lsoa"], "caveat": "c"}, "missing field.*label"),
])
def test_malformed_entries_are_refused(spec, message):
    base = {"topic": "t", "publisher": "p", "dataset": "d", "period": "2021"}
    with pytest.raises(RegistryError, match=message):
        build_indicator("some_indicator", {**base, **spec})
    with pytest.raises(RegistryError, match="snake_case"):
        build_indicator("Bad-Id", {**base, "label": "x", "levels": ["lsoa"], "caveat": "c"})
