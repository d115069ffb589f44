"""Priority scoring on small fixtures with hand-computed values."""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo.areas import Area
from layers.normalise import exponential_transform, normalise
from layers.profiles import Profile, ProfileError, ProfileIndicator, load_profile, parse_profile_text, save_profile
from layers.scoring import bands, overlap_counts, ranks_desc, score_matrix, score_table, weighted_scores
from layers.shrinkage import shrink_rates


@dataclass
class Ind:
    direction: int = 1
    levels: tuple = ("lsoa", "ward")
    label: str = "x"
    kind: str = "rate"
    unit: str = "%"


def test_exponential_transform_matches_the_iod_formula():
    r = np.array([0.01, 0.25, 0.5, 0.9, 1.0])
    expected = [-23 * math.log(1 - x * (1 - math.exp(-100 / 23))) for x in r]
    assert np.allclose(exponential_transform(r), expected)
    assert exponential_transform(np.array([1.0]))[0] == pytest.approx(100.0)
    # the most-need end is stretched: the top 10% of ranks span about half of the 0-100 range
    assert exponential_transform(np.array([1.0]))[0] - exponential_transform(np.array([0.9]))[0] > 45


def test_normalise_methods_direction_and_missing():
    x = np.array([[10.0, 1.0], [20.0, 2.0], [np.nan, 3.0], [40.0, 4.0]])
    mm = normalise(x, np.array([1, -1]), "minmax")
    assert np.allclose(mm[[0, 1, 3], 0], [0, 100 / 3, 100])
    assert np.isnan(mm[2, 0])
    assert np.allclose(mm[:, 1], [100, 200 / 3, 100 / 3, 0])  # reversed: low value = more need
    z = normalise(x, np.array([1, 1]), "zscore")
    assert np.nanmean(z[:, 0]) == pytest.approx(0) and np.nanstd(z[:, 0]) == pytest.approx(1)
    re = normalise(x, np.array([1, 1]), "rank_exponential")
    assert np.allclose(re[:, 1], exponential_transform(np.array([1, 2, 3, 4]) / 4))
    assert np.allclose(re[[0, 1, 3], 0], exponential_transform(np.array([1, 2, 3]) / 3))


def test_weighted_score_by_hand():
    values = np.array([[0.0, 10.0], [50.0, 20.0], [100.0, 30.0]])
    out = score_matrix(values, np.array([3.0, 1.0]), np.array([1, 1]), "minmax")
    # minmax: col0 -> 0, 50, 100; col1 -> 0, 50, 100; weights 0.75/0.25
    assert np.allclose(out.score, [0, 50, 100])
    assert np.allclose(out.contributions[1], [37.5, 12.5])
    out2 = score_matrix(values, np.array([3.0, 1.0]), np.array([1, -1]), "minmax")
    assert np.allclose(out2.score, [0.75 * 0 + 0.25 * 100, 0.75 * 50 + 0.25 * 50, 0.75 * 100 + 0])


def test_missing_values_are_flagged_not_zero():
    norm = np.array([[10.0, 20.0, 30.0], [10.0, np.nan, 30.0], [np.nan, np.nan, 30.0]])
    w = np.array([0.5, 0.25, 0.25])
    score, contrib, miss = weighted_scores(norm, w, missing="reweight", max_missing_share=0.34)
    assert score[0] == pytest.approx(5 + 5 + 7.5)
    assert score[1] == pytest.approx((0.5 * 10 + 0.25 * 30) / 0.75)  # reweighted, not a zero
    assert miss[1] == pytest.approx(0.25)
    assert np.isnan(score[2])  # 75% of the weight missing: no score
    score_x, _, _ = weighted_scores(norm, w, missing="exclude")
    assert np.isnan(score_x[1]) and not np.isnan(score_x[0])


def test_ranks_bands_and_overlap():
    score = np.array([5.0, 9.0, np.nan, 1.0, 9.0, 3.0, 7.0, 2.0, 4.0, 6.0, 8.0])
    r = ranks_desc(score)
    assert list(r) == [6, 1, 0, 10, 1, 8, 4, 9, 7, 5, 3]
    b = bands(r, 10, (0.1, 0.2))
    assert list(b[[1, 4]]) == ["top 10%", "top 10%"] and b[10] == "other" and b[2] == "no data"
    b2 = bands(np.array([1, 2, 3, 0]), 3, (0.34, 0.67))
    assert list(b2) == ["top 34%", "top 67%", "other", "no data"]  # 34% of 3 areas is 1 area, 67% is 2
    vals = np.array([[1.0, 10.0], [2.0, 9.0], [3.0, 8.0], [4.0, 7.0], [5.0, 6.0]])
    count, worst = overlap_counts(vals, np.array([1, -1]), 0.2)
    assert list(count) == [0, 0, 0, 0, 2]


def test_shrinkage_pulls_small_denominators_harder():
    num = pd.Series([2.0, 200.0, 30.0, 60.0])
    den = pd.Series([10.0, 1000.0, 1000.0, 1000.0])
    d = pd.Series(["A"] * 4)
    shrunk = shrink_rates(num, den, d)
    m = num.sum() / den.sum()
    raw = num / den
    assert abs(shrunk[0] - m) < abs(raw[0] - m) * 0.5  # the small area moved a lot
    assert abs(shrunk[1] - raw[1]) < abs(raw[1] - m) * 0.1  # the big one barely


def _table(n=40, seed=3):
    rng = np.random.default_rng(seed)
    codes = [f"E0100{i:04d}" for i in range(n)]
    lad = np.where(np.arange(n) < n // 2, "E06000032", "E06000055")
    return pd.DataFrame({"code": codes, "name": codes, "lad_code": lad, "lad_name": lad,
                         "a": rng.random(n) * 50, "b": rng.random(n) * 10, "c": rng.random(n)})


REG = {"a": Ind(), "b": Ind(), "c": Ind(direction=-1, kind="score", unit="score"), "d": Ind(levels=("lad",))}


def _profile(**kw):
    items = kw.pop("items", (ProfileIndicator("a", 2), ProfileIndicator("b", 1), ProfileIndicator("c", 1)))
    return Profile(id="t", name="t", indicators=tuple(items), normalisation="minmax", **kw)


def test_score_table_hand_check_and_area_ranks():
    t = _table()
    area = Area("Luton", ("E06000032",), "district")
    s = score_table(t, _profile(), area, "lsoa", REG, {"a", "b", "c"})
    assert len(s.areas) == 20
    mm = lambda x: (x - x.min()) / (x.max() - x.min()) * 100
    expected = 0.5 * mm(t["a"]) + 0.25 * mm(t["b"]) + 0.25 * mm(-t["c"])
    got = s.areas.set_index("code")["score"]
    assert np.allclose(got, expected.set_axis(t["code"]).loc[got.index], atol=1e-3)
    contrib = s.areas[[f"contrib__{i}" for i in "abc"]].sum(axis=1)
    assert np.allclose(contrib, s.areas["score"], atol=0.01)
    assert sorted(s.areas["rank"]) == list(range(1, 21))
    assert (s.areas["band"] == "top 10%").sum() == 2 and (s.areas["band"] == "top 20%").sum() == 2
    nat = pd.Series(expected.to_numpy()).rank(ascending=False, method="min").astype(int).set_axis(t["code"])
    assert (s.areas.set_index("code")["rank_national"] == nat.loc[got.index]).all()


def test_bad_profiles_fail_before_any_work():
    t = _table()
    area = Area("Luton", ("E06000032",), "district")
    with pytest.raises(ProfileError, match="no indicator 'zz'"):
        score_table(t, _profile(items=(ProfileIndicator("zz", 1),)), area, "lsoa", REG, {"a"})
    with pytest.raises(ProfileError, match="not available at lsoa level"):
        score_table(t, _profile(items=(ProfileIndicator("d", 1),)), area, "lsoa", REG, {"d"})
    with pytest.raises(ProfileError, match="negative weight for a"):
        parse_profile_text("id: x\nname: x\nindicators:\n  - {id: a, weight: -1}\n")
    with pytest.raises(ProfileError, match="all weights are zero"):
        parse_profile_text("id: x\nname: x\nindicators:\n  - {id: a, weight: 0}\n  - {id: b, weight: 0}\n")
    with pytest.raises(ProfileError, match="not a valid YAML profile: profile line 2: not valid YAML"):
        parse_profile_text("indicators: [\n")
    with pytest.raises(ProfileError, match="unknown profile setting"):
        parse_profile_text("id: x\nname: x\nweights: 3\nindicators: [a]\n")
    with pytest.raises(Exception, match="no lsoa areas in Nowhere"):
        score_table(t, _profile(), Area("Nowhere", ("E06000099",), "district"), "lsoa", REG, {"a", "b", "c"})


def test_when_installed_indicator_is_left_out_with_a_note():
    t = _table()
    prof = _profile(items=(ProfileIndicator("a", 1), ProfileIndicator("b", 1, when_installed=True)))
    s = score_table(t, prof, Area("L", ("E06000032",), "district"), "lsoa", REG, {"a"})
    assert s.indicators == ["a"] and "not installed" in s.notes[0]


def test_robust_flag_depends_on_the_spread_of_weights():
    """Two indicators that disagree: with tight weights the top is stable, with loose weights it is not."""
    n = 200
    rng = np.random.default_rng(7)
    a = rng.random(n) * 100
    b = 100 - a + rng.normal(0, 5, n)  # b disagrees with a
    t = pd.DataFrame({"code": [f"E01{i:06d}" for i in range(n)], "name": "x", "lad_code": "E06000032",
                      "lad_name": "Luton", "a": a, "b": b, "c": rng.random(n)})
    area = Area("L", ("E06000032",), "district")
    items = (ProfileIndicator("a", 3), ProfileIndicator("b", 1))
    tight = score_table(t, _profile(items=items, sensitivity_concentration=5000.0), area, "lsoa", REG, {"a", "b"}, sensitivity=300)
    loose = score_table(t, _profile(items=items, sensitivity_concentration=2.0), area, "lsoa", REG, {"a", "b"}, sensitivity=300)
    assert tight.areas["robust"].sum() > loose.areas["robust"].sum()
    assert (tight.areas["rank_p95"] - tight.areas["rank_p05"]).mean() < (loose.areas["rank_p95"] - loose.areas["rank_p05"]).mean()
    again = score_table(t, _profile(items=items, sensitivity_concentration=2.0), area, "lsoa", REG, {"a", "b"}, sensitivity=300)
    pd.testing.assert_frame_equal(loose.areas, again.areas)  # seeded: reproducible
    assert set(tight.areas.loc[tight.areas["robust"], "band"]) <= {"top 10%", "top 20%"}


def test_shipped_profiles_load_and_round_trip(tmp_path):
    for name in ("neighbourhood", "multi-agency"):
        p = load_profile(name)
        assert p.id == name and len(p.indicators) >= 6
        path = save_profile(p, tmp_path / f"{name}.yaml")
        assert load_profile(path) == p
    p2 = load_profile("neighbourhood").with_weights({"census21_inactive_pct": 5})
    save_profile(p2, tmp_path / "neighbourhood.yaml")
    assert load_profile(tmp_path / "neighbourhood.yaml.prev") == load_profile("neighbourhood")


def test_clusters_are_contiguous_and_hotspots_found():
    from layers.hotspots import contiguity, hotspots, priority_clusters

    cells = [box(x * 100, y * 100, x * 100 + 100, y * 100 + 100) for y in range(10) for x in range(10)]
    gdf = gpd.GeoDataFrame({"code": [f"E01{i:06d}" for i in range(100)], "name": "n", "lad_code": "E06000032",
                            "lad_name": "Luton", "ward_code": "E05000001", "ward_name": "Biscot"}, geometry=cells, crs=27700)
    score = np.zeros(100)
    block_a = [y * 10 + x for y in range(3) for x in range(3)]
    block_b = [y * 10 + x for y in range(7, 10) for x in range(7, 10)]
    score[block_a] = 100
    score[block_b] = 90
    score += np.random.default_rng(1).random(100)
    priority = score > 50
    labels, clusters = priority_clusters(gdf, priority, np.full(100, 1500.0), score)
    assert len(clusters) == 2 and set(clusters["n_areas"]) == {9}
    w = contiguity(gdf)
    for cid in clusters["cluster_id"]:
        members = set(np.flatnonzero(labels == cid))
        seen, todo = set(), [min(members)]
        while todo:  # walk neighbours inside the cluster: every member must be reached
            i = todo.pop()
            if i in seen:
                continue
            seen.add(i)
            todo += [j for j in w.neighbors[i] if j in members]
        assert seen == members
    assert clusters["population"].tolist() == [13500, 13500]
    hs = hotspots(gdf, score, permutations=199, seed=3)
    assert hs.loc[block_a, "hotspot"].sum() >= 5 and not hs.loc[[55, 44], "hotspot"].any()


def test_damaged_saved_profile_offers_the_previous_version(tmp_env):
    from geo.errors import CorruptSavedFile
    from geo.saved import saved_path
    from layers.profiles import load_saved_profile

    path = saved_path("profiles", "Luton board")
    first = load_profile("neighbourhood")
    save_profile(first, path)
    save_profile(first.with_weights({"census21_inactive_pct": 4}), path)
    path.write_text("indicators: [\n  - {id: census21_inactive_pct, weight: 2")  # cut off mid-write
    with pytest.raises(CorruptSavedFile, match="previous version .* can be restored"):
        load_saved_profile(path)
    assert load_saved_profile(path, previous=True) == first


def test_zero_weight_survives_yaml(tmp_path):
    from layers.profiles import profile_yaml

    p = load_profile("neighbourhood").with_weights({"census21_unemployed_pct": 0.0})
    back = parse_profile_text(profile_yaml(p))
    assert {i.id: i.weight for i in back.indicators}["census21_unemployed_pct"] == 0.0
    assert back == p and profile_yaml(p) != profile_yaml(load_profile("neighbourhood"))


# -- numbers that cannot be weights, and ids every export accepts (issue 12, item 6) -------------------

TWO = "id: x\nname: x\nindicators:\n  - {{id: census21_inactive_pct, weight: {a}}}\n  - {{id: imd2025_income_score, weight: {b}}}\n"


@pytest.mark.parametrize("a, b, message", [
    (".nan", "1", "indicator 'census21_inactive_pct' has a weight that is not a number (NaN)"),
    ("1", ".NaN", "indicator 'imd2025_income_score' has a weight that is not a number (NaN)"),
    ("'nan'", "1", "indicator 'census21_inactive_pct' has a weight that is not a number (NaN)"),
    (".inf", "1", "indicator 'census21_inactive_pct' has a weight that is infinite"),
    ("-.inf", "1", "indicator 'census21_inactive_pct' has a weight that is infinite"),
    ("1e308", "1e308", "the weights add up to more than the largest number Wardscope can hold"),
    ("1" + "0" * 400, "1", "indicator 'census21_inactive_pct' has a weight too large to use"),
])
def test_weights_that_are_not_ordinary_numbers_are_refused(a, b, message):
    with pytest.raises(ProfileError) as err:
        parse_profile_text(TWO.format(a=a, b=b), "growth.yaml")
    assert str(err.value).startswith("growth.yaml: ") and message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("setting", ["threshold: .nan", "sensitivity_concentration: .inf", "max_missing_share: .nan"])
def test_settings_that_are_not_ordinary_numbers_are_refused(setting):
    with pytest.raises(ProfileError, match=f"growth.yaml: {setting.split(':')[0]} is (not a number|infinite)"):
        parse_profile_text(TWO.format(a=1, b=1) + setting + "\n", "growth.yaml")


def test_scoring_refuses_weights_that_are_not_numbers_even_without_a_profile():
    with pytest.raises(ProfileError, match="weights must be ordinary numbers"):
        score_matrix(np.ones((3, 2)), np.array([np.nan, 1.0]), np.array([1, 1]), "rank")


@pytest.mark.parametrize("a, b, message", [
    (".nan", "1", "has a weight that is not a number (NaN)"),
    (".inf", "1", "has a weight that is infinite"),
    ("1e308", "1e308", "the weights add up to more than the largest number"),
])
def test_cli_score_refuses_such_a_profile_and_writes_nothing(tmp_path, a, b, message):
    import os
    import subprocess
    import sys
    from pathlib import Path

    profile = tmp_path / "growth.yaml"
    profile.write_text(TWO.format(a=a, b=b))
    out = tmp_path / "scores.csv"
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, str(root / "cli.py"), "score", "--profile", str(profile), "--area", "Luton",
                           "--sensitivity", "0", "--out", str(out)], capture_output=True, text=True, cwd=root,
                          env=dict(os.environ), timeout=300)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"error: {profile}: ") and message in done.stderr and done.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["growth.yaml"]


@pytest.mark.parametrize("file_name, expected", [
    ("Growth plan (v2).yaml", "growth-plan-v2"),
    ("Cynllun Môn – Ionawr.yaml", "cynllun-mon-ionawr"),
    ("..yaml", "profile"),
    ("....yaml", "profile"),
    ("☂☂☂.yaml", "profile"),
    ("a" * 300 + ".yaml", "a" * 40),
    ("neighbourhood_v2.yaml", "neighbourhood_v2"),
    ("CON.yaml", "con-profile"),
])
def test_a_profile_without_an_id_gets_a_safe_one_from_its_file_name(file_name, expected):
    profile = parse_profile_text("indicators: [census21_inactive_pct]\n", file_name)
    assert profile.id == expected
    assert profile.name == file_name[: -len(".yaml")]  # the name is for people, and stays as given


@pytest.mark.parametrize("given, expected", [
    ("multi-agency", "multi-agency"), ("growth_2025", "growth_2025"), ("../../etc/passwd", "etc-passwd"),
    ("Growth Plan", "growth-plan"), ("..", "profile"), (2025, "2025"), ("-x-", "x"), ("", "growth"),
    ("lpt1", "lpt1-profile"),
])
def test_an_unsafe_id_in_the_file_is_made_safe(given, expected):
    value = f"'{given}'" if isinstance(given, str) else given
    profile = parse_profile_text(f"id: {value}\nindicators: [census21_inactive_pct]\n", "growth.yaml")
    assert profile.id == expected


def test_every_export_accepts_the_id_made_from_a_file_name(store):
    """The app names downloads wardscope_<id>_<level>_<area> (app_pages/details.py); every format accepts it."""
    import re
    import zipfile
    from io import BytesIO

    from geo.export import export_bytes
    from layers.profiles import safe_id
    from tests.exportcheck import PROVENANCE, scored_lsoas

    names = ["Growth plan (v2) ☂.yaml", "..yaml", "x" * 200 + ".yaml", "../../evil.yaml", "CON.yaml"]
    ids = [parse_profile_text("indicators: [census21_inactive_pct]\n", n).id for n in names]
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", i) for i in ids) and ids == [safe_id(i) for i in ids]
    areas = scored_lsoas(store)
    for ident in ids:
        stem = f"wardscope_{ident}_lsoa_luton"
        for fmt in ("gpkg", "shp", "geojson", "csv"):
            made = export_bytes(areas, ["score", "band"], "top:3", fmt, stem=stem, provenance=PROVENANCE)
            assert made.filename.startswith(stem) and len(made.data) > 0
            if made.filename.endswith(".zip"):
                assert zipfile.ZipFile(BytesIO(made.data)).testzip() is None


def test_shipped_profiles_are_read_once_and_again_when_the_file_changes(tmp_path, monkeypatch):
    import os
    import shutil

    import layers.profiles as profiles

    for name in profiles.SHIPPED.values():
        shutil.copy(profiles.PROFILE_DIR / name, tmp_path / name)
    monkeypatch.setattr(profiles, "PROFILE_DIR", tmp_path)
    first = load_profile("neighbourhood")
    assert load_profile("neighbourhood") is first  # parsed once: pages ask for it several times a run
    path = tmp_path / profiles.SHIPPED["neighbourhood"]
    size = len(path.read_bytes())
    path.write_text(path.read_text(encoding="utf-8").replace(f"name: {first.name}", "name: " + "Edited by the admin"[:len(first.name)].ljust(len(first.name), ".")),
                    encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))  # a later write, whatever the clock
    assert load_profile("neighbourhood").name == "Edited by the admin"[:len(first.name)].ljust(len(first.name), ".")
    assert len(path.read_bytes()) == size  # same size: the modification time alone told the change
    path.unlink()
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile("neighbourhood")
