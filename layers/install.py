"""`cli.py install`: every install step, boundaries first, in one atomic generation.

Indicator steps run after the geographic ones and write Parquet tables of
kind ``indicators`` (see :mod:`layers.indicators` for how they are read):

* ``index_<level>``: code, name, lad_code, lad_name of every area (no geometry);
* ``census_lsoa``, ``iod2025_lsoa``, ``iod2019_lsoa11``, ``iod2019_lsoa``, ``iod_change_lsoa``,
  ``claimant_lsoa``, ``aps_lad``, ``aps_england``: values, and the
  numerators/denominators that make aggregation a sum;
* ``installed``: one row per installed indicator with its method, period and datasets;
* ``not_installed``: one row per optional part that is missing (or kept from
  the previous install), with why and the command that retries just it.

The optional parts (:data:`PARTS`: Census 2021, claimant count, APS, whose
datasets are all marked optional) never fail the install: when one fails,
the rest is installed and swapped in, and the part is kept from the
previous store when it had it, else marked not installed.
``python cli.py install --only NAME`` (:func:`install_only`) then installs
just that part into a copy of the current store, atomically. Everything
else still fails the install as a whole and leaves the previous store.
Claimant count and APS come from the Nomis API: they are installed when
the source has them (online, ``--nomis``, or a mirror holding saved API
extracts) and otherwise listed as not installed, with the command to run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

import layers.nomis  # noqa: F401  (registers the Nomis API fetcher with geo.online)
from geo.config import data_dir
from geo.errors import SourceFileError, StoreNotInstalled, WardscopeError
from geo.install import GEO_STEPS, InstallContext, Step, _record, resolve_source, run_install
from geo.online import OnlineSource, OverlaySource, downloads, online_half, plan_line
from geo.progress import InstallReport, Progress, as_report, silent
from geo.sources import MirrorSource, Source
from geo.store import KINDS, Store, StoreWriter
from geo.storelock import DEFAULT_WAIT_S, install_lock
from layers import aps, census, claimant, iod, iod_change
from layers import labour_market
from layers.labour_market import step_labour_market
from layers.registry import builtin_registry

NOMIS_DATASETS = (claimant.DATASET, aps.DATASET)
#: Tables every install writes afresh (never carried from a previous store).
CATALOGUE_TABLES = ("installed", "not_installed")


def retry_command(part: str) -> str:
    """The command that installs (or retries) just one optional part."""
    return f"python cli.py install --only {part}"


@dataclass
class IndicatorContext(InstallContext):
    """The boundary steps' layers plus what the indicator steps share."""

    lsoa_table: pd.DataFrame | None = None     # LSOA 2021 rows without geometry (code, name, ward, district)
    census_weights: pd.DataFrame | None = None  # Census 2021 denominators per LSOA (people), for later rates
    installed: list[dict] = field(default_factory=list)  # one row per installed indicator (the catalogue)
    not_installed: list[dict] = field(default_factory=list)  # one row per optional part missing (layers.install.PARTS)
    iod2025: pd.DataFrame | None = None  # the iod2025_lsoa table (deciles, score weights), for the change layer


def _frame(gdf) -> pd.DataFrame:
    return pd.DataFrame(gdf.drop(columns=gdf.geometry.name)) if hasattr(gdf, "geometry") else pd.DataFrame(gdf)


def _codes(frame: pd.DataFrame) -> pd.Index:
    return pd.Index(frame["code"].to_numpy(dtype=object), dtype=object)


def _installed(ctx: IndicatorContext, table: str, ids, *, method, datasets, period: str | None = None, note: str = "",
               estimate: bool | None = None) -> None:
    registry = builtin_registry()
    for ind in ids:
        meta = registry[ind]
        how = method.get(ind, "") if isinstance(method, dict) else method
        estimate_ = "estimate" in how.lower() if table == census.TABLE else meta.estimate or bool(estimate)
        ctx.installed.append({
            "id": ind, "table": table, "base": meta.base, "method": how, "datasets": ", ".join(datasets),
            "period": period or meta.period, "estimate": bool(estimate_), "note": note})


def step_index(source: Source, writer: StoreWriter, ctx: IndicatorContext) -> None:
    """Names and districts of every area at every level, without geometry (fast tables for indicators)."""
    lsoa = _frame(ctx.lsoa)
    ctx.lsoa_table = lsoa
    writer.write("indicators", "index_lsoa", lsoa[["code", "name", "lad_code", "lad_name", "ward_code"]])
    ward = _frame(ctx.ward)
    writer.write("indicators", "index_ward", ward[["code", "name", "lad_code", "lad_name", "n_lsoa", "lsoa_assignment"]])
    lad = _frame(ctx.lad)
    writer.write("indicators", "index_lad", lad[["code", "name", "lad_code", "lad_name"]])
    lsoa11 = _frame(ctx.lsoa11)
    writer.write("indicators", "index_lsoa11", lsoa11[["code", "name", "lad_code", "lad_name"]])
    ctx.installed = []


def weights_from_census(table: pd.DataFrame) -> pd.DataFrame:
    """The population weights other layers use, from a stored ``census_lsoa`` table (by LSOA code)."""
    frame = table.set_index("code")
    return pd.DataFrame({"pop_total": frame["census21_population"], "pop_working_age": frame["census21_pop_16_64"]})


def step_census(source: Source, writer: StoreWriter, ctx: IndicatorContext) -> None:
    table, weights, method, used = census.build(source, ctx.lsoa_table)
    writer.write("indicators", "census_lsoa", table)
    ctx.census_weights = weights
    for ds in used:
        _record(writer, source, ds, len(table))
    _installed(ctx, census.TABLE, census.RATE_IDS + census.COUNT_IDS, method=method, datasets=used)
    have = int(table["census21_inactive_pct"].notna().sum())
    kind = "Nomis bulk tables (ONS counts)" if used == census.BULK_DATASETS else "mirror OA percentages (estimates) and LSOA counts"
    writer.notes.append(f"census 2021: {have:,} of {len(table):,} LSOAs, from {kind}")


def step_iod2025(source: Source, writer: StoreWriter, ctx: IndicatorContext) -> None:
    codes = _codes(ctx.lsoa_table)
    main = iod.read_iod2025(source.path("imd2025_lsoa21"), codes, source=source.origin("imd2025_lsoa21"))
    numerators = None
    used = ["imd2025_lsoa21"]
    if source.has("imd2025_indicators"):
        try:  # an optional dataset: without it the count indicators are left out, the rest installs
            numerators = iod.read_iod2025_numerators(source.path("imd2025_indicators"), codes,
                                                     source=source.origin("imd2025_indicators"))
            used.append("imd2025_indicators")
        except WardscopeError as exc:
            writer.notes.append(f"IoD 2025 numerators (File 8) not installed: {exc}")
    try:
        table, note = iod.build_iod2025(main, numerators, ctx.lsoa_table, ctx.census_weights)
    except SourceFileError as exc:
        census_failed = [r["why"] for r in ctx.not_installed if r["part"] == "census"]
        if not census_failed:
            raise
        raise SourceFileError(f"{exc}: Census 2021 is not installed ({census_failed[0]})") from None
    writer.write("indicators", "iod2025_lsoa", table)
    ctx.iod2025 = table
    for ds in used:
        _record(writer, source, ds, len(main))
    ids = [i for i, m in builtin_registry().items() if m.table == "iod2025" and (i in table.columns or f"{i}__num" in table.columns)]
    _installed(ctx, "iod2025", ids, method="MHCLG published values", datasets=used, note=f"score weights: {note}")
    if numerators is None and not source.has("imd2025_indicators"):
        writer.notes.append("IoD 2025: income/employment numerators (File 8) not in the source; their count indicators are not installed")


def step_iod2019(source: Source, writer: StoreWriter, ctx: IndicatorContext) -> None:
    codes11 = _codes(_frame(ctx.lsoa11))
    values = iod.read_iod2019(source.path("imd2019_domains"), codes11, source=source.origin("imd2019_domains"))
    pop = iod.read_iod2019_population(source.path("imd2019_population"), codes11, source=source.origin("imd2019_population"))
    used = ["imd2019_domains", "imd2019_population"]
    if source.has("imd2019_imd"):
        iod.check_iod2019_file1(source.path("imd2019_imd"), values, source=source.origin("imd2019_imd"))
        used.append("imd2019_imd")
    native = values.set_index("code").reindex(codes11).rename_axis("code").reset_index()
    native.insert(1, "lad_code", _frame(ctx.lsoa11).set_index("code")["lad_code"].reindex(codes11).to_numpy())
    writer.write("indicators", "iod2019_lsoa11", native)
    converted = iod.convert_iod2019(values, pop, ctx.lsoa11_lsoa21, ctx.lsoa_table)
    writer.write("indicators", "iod2019_lsoa", converted)
    for ds in used:
        _record(writer, source, ds, len(values))
    ids = [i for i, m in builtin_registry().items() if m.table == "iod2019"]
    _installed(ctx, "iod2019", ids, method="MHCLG published values (converted to LSOA 2021 where shown on 2021 LSOAs)",
               datasets=used)
    counts = converted["imd2019__change"].value_counts().to_dict()
    writer.notes.append("IoD 2019 on LSOA 2021: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))


def step_iod_change(source: Source, writer: StoreWriter, ctx: IndicatorContext) -> None:
    """The IoD 2019 to 2025 decile change on 2021 LSOAs (:mod:`layers.iod_change`), from the files just read."""
    codes11 = _codes(_frame(ctx.lsoa11))
    ranks = iod.read_iod2019_ranks(source.path("imd2019_domains"), codes11, source=source.origin("imd2019_domains"))
    pop = iod.read_iod2019_population(source.path("imd2019_population"), codes11, source=source.origin("imd2019_population"))
    weight = ctx.iod2025.set_index("code")["imd2025_score__den"]
    table = iod_change.build(ranks, pop, ctx.lsoa11_lsoa21, ctx.iod2025, ctx.lsoa_table, weight)
    writer.write("indicators", "iod_change_lsoa", table)
    ids = [i for i, m in builtin_registry().items() if m.table == iod_change.TABLE]
    used = ["imd2019_domains", "imd2019_population", "imd2025_lsoa21", "lsoa11_lsoa21_lad22"]
    _installed(ctx, iod_change.TABLE, ids, datasets=used,
               method="IoD 2025 decile minus IoD 2019 decile (MHCLG published ranks and deciles; IoD 2019 mapped to "
                      "2021 LSOAs by the ONS change lookup; merged LSOAs: decile of the mid-2015 population-weighted "
                      "mean rank; irregular changes left unknown)",
               note="ward and district change: a mean weighted by residents, the same weights as the IMD 2025 score")
    writer.notes.append(iod_change.counts_note(table))


def _not_in_source(writer: StoreWriter, ctx: IndicatorContext, part: str, dataset_id: str) -> None:
    title = PARTS[part].title
    why = f"it needs the Nomis API ({dataset_id} is not in the source; python cli.py install --nomis fetches it)"
    writer.notes.append(f"{title} not installed: {why}. To install just it: {retry_command(part)}")
    ctx.not_installed.append(
        {"part": part, "title": title, "status": "not installed", "why": why, "retry": retry_command(part),
         "datasets": dataset_id})


def step_claimant(source: Source, writer: StoreWriter, ctx: IndicatorContext) -> None:
    if not source.has(claimant.DATASET):
        _not_in_source(writer, ctx, "claimant", claimant.DATASET)
        return
    if ctx.census_weights is None:
        raise WardscopeError("it needs the Census 2021 layer (residents aged 16-64), which is not installed")
    codes = _codes(ctx.lsoa_table)
    codes11 = pd.Index(ctx.lsoa11_lsoa21["lsoa11_code"].unique(), dtype=object)
    counts, period, level = claimant.read_claimant(source.path(claimant.DATASET), codes, lsoa11_codes=codes11,
                                                   source=source.origin(claimant.DATASET))
    pop = ctx.census_weights["pop_working_age"]
    method, note, converted = "Nomis NM_162_1 counts; rates over Census 2021 residents aged 16-64", "", False
    if level == "lsoa11":
        counts, kinds = claimant.to_lsoa21(counts, ctx.lsoa11_lsoa21, pop, codes)
        changed = kinds.value_counts().to_dict()
        note = ("published on 2011 LSOAs, converted to 2021 LSOAs with the ONS change lookup: "
                + ", ".join(f"{k} {v:,}" for k, v in sorted(changed.items()))
                + "; split LSOAs share their 2011 count by residents aged 16-64 (estimates), merged ones add up")
        method += " (2011 LSOAs converted to 2021)"
        converted = bool(changed.get("S") or changed.get("X"))
    table = claimant.build(counts, pop, ctx.lsoa_table)
    writer.write("indicators", "claimant_lsoa", table)
    _record(writer, source, claimant.DATASET, len(table))
    ids = [i for i, m in builtin_registry().items() if m.table == "claimant"]
    _installed(ctx, "claimant", ids, method=method, datasets=[claimant.DATASET], period=period, note=note,
               estimate=converted)
    if note:
        writer.notes.append(f"claimant count: {note}")


def step_aps(source: Source, writer: StoreWriter, ctx: IndicatorContext) -> None:
    if not source.has(aps.DATASET):
        _not_in_source(writer, ctx, "aps", aps.DATASET)
        return
    codes = _codes(_frame(ctx.lad))
    districts, england, period = aps.read_aps(source.path(aps.DATASET), codes, source=source.origin(aps.DATASET))
    writer.write("indicators", "aps_lad", districts)
    writer.write("indicators", "aps_england", england)
    _record(writer, source, aps.DATASET, len(districts))
    _installed(ctx, "aps", aps.IDS, method="Nomis NM_17_5 survey estimates with 95% confidence intervals",
               datasets=[aps.DATASET], period=period)


def step_catalogue(source: Source, writer: StoreWriter, ctx: IndicatorContext) -> None:
    writer.write("indicators", "installed", pd.DataFrame(ctx.installed))
    rows = ctx.not_installed
    columns = ["part", "title", "status", "why", "retry", "datasets"]
    writer.write("indicators", "not_installed", pd.DataFrame(rows, columns=columns).astype(object))


# --- optional parts ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Part:
    """An optional part of the store: never fails the install, installable alone with ``--only NAME``."""

    name: str
    title: str
    step: Step
    #: indicators tables it writes, and its ``table`` in the installed catalogue
    tables: tuple[str, ...]
    catalogue: str
    #: every dataset it may read; ``reads(source)``: those it reads from ``source``
    datasets: tuple[str, ...]
    reads: Callable[[Source], list[str]]
    #: datasets fetched online when a mirror lacks them (with --only, or --nomis)
    online: tuple[str, ...] = ()


def _census_datasets(source) -> list[str]:
    if all(source.has(ds) for ds in census.BULK_DATASETS):
        return list(census.BULK_DATASETS)
    return census.OA_DATASETS + census.MIRROR_COUNT_DATASETS


PARTS = {
    "census": Part("census", "Census 2021", Step("Census 2021", step_census), ("census_lsoa",), census.TABLE,
                   tuple(census.BULK_DATASETS + census.OA_DATASETS + census.MIRROR_COUNT_DATASETS), _census_datasets),
    "claimant": Part("claimant", "claimant count", Step("claimant count (Nomis)", step_claimant), ("claimant_lsoa",),
                     claimant.TABLE, (claimant.DATASET,), lambda source: [claimant.DATASET], (claimant.DATASET,)),
    "aps": Part("aps", "Annual Population Survey", Step("Annual Population Survey (Nomis)", step_aps),
                ("aps_lad", "aps_england"), aps.TABLE, (aps.DATASET,), lambda source: [aps.DATASET], (aps.DATASET,)),
    "labour": Part("labour", "labour market (ONS Explore Local Statistics)",
                   Step("labour market (ONS Explore Local Statistics)", step_labour_market),
                   (labour_market.SERIES, f"{labour_market.TABLE}_lad", labour_market.ENGLAND_TABLE),
                   labour_market.TABLE, tuple(labour_market.DATASETS),
                   lambda source: [d for d in labour_market.DATASETS if source.has(d)], tuple(labour_market.DATASETS)),
}


def _previous(writer) -> Store | None:
    try:
        return Store(writer.root)
    except StoreNotInstalled:
        return None


def _keep_or_mark(part: Part, source: Source, writer: StoreWriter, ctx: IndicatorContext, why: str) -> None:
    """After ``part`` failed: carry its tables from the previous store when it has them, else mark it not installed.

    ``why`` is the failure's one-line message.
    """
    previous = _previous(writer)
    retry = retry_command(part.name)
    kept = previous is not None and all(previous.has("indicators", t) for t in part.tables)
    if kept:
        for table in part.tables:
            writer.write("indicators", table, previous.table("indicators", table))
        rows = _catalogue(previous)
        ctx.installed.extend(rows[rows["table"] == part.catalogue].to_dict("records"))
        for ds_id, info in previous.manifest.get("datasets", {}).items():
            if ds_id in part.datasets:
                writer.datasets[ds_id] = info
        if part.name == "census":
            ctx.census_weights = weights_from_census(previous.table("indicators", "census_lsoa"))
        status = f"kept from the install of {previous.manifest.get('installed_at', 'before')}"
        writer.notes.append(f"{part.title}: {status}; the new one failed: {why}. To retry just it: {retry}")
    else:
        status = "not installed"
        writer.notes.append(f"{part.title} not installed: {why}. To retry just it: {retry}")
    ctx.not_installed.append({"part": part.name, "title": part.title, "status": status, "why": why,
                                                "retry": retry, "datasets": ", ".join(part.reads(source))})


def _forget_refused(source, part: Part, exc: Exception) -> None:
    """Downloads a reader refused (a bad file, not a failed connection) are fetched again by the retry."""
    online = online_half(source)
    if online is not None and isinstance(exc, SourceFileError):
        online.forget(part.reads(source))


def optional_step(part: Part) -> Step:
    """``part``'s step, with a failure kept inside the part (see :func:`_keep_or_mark`)."""
    def run(source: Source, writer: StoreWriter, ctx: IndicatorContext) -> None:
        try:
            part.step.run(source, writer, ctx)
        except WardscopeError as exc:
            _forget_refused(source, part, exc)
            _keep_or_mark(part, source, writer, ctx, str(exc))

    return Step(part.step.name, run)


INDICATOR_STEPS = [
    Step("indicator areas", step_index),
    optional_step(PARTS["census"]),
    Step("Indices of Deprivation 2025", step_iod2025),
    Step("Indices of Deprivation 2019", step_iod2019),
    Step("Indices of Deprivation change 2019 to 2025", step_iod_change),
    optional_step(PARTS["claimant"]),
    optional_step(PARTS["aps"]),
    optional_step(PARTS["labour"]),
    Step("indicator catalogue", step_catalogue),
]


def install_steps():
    """Boundary and lookup steps, then the indicator steps."""
    return list(GEO_STEPS) + list(INDICATOR_STEPS)


def planned_datasets(source) -> list[str]:
    """The datasets an install from ``source`` reads, in install order (for --dry-run and the download estimate)."""
    geo = ["lad_boundaries", "lsoa21_boundaries", "lsoa21_ward24_lad24", "lsoa21_centroids", "lsoa21_ruc21",
           "ward_boundaries", "ward23_lad23", "lsoa11_boundaries", "lsoa11_lsoa21_lad22", "stations", "sample_sites"]
    iods = ["imd2025_lsoa21", "imd2025_indicators", "imd2019_domains", "imd2019_population", "imd2019_imd"]
    optional_when_absent = {"lsoa21_ruc21", "sample_sites", "imd2025_indicators", "imd2019_imd"}
    ids = geo + _census_datasets(source) + iods + list(NOMIS_DATASETS) + list(labour_market.DATASETS)
    optional_when_absent |= set(NOMIS_DATASETS) | set(labour_market.DATASETS)
    return [i for i in ids if source.has(i) or i not in optional_when_absent]


def _with_online(source, dataset_ids):
    """``source``, with ``dataset_ids`` it lacks fetched online (a mirror overlaid with the publishers)."""
    missing = [d for d in dataset_ids if not source.has(d)]
    if missing and isinstance(source, MirrorSource):
        return OverlaySource(source, OnlineSource(), missing)
    return source


def _prepare(source, report: InstallReport, dataset_ids) -> OnlineSource | None:
    """Point the downloads at ``report``, say what the download cache holds, and how much is left to fetch."""
    online = online_half(source)
    if online is not None:
        online.set_report(report)
        fetched = [i for i in dataset_ids if downloads(source, i)]
        summary = online.cache_summary(fetched)
        if summary:
            report.note(summary)
        online.expect(fetched)
    return online


def install(from_dir: Path | None = None, *, root: Path | None = None, progress: Progress = silent, source=None,
            nomis: bool = False, wait_s: float | None = DEFAULT_WAIT_S,
            on_wait: Callable[[str], None] | None = None) -> dict:
    """Install the store from ``from_dir`` (or the default source); returns the manifest.

    ``nomis=True`` also fetches the claimant count and APS from the Nomis API
    when the source (a mirror) does not hold them. Downloads are kept in the
    download cache whatever happens, so a failed install can be run again
    and fetch only what is missing. One install runs at a time:
    while another holds the lock this one waits up to ``wait_s`` seconds
    (0: refuse at once; None: no limit), calling ``on_wait(message)`` once,
    then raises :class:`geo.errors.InstallRunning`.
    """
    with install_lock(root or data_dir(), wait_s=wait_s, on_wait=on_wait):  # downloads too
        source = source or resolve_source(from_dir)
        if nomis:
            source = _with_online(source, NOMIS_DATASETS)
        report = as_report(progress)
        online = _prepare(source, report, planned_datasets(source))
        try:
            return run_install(source, install_steps(), root=root, progress=report, context=IndicatorContext())
        finally:
            if online is not None:
                online.close()


def _catalogue(store: Store) -> pd.DataFrame:
    return store.table("indicators", "installed") if store.has("indicators", "installed") else pd.DataFrame(
        columns=["id", "table"])


def _context(store: Store) -> IndicatorContext:
    """What the optional parts' steps read from the earlier steps, rebuilt from an installed store."""
    ctx = IndicatorContext(lsoa_table=store.table("indicators", "index_lsoa"), lad=store.table("indicators", "index_lad"),
                           lsoa11_lsoa21=store.table("boundaries", "lsoa11_lsoa21"))
    if store.has("indicators", "census_lsoa"):
        ctx.census_weights = weights_from_census(store.table("indicators", "census_lsoa"))
    return ctx


def stored_tables(store: Store) -> list[tuple[str, str]]:
    """(kind, name) of every table in the store's current generation."""
    return [(kind, p.stem) for kind in KINDS for p in sorted((store.root / kind / store.generation).glob("*.parquet"))]


def install_only(part_name: str, from_dir: Path | None = None, *, root: Path | None = None,
                 progress: Progress = silent, source=None) -> dict:
    """Install just one optional part into a copy of the current store, atomically; returns the manifest.

    Every other table, dataset record and note of the current store is
    kept; the part's own are replaced. Any failure leaves the current store
    as it was (the part's downloads stay in the cache).
    """
    part = PARTS.get(part_name)
    if part is None:
        raise WardscopeError(f"--only {part_name}: choose one of {', '.join(PARTS)} (the optional parts); "
                             f"the rest is installed together: python cli.py install")
    store = Store(root)  # StoreNotInstalled tells the user to run the full install first
    source = _with_online(source or resolve_source(from_dir), part.online)
    report = as_report(progress)
    online = _prepare(source, report, part.reads(source))
    ctx = _context(store)
    previous = _catalogue(store)
    ctx.installed = previous[previous["table"] != part.catalogue].to_dict("records")
    if store.has("indicators", "not_installed"):
        rows = store.table("indicators", "not_installed")
        ctx.not_installed = rows[rows["part"] != part.name].to_dict("records")
    own = set(part.tables) | set(CATALOGUE_TABLES)
    tables = [(k, n) for k, n in stored_tables(store) if not (k == "indicators" and n in own)]
    try:
        with StoreWriter(root) as writer:
            steps = len(tables) + 2
            for i, (kind, name) in enumerate(tables):
                report.step(i, steps, f"keeping {kind}/{name}")
                writer.write(kind, name, store.table(kind, name))
            writer.datasets.update({k: v for k, v in store.manifest.get("datasets", {}).items() if k not in part.datasets})
            writer.notes.extend(n for n in store.manifest.get("notes", []) if not n.lower().startswith(part.title.lower()))
            report.step(len(tables), steps, part.step.name)
            try:
                part.step.run(source, writer, ctx)
            except WardscopeError as exc:
                _forget_refused(source, part, exc)
                raise
            report.step(len(tables) + 1, steps, "indicator catalogue")
            step_catalogue(source, writer, ctx)
            report.step(steps, steps, "swapping in the new store")
            before = store.manifest.get("source", "")
            return writer.commit(before if before == source.describe() else
                                 f"{before}; {part.title} from {source.describe()}")
    finally:
        if online is not None:
            online.close()


def dry_run(from_dir: Path | None = None, *, only: str | None = None, nomis: bool = False) -> list[str]:
    """What ``install`` (or ``install --only``) would fetch and from where, one entry per dataset; contacts no one."""
    source = resolve_source(from_dir)
    if only is not None:
        part = PARTS.get(only)
        if part is None:
            raise WardscopeError(f"--only {only}: choose one of {', '.join(PARTS)}")
        source = _with_online(source, part.online)
        ids = part.reads(source)
    else:
        source = _with_online(source, NOMIS_DATASETS) if nomis else source
        ids = planned_datasets(source)
    lines = [plan_line(source, ds_id) for ds_id in ids]
    to_fetch = [line for line in lines if line.action == "download"]
    total = sum(line.approx_bytes for line in {line.origin: line for line in to_fetch}.values())
    head = (f"install {'--only ' + only + ' ' if only else ''}from {source.describe()}: {len(lines)} datasets, "
            f"{len(to_fetch)} to download (about {total / 2**20:,.0f} MB for England and Wales), "
            f"{sum(line.action == 'in cache' for line in lines)} already in the download cache")
    return [head] + [line.text() for line in lines]

