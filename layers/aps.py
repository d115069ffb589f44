"""Annual Population Survey (Nomis NM_17_5): district rates with 95% confidence intervals.

District figures only: they are never apportioned to wards or LSOAs. For
an area of interest the survey numerators and denominators (weighted
estimates) are summed; England's own row gives the England value.
Suppressed or unreliable cells (blank value or a non-'A' status) are NaN.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo.errors import SourceFileError
from layers.checks import check_num_den, check_range, file_row, restrict_codes
from layers.nomis import obs_values, read_api_csv

DATASET = "aps_districts"
TABLE = "aps"
ENGLAND = "E92000001"
COLUMNS = ["DATE_NAME", "GEOGRAPHY_CODE", "VARIABLE", "VARIABLE_NAME", "MEASURES", "OBS_VALUE", "OBS_STATUS"]
#: Nomis variable code -> (indicator id, words its VARIABLE_NAME must contain)
VARIABLES = {"45": ("aps_employment_rate", ("employment rate", "16-64")),
             "111": ("aps_inactivity_rate", ("inactive", "16-64")),
             "1496": ("aps_inactive_long_term_sick_pct", ("long-term sick",))}
MEASURES = {"20599": "", "21001": "__num", "21002": "__den", "21003": "__ci"}
IDS = [v[0] for v in VARIABLES.values()]


def read_aps(path: Path, lad_codes: pd.Index, *, source: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(districts table, England row, period) with ``<id>``, ``<id>__num``, ``<id>__den``, ``<id>__ci`` per indicator."""
    frame = read_api_csv(path, COLUMNS, source=source)
    frame = frame.assign(**{c: frame[c].fillna("").astype(str).str.strip() for c in ("VARIABLE", "MEASURES", "GEOGRAPHY_CODE")})
    for code, name in frame[["VARIABLE", "VARIABLE_NAME"]].drop_duplicates().itertuples(index=False):
        if code not in VARIABLES:
            pos = int((frame["VARIABLE"] == code).to_numpy().argmax())
            raise SourceFileError(f"{source}: row {file_row(frame, pos)}: unexpected VARIABLE {code} ({name!r})")
        words = VARIABLES[code][1]
        if not all(w in str(name).casefold() for w in words):
            raise SourceFileError(f"{source}: Nomis variable {code} is {name!r}, expected one about {' '.join(words)}; "
                                  f"the code list has changed: update the query in layers/sources.yaml")
    odd = ~frame["MEASURES"].isin(list(MEASURES))
    if odd.any():
        pos = int(odd.to_numpy().argmax())
        raise SourceFileError(f"{source}: row {file_row(frame, pos)}: unexpected MEASURES {frame['MEASURES'].iloc[pos]!r}")
    periods = frame["DATE_NAME"].dropna().unique()
    if len(periods) != 1:
        raise SourceFileError(f"{source}: expected one period, found {', '.join(map(str, periods))}")
    frame = frame.assign(value=obs_values(frame, source=source))
    dup = frame.duplicated(["GEOGRAPHY_CODE", "VARIABLE", "MEASURES"])
    if dup.any():
        pos = int(dup.to_numpy().argmax())
        raise SourceFileError(f"{source}: row {file_row(frame, pos)}: {frame['GEOGRAPHY_CODE'].iloc[pos]} appears twice "
                              f"for variable {frame['VARIABLE'].iloc[pos]}")
    places = frame.drop_duplicates("GEOGRAPHY_CODE")
    restrict_codes(places[places["GEOGRAPHY_CODE"] != ENGLAND], "GEOGRAPHY_CODE", lad_codes, source=source, what="district")
    frame = frame.assign(column=frame["VARIABLE"].map(lambda v: VARIABLES[v][0]) + frame["MEASURES"].map(MEASURES))
    wide = frame.pivot(index="GEOGRAPHY_CODE", columns="column", values="value")
    for ind in IDS:
        for suffix in MEASURES.values():
            if ind + suffix not in wide.columns:
                wide[ind + suffix] = float("nan")
    checked = wide.reset_index().rename(columns={"GEOGRAPHY_CODE": "code"})
    checked.index = checked.index - 1
    for ind in IDS:
        check_range(checked.fillna(0), [ind], 0, 100, source=source, what="percentage")
        check_num_den(checked.fillna(0), f"{ind}__num", f"{ind}__den", source=source, what=ind)
    columns = [c for ind in IDS for c in (ind, f"{ind}__num", f"{ind}__den", f"{ind}__ci")]
    england = wide.reindex([ENGLAND])[columns].rename_axis("code").reset_index()
    districts = wide.reindex(lad_codes)[columns].rename_axis("code").reset_index()
    districts.insert(1, "lad_code", districts["code"])
    return districts, england, str(periods[0])
