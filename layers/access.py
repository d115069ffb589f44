"""Transport access to employment sites: an indicator layer per LSOA or ward.

Origins are LSOA 2021 population-weighted centroids (EPSG:27700). For each
mode the layer gives, keyed by ``code`` like any indicator:

* ``access_<mode>_nearest_min``: minutes to the nearest site (NaN: no site reachable);
* ``access_<mode>_nearest_site``: its ``site_id``, and ``access_<mode>_nearest_site_name`` its name
  (LSOA level only);
* ``access_<mode>_sites_<t>min``: number of sites within t minutes (t = 30, 45, 60);
* ``access_jobs_<t>min_<mode>``: known jobs at sites within t minutes (cumulative
  opportunities), when any site carries a job count: a site without one is unknown, not
  zero, so this is NaN where every site within reach lacks a count, and
  ``access_<mode>_sites_nojobs_<t>min`` says how many sites within reach lack one;
* ``access_<mode>_gravity``: sum over sites of jobs x exp(-minutes / :data:`GRAVITY_DECAY_MIN`),
  only when every site has a job count (else absent, and the notes say why);
* ``access_<mode>_min__<site_id>``: minutes to each named site (when there are
  at most :data:`PER_SITE_MAX` sites);
* ``access_<mode>_note``: why an LSOA has no time (network engine: not snapped).

Ward figures are **population-weighted means of their LSOAs' figures** (LSOAs
assigned to wards by the ONS best-fit lookup; weights = Census 2021 usual
residents when available, else equal weights, and the output says which), with
``access_<mode>_unreachable_pct``: % of the weight in LSOAs with no site reachable.
Every frame carries ``attrs["columns"]`` (column -> description) and
``attrs["notes"]`` (engine label, weighting).

:func:`access_gap` flags areas that are high priority, far from sites by bus
or on foot, and low in car ownership.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import WardscopeError
from geo.travel import THRESHOLDS_MIN, access_summary, summarise_minutes, travel_time_matrix

#: Per-site columns are added when there are at most this many sites.
PER_SITE_MAX = 50
#: Access gap: "far" when the best of the gap modes takes longer than this (minutes), or no site is reachable.
GAP_FAR_MIN = 45.0
#: Access gap: modes that count as "by bus or on foot".
GAP_MODES = ("bus", "walk")
#: Access gap: priority bands that count as "high priority" (layers.scoring bands).
GAP_PRIORITY_BANDS = ("top 10%", "top 20%", "priority")
#: Quartiles the gtfs engine gives beside the median (matrix column minutes_<q>) -> words.
QUARTILES = {"p25": "lower quartile (25th percentile)", "p75": "upper quartile (75th percentile)"}
#: Gravity accessibility: the e-folding time of the decay exp(-minutes / this), minutes.
GRAVITY_DECAY_MIN = 30.0
#: Gravity needs every origin-site time; above this many pairs it is left out (and the notes say so).
GRAVITY_MAX_PAIRS = 20_000_000
#: LSOA columns carried into the layer (besides the access columns).
LSOA_KEYS = ["code", "name", "lad_code", "lad_name", "ward_code", "ward_name"]
#: Also kept in the LSOA layer when the origins carry it: ONS rural-urban classification 2021 ("Urban"/"Rural").
URBAN_RURAL = "urban_rural"


def lsoa_centroids(store, lad_codes: Iterable[str] | None = None, *, urban_rural: bool = False) -> gpd.GeoDataFrame:
    """LSOA 2021 population-weighted centroids as points (EPSG:27700) with LSOA_KEYS columns.

    ``urban_rural``: add the LSOA's ONS rural-urban classification 2021 (``urban_rural``: "Urban" or
    "Rural"), which the estimate engine reads to choose its urban or rural speeds and circuity.
    """
    import pyarrow.parquet as pq

    path = store.checked_path("boundaries", "lsoa")
    extra = ["urban_rural"] if urban_rural and "urban_rural" in pq.read_schema(path).names else []
    filters = [("lad_code", "in", sorted(set(lad_codes)))] if lad_codes is not None else None
    frame = pd.read_parquet(path, columns=LSOA_KEYS + extra + ["pwc_x", "pwc_y"], filters=filters)
    frame = frame.sort_values(["lad_code", "code"]).reset_index(drop=True)
    return gpd.GeoDataFrame(frame[LSOA_KEYS + extra], geometry=gpd.points_from_xy(frame["pwc_x"], frame["pwc_y"]),
                            crs=27700)


def census_population(lad_codes: Iterable[str] | None = None) -> pd.Series | None:
    """Census 2021 usual residents per LSOA (code -> residents), or None when not available.

    The one hook into the indicator layers (``layers.indicators.indicator_table``, indicator
    ``census21_population``); change the id here if the indicators name it differently.
    """
    try:
        from layers.indicators import indicator_table
    except ImportError:
        return None
    try:
        table = indicator_table("lsoa", list(lad_codes) if lad_codes is not None else None, ids=["census21_population"])
    except (WardscopeError, KeyError, ValueError):
        return None
    if "census21_population" not in table.columns:
        return None
    return pd.to_numeric(table.set_index("code")["census21_population"], errors="coerce")


def _mode_columns(mode: str, thresholds: Sequence[float], jobs: bool) -> dict[str, str]:
    docs = {
        f"access_{mode}_nearest_min": f"minutes to the nearest site by {mode} (NaN: no site reachable)",
        f"access_{mode}_nearest_site": f"site_id of the nearest site by {mode}",
        f"access_{mode}_nearest_site_name": f"name of the nearest site by {mode}",
    }
    for t in thresholds:
        docs[f"access_{mode}_sites_{t:g}min"] = f"number of sites within {t:g} minutes by {mode}"
    if jobs:
        for t in thresholds:
            docs[f"access_jobs_{t:g}min_{mode}"] = (f"jobs at sites within {t:g} minutes by {mode} "
                                                    f"(cumulative opportunities: known job counts only; "
                                                    f"NaN when no site within reach has a count)")
            docs[f"access_{mode}_sites_nojobs_{t:g}min"] = (f"sites within {t:g} minutes by {mode} "
                                                            f"without a job count")
    docs[f"access_{mode}_note"] = "why no time could be given (e.g. the centroid is not near the road network)"
    return docs


def job_count_note(sites: pd.DataFrame) -> str:
    """How many sites have no job count, in words: "10 of 11 sites have no job count ..."."""
    jobs = pd.to_numeric(sites["jobs"], errors="coerce") if "jobs" in sites.columns else pd.Series(np.nan, sites.index)
    missing, n = int(jobs.isna().sum()), len(sites)
    if missing == 0:
        return f"every site has a job count ({n} of {n})"
    if missing == n:
        return (f"{missing} of {n} sites have no job count: jobs within reach are unknown, so they are not given "
                f"(never shown as 0)")
    return (f"{missing} of {n} sites have no job count: jobs within reach add up the known counts only, and are "
            f"blank where every site within reach lacks one")


def gravity(minutes: np.ndarray, jobs: np.ndarray, decay_min: float = GRAVITY_DECAY_MIN) -> np.ndarray:
    """Gravity accessibility per origin: sum over sites of jobs x exp(-minutes / decay_min).

    ``minutes``: (origins x sites), NaN = unreachable (contributes nothing); ``jobs``: one count per site,
    all known (a missing count would make the sum unknown: the caller leaves gravity out then).
    """
    weights = np.exp(-np.where(np.isnan(minutes), np.inf, minutes) / decay_min)
    return weights @ np.asarray(jobs, dtype=float)


def access_lsoa(origins: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, modes: Sequence[str] = ("bus",), *,
                engine: str | None = None, thresholds_min: Sequence[float] = THRESHOLDS_MIN,
                per_site: bool | None = None, **params) -> pd.DataFrame:
    """Access columns per origin (LSOA centroid) for each mode.

    Parameters
    ----------
    origins : points in EPSG:27700 with ``code`` (e.g. :func:`lsoa_centroids`); other LSOA_KEYS kept.
    sites : a sites layer (:mod:`geo.employment_sites`: ``site_id``, ``name``, optional ``jobs``), EPSG:27700.
    modes : any of ``walk``, ``cycle``, ``car``, ``bus``.
    engine, **params : passed to :func:`geo.travel.travel_time_matrix` (e.g. ``network=PATH``).
    per_site : add minutes to each site; default when there are at most :data:`PER_SITE_MAX` sites.

    Returns
    -------
    DataFrame keyed by ``code`` (the origins' other key columns first), columns as in the module docstring.
    """
    thresholds = tuple(float(t) for t in thresholds_min)
    jobs = "jobs" in sites.columns and pd.to_numeric(sites["jobs"], errors="coerce").notna().any()
    per_site = len(sites) <= PER_SITE_MAX if per_site is None else per_site
    keys = [c for c in LSOA_KEYS + [URBAN_RURAL] if c in origins.columns]
    out = pd.DataFrame(origins[keys]).reset_index(drop=True)
    docs: dict[str, str] = {}
    notes: list[str] = []
    site_ids = sites["site_id"].to_numpy()
    site_names = dict(zip(sites["site_id"], sites["name"]))
    weights = pd.to_numeric(sites["jobs"], errors="coerce").to_numpy(dtype=float) if jobs else None
    all_jobs = weights is not None and bool(np.isfinite(weights).all())
    notes.append(job_count_note(sites))
    too_many = len(origins) * len(sites) > GRAVITY_MAX_PAIRS
    if not all_jobs:
        notes.append("no gravity accessibility score: it needs a job count for every site")
    elif too_many:
        notes.append(f"no gravity accessibility score: {len(origins):,} areas x {len(sites):,} sites is more than "
                     f"{GRAVITY_MAX_PAIRS:,} journeys")
    for mode in modes:
        if per_site:
            matrix = travel_time_matrix(origins, sites, mode, engine=engine, **params)
            minutes = matrix["minutes"].to_numpy().reshape(len(origins), len(sites))
            summary = summarise_minutes(minutes, thresholds, weights)
            attrs = matrix.attrs
        else:
            frame = access_summary(origins, sites, mode, engine=engine, thresholds_min=thresholds,
                                   weight="jobs" if jobs else None, **params)
            summary = {"nearest_minutes": frame["nearest_minutes"].to_numpy()}
            for t in thresholds:
                summary[f"n_within_{t:g}"] = frame[f"n_within_{t:g}"].to_numpy()
                if jobs:
                    summary[f"w_within_{t:g}"] = frame[f"jobs_within_{t:g}"].to_numpy()
                    summary[f"u_within_{t:g}"] = frame[f"no_jobs_within_{t:g}"].to_numpy()
            attrs = frame.attrs
        out[f"access_{mode}_nearest_min"] = summary["nearest_minutes"]
        if per_site:
            idx = summary["nearest_index"]
            out[f"access_{mode}_nearest_site"] = np.where(idx >= 0, site_ids[np.clip(idx, 0, None)], None)
        else:
            out[f"access_{mode}_nearest_site"] = frame["nearest_id"].to_numpy()
        out[f"access_{mode}_nearest_site_name"] = out[f"access_{mode}_nearest_site"].map(site_names)
        quartiles = {}
        if per_site:  # the gtfs engine's quartiles over the departures, to the nearest site and to each
            quartiles = {q: matrix[f"minutes_{q}"].to_numpy().reshape(len(origins), len(sites))
                         for q in QUARTILES if f"minutes_{q}" in matrix.columns}
            rows = np.arange(len(origins))
            for q, values in quartiles.items():
                out[f"access_{mode}_nearest_{q}"] = np.where(idx >= 0, values[rows, np.clip(idx, 0, None)], np.nan)
                docs[f"access_{mode}_nearest_{q}"] = (f"minutes to the nearest site by {mode}: {QUARTILES[q]} over "
                                                      f"the departures (the median is the nearest_min)")
        elif "timetable" in str(attrs.get("label", "")):
            notes.append(f"{mode}: quartiles over the departures are given for up to {PER_SITE_MAX} sites")
        for t in thresholds:
            out[f"access_{mode}_sites_{t:g}min"] = summary[f"n_within_{t:g}"].astype(int)
        if jobs:
            for t in thresholds:
                out[f"access_jobs_{t:g}min_{mode}"] = summary[f"w_within_{t:g}"]
                if f"u_within_{t:g}" in summary:
                    out[f"access_{mode}_sites_nojobs_{t:g}min"] = summary[f"u_within_{t:g}"].astype(int)
        if all_jobs and not too_many:
            if not per_site:
                matrix = travel_time_matrix(origins, sites, mode, engine=engine, **params)
                minutes = matrix["minutes"].to_numpy().reshape(len(origins), len(sites))
            out[f"access_{mode}_gravity"] = gravity(minutes, weights)
            docs[f"access_{mode}_gravity"] = (f"gravity accessibility by {mode}: sum over sites of jobs x "
                                              f"exp(-minutes / {GRAVITY_DECAY_MIN:g})")
        reasons = {u["id"]: u["reason"] for u in attrs.get("unreachable", []) if u["role"] == "origin"}
        out[f"access_{mode}_note"] = out["code"].map(reasons)
        docs.update(_mode_columns(mode, thresholds, bool(jobs)))
        if per_site:
            for j, sid in enumerate(site_ids):
                col = f"access_{mode}_min__{sid}"
                out[col] = minutes[:, j]
                for q, values in quartiles.items():
                    out[f"access_{mode}_min_{q}__{sid}"] = values[:, j]
                    docs[f"access_{mode}_min_{q}__{sid}"] = (f"minutes to {sites['name'].iloc[j]} by {mode}: "
                                                             f"{QUARTILES[q]} over the departures")
                docs[col] = f"minutes to {sites['name'].iloc[j]} by {mode} (NaN: unreachable)"
        notes.append(f"{mode}: {attrs['label']}")
        notes.extend(f"{mode}: {note}" for note in attrs.get("notes", []))
        # about the user's own sites, so not prefixed with the mode as the method notes are: named, as people know them
        notes.extend(f"site {site_names.get(u['id'], u['id'])} (by {mode}): {u['reason']}"
                     for u in attrs.get("unreachable", []) if u["role"] == "destination")
    out.attrs.update(columns=docs, notes=notes, level="lsoa", engine=engine, thresholds_min=thresholds)
    return out


def _weighted(values: pd.DataFrame, weight: pd.Series, group: pd.Series) -> pd.DataFrame:
    """Weighted mean per group of every column, ignoring NaN values (their weight drops out)."""
    ok = values.notna()
    num = values.fillna(0).mul(weight, axis=0).groupby(group.to_numpy()).sum()
    den = ok.mul(weight, axis=0).groupby(group.to_numpy()).sum()
    return num / den.where(den > 0)


def access_ward(lsoa_access: pd.DataFrame, population: pd.Series | None, wards: pd.DataFrame) -> pd.DataFrame:
    """Ward figures as population-weighted means of their LSOAs' figures.

    Parameters
    ----------
    lsoa_access : :func:`access_lsoa` output (needs ``code`` and ``ward_code``).
    population : usual residents per LSOA code (Census 2021); None -> equal weights (said in attrs).
    wards : ward ``code``, ``name``, ``lad_code``, ``lad_name`` (e.g. ``store.boundaries("ward", ...)``).

    Returns
    -------
    DataFrame keyed by ward ``code``: the numeric access columns as weighted means (minutes, counts and
    jobs: the figure for the average resident), ``access_<mode>_unreachable_pct`` (% of the weight in
    LSOAs with no site reachable) and ``n_lsoa``. ``attrs["notes"]`` states the weighting.
    """
    if "ward_code" not in lsoa_access.columns:
        raise WardscopeError("LSOA access figures have no ward_code; build them from lsoa_centroids()")
    frame = lsoa_access.reset_index(drop=True)
    if population is not None:
        weight = frame["code"].map(population).astype(float)
        missing = int(weight.isna().sum())
        if missing:
            raise WardscopeError(f"no population for {missing} LSOA(s), e.g. {frame.loc[weight.isna(), 'code'].iloc[0]}")
        how = "population-weighted (Census 2021 usual residents) from their LSOAs"
    else:
        weight = pd.Series(1.0, index=frame.index)
        how = "equal-weighted from their LSOAs (population not available; each LSOA counts once)"
    numeric = [c for c in frame.columns if c.startswith("access_") and pd.api.types.is_numeric_dtype(frame[c])]
    means = _weighted(frame[numeric].astype(float), weight, frame["ward_code"])
    for mode in sorted({c.split("_")[1] for c in numeric if c.endswith("_nearest_min")}):
        col = f"access_{mode}_nearest_min"
        unreachable = frame[col].isna().astype(float).mul(weight).groupby(frame["ward_code"].to_numpy()).sum()
        means[f"access_{mode}_unreachable_pct"] = 100 * unreachable / weight.groupby(frame["ward_code"].to_numpy()).sum()
    means["n_lsoa"] = frame.groupby("ward_code").size()
    base = pd.DataFrame(wards[["code", "name", "lad_code", "lad_name"]]).drop_duplicates("code")
    out = base.merge(means, left_on="code", right_index=True, how="inner").reset_index(drop=True)
    docs = {c: f"{lsoa_access.attrs.get('columns', {}).get(c, c)}; ward: {how}" for c in numeric}
    for c in out.columns:
        if c.endswith("_unreachable_pct"):
            docs[c] = f"% of the ward's weight in LSOAs with no site reachable by {c.split('_')[1]}"
    out.attrs.update(columns=docs, notes=list(lsoa_access.attrs.get("notes", [])) + [f"ward figures are {how}"],
                     level="ward", weighting=how)
    return out


def access_gap(access: pd.DataFrame, priority: pd.DataFrame, no_car: pd.DataFrame, *,
               far_min: float = GAP_FAR_MIN, modes: Sequence[str] = GAP_MODES,
               priority_bands: Sequence[str] = GAP_PRIORITY_BANDS, no_car_pct_min: float | None = None) -> pd.DataFrame:
    """Flag areas that are high priority, far from sites by bus or on foot, and low in car ownership.

    Parameters
    ----------
    access : access layer with ``code`` and ``access_<mode>_nearest_min`` for at least one of ``modes``.
    priority : ``code`` and ``band`` (``top 10%``/``top 20%``/``other``, as layers.scoring gives); with only
        ``score``, bands are made here: the top 10% and next 10% of scores.
    no_car : ``code`` and ``value``: % of households with no car or van (Census 2021).
    far_min : "far" when the quickest of ``modes`` to the nearest site exceeds this (minutes) or no site is
        reachable by any of them.
    priority_bands : bands counted as high priority.
    no_car_pct_min : "low car ownership" when the no-car share is at least this (%); default: the median
        of ``no_car`` over the areas in ``access`` (so "above the middle of the areas compared").

    Returns
    -------
    DataFrame keyed by ``code``: ``access_gap`` (boolean; <NA> when priority or car data are missing),
    ``access_gap_best_min`` (quickest of the modes, minutes), ``access_gap_best_mode``, ``priority_band``,
    ``no_car_pct``, ``access_gap_reason``. ``attrs["thresholds"]`` records the thresholds used.
    """
    cols = {m: f"access_{m}_nearest_min" for m in modes if f"access_{m}_nearest_min" in access.columns}
    if not cols:
        raise WardscopeError(f"access figures have none of {', '.join(f'access_{m}_nearest_min' for m in modes)}; "
                             f"compute access by {' or '.join(modes)} first")
    for name, frame, need in (("priority", priority, "code"), ("no-car share", no_car, "value")):
        if "code" not in frame.columns or need not in frame.columns:
            raise WardscopeError(f"the {name} table needs columns code and {need}")
    out = pd.DataFrame({"code": access["code"].to_numpy()})
    times = np.column_stack([access[c].to_numpy(dtype=float) for c in cols.values()])
    filled = np.where(np.isnan(times), np.inf, times)
    best = filled.min(axis=1)
    out["access_gap_best_min"] = np.where(np.isfinite(best), best, np.nan)
    out["access_gap_best_mode"] = np.where(np.isfinite(best), np.array(list(cols))[filled.argmin(axis=1)], None)
    if "band" in priority.columns:
        bands = priority.set_index("code")["band"]
    elif "score" in priority.columns:
        pct = priority.set_index("code")["score"].rank(ascending=False, pct=True)
        bands = pd.Series(np.select([pct <= 0.1, pct <= 0.2], ["top 10%", "top 20%"], "other"), index=pct.index)
    else:
        raise WardscopeError("the priority table needs a band or a score column")
    out["priority_band"] = out["code"].map(bands)
    out["no_car_pct"] = out["code"].map(pd.to_numeric(no_car.set_index("code")["value"], errors="coerce"))
    threshold = float(no_car_pct_min) if no_car_pct_min is not None else float(out["no_car_pct"].median())
    far = ~(out["access_gap_best_min"] <= far_min)  # NaN (unreachable) counts as far
    high = out["priority_band"].isin(list(priority_bands))
    low_car = out["no_car_pct"] >= threshold
    known = out["priority_band"].notna() & out["no_car_pct"].notna()
    flag = (far & high & low_car).astype("boolean")
    flag[~known] = pd.NA
    out["access_gap"] = flag

    def reason(row) -> str:
        if pd.isna(row.access_gap):
            return "no priority band or no-car share for this area"
        best = ("no site reachable" if pd.isna(row.access_gap_best_min)
                else f"{row.access_gap_best_min:.0f} min by {row.access_gap_best_mode}")
        parts = [f"priority {row.priority_band}", f"nearest site {best}", f"{row.no_car_pct:.1f}% no car"]
        return ("gap: " if row.access_gap else "no gap: ") + ", ".join(parts)

    out["access_gap_reason"] = [reason(r) for r in out.itertuples(index=False)]
    out.attrs.update(
        thresholds={"far_min": far_min, "modes": list(cols), "priority_bands": list(priority_bands),
                    "no_car_pct_min": threshold,
                    "no_car_rule": "given" if no_car_pct_min is not None else "median of the areas compared"},
        columns={"access_gap": (f"high priority ({'/'.join(priority_bands)}) AND quickest of {'/'.join(cols)} to the "
                                f"nearest site over {far_min:g} min (or none reachable) AND no-car share >= {threshold:.1f}%")},
    )
    return out


def access_layer(area, sites: gpd.GeoDataFrame, modes: Sequence[str] = ("bus",), *, level: str = "lsoa",
                 engine: str | None = None, store=None, population: pd.Series | None = None,
                 **params) -> pd.DataFrame:
    """The access layer for an area of interest (name, code or :class:`geo.areas.Area`) at ``lsoa`` or ``ward``.

    Returns a DataFrame keyed by ``code`` with ``name``, ``lad_code``, ``lad_name`` first. For wards the
    LSOA figures are population-weighted (``population`` given, else Census 2021 via
    :func:`census_population`, else equal weights, noted in ``attrs["notes"]``).
    """
    from geo.areas import Area, resolve_area
    from geo.store import open_store

    if level not in ("lsoa", "ward"):
        raise WardscopeError(f"access figures are for level lsoa or ward, not {level!r}")
    store = store or open_store()
    if not isinstance(area, Area):
        area = resolve_area(area, store.districts())
    origins = lsoa_centroids(store, area.lad_codes, urban_rural=True)
    lsoa = access_lsoa(origins, sites, modes, engine=engine, **params)
    lsoa.attrs["notes"] = [f"area: {area.name}"] + lsoa.attrs["notes"]
    if level == "lsoa":
        return lsoa
    if population is None:
        population = census_population(area.lad_codes)
    wards = store.boundaries("ward", area.lad_codes)
    return access_ward(lsoa, population, wards)


def access_indicators(frame: pd.DataFrame, modes: Sequence[str]) -> tuple[pd.DataFrame, dict]:
    """Access figures as scoring indicators: (table keyed by ``code``, registry entries by id).

    The ids are ``access_<mode>_nearest_min`` (minutes to the nearest site; more minutes = more need).
    They exist only for the area the access layer was computed for, so a profile normalises them
    over that area (the caveat says so).
    """
    from layers.registry import Indicator

    table = frame[["code"]].copy()
    entries = {}
    for mode in modes:
        col = f"access_{mode}_nearest_min"
        if col not in frame.columns:
            raise WardscopeError(f"the access layer has no {col}; compute access by {mode} first")
        table[col] = frame[col].to_numpy(dtype=float)
        entries[col] = Indicator(
            id=col, label=f"Minutes to the nearest employment site by {mode}", topic="Transport access",
            publisher="Wardscope", dataset="access to the sites in this session", period="current sites",
            levels=["lsoa", "ward"], unit="minutes", direction=1, kind="score", estimate=True,
            caveat=("Estimated door-to-door time to the nearest site in this session's site list; exists only for "
                    "the area it was computed for, so it is compared within that area. Unreachable areas count as "
                    "missing, never as a short time."),
            licence="", attribution="")
    return table, entries
