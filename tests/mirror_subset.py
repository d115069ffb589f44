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
