"""Recorded publisher responses, built by the tests in each publisher's exact format.

Formats: Nomis Census 2021 bulk zips (``date,geography,geography code`` then
the category columns, some with the ``; measures: Value`` suffix), MHCLG IoD
File 7 CSVs (2025 and 2019 headers), the Nomis API (:class:`NomisDataset`:
CSV pages in Nomis's default column layout, with ``select=`` applied the way
Nomis applies it (upper-case names), paging by ``recordoffset`` with
``RECORD_OFFSET``/``RECORD_COUNT``, and the SDMX-JSON code lists), and ONS
Open Geography Portal feature-service layers (:class:`ArcGISLayer`: GeoJSON or
JSON pages below the size asked for, errors in HTTP 200 bodies); plus plain
files answering ``Range`` requests (:class:`StaticFile`) and the ways a
connection fails (:func:`flaky`).

Each behaviour a fake adds beyond "answer the request" says in a comment
where it is documented.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
import zipfile

import numpy as np
import pandas as pd

#: A corporate proxy's sign-in page, answered with HTTP 200 in place of whatever was asked for.
PROXY_LOGIN = (b"<!DOCTYPE html>\n<html><head><title>Sign in to continue - Council Web Gateway</title></head>"
               b"<body><form method=post action=/login><input name=user></form></body></html>")
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


LSOA_TYPES = {151: "2021 super output areas - lower layer", 298: "2011 super output areas - lower layer"}


def claimant_rows(counts: dict, dates=(("2025-06", "June 2025"), ("2024-06", "June 2024")), age_names=AGE_NAMES,
                  typecode: int = 151) -> list[dict]:
    """NM_162_1 rows: ``counts[(date, code, gender, age)] = value`` (None = missing, status Q), on LSOAs of ``typecode``."""
    rows = []
    date_names = dict(dates)
    for (date, code, gender, age), value in counts.items():
        rows.append({
            "DATE": date, "DATE_NAME": date_names[date], "DATE_CODE": date, "DATE_TYPE": "date", "DATE_TYPECODE": 0,
            "DATE_SORTORDER": 0, "GEOGRAPHY": 1249902000 + int(code[3:]) % 100000, "GEOGRAPHY_NAME": f"Area {code}",
            "GEOGRAPHY_CODE": code, "GEOGRAPHY_TYPE": LSOA_TYPES[typecode], "GEOGRAPHY_TYPECODE": typecode,
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


def sdmx_codelist(codelist_id: str, name: str, codes: list[dict]) -> bytes:
    """A Nomis SDMX-JSON code list (``<dataset>/<concept>.def.sdmx.json``): ``structure.codelists.codelist[0].code``.

    The layout (``value``, ``description.value``, geography ``annotations`` with
    ``GeogCode``) is the one public clients read: ropensci/nomisr ``R/metadata.R``
    and virgesmith/UKCensusAPI ``ukcensusapi/nomisweb.py``. A selection that has
    no codes (a geography type the dataset does not publish) has no
    ``codelist`` at all, which UKCensusAPI tests for (``if fdata["structure"]["codelists"]``).
    """
    header = {"id": "none", "prepared": "2025-07-15T09:30:00Z", "sender": {"id": "NOMIS"}, "test": "false"}
    lists = {"codelist": [{"agencyid": "NOMIS", "id": codelist_id, "name": {"value": name, "lang": "en"},
                           "version": "1.0", "code": codes}]} if codes else {}
    return json.dumps({"structure": {"header": header, "codelists": lists}}).encode()


def _code(value, description: str, **annotations) -> dict:
    code = {"value": value, "description": {"value": description, "lang": "en"}}
    if annotations:
        code["annotations"] = {"annotation": [{"annotationtitle": k, "annotationtext": v} for k, v in annotations.items()]}
    return code


#: NM_162_1's code lists as the install checks them (codes as public scripts call them: age 0 all 16+, 2 16-24,
#: 3 25-49, 4 50+, 11 18-24 in youth-unemployment scripts; gender 0/1/2; measure 1 count, 2 proportion).
NM_162_CODES = {
    "age": {0: "All categories: Age 16+", 1: "Aged 16-17", 2: "Aged 16-24", 3: "Aged 25-49", 4: "Aged 50+",
            5: "Aged 18-21", 11: "Aged 18-24"},
    "gender": GENDER_NAMES,
    "measure": {1: "Claimant count", 2: "Claimants as a proportion of residents aged 16-64",
                3: "Claimants as a proportion of economically active residents aged 16+"},
    "measures": {20100: "Value"},
}
NM_17_CODES = {
    "variable": {45: "Employment rate - aged 16-64", 111: "% who are economically inactive - aged 16-64",
                 1496: "% of economically inactive long-term sick", 18: "Unemployment rate - aged 16-64"},
    "measures": {20599: "Variable", 21001: "Numerator", 21002: "Denominator", 21003: "Confidence"},
}


class NomisDataset:
    """The Nomis API for one dataset (below ``/api/v01/dataset/``), as an install reads it.

    * ``<id>.data.csv``: the rows recorded for the ``geography`` asked for
      (``rows[geography]``) and the months asked for (``date``: codes, or
      ``latest``/``latestMINUS<n>``, n periods before the latest, as Nomis
      counts them), ``select``ed, ``recordoffset`` onwards. At most
      ``page_rows`` rows a call, ``key_page_rows`` with a valid key (``uid``):
      25,000 and 100,000 in Nomis's documentation as the nomisr package gives
      it (``nomis_api_key``: "Using the key means that 100,000 rows can be
      returned per call"). A key that is not in ``keys`` is refused with
      HTTP 403 and a web page: Nomis does not document its answer to an
      unknown key, so the tests also cover a refusal sent as HTTP 200.
      A page larger than ``max_body_bytes`` stops there, part-way through a
      row, with HTTP 200: what Nomis does with queries too large for it
      (virgesmith/UKCensusAPI ``nomisweb.py``: without a key downloads "may
      be truncated"; a JSON answer then says ``header.truncated``, a CSV just
      ends).
    * ``<id>/<concept>.def.sdmx.json``: the code lists of ``codes``
      (:func:`sdmx_codelist`); ``time`` lists ``months`` (or, with
      ``?geography=<selection>``, ``months_by_geography[selection]``: a code
      list request filtered by another dimension, as ropensci/nomisr's
      ``nomis_get_metadata(id, concept, geography=...)`` sends);
      ``geography/<selection>`` lists the areas of ``rows[selection]``, none
      when the selection is not published.
    """

    def __init__(self, nomis_id: str, columns: list[str], rows: dict[str, list[dict]], months: list[tuple[str, str]],
                 codes: dict[str, dict], *, months_by_geography: dict[str, list[str]] | None = None,
                 page_rows: int = 25_000, key_page_rows: int = 100_000, keys: set[str] | None = None,
                 max_body_bytes: int | None = None):
        self.id, self.columns, self.rows, self.months, self.codes = nomis_id, columns, rows, months, codes
        self.months_by_geography = months_by_geography or {}
        self.page_rows, self.key_page_rows, self.keys, self.max_body_bytes = page_rows, key_page_rows, keys or set(), max_body_bytes

    def routes(self, prefix: str = "") -> dict[str, object]:
        base = f"{prefix}/api/v01/dataset/{self.id}"
        out = {f"{base}.data.csv": self.data, f"{base}/time.def.sdmx.json": self.time}
        for concept in self.codes:
            out[f"{base}/{concept}.def.sdmx.json"] = lambda q, c=concept: self.codelist(c)
        for selection in self.rows:
            out[f"{base}/geography/{selection}.def.sdmx.json"] = lambda q, sel=selection: self.geography(sel)
        return out

    def _refused(self, query: dict):
        uid = query.get("uid")
        if uid is not None and uid not in self.keys:
            return 403, "text/html", b"<html><head><title>403 - Forbidden</title></head><body>Access denied</body></html>"
        return None

    def codelist(self, concept: str):
        codes = [_code(v, n) for v, n in self.codes[concept].items()]
        return 200, "application/json", sdmx_codelist(f"CL_{self.id[3:]}_{concept.upper()}", concept, codes)

    def time(self, query: dict):
        refused = self._refused(query)
        if refused:
            return refused
        names = dict(self.months)
        wanted = self.months_by_geography.get(query["geography"], []) if "geography" in query else list(names)
        codes = [_code(m, names[m]) for m in sorted(wanted)]
        return 200, "application/json", sdmx_codelist(f"CL_{self.id[3:]}_TIME", "Date", codes)

    def geography(self, selection: str):
        areas = [_code(r["GEOGRAPHY"], r.get("GEOGRAPHY_NAME", ""), GeogCode=r["GEOGRAPHY_CODE"],
                       TypeCode=r["GEOGRAPHY_TYPECODE"]) for r in {r["GEOGRAPHY_CODE"]: r for r in self.rows[selection]}.values()]
        return 200, "application/json", sdmx_codelist(f"CL_{self.id[3:]}_GEOGRAPHY", "geography", areas)

    def _dates(self, selectors: str) -> set[str]:
        order = [m for m, _ in sorted(self.months)]
        out = set()
        for sel in selectors.split(","):
            low = sel.strip().lower()
            if low.startswith("latest"):
                back = int(low[len("latestminus"):] or 0) if low != "latest" else 0
                out.add(order[-1 - back])
            else:
                out.add(sel.strip())
        return out

    def data(self, query: dict):
        refused = self._refused(query)
        if refused:
            return refused
        rows = self.rows.get(query.get("geography", ""), [])
        if "date" in query:
            dates = self._dates(query["date"])
            rows = [r for r in rows if r["DATE"] in dates]
        cap = self.key_page_rows if query.get("uid") in self.keys else self.page_rows
        offset = int(query.get("recordoffset", query.get("RecordOffset", 0)) or 0)
        body = nomis_csv(rows[offset:offset + cap], self.columns, query.get("select"), offset, len(rows))
        if self.max_body_bytes is not None and len(body) > self.max_body_bytes:
            body = body[: self.max_body_bytes]
        return 200, "text/csv", body


# --- plain files and failing connections --------------------------------------------------------------

class StaticFile:
    """A file on a CDN-style server: ``ETag``, ``Accept-Ranges: bytes``, and ``Range``/``If-Range`` answered.

    As RFC 9110 specifies: section 14.2 (``Range: bytes=<first>-``), 14.4 (a 206
    with ``Content-Range: bytes <first>-<last>/<size>``), 13.1.5 (``If-Range``:
    a validator that no longer matches gets the whole file, 200) and 15.5.17
    (416 for a range past the end). ``ranges=False`` is a server that ignores
    ``Range`` and sends the whole file with 200, which RFC 9110 also allows.
    """

    wants_headers = True

    def __init__(self, body: bytes, ctype: str, *, etag: str = '"v1"', ranges: bool = True):
        self.body, self.ctype, self.etag, self.ranges = body, ctype, etag, ranges

    def __call__(self, query: dict, headers: dict):
        extra = {"ETag": self.etag, **({"Accept-Ranges": "bytes"} if self.ranges else {})}
        asked = headers.get("Range", "")
        if not self.ranges or not asked.startswith("bytes=") or headers.get("If-Range", self.etag) != self.etag:
            return 200, self.ctype, self.body, None, extra
        first = int(asked[len("bytes="):].split("-")[0])
        if first >= len(self.body):
            return 416, "text/plain", b"", None, {**extra, "Content-Range": f"bytes */{len(self.body)}"}
        return 206, self.ctype, self.body[first:], None, {
            **extra, "Content-Range": f"bytes {first}-{len(self.body) - 1}/{len(self.body)}"}


def flaky(handler, *failures: str):
    """``handler``, but its first calls fail, one per item of ``failures``:

    * ``"503"`` / ``"500"``: a server failing for now (RFC 9110 section 15.6);
    * ``"429 <s>"``: too many requests, ``Retry-After: <s>`` (RFC 6585 section 4, RFC 9110
      section 10.2.3); Nomis rate-limits without publishing the limit (ropensci/nomisr issue 31);
    * ``"drop"``: the connection closes with no answer;
    * ``"cut"``: the whole answer is announced (Content-Length) but half is sent;
    * ``"slow <s>"``: the answer comes after ``<s>`` seconds (a client timeout).
    """
    queue = list(failures)
    lock = threading.Lock()

    def wrapped(query: dict, headers: dict | None = None):
        with lock:
            mode = queue.pop(0) if queue else None
        real = (lambda: handler(query, headers or {})) if getattr(handler, "wants_headers", False) else (lambda: handler(query))
        if mode is None:
            return real()
        kind, _, arg = mode.partition(" ")
        if kind in ("500", "502", "503", "504"):
            return int(kind), "text/html", f"<html><title>{kind}</title></html>".encode()
        if kind == "429":
            return 429, "text/plain", b"Too many requests", None, {"Retry-After": arg or "1"}
        if kind == "drop":
            return None
        if kind == "cut":
            answer = real()
            status, ctype, body = answer[:3]
            return status, ctype, body[: len(body) // 2], len(body), (answer[4] if len(answer) > 4 else {})
        if kind == "slow":
            time.sleep(float(arg))
            return real()
        raise ValueError(f"unknown failure {mode!r}")

    wrapped.wants_headers = True
    return wrapped


# --- ONS Open Geography Portal (ArcGIS REST feature services) -------------------------------------------

# ArcGIS REST services answer errors with HTTP 200 and {"error": {"code", "message", "details"}} in the body:
# a client reading a working request's text gets '{"error":{"code":400,"message":"Invalid URL","details":[]}}'
# (terrestris/BasiGX pull request 744), and geoparquet/geoparquet-io pull request 1135 fixes JSON error bodies
# slipping past a status check.
ARCGIS_QUERY_ERROR = {"code": 400, "message": "Cannot perform query. Invalid query parameters.",
                      "details": ["Unable to perform query. Please check your parameters."]}
ARCGIS_INVALID_URL = {"error": {"code": 400, "message": "Invalid URL", "details": ["Invalid URL"]}}


def _arcgis_error(details: str) -> tuple[int, str, bytes]:
    """ArcGIS answers a bad query with HTTP 200 and the error in the body."""
    body = {"error": {**ARCGIS_QUERY_ERROR, "details": [details]}}
    return 200, "application/json; charset=utf-8", json.dumps(body).encode()


def _field_type(values) -> str:
    values = [v for v in values if v is not None]
    if values and all(isinstance(v, int) for v in values):
        return "esriFieldTypeInteger"
    if values and all(isinstance(v, (int, float)) for v in values):
        return "esriFieldTypeDouble"
    return "esriFieldTypeString"


class ArcGISLayer:
    """One feature-service layer (``<Service>/FeatureServer/0/query``) replaying ``records``.

    ``records`` are dicts holding every field the layer publishes (``fields``,
    in the service's own case) and, for spatial layers, a GeoJSON ``geometry``
    in WGS84. Behaves like ArcGIS Online for the parameters it understands:

    * ``where=1=1`` only; ``outFields`` (``*`` or a list; an unknown field is an
      HTTP 200 error body, as ArcGIS answers); ``orderByFields`` (rows tied on the
      sort key come back in an order that changes from request to request, as a
      database without a unique sort key gives them);
    * ``resultOffset``/``resultRecordCount``, capped at ``max_records``
      (``maxRecordCount``) whatever is asked, with ``exceededTransferLimit``
      at the top level (``f=json``) or under ``properties`` (``f=geojson``):
      the ArcGIS REST API's paging (Esri's "Query (Feature Service/Layer)"
      reference; Esri's runtime documentation: "Many ArcGIS services only
      return up to 1000 features even if the query matched more features";
      thollingshead/arcgis-server-store issue 17 on paging from 10.3);
    * ``returnCountOnly=true`` -> ``{"count": n}``; ``returnGeometry=false``;
      ``outSR`` 4326 only (the geometry is held in WGS84).
    """

    def __init__(self, records: list[dict], fields: list[str], *, max_records: int, oid: str = "FID",
                 geometry: str | None = None):
        self.fields = [oid, *[f for f in fields if f != oid]]
        self.records = [{oid: i + 1, **r} for i, r in enumerate(records)]
        self.max_records, self.oid, self.geometry = max_records, oid, geometry
        self.calls = 0
        self.types = {f: _field_type([r.get(f) for r in self.records]) for f in self.fields}

    def _field(self, name: str) -> str | None:
        by_lower = {f.lower(): f for f in self.fields}
        return by_lower.get(name.strip().lower())

    def __call__(self, query: dict):
        self.calls += 1
        fmt = query.get("f", "html")
        if fmt not in ("json", "pjson", "geojson"):
            return 200, "text/html", b"<html><body>ArcGIS REST Services Directory: query form</body></html>"
        if query.get("where", "").replace(" ", "") != "1=1":
            return _arcgis_error("'where' parameter is invalid")
        if query.get("returnCountOnly", "").lower() == "true":
            return 200, "application/json; charset=utf-8", json.dumps({"count": len(self.records)}).encode()
        wanted = query.get("outFields", "*")
        if wanted.strip() == "*":
            out = list(self.fields)
        else:
            out = [self._field(f) for f in wanted.split(",")]
            if None in out:
                return _arcgis_error("'outFields' parameter is invalid")
        rows = list(self.records)
        order = [o.split() for o in query.get("orderByFields", "").split(",") if o.strip()]
        if order:
            keys = [(self._field(o[0]), len(o) > 1 and o[1].upper() == "DESC") for o in order]
            if any(k is None for k, _ in keys):
                return _arcgis_error("'orderByFields' parameter is invalid")
            # Ties come back in an arbitrary order that differs between requests.
            rng = np.random.default_rng(self.calls)
            rows = [rows[i] for i in rng.permutation(len(rows))]
            for key, desc in reversed(keys):
                rows.sort(key=lambda r, k=key: "" if r.get(k) is None else r.get(k), reverse=desc)
        offset = int(query.get("resultOffset", 0) or 0)
        count = min(int(query.get("resultRecordCount", self.max_records) or self.max_records), self.max_records)
        page = rows[offset:offset + count]
        more = offset + len(page) < len(rows)
        with_geometry = self.geometry and query.get("returnGeometry", "true").lower() != "false"
        if with_geometry and query.get("outSR", "4326") not in ("4326", '{"wkid":4326}'):
            return _arcgis_error("the recording holds WGS84 geometry only (outSR=4326)")
        if fmt == "geojson":
            body = {"type": "FeatureCollection", "features": [
                {"type": "Feature", "id": r[self.oid], "geometry": _arcgis_geojson(r.get("geometry")) if with_geometry else None,
                 "properties": {f: r.get(f) for f in out}} for r in page]}
            if more:
                body["properties"] = {"exceededTransferLimit": True}
        else:
            if with_geometry:
                return _arcgis_error("the recording has no Esri JSON geometry (ask f=geojson)")
            body = {"objectIdFieldName": self.oid, "uniqueIdField": {"name": self.oid, "isSystemMaintained": True},
                    "globalIdFieldName": "", "fields": [
                        {"name": f, "type": "esriFieldTypeOID" if f == self.oid else self.types[f], "alias": f,
                         "sqlType": "sqlTypeOther", "domain": None, "defaultValue": None} for f in out],
                    "features": [{"attributes": {f: r.get(f) for f in out}} for r in page]}
            if more:
                body["exceededTransferLimit"] = True
        return 200, "application/geo+json" if fmt == "geojson" else "application/json; charset=utf-8", \
            json.dumps(body).encode()


def _arcgis_geojson(geometry: dict | None) -> dict | None:
    """ArcGIS writes a one-part polygon as a Polygon, not a MultiPolygon."""
    if geometry and geometry["type"] == "MultiPolygon" and len(geometry["coordinates"]) == 1:
        return {"type": "Polygon", "coordinates": geometry["coordinates"][0]}
    return geometry


def arcgis_fallback(prefix: str):
    """``fake_http.fallback`` for an ArcGIS host: any other path under ``prefix`` is "Invalid URL" (HTTP 200)."""
    def handler(path: str, query: dict):
        if path.startswith(prefix):
            return 200, "application/json; charset=utf-8", json.dumps(ARCGIS_INVALID_URL).encode()
        return 404, "text/html", b"<html><head><title>404 Not Found</title></head><body>Not found</body></html>"

    return handler
