"""`cli.py install`: every install step, boundaries first, in one atomic generation.

Indicator steps run after the geographic ones and write Parquet tables of
kind ``indicators`` (see :mod:`layers.indicators` for how they are read):

* ``index_<level>``: code, name, lad_code, lad_name of every area (no geometry);
* ``census_lsoa``, ``iod2025_lsoa``, ``iod2019_lsoa11``, ``iod2019_lsoa``,
  ``claimant_lsoa``, ``aps_lad``, ``aps_england``: values, and the
  numerators/denominators that make aggregation a sum;
* ``installed``: one row per installed indicator with its method, period and datasets.

Claimant count and APS come from the Nomis API: they are installed when
the source has them (online, ``--nomis``, or a mirror holding saved API
extracts) and otherwise listed as not installed, with the command to run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd

import layers.nomis  # noqa: F401  (registers the Nomis API fetcher with geo.online)
from geo.config import data_dir
from geo.install import GEO_STEPS, Step, _record, resolve_source, run_install
from geo.progress import Progress, silent
from geo.sources import MirrorSource
from geo.storelock import DEFAULT_WAIT_S, install_lock
from layers import aps, census, claimant, iod
from layers.labour_market import step_labour_market
from layers.registry import NOMIS_INSTALL_HINT, builtin_registry

NOMIS_DATASETS = (claimant.DATASET, aps.DATASET)


def _frame(gdf) -> pd.DataFrame:
    return pd.DataFrame(gdf.drop(columns=gdf.geometry.name)) if hasattr(gdf, "geometry") else pd.DataFrame(gdf)


def _codes(frame: pd.DataFrame) -> pd.Index:
    return pd.Index(frame["code"].to_numpy(dtype=object), dtype=object)


def _installed(ctx: dict, table: str, ids, *, method, datasets, period: str | None = None, note: str = "") -> None:
    registry = builtin_registry()
    for ind in ids:
        meta = registry[ind]
        how = method.get(ind, "") if isinstance(method, dict) else method
        estimate = "estimate" in how.lower() if table == census.TABLE else meta.estimate
        ctx["installed"].append({
            "id": ind, "table": table, "base": meta.base, "method": how, "datasets": ", ".join(datasets),
            "period": period or meta.period, "estimate": bool(estimate), "note": note})


def step_index(source, writer, ctx: dict) -> None:
    """Names and districts of every area at every level, without geometry (fast tables for indicators)."""
    lsoa = _frame(ctx["lsoa"])
    ctx["lsoa_table"] = lsoa
    writer.write("indicators", "index_lsoa", lsoa[["code", "name", "lad_code", "lad_name", "ward_code"]])
    ward = _frame(ctx["ward"])
    writer.write("indicators", "index_ward", ward[["code", "name", "lad_code", "lad_name", "n_lsoa", "lsoa_assignment"]])
    lad = _frame(ctx["lad"])
    writer.write("indicators", "index_lad", lad[["code", "name", "lad_code", "lad_name"]])
    lsoa11 = _frame(ctx["lsoa11"])
    writer.write("indicators", "index_lsoa11", lsoa11[["code", "name", "lad_code", "lad_name"]])
    ctx["installed"] = []


def step_census(source, writer, ctx: dict) -> None:
    table, weights, method, used = census.build(source, ctx["lsoa_table"])
    writer.write("indicators", "census_lsoa", table)
    ctx["census_weights"] = weights
    for ds in used:
        _record(writer, source, ds, len(table))
    _installed(ctx, census.TABLE, census.RATE_IDS + census.COUNT_IDS, method=method, datasets=used)
    have = int(table["census21_inactive_pct"].notna().sum())
    kind = "Nomis bulk tables (ONS counts)" if used == census.BULK_DATASETS else "mirror OA percentages (estimates) and LSOA counts"
    writer.notes.append(f"census 2021: {have:,} of {len(table):,} LSOAs, from {kind}")


def step_iod2025(source, writer, ctx: dict) -> None:
    codes = _codes(ctx["lsoa_table"])
    main = iod.read_iod2025(source.path("imd2025_lsoa21"), codes, source=source.origin("imd2025_lsoa21"))
    numerators = None
    used = ["imd2025_lsoa21"]
    if source.has("imd2025_indicators"):
        numerators = iod.read_iod2025_numerators(source.path("imd2025_indicators"), codes,
                                                 source=source.origin("imd2025_indicators"))
        used.append("imd2025_indicators")
    table, note = iod.build_iod2025(main, numerators, ctx["lsoa_table"], ctx.get("census_weights"))
    writer.write("indicators", "iod2025_lsoa", table)
    for ds in used:
        _record(writer, source, ds, len(main))
    ids = [i for i, m in builtin_registry().items() if m.table == "iod2025" and (i in table.columns or f"{i}__num" in table.columns)]
    _installed(ctx, "iod2025", ids, method="MHCLG published values", datasets=used, note=f"score weights: {note}")
    if numerators is None:
        writer.notes.append("IoD 2025: income/employment numerators (File 8) not in the source; their count indicators are not installed")


def step_iod2019(source, writer, ctx: dict) -> None:
    codes11 = _codes(_frame(ctx["lsoa11"]))
    values = iod.read_iod2019(source.path("imd2019_domains"), codes11, source=source.origin("imd2019_domains"))
    pop = iod.read_iod2019_population(source.path("imd2019_population"), codes11, source=source.origin("imd2019_population"))
    used = ["imd2019_domains", "imd2019_population"]
    if source.has("imd2019_imd"):
        iod.check_iod2019_file1(source.path("imd2019_imd"), values, source=source.origin("imd2019_imd"))
        used.append("imd2019_imd")
    native = values.set_index("code").reindex(codes11).rename_axis("code").reset_index()
    native.insert(1, "lad_code", _frame(ctx["lsoa11"]).set_index("code")["lad_code"].reindex(codes11).to_numpy())
    writer.write("indicators", "iod2019_lsoa11", native)
    converted = iod.convert_iod2019(values, pop, ctx["lsoa11_lsoa21"], ctx["lsoa_table"])
    writer.write("indicators", "iod2019_lsoa", converted)
    for ds in used:
        _record(writer, source, ds, len(values))
    ids = [i for i, m in builtin_registry().items() if m.table == "iod2019"]
    _installed(ctx, "iod2019", ids, method="MHCLG published values (converted to LSOA 2021 where shown on 2021 LSOAs)",
               datasets=used)
    counts = converted["imd2019__change"].value_counts().to_dict()
    writer.notes.append("IoD 2019 on LSOA 2021: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))


def _not_installed(writer, what: str, dataset_id: str) -> None:
    writer.notes.append(f"{what} not installed (needs the Nomis API; {dataset_id} is not in the source). "
                        f"To install it: {NOMIS_INSTALL_HINT}")


def step_claimant(source, writer, ctx: dict) -> None:
    if not source.has(claimant.DATASET):
        _not_installed(writer, "claimant count", claimant.DATASET)
        return
    codes = _codes(ctx["lsoa_table"])
    counts, period = claimant.read_claimant(source.path(claimant.DATASET), codes, source=source.origin(claimant.DATASET))
    pop = ctx["census_weights"]["pop_working_age"]
    table = claimant.build(counts, pop, ctx["lsoa_table"])
    writer.write("indicators", "claimant_lsoa", table)
    _record(writer, source, claimant.DATASET, len(table))
    ids = [i for i, m in builtin_registry().items() if m.table == "claimant"]
    _installed(ctx, "claimant", ids, method="Nomis NM_162_1 counts; rates over Census 2021 residents aged 16-64",
               datasets=[claimant.DATASET], period=period)


def step_aps(source, writer, ctx: dict) -> None:
    if not source.has(aps.DATASET):
        _not_installed(writer, "Annual Population Survey", aps.DATASET)
        return
    codes = _codes(_frame(ctx["lad"]))
    districts, england, period = aps.read_aps(source.path(aps.DATASET), codes, source=source.origin(aps.DATASET))
    writer.write("indicators", "aps_lad", districts)
    writer.write("indicators", "aps_england", england)
    _record(writer, source, aps.DATASET, len(districts))
    _installed(ctx, "aps", aps.IDS, method="Nomis NM_17_5 survey estimates with 95% confidence intervals",
               datasets=[aps.DATASET], period=period)


def step_catalogue(source, writer, ctx: dict) -> None:
    writer.write("indicators", "installed", pd.DataFrame(ctx["installed"]))


INDICATOR_STEPS = [
    Step("indicator areas", step_index),
    Step("Census 2021", step_census),
    Step("Indices of Deprivation 2025", step_iod2025),
    Step("Indices of Deprivation 2019", step_iod2019),
    Step("claimant count (Nomis)", step_claimant),
    Step("Annual Population Survey (Nomis)", step_aps),
    Step("labour market (ONS Explore Local Statistics)", step_labour_market),
    Step("indicator catalogue", step_catalogue),
]


def install_steps():
    """Boundary and lookup steps, then the indicator steps."""
    return list(GEO_STEPS) + list(INDICATOR_STEPS)


def install(from_dir: Path | None = None, *, root: Path | None = None, progress: Progress = silent, source=None,
            nomis: bool = False, wait_s: float | None = DEFAULT_WAIT_S,
            on_wait: Callable[[str], None] | None = None) -> dict:
    """Install the store from ``from_dir`` (or the default source); returns the manifest.

    ``nomis=True`` also fetches the claimant count and APS from the Nomis API
    when the source (a mirror) does not hold them. One install runs at a time:
    while another holds the lock this one waits up to ``wait_s`` seconds
    (0: refuse at once; None: no limit), calling ``on_wait(message)`` once,
    then raises :class:`geo.errors.InstallRunning`.
    """
    with install_lock(root or data_dir(), wait_s=wait_s, on_wait=on_wait):  # downloads and their clean-up too
        source = source or resolve_source(from_dir)
        if nomis and isinstance(source, MirrorSource):
            from geo.online import OnlineSource, OverlaySource

            source = OverlaySource(source, OnlineSource(), NOMIS_DATASETS)
        try:
            return run_install(source, install_steps(), root=root, progress=progress)
        except BaseException:
            if hasattr(source, "discard_downloads"):  # a download that failed its checks must not be reused
                source.discard_downloads()
            raise
