"""Every publisher response a fully online install asks for, built at test time from a mirror subset.

:func:`build_recording` turns a small mirror (tests/mirror_subset.py) and the
store installed from it into recorded answers in each publisher's own format
(/work/notes/publisher_formats.md), so an install with no mirror at all can
run against a local server (tests/httpfake.py):

* ONS Open Geography Portal: one ArcGIS feature-service layer per dataset
  (:class:`tests.publishers.ArcGISLayer`) with the fields ONS publishes,
  paged below the page size the client asks for, GeoJSON for boundaries and
  centroids (points), JSON ``attributes`` for lookup tables; plus one Welsh
  record in each, as the England and Wales / UK layers have;
* Nomis: the Census 2021 bulk zips (``census2021-tsXXX.zip``, LSOA member with
  the published headers; TS001 with its output-area member) and the API
  (:class:`tests.publishers.NomisDataset`: NM_162_1 claimant count, NM_17_5
  APS, with their code lists). The claimant count is published on 2011 LSOAs
  for both months and on 2021 LSOAs for the recent months only (history
  exists only on 2011 LSOAs), so an install takes the 2011 LSOAs and converts;
  ``claimant_2021_history=True`` publishes both months on 2021 LSOAs too;
* GOV.UK: the IoD 2025 and IoD 2019 File 7 CSVs with MHCLG's headers;
* unpkg: the railway stations CSV of the uk-railway-stations package;
* the ONS Explore Local Statistics data repository: each indicator's CSV at
  ``<commit>/<name>/<name>.csv``, served as GitHub serves raw files
  (``text/plain; charset=utf-8``, the bytes of the mirror's copy).
* ONS: the OA to LSOA lookup (``oa21_lsoa21``'s online path; an install reads
  the bulk tables instead, so only the tests that fetch it ask for it).

Plain files (bulk zips, File 7, stations) are :class:`tests.publishers.StaticFile`
answers: an ``ETag`` and ``Range`` requests answered.

Values: boundaries, lookups, centroids, RUC, IoD ranks/deciles/scores and the
stations and the Explore Local Statistics files are the mirror's own values. Census bulk counts are the mirror
install's LSOA counts rounded to whole people: TS038 (disability), TS011
(household deprivation) and the age bands are real counts in the mirror, so
they are exact; the other topics are the mirror's estimates (OA percentages
x residents), so they differ from a mirror install by rounding only. The
IoD 2025 File 7 population denominators (not in the mirror) are set to the
Census residents the mirror install weights with, so IoD ward and district
averages agree exactly. Claimant count and APS values are synthetic (the
mirror has none). Nothing here is committed: it is built from the mirror.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo.sources import dataset
from layers.labour_market import DATASETS as ELS_DATASETS
from tests import publishers as pub

#: Where each publisher lives on the fake server (the base URL the install is pointed at).
PREFIX = {"ons": "/ons/arcgis/rest/services", "nomis": "/nomis", "govuk": "/govuk", "unpkg": "/unpkg", "els": "/els"}
ENV = {"ons": "WARDSCOPE_ONS_ARCGIS", "nomis": "WARDSCOPE_NOMIS", "govuk": "WARDSCOPE_GOVUK", "unpkg": "WARDSCOPE_UNPKG",
       "els": "WARDSCOPE_ELS"}

IOD25 = "/media/691ded56d140bbbaa59a2a7d/File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv"
IOD19 = "/media/5dc407b440f0b6379a7acc8d/File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators_3.csv"
STATIONS = "/uk-railway-stations@1.11.1/stations.csv"
NM162 = "/api/v01/dataset/NM_162_1.data.csv"
NM17 = "/api/v01/dataset/NM_17_5.data.csv"
NOMIS_API_PAGE = 500
#: Rows a call with a valid key (the recording's keys: :data:`NOMIS_KEY`).
NOMIS_KEY_PAGE = 2000
NOMIS_KEY = "0x5d1c0ffee0123456789abcdef0123456789abcd"
CLAIMANT_DATES = (("2025-06", "June 2025"), ("2024-06", "June 2024"))
#: Every month NM_162_1 holds (dataset-wide), and those published on 2021 LSOAs without the history.
CLAIMANT_MONTHS = [(f"{y}-{m:02d}", pd.Timestamp(year=y, month=m, day=1).strftime("%B %Y"))
                   for y in (2023, 2024, 2025) for m in range(1, 13) if (y, m) <= (2025, 6)]
RECENT_2021_LSOA_MONTHS = [m for m, _ in CLAIMANT_MONTHS if m >= "2025-01"]
TYPE151, TYPE298 = "2092957699TYPE151", "2092957699TYPE298"
APS_GEOGRAPHY = "2092957699,2092957699TYPE424"
APS_MONTHS = [("2024-12", "Jan 2024-Dec 2024"), ("2025-03", "Apr 2024-Mar 2025")]
OA_SERVICE = "OA21_LSOA21_MSOA21_LAD22_EW_LU"
TS001_MEMBER = "census2021-ts001-oa.csv"

#: Service names as ONS publishes them (see publisher_formats.md section 4).
SERVICES = {
    "lad_boundaries": "Local_Authority_Districts_May_2024_Boundaries_UK_BUC",
    "ward_boundaries": "Wards_December_2023_Boundaries_UK_BSC",
    "lsoa21_boundaries": "Lower_layer_Super_Output_Areas_December_2021_Boundaries_EW_BSC_V4",
    "lsoa11_boundaries": "LSOA_2011_Boundaries_Super_Generalised_Clipped_BSC_EW_V4",
    "lsoa21_ward24_lad24": "LSOA21_WD24_LAD24_EW_LU",
    "ward23_lad23": "WD23_LAD23_UK_LU_DEC",
    "lsoa11_lsoa21_lad22": "LSOA11_LSOA21_LAD22_EW_LU_v5",
    "lsoa21_centroids": "LSOA_PopCentroids_EW_2021_V4",
    "lsoa21_ruc21": "LSOA21_RUC21_EW_LU",
}

#: One Welsh area per layer (England and Wales / UK layers carry Welsh rows the install must drop).
CARDIFF = {"code": "W06000015", "name": "Cardiff", "ward": "W05001280", "ward_name": "Adamsdown",
           "lsoa": "W01001685", "lsoa_name": "Cardiff 032A", "lon": -3.16, "lat": 51.48}


def query_path(service: str) -> str:
    return f"{PREFIX['ons']}/{service}/FeatureServer/0/query"


def _square(lon: float, lat: float, d: float = 0.004) -> dict:
    return {"type": "MultiPolygon", "coordinates": [[[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]]]}


def _guid(code: str) -> str:
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, code)).upper() + "}"


def _features(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["features"]


def _reference_point(geometry: dict) -> tuple[float, float]:
    ring = np.array(geometry["coordinates"][0][0])
    return float(ring[:, 0].mean()), float(ring[:, 1].mean())


def _boundary_records(features: list[dict], code: str, name: str, prefix: str) -> list[dict]:
    """Polygon records with the fields ONS boundary layers carry (code, name, Welsh name, BNG and lon/lat point)."""
    from pyproj import Transformer

    to_bng = Transformer.from_crs(4326, 27700, always_xy=True)
    out = []
    for f in features:
        props = f["properties"]
        lon, lat = props.get("LONG"), props.get("LAT")
        if lon is None:
            lon, lat = _reference_point(f["geometry"])
        east, north = to_bng.transform(lon, lat)
        out.append({f"{prefix}CD": props[code], f"{prefix}NM": props[name], f"{prefix}NMW": None,
                    "BNG_E": int(round(east)), "BNG_N": int(round(north)), "LONG": round(lon, 5), "LAT": round(lat, 5),
                    "GlobalID": _guid(props[code]), "geometry": f["geometry"]})
    return out


def _boundary_fields(prefix: str) -> list[str]:
    return [f"{prefix}CD", f"{prefix}NM", f"{prefix}NMW", "BNG_E", "BNG_N", "LONG", "LAT", "GlobalID"]


def _first_tie(values: list[str]) -> int | None:
    ordered = sorted(values)
    for i in range(len(ordered) - 1):
        if ordered[i] == ordered[i + 1]:
            return i
    return None


def arcgis_layers(mirror: Path) -> dict[str, pub.ArcGISLayer]:
    """The nine ONS layers an install reads, from the mirror subset, keyed by dataset id."""
    b, lk = mirror / "boundaries", mirror / "lookups"
    layers: dict[str, pub.ArcGISLayer] = {}
    c = CARDIFF
    wales = _square(c["lon"], c["lat"])

    lad = _boundary_records(_features(b / "lad_may2024_uk_buc.geojson"), "LAD24CD", "LAD24NM", "LAD24")
    lad.append({**_boundary_records([{"properties": {"LAD24CD": c["code"], "LAD24NM": c["name"]}, "geometry": wales}],
                                    "LAD24CD", "LAD24NM", "LAD24")[0], "LAD24NMW": "Caerdydd"})
    layers["lad_boundaries"] = pub.ArcGISLayer(lad, _boundary_fields("LAD24"), max_records=2, geometry="polygon")

    # December ward layers do not carry the district (the mirror's copy added it from the lookup).
    wards = _features(b / "wards_dec2023_uk_bsc.geojson") + [
        {"properties": {"WD23CD": c["ward"], "WD23NM": c["ward_name"]}, "geometry": wales}]
    layers["ward_boundaries"] = pub.ArcGISLayer(_boundary_records(wards, "WD23CD", "WD23NM", "WD23"),
                                                _boundary_fields("WD23"), max_records=40, geometry="polygon")

    lsoa = _features(b / "lsoa_2021_ew_bsc.geojson") + [
        {"properties": {"LSOA21CD": c["lsoa"], "LSOA21NM": c["lsoa_name"]}, "geometry": wales}]
    layers["lsoa21_boundaries"] = pub.ArcGISLayer(_boundary_records(lsoa, "LSOA21CD", "LSOA21NM", "LSOA21"),
                                                  _boundary_fields("LSOA21"), max_records=100, geometry="polygon")

    lsoa11 = _features(b / "lsoa_2011_ew_bsc.geojson") + [
        {"properties": {"LSOA11CD": "W01001685", "LSOA11NM": "Cardiff 032A"}, "geometry": wales}]
    layers["lsoa11_boundaries"] = pub.ArcGISLayer(_boundary_records(lsoa11, "LSOA11CD", "LSOA11NM", "LSOA11"),
                                                  _boundary_fields("LSOA11"), max_records=100, geometry="polygon")

    best = pd.read_csv(lk / "lsoa21_ward24_lad24_ew.csv", dtype=str, keep_default_na=False)
    rows = best.assign(WD24NMW=None, LAD24NMW=None).to_dict("records")
    rows.append({"LSOA21CD": c["lsoa"], "LSOA21NM": c["lsoa_name"], "WD24CD": c["ward"], "WD24NM": c["ward_name"],
                 "WD24NMW": "Adamsdown", "LAD24CD": c["code"], "LAD24NM": c["name"], "LAD24NMW": "Caerdydd"})
    layers["lsoa21_ward24_lad24"] = pub.ArcGISLayer(
        rows, ["LSOA21CD", "LSOA21NM", "WD24CD", "WD24NM", "WD24NMW", "LAD24CD", "LAD24NM", "LAD24NMW"],
        max_records=200, oid="ObjectId")

    w23 = pd.read_csv(lk / "ward_lad_dec2023_uk.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    rows = [{k: (v or None) for k, v in r.items() if k != "ObjectId"} for r in w23.to_dict("records")]
    rows.append({"WD23CD": c["ward"], "WD23NM": c["ward_name"], "WD23NMW": "Adamsdown", "LAD23CD": c["code"],
                 "LAD23NM": c["name"], "LAD23NMW": "Caerdydd"})
    layers["ward23_lad23"] = pub.ArcGISLayer(rows, ["WD23CD", "WD23NM", "WD23NMW", "LAD23CD", "LAD23NM", "LAD23NMW"],
                                             max_records=30, oid="ObjectId")

    change = pd.read_csv(lk / "lsoa11_lsoa21_lad22_ew.csv", dtype=str, keep_default_na=False)
    rows = change.assign(LAD22NMW=None).to_dict("records")
    rows.append({"LSOA11CD": "W01001685", "LSOA11NM": "Cardiff 032A", "LSOA21CD": c["lsoa"], "LSOA21NM": c["lsoa_name"],
                 "CHGIND": "U", "LAD22CD": c["code"], "LAD22NM": c["name"], "LAD22NMW": "Caerdydd"})
    # Put a page boundary inside a group of rows sharing their LSOA 2011 code (a split LSOA), where a
    # client that orders by a column that is not unique gets a row twice and misses another.
    tie = _first_tie([r["LSOA11CD"] for r in rows])
    layers["lsoa11_lsoa21_lad22"] = pub.ArcGISLayer(
        rows, ["LSOA11CD", "LSOA11NM", "LSOA21CD", "LSOA21NM", "CHGIND", "LAD22CD", "LAD22NM", "LAD22NMW"],
        max_records=(tie + 1) if tie and tie >= 20 else 100, oid="ObjectId")

    cent = pd.read_csv(lk / "lsoa21_population_weighted_centroids.csv", dtype={"LSOA21CD": str})
    rows = [{"LSOA21CD": r.LSOA21CD, "GlobalID": _guid(r.LSOA21CD),
             "geometry": {"type": "Point", "coordinates": [float(r.LONG), float(r.LAT)]}} for r in cent.itertuples()]
    rows.append({"LSOA21CD": c["lsoa"], "GlobalID": _guid(c["lsoa"]),
                 "geometry": {"type": "Point", "coordinates": [c["lon"] + 0.002, c["lat"] + 0.002]}})
    layers["lsoa21_centroids"] = pub.ArcGISLayer(rows, ["LSOA21CD", "GlobalID"], max_records=150, geometry="point")

    ruc = pd.read_csv(lk / "lsoa21_rural_urban_2021.csv", dtype=str, keep_default_na=False)
    names = best.set_index("LSOA21CD")["LSOA21NM"]
    rows = ruc.assign(LSOA21NM=names.reindex(ruc["LSOA21CD"]).to_numpy()).to_dict("records")
    rows.append({"LSOA21CD": c["lsoa"], "LSOA21NM": c["lsoa_name"], "RUC21CD": "UN1",
                 "RUC21NM": "Urban: Nearer to a major town or city", "Urban_rural_flag": "Urban"})
    layers["lsoa21_ruc21"] = pub.ArcGISLayer(rows, ["LSOA21CD", "LSOA21NM", "RUC21CD", "RUC21NM", "Urban_rural_flag"],
                                             max_records=200, oid="ObjectId")
    for ds, layer in layers.items():  # a whole mirror already has the Welsh record added above: keep it once
        spec = dataset(ds).online
        key = spec.get("key", spec["fields"][:1])
        first = {}
        for r in layer.records:
            first.setdefault(tuple(r.get(k) for k in key), r)
        layer.records = list(first.values())
    return layers


# --- Nomis Census 2021 bulk tables ------------------------------------------------------------------------

def _parts(total: np.ndarray, shares: list[float]) -> list[np.ndarray]:
    """Whole-number parts of ``total`` in roughly these shares, summing exactly to it."""
    total = np.asarray(total, dtype=np.int64)
    weights = np.asarray(shares, dtype=float) / sum(shares)
    out = [np.floor(total * w).astype(np.int64) for w in weights[:-1]]
    out.append(total - np.sum(out, axis=0) if out else total)
    return out


def bulk_tables(mirror: Path, census: pd.DataFrame) -> dict[str, np.ndarray]:
    """Counts for every column of the ten bulk tables, LSOAs in ``census`` order.

    ``census`` is the mirror install's ``census_lsoa`` table (indexed by code).
    """
    r = lambda col: np.rint(census[col].to_numpy(dtype=float)).astype(np.int64)  # noqa: E731
    n = len(census)
    out: dict[str, np.ndarray] = {}

    pop16, inactive, unemployed = r("census21_inactive_pct__den"), r("census21_inactive_pct__num"), r("census21_unemployed_pct__num")
    t = np.zeros((n, 31), dtype=np.int64)
    t[:, 0], t[:, 25] = pop16, inactive
    unemp_ex, unemp_st = _parts(unemployed, [0.85, 0.15])
    active = pop16 - inactive
    assert (active >= unemployed).all(), "mirror estimates: more unemployed than economically active"
    act_st = unemp_st + (active - unemployed) // 12
    act_ex = active - act_st
    for base, act, unemp in ((1, act_ex, unemp_ex), (13, act_st, unemp_st)):
        t[:, base], t[:, base + 11] = act, unemp
        employed = act - unemp
        t[:, base + 1] = employed
        kinds = _parts(employed, [0.85, 0.05, 0.10])
        for k in range(3):
            t[:, base + 2 + 3 * k] = kinds[k]
            t[:, base + 3 + 3 * k], t[:, base + 4 + 3 * k] = _parts(kinds[k], [0.3, 0.7])
    t[:, 26:31] = np.column_stack(_parts(inactive, [0.45, 0.2, 0.15, 0.12, 0.08]))
    out["ts066"] = t

    total, bad = r("census21_bad_health_pct__den"), r("census21_bad_health_pct__num")
    out["ts037"] = np.column_stack([total, *_parts(total - bad, [0.48, 0.34, 0.18]), *_parts(bad, [0.75, 0.25])])

    total, disabled = r("census21_disabled_pct__den"), r("census21_disabled_pct__num")
    out["ts038"] = np.column_stack([total, disabled, *_parts(disabled, [0.45, 0.55]), total - disabled,
                                    *_parts(total - disabled, [0.1, 0.9])])

    total, none = r("census21_no_qualifications_pct__den"), r("census21_no_qualifications_pct__num")
    out["ts067"] = np.column_stack([total, none, *_parts(total - none, [0.1, 0.14, 0.05, 0.17, 0.34, 0.03])])

    total, carers = r("census21_unpaid_carers_pct__den"), r("census21_unpaid_carers_pct__num")
    out["ts039"] = np.column_stack([total, total - carers, *_parts(carers, [0.55, 0.2, 0.25])])

    total, never = r("census21_never_worked_pct__den"), r("census21_never_worked_pct__num")
    out["ts065"] = np.column_stack([total, *_parts(total - never, [0.3, 0.7]), never])

    total, poor = r("census21_poor_english_pct__den"), r("census21_poor_english_pct__num")
    other = np.maximum(poor, np.rint(total * 0.09).astype(np.int64))
    out["ts029"] = np.column_stack([total, total - other, other, *_parts(other - poor, [0.6, 0.4]),
                                    *_parts(poor, [0.8, 0.2])])

    total, no_car = r("census21_no_car_pct__den"), r("census21_no_car_pct__num")
    out["ts045"] = np.column_stack([total, no_car, *_parts(total - no_car, [0.45, 0.4, 0.15])])

    total, three_plus = r("census21_hh_deprived_3plus_pct__den"), r("census21_hh_deprived_3plus_pct__num")
    out["ts011"] = np.column_stack([total, *_parts(total - three_plus, [0.5, 0.35, 0.15]), *_parts(three_plus, [0.85, 0.15])])

    age = pd.read_csv(mirror / "indicators/census2021_population_age_lsoa21.csv", dtype={"LSOA21CD": str})
    age = age.pivot(index="LSOA21CD", columns="age_group", values="usual_residents").reindex(census.index)
    band = lambda name: age[f"Aged {name}"].to_numpy(dtype=np.int64)  # noqa: E731
    young, old = band("15 years and under"), band("65 years and over")
    out["ts007"] = np.column_stack([
        age.sum(axis=1).to_numpy(dtype=np.int64), *_parts(young, [5, 5, 6]), *_parts(band("16 to 24 years"), [4, 5]),
        band("25 to 34 years"), band("35 to 49 years"), band("50 to 64 years"), *_parts(old, [0.5, 0.35, 0.15])])
    for table, counts in out.items():
        assert counts.shape[1] == len(pub.BULK_HEADERS[table]), table
        assert (counts >= 0).all(), table
    return out


def _bulk_zip(table: str, codes: list[str], names: list[str], counts: np.ndarray) -> bytes:
    """As published: the LSOA member (England and Wales rows), other levels, metadata."""
    welsh = counts[:1]  # any consistent row will do
    return pub.bulk_zip(table, codes + [CARDIFF["lsoa"]], names + [CARDIFF["lsoa_name"]], np.vstack([counts, welsh]))


# --- MHCLG Indices of Deprivation ------------------------------------------------------------------------

IOD25_STEMS = dict(zip(["IMD", "Income", "Employment", "Education", "Health", "Crime", "Housing_and_Services", "Environment"],
                       pub.DOMAIN_NAMES))


def iod2025_file7(mirror: Path, census: pd.DataFrame, lookup: pd.DataFrame) -> bytes:
    imd = pd.read_csv(mirror / "indicators/imd2025_lsoa21.csv", dtype={"LSOA21CD": str})
    lk = lookup.set_index("LSOA21CD").reindex(imd["LSOA21CD"])
    f7 = pd.DataFrame({"LSOA code (2021)": imd["LSOA21CD"], "LSOA name (2021)": lk["LSOA21NM"].to_numpy(),
                       "Local Authority District code (2024)": lk["LAD24CD"].to_numpy(),
                       "Local Authority District name (2024)": lk["LAD24NM"].to_numpy()})
    for short, name in IOD25_STEMS.items():
        rate = " (rate)" if name in ("Income", "Employment") else ""
        f7[f"{name} Score{rate}"] = imd[f"{short}_score"]
        f7[f"{name} Rank (where 1 is most deprived)"] = imd[f"{short}_rank"]
        f7[f"{name} Decile (where 1 is most deprived 10% of LSOAs)"] = imd[f"{short}_decile"]
    pops = census.reindex(imd["LSOA21CD"])
    f7["Total population: mid 2022"] = pops["census21_population"].to_numpy(dtype=np.int64)
    f7["Working age population 18-66 (for use with Employment Deprivation Domain): mid 2022"] = \
        pops["census21_pop_16_64"].to_numpy(dtype=np.int64)
    f7["Dependent Children aged 0-15: mid 2022"] = (f7["Total population: mid 2022"] * 0.2).astype(int)
    f7["Older population aged 60 and over: mid 2022"] = (f7["Total population: mid 2022"] * 0.22).astype(int)
    return pub.file7_csv(2025, f7)


def iod2019_file7(mirror: Path) -> bytes:
    ind = mirror / "indicators"
    file2 = pd.read_csv(ind / "imd2019_lsoa11_file2.csv", encoding="utf-8-sig", dtype={"LSOA code (2011)": str})
    file6 = pd.read_csv(ind / "imd2019_lsoa11_file6_population_denominators.csv", encoding="utf-8-sig", thousands=",",
                        dtype={"LSOA code (2011)": str})
    pops = [c for c in file6.columns if "mid 2015" in c or "Working age" in c]
    return pub.file7_csv(2019, file2.merge(file6[["LSOA code (2011)", *pops]], on="LSOA code (2011)"))


# --- Nomis API -------------------------------------------------------------------------------------------

def _claimant_counts(codes: list[str], rng) -> dict:
    counts = {}
    for code in codes:
        for date, _ in CLAIMANT_DATES:
            total = int(rng.integers(0, 40)) * 5
            for gender in (0, 1, 2):
                for age in (0, 2, 11, 4):
                    counts[(date, code, gender, age)] = total if (gender, age) == (0, 0) else \
                        int(rng.integers(0, max(total // 5, 1) + 1)) * 5
    return counts


def nomis_api_rows(lsoa_codes: list[str], lsoa11_codes: list[str], lad_codes: list[str],
                   seed: int = 162) -> tuple[list[dict], list[dict], list[dict], dict, dict]:
    """NM_162_1 rows on 2021 and 2011 LSOAs, NM_17_5 rows, and the counts behind both claimant sets."""
    rng = np.random.default_rng(seed)
    counts21, counts11 = _claimant_counts(lsoa_codes, rng), _claimant_counts(lsoa11_codes, rng)
    values = {}
    for code in lad_codes + ["E92000001"]:
        for var, rate in ((45, 74.0), (111, 21.5), (1496, 27.0)):
            den = 150000.0 if code != "E92000001" else 35_000_000.0
            values[(code, var, 20599)] = rate
            values[(code, var, 21001)] = round(den * rate / 100)
            values[(code, var, 21002)] = den
            values[(code, var, 21003)] = 3.1 if code != "E92000001" else 0.3
    return (pub.claimant_rows(counts21, dates=CLAIMANT_DATES, typecode=151),
            pub.claimant_rows(counts11, dates=CLAIMANT_DATES, typecode=298), pub.aps_rows(values), counts21, counts11)


def nomis_datasets(rows21, rows11, rows17, *, claimant_2021_history: bool = False,
                   keys: set[str] = frozenset({NOMIS_KEY})) -> dict[str, pub.NomisDataset]:
    """The two Nomis API datasets an install reads, by id."""
    months = [m for m, _ in CLAIMANT_MONTHS]
    on_2021 = months if claimant_2021_history else RECENT_2021_LSOA_MONTHS
    nm162 = pub.NomisDataset("NM_162_1", pub.NM_162_COLUMNS, {TYPE151: rows21, TYPE298: rows11}, CLAIMANT_MONTHS,
                             pub.NM_162_CODES, months_by_geography={TYPE151: on_2021, TYPE298: months},
                             page_rows=NOMIS_API_PAGE, key_page_rows=NOMIS_KEY_PAGE, keys=set(keys))
    nm17 = pub.NomisDataset("NM_17_5", pub.NM_17_COLUMNS, {APS_GEOGRAPHY: rows17}, APS_MONTHS, pub.NM_17_CODES,
                            months_by_geography={APS_GEOGRAPHY: [m for m, _ in APS_MONTHS]},
                            page_rows=NOMIS_API_PAGE, key_page_rows=NOMIS_KEY_PAGE, keys=set(keys))
    return {"NM_162_1": nm162, "NM_17_5": nm17}


# --- the OA to LSOA lookup (oa21_lsoa21 online) -----------------------------------------------------------

TS001 = ["Residence type: Total", "Residence type: Lives in a household",
         "Residence type: Lives in a communal establishment"]


def oa_lookup(mirror: Path) -> tuple[pub.ArcGISLayer, bytes, pd.DataFrame]:
    """The ONS OA to LSOA lookup layer and the TS001 bulk zip (OA member) for the mirror's output areas."""
    oa = pd.read_csv(mirror / "indicators/oa21_lsoa21_lookup.csv", dtype={"OA21CD": str, "LSOA21CD": str})
    rows = [{"OA21CD": r.OA21CD, "LSOA21CD": r.LSOA21CD, "LSOA21NM": r.LSOA21NM, "MSOA21CD": "E02000001",
             "MSOA21NM": "MSOA", "LAD22CD": "E06000032", "LAD22NM": "Luton", "LAD22NMW": None} for r in oa.itertuples()]
    layer = pub.ArcGISLayer(rows, ["OA21CD", "LSOA21CD", "LSOA21NM", "MSOA21CD", "MSOA21NM", "LAD22CD", "LAD22NM",
                                   "LAD22NMW"], max_records=300, oid="ObjectId")
    header = ["date", "geography", "geography code"] + [h + pub.SUFFIX for h in TS001]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    for r in oa.itertuples():
        writer.writerow(["2021", r.OA21CD, r.OA21CD, r.usual_residents, r.lives_in_household,
                         r.lives_in_communal_establishment])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(TS001_MEMBER, text.getvalue())
        zf.writestr("census2021-ts001-lsoa.csv", ",".join(header) + "\n")
    return layer, buf.getvalue(), oa


# --- the whole recording ---------------------------------------------------------------------------------

@dataclass
class Recording:
    """Routes (full path on the fake server -> handler) and the values behind them, for assertions."""

    routes: dict[str, object] = field(default_factory=dict)
    layers: dict[str, pub.ArcGISLayer] = field(default_factory=dict)
    bulk: dict[str, np.ndarray] = field(default_factory=dict)
    lsoa_codes: list[str] = field(default_factory=list)
    claimant: dict = field(default_factory=dict)
    claimant21: dict = field(default_factory=dict)
    nomis: dict[str, pub.NomisDataset] = field(default_factory=dict)
    oa: pd.DataFrame | None = None

    def serve(self, fake, broken: dict | None = None) -> None:
        """Route every recorded answer on ``fake``; ``broken`` replaces some handlers (same paths)."""
        broken = broken or {}
        for path, handler in self.routes.items():
            fake.route(path, broken.get(path, handler))
        fake.fallback = pub.arcgis_fallback(PREFIX["ons"])

    @staticmethod
    def environment(url: str) -> dict[str, str]:
        """Environment variables pointing every publisher at the fake server at ``url``."""
        return {ENV[p]: url + PREFIX[p] for p in PREFIX}


def build_recording(mirror: Path, census: pd.DataFrame, *, claimant_2021_history: bool = False) -> Recording:
    """All answers for an install of the districts in ``mirror`` (``census``: the mirror install's census_lsoa)."""
    rec = Recording()
    rec.layers = arcgis_layers(mirror)
    for ds, layer in rec.layers.items():
        rec.routes[query_path(SERVICES[ds])] = layer

    lookup = pd.read_csv(mirror / "lookups/lsoa21_ward24_lad24_ew.csv", dtype=str).sort_values("LSOA21CD")
    lookup = lookup[lookup["LSOA21CD"].str.startswith("E")]  # the install's LSOAs (a whole mirror has Wales too)
    census = census.set_index("code").reindex(lookup["LSOA21CD"])
    rec.lsoa_codes = lookup["LSOA21CD"].tolist()
    rec.bulk = bulk_tables(mirror, census)
    names = lookup["LSOA21NM"].tolist()
    for table, counts in rec.bulk.items():
        body = _bulk_zip(table, rec.lsoa_codes, names, counts)
        with zipfile.ZipFile(io.BytesIO(body)) as zf:  # the recording itself must be a valid zip
            assert f"census2021-{table}-lsoa.csv" in zf.namelist()
        rec.routes[f"{PREFIX['nomis']}/output/census/2021/census2021-{table}.zip"] = \
            pub.StaticFile(body, "application/zip", etag=f'"{table}-1"')

    f25, f19 = iod2025_file7(mirror, census, lookup), iod2019_file7(mirror)
    rec.routes[PREFIX["govuk"] + IOD25] = pub.StaticFile(f25, "text/csv", etag='"iod25"')
    rec.routes[PREFIX["govuk"] + IOD19] = pub.StaticFile(f19, "text/csv", etag='"iod19"')

    stations = (mirror / "places/uk_railway_stations.csv").read_bytes()
    rec.routes[PREFIX["unpkg"] + STATIONS] = pub.StaticFile(stations, "text/csv; charset=utf-8", etag='W/"1.11.1"')

    for ds_id in ELS_DATASETS:
        ds = dataset(ds_id)
        body = (mirror / ds.mirror).read_bytes()
        rec.routes[f"{PREFIX['els']}/{ds.online['path']}"] = lambda q, b=body: (200, "text/plain; charset=utf-8", b)

    change = pd.read_csv(mirror / "lookups/lsoa11_lsoa21_lad22_ew.csv", dtype=str)
    lsoa11 = sorted(change.loc[change["LSOA11CD"].str.startswith("E"), "LSOA11CD"].unique())
    rows21, rows11, rows17, rec.claimant21, rec.claimant = nomis_api_rows(rec.lsoa_codes, lsoa11,
                                                                          sorted(lookup["LAD24CD"].unique()))
    rec.nomis = nomis_datasets(rows21, rows11, rows17, claimant_2021_history=claimant_2021_history)
    for api in rec.nomis.values():
        rec.routes.update(api.routes(PREFIX["nomis"]))

    layer, ts001, rec.oa = oa_lookup(mirror)
    rec.layers["oa21_lsoa21"] = layer
    rec.routes[query_path(OA_SERVICE)] = layer
    rec.routes[f"{PREFIX['nomis']}/output/census/2021/census2021-ts001.zip"] = pub.StaticFile(ts001, "application/zip")
    return rec
