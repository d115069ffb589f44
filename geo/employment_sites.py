"""Employment sites: load, check, edit and save the places people travel to.

A sites file is CSV or GeoJSON. CSV columns (names are case-insensitive):

* ``name`` (required, unique);
* a location, one of: ``longitude`` + ``latitude`` (WGS84 degrees; also
  ``lon``/``long``/``lng`` and ``lat``), ``easting`` + ``northing`` (British
  National Grid metres, EPSG:27700) or ``postcode`` (looked up offline, see
  :mod:`geo.postcodes`). A row may use any one of them; coordinates win over
  a postcode when both are given;
* optional ``jobs`` (a count, "8,000" accepted), ``type``, ``source`` and
  ``id`` / ``site_id`` (kept as the stable ``site_id``; otherwise the id is
  made from the name). Other columns are carried through unchanged.

GeoJSON: Point features with a ``name`` property (and the optional ones);
coordinates WGS84 (RFC 7946) unless the file declares EPSG:27700.

Every row is checked and every problem is reported with its row (CSV line
number, or GeoJSON feature number) and name: latitude and longitude that
look swapped, eastings and northings that look swapped, points outside
Great Britain, duplicate names or ids, unknown or invalid postcodes, bad
job counts. Nothing is guessed. The result is a GeoDataFrame in EPSG:27700
(metres) with :data:`SITE_COLUMNS` first.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from geo import postcodes
from geo.crs import BNG, require_bng
from geo.errors import SourceFileError, WardscopeError
from geo.words import count_of

#: Columns every sites layer starts with (then any carried-through columns, then geometry).
SITE_COLUMNS = ["site_id", "name", "jobs", "type", "source", "location_from"]

#: Accepted spellings of each input column (lower case).
ALIASES = {
    "name": ("name", "site_name", "site"),
    "longitude": ("longitude", "lon", "long", "lng"),
    "latitude": ("latitude", "lat"),
    "easting": ("easting", "eastings", "x_bng", "bng_e"),
    "northing": ("northing", "northings", "y_bng", "bng_n"),
    "postcode": ("postcode", "post_code", "pcd"),
    "jobs": ("jobs", "job_count", "jobs_count"),
    "type": ("type", "site_type"),
    "source": ("source",),
    "site_id": ("site_id", "id"),
}

#: Latitude and longitude range of Great Britain and its islands (degrees).
GB_LAT_RANGE = (49.8, 61.0)
GB_LON_RANGE = (-8.7, 1.8)
#: British National Grid range of Great Britain (metres).
GB_EASTING_RANGE = (0.0, 700_000.0)
GB_NORTHING_RANGE = (0.0, 1_250_000.0)
#: A box around the island of Ireland (lon_min, lat_min, lon_max, lat_max) that contains no part of
#: Great Britain south of the Mull of Kintyre; points in it are outside Great Britain.
IRELAND_LONLAT_BOX = (-10.7, 51.3, -5.45, 55.25)

_TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)
_TO_WGS84 = Transformer.from_crs(27700, 4326, always_xy=True)


class SitesError(WardscopeError):
    """A sites file has rows that cannot be used; ``problems`` lists every one."""

    def __init__(self, source: str, problems: list[dict]):
        self.source = source
        self.problems = problems
        shown = "; ".join(f"{p['row']} {p['name']!r}: {p['problem']}" if p["name"] else f"{p['row']}: {p['problem']}"
                          for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        super().__init__(f"{source}: {count_of(len(problems), 'site row')} cannot be used: {shown}{more}")


# -- reading ---------------------------------------------------------------------------------------
def _pick(columns: list[str], key: str) -> str | None:
    lower = {c.lower().strip(): c for c in columns}
    for alias in ALIASES[key]:
        if alias in lower:
            return lower[alias]
    return None


def _number(text: object) -> float:
    """``text`` as a number; NaN when blank, ``inf`` as a marker for "present but not a number".

    Written-out non-numbers ("NaN", "inf", "Infinity") are not numbers either: float() would
    read "NaN" as a blank and "inf" as a coordinate.
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return np.nan
    s = str(text).replace(",", "").strip()
    if not s:
        return np.nan
    try:
        value = float(s)
    except ValueError:
        return np.inf
    return value if np.isfinite(value) else np.inf


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:60]
    return slug or "site"


def in_great_britain(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """True where WGS84 ``lon``/``lat`` (degrees) lie in Great Britain's range and not in the Ireland box."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    inside = (lat >= GB_LAT_RANGE[0]) & (lat <= GB_LAT_RANGE[1]) & (lon >= GB_LON_RANGE[0]) & (lon <= GB_LON_RANGE[1])
    x0, y0, x1, y1 = IRELAND_LONLAT_BOX
    ireland = (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
    return inside & ~ireland


def _lonlat_problem(lon: float, lat: float) -> str | None:
    if bool(in_great_britain(np.array([lon]), np.array([lat]))[0]):
        return None
    if bool(in_great_britain(np.array([lat]), np.array([lon]))[0]):
        return (f"latitude and longitude look swapped (latitude {lat:g}, longitude {lon:g}); "
                f"Great Britain is latitude 49.8 to 61, longitude -8.7 to 1.8")
    if abs(lon) > 180 or abs(lat) > 90:
        return (f"longitude {lon:g}, latitude {lat:g} are not degrees (British National Grid metres? "
                f"put them in easting/northing columns)")
    return f"longitude {lon:g}, latitude {lat:g} is outside Great Britain"


def _bng_problem(east: float, north: float) -> str | None:
    if np.isinf(east) or np.isinf(north):  # postcode directory values; file values are checked first
        return "easting/northing are not numbers"
    e_ok = GB_EASTING_RANGE[0] <= east <= GB_EASTING_RANGE[1]
    n_ok = GB_NORTHING_RANGE[0] <= north <= GB_NORTHING_RANGE[1]
    if e_ok and n_ok:
        lon, lat = _TO_WGS84.transform(east, north)
        if bool(in_great_britain(np.array([lon]), np.array([lat]))[0]):
            return None
        return f"easting {east:.0f}, northing {north:.0f} is outside Great Britain"
    if GB_EASTING_RANGE[0] <= north <= GB_EASTING_RANGE[1] and GB_NORTHING_RANGE[0] <= east <= GB_NORTHING_RANGE[1]:
        return f"easting and northing look swapped (easting {east:.0f}, northing {north:.0f})"
    if abs(east) <= 180 and abs(north) <= 90:
        return f"easting {east:g}, northing {north:g} look like degrees; put them in longitude/latitude columns"
    return f"easting {east:.0f}, northing {north:.0f} is outside Great Britain"


class _RowProblems:
    """Problems found in a sites table, each tied to its row (as the user numbers rows) and name."""

    def __init__(self, rows: list[str], names: list[str]):
        self.rows, self.names, self.items = rows, names, []

    def report(self, i: int, text: str) -> None:
        self.items.append({"index": i, "row": self.rows[i], "name": self.names[i], "problem": text})


def _location_columns(cols: list, source: str) -> tuple[str, dict]:
    """The name column and the alias-matched optional columns; refuses a table that cannot locate sites."""
    name_col = _pick(cols, "name")
    if name_col is None:
        raise SourceFileError(f"{source}: no name column; a sites file needs name plus longitude/latitude, "
                              f"easting/northing or postcode")
    picked = {key: _pick(cols, key) for key in ALIASES}
    has_lonlat = picked["longitude"] is not None and picked["latitude"] is not None
    has_bng = picked["easting"] is not None and picked["northing"] is not None
    if not (has_lonlat or has_bng or picked["postcode"] is not None):
        raise SourceFileError(f"{source}: no location columns; give longitude and latitude, easting and northing, "
                              f"or postcode (found: {', '.join(map(str, cols[:12]))})")
    return name_col, picked


def _locate(col, n: int, problems: _RowProblems):
    """Each row's point in EPSG:27700 metres: coordinates first (WGS84 or BNG), else its postcode.

    Returns ``x``, ``y`` (NaN where unusable), ``how`` (``lonlat``/``bng``/``postcode``) and the tidied
    postcodes (None where a row did not use one).
    """
    lon, lat = np.array([_number(v) for v in col("longitude")]), np.array([_number(v) for v in col("latitude")])
    east, north = np.array([_number(v) for v in col("easting")]), np.array([_number(v) for v in col("northing")])
    pcs = col("postcode")
    x, y = np.full(n, np.nan), np.full(n, np.nan)
    how = np.full(n, "", dtype=object)
    need_pc: list[int] = []
    # the two coordinate forms, checked the same way: (kind, first, second, their keys, check, to BNG)
    forms = (("lonlat", lon, lat, ("longitude", "latitude"), _lonlat_problem, _TO_BNG.transform),
             ("bng", east, north, ("easting", "northing"), _bng_problem, lambda a, b: (a, b)))
    for i in range(n):
        if not problems.names[i]:
            problems.report(i, "has no name")
        form = next((f for f in forms if not (np.isnan(f[1][i]) and np.isnan(f[2][i]))), None)
        if form is not None:
            kind, a, b, keys, check, to_bng = form
            pair = "/".join(keys)
            odd = [key for key, v in zip(keys, (a[i], b[i])) if np.isinf(v)]
            if odd:
                problems.report(i, " and ".join(f"{key} {col(key)[i]!r}" for key in odd)
                                + (" are not numbers" if len(odd) > 1 else " is not a number"))
                continue
            if np.isnan(a[i]) or np.isnan(b[i]):
                problems.report(i, f"has only one of {pair}")
                continue
            bad = check(a[i], b[i])
            if bad:
                problems.report(i, bad)
                continue
            x[i], y[i] = to_bng(a[i], b[i])
            how[i] = kind
        elif pcs[i] is not None and postcodes.normalise(pcs[i]):
            need_pc.append(i)
        else:
            problems.report(i, "has no location (longitude/latitude, easting/northing or postcode)")
    postcode_out = np.full(n, None, dtype=object)
    if need_pc:
        found = postcodes.lookup([pcs[i] for i in need_pc])
        for j, i in enumerate(need_pc):
            rec = found.iloc[j]
            postcode_out[i] = postcodes.pretty(rec["postcode"])
            if rec["status"] != postcodes.FOUND:
                problems.report(i, postcodes.problem_text(rec["postcode"], rec["status"]))
                continue
            bad = _bng_problem(rec["easting"], rec["northing"])
            if bad:
                problems.report(i, f"postcode {postcode_out[i]}: {bad}")
                continue
            x[i], y[i], how[i] = rec["easting"], rec["northing"], "postcode"
    return x, y, how, (postcode_out if need_pc else None)


def _check_names_unique(problems: _RowProblems) -> None:
    first_seen: dict[str, int] = {}
    for i, name in enumerate(problems.names):
        key = name.casefold()
        if not key:
            continue
        if key in first_seen:
            problems.report(i, f"duplicate name (also {problems.rows[first_seen[key]]}); site names must be unique")
        else:
            first_seen[key] = i


def _site_ids(given, problems: _RowProblems) -> list[str]:
    """Stable ids: the file's own (checked unique) where given, else made from the name."""
    names = problems.names
    if given is not None:
        ids = [("" if pd.isna(v) else str(v).strip()) for v in given]
        seen: dict[str, int] = {}
        for i, sid in enumerate(ids):
            if not sid:
                ids[i] = _slug(names[i]) if names[i] else ""
            elif sid in seen:
                problems.report(i, f"duplicate id {sid!r} (also {problems.rows[seen[sid]]})")
            seen.setdefault(ids[i], i)
        return ids
    ids = [_slug(nm) if nm else "" for nm in names]
    # Different names can make the same slug ("A-B", "A B"): number the later ones.
    used: dict[str, int] = {}
    for i, sid in enumerate(ids):
        if sid in used:
            used[sid] += 1
            ids[i] = f"{sid}_{used[sid]}"
        else:
            used.setdefault(sid, 1)
    return ids


def sites_from_frame(frame: pd.DataFrame, *, source: str = "sites", row_label: str = "row",
                     first_row: int = 2, on_error: str = "raise") -> gpd.GeoDataFrame:
    """Check a table of sites and return them as points in EPSG:27700.

    Parameters
    ----------
    frame : one row per site, columns as described in the module docstring (strings or numbers).
    source : file name (or "map") used in messages.
    row_label, first_row : how rows are named in messages (CSV: ``row`` from 2, the header being row 1; a table
        read by the upload gate names each row by its file line instead).
    on_error : ``"raise"`` (default) raises :class:`SitesError` listing every problem; ``"skip"`` drops
        the bad rows and lists the problems in ``attrs["problems"]``.

    Returns
    -------
    GeoDataFrame (EPSG:27700): ``site_id``, ``name``, ``jobs`` (float, NaN when not given), ``type``,
    ``source``, ``location_from`` (``lonlat``, ``bng`` or ``postcode``), ``postcode`` when any row used
    one, carried-through columns, ``geometry`` (points, metres).
    """
    cols = list(frame.columns)
    name_col, picked = _location_columns(cols, source)
    n = len(frame)
    lines = frame.attrs.get("line_numbers")  # a table read by the upload gate knows each row's file line
    numbers = lines if row_label == "row" and lines is not None and len(lines) == n else range(first_row, first_row + n)
    problems = _RowProblems([f"{row_label} {number}" for number in numbers],
                            [("" if pd.isna(v) else str(v).strip()) for v in frame[name_col]])

    def col(key):
        return frame[picked[key]].to_numpy(dtype=object) if picked[key] is not None else np.full(n, None, dtype=object)

    x, y, how, postcode_out = _locate(col, n, problems)
    jobs = np.array([_number(v) for v in col("jobs")])
    for i in np.flatnonzero(np.isinf(jobs) | (jobs < 0)):
        problems.report(int(i), f"jobs {col('jobs')[i]!r} is not a count of jobs")
    _check_names_unique(problems)
    ids = _site_ids(col("site_id") if picked["site_id"] is not None else None, problems)

    found = sorted(problems.items, key=lambda p: p["index"])
    if found and on_error == "raise":
        raise SitesError(source, found)
    keep = np.ones(n, dtype=bool)
    keep[sorted({p["index"] for p in found})] = False

    skip = {c for c in picked.values() if c is not None} | {name_col}
    none = np.full(keep.sum(), None, dtype=object)
    data = {
        "site_id": np.array(ids, dtype=object)[keep],
        "name": np.array(problems.names, dtype=object)[keep],
        "jobs": np.where(np.isinf(jobs), np.nan, jobs)[keep],
        "type": col("type")[keep] if picked["type"] else none,
        "source": col("source")[keep] if picked["source"] else none.copy(),
        "location_from": how[keep],
    }
    if postcode_out is not None:
        data["postcode"] = postcode_out[keep]
    for c in cols:
        if c not in skip and c != "geometry":
            data[c] = frame[c].to_numpy(dtype=object)[keep]
    out = gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(x[keep], y[keep]), crs=BNG)
    out.attrs["problems"] = found
    out.attrs["source"] = source
    return out.reset_index(drop=True)


def read_sites(path: Path, *, on_error: str = "raise") -> gpd.GeoDataFrame:
    """Read a sites CSV or GeoJSON file (see module docstring); EPSG:27700 out.

    Raises :class:`SitesError` listing every unusable row (``on_error="skip"`` keeps the good rows and
    puts the problems in ``attrs["problems"]``), or :class:`SourceFileError` for an unreadable file.
    """
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise SourceFileError(f"{name}: file not found")
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        frame, label, first = _geojson_frame(path, name), "feature", 1
    elif suffix in (".csv", ".txt"):
        frame, label, first = _csv_frame(path), "row", 2
    else:
        raise SourceFileError(f"{name}: sites must be a .csv or .geojson file")
    if frame.empty:
        raise SourceFileError(f"{name}: contains no sites")
    return sites_from_frame(frame, source=name, row_label=label, first_row=first, on_error=on_error)


def _csv_frame(path: Path) -> pd.DataFrame:
    """A sites CSV read through the upload gate, as the app reads an uploaded one: size and type checked,
    UTF-8 or Windows-1252, comma- or semicolon-separated (decimal commas read as such), cells as text."""
    from geo.upload.gate import TABLE_KINDS, accept_file, read_table_upload
    from geo.workspace import SessionWorkspace

    with SessionWorkspace() as workspace:
        return read_table_upload(accept_file(path, workspace=workspace, kinds=TABLE_KINDS))


def _geojson_frame(path: Path, name: str) -> pd.DataFrame:
    import pyogrio
    import shapely

    from geo.upload.vectors import nan_points

    try:
        gdf = pyogrio.read_dataframe(path)
    except Exception as exc:  # GDAL raises several types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceFileError(f"{name}: cannot read as GeoJSON ({first})") from None
    if gdf.empty:
        raise SourceFileError(f"{name}: contains no features")
    types = set(gdf.geometry.dropna().geom_type)
    if not types <= {"Point"}:
        raise SourceFileError(f"{name}: sites must be Point features, found {', '.join(sorted(types))}")
    epsg = gdf.crs.to_epsg() if gdf.crs is not None else 4326
    if epsg not in (4326, 27700):
        raise SourceFileError(f"{name}: unexpected CRS EPSG:{epsg}; use WGS84 (RFC 7946) or EPSG:27700")
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    for key in ("longitude", "latitude", "easting", "northing"):
        hit = _pick(list(frame.columns), key)
        if hit is not None:
            frame = frame.drop(columns=hit)
    geoms = gdf.geometry.to_numpy()
    has_geom = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    xs = np.where(has_geom, gdf.geometry.x.where(has_geom), np.nan).astype(object)
    ys = np.where(has_geom, gdf.geometry.y.where(has_geom), np.nan).astype(object)
    # a NaN or infinite coordinate is kept as its text, so the row says "not a number", not "no location"
    for values in (xs, ys):
        odd = has_geom & ~np.isfinite(values.astype(float))
        values[odd] = [repr(float(v)) for v in values[odd]]
    for row in nan_points(path, np.flatnonzero(~has_geom)):  # [NaN, NaN] reaches geopandas as an empty point
        xs[row] = ys[row] = "nan"
    if epsg == 27700:
        frame["easting"], frame["northing"] = xs, ys
    else:
        frame["longitude"], frame["latitude"] = xs, ys
    return frame


# -- the store's sample, and editing -----------------------------------------------------------------
def sample_sites(store=None) -> gpd.GeoDataFrame:
    """The sample of sites named in the plans (store table places/sample_sites), as a sites layer."""
    from geo.store import open_store

    store = store or open_store()
    raw = store.table("places", "sample_sites")
    require_bng(raw, what="places/sample_sites")
    frame = pd.DataFrame(raw.drop(columns=raw.geometry.name))
    frame["easting"], frame["northing"] = raw.geometry.x.to_numpy(), raw.geometry.y.to_numpy()
    if "source" not in frame.columns and "named_in" in frame.columns:
        frame["source"] = frame["named_in"]
    return sites_from_frame(frame, source="places/sample_sites")


def _as_input(sites: gpd.GeoDataFrame) -> pd.DataFrame:
    require_bng(sites, what="sites")
    frame = pd.DataFrame(sites.drop(columns=[sites.geometry.name, "location_from", "postcode"], errors="ignore"))
    frame["easting"], frame["northing"] = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
    return frame


def add_site(sites: gpd.GeoDataFrame | None, name: str, *, longitude: float | None = None,
             latitude: float | None = None, easting: float | None = None, northing: float | None = None,
             postcode: str | None = None, jobs: float | None = None, type: str | None = None,
             source: str | None = "added in Wardscope") -> gpd.GeoDataFrame:
    """A copy of ``sites`` with one more site (e.g. a map click: longitude/latitude), checked like a file row.

    Raises :class:`SitesError` (duplicate name, outside Great Britain, unknown postcode...).
    """
    base = _as_input(sites) if sites is not None and len(sites) else pd.DataFrame()
    new = {"name": name, "jobs": jobs, "type": type, "source": source, "longitude": longitude, "latitude": latitude,
           "easting": easting, "northing": northing, "postcode": postcode}
    if not base.empty:
        base = base.assign(longitude=np.nan, latitude=np.nan, postcode=None)
    frame = pd.concat([base, pd.DataFrame([new])], ignore_index=True) if not base.empty else pd.DataFrame([new])
    if "site_id" in frame.columns:
        frame.loc[frame.index[-1], "site_id"] = None
    out = sites_from_frame(frame, source="new site", row_label="site", first_row=1)
    if sites is not None and "location_from" in sites.columns and len(sites):
        out.loc[: len(sites) - 1, "location_from"] = sites["location_from"].to_numpy()
    return out


def update_site(sites: gpd.GeoDataFrame, site_id: str, **changes) -> gpd.GeoDataFrame:
    """A copy with one site's fields changed (name, jobs, type, source, or a new location), re-checked."""
    frame = _as_input(sites)
    hit = frame.index[frame["site_id"] == site_id]
    if len(hit) != 1:
        raise WardscopeError(f"no site with id {site_id!r}")
    i = hit[0]
    moved = {"longitude", "latitude", "postcode"} & set(changes)
    if moved:
        frame.loc[i, ["easting", "northing"]] = np.nan
    for key, value in changes.items():
        if key not in frame.columns:
            frame[key] = None
        frame.loc[i, key] = value
    return sites_from_frame(frame, source="edited sites", row_label="site", first_row=1)


def remove_site(sites: gpd.GeoDataFrame, site_id: str) -> gpd.GeoDataFrame:
    """A copy without the site ``site_id``."""
    if site_id not in set(sites["site_id"]):
        raise WardscopeError(f"no site with id {site_id!r}")
    return sites[sites["site_id"] != site_id].reset_index(drop=True)


# -- saving --------------------------------------------------------------------------------------------
def sites_table(sites: gpd.GeoDataFrame) -> pd.DataFrame:
    """Sites as a plain table: the standard columns plus longitude/latitude (WGS84, 6 dp) and easting/northing."""
    require_bng(sites, what="sites")
    lon, lat = _TO_WGS84.transform(sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy())
    frame = pd.DataFrame(sites.drop(columns=sites.geometry.name))
    frame.insert(2, "longitude", np.round(lon, 6))
    frame.insert(3, "latitude", np.round(lat, 6))
    frame.insert(4, "easting", np.round(sites.geometry.x.to_numpy(), 1))
    frame.insert(5, "northing", np.round(sites.geometry.y.to_numpy(), 1))
    return frame


def save_sites(sites: gpd.GeoDataFrame, path: Path) -> Path:
    """Write sites atomically to ``.csv`` or ``.geojson`` (WGS84), keeping the previous file as ``.prev``.

    The written file reads back with :func:`read_sites` to the same sites and ids. CSV comes from the
    formula-safe writer (:mod:`geo.csvsafe`), so a name such as ``=HYPERLINK(...)`` is saved (and reads
    back) as ``'=HYPERLINK(...)``: the file may be opened in a spreadsheet too.
    """
    from geo.csvsafe import to_csv_text
    from geo.textout import to_geojson_text

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = to_csv_text(sites_table(sites).drop(columns=["location_from"], errors="ignore"))
    elif suffix in (".geojson", ".json"):
        text = to_geojson_text(sites.drop(columns=["location_from"], errors="ignore"))
    else:
        raise WardscopeError(f"{path}: save sites as .csv or .geojson")
    from geo.saved import save_text

    return save_text(path, text)
