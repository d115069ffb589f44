"""Census 2021 indicators on LSOA 2021, as numerator and denominator counts.

Two inputs give the same indicators:

* **Nomis bulk tables** (online, or a mirror holding the zips): the LSOA
  member of each table, exact ONS counts (cell-key perturbed).
* **The mirror's output-area percentages** plus its LSOA count tables.
  OA percentages (of each topic's universe, rounded to 0.1) are averaged to
  LSOA weighted by OA usual residents, the only OA weight there is, then
  turned into estimated counts with the LSOA's real universe where the
  mirror has it (aged 16+ from the age table, all residents from TS038,
  households from TS011). Disability (TS038), household deprivation (TS011)
  and residents aged 16-64 are real LSOA counts.

Both end in :func:`finish`: the same checks (no negative counts, no
numerator above its denominator) and the same table, ``census_lsoa``:
``code``, ``lad_code``, then ``<id>`` (per cent), ``<id>__num`` and
``<id>__den`` for each rate and ``<id>`` for each count. Counts are summed
upwards by :mod:`layers.aggregate`; rates are never averaged.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from geo import atomic
from geo.errors import PublisherError, SourceFileError
from geo.online import fetch_nomis_bulk, register_fetcher
from layers.checks import (check_non_negative, check_num_den, check_pattern, check_range, file_row, read_table,
                           restrict_codes, to_numbers)

TABLE = "census"

TOTAL_16 = "Economic activity status: Total: All usual residents aged 16 years and over"
UNPAID = "Provision of unpaid care: Provides {} unpaid care a week"
ENGLISH = "Proficiency in English language: Main language is not English (English or Welsh in Wales): {}"

#: Nomis bulk: id -> (dataset, numerator columns (summed), denominator column). Headers as published,
#: compared after :func:`normalise_header` (the "; measures: Value" suffix and colon spacing vary by table).
BULK_RATES = {
    "census21_inactive_pct": ("census21_bulk_ts066", ["Economic activity status: Economically inactive"], TOTAL_16),
    "census21_unemployed_pct": ("census21_bulk_ts066", [
        "Economic activity status: Economically active (excluding full-time students): Unemployed",
        "Economic activity status: Economically active and a full-time student: Unemployed"], TOTAL_16),
    "census21_bad_health_pct": ("census21_bulk_ts037", ["General health: Bad health", "General health: Very bad health"],
                                "General health: Total: All usual residents"),
    "census21_disabled_pct": ("census21_bulk_ts038", ["Disability: Disabled under the Equality Act"],
                              "Disability: Total: All usual residents"),
    "census21_no_qualifications_pct": ("census21_bulk_ts067", ["Highest level of qualification: No qualifications"],
                                       "Highest level of qualification: Total: All usual residents aged 16 years and over"),
    "census21_unpaid_carers_pct": ("census21_bulk_ts039", [UNPAID.format("19 hours or less"), UNPAID.format("20 to 49 hours"),
                                                           UNPAID.format("50 or more hours")],
                                   "Provision of unpaid care: Total: All usual residents aged 5 and over"),
    "census21_never_worked_pct": ("census21_bulk_ts065", ["Unemployment history: Not in employment: Never worked"],
                                  "Unemployment history: Total: All usual residents aged 16 years and over not in "
                                  "employment the week before the census"),
    "census21_poor_english_pct": ("census21_bulk_ts029", [ENGLISH.format("Cannot speak English well"),
                                                          ENGLISH.format("Cannot speak English")],
                                  "Proficiency in English language: Total: All usual residents aged 3 years and over"),
    "census21_no_car_pct": ("census21_bulk_ts045", ["Number of cars or vans: No cars or vans in household"],
                            "Number of cars or vans: Total: All households"),
    "census21_hh_deprived_3plus_pct": ("census21_bulk_ts011", [
        "Household deprivation: Household is deprived in three dimensions",
        "Household deprivation: Household is deprived in four dimensions"], "Household deprivation: Total: All households"),
}
BULK_AGE = ("census21_bulk_ts007", [f"Age: Aged {band} years" for band in
                                    ("16 to 19", "20 to 24", "25 to 34", "35 to 49", "50 to 64")])

#: Mirror OA percentages: id -> (dataset, categories (summed), universe).
OA_RATES = {
    "census21_inactive_pct": ("census21_oa_economic_activity", ["Economically inactive"], "pop16"),
    "census21_unemployed_pct": ("census21_oa_economic_activity",
                                ["Economically active: Unemployed (including full-time students)"], "pop16"),
    "census21_bad_health_pct": ("census21_oa_health", ["Bad or very bad health"], "pop_all"),
    "census21_no_qualifications_pct": ("census21_oa_qualifications", ["No qualifications"], "pop16"),
    "census21_unpaid_carers_pct": ("census21_oa_carers", [
        "Provides 19 or less hours unpaid care a week", "Provides 20 to 49 hours unpaid care a week",
        "Provides 50 or more hours unpaid care a week"], "pop5"),
    "census21_never_worked_pct": ("census21_oa_ever_worked", ["Not in employment: Never worked"], "not_in_employment"),
    "census21_poor_english_pct": ("census21_oa_english", [
        "Main language is not English (English or Welsh in Wales): Cannot speak English or cannot speak English well"], "pop3"),
    "census21_no_car_pct": ("census21_oa_cars", ["No cars or vans in household"], "households"),
}
IN_EMPLOYMENT = "Economically active: In employment (including full-time students)"
AGE_BANDS = ["Aged 15 years and under", "Aged 16 to 24 years", "Aged 25 to 34 years", "Aged 35 to 49 years",
             "Aged 50 to 64 years", "Aged 65 years and over"]
#: Share of the 0-15 band aged 0-4 (and 0-2) when only the 0-15 count exists: 5 (3) of its 16 single years.
UNDER5_OF_0_15 = 5 / 16
UNDER3_OF_0_15 = 3 / 16
RATE_IDS = list(BULK_RATES)
COUNT_IDS = ["census21_pop_16_64", "census21_population"]
BULK_DATASETS = sorted({spec[0] for spec in BULK_RATES.values()} | {BULK_AGE[0]})
OA_DATASETS = sorted({spec[0] for spec in OA_RATES.values()})
MIRROR_COUNT_DATASETS = ["oa21_lsoa21", "census21_age_lsoa", "census21_disability_lsoa", "census21_hh_deprivation_lsoa"]


# --- Nomis bulk tables ---------------------------------------------------------------------------------

def normalise_header(text: str) -> str:
    """A bulk-table header without the "; measures: Value" suffix, with one space after each colon."""
    text = re.sub(r";\s*measures:\s*Value\s*$", "", str(text).strip())
    text = re.sub(r"\s*:\s*", ": ", text)
    return " ".join(text.split())


def _open_member(path: Path, member: str, source: str) -> str:
    """The text of ``member`` from a bulk zip at ``path``, or of ``path`` itself when it is the CSV."""
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
                if member not in names:
                    raise SourceFileError(f"{source}: the zip has no {member} (it holds {', '.join(names[:8])})")
                data = zf.read(member)
        else:
            data = path.read_bytes()
    except FileNotFoundError:
        raise SourceFileError(f"{source}: file not found") from None
    except zipfile.BadZipFile as exc:
        raise SourceFileError(f"{source}: damaged zip ({exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceFileError(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def read_bulk(path: Path, member: str, wanted: list[str], *, source: str) -> pd.DataFrame:
    """Read a Nomis Census 2021 bulk table: ``code`` (from ``geography code``) and the ``wanted`` columns as numbers.

    Raises :class:`SourceFileError` naming the file when it is not a bulk
    table (e.g. an HTML error page), lacks a column, or has a non-numeric cell.
    """
    text = _open_member(path, member, source)
    head = text[:200].lstrip().lower()
    if head.startswith("<") or "<html" in head:
        raise SourceFileError(f"{source}: is a web page, not a Nomis bulk table ({text.strip()[:60]!r})")
    try:
        header = next(csv.reader(io.StringIO(text)))
    except (StopIteration, csv.Error):
        raise SourceFileError(f"{source}: empty or malformed CSV") from None
    norm = [normalise_header(h) for h in header]
    if "geography code" not in norm:
        raise SourceFileError(f"{source}: not a Nomis bulk table (no 'geography code' column; header starts {header[:3]})")
    missing = [w for w in wanted if normalise_header(w) not in norm]
    if missing:
        raise SourceFileError(f"{source}: missing column {missing[0]!r} ({len(missing)} missing); is this the right table?")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""], on_bad_lines="error")
    except (pd.errors.ParserError, csv.Error) as exc:
        raise SourceFileError(f"{source}: malformed CSV ({str(exc).strip().splitlines()[0]})") from None
    frame.columns = norm
    cols = [normalise_header(w) for w in wanted]
    out = frame[["geography code", *dict.fromkeys(cols)]].rename(columns={"geography code": "code"})
    return to_numbers(out, list(dict.fromkeys(cols)), source=source)


def counts_from_bulk(source, lsoa_codes: pd.Index) -> tuple[pd.DataFrame, dict]:
    """LSOA counts (``<id>__num``/``__den``, ``census21_pop_16_64``, ``pop_total``) from the Nomis bulk tables."""
    out = pd.DataFrame(index=lsoa_codes)
    tables: dict[str, tuple[pd.DataFrame, str]] = {}
    needed: dict[str, list[str]] = {}
    for ds, nums, den in BULK_RATES.values():
        needed.setdefault(ds, []).extend(nums + [den])
    needed.setdefault(BULK_AGE[0], []).extend(BULK_AGE[1])
    for ds, cols in needed.items():
        path = source.path(ds)
        member = _member(ds)
        name = f"{source.origin(ds)} ({member})" if zipfile.is_zipfile(path) else str(source.origin(ds))
        frame = read_bulk(path, member, cols, source=name)
        frame = restrict_codes(frame, "code", lsoa_codes, source=name, what="LSOA 2021")
        check_non_negative(frame, [normalise_header(c) for c in dict.fromkeys(cols)], source=name)
        tables[ds] = (frame, name)
    for ind, (ds, nums, den) in BULK_RATES.items():
        frame, name = tables[ds]
        part = pd.DataFrame({"code": frame["code"], "num": frame[[normalise_header(n) for n in nums]].sum(axis=1),
                             "den": frame[normalise_header(den)]}, index=frame.index)
        check_num_den(part, "num", "den", source=name, what=ind)
        part = part.set_index("code")
        out[f"{ind}__num"] = part["num"].reindex(lsoa_codes)
        out[f"{ind}__den"] = part["den"].reindex(lsoa_codes)
    age, _ = tables[BULK_AGE[0]]
    out["census21_pop_16_64"] = age.set_index("code")[[normalise_header(c) for c in BULK_AGE[1]]].sum(axis=1).reindex(lsoa_codes)
    out["pop_total"] = out["census21_disabled_pct__den"]
    out["census21_population"] = out["pop_total"]
    method = {ind: f"ONS counts, Nomis bulk table {BULK_RATES[ind][0].rsplit('_', 1)[-1].upper()}" for ind in RATE_IDS}
    method["census21_population"] = "ONS counts, Nomis bulk table TS038 (all usual residents)"
    method["census21_pop_16_64"] = "ONS counts, Nomis bulk table TS007"
    return out, method


def _member(dataset_id: str) -> str:
    from geo.sources import dataset

    return dataset(dataset_id).online["member"]


# --- online: the OA to LSOA lookup with TS001 residents (geo/sources.yaml oa21_lsoa21, kind oa_lookup) ------

TS001 = {"usual_residents": "Residence type: Total", "lives_in_household": "Residence type: Lives in a household",
         "lives_in_communal_establishment": "Residence type: Lives in a communal establishment"}


def fetch_oa_lookup(ds, dest: Path, dl) -> Path:
    """The mirror's ``oa21_lsoa21_lookup.csv`` layout from the ONS OA to LSOA lookup and the TS001 OA table.

    Nomis's TS001 output-area member has no LSOA column, so the parents come
    from the lookup and the residents from TS001; every output area of the
    lookup must have its TS001 row.
    """
    from geo.arcgis import fetch_arcgis  # imported when needed, as geo.online does

    spec = ds.online
    lookup_path = fetch_arcgis(dataclasses.replace(ds, online=spec["lookup"]), dest.with_name("oa_lsoa_lookup.csv"), dl)
    residents = dataclasses.replace(ds, online=spec["residents"])
    ts001_path = fetch_nomis_bulk(residents, dest.with_name(spec["residents"]["member"]), dl)
    lookup = read_table(lookup_path, ["OA21CD", "LSOA21CD", "LSOA21NM"], source=f"{ds.title} (ONS lookup)")
    counts = read_bulk(ts001_path, spec["residents"]["member"], list(TS001.values()), source=f"{ds.title} (TS001)")
    counts = counts.rename(columns={normalise_header(v): k for k, v in TS001.items()}).set_index("code")
    missing = lookup.loc[~lookup["OA21CD"].isin(counts.index), "OA21CD"]
    if len(missing):
        raise PublisherError(f"{ds.title}: {len(missing)} output areas of the ONS lookup have no TS001 row, "
                             f"first {missing.iloc[0]}")
    table = lookup.join(counts[list(TS001)].astype("int64"), on="OA21CD")
    return atomic.write_text(dest, table.to_csv(index=False, lineterminator="\n"))


register_fetcher("oa_lookup", fetch_oa_lookup)


# --- mirror: OA percentages and LSOA count tables ------------------------------------------------------

def _oa_lookup(source, lsoa_codes: pd.Index) -> pd.DataFrame:
    path = source.path("oa21_lsoa21")
    name = str(source.origin("oa21_lsoa21"))
    frame = read_table(path, ["OA21CD", "LSOA21CD", "usual_residents"], numeric=["usual_residents"], source=name)
    check_pattern(frame, "OA21CD", r"[EW]00\d{6}", source=name, what="output area")
    frame = frame[frame["OA21CD"].str.startswith("E")]
    check_non_negative(frame, ["usual_residents"], source=name)
    restrict_codes(frame.drop_duplicates("LSOA21CD"), "LSOA21CD", lsoa_codes, source=name, what="LSOA 2021")
    dup = frame["OA21CD"].duplicated()
    if dup.any():
        pos = int(np.flatnonzero(dup.to_numpy())[0])
        raise SourceFileError(f"{name}: row {file_row(frame, pos)}: output area {frame['OA21CD'].iloc[pos]} appears twice")
    return frame.set_index("OA21CD")


def _oa_topic(source, dataset_id: str, categories: list[str], oas: pd.Index) -> pd.DataFrame:
    path = source.path(dataset_id)
    name = str(source.origin(dataset_id))
    frame = read_table(path, ["OA21CD", *categories], numeric=categories, allow_blank=categories, source=name)
    frame = restrict_codes(frame, "OA21CD", oas, source=name, what="output area")
    check_range(frame, categories, 0, 100, source=name, what="percentage")
    return frame.set_index("OA21CD")[categories]


def _weighted_to_lsoa(pct: pd.Series, weight: pd.Series, lsoa_of: pd.Series) -> pd.Series:
    """Weighted mean of OA percentages by LSOA, over OAs that have a value."""
    ok = pct.notna() & weight.notna()
    w = weight.where(ok, 0.0)
    num = (pct.fillna(0.0) * w).groupby(lsoa_of).sum()
    den = w.groupby(lsoa_of).sum()
    return (num / den.where(den > 0)).astype("float64")


def _long_table(source, dataset_id: str, category_col: str, value_col: str, total_col: str | None,
                lsoa_codes: pd.Index, expected: list[str] | None = None) -> tuple[pd.DataFrame, pd.Series | None]:
    """A tidy LSOA count table (one row per LSOA and category) as a wide frame, checked row by row."""
    path = source.path(dataset_id)
    name = str(source.origin(dataset_id))
    cols = ["LSOA21CD", category_col, value_col] + ([total_col] if total_col else [])
    numeric = [value_col] + ([total_col] if total_col else [])
    frame = read_table(path, cols, numeric=numeric, source=name)
    frame = frame[frame["LSOA21CD"].str.startswith("E")]
    check_non_negative(frame, numeric, source=name)
    if total_col:
        check_num_den(frame.rename(columns={"LSOA21CD": "code"}), value_col, total_col, source=name, what=dataset_id)
    if expected is not None:
        odd = ~frame[category_col].isin(expected)
        if odd.any():
            pos = int(np.flatnonzero(odd.to_numpy())[0])
            raise SourceFileError(f"{name}: row {file_row(frame, pos)}: unexpected {category_col} {frame[category_col].iloc[pos]!r}")
    dup = frame.duplicated(["LSOA21CD", category_col])
    if dup.any():
        pos = int(np.flatnonzero(dup.to_numpy())[0])
        raise SourceFileError(f"{name}: row {file_row(frame, pos)}: {frame['LSOA21CD'].iloc[pos]} has "
                              f"{frame[category_col].iloc[pos]!r} twice")
    restrict_codes(frame.drop_duplicates("LSOA21CD"), "LSOA21CD", lsoa_codes, source=name, what="LSOA 2021")
    wide = frame.pivot(index="LSOA21CD", columns=category_col, values=value_col).reindex(lsoa_codes)
    total = frame.drop_duplicates("LSOA21CD").set_index("LSOA21CD")[total_col].reindex(lsoa_codes) if total_col else None
    return wide, total


def counts_from_mirror(source, lsoa_codes: pd.Index) -> tuple[pd.DataFrame, dict]:
    """LSOA counts from the mirror: real count tables, and estimates from OA percentages."""
    out = pd.DataFrame(index=lsoa_codes)
    age, _ = _long_table(source, "census21_age_lsoa", "age_group", "usual_residents", None, lsoa_codes, AGE_BANDS)
    pop_all = age[AGE_BANDS].sum(axis=1, min_count=len(AGE_BANDS))
    pop16 = age[AGE_BANDS[1:]].sum(axis=1, min_count=len(AGE_BANDS) - 1)
    out["census21_pop_16_64"] = age[AGE_BANDS[1:5]].sum(axis=1, min_count=4)
    dis, dis_total = _long_table(source, "census21_disability_lsoa", "disability", "n", "total_residents", lsoa_codes)
    disabled = "Disabled under the Equality Act"
    if disabled not in dis.columns:
        raise SourceFileError(f"{source.origin('census21_disability_lsoa')}: no rows for {disabled!r}")
    out["census21_disabled_pct__num"] = dis[disabled]
    out["census21_disabled_pct__den"] = dis_total
    dep, households = _long_table(source, "census21_hh_deprivation_lsoa", "deprivation_dimensions", "n",
                                  "total_households", lsoa_codes)
    three_plus = ["Household is deprived in three dimensions", "Household is deprived in four dimensions"]
    missing = [c for c in three_plus if c not in dep.columns]
    if missing:
        raise SourceFileError(f"{source.origin('census21_hh_deprivation_lsoa')}: no rows for {missing[0]!r}")
    out["census21_hh_deprived_3plus_pct__num"] = dep[three_plus].sum(axis=1, min_count=2)
    out["census21_hh_deprived_3plus_pct__den"] = households

    oa = _oa_lookup(source, lsoa_codes)
    res, lsoa_of = oa["usual_residents"], oa["LSOA21CD"]
    young = age["Aged 15 years and under"]
    universes = {"pop16": pop16, "pop_all": dis_total, "households": households,
                 "pop5": pop_all - UNDER5_OF_0_15 * young, "pop3": pop_all - UNDER3_OF_0_15 * young}
    topics: dict[str, pd.DataFrame] = {}
    for ds, cats, _ in OA_RATES.values():
        wanted = cats + ([IN_EMPLOYMENT] if ds == "census21_oa_economic_activity" else [])
        topics.setdefault(ds, [])
        topics[ds] = list(dict.fromkeys(topics[ds] + wanted))
    frames = {ds: _oa_topic(source, ds, cats, oa.index).reindex(oa.index) for ds, cats in topics.items()}
    not_employed_oa = 100.0 - frames["census21_oa_economic_activity"][IN_EMPLOYMENT]
    not_employed = _weighted_to_lsoa(not_employed_oa, res, lsoa_of).reindex(lsoa_codes)
    universes["not_in_employment"] = pop16 * not_employed / 100.0
    for ind, (ds, cats, universe) in OA_RATES.items():
        pct_oa = frames[ds][cats].sum(axis=1, min_count=len(cats)).clip(upper=100.0)
        weight = res * not_employed_oa / 100.0 if universe == "not_in_employment" else res
        pct = _weighted_to_lsoa(pct_oa, weight, lsoa_of).reindex(lsoa_codes)
        den = universes[universe]
        out[f"{ind}__num"] = pct / 100.0 * den
        out[f"{ind}__den"] = den
    out["census21_population"] = dis_total
    out = out[[f"{i}__{p}" for i in RATE_IDS for p in ("num", "den")] + COUNT_IDS]
    out["pop_total"] = dis_total
    method = {ind: "estimate from output-area percentages weighted by OA usual residents" for ind in OA_RATES}
    method["census21_population"] = "ONS counts, TS038 all usual residents (LSOA)"
    method["census21_disabled_pct"] = "ONS counts, TS038 (LSOA)"
    method["census21_hh_deprived_3plus_pct"] = "ONS counts, TS011 (LSOA)"
    method["census21_pop_16_64"] = "ONS counts, usual residents by age (LSOA)"
    return out, method


# --- both --------------------------------------------------------------------------------------------

def finish(counts: pd.DataFrame, lsoa: pd.DataFrame, *, source_name: str) -> pd.DataFrame:
    """The ``census_lsoa`` table: checked counts, per-cent values, keyed by ``code`` with ``lad_code``."""
    frame = counts.copy()
    frame.index.name = "code"
    checked = frame.reset_index()
    checked.index = checked.index - 1  # report table rows, not file rows (the files were checked already)
    for ind in RATE_IDS:
        num, den = f"{ind}__num", f"{ind}__den"
        check_non_negative(checked.fillna(0), [num, den], source=source_name)
        check_num_den(checked.fillna(0), num, den, source=source_name, what=ind, slack=1e-9)
        with np.errstate(invalid="ignore", divide="ignore"):
            frame[ind] = np.where(frame[den] > 0, 100.0 * frame[num] / frame[den], np.nan)
    ordered = [c for ind in RATE_IDS for c in (ind, f"{ind}__num", f"{ind}__den")] + COUNT_IDS
    out = frame[ordered].reset_index()
    out.insert(1, "lad_code", lsoa.set_index("code")["lad_code"].reindex(out["code"]).to_numpy())
    return out


def build(source, lsoa: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict, list[str]]:
    """(census_lsoa table, population weights, method per id, dataset ids used) from the best input available.

    The Nomis bulk tables win when the source has all of them (online, or a
    mirror that holds the zips); otherwise the mirror's OA percentages.
    """
    codes = pd.Index(lsoa["code"].to_numpy(dtype=object), dtype=object)
    if all(source.has(ds) for ds in BULK_DATASETS):
        counts, method = counts_from_bulk(source, codes)
        used = BULK_DATASETS
    else:
        counts, method = counts_from_mirror(source, codes)
        used = OA_DATASETS + MIRROR_COUNT_DATASETS
    weights = pd.DataFrame({"pop_total": counts["pop_total"], "pop_working_age": counts["census21_pop_16_64"]})
    table = finish(counts.drop(columns="pop_total"), lsoa, source_name=f"Census 2021 ({source.describe()})")
    return table, weights, method, used
