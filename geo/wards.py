"""The ward layer: current (2024) electoral wards with their vintage recorded.

ONS publishes LSOA->ward best-fit lookups for 2024 wards (WD24) but the newest
ward boundaries in the mirror are December 2023 (WD23). Most ward codes are
the same in both. Where districts were re-warded in 2024 (e.g. Redditch and
Worcester) the WD24 wards have no boundary file here, so their outline is the
union of their best-fit LSOAs (an approximation, flagged). Nothing is dropped:

* WD24 wards whose code has a Dec 2023 boundary use that boundary;
* WD24 wards with no boundary are drawn from their LSOAs;
* Dec 2023 wards that are still current but have no best-fit LSOA (City of
  London, Isles of Scilly, a few others) are kept, with ``n_lsoa = 0``;
* Dec 2023 wards replaced in 2024 go to a separate *superseded* layer.

All geometry is EPSG:27700.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo.boundaries import to_multipolygons
from geo.coverage_union import dissolve_coverage

SOURCE_BOUNDARY = "ONS Wards (December 2023) Boundaries BSC"
SOURCE_DISSOLVED = "union of best-fit LSOA 2021 outlines (approximate)"
ASSIGN_LOOKUP = "ONS LSOA (2021) to Ward (2024) best-fit lookup"
ASSIGN_NONE = "none: no LSOA's population-weighted centroid falls in this ward"


def build_ward_layers(
    ward23: gpd.GeoDataFrame,
    ward23_lad: pd.DataFrame,
    lsoa: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Build the current ward layer and the superseded Dec 2023 wards.

    Parameters
    ----------
    ward23 : Dec 2023 ward boundaries (``code``, ``name``, geometry; EPSG:27700).
    ward23_lad : Dec 2023 ward -> district lookup (``WD23CD``, ``LAD23CD``, ``LAD23NM``).
    lsoa : LSOA 2021 layer with its best-fit ``ward_code``, ``ward_name``,
        ``lad_code``, ``lad_name`` (WD24/LAD24) and geometry (EPSG:27700).

    Returns
    -------
    (wards, superseded): GeoDataFrames with ``code``, ``name``, ``lad_code``,
    ``lad_name``, ``ward_vintage``, ``geometry_source``, ``lsoa_assignment``,
    ``n_lsoa`` and geometry.
    """
    counts = lsoa.groupby("ward_code").size()
    wd24 = (lsoa[["ward_code", "ward_name", "lad_code", "lad_name"]].drop_duplicates("ward_code")
            .rename(columns={"ward_code": "code", "ward_name": "name"}).set_index("code"))
    w23 = ward23.set_index("code")
    lad23 = ward23_lad.set_index("WD23CD")[["LAD23CD", "LAD23NM"]]

    shared = wd24.index.intersection(w23.index)
    new = wd24.index.difference(w23.index)
    rewarded_lads = set(wd24.loc[new, "lad_code"])

    parts = []
    if len(shared):
        keep = gpd.GeoDataFrame(wd24.loc[shared], geometry=w23.loc[shared].geometry, crs=ward23.crs)
        keep["ward_vintage"] = "2024"
        keep["geometry_source"] = SOURCE_BOUNDARY
        keep["lsoa_assignment"] = ASSIGN_LOOKUP
        parts.append(keep)
    if len(new):
        members = lsoa[lsoa["ward_code"].isin(new)]
        dissolved = dissolve_coverage(members[["ward_code", "geometry"]], "ward_code").set_index("ward_code")
        drawn = gpd.GeoDataFrame(wd24.loc[new], geometry=dissolved.geometry.reindex(new), crs=lsoa.crs)
        drawn["ward_vintage"] = "2024"
        drawn["geometry_source"] = SOURCE_DISSOLVED
        drawn["lsoa_assignment"] = ASSIGN_LOOKUP
        parts.append(drawn)

    unused = w23.index.difference(wd24.index)
    lad_of = lad23.reindex(unused)
    current = unused[~lad_of["LAD23CD"].isin(rewarded_lads).to_numpy()]
    superseded = unused.difference(current)
    if len(current):
        orphan = gpd.GeoDataFrame(
            {"name": w23.loc[current, "name"], "lad_code": lad23.loc[current, "LAD23CD"],
             "lad_name": lad23.loc[current, "LAD23NM"]},
            geometry=w23.loc[current].geometry, crs=ward23.crs)
        orphan["ward_vintage"] = "2023"
        orphan["geometry_source"] = SOURCE_BOUNDARY
        orphan["lsoa_assignment"] = ASSIGN_NONE
        parts.append(orphan)

    wards = pd.concat(parts)
    wards.index.name = "code"
    wards = wards.reset_index()
    wards["n_lsoa"] = wards["code"].map(counts).fillna(0).astype("int32")
    wards = gpd.GeoDataFrame(wards, geometry="geometry", crs=lsoa.crs)

    old = gpd.GeoDataFrame(
        {"code": superseded, "name": w23.loc[superseded, "name"].to_numpy(),
         "lad_code": lad23.loc[superseded, "LAD23CD"].to_numpy(),
         "lad_name": lad23.loc[superseded, "LAD23NM"].to_numpy()},
        geometry=w23.loc[superseded].geometry.to_numpy(), crs=ward23.crs)
    old["ward_vintage"] = "2023"
    old["geometry_source"] = SOURCE_BOUNDARY
    old["lsoa_assignment"] = "superseded: district re-warded in 2024; LSOAs belong to the 2024 wards"
    old["n_lsoa"] = 0
    columns = ["code", "name", "lad_code", "lad_name", "ward_vintage", "geometry_source", "lsoa_assignment", "n_lsoa", "geometry"]
    return (to_multipolygons(wards[columns]).sort_values(["lad_code", "code"]).reset_index(drop=True),
            to_multipolygons(old[columns]).sort_values(["lad_code", "code"]).reset_index(drop=True))
