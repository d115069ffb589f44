"""Users' own indicators end to end on the real store: rows checked one by one, LSOA 2011 codes, save, map, score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cli
from layers.indicators import indicator_table
from layers.registry import load_registry
from layers.user_indicators import UserIndicatorError, indicators_dir, previous_user_rows, user_rows
from tasks import user_indicator
from tasks.user_indicator import UserIndicatorRequest

LUTON = "E06000032"


@pytest.fixture()
def user_home(tmp_path, monkeypatch):
    """A private user directory (saved indicators) with the real store."""
    monkeypatch.setenv("WARDSCOPE_USER", str(tmp_path / "user"))
    return tmp_path / "user"


def _luton_file(store):
    """Luton's LSOAs with a count each, plus ~10% bad rows of each kind; returns (csv bytes, good figures)."""
    lsoa = store.table("indicators", "index_lsoa", [LUTON])
    ward = store.table("indicators", "index_ward", [LUTON])["code"].iloc[0]
    codes = lsoa["code"].tolist()
    n_bad = max(1, len(codes) // 10 // 5)  # about 10% bad rows in all, spread over five kinds
    figures = {c: float(10 + i) for i, c in enumerate(codes)}
    suppressed = codes[:n_bad]
    not_number = codes[n_bad:2 * n_bad]
    lines = ["code,people"]
    for c in codes:
        cell = "*" if c in suppressed else ("lots" if c in not_number else f"{figures[c]:g}")
        lines.append(f"{c},{cell}")
    lines += [f"E0199999{i},5" for i in range(n_bad)]          # unknown code
    lines += [f"{ward},5"] * n_bad                             # a ward code in an LSOA file
    lines += [f"{c},999" for c in codes[-n_bad:]]              # duplicates (the first is kept)
    good = {c: v for c, v in figures.items() if c not in suppressed and c not in not_number}
    return ("\n".join(lines) + "\n").encode(), good, lsoa, {"suppressed": n_bad, "not_number": n_bad, "other": 3 * n_bad}


def test_a_file_with_one_bad_row_in_ten_is_saved_with_every_bad_row_listed_and_maps(store, user_home):
    data, good, lsoa, counts = _luton_file(store)
    request = UserIndicatorRequest("people.csv", data, "people_helped", "People helped", kind="count", value="people")
    result = user_indicator.run(request, store)
    problems = result.data
    assert len(problems) == counts["suppressed"] + counts["not_number"] + counts["other"]
    assert problems["problem"].str.contains("suppressed").sum() == counts["suppressed"]
    assert problems["problem"].str.contains("'lots' is not a number").sum() == counts["not_number"]
    assert problems["problem"].str.contains("appears again").sum() == counts["other"] // 3
    assert problems["problem"].str.contains("one level").sum() == counts["other"] // 3
    assert problems["problem"].str.contains("not an LSOA 2021 or 2011 code").sum() == counts["other"] // 3
    assert problems["row"].is_monotonic_increasing and (problems["row"] >= 2).all()
    assert load_registry()["people_helped"].levels == ["lsoa", "ward", "lad"]
    saved = user_rows("people_helped").set_index("code")["people_helped"]
    assert saved.isna().sum() == counts["suppressed"]  # suppressed is unknown, never 0

    wards = indicator_table("ward", [LUTON], ["people_helped"], store=store).set_index("code")["people_helped"]
    expected = lsoa.assign(v=lsoa["code"].map(good)).groupby("ward_code")["v"].sum(min_count=1)
    assert np.allclose(wards.loc[expected.index].to_numpy(), expected.to_numpy(), equal_nan=True)
    lad = indicator_table("lad", [LUTON], ["people_helped"], store=store).iloc[0]["people_helped"]
    assert lad == pytest.approx(sum(good.values()))


def test_a_file_of_only_bad_rows_is_refused_and_nothing_is_saved(store, user_home):
    lsoa = store.table("indicators", "index_lsoa", [LUTON])["code"]
    data = f"code,people\nE01999999,4\n{lsoa.iloc[0]},lots\n{lsoa.iloc[1]},*\nnot-a-code,3\n".encode()
    with pytest.raises(UserIndicatorError) as err:
        user_indicator.run(UserIndicatorRequest("bad.csv", data, "people_helped", "People", kind="count",
                                                value="people"), store)
    assert str(err.value).startswith("bad.csv: no valid row (4 problems), nothing was saved: row 2 (E01999999)")
    assert "people_helped" not in load_registry() and not indicators_dir().exists()


def test_lsoa_2011_codes_are_put_on_2021_lsoas(store, user_home):
    links = store.load("boundaries", "lsoa11_lsoa21")
    merged21 = links[links["change"] == "M"]["lsoa21_code"].iloc[0]
    parts = links[links["lsoa21_code"] == merged21]["lsoa11_code"].tolist()
    split11 = links[links["change"] == "S"]["lsoa11_code"].iloc[0]
    same = links[links["change"] == "U"]["lsoa11_code"].iloc[0]
    lines = ["code,numerator,denominator", f"{same},5,50", f"{split11},3,30"]
    lines += [f"{c},{i + 1},{10 * (i + 1)}" for i, c in enumerate(parts)]
    check = user_indicator.run(UserIndicatorRequest("old.csv", ("\n".join(lines) + "\n").encode(), "old_rate",
                                                    "Old rate"), store)
    assert check.level == "lsoa11" and len(parts) > 1
    rows = check.rows.set_index("code")
    assert rows.loc[merged21, "old_rate__num"] == sum(range(1, len(parts) + 1))
    assert rows.loc[same, "old_rate"] == pytest.approx(10.0)
    assert split11 not in rows.index
    (problem,) = check.data.itertuples(index=False)
    assert problem.row == 3 and "split into" in problem.problem and "give its 2021 codes" in problem.problem


def test_cli_saves_lists_and_scores_with_a_user_indicator_and_a_resave_keeps_the_previous(store, user_home,
                                                                                           tmp_path, capsys):
    lsoa = store.table("indicators", "index_lsoa", [LUTON])["code"]
    path = tmp_path / "visits.csv"
    rows = "".join(f"{c},{i % 40},{100 + i}\n" for i, c in enumerate(lsoa))
    path.write_text("code,visits,residents\n" + rows + "E01999999,1,2\n", encoding="utf-8")
    argv = ["indicators", "--user", str(path), "--id", "hub_visits", "--label", "Hub visits", "--kind", "rate",
            "--value", "visits", "--denominator", "residents", "--direction", "higher-is-better"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert f"row {len(lsoa) + 2} (E01999999): not an LSOA 2021 or 2011 code in the store" in out
    assert "saved: hub_visits (Hub visits), a rate given for lsoa, available at lsoa, ward, lad" in out
    assert load_registry()["hub_visits"].direction == -1

    assert cli.main(["indicators", "--list", "--format", "csv"]) == 0
    assert '"hub_visits","Hub visits"' in capsys.readouterr().out

    assert cli.main(["score", "--profile", "neighbourhood", "--area", "Luton", "--user-indicator", "hub_visits:2",
                     "--sensitivity", "0", "--format", "csv"]) == 0
    scored = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert "contrib__hub_visits" in scored.columns and len(scored) == len(lsoa)
    assert scored["contrib__hub_visits"].notna().all()

    path.write_text("code,visits,residents\n" + "".join(f"{c},1,10\n" for c in lsoa), encoding="utf-8")
    assert cli.main(argv) == 0
    assert (user_rows("hub_visits")["hub_visits"] == 10.0).all()
    previous = previous_user_rows("hub_visits")
    assert previous is not None and not (previous["hub_visits"] == 10.0).all()

    assert cli.main(["score", "--profile", "neighbourhood", "--area", "Luton", "--user-indicator", "nope"]) == 2
    assert "error: 'nope' is not a saved user indicator; saved: hub_visits" in capsys.readouterr().err


def test_the_cli_and_the_app_build_equal_requests(store, user_home, tmp_path):
    from app_pages import requests as page
    from tasks.inputs import area_of, profile_text
    from layers.profiles import load_profile

    path = tmp_path / "visits.csv"
    path.write_text("code,visits,residents\nE01015693,3,30\n", encoding="utf-8")
    args = cli.build_parser().parse_args(["indicators", "--user", str(path), "--id", "hub_visits", "--label",
                                          "Hub visits", "--kind", "rate", "--value", "visits", "--denominator",
                                          "residents", "--direction", "higher-is-better"])
    from_app = page.user_indicator_request(str(path), path.read_bytes(), "Hub visits", "rate", "visits", "residents",
                                           "higher-is-better")
    assert cli.user_indicator_request(args, store) == from_app and from_app.id == "hub_visits"
    args = cli.build_parser().parse_args(["score", "--profile", "neighbourhood", "--area", "Luton", "--level", "ward",
                                          "--user-indicator", "hub_visits:2"])
    app_score = page.score_request(area_of("Luton", store), "ward", load_profile("neighbourhood"), users=[("hub_visits", 2)])
    assert cli.score_request(args, store) == app_score and app_score.profile == profile_text("neighbourhood")


def test_a_merged_lsoa_missing_a_2011_part_is_unknown_and_listed(store, user_home):
    links = store.load("boundaries", "lsoa11_lsoa21")
    merged21 = links[links["change"] == "M"]["lsoa21_code"].iloc[0]
    parts = links[links["lsoa21_code"] == merged21]["lsoa11_code"].tolist()
    same = links[links["change"] == "U"]["lsoa11_code"].iloc[0]
    data = f"code,people\n{same},4\n{parts[0]},7\n".encode()
    result = user_indicator.run(UserIndicatorRequest("old.csv", data, "old_count", "Old count", kind="count",
                                                     value="people"), store)
    rows = result.rows.set_index("code")["old_count"]
    assert rows[same] == 4 and np.isnan(rows[merged21])  # unknown, not an undercount
    (problem,) = result.data.itertuples(index=False)
    assert problem.row == 3 and f"missing 2011 part {parts[1]}" in problem.problem
