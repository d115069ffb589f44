"""Claimant count (Nomis NM_162_1) by LSOA 2021: latest month, 12 months earlier, age bands and sex.

Read from a Nomis API CSV (downloaded by :mod:`layers.nomis`, or saved in a
mirror). The codes asked for are checked against the names Nomis sends
back (and, online, against its code lists before the data request), so a
change in Nomis's code lists fails loudly instead of filling a column with
the wrong age band.

Nomis publishes the count on 2011 LSOAs (``GEOGRAPHY_TYPECODE`` 298) and may
publish it on 2021 LSOAs (151); the download takes whichever has both
months. 2011-LSOA counts are converted with the installed LSOA 2011 to 2021
lookup by the change rules of the IoD 2019 conversion (:func:`to_lsoa21`).

Rates divide by Census 2021 residents aged 16-64 (from the Census layer),
so LSOA, ward and district rates are sums of the same counts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import SourceFileError
from layers.checks import file_row, restrict_codes
from layers import nomis
from layers.iod import CHANGE_ORDER
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
#: Nomis geography type codes: 2011 and 2021 LSOAs.
TYPE_LSOA11, TYPE_LSOA21 = "298", "151"
nomis.EXPECTED_NAMES[DATASET] = {"age": AGES, "gender": GENDERS, "measure": {"1": MEASURE}}
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


def read_claimant(path: Path, lsoa_codes: pd.Index, *, source: str,
                  lsoa11_codes: pd.Index | None = None) -> tuple[pd.DataFrame, str, str]:
    """Counts by LSOA: the :data:`SERIES` columns for the latest month and ``claimant_count_prev``.

    Returns (frame indexed by the file's LSOA codes, period text, level):
    level ``lsoa`` (2021) or ``lsoa11`` when the file is on 2011 LSOAs
    (``GEOGRAPHY_TYPECODE`` 298; a file without the column is on 2021 LSOAs).
    """
    frame = read_api_csv(path, COLUMNS, source=source, optional=("GEOGRAPHY_TYPECODE",))
    frame = frame.assign(**{c: frame[c].fillna("").astype(str).str.strip() for c in ("DATE", "GENDER", "AGE")})
    level, codes, what = "lsoa", lsoa_codes, "LSOA 2021"
    if "GEOGRAPHY_TYPECODE" in frame.columns:
        types = set(frame["GEOGRAPHY_TYPECODE"].fillna("").astype(str).str.strip())
        if types == {TYPE_LSOA11}:
            if lsoa11_codes is None:
                raise SourceFileError(f"{source}: the counts are on 2011 LSOAs but the store has no LSOA 2011 lookup")
            level, codes, what = "lsoa11", lsoa11_codes, "LSOA 2011"
        elif types != {TYPE_LSOA21}:
            raise SourceFileError(f"{source}: GEOGRAPHY_TYPECODE {', '.join(sorted(types))}; expected {TYPE_LSOA21} "
                                  f"(2021 LSOAs) or {TYPE_LSOA11} (2011 LSOAs) throughout")
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
    restrict_codes(first, "GEOGRAPHY_CODE", codes, source=source, what=what)
    frame = frame[frame["GEOGRAPHY_CODE"].str.startswith("E")]
    out = pd.DataFrame(index=codes)
    for (gender, age), column in SERIES.items():
        part = frame[(frame["DATE"] == latest) & (frame["GENDER"] == gender) & (frame["AGE"] == age)]
        out[column] = part.set_index("GEOGRAPHY_CODE")["value"].reindex(codes).to_numpy()
    prev = frame[(frame["DATE"] == earlier) & (frame["GENDER"] == "0") & (frame["AGE"] == "0")]
    out["claimant_count_prev"] = prev.set_index("GEOGRAPHY_CODE")["value"].reindex(codes).to_numpy()
    names = frame.drop_duplicates("DATE").set_index("DATE")["DATE_NAME"]
    return out, f"{names[latest]} (change from {names[earlier]})", level


def to_lsoa21(counts11: pd.DataFrame, change: pd.DataFrame, pop_16_64: pd.Series,
              lsoa_codes: pd.Index) -> tuple[pd.DataFrame, pd.Series]:
    """2011-LSOA counts on 2021 LSOAs, by the ONS change lookup (``lsoa11_code``, ``lsoa21_code``, ``change``).

    The rules of the IoD 2019 conversion (:func:`layers.iod.convert_iod2019`),
    for counts: unchanged (U) LSOAs keep their count; a split (S) 2011 LSOA's
    2021 parts take its rate, so its count is shared among them in
    proportion to their Census 2021 residents aged 16-64 (equal shares where
    that is unknown); merged (M) LSOAs, whose parts lie wholly inside the
    2021 LSOA, are added up, where ranks would take the most populous one;
    irregular (X) changes are shared and added the same way. A 2021 LSOA
    fed by a suppressed 2011 count is left unknown, not undercounted.
    Returns (counts indexed by ``lsoa_codes``, the change kind of each).
    """
    links = change[["lsoa11_code", "lsoa21_code", "change"]].copy()
    weight = pop_16_64.reindex(links["lsoa21_code"]).fillna(0.0).clip(lower=0).to_numpy()
    by11 = links.groupby("lsoa11_code")["lsoa21_code"]
    total = pd.Series(weight).groupby(links["lsoa11_code"].to_numpy()).transform("sum").to_numpy()
    parts = by11.transform("size").to_numpy()
    share = np.where(total > 0, weight / np.where(total > 0, total, 1.0), 1.0 / parts)
    out = pd.DataFrame(index=lsoa_codes)
    for column in counts11.columns:
        contrib = pd.Series(counts11[column].reindex(links["lsoa11_code"]).to_numpy() * share)
        key = links["lsoa21_code"].to_numpy()
        summed = contrib.groupby(key).sum(min_count=1)
        unknown = contrib.isna().groupby(key).any()
        out[column] = summed.where(~unknown).reindex(lsoa_codes).to_numpy()
    kind = (links.assign(order=links["change"].map(CHANGE_ORDER)).sort_values(["lsoa21_code", "order"])
            .drop_duplicates("lsoa21_code").set_index("lsoa21_code")["change"].reindex(lsoa_codes))
    return out, kind


def build(counts: pd.DataFrame, pop_16_64: pd.Series, lsoa: pd.DataFrame) -> pd.DataFrame:
    """The ``claimant_lsoa`` table: counts, the rate of residents 16-64, and the 12-month change of both."""
    codes = counts.index
    den = pop_16_64.reindex(codes).where(lambda s: s > 0)
    table = counts.copy()
    now, prev = counts["claimant_count"], counts["claimant_count_prev"]
    table["claimant_rate__num"] = now
    table["claimant_rate__den"] = den.where(now.notna())
    table["claimant_rate"] = 100.0 * now / den
    change = now - prev  # NaN where either month is missing or suppressed
    table["claimant_count_change_12m"] = change
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
