"""English Indices of Deprivation 2025 (LSOA 2021) and 2019 (LSOA 2011, converted to LSOA 2021).

One reader per edition accepts both layouts of the same data: MHCLG's own
headers (File 7 online; Files 1, 2 and 6 in the mirror for 2019) and the
renamed columns of the mirror's IoD 2025 copy (``IMD_score``...). Headers
are compared with whitespace collapsed (the xlsx exports carry line breaks).

Checks: codes in the store, ranks within 1..N, deciles 1..10 and consistent
with their rank (decile = ceil(10 * rank / N), as published), income and
employment rates within 0..1, numerators not negative.

Above LSOA, scores become population-weighted averages and deciles become
the share of LSOAs in the most deprived 10% and 20% nationally (as MHCLG's
district summaries do). Ranks and deciles are never averaged. For that, the
tables hold ``<id>__num`` (score x population) and ``<id>__den``
(population), and 0/1 numerators for the shares, so aggregation is a sum.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import SourceFileError
from layers.checks import check_non_negative, check_range, file_row, read_table, restrict_codes

#: (id stem, MHCLG name, mirror column stem)
DOMAINS = [
    ("imd2025", "Index of Multiple Deprivation (IMD)", "IMD"),
    ("imd2025_income", "Income", "Income"),
    ("imd2025_employment", "Employment", "Employment"),
    ("imd2025_education", "Education, Skills and Training", "Education"),
    ("imd2025_health", "Health Deprivation and Disability", "Health"),
    ("imd2025_crime", "Crime", "Crime"),
    ("imd2025_barriers", "Barriers to Housing and Services", "Housing_and_Services"),
    ("imd2025_living_environment", "Living Environment", "Environment"),
]
RATE_DOMAINS = ("Income", "Employment")  # their scores are rates (0..1), headed "Score (rate)"
LSOA21_ENGLAND = 33755
LSOA11_ENGLAND = 32844
POP25 = {"pop_total": "Total population: mid 2022",
         "pop_working_age": "Working age population 18-66 (for use with Employment Deprivation Domain): mid 2022"}
POP19 = "Total population: mid 2015 (excluding prisoners)"
NUMERATORS25 = {"imd2025_income_count": "income_domain_numerator",
                "imd2025_employment_count": "employment_domain_numerator"}
SHARES = {"most_deprived_10pct": 1, "most_deprived_20pct": 2}


def norm(text: str) -> str:
    return " ".join(str(text).replace("\ufeff", "").split())


def rank_header(name: str) -> str:
    return f"{name} Rank (where 1 is most deprived)"


def decile_header(name: str) -> str:
    return f"{name} Decile (where 1 is most deprived 10% of LSOAs)"


def score_header(name: str) -> str:
    return f"{name} Score (rate)" if name in RATE_DOMAINS else f"{name} Score"


def _header(path: Path, source: str) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            first = handle.read(1 << 16)
    except FileNotFoundError:
        raise SourceFileError(f"{source}: file not found") from None
    except UnicodeDecodeError as exc:
        raise SourceFileError(f"{source}: not UTF-8 text ({exc.reason})") from None
    if first.lstrip().lower().startswith("<"):
        raise SourceFileError(f"{source}: is a web page, not an Indices of Deprivation file ({first.strip()[:60]!r})")
    try:
        return next(csv.reader(io.StringIO(first)))
    except (StopIteration, csv.Error):
        raise SourceFileError(f"{source}: empty or malformed CSV") from None


def _read_mapped(path: Path, mapping: dict[str, str], *, source: str, numeric: list[str], allow_blank: list[str] = ()) -> pd.DataFrame:
    """Read columns by header (whitespace-insensitive) and rename them to canonical names."""
    header = _header(path, source)
    by_norm = {norm(h): h.strip().replace("\ufeff", "") for h in header}
    missing = [want for want in mapping.values() if norm(want) not in by_norm]
    if missing:
        raise SourceFileError(f"{source}: missing column {missing[0]!r} ({len(missing)} missing; found {', '.join(header[:4])}, ...)")
    real = {canon: by_norm[norm(want)] for canon, want in mapping.items()}
    frame = read_table(path, list(real.values()), source=source,
                       numeric=[real[c] for c in numeric], allow_blank=[real[c] for c in allow_blank], thousands=",")
    return frame.rename(columns={v: k for k, v in real.items()})[list(mapping)]


def _check_rank_decile(frame: pd.DataFrame, rank: str, decile: str, n: int, *, source: str) -> None:
    check_range(frame, [rank], 1, n, source=source, what="rank")
    check_range(frame, [decile], 1, 10, source=source, what="decile")
    for col in (rank, decile):
        values = frame[col].to_numpy()
        frac = values != np.round(values)
        if frac.any():
            pos = int(np.flatnonzero(frac)[0])
            raise SourceFileError(f"{source}: row {file_row(frame, pos)} {col}: {values[pos]:g} is not a whole number")
    expected = np.ceil(frame[rank].to_numpy() * 10 / n)
    off = expected != frame[decile].to_numpy()
    if off.any():
        pos = int(np.flatnonzero(off)[0])
        raise SourceFileError(
            f"{source}: row {file_row(frame, pos)} ({frame['code'].iloc[pos]}): decile {frame[decile].iloc[pos]:g} does not "
            f"match rank {frame[rank].iloc[pos]:g} of {n} (expected decile {expected[pos]:g})")


# --- IoD 2025 ------------------------------------------------------------------------------------------

def read_iod2025(path: Path, lsoa_codes: pd.Index, *, source: str) -> pd.DataFrame:
    """IoD 2025 scores, ranks and deciles by LSOA 2021 from File 7 or the mirror's copy.

    Returns ``code``, ``<stem>_score``/``_rank``/``_decile`` per domain and,
    from File 7, ``pop_total`` and ``pop_working_age`` (mid-2022).
    """
    header = {norm(h) for h in _header(path, source)}
    file7 = norm("LSOA code (2021)") in header
    mapping = {"code": "LSOA code (2021)" if file7 else "LSOA21CD"}
    for stem, name, short in DOMAINS:
        mapping[f"{stem}_score"] = score_header(name) if file7 else f"{short}_score"
        mapping[f"{stem}_rank"] = rank_header(name) if file7 else f"{short}_rank"
        mapping[f"{stem}_decile"] = decile_header(name) if file7 else f"{short}_decile"
    if file7:
        mapping.update(POP25)
    numeric = [c for c in mapping if c != "code"]
    frame = _read_mapped(path, mapping, source=source, numeric=numeric)
    frame = restrict_codes(frame, "code", lsoa_codes, source=source, what="LSOA 2021")
    for stem, name, _ in DOMAINS:
        _check_rank_decile(frame, f"{stem}_rank", f"{stem}_decile", LSOA21_ENGLAND, source=source)
        if name in RATE_DOMAINS:
            check_range(frame, [f"{stem}_score"], 0, 1, source=source, what=f"{name.lower()} rate")
    if file7:
        check_non_negative(frame, list(POP25), source=source)
    return frame


def read_iod2025_numerators(path: Path, lsoa_codes: pd.Index, *, source: str) -> pd.DataFrame:
    """Income and employment domain numerators (File 8; blanks are suppressed cells)."""
    mapping = {"code": "LSOA21CD", **NUMERATORS25}
    frame = _read_mapped(path, mapping, source=source, numeric=list(NUMERATORS25), allow_blank=list(NUMERATORS25))
    frame = restrict_codes(frame, "code", lsoa_codes, source=source, what="LSOA 2021")
    check_non_negative(frame.fillna(0), list(NUMERATORS25), source=source)
    return frame


def _weighted(table: pd.DataFrame, ind: str, weight: pd.Series) -> None:
    ok = table[ind].notna() & weight.notna()
    table[f"{ind}__num"] = np.where(ok, table[ind] * weight, np.nan)
    table[f"{ind}__den"] = np.where(ok, weight, np.nan)


def _shares(table: pd.DataFrame, prefix: str, decile: pd.Series) -> None:
    for name, top in SHARES.items():
        table[f"{prefix}_{name}__num"] = np.where(decile.notna(), (decile <= top).astype("float64"), np.nan)
        table[f"{prefix}_{name}__den"] = np.where(decile.notna(), 1.0, np.nan)


def build_iod2025(main: pd.DataFrame, numerators: pd.DataFrame | None, lsoa: pd.DataFrame,
                  census_weights: pd.DataFrame | None) -> tuple[pd.DataFrame, str]:
    """The ``iod2025_lsoa`` table and a note on the weights used."""
    codes = pd.Index(lsoa["code"].to_numpy(dtype=object), dtype=object)
    data = main.set_index("code").reindex(codes)
    if "pop_total" in data.columns:
        weights, note = data[["pop_total", "pop_working_age"]], "IoD 2025 mid-2022 population denominators (File 7)"
    elif census_weights is not None:
        weights = census_weights.reindex(codes)
        note = "Census 2021 usual residents (all ages; aged 16-64 for the employment domain), as the mirror lacks the IoD denominators"
    else:
        raise SourceFileError("IoD 2025: no population to weight scores with (neither File 7 denominators nor Census 2021)")
    table = pd.DataFrame({"code": codes})
    table.index = codes
    for stem, _, _ in DOMAINS:
        for measure in ("score", "rank", "decile"):
            table[f"{stem}_{measure}"] = data[f"{stem}_{measure}"]
        weight = weights["pop_working_age"] if stem == "imd2025_employment" else weights["pop_total"]
        _weighted(table, f"{stem}_score", weight)
    _shares(table, "imd2025", data["imd2025_decile"])
    if numerators is not None:
        num = numerators.set_index("code").reindex(codes)
        for ind in NUMERATORS25:
            table[ind] = num[ind]
    table.insert(1, "lad_code", lsoa.set_index("code")["lad_code"].reindex(codes).to_numpy())
    return table.reset_index(drop=True), note


# --- IoD 2019 ------------------------------------------------------------------------------------------

DOMAINS19 = [(stem.replace("2025", "2019"), name) for stem, name, _ in DOMAINS]


def read_iod2019(path: Path, lsoa11_codes: pd.Index, *, source: str) -> pd.DataFrame:
    """IoD 2019 ranks (IMD) and deciles (IMD and domains) by LSOA 2011 from File 2 or File 7."""
    mapping = {"code": "LSOA code (2011)", "imd2019_rank": rank_header(DOMAINS19[0][1])}
    for stem, name in DOMAINS19:
        mapping[f"{stem}_decile"] = decile_header(name)
    frame = _read_mapped(path, mapping, source=source, numeric=[c for c in mapping if c != "code"])
    frame = restrict_codes(frame, "code", lsoa11_codes, source=source, what="LSOA 2011")
    _check_rank_decile(frame, "imd2019_rank", "imd2019_decile", LSOA11_ENGLAND, source=source)
    check_range(frame, [c for c in mapping if c.endswith("_decile")], 1, 10, source=source, what="decile")
    return frame


def read_iod2019_ranks(path: Path, lsoa11_codes: pd.Index, *, source: str) -> pd.DataFrame:
    """IoD 2019 ranks of the IMD and every domain by LSOA 2011 (File 2), each checked against its decile.

    Returns ``code`` and ``<stem>_rank`` for every stem of :data:`DOMAINS19`.
    """
    mapping = {"code": "LSOA code (2011)"}
    for stem, name in DOMAINS19:
        mapping[f"{stem}_rank"] = rank_header(name)
        mapping[f"{stem}_decile"] = decile_header(name)
    frame = _read_mapped(path, mapping, source=source, numeric=[c for c in mapping if c != "code"])
    frame = restrict_codes(frame, "code", lsoa11_codes, source=source, what="LSOA 2011")
    for stem, _ in DOMAINS19:
        _check_rank_decile(frame, f"{stem}_rank", f"{stem}_decile", LSOA11_ENGLAND, source=source)
    return frame[["code"] + [f"{stem}_rank" for stem, _ in DOMAINS19]]


def read_iod2019_population(path: Path, lsoa11_codes: pd.Index, *, source: str) -> pd.Series:
    """Mid-2015 population (excluding prisoners) by LSOA 2011 (File 6 or File 7)."""
    frame = _read_mapped(path, {"code": "LSOA code (2011)", "pop": POP19}, source=source, numeric=["pop"])
    frame = restrict_codes(frame, "code", lsoa11_codes, source=source, what="LSOA 2011")
    check_non_negative(frame, ["pop"], source=source)
    return frame.set_index("code")["pop"]


def check_iod2019_file1(path: Path, domains: pd.DataFrame, *, source: str) -> None:
    """File 1 (the IMD) must agree with File 2 on every LSOA's IMD rank and decile."""
    frame = _read_mapped(path, {"code": "LSOA code (2011)", "rank": "Index of Multiple Deprivation (IMD) Rank",
                                "decile": "Index of Multiple Deprivation (IMD) Decile"}, source=source, numeric=["rank", "decile"])
    frame = frame[frame["code"].str.startswith("E")]
    other = domains.set_index("code").reindex(frame["code"])
    bad = (other["imd2019_rank"].to_numpy() != frame["rank"].to_numpy()) | (other["imd2019_decile"].to_numpy() != frame["decile"].to_numpy())
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise SourceFileError(
            f"{source}: row {file_row(frame, pos)} ({frame['code'].iloc[pos]}): IMD rank/decile "
            f"{frame['rank'].iloc[pos]:g}/{frame['decile'].iloc[pos]:g} differ from the domains file "
            f"({other['imd2019_rank'].iloc[pos]:g}/{other['imd2019_decile'].iloc[pos]:g})")


CHANGE_ORDER = {"X": 0, "M": 1, "S": 2, "U": 3}


def convert_iod2019(values: pd.DataFrame, population: pd.Series, change: pd.DataFrame, lsoa: pd.DataFrame) -> pd.DataFrame:
    """IoD 2019 on LSOA 2021 via the ONS change lookup (``lsoa11_code``, ``lsoa21_code``, ``change``).

    U (unchanged) and S (split): each 2021 LSOA takes its 2011 LSOA's values.
    M (merged) and X (irregular): a 2021 LSOA made from several 2011 LSOAs
    takes the values of the most populous of them (mid-2015 population;
    ties go to the more deprived). Ranks are never averaged. Records
    ``imd2019__change`` and ``imd2019__from`` (the 2011 LSOA used).
    """
    links = change[["lsoa11_code", "lsoa21_code", "change"]].copy()
    links["pop"] = population.reindex(links["lsoa11_code"]).to_numpy()
    links["rank"] = values.set_index("code")["imd2019_rank"].reindex(links["lsoa11_code"]).to_numpy()
    links["order"] = links["change"].map(CHANGE_ORDER)
    kind = links.sort_values(["lsoa21_code", "order"]).drop_duplicates("lsoa21_code").set_index("lsoa21_code")["change"]
    chosen = (links.sort_values(["lsoa21_code", "pop", "rank"], ascending=[True, False, True], na_position="last")
              .drop_duplicates("lsoa21_code").set_index("lsoa21_code")["lsoa11_code"])
    codes = pd.Index(lsoa["code"].to_numpy(dtype=object), dtype=object)
    source_codes = chosen.reindex(codes)
    data = values.set_index("code").reindex(source_codes.to_numpy())
    table = pd.DataFrame({"code": codes, "lad_code": lsoa.set_index("code")["lad_code"].reindex(codes).to_numpy()})
    for col in values.columns.drop("code"):
        table[col] = data[col].to_numpy()
    table["imd2019__change"] = kind.reindex(codes).to_numpy()
    table["imd2019__from"] = source_codes.to_numpy()
    _shares(table, "imd2019", table["imd2019_decile"])
    return table
