"""Existing provision and candidate hub sites: load, check, pool.

Sites are read with :func:`geo.employment_sites.read_sites` (CSV or GeoJSON; longitude/latitude, easting/northing
or postcode; every bad row reported) and then given the hub fields:

* ``type``: one of :data:`HUB_TYPES` (common spellings accepted, e.g. "Jobcentre Plus", "GP practice");
  a type outside the vocabulary is kept in ``type_given``, counted as ``other`` and reported in
  ``attrs["notes"]`` (it is not an error: a typo must not stop a plan, but it must be seen);
* ``capacity``: optional, people a site can serve (a count, ``8,000`` accepted; blank = not given);
* ``fixed``: existing sites only. ``true`` (the default) keeps the hub in every plan; ``false`` makes it
  *removable*: optimisation may close it and use the slot elsewhere. Candidates are never fixed.

Every layer here is points in EPSG:27700 (metres) with :data:`HUB_COLUMNS`.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import STRtree

from geo.crs import BNG, require_bng
from geo.employment_sites import SitesError, read_sites
from geo.words import agree, count_of
from layers.hubs.errors import HubError, SitesOutsideAreaError

#: Kinds of existing provision (the vocabulary of the ``type`` column).
HUB_TYPES = ("jobcentre", "library", "GP surgery", "family hub", "youth hub", "community centre", "other")
#: Types given to generated candidates.
STATION_TYPE = "railway station"
CENTROID_TYPE = "priority area centre"
#: Other spellings of HUB_TYPES (lower case, single spaces).
TYPE_ALIASES = {
    "jobcentre plus": "jobcentre", "job centre": "jobcentre", "job centre plus": "jobcentre", "jcp": "jobcentre",
    "jobcentres": "jobcentre", "libraries": "library", "public library": "library",
    "gp": "GP surgery", "gp practice": "GP surgery", "gp surgeries": "GP surgery", "surgery": "GP surgery",
    "doctors surgery": "GP surgery", "doctor's surgery": "GP surgery", "family hubs": "family hub",
    "youth hubs": "youth hub", "youth centre": "youth hub", "community center": "community centre",
    "community centres": "community centre", "community hub": "community centre",
}
#: Columns of every hub sites layer (then geometry).
HUB_COLUMNS = ["site_id", "name", "type", "type_given", "capacity", "role", "fixed", "source"]
#: Roles of a site in a plan.
EXISTING, CANDIDATE = "existing", "candidate"
#: A site further than this from every LSOA of the area is "outside the area" (metres). The stored LSOA
#: outlines are generalised (BSC, 200 m), so a hub on the boundary street must not be refused.
OUTSIDE_TOLERANCE_M = 500.0
#: What to do with sites outside the area.
OUTSIDE_RULES = ("error", "drop", "keep")

_TRUE = {"true", "t", "yes", "y", "1", "fixed", "keep"}
_FALSE = {"false", "f", "no", "n", "0", "removable", "remove"}


def _norm_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return " ".join(str(value).replace("_", " ").replace("-", " ").split()).casefold()


def normalise_type(value: object) -> tuple[str, bool]:
    """``(type, known)``: the vocabulary entry for a given type (blank -> ``other``, known)."""
    text = _norm_text(value)
    if not text:
        return "other", True
    canon = {t.casefold(): t for t in HUB_TYPES + (STATION_TYPE, CENTROID_TYPE)}
    if text in canon:
        return canon[text], True
    if text in TYPE_ALIASES:
        return TYPE_ALIASES[text], True
    return "other", False


def _column(frame: pd.DataFrame, name: str) -> str | None:
    hits = [c for c in frame.columns if str(c).strip().casefold() == name]
    return hits[0] if hits else None


def hub_sites(sites: gpd.GeoDataFrame, role: str = EXISTING, *, source: str | None = None,
              row_label: str = "row", first_row: int = 2) -> gpd.GeoDataFrame:
    """Give a sites layer (:mod:`geo.employment_sites` output, EPSG:27700) the hub fields.

    Parameters
    ----------
    sites : points in EPSG:27700 with ``site_id`` and ``name``; optional ``type``, ``capacity``, ``fixed``
        (column names case-insensitive) and ``source``.
    role : ``existing`` (default ``fixed`` true) or ``candidate`` (never fixed).
    source, row_label, first_row : how rows are named in messages (CSV: row 2 is the first site).

    Returns
    -------
    GeoDataFrame (EPSG:27700) with :data:`HUB_COLUMNS`; ``capacity`` in people (NaN = not given).
    ``attrs["notes"]`` lists unknown types and ignored ``fixed`` values. Raises
    :class:`geo.employment_sites.SitesError` listing every bad capacity or fixed value.
    """
    if role not in (EXISTING, CANDIDATE):
        raise HubError(f"unknown site role {role!r}; use {EXISTING} or {CANDIDATE}")
    require_bng(sites, what="sites")
    source = source or sites.attrs.get("source", "sites")
    n = len(sites)
    rows = [f"{row_label} {i + first_row}" for i in range(n)]
    names = sites["name"].astype(str).tolist()
    problems: list[dict] = []
    notes: list[str] = []

    type_col = "type" if "type" in sites.columns else _column(sites, "type")
    given = sites[type_col].to_numpy(dtype=object) if type_col else np.full(n, None, dtype=object)
    types, unknown = [], []
    for i, value in enumerate(given):
        kind, known = normalise_type(value)
        types.append(kind)
        if not known:
            unknown.append(f"{rows[i]} {names[i]!r}: {str(value).strip()!r}")
    if unknown:
        shown = "; ".join(unknown[:5]) + (f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else "")
        notes.append(f"{source}: {count_of(len(unknown), 'site type')} not in the list ({', '.join(HUB_TYPES)}), "
                     f"counted as other: {shown}")

    capacity = np.full(n, np.nan)
    cap_col = _column(sites, "capacity")
    if cap_col is not None:
        for i, value in enumerate(sites[cap_col].to_numpy(dtype=object)):
            text = "" if _norm_text(value) == "" else str(value).replace(",", "").strip()
            if not text:
                continue
            try:
                number = float(text)
            except ValueError:
                number = -1.0
            if not np.isfinite(number) or number < 0:
                problems.append({"index": i, "row": rows[i], "name": names[i],
                                 "problem": f"capacity {value!r} is not a number of people"})
            else:
                capacity[i] = number

    fixed = np.full(n, role == EXISTING)
    fixed_col = _column(sites, "fixed")
    if fixed_col is not None:
        values = sites[fixed_col].to_numpy(dtype=object)
        if role == CANDIDATE:
            if any(_norm_text(v) in _TRUE for v in values):
                notes.append(f"{source}: 'fixed' is ignored for candidate sites (only existing hubs can be fixed)")
        else:
            for i, value in enumerate(values):
                text = _norm_text(value)
                if not text:
                    continue
                if text in _TRUE:
                    fixed[i] = True
                elif text in _FALSE:
                    fixed[i] = False
                else:
                    problems.append({"index": i, "row": rows[i], "name": names[i],
                                     "problem": f"fixed {value!r} is not true/false (or yes/no)"})
    if problems:
        problems.sort(key=lambda p: p["index"])
        raise SitesError(source, problems)

    out = gpd.GeoDataFrame({
        "site_id": sites["site_id"].astype(str).to_numpy(),
        "name": np.array(names, dtype=object),
        "type": np.array(types, dtype=object),
        "type_given": np.array([None if _norm_text(v) == "" else str(v).strip() for v in given], dtype=object),
        "capacity": capacity,
        "role": role,
        "fixed": fixed.astype(bool),
        "source": (sites["source"].to_numpy(dtype=object) if "source" in sites.columns
                   else np.full(n, None, dtype=object)),
    }, geometry=sites.geometry.to_numpy(), crs=BNG)
    out.attrs["notes"] = notes
    out.attrs["source"] = source
    return out


def read_hub_sites(path: str | Path, role: str = EXISTING) -> gpd.GeoDataFrame:
    """Read existing hubs or candidates from a CSV/GeoJSON sites file (see :mod:`geo.employment_sites`); EPSG:27700 out."""
    path = Path(path)
    sites = read_sites(path)
    geojson = path.suffix.lower() in (".geojson", ".json")
    return hub_sites(sites, role, source=str(path), row_label="feature" if geojson else "row",
                     first_row=1 if geojson else 2)


def empty_sites() -> gpd.GeoDataFrame:
    """A hub sites layer with no rows (EPSG:27700)."""
    frame = {c: pd.Series([], dtype=object) for c in HUB_COLUMNS}
    frame["capacity"] = pd.Series([], dtype=float)
    frame["fixed"] = pd.Series([], dtype=bool)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=BNG), crs=BNG)


def site_pool(existing: gpd.GeoDataFrame | None, candidates: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Existing hubs then candidates in one layer (EPSG:27700); ``site_id`` must be unique across both.

    Keeps :data:`HUB_COLUMNS` (and ``lad_code``/``lad_name`` when present).

    Missing hub columns are filled (existing: fixed; candidates: not fixed), so plain sites layers work.
    """
    parts = []
    for frame, role in ((existing, EXISTING), (candidates, CANDIDATE)):
        if frame is None or len(frame) == 0:
            continue
        require_bng(frame, what=f"{role} sites")
        if not set(HUB_COLUMNS) <= set(frame.columns):
            frame = hub_sites(frame, role)
        frame = frame.assign(role=role)
        if role == CANDIDATE:
            frame = frame.assign(fixed=False)
        if frame.geometry.name != "geometry":
            frame = frame.rename_geometry("geometry")
        extra = [c for c in ("lad_code", "lad_name") if c in frame.columns]
        parts.append(frame[HUB_COLUMNS + extra + ["geometry"]])
    if not parts:
        return empty_sites()
    pool = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=BNG)
    dup = pool["site_id"][pool["site_id"].duplicated()]
    if len(dup):
        roles = pool.loc[pool["site_id"] == dup.iloc[0], "role"].tolist()
        raise HubError(f"site id {dup.iloc[0]!r} is used twice ({' and '.join(roles)} sites); "
                       f"give every site its own id (or leave the id out: it is made from the name)")
    pool["fixed"] = pool["fixed"].astype(bool)
    pool.attrs["notes"] = [n for f in (existing, candidates) if f is not None for n in f.attrs.get("notes", [])]
    return pool


def locate_in_area(sites: gpd.GeoDataFrame, lsoa: gpd.GeoDataFrame, *, area_name: str,
                   outside: str = "error", tolerance_m: float = OUTSIDE_TOLERANCE_M) -> gpd.GeoDataFrame:
    """Tag each site with the district it lies in; refuse, drop or keep sites outside the area.

    Parameters
    ----------
    sites : hub sites (EPSG:27700).
    lsoa : the area's LSOA polygons (EPSG:27700) with ``lad_code`` and ``lad_name``.
    outside : ``error`` (default) raises :class:`SitesOutsideAreaError` naming them; ``drop`` leaves them
        out (listed in ``attrs["notes"]``); ``keep`` keeps them (e.g. a jobcentre over the border that
        residents use) with ``lad_code`` empty.
    tolerance_m : sites within this distance (metres) of the area count as inside.

    Returns
    -------
    The sites with ``lad_code``, ``lad_name`` and ``outside_m`` (metres outside the area; 0 inside).
    """
    if outside not in OUTSIDE_RULES:
        raise HubError(f"unknown rule for sites outside the area {outside!r}; use {', '.join(OUTSIDE_RULES)}")
    require_bng(sites, what="sites")
    require_bng(lsoa, what="area boundaries")
    out = sites.copy()
    out.attrs = dict(sites.attrs)
    if len(sites) == 0:
        return out.assign(lad_code=pd.Series([], dtype=object), lad_name=pd.Series([], dtype=object), outside_m=0.0)
    tree = STRtree(lsoa.geometry.to_numpy())
    idx = tree.nearest(sites.geometry.to_numpy())
    dist = sites.geometry.distance(lsoa.geometry.iloc[idx].reset_index(drop=True), align=False).to_numpy()
    inside = dist <= tolerance_m
    for col in ("lad_code", "lad_name"):
        values = np.asarray(lsoa[col].to_numpy(dtype=object)[idx], dtype=object)
        values[~inside] = None
        out[col] = pd.Series(values, index=out.index, dtype=object)
    out["outside_m"] = np.where(inside, 0.0, np.round(dist, 0))
    if inside.all():
        return out
    far = out.loc[~inside]
    shown = ", ".join(f"{r.name!r} ({r.role}, {r.outside_m / 1000:.1f} km outside)"
                      for r in far.head(3).itertuples(index=False))
    more = f" and {len(far) - 3} more" if len(far) > 3 else ""
    if outside == "error":
        raise SitesOutsideAreaError(
            f"{count_of(len(far), 'site')} {agree(len(far), 'lies', 'lie')} outside {area_name}: {shown}{more}; "
            "remove them, choose an area that "
            f"contains them, or pass --sites-outside keep (hubs over the border that residents use) or drop")
    notes = list(out.attrs.get("notes", []))
    if outside == "drop":
        out = out.loc[inside].reset_index(drop=True)
        notes.append(f"left out {count_of(len(far), 'site')} outside {area_name}: {shown}{more}")
    else:
        notes.append(f"kept {count_of(len(far), 'site')} outside {area_name}: {shown}{more}")
    out.attrs["notes"] = notes
    return out
