"""Recorded publisher responses, built by the tests in each publisher's exact format.

Formats follow /work/notes/publisher_formats.md: Nomis Census 2021 bulk zips
(``date,geography,geography code`` then the category columns, some with the
``; measures: Value`` suffix), MHCLG IoD File 7 CSVs (2025 and 2019 headers),
and Nomis API CSVs (NM_162_1, NM_17_5) in Nomis's default column layout,
with ``select=`` applied the way Nomis applies it (upper-case names) and
paging by ``recordoffset`` with ``RECORD_OFFSET``/``RECORD_COUNT``.
"""

from __future__ import annotations

import csv
import io
import zipfile

import numpy as np
import pandas as pd

HTML_ERROR = (b"<!DOCTYPE html>\n<html><head><title>Nomis - Error</title></head><body><h1>Sorry, an error has "
              b"occurred</h1><p>The service is temporarily unavailable.</p></body></html>")

SUFFIX = "; measures: Value"

# --- Nomis Census 2021 bulk tables -----------------------------------------------------------------------

TS066 = [
    "Economic activity status: Total: All usual residents aged 16 years and over",
    "Economic activity status: Economically active (excluding full-time students)",
    "Economic activity status: Economically active (excluding full-time students):In employment",
    "Economic activity status: Economically active (excluding full-time students):In employment:Employee",
    "Economic activity status: Economically active (excluding full-time students): In employment: Employee: Part-time",
    "Economic activity status: Economically active (excluding full-time students): In employment: Employee: Full-time",
    "Economic activity status: Economically active (excluding full-time students):In employment:Self-employed with employees",
    "Economic activity status: Economically active (excluding full-time students): In employment: Self-employed with employees: Part-time",
    "Economic activity status: Economically active (excluding full-time students): In employment: Self-employed with employees: Full-time",
    "Economic activity status: Economically active (excluding full-time students):In employment:Self-employed without employees",
    "Economic activity status: Economically active (excluding full-time students): In employment: Self-employed without employees: Part-time",
    "Economic activity status: Economically active (excluding full-time students): In employment: Self-employed without employees: Full-time",
    "Economic activity status: Economically active (excluding full-time students): Unemployed",
    "Economic activity status: Economically active and a full-time student",
    "Economic activity status: Economically active and a full-time student:In employment",
    "Economic activity status: Economically active and a full-time student:In employment:Employee",
    "Economic activity status: Economically active and a full-time student: In employment: Employee: Part-time",
    "Economic activity status: Economically active and a full-time student: In employment: Employee: Full-time",
    "Economic activity status: Economically active and a full-time student:In employment:Self-employed with employees",
    "Economic activity status: Economically active and a full-time student: In employment: Self-employed with employees: Part-time",
    "Economic activity status: Economically active and a full-time student: In employment: Self-employed with employees: Full-time",
    "Economic activity status: Economically active and a full-time student:In employment:Self-employed without employees",
    "Economic activity status: Economically active and a full-time student: In employment: Self-employed without employees: Part-time",
    "Economic activity status: Economically active and a full-time student: In employment: Self-employed without employees: Full-time",
    "Economic activity status: Economically active and a full-time student: Unemployed",
    "Economic activity status: Economically inactive",
    "Economic activity status: Economically inactive: Retired",
    "Economic activity status: Economically inactive: Student",
    "Economic activity status: Economically inactive: Looking after home or family",
    "Economic activity status: Economically inactive: Long-term sick or disabled",
    "Economic activity status: Economically inactive: Other",
]
TS037 = ["General health: Total: All usual residents", "General health: Very good health", "General health: Good health",
         "General health: Fair health", "General health: Bad health", "General health: Very bad health"]
TS038 = ["Disability: Total: All usual residents", "Disability: Disabled under the Equality Act",
         "Disability: Disabled under the Equality Act: Day-to-day activities limited a lot",
         "Disability: Disabled under the Equality Act: Day-to-day activities limited a little",
         "Disability: Not disabled under the Equality Act",
         "Disability: Not disabled under the Equality Act: Has long term physical or mental health condition but "
         "day-to-day activities are not limited",
         "Disability: Not disabled under the Equality Act: No long term physical or mental health conditions"]
TS067 = ["Highest level of qualification: Total: All usual residents aged 16 years and over",
         "Highest level of qualification: No qualifications",
         "Highest level of qualification: Level 1 and entry level qualifications",
         "Highest level of qualification: Level 2 qualifications", "Highest level of qualification: Apprenticeship",
         "Highest level of qualification: Level 3 qualifications",
         "Highest level of qualification: Level 4 qualifications and above",
         "Highest level of qualification: Other qualifications"]
TS039 = ["Provision of unpaid care: Total: All usual residents aged 5 and over",
         "Provision of unpaid care: Provides no unpaid care",
         "Provision of unpaid care: Provides 19 hours or less unpaid care a week",
         "Provision of unpaid care: Provides 20 to 49 hours unpaid care a week",
         "Provision of unpaid care: Provides 50 or more hours unpaid care a week"]
TS065 = ["Unemployment history: Total: All usual residents aged 16 years and over not in employment the week before the census",
         "Unemployment history: Not in employment: Worked in the last 12 months",
         "Unemployment history: Not in employment: Not worked in the last 12 months",
         "Unemployment history: Not in employment: Never worked"]
TS029 = ["Proficiency in English language: Total: All usual residents aged 3 years and over",
         "Proficiency in English language: Main language is English (English or Welsh in Wales)",
         "Proficiency in English language: Main language is not English (English or Welsh in Wales)",
         "Proficiency in English language: Main language is not English (English or Welsh in Wales): Can speak English very well",
         "Proficiency in English language: Main language is not English (English or Welsh in Wales): Can speak English well",
         "Proficiency in English language: Main language is not English (English or Welsh in Wales): Cannot speak English well",
         "Proficiency in English language: Main language is not English (English or Welsh in Wales): Cannot speak English"]
TS045 = ["Number of cars or vans: Total: All households", "Number of cars or vans: No cars or vans in household",
         "Number of cars or vans: 1 car or van in household", "Number of cars or vans: 2 cars or vans in household",
         "Number of cars or vans: 3 or more cars or vans in household"]
TS011 = [h + SUFFIX for h in [
    "Household deprivation: Total: All households", "Household deprivation: Household is not deprived in any dimension",
    "Household deprivation: Household is deprived in one dimension", "Household deprivation: Household is deprived in two dimensions",
    "Household deprivation: Household is deprived in three dimensions", "Household deprivation: Household is deprived in four dimensions"]]
TS007 = [h + SUFFIX for h in ["Age: Total"] + [f"Age: Aged {b} years" for b in (
    "4 years and under", "5 to 9", "10 to 15", "16 to 19", "20 to 24", "25 to 34", "35 to 49", "50 to 64", "65 to 74",
    "75 to 84")] + ["Age: Aged 85 years and over"]]
TS007[1] = "Age: Aged 4 years and under" + SUFFIX
BULK_HEADERS = {"ts066": TS066, "ts037": TS037, "ts038": TS038, "ts067": TS067, "ts039": TS039, "ts065": TS065,
                "ts029": TS029, "ts045": TS045, "ts011": TS011, "ts007": TS007}


def _split(total: np.ndarray, parts: int, rng) -> np.ndarray:
    """Random non-negative integer parts summing to ``total`` (rows)."""
    shares = rng.dirichlet(np.ones(parts), size=len(total))
    counts = np.floor(shares * total[:, None]).astype(int)
    counts[:, -1] += total - counts.sum(axis=1)
    return counts


def bulk_counts(table: str, totals: np.ndarray, rng) -> np.ndarray:
    """Consistent counts for every column of a bulk table (subtotals = sums of their parts)."""
    n = len(totals)
    h = BULK_HEADERS[table]
    out = np.zeros((n, len(h)), dtype=int)
    out[:, 0] = totals
    if table == "ts066":
        act, inact = _split(totals, 2, rng).T
        ex, stu = _split(act, 2, rng).T
        for base, sub in ((1, ex), (13, stu)):
            emp, unemp = _split(sub, 2, rng).T
            out[:, base] = sub
            out[:, base + 1] = emp
            kinds = _split(emp, 3, rng)
            for k in range(3):
                out[:, base + 2 + 3 * k] = kinds[:, k]
                out[:, base + 3 + 3 * k: base + 5 + 3 * k] = _split(kinds[:, k], 2, rng)
            out[:, base + 11] = unemp
        out[:, 25] = inact
        out[:, 26:31] = _split(inact, 5, rng)
    elif table == "ts038":
        dis, notdis = _split(totals, 2, rng).T
        out[:, 1], out[:, 4] = dis, notdis
        out[:, 2:4] = _split(dis, 2, rng)
        out[:, 5:7] = _split(notdis, 2, rng)
    elif table == "ts029":
        eng, other = _split(totals, 2, rng).T
        out[:, 1], out[:, 2] = eng, other
        out[:, 3:7] = _split(other, 4, rng)
    elif table == "ts039":
        out[:, 1:5] = _split(totals, 4, rng)
    else:
        out[:, 1:] = _split(totals, len(h) - 1, rng)
    return out


def bulk_zip(table: str, codes: list[str], names: list[str], counts: np.ndarray) -> bytes:
    """A Nomis bulk zip: ``census2021-<table>-lsoa.csv`` (and a small -ctry member and metadata), LF, no BOM."""
    header = ["date", "geography", "geography code"] + BULK_HEADERS[table]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    for code, name, row in zip(codes, names, counts):
        writer.writerow(["2021", name, code, *row.tolist()])
    ctry = io.StringIO()
    csv.writer(ctry, lineterminator="\n").writerows([header, ["2021", "England", "E92000001", *counts.sum(axis=0).tolist()]])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"census2021-{table}-lsoa.csv", text.getvalue())
        zf.writestr(f"census2021-{table}-ctry.csv", ctry.getvalue())
        zf.writestr(f"metadata/{table}-2021-2.txt", f"Census 2021 {table.upper()} bulk download (test recording)\n")
    return buf.getvalue()


# --- MHCLG IoD File 7 ------------------------------------------------------------------------------------

DOMAIN_NAMES = ["Index of Multiple Deprivation (IMD)", "Income", "Employment", "Education, Skills and Training",
                "Health Deprivation and Disability", "Crime", "Barriers to Housing and Services", "Living Environment"]
SUPPLEMENTARY = ["Income Deprivation Affecting Children Index (IDACI)", "Income Deprivation Affecting Older People (IDAOPI)",
                 "Children and Young People Sub-domain", "Adult Skills Sub-domain", "Geographical Barriers Sub-domain",
                 "Wider Barriers Sub-domain", "Indoors Sub-domain", "Outdoors Sub-domain"]


def file7_header(edition: int) -> list[str]:
    code, lad = ("2021", "2024") if edition == 2025 else ("2011", "2019")
    head = [f"LSOA code ({code})", f"LSOA name ({code})", f"Local Authority District code ({lad})",
            f"Local Authority District name ({lad})"]
    for name in DOMAIN_NAMES + SUPPLEMENTARY:
        rate = " (rate)" if name in ("Income", "Employment") or name.endswith("(IDACI)") or name.endswith("(IDAOPI)") else ""
        head += [f"{name} Score{rate}", f"{name} Rank (where 1 is most deprived)",
                 f"{name} Decile (where 1 is most deprived 10% of LSOAs)"]
    if edition == 2025:
        head[head.index("Children and Young People Sub-domain Decile (where 1 is most deprived 10% of LSOAs)")] = \
            "Children and Young People Sub-domain Decile (where 1 is most deprived 10% of LSO"
        head += ["Total population: mid 2022", "Dependent Children aged 0-15: mid 2022",
                 "Older population aged 60 and over: mid 2022",
                 "Working age population 18-66 (for use with Employment Deprivation Domain): mid 2022"]
    else:
        head += ["Total population: mid 2015 (excluding prisoners)",
                 "Dependent Children aged 0-15: mid 2015 (excluding prisoners)",
                 "Population aged 16-59: mid 2015 (excluding prisoners)",
                 "Older population aged 60 and over: mid 2015 (excluding prisoners)",
                 "Working age population 18-59/64: for use with Employment Deprivation Domain (excluding prisoners)"]
    return head


def file7_csv(edition: int, rows: pd.DataFrame) -> bytes:
    """File 7 CSV; ``rows`` has columns named as the header (missing ones are filled with plausible values)."""
    header = file7_header(edition)
    frame = rows.copy()
    for i, col in enumerate(header):
        if col not in frame.columns:
            frame[col] = (np.arange(len(frame)) % 10 + 1) if "Decile" in col else (
                np.arange(len(frame)) + 1 if "Rank" in col else 12.5 + i)
    return frame[header].to_csv(index=False, lineterminator="\r\n").encode("utf-8")


# --- Nomis API ------------------------------------------------------------------------------------------

NM_162_COLUMNS = [f"{d}{s}" for d in ("DATE", "GEOGRAPHY", "GENDER", "AGE", "MEASURE")
                  for s in ("", "_NAME", "_CODE", "_TYPE", "_TYPECODE", "_SORTORDER")] + [
    "MEASURES", "MEASURES_NAME", "OBS_VALUE", "OBS_STATUS", "OBS_STATUS_NAME", "OBS_CONF", "OBS_CONF_NAME", "URN",
    "RECORD_OFFSET", "RECORD_COUNT"]
NM_17_COLUMNS = [f"{d}{s}" for d in ("DATE", "GEOGRAPHY", "VARIABLE")
                 for s in ("", "_NAME", "_CODE", "_TYPE", "_TYPECODE", "_SORTORDER")] + [
    "MEASURES", "MEASURES_NAME", "OBS_VALUE", "OBS_STATUS", "OBS_STATUS_NAME", "OBS_CONF", "OBS_CONF_NAME", "URN",
    "RECORD_OFFSET", "RECORD_COUNT"]
AGE_NAMES = {0: "All categories: Age 16+", 2: "Aged 16-24", 11: "Aged 18-24", 4: "Aged 50+"}
GENDER_NAMES = {0: "Total", 1: "Male", 2: "Female"}
NUMERIC = {"DATE_TYPECODE", "DATE_SORTORDER", "GEOGRAPHY", "GEOGRAPHY_TYPECODE", "GEOGRAPHY_SORTORDER", "GENDER",
           "GENDER_CODE", "GENDER_TYPECODE", "GENDER_SORTORDER", "AGE", "AGE_CODE", "AGE_TYPECODE", "AGE_SORTORDER",
           "MEASURE", "MEASURE_CODE", "MEASURE_TYPECODE", "MEASURE_SORTORDER", "MEASURES", "OBS_VALUE",
           "VARIABLE", "VARIABLE_CODE", "VARIABLE_TYPECODE", "VARIABLE_SORTORDER", "RECORD_OFFSET", "RECORD_COUNT"}


def claimant_rows(counts: dict, dates=(("2025-06", "June 2025"), ("2024-06", "June 2024")), age_names=AGE_NAMES) -> list[dict]:
    """NM_162_1 rows: ``counts[(date, code, gender, age)] = value`` (None = missing, status Q)."""
    rows = []
    date_names = dict(dates)
    for (date, code, gender, age), value in counts.items():
        rows.append({
            "DATE": date, "DATE_NAME": date_names[date], "DATE_CODE": date, "DATE_TYPE": "date", "DATE_TYPECODE": 0,
            "DATE_SORTORDER": 0, "GEOGRAPHY": 1249902000 + int(code[3:]) % 100000, "GEOGRAPHY_NAME": f"Area {code}",
            "GEOGRAPHY_CODE": code, "GEOGRAPHY_TYPE": "2021 super output areas - lower layer", "GEOGRAPHY_TYPECODE": 151,
            "GEOGRAPHY_SORTORDER": 0, "GENDER": gender, "GENDER_NAME": GENDER_NAMES[gender], "GENDER_CODE": gender,
            "GENDER_TYPE": "sex", "GENDER_TYPECODE": 0, "GENDER_SORTORDER": gender, "AGE": age, "AGE_NAME": age_names[age],
            "AGE_CODE": age, "AGE_TYPE": "age", "AGE_TYPECODE": 0, "AGE_SORTORDER": age, "MEASURE": 1,
            "MEASURE_NAME": "Claimant count", "MEASURE_CODE": 1, "MEASURE_TYPE": "measure", "MEASURE_TYPECODE": 0,
            "MEASURE_SORTORDER": 0, "MEASURES": 20100, "MEASURES_NAME": "Value",
            "OBS_VALUE": "" if value is None else value, "OBS_STATUS": "Q" if value is None else "A",
            "OBS_STATUS_NAME": "These figures are missing." if value is None else "Normal Value", "OBS_CONF": "F",
            "OBS_CONF_NAME": "Free (free for publication)", "URN": f"Nm-162d1d{date}d{code}d{gender}d{age}"})
    return rows


def aps_rows(values: dict, period=("2025-03", "Apr 2024-Mar 2025")) -> list[dict]:
    """NM_17_5 rows: ``values[(code, variable, measures)] = value`` (None = suppressed)."""
    names = {45: "Employment rate - aged 16-64", 111: "% who are economically inactive - aged 16-64",
             1496: "% of economically inactive long-term sick"}
    mnames = {20599: "Variable", 21001: "Numerator", 21002: "Denominator", 21003: "Confidence"}
    rows = []
    for (code, var, measures), value in values.items():
        rows.append({
            "DATE": period[0], "DATE_NAME": period[1], "DATE_CODE": period[0], "DATE_TYPE": "date", "DATE_TYPECODE": 0,
            "DATE_SORTORDER": 0, "GEOGRAPHY": 1946157000 + int(code[3:]) % 1000,
            "GEOGRAPHY_NAME": "England" if code == "E92000001" else f"District {code}", "GEOGRAPHY_CODE": code,
            "GEOGRAPHY_TYPE": "countries" if code == "E92000001" else "local authorities: district / unitary (as of April 2023)",
            "GEOGRAPHY_TYPECODE": 499 if code == "E92000001" else 424, "GEOGRAPHY_SORTORDER": 0,
            "VARIABLE": var, "VARIABLE_NAME": names[var], "VARIABLE_CODE": var, "VARIABLE_TYPE": "variable",
            "VARIABLE_TYPECODE": 0, "VARIABLE_SORTORDER": var, "MEASURES": measures, "MEASURES_NAME": mnames[measures],
            "OBS_VALUE": "" if value is None else value, "OBS_STATUS": "!" if value is None else "A",
            "OBS_STATUS_NAME": "Estimate and confidence interval not available since the group sample size is zero or "
                               "disclosive (0-2)" if value is None else "Normal Value",
            "OBS_CONF": "F", "OBS_CONF_NAME": "Free (free for publication)", "URN": f"Nm-17d5d{code}d{var}d{measures}"})
    return rows


def nomis_csv(rows: list[dict], columns: list[str], select: str | None, offset: int, total: int) -> bytes:
    """One page as Nomis writes it: quoted text, bare numbers, CRLF; ``select`` keeps those columns, upper-cased."""
    cols = columns if not select else [c.strip().upper() for c in select.split(",")]
    unknown = [c for c in cols if c not in columns]
    if unknown:
        raise ValueError(f"Nomis would reject select={select} ({unknown})")
    out = io.StringIO()
    out.write(",".join(f'"{c}"' for c in cols) + "\r\n")
    for i, row in enumerate(rows):
        row = {**row, "RECORD_OFFSET": offset + i, "RECORD_COUNT": total}
        cells = []
        for c in cols:
            v = row[c]
            cells.append(str(v) if c in NUMERIC and v != "" else f'"{v}"' if v != "" else "")
        out.write(",".join(cells) + "\r\n")
    return out.getvalue().encode("utf-8")


def paged(rows: list[dict], columns: list[str], page_rows: int):
    """A fake-server handler serving ``rows`` ``page_rows`` at a time, as Nomis pages (``recordoffset``)."""
    def handler(query: dict):
        offset = int(query.get("recordoffset", query.get("RecordOffset", 0)) or 0)
        page = rows[offset:offset + page_rows]
        return 200, "text/csv", nomis_csv(page, columns, query.get("select"), offset, len(rows))

    return handler
