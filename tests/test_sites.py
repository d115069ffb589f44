"""Sites files: every accepted location form, every reported problem, editing and atomic saving."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geo import postcodes
from geo.errors import SourceFileError, WardscopeError
from geo.employment_sites import SitesError, add_site, read_sites, remove_site, sample_sites, save_sites, update_site

SAMPLE = "places/employment_sites_named_in_plans.csv"


def write(tmp_path, text, name="sites.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_file_loads_in_bng_with_stable_ids(mirror):
    sites = read_sites(mirror / SAMPLE)
    assert sites.crs.to_epsg() == 27700 and len(sites) == 11
    assert sites["site_id"].is_unique
    uni = sites.set_index("site_id").loc["universal_bedford"]
    assert uni["jobs"] == 8000 and uni["location_from"] == "lonlat"
    # Kempston Hardwick lies south-west of Bedford: roughly E 503,000 N 244,800.
    assert abs(uni.geometry.x - 503_067) < 50 and abs(uni.geometry.y - 244_805) < 50
    assert np.isnan(sites.set_index("site_id").loc["luton_airport", "jobs"])


def test_store_sample_matches_the_file(store, mirror):
    from_store = sample_sites(store).set_index("site_id")
    from_file = read_sites(mirror / SAMPLE).set_index("site_id")
    assert list(from_store.index) == list(from_file.index)
    assert np.allclose(from_store.geometry.x, from_file.geometry.x, atol=0.5)


def test_three_location_forms_agree(tmp_path):
    # LU1 1AA in the ONS Postcode Directory is E 508653, N 221332.
    path = write(tmp_path, "name,longitude,latitude,easting,northing,postcode,jobs,type\n"
                           "By postcode,,,,,lu1 1aa,\"1,200\",office\n"
                           "By grid,,,508653,221332,,,\n"
                           "By degrees,-0.4234,51.8793,,,,,\n")
    sites = read_sites(path)
    assert list(sites["location_from"]) == ["postcode", "bng", "lonlat"]
    assert sites.loc[0, "postcode"] == "LU1 1AA" and sites.loc[0, "jobs"] == 1200 and sites.loc[0, "type"] == "office"
    assert sites.geometry.iloc[0].distance(sites.geometry.iloc[1]) < 1
    assert sites.geometry.iloc[0].distance(sites.geometry.iloc[2]) < 100
    assert list(sites["site_id"]) == ["by_postcode", "by_grid", "by_degrees"]


def test_every_bad_row_is_reported_with_its_row_and_name(tmp_path):
    path = write(tmp_path, "name,latitude,longitude,postcode,jobs\n"
                           "Swapped,-0.497,52.092,,\n"          # row 2
                           "Paris,48.85,2.35,,\n"                 # row 3
                           "Dublin,53.35,-6.26,,\n"               # row 4
                           "Nowhere,,,ZZ9 9ZZ,\n"                 # row 5
                           "Typo,,,LU1 1A,\n"                     # row 6
                           "Belfast,,,BT1 1AA,\n"                 # row 7
                           "Good,52.0,-0.4,,lots\n"               # row 8
                           "swapped,52.0,-0.4,,\n"                # row 9 duplicate name (case-insensitive)
                           "Metres,244800,503000,,\n")            # row 10
    with pytest.raises(SitesError) as info:
        read_sites(path)
    err = info.value
    assert str(err).count("\n") == 0 and str(err).startswith(f"{path}: 9 site rows cannot be used: row 2 'Swapped'")
    by_row = {p["row"]: p["problem"] for p in err.problems}
    assert "look swapped" in by_row["row 2"]
    assert "outside Great Britain" in by_row["row 3"] and "outside Great Britain" in by_row["row 4"]
    assert "ZZ9 9ZZ is not in the postcode directory" in by_row["row 5"]
    assert "not a valid postcode" in by_row["row 6"]
    assert "Northern Ireland" in by_row["row 7"]
    assert "'lots' is not a count of jobs" in by_row["row 8"]
    assert "duplicate name (also row 2)" in by_row["row 9"]
    assert "not degrees" in by_row["row 10"]


def test_skip_keeps_good_rows_and_lists_problems(tmp_path):
    path = write(tmp_path, "name,latitude,longitude\nGood,52.0,-0.4\nBad,-0.4,52.0\n")
    sites = read_sites(path, on_error="skip")
    assert list(sites["name"]) == ["Good"]
    assert [p["row"] for p in sites.attrs["problems"]] == ["row 3"]


def test_swapped_eastings_and_missing_columns(tmp_path):
    with pytest.raises(SitesError, match="easting and northing look swapped"):
        read_sites(write(tmp_path, "name,easting,northing\nX,903000,244800\n"))
    with pytest.raises(SourceFileError, match="no location columns"):
        read_sites(write(tmp_path, "name,town\nX,Luton\n"))
    with pytest.raises(SourceFileError, match="no name column"):
        read_sites(write(tmp_path, "title,latitude,longitude\nX,52,-0.4\n"))
    with pytest.raises(SitesError, match="duplicate id 'a'"):
        read_sites(write(tmp_path, "id,name,latitude,longitude\na,X,52,-0.4\na,Y,52,-0.5\n"))


def test_postcode_lookup_statuses():
    out = postcodes.lookup(["LU1 1AA", "zz99zz", "nonsense", "BT1 1AA", ""])
    assert list(out["status"]) == ["found", "unknown", "invalid", "northern_ireland", "invalid"]
    assert out.loc[0, "easting"] == 508653 and out.loc[0, "northing"] == 221332
    assert out.loc[1:, "easting"].isna().all()


def test_geojson_sites_wgs84_and_round_trip(tmp_path):
    gj = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Airport", "jobs": 500},
         "geometry": {"type": "Point", "coordinates": [-0.3683, 51.8747]}},
        {"type": "Feature", "properties": {"name": "Swapped"},
         "geometry": {"type": "Point", "coordinates": [51.8747, -0.3683]}}]}
    path = write(tmp_path, json.dumps(gj), "sites.geojson")
    with pytest.raises(SitesError, match=r"feature 2 'Swapped': latitude and longitude look swapped"):
        read_sites(path)
    good = read_sites(path, on_error="skip")
    out = save_sites(good, tmp_path / "saved.geojson")
    again = read_sites(out)
    assert again.loc[0, "name"] == "Airport" and again.loc[0, "jobs"] == 500
    assert again.geometry.iloc[0].distance(good.geometry.iloc[0]) < 0.5


def test_edit_and_atomic_save_keeps_previous(tmp_path, mirror):
    sites = read_sites(mirror / SAMPLE)
    path = tmp_path / "my_sites.csv"
    save_sites(sites, path)
    first = path.read_text()
    more = add_site(sites, "New depot", longitude=-0.45, latitude=51.90, jobs=300)
    assert len(more) == 12 and more.iloc[-1]["site_id"] == "new_depot" and more.iloc[-1]["jobs"] == 300
    with pytest.raises(SitesError, match="duplicate name"):
        add_site(more, "new depot", longitude=-0.45, latitude=51.90)
    with pytest.raises(SitesError, match="outside Great Britain"):
        add_site(more, "Calais", longitude=1.85, latitude=50.95)
    moved = update_site(more, "new_depot", jobs=450, postcode="LU1 1AA")
    row = moved.set_index("site_id").loc["new_depot"]
    assert row["jobs"] == 450 and abs(row.geometry.x - 508653) < 1
    fewer = remove_site(moved, "luton_airport")
    assert "luton_airport" not in set(fewer["site_id"])
    save_sites(fewer, path)
    assert (tmp_path / "my_sites.csv.prev").read_text() == first
    back = read_sites(path)
    assert list(back["site_id"]) == list(fewer["site_id"])
    assert np.allclose(back.geometry.x, fewer.geometry.x, atol=0.5)
    with pytest.raises(WardscopeError):
        save_sites(fewer, tmp_path / "sites.xlsx")
    assert not (tmp_path / "sites.xlsx").exists()


# -- numbers that cannot be right (issue 12, item 6) -------------------------------------------------------

@pytest.mark.parametrize("row, problem", [
    ("B,NaN,51.88", "longitude 'NaN' is not a number"),
    ("B,-0.42,nan", "latitude 'nan' is not a number"),
    ("B,,NaN", "latitude 'NaN' is not a number"),
    ("B,inf,-Infinity", "longitude 'inf' and latitude '-Infinity' are not numbers"),
])
def test_a_coordinate_that_is_not_a_number_is_named_not_called_missing(tmp_path, row, problem):
    with pytest.raises(SitesError) as err:
        read_sites(write(tmp_path, f"name,longitude,latitude\nA,-0.42,51.88\n{row}\n"))
    assert [(p["row"], p["problem"]) for p in err.value.problems] == [("row 3", problem)]


def test_a_nan_point_in_a_geojson_sites_file_is_not_a_number(tmp_path):
    features = [{"type": "Feature", "properties": {"name": n}, "geometry": g} for n, g in (
        ("A", {"type": "Point", "coordinates": [-0.42, 51.88]}), ("B", "NAN1"), ("C", "NAN2"), ("D", None))]
    text = json.dumps({"type": "FeatureCollection", "features": features})
    text = text.replace('"NAN1"', '{"type": "Point", "coordinates": [NaN, 51.88]}')
    text = text.replace('"NAN2"', '{"type": "Point", "coordinates": [NaN, NaN]}')
    with pytest.raises(SitesError) as err:
        read_sites(write(tmp_path, text, "sites.geojson"))
    assert [(p["row"], p["problem"]) for p in err.value.problems] == [
        ("feature 2", "longitude 'nan' is not a number"),
        ("feature 3", "longitude 'nan' and latitude 'nan' are not numbers"),
        ("feature 4", "has no location (longitude/latitude, easting/northing or postcode)")]


def test_a_semicolon_sites_file_with_decimal_commas_is_read_where_it_is(tmp_path):
    """What a continental Excel writes; the same file as a UK one must give the same points."""
    semicolons = read_sites(write(tmp_path, "name;jobs;latitude;longitude\nHub A;8.000;51,8793;-0,4234\n", "a.csv"))
    uk = read_sites(write(tmp_path, "name,jobs,latitude,longitude\nHub A,\"8,000\",51.8793,-0.4234\n", "b.csv"))
    assert semicolons.loc[0, "jobs"] == uk.loc[0, "jobs"] == 8000
    assert semicolons.geometry.iloc[0].distance(uk.geometry.iloc[0]) == 0
    assert abs(uk.geometry.iloc[0].x - 508_650) < 100 and abs(uk.geometry.iloc[0].y - 221_330) < 100  # Luton


def test_sites_files_come_through_the_upload_gate(tmp_path):
    """Windows-1252 is read, a mixed file refused naming its lines, and rows are named by their file line."""
    path = tmp_path / "sites.csv"
    path.write_bytes("name,latitude,longitude\nCafé,51.88,-0.42\n".encode("cp1252"))
    assert read_sites(path).loc[0, "name"] == "Café"
    path.write_bytes("name,latitude,longitude\nCafé,51.88,-0.42\n".encode() + "£ shop,51.9,-0.4\n".encode("cp1252"))
    with pytest.raises(WardscopeError, match="sites.csv: mixes UTF-8 and Windows-1252 text: line 2 is UTF-8"):
        read_sites(path)
    with pytest.raises(SitesError, match=r"row 5 'B': longitude 'NaN' is not a number"):
        read_sites(write(tmp_path, "name,latitude,longitude\nA,51.88,-0.42\n\n\nB,51.9,NaN\n"))


def test_cli_access_refuses_a_nan_site_in_one_line_and_writes_nothing(tmp_path, store):
    import os
    import subprocess
    import sys
    from pathlib import Path

    sites = write(tmp_path, "name,longitude,latitude\nHub A,-0.42,51.88\nHub B,NaN,51.88\n")
    out = tmp_path / "minutes.csv"
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, str(root / "cli.py"), "access", "--sites", str(sites), "--mode", "walk",
                           "--area", "Luton", "--out", str(out)], capture_output=True, text=True, cwd=root,
                          env={**os.environ, "WARDSCOPE_SESSIONS": str(tmp_path / "s")}, timeout=300)
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"error: {sites}: 1 site row cannot be used: row 3 'Hub B': longitude 'NaN' is "
                                  f"not a number")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s", "sites.csv"] and list((tmp_path / "s").iterdir()) == []
