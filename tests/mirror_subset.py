"""Build a small mirror directory from the real one, for a few districts.

Tests install from it to check the install path end to end (atomic swap,
bad files) in seconds. Nothing here is committed: it is built at test time
from ../shared/data.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

# files whose rows are filtered by LSOA 2021 code column
LSOA21_FILES = {
    "lookups/lsoa21_ward24_lad24_ew.csv": "LSOA21CD",
    "lookups/lsoa21_population_weighted_centroids.csv": "LSOA21CD",
    "lookups/lsoa21_rural_urban_2021.csv": "LSOA21CD",
}


def _filter_geojson(src: Path, dst: Path, field: str, keep: set[str]) -> None:
    data = json.loads(src.read_text(encoding="utf-8"))
    data["features"] = [f for f in data["features"] if f["properties"][field] in keep]
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(json.dumps(data), encoding="utf-8")


def _filter_csv(src: Path, dst: Path, column: str, keep: set[str]) -> None:
    frame = pd.read_csv(src, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    dst.parent.mkdir(parents=True, exist_ok=True)
    frame[frame[column].isin(keep)].to_csv(dst, index=False)


#: Registered extra filters: (relative path, function(src_root, dst_root, codes)) added by other modules.
EXTRA_FILTERS: list = []


def build_subset(src: Path, dst: Path, lad_codes: list[str]) -> dict[str, set[str]]:
    """Write a mirror of ``lad_codes`` only into ``dst``; returns the code sets used."""
    src, dst = Path(src), Path(dst)
    lookup = pd.read_csv(src / "lookups/lsoa21_ward24_lad24_ew.csv", dtype=str)
    lookup = lookup[lookup["LAD24CD"].isin(lad_codes)]
    lsoa21 = set(lookup["LSOA21CD"])
    change = pd.read_csv(src / "lookups/lsoa11_lsoa21_lad22_ew.csv", dtype=str)
    change = change[change["LSOA21CD"].isin(lsoa21)]
    lsoa11 = set(change["LSOA11CD"])
    wards = pd.read_csv(src / "lookups/ward_lad_dec2023_uk.csv", dtype=str, encoding="utf-8-sig")
    wards = set(wards.loc[wards["LAD23CD"].isin(lad_codes), "WD23CD"])
    codes = {"lad": set(lad_codes), "lsoa": lsoa21, "lsoa11": lsoa11, "ward": wards}

    _filter_geojson(src / "boundaries/lad_may2024_uk_buc.geojson", dst / "boundaries/lad_may2024_uk_buc.geojson", "LAD24CD", codes["lad"])
    _filter_geojson(src / "boundaries/wards_dec2023_uk_bsc.geojson", dst / "boundaries/wards_dec2023_uk_bsc.geojson", "WD23CD", wards)
    _filter_geojson(src / "boundaries/lsoa_2021_ew_bsc.geojson", dst / "boundaries/lsoa_2021_ew_bsc.geojson", "LSOA21CD", lsoa21)
    _filter_geojson(src / "boundaries/lsoa_2011_ew_bsc.geojson", dst / "boundaries/lsoa_2011_ew_bsc.geojson", "LSOA11CD", lsoa11)
    for rel, column in LSOA21_FILES.items():
        _filter_csv(src / rel, dst / rel, column, lsoa21)
    _filter_csv(src / "lookups/lsoa11_lsoa21_lad22_ew.csv", dst / "lookups/lsoa11_lsoa21_lad22_ew.csv", "LSOA21CD", lsoa21)
    _filter_csv(src / "lookups/ward_lad_dec2023_uk.csv", dst / "lookups/ward_lad_dec2023_uk.csv", "LAD23CD", codes["lad"])
    for rel in ("places/uk_railway_stations.csv", "places/employment_sites_named_in_plans.csv"):
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / rel, dst / rel)
    for extra in EXTRA_FILTERS:
        extra(src, dst, codes)
    return codes


# --- indicator files (layers/sources.yaml) -----------------------------------------------------------

def _filter_lines(src: Path, dst: Path, keep: set[str], start: int = 0) -> None:
    """Copy the header and the lines whose 9-character code at ``start`` is in ``keep``, byte for byte."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        fout.write(fin.readline())
        for line in fin:
            if line[start:start + 9].decode("ascii", "replace") in keep:
                fout.write(line)


def _indicator_files(src: Path, dst: Path, codes: dict[str, set[str]]) -> None:
    ind = "indicators"
    lookup = pd.read_csv(src / ind / "oa21_lsoa21_lookup.csv", dtype=str, usecols=["OA21CD", "LSOA21CD"])
    oas = set(lookup.loc[lookup["LSOA21CD"].isin(codes["lsoa"]), "OA21CD"])
    codes["oa"] = oas
    _filter_lines(src / ind / "oa21_lsoa21_lookup.csv", dst / ind / "oa21_lsoa21_lookup.csv", codes["lsoa"], start=10)
    folder = src / ind / "census2021_oa_percentages"
    for path in folder.glob("census2021_oa_*.csv"):
        out = dst / ind / "census2021_oa_percentages" / path.name
        if path.name == "census2021_oa_topics.csv":
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, out)
        else:
            _filter_lines(path, out, oas)
    for name in ("census2021_disability_lsoa21.csv", "census2021_household_deprivation_lsoa21.csv",
                 "census2021_population_age_lsoa21.csv", "imd2025_lsoa21.csv", "imd2025_lsoa21_indicators.csv"):
        _filter_lines(src / ind / name, dst / ind / name, codes["lsoa"])
    for name in ("imd2019_lsoa11_file1.csv", "imd2019_lsoa11_file2.csv", "imd2019_lsoa11_file6_population_denominators.csv"):
        # these start with a UTF-8 BOM (3 bytes) only on the header line, so data lines start at 0
        _filter_lines(src / ind / name, dst / ind / name, codes["lsoa11"])


EXTRA_FILTERS.append(_indicator_files)


# --- labour_market/ (ONS Explore Local Statistics files) ------------------------------------------------

DISTRICT_PREFIXES = (b"E06", b"E07", b"E08", b"E09")


def _labour_market_files(src: Path, dst: Path, codes: dict[str, set[str]]) -> None:
    """Every row of the areas above districts (and outside England), and the chosen districts' rows, byte for byte."""
    folder = src / "labour_market"
    out = dst / "labour_market"
    out.mkdir(parents=True, exist_ok=True)
    keep = {c.encode("ascii") for c in codes["lad"]}
    for path in folder.iterdir():
        if path.suffix != ".csv":
            shutil.copy(path, out / path.name)
            continue
        with open(path, "rb") as fin, open(out / path.name, "wb") as fout:
            fout.write(fin.readline())
            for line in fin:
                if not line.startswith(DISTRICT_PREFIXES) or line[:9] in keep:
                    fout.write(line)


EXTRA_FILTERS.append(_labour_market_files)
