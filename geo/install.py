"""Install steps for boundaries, geographic lookups and places.

Each step reads source files through a :class:`geo.sources.Source` (mirror
or online), checks them, and writes store tables through a
:class:`geo.store.StoreWriter`. Steps share already-built layers through an
:class:`InstallContext` so nothing is read twice. Indicator steps live in
``layers.install`` (with a context that adds their own tables) and run after these.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.boundaries import points_from_lonlat, read_boundary_file, to_multipolygons
from geo.config import default_mirror
from geo.coverage_union import dissolve_coverage
from geo.errors import GSSCodeError, SourceFileError, WardscopeError
from geo.gss import check_codes
from geo.progress import Progress, silent
from geo.sources import MirrorSource, Source, dataset
from geo.store import StoreWriter
from geo.tables import read_csv_checked
from geo.wards import build_ward_layers


@dataclass
class InstallContext:
    """What the boundary steps have built, for the steps after them (EPSG:27700 layers, plain tables)."""

    lad: Optional[gpd.GeoDataFrame] = None            # districts (LAD 2024)
    lsoa: Optional[gpd.GeoDataFrame] = None           # LSOA 2021 with ward, district and centroid columns
    ward: Optional[gpd.GeoDataFrame] = None           # wards (2024 codes)
    lsoa11: Optional[gpd.GeoDataFrame] = None         # LSOA 2011 with their district
    lsoa11_lsoa21: Optional[pd.DataFrame] = None      # LSOA 2011 -> 2021 change lookup


@dataclass
class Step:
    name: str
    run: Callable[[Source, StoreWriter, InstallContext], None]


def resolve_source(from_dir: Path | None = None) -> Source:
    """The source to install from: ``--from DIR``, else WARDSCOPE_MIRROR, else ../shared/data, else online."""
    if from_dir is not None:
        return MirrorSource(Path(from_dir))
    mirror = default_mirror()
    if mirror is not None:
        return MirrorSource(mirror)
    from geo.online import OnlineSource

    return OnlineSource()


def _record(writer: StoreWriter, source: Source, dataset_id: str, rows: int) -> None:
    ds = dataset(dataset_id)
    writer.record(dataset_id, title=ds.title, publisher=ds.publisher, vintage=ds.vintage,
                  licence=ds.licence, attribution=ds.credit(), origin=source.origin(dataset_id), rows=rows)


def _unknown(codes: pd.Series, known: pd.Index, *, source: str, what: str) -> None:
    unknown = codes[~codes.isin(known)]
    if len(unknown):
        raise GSSCodeError(f"{source}: {len(unknown)} {what} code(s) are not in the boundaries, first {unknown.iloc[0]!r}")


def step_lad(source: Source, writer: StoreWriter, ctx: InstallContext) -> None:
    path = source.path("lad_boundaries")
    lad = read_boundary_file(path, code_field="LAD24CD", name_field="LAD24NM", level="lad", source=str(path))
    lad = to_multipolygons(lad).assign(lad_code=lambda d: d["code"], lad_name=lambda d: d["name"])
    ctx.lad = lad
    writer.write("boundaries", "lad", lad)
    _record(writer, source, "lad_boundaries", len(lad))


def step_lsoa(source: Source, writer: StoreWriter, ctx: InstallContext) -> None:
    path = source.path("lsoa21_boundaries")
    lsoa = read_boundary_file(path, code_field="LSOA21CD", name_field="LSOA21NM", level="lsoa", source=str(path))
    lk_path = source.path("lsoa21_ward24_lad24")
    lookup = read_csv_checked(lk_path, ["LSOA21CD", "WD24CD", "WD24NM", "LAD24CD", "LAD24NM"])
    lookup = lookup[lookup["LSOA21CD"].str.startswith("E")].reset_index(drop=True)
    check_codes(lookup["LSOA21CD"], level="lsoa", source=str(lk_path))
    check_codes(lookup["WD24CD"].drop_duplicates().reset_index(drop=True), level="ward", source=str(lk_path))
    _unknown(lookup["LSOA21CD"], pd.Index(lsoa["code"]), source=str(lk_path), what="LSOA 2021")
    _unknown(lookup["LAD24CD"], pd.Index(ctx.lad["code"]), source=str(lk_path), what="district")
    missing = lsoa.loc[~lsoa["code"].isin(lookup["LSOA21CD"]), "code"]
    if len(missing):
        raise GSSCodeError(f"{lk_path}: {len(missing)} LSOA(s) in the boundaries have no ward, first {missing.iloc[0]!r}")
    lk = lookup.set_index("LSOA21CD").reindex(lsoa["code"])
    lsoa["ward_code"] = lk["WD24CD"].to_numpy()
    lsoa["ward_name"] = lk["WD24NM"].to_numpy()
    lsoa["lad_code"] = lk["LAD24CD"].to_numpy()
    lsoa["lad_name"] = lk["LAD24NM"].to_numpy()

    c_path = source.path("lsoa21_centroids")
    cent = read_csv_checked(c_path, ["LSOA21CD", "LONG", "LAT"], numeric=["LONG", "LAT"])
    cent = cent[cent["LSOA21CD"].str.startswith("E")].reset_index(drop=True)
    check_codes(cent["LSOA21CD"], level="lsoa", source=str(c_path))
    _unknown(cent["LSOA21CD"], pd.Index(lsoa["code"]), source=str(c_path), what="LSOA 2021")
    pts = points_from_lonlat(cent, "LONG", "LAT", source=str(c_path)).set_index("LSOA21CD").reindex(lsoa["code"])
    if pts.geometry.isna().any():
        first = pts.index[pts.geometry.isna()][0]
        raise SourceFileError(f"{c_path}: no population-weighted centroid for LSOA {first}")
    lsoa["pwc_x"] = np.round(pts.geometry.x.to_numpy(), 1)
    lsoa["pwc_y"] = np.round(pts.geometry.y.to_numpy(), 1)

    if source.has("lsoa21_ruc21"):
        r_path = source.path("lsoa21_ruc21")
        ruc = read_csv_checked(r_path, ["LSOA21CD", "RUC21CD", "RUC21NM", "Urban_rural_flag"])
        ruc = ruc.set_index("LSOA21CD").reindex(lsoa["code"])
        lsoa["ruc21_code"] = ruc["RUC21CD"].to_numpy()
        lsoa["ruc21_name"] = ruc["RUC21NM"].to_numpy()
        lsoa["urban_rural"] = ruc["Urban_rural_flag"].to_numpy()
        _record(writer, source, "lsoa21_ruc21", int(ruc["RUC21CD"].notna().sum()))
    lsoa = to_multipolygons(lsoa)
    ctx.lsoa = lsoa
    writer.write("boundaries", "lsoa", lsoa)
    # District outlines drawn from the same BSC LSOAs, so they line up with ward and LSOA maps
    # (the official LAD BUC outline is generalised differently, to 500 m).
    outline = dissolve_coverage(lsoa[["lad_code", "lad_name", "geometry"]], ["lad_code", "lad_name"])
    outline.insert(0, "code", outline["lad_code"])
    outline.insert(1, "name", outline["lad_name"])
    writer.write("boundaries", "lad_outline", to_multipolygons(outline))
    for ds_id, rows in (("lsoa21_boundaries", len(lsoa)), ("lsoa21_ward24_lad24", len(lookup)), ("lsoa21_centroids", len(cent))):
        _record(writer, source, ds_id, rows)


def step_ward(source: Source, writer: StoreWriter, ctx: InstallContext) -> None:
    path = source.path("ward_boundaries")
    ward23 = read_boundary_file(path, code_field="WD23CD", name_field="WD23NM", level="ward", source=str(path))
    lk_path = source.path("ward23_lad23")
    lookup = read_csv_checked(lk_path, ["WD23CD", "WD23NM", "LAD23CD", "LAD23NM"])
    lookup = lookup[lookup["WD23CD"].str.startswith("E")].reset_index(drop=True)
    check_codes(lookup["WD23CD"], level="ward", source=str(lk_path))
    _unknown(ward23["code"], pd.Index(lookup["WD23CD"]), source=str(path), what="ward (not in the ward lookup)")
    wards, superseded = build_ward_layers(ward23, lookup, ctx.lsoa)
    ctx.ward = wards
    writer.write("boundaries", "ward", wards)
    writer.write("boundaries", "ward_superseded", superseded)
    writer.notes.append(
        f"wards: {len(wards)} current wards; {int((wards['n_lsoa'] == 0).sum())} have no best-fit LSOA; "
        f"{int(wards['geometry_source'].str.startswith('union').sum())} drawn from LSOAs (re-warded in 2024); "
        f"{len(superseded)} Dec 2023 wards superseded"
    )
    _record(writer, source, "ward_boundaries", len(ward23))
    _record(writer, source, "ward23_lad23", len(lookup))


def step_lsoa11(source: Source, writer: StoreWriter, ctx: InstallContext) -> None:
    path = source.path("lsoa11_boundaries")
    lsoa11 = read_boundary_file(path, code_field="LSOA11CD", name_field="LSOA11NM", level="lsoa11", source=str(path))
    lk_path = source.path("lsoa11_lsoa21_lad22")
    change = read_csv_checked(lk_path, ["LSOA11CD", "LSOA21CD", "CHGIND"])
    change = change[change["LSOA11CD"].str.startswith("E")].drop_duplicates(["LSOA11CD", "LSOA21CD"]).reset_index(drop=True)
    bad = change.loc[~change["CHGIND"].isin(["U", "S", "M", "X"]), "CHGIND"]
    if len(bad):
        raise SourceFileError(f"{lk_path}: row {bad.index[0] + 2}: unknown change indicator {bad.iloc[0]!r} (expected U, S, M or X)")
    lsoa = ctx.lsoa
    _unknown(change["LSOA21CD"], pd.Index(lsoa["code"]), source=str(lk_path), what="LSOA 2021")
    _unknown(change["LSOA11CD"], pd.Index(lsoa11["code"]), source=str(lk_path), what="LSOA 2011")
    # An LSOA 2011 gets the district of the 2021 LSOA(s) it became (all in one district).
    lad_of21 = lsoa.set_index("code")[["lad_code", "lad_name"]]
    first = change.drop_duplicates("LSOA11CD").set_index("LSOA11CD")["LSOA21CD"]
    lsoa11["lad_code"] = lad_of21["lad_code"].reindex(first.reindex(lsoa11["code"]).to_numpy()).to_numpy()
    lsoa11["lad_name"] = lad_of21["lad_name"].reindex(first.reindex(lsoa11["code"]).to_numpy()).to_numpy()
    if lsoa11["lad_code"].isna().any():
        raise GSSCodeError(f"{lk_path}: LSOA 2011 {lsoa11.loc[lsoa11['lad_code'].isna(), 'code'].iloc[0]} has no 2021 successor")
    writer.write("boundaries", "lsoa11", to_multipolygons(lsoa11))
    table = pd.DataFrame({"lsoa11_code": change["LSOA11CD"], "lsoa21_code": change["LSOA21CD"], "change": change["CHGIND"]})
    table["lad_code"] = lad_of21["lad_code"].reindex(table["lsoa21_code"]).to_numpy()
    writer.write("boundaries", "lsoa11_lsoa21", table)
    ctx.lsoa11 = lsoa11
    ctx.lsoa11_lsoa21 = table
    _record(writer, source, "lsoa11_boundaries", len(lsoa11))
    _record(writer, source, "lsoa11_lsoa21_lad22", len(change))


def step_places(source: Source, writer: StoreWriter, ctx: InstallContext) -> None:
    path = source.path("stations")
    st = read_csv_checked(path, ["stationName", "lat", "long", "crsCode", "constituentCountry"], numeric=["lat", "long"])
    pts = points_from_lonlat(st, "long", "lat", source=str(path))
    stations = gpd.GeoDataFrame({"code": pts["crsCode"], "name": pts["stationName"], "country": pts["constituentCountry"]},
                                geometry=pts.geometry, crs=pts.crs)
    writer.write("places", "stations", stations)
    _record(writer, source, "stations", len(stations))
    if source.has("sample_sites"):
        try:  # an optional dataset: a bad sample leaves the sample out, not the install
            s_path = source.path("sample_sites")
            sites = read_csv_checked(s_path, ["site_id", "name", "latitude", "longitude"], numeric=["latitude", "longitude"])
            pts = points_from_lonlat(sites, "longitude", "latitude", source=str(s_path))
        except WardscopeError as exc:
            writer.notes.append(f"sample sites not installed: {exc}")
            return
        writer.write("places", "sample_sites", pts.drop(columns=["latitude", "longitude"]))
        _record(writer, source, "sample_sites", len(pts))


GEO_STEPS = [
    Step("district boundaries", step_lad),
    Step("LSOA 2021 boundaries and lookups", step_lsoa),
    Step("wards", step_ward),
    Step("LSOA 2011 boundaries and change lookup", step_lsoa11),
    Step("stations and sample sites", step_places),
]


def run_install(
    source: Source,
    steps: list[Step],
    *,
    root: Path | None = None,
    progress: Progress = silent,
    context: InstallContext | None = None,
) -> dict:
    """Run ``steps`` into a new store generation and commit it atomically.

    ``context`` is what the steps share (an empty :class:`InstallContext` unless given).
    Returns the manifest. Any exception leaves the previous store untouched.
    """
    ctx = context if context is not None else InstallContext()
    with StoreWriter(root) as writer:
        for i, step in enumerate(steps):
            progress(i, len(steps), step.name)
            step.run(source, writer, ctx)
        progress(len(steps), len(steps), "swapping in the new store")
        return writer.commit(source.describe())
