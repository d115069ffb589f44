"""Installing the indicator layers from a mirror: what is installed, and bad files refused with the store unchanged."""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest

from geo.errors import GSSCodeError, MissingSourceFile, SourceFileError
from geo.store import Store
from layers.indicators import available, indicator_table, installed_catalogue, metadata, status
from layers.install import install

MINI = ["E06000032", "E07000237", "E06000018"]


@pytest.fixture(scope="module")
def installed(mini_mirror, tmp_path_factory):
    root = tmp_path_factory.mktemp("indicator_store")
    manifest = install(mini_mirror, root=root)
    return root, manifest


def test_mirror_install_has_every_offline_layer(installed):
    root, manifest = installed
    store = Store(root)
    for name in ("census_lsoa", "iod2025_lsoa", "iod2019_lsoa", "iod2019_lsoa11", "index_ward", "installed"):
        assert f"indicators/{name}" in manifest["counts"]
    for ds in ("census21_oa_economic_activity", "census21_disability_lsoa", "imd2025_lsoa21", "imd2019_domains"):
        assert "Open Government Licence" in manifest["datasets"][ds]["attribution"]
    lsoa = indicator_table("lsoa", store=store)
    assert set(lsoa["lad_code"]) == set(MINI) and lsoa["census21_inactive_pct"].notna().all()
    catalogue = installed_catalogue(store).set_index("id")
    assert bool(catalogue.at["census21_inactive_pct", "estimate"]) and not bool(catalogue.at["census21_disabled_pct", "estimate"])
    assert "Census 2021 usual residents" in catalogue.at["imd2025_score", "note"]


def test_monthly_claimant_and_nomis_aps_show_as_not_installed_offline(installed):
    root, manifest = installed
    store = Store(root)
    notes = " ".join(manifest["notes"])
    assert "claimant count not installed" in notes and "python cli.py install --nomis" in notes
    assert "To install just it: python cli.py install --only claimant" in notes
    # one note for the APS: what the Explore Local Statistics files gave, and what needs the Nomis API
    aps_notes = [n for n in manifest["notes"] if "Annual Population Survey" in n]
    assert len(aps_notes) == 1 and aps_notes[0].startswith("Annual Population Survey partly installed: employment and "
                                                           "inactivity rates (aged 16-64) for districts")
    assert "long-term sickness" in aps_notes[0] and "python cli.py install --nomis" in aps_notes[0]
    assert "python cli.py install --only aps" in aps_notes[0]
    rows = status(store).set_index("id")
    assert rows.at["claimant_rate", "installed"].startswith("not installed") and "--nomis" in rows.at["claimant_rate", "installed"]
    assert rows.at["claimant_rate", "installed"].endswith("to install just it: python cli.py install --only claimant")
    assert rows.at["aps_inactive_long_term_sick_pct", "installed"].startswith("not installed")
    assert rows.at["census21_inactive_pct", "installed"] == "yes"
    # the APS rates and the annual claimant rate come from the mirror's Explore Local Statistics files
    assert rows.at["aps_inactivity_rate", "installed"] == "yes" and rows.at["claimant_rate_annual", "installed"] == "yes"
    lad = set(available("lad", store))
    assert not lad & {"claimant_rate", "claimant_count", "aps_inactive_long_term_sick_pct"}
    meta = metadata(["census21_inactive_pct", "claimant_rate"], store).set_index("id")
    assert meta.at["census21_inactive_pct", "installed"] and meta.at["census21_inactive_pct", "installed_estimate"]
    assert "output-area percentages" in meta.at["census21_inactive_pct", "method"]
    assert not meta.at["claimant_rate", "installed"] and "rounded" in meta.at["claimant_rate", "caveat"]


def _edit_line(path, line_no, fn):
    lines = path.read_bytes().split(b"\n")
    lines[line_no - 1] = fn(lines[line_no - 1].decode("utf-8")).encode("utf-8")
    path.write_bytes(b"\n".join(lines))


def _cells(text, index, value):
    cells = text.split(",")
    cells[index] = value
    return ",".join(cells)


#: Bad files of Census 2021, an optional part: the rest installs, Census is kept from the previous store.
CENSUS_CASES = [
    ("missing OA percentages", "indicators/census2021_oa_percentages/census2021_oa_economic_activity_status_4a.csv",
     lambda p: p.unlink(), MissingSourceFile, r"census2021_oa_economic_activity_status_4a.csv: Census 2021 economic activity.*Office for National Statistics"),
    ("text in a percentage", "indicators/census2021_oa_percentages/census2021_oa_economic_activity_status_4a.csv",
     lambda p: _edit_line(p, 5, lambda t: _cells(t, 3, "n/a")), SourceFileError,
     r"economic_activity_status_4a.csv: .*row 5 .*'n/a'"),
    ("percentage over 100", "indicators/census2021_oa_percentages/census2021_oa_health_in_general_4a.csv",
     lambda p: _edit_line(p, 7, lambda t: _cells(t, 3, "140.2")), SourceFileError,
     r"health_in_general_4a.csv: row 7 column 'Bad or very bad health': 140.2 is not a possible percentage"),
    ("negative count", "indicators/census2021_disability_lsoa21.csv",
     lambda p: _edit_line(p, 4, lambda t: _cells(t, 2, "-12")), SourceFileError,
     r"census2021_disability_lsoa21.csv: row 4 column 'n': -12 is negative"),
    ("numerator above denominator", "indicators/census2021_household_deprivation_lsoa21.csv",
     lambda p: _edit_line(p, 3, lambda t: _cells(t, 3, "99999")), SourceFileError,
     r"census2021_household_deprivation_lsoa21.csv: row 3 .*numerator 99999 is above its denominator"),
    ("malformed code", "indicators/oa21_lsoa21_lookup.csv",
     lambda p: _edit_line(p, 9, lambda t: _cells(t, 0, "E00X")), GSSCodeError,
     r"oa21_lsoa21_lookup.csv: row 9: 'E00X' is not an output area code"),
]
#: Bad files of required datasets: nothing changes.
CASES = [
    ("unknown LSOA code", "indicators/imd2025_lsoa21.csv",
     lambda p: _edit_line(p, 2, lambda t: _cells(t, 0, "E01999999")), GSSCodeError,
     r"imd2025_lsoa21.csv: row 2: E01999999 is not an LSOA 2021 code in the store"),
    ("decile that contradicts its rank", "indicators/imd2025_lsoa21.csv",
     lambda p: _edit_line(p, 6, lambda t: _cells(t, 1, "10" if t.split(",")[1] != "10" else "1")), SourceFileError,
     r"imd2025_lsoa21.csv: row 6 \(E01\d+\): decile .* does not match rank"),
    ("IoD 2019 files that disagree", "indicators/imd2019_lsoa11_file1.csv",
     lambda p: _edit_line(p, 3, lambda t: t.rsplit(",", 1)[0] + ("," + ("2" if t.rsplit(",", 1)[1].strip() != "2" else "3"))),
     SourceFileError, r"imd2019_lsoa11_file1.csv: row 3 \(E01\d+\): IMD rank/decile .* differ from the domains file"),
    ("truncated IoD 2019 file", "indicators/imd2019_lsoa11_file2.csv",
     lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2].rsplit(b",", 3)[0]), SourceFileError,
     r"imd2019_lsoa11_file2.csv: row \d+ has no value"),
    ("missing column", "indicators/imd2025_lsoa21.csv",
     lambda p: p.write_text(p.read_text().replace("Crime_decile", "Crime_dec", 1)), SourceFileError,
     r"imd2025_lsoa21.csv: missing column 'Crime_decile'"),
]


def refused_unchanged(root, mini_mirror, tmp_path, rel, corrupt, error, message) -> None:
    """Install a copy of the mini mirror with ``corrupt(file)`` applied: one-line ``error``, store at ``root`` unchanged."""
    bad = tmp_path / "mirror"
    shutil.copytree(mini_mirror, bad)
    corrupt(bad / rel)
    pointer = (root / "store.json").read_bytes()
    generations = sorted(p.name for p in (root / "indicators").iterdir())
    with pytest.raises(error, match=message) as err:
        install(bad, root=root)
    assert "\n" not in str(err.value)
    assert (root / "store.json").read_bytes() == pointer
    assert sorted(p.name for p in (root / "indicators").iterdir()) == generations
    assert len(indicator_table("lad", store=Store(root))) == 3


def kept_after_bad_file(root, mini_mirror, tmp_path, rel, corrupt, message, part, title, tables):
    """Install from a mirror whose ``rel`` is corrupted over a copy of the store at ``root``.

    Checks the optional ``part`` kept its previous ``tables`` whole, the rest was installed and swapped in, and
    the note and not-installed row carry the reader's one-line ``message``; returns (manifest, new store).
    """
    store = tmp_path / "store"
    shutil.copytree(root, store)
    bad = tmp_path / "mirror"
    shutil.copytree(mini_mirror, bad)
    corrupt(bad / rel)
    before = Store(store)
    manifest = install(bad, root=store)
    after = Store(store)
    assert after.generation == manifest["generation"] != before.generation  # the rest was installed and swapped in
    for table in tables:
        pd.testing.assert_frame_equal(after.table("indicators", table), before.table("indicators", table))
    note = next(n for n in manifest["notes"] if n.startswith(f"{title}: kept from the install of"))
    assert re.search(message, note) and "\n" not in note
    assert note.endswith(f"To retry just it: python cli.py install --only {part}")
    row = after.table("indicators", "not_installed").set_index("part").loc[part]
    assert row["status"].startswith("kept from") and re.search(message, row["why"])
    return manifest, after


@pytest.mark.parametrize("label, rel, corrupt, error, message", CASES, ids=[c[0] for c in CASES])
def test_bad_source_files_are_refused_and_the_store_is_unchanged(installed, mini_mirror, tmp_path, label, rel, corrupt,
                                                                   error, message):
    refused_unchanged(installed[0], mini_mirror, tmp_path, rel, corrupt, error, message)


@pytest.mark.parametrize("label, rel, corrupt, error, message", CENSUS_CASES, ids=[c[0] for c in CENSUS_CASES])
def test_a_bad_census_file_keeps_the_previous_census_and_installs_the_rest(installed, mini_mirror, tmp_path, label, rel,
                                                                           corrupt, error, message):
    root, first = installed
    manifest, after = kept_after_bad_file(root, mini_mirror, tmp_path, rel, corrupt, message, "census", "Census 2021",
                                          ("census_lsoa",))
    assert manifest["datasets"]["census21_disability_lsoa"] == first["datasets"]["census21_disability_lsoa"]
    assert status(after).set_index("id").at["census21_inactive_pct", "installed"] == "yes"


def test_without_a_previous_store_a_bad_census_file_stops_at_what_needs_it(mini_mirror, tmp_path):
    """The mirror's IoD 2025 copy is weighted by Census 2021: without either, that required layer says why."""
    bad = tmp_path / "mirror"
    shutil.copytree(mini_mirror, bad)
    _edit_line(bad / "indicators/census2021_disability_lsoa21.csv", 4, lambda t: _cells(t, 2, "-12"))
    with pytest.raises(SourceFileError, match=r"IoD 2025: no population to weight scores with.*Census 2021 is not "
                                              r"installed \(.*census2021_disability_lsoa21.csv: row 4 .*-12 is negative"):
        install(bad, root=tmp_path / "store")
    assert not (tmp_path / "store" / "store.json").exists()


def test_welsh_rows_in_census_files_are_ignored_not_errors(mini_mirror, tmp_path):
    bad = tmp_path / "mirror"
    shutil.copytree(mini_mirror, bad)
    path = bad / "indicators/census2021_disability_lsoa21.csv"
    with open(path, "a") as handle:
        handle.write("W01000001,Disabled under the Equality Act,300,1500,0.2\n")
    manifest = install(bad, root=tmp_path / "store")
    assert manifest["counts"]["indicators/census_lsoa"] == 368
    table = pd.read_parquet(next((tmp_path / "store" / "indicators").glob("*/census_lsoa.parquet")))
    assert not table["code"].str.startswith("W").any()
