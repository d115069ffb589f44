"""Claimant count (Nomis NM_162_1) by LSOA 2021: latest month, 12 months earlier, age bands and sex.

Read from a Nomis API CSV (downloaded by :mod:`layers.nomis`, or saved in a
mirror). The codes asked for are checked against the names Nomis sends
back, so a change in Nomis's code lists fails loudly instead of filling a
column with the wrong age band.

Rates divide by Census 2021 residents aged 16-64 (from the Census layer),
so LSOA, ward and district rates are sums of the same counts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import SourceFileError
from layers.checks import file_row, restrict_codes
from layers.nomis import obs_values, read_api_csv

DATASET = "claimant_count_lsoa21"
TABLE = "claimant"
COLUMNS = ["DATE", "DATE_NAME", "GEOGRAPHY_CODE", "GENDER", "GENDER_NAME", "AGE", "AGE_NAME", "MEASURE_NAME",
           "OBS_VALUE", "OBS_STATUS"]
AGES = {"0": "All categories: Age 16+", "2": "Aged 16-24", "11": "Aged 18-24", "4": "Aged 50+"}
GENDERS = {"0": "Total", "1": "Male", "2": "Female"}
MEASURE = "Claimant count"
#: (gender code, age code) -> column
SERIES = {("0", "0"): "claimant_count", ("0", "2"): "claimant_count_16_24", ("0", "11"): "claimant_count_18_24",
          ("0", "4"): "claimant_count_50plus", ("1", "0"): "claimant_count_male", ("2", "0"): "claimant_count_female"}
#: The "rose sharply" flag: at least this many percentage points ...
RISE_PP = 0.5
#: ... and at least this share of the rate 12 months earlier.
RISE_RELATIVE = 0.2


def _same(a: str, b: str) -> bool:
    return " ".join(str(a).split()).casefold() == " ".join(str(b).split()).casefold()


def _check_names(frame: pd.DataFrame, code_col: str, name_col: str, expected: dict, *, source: str) -> None:
    pairs = frame[[code_col, name_col]].drop_duplicates()
    for code, name in pairs.itertuples(index=False):
        if code not in expected:
            pos = int((frame[code_col] == code).to_numpy().argmax())
            raise SourceFileError(f"{source}: row {file_row(frame, pos)}: unexpected {code_col} {code!r} ({name!r})")
        if not _same(name, expected[code]):
            raise SourceFileError(
                f"{source}: Nomis {code_col} code {code} is {name!r}, expected {expected[code]!r}; "
                f"the code list has changed: update the query in layers/sources.yaml")


def _month_index(date: str, *, source: str) -> int:
    try:
        year, month = str(date).split("-")[:2]
        return int(year) * 12 + int(month) - 1
    except ValueError:
        raise SourceFileError(f"{source}: DATE {date!r} is not a month (YYYY-MM)") from None


def read_claimant(path: Path, lsoa_codes: pd.Index, *, source: str) -> tuple[pd.DataFrame, str]:
    """Counts by LSOA: the :data:`SERIES` columns for the latest month and ``claimant_count_prev``.

    Returns (frame indexed by LSOA code, period text).
    """
    frame = read_api_csv(path, COLUMNS, source=source)
    frame = frame.assign(**{c: frame[c].fillna("").astype(str).str.strip() for c in ("DATE", "GENDER", "AGE")})
    bad_measure = ~frame["MEASURE_NAME"].map(lambda m: _same(m, MEASURE))
    if bad_measure.any():
        pos = int(bad_measure.to_numpy().argmax())
        raise SourceFileError(f"{source}: row {file_row(frame, pos)}: measure {frame['MEASURE_NAME'].iloc[pos]!r}, expected {MEASURE!r}")
    _check_names(frame, "AGE", "AGE_NAME", AGES, source=source)
    _check_names(frame, "GENDER", "GENDER_NAME", GENDERS, source=source)
    dates = sorted(frame["DATE"].unique(), key=lambda d: _month_index(d, source=source))
    if len(dates) != 2 or _month_index(dates[1], source=source) - _month_index(dates[0], source=source) != 12:
        raise SourceFileError(f"{source}: expected the latest month and the month 12 months earlier, found {', '.join(dates)}")
    earlier, latest = dates
    frame = frame.assign(value=obs_values(frame, source=source))
    dup = frame.duplicated(["GEOGRAPHY_CODE", "DATE", "GENDER", "AGE"])
    if dup.any():
        pos = int(dup.to_numpy().argmax())
        raise SourceFileError(f"{source}: row {file_row(frame, pos)}: {frame['GEOGRAPHY_CODE'].iloc[pos]} appears twice for "
                              f"{frame['DATE'].iloc[pos]}, gender {frame['GENDER'].iloc[pos]}, age {frame['AGE'].iloc[pos]}")
    first = frame.drop_duplicates("GEOGRAPHY_CODE")
    restrict_codes(first, "GEOGRAPHY_CODE", lsoa_codes, source=source, what="LSOA 2021")
    frame = frame[frame["GEOGRAPHY_CODE"].str.startswith("E")]
    out = pd.DataFrame(index=lsoa_codes)
    for (gender, age), column in SERIES.items():
        part = frame[(frame["DATE"] == latest) & (frame["GENDER"] == gender) & (frame["AGE"] == age)]
        out[column] = part.set_index("GEOGRAPHY_CODE")["value"].reindex(lsoa_codes).to_numpy()
    prev = frame[(frame["DATE"] == earlier) & (frame["GENDER"] == "0") & (frame["AGE"] == "0")]
    out["claimant_count_prev"] = prev.set_index("GEOGRAPHY_CODE")["value"].reindex(lsoa_codes).to_numpy()
    names = frame.drop_duplicates("DATE").set_index("DATE")["DATE_NAME"]
    return out, f"{names[latest]} (change from {names[earlier]})"


def build(counts: pd.DataFrame, pop_16_64: pd.Series, lsoa: pd.DataFrame) -> pd.DataFrame:
    """The ``claimant_lsoa`` table: counts, the rate of residents 16-64 and its 12-month change."""
    codes = counts.index
    den = pop_16_64.reindex(codes).where(lambda s: s > 0)
    table = counts.copy()
    now, prev = counts["claimant_count"], counts["claimant_count_prev"]
    table["claimant_rate__num"] = now
    table["claimant_rate__den"] = den.where(now.notna())
    table["claimant_rate"] = 100.0 * now / den
    change = now - prev
    table["claimant_rate_change_12m__num"] = change
    table["claimant_rate_change_12m__den"] = den.where(change.notna())
    table["claimant_rate_change_12m"] = 100.0 * change / den
    table.index.name = "code"
    table = table.reset_index()
    table.insert(1, "lad_code", lsoa.set_index("code")["lad_code"].reindex(table["code"]).to_numpy())
    return table


def rose_sharply(rate: pd.Series, change_pp: pd.Series) -> pd.Series:
    """1.0 where the rate rose by at least :data:`RISE_PP` points and :data:`RISE_RELATIVE` of its earlier value."""
    before = rate - change_pp
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(before > 0, change_pp / before, np.where(change_pp > 0, np.inf, 0.0))
    flag = (change_pp >= RISE_PP) & (rel >= RISE_RELATIVE)
    return flag.astype("float64").where(rate.notna() & change_pp.notna())
