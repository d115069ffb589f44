"""GTFS timetable feeds: read with gtfs-kit, checked for what routing needs, times in seconds.

A feed comes in only through the upload gate (``geo.upload.gate.accept_file(..., kinds={"gtfs"})``, then
``read_gtfs_upload``), which has already checked the zip archive. :func:`read_feed` reads its tables
with gtfs-kit (``gtfs_kit.read_feed``: every table as typed pandas columns, straight out of the zip)
and checks, since gtfs-kit validates nothing itself:

* the required files and columns (agency, stops, routes, trips, stop_times, and calendar or
  calendar_dates), and that ids are unique and refer to something (stop_times -> trips and stops,
  trips -> routes and services, frequencies -> trips, transfers -> stops);
* that every time parses (``H:MM:SS``; hours may be 24 or more for trips after midnight), that a trip
  never goes back in time, and that dates are ``YYYYMMDD``.

Each problem raises :class:`geo.errors.GTFSFeedError`, one line naming the file and row (row 1 is the
header) and how many more rows have the same problem. Stops outside Great Britain, at the grid origin
(a missing location written as zeros) or with no location are not an error: they are listed in
``GtfsFeed.skipped`` and never routed through.

CRS: stops arrive as WGS84 longitude/latitude and are kept as British National Grid (EPSG:27700)
metres. Times: seconds after midnight of the service day (GTFS "noon minus 12 hours").
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pyproj import Transformer

from geo.errors import GTFSDateError, GTFSFeedError
from geo.employment_sites import in_great_britain

#: Files GTFS requires (calendar.txt or calendar_dates.txt is checked separately).
REQUIRED_FILES = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
#: Columns each table needs for routing (stop_lat/stop_lon are conditionally required by GTFS).
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
REQUIRED_COLUMNS = {
    "stops": ("stop_id", "stop_lat", "stop_lon"),
    "routes": ("route_id",),
    "trips": ("route_id", "service_id", "trip_id"),
    "stop_times": ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
    "calendar": ("service_id", *WEEKDAYS, "start_date", "end_date"),
    "calendar_dates": ("service_id", "date", "exception_type"),
    "frequencies": ("trip_id", "start_time", "end_time", "headway_secs"),
    "transfers": ("from_stop_id", "to_stop_id", "transfer_type"),
}
#: A stop within this distance (metres) of easting 0, northing 0 has a missing location written as zeros.
GRID_ORIGIN_M = 1000.0
#: The day a search for a default date starts from is a Tuesday, as in the DfT journey time statistics
#: ("a Tuesday in the second week of October", Journey time statistics notes and definitions 2019).
DEFAULT_WEEKDAY = 1  # Monday = 0
#: How far into the validity the default date is looked for (days).
DEFAULT_SEARCH_DAYS = 400

_TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)
_TIME = r"^\s*(?P<h>\d{1,3}):(?P<m>[0-5]\d):(?P<s>[0-5]\d)\s*$"


@dataclass(eq=False)
class GtfsFeed:
    """A checked feed. Stop times are sorted by trip, then stop_sequence; ``trip_ptr`` indexes them.

    Attributes
    ----------
    label, key : the file name shown in messages, and a content key for caches (the upload's sha256).
    tables : a gtfs-kit ``Feed`` holding only calendar and calendar_dates (for :meth:`services_on`).
    stop_ids, stop_names : per stop. ``stop_xy`` : BNG metres (NaN for skipped stops); ``stop_ok``.
    skipped : ``{"stop_id", "name", "lat", "lon", "reason"}`` for stops never routed through.
    st_stop, st_arr, st_dep, st_board, st_alight : per stop time (seconds; pickup/drop-off allowed).
    trip_ids, trip_service, trip_ptr : per trip (``trip_ptr[k]:trip_ptr[k+1]`` are trip k's stop times).
    frequencies : trip (index), start_s, end_s, headway_s, exact (rows of frequencies.txt).
    transfers : from_stop, to_stop (indices), transfer_type, min_s (transfers.txt), or None.
    calendar_range, feed_info_range : (first date, last date, where it comes from) or None.
    """

    label: str
    key: str
    tables: object = field(repr=False)
    stop_ids: np.ndarray = field(repr=False)
    stop_names: np.ndarray = field(repr=False)
    stop_xy: np.ndarray = field(repr=False)
    stop_ok: np.ndarray = field(repr=False)
    skipped: list
    st_stop: np.ndarray = field(repr=False)
    st_arr: np.ndarray = field(repr=False)
    st_dep: np.ndarray = field(repr=False)
    st_board: np.ndarray = field(repr=False)
    st_alight: np.ndarray = field(repr=False)
    trip_ids: np.ndarray = field(repr=False)
    trip_service: np.ndarray = field(repr=False)
    trip_ptr: np.ndarray = field(repr=False)
    frequencies: pd.DataFrame = field(repr=False)
    transfers: pd.DataFrame | None = field(repr=False)
    calendar_range: tuple | None
    feed_info_range: tuple | None

    @property
    def validity(self) -> tuple[dt.date, dt.date]:
        """First and last date the feed answers for (calendar and feed_info ranges intersected)."""
        ranges = [r for r in (self.calendar_range, self.feed_info_range) if r]
        return max(r[0] for r in ranges), min(r[1] for r in ranges)

    def services_on(self, day: dt.date) -> set[str]:
        """Service ids running on ``day`` (calendar.txt days and dates, calendar_dates.txt exceptions)."""
        from gtfs_kit import get_active_services

        return set(get_active_services(self.tables, day.strftime("%Y%m%d")))

    def trips_on(self, day: dt.date) -> np.ndarray:
        """Indices of the trips whose service runs on ``day``."""
        return np.flatnonzero(np.isin(self.trip_service, list(self.services_on(day))))


def _fail(label: str, file: str, rows: np.ndarray, text: str) -> None:
    """Raise for the first of ``rows`` (0-based data rows; file row = index + 2 after the header)."""
    rows = np.asarray(rows)
    more = f" ({len(rows) - 1:,} more row(s) like it)" if len(rows) > 1 else ""
    raise GTFSFeedError(f"{label}: {file} row {int(rows[0]) + 2}: {text}{more}")


def _text(series: pd.Series) -> pd.Series:
    return series.astype("string").str.strip()


def seconds(series: pd.Series, label: str, file: str, column: str) -> np.ndarray:
    """GTFS times as seconds after midnight (float; NaN where empty); raise for one that does not parse."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(_text(series).to_numpy(dtype=object, na_value=None), type=pa.string())
    parts = pc.extract_regex(text, _TIME)  # RE2 in C++: a few hundred thousand times in well under a second
    bad = np.flatnonzero(np.asarray(pc.and_(pc.is_valid(text), pc.is_null(parts)).fill_null(False)))
    if len(bad):
        _fail(label, file, bad, f"{column} {text[int(bad[0])].as_py()!r} is not a time (HH:MM:SS; hours may be 24 "
                                f"or more for trips after midnight)")
    total = np.zeros(len(text))
    for name, factor in (("h", 3600.0), ("m", 60.0), ("s", 1.0)):
        values = pc.cast(pc.struct_field(parts, name), pa.float64()).to_numpy(zero_copy_only=False)
        total += factor * values
    return total


def _dates(series: pd.Series, label: str, file: str, column: str) -> pd.Series:
    text = _text(series)
    parsed = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
    bad = np.flatnonzero((parsed.isna() & text.notna()).to_numpy())
    if len(bad) or text.isna().any():
        rows = bad if len(bad) else np.flatnonzero(text.isna().to_numpy())
        shown = text.iloc[rows[0]]
        _fail(label, file, rows, f"{column} {shown if pd.notna(shown) else ''!r} is not a date (YYYYMMDD)")
    return parsed.dt.date


def _zip_names(path) -> set[str]:
    with zipfile.ZipFile(path) as zf:
        return {n.replace("\\", "/").rsplit("/", 1)[-1] for n in zf.namelist() if not n.endswith("/")}


def _diagnose(path, label: str, exc: Exception) -> GTFSFeedError:
    """A one-line message for a table gtfs-kit could not read: find the file and row it choked on."""
    from gtfs_kit.constants import DTYPES

    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                table = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
                if not table.endswith(".txt") or table[:-4] not in DTYPES or not info.file_size:
                    continue
                raw = zf.read(info)
                try:
                    text = raw.decode("utf-8-sig")
                except UnicodeDecodeError as err:
                    return GTFSFeedError(f"{label}: {table} is not UTF-8 text (byte 0x{raw[err.start]:02x} at offset "
                                         f"{err.start}); GTFS files must be UTF-8")
                try:
                    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
                except pd.errors.ParserError as err:
                    return GTFSFeedError(f"{label}: {table} is not a readable CSV table ({str(err).strip()[:160]})")
                frame.columns = [c.strip() for c in frame.columns]
                for column, kind in DTYPES[table[:-4]].items():
                    if column not in frame.columns or kind == "string":
                        continue
                    cells = frame[column].str.strip()
                    number = pd.to_numeric(cells.where(cells != ""), errors="coerce")
                    bad = (cells != "") & (number.isna() | (kind.startswith("Int") & (number % 1 != 0)))
                    if bad.any():
                        rows = np.flatnonzero(bad.to_numpy())
                        more = f" ({len(rows) - 1:,} more row(s) like it)" if len(rows) > 1 else ""
                        what = "a whole number" if kind.startswith("Int") else "a number"
                        return GTFSFeedError(f"{label}: {table} row {rows[0] + 2}: {column} {cells.iloc[rows[0]]!r} "
                                             f"is not {what}{more}")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
        return GTFSFeedError(f"{label}: the zip archive is damaged ({str(err).strip()[:160] or type(err).__name__})")
    return GTFSFeedError(f"{label}: could not be read as a GTFS feed ({str(exc).strip().splitlines()[0][:160]})")


def _read_tables(path, label: str):
    import gtfs_kit

    if not path.is_file():  # gtfs_kit.read_feed would try a missing path as a URL: never let it
        raise GTFSFeedError(f"{label}: the feed file is not available")
    try:
        return gtfs_kit.read_feed(path, dist_units="km")
    except (ValueError, TypeError, UnicodeDecodeError, pd.errors.ParserError, zipfile.BadZipFile, zlib.error,
            EOFError, OSError) as exc:
        raise _diagnose(path, label, exc) from None


def _require(tables, names: set[str], label: str) -> None:
    for file in REQUIRED_FILES:
        if getattr(tables, file[:-4]) is None:
            state = "has no rows" if file in names else "is missing"
            raise GTFSFeedError(f"{label}: {file} {state}; a GTFS feed needs {', '.join(REQUIRED_FILES)} and "
                                f"calendar.txt or calendar_dates.txt")
    if tables.calendar is None and tables.calendar_dates is None:
        raise GTFSFeedError(f"{label}: neither calendar.txt nor calendar_dates.txt has any service; a GTFS feed needs "
                            f"one of them to say which days its trips run")
    for table, columns in REQUIRED_COLUMNS.items():
        frame = getattr(tables, table)
        if frame is None:
            continue
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise GTFSFeedError(f"{label}: {table}.txt has no {', '.join(missing)} column"
                                f"{'s' if len(missing) > 1 else ''} (it has {', '.join(map(str, frame.columns[:12]))})")


def _index(frame: pd.DataFrame, column: str, label: str, file: str) -> pd.Index:
    """The table's ids as an Index; raise for an empty or repeated id."""
    ids = _text(frame[column])
    empty = np.flatnonzero(ids.isna().to_numpy())
    if len(empty):
        _fail(label, file, empty, f"{column} is empty")
    dup = np.flatnonzero(ids.duplicated().to_numpy())
    if len(dup):
        _fail(label, file, dup, f"{column} {ids.iloc[dup[0]]!r} appears more than once")
    return pd.Index(ids.to_numpy(dtype=object))


def _lookup(values: pd.Series, index: pd.Index, label: str, file: str, column: str, target: str) -> np.ndarray:
    """Positions of ``values`` in ``index``; raise for an empty value or one that is not there."""
    text = _text(values)
    pos = index.get_indexer(text.to_numpy(dtype=object))
    bad = np.flatnonzero(pos < 0)
    if len(bad):
        shown = text.iloc[bad[0]]
        what = f"{column} is empty" if pd.isna(shown) else f"{column} {shown!r} is not in {target}"
        _fail(label, file, bad, what)
    return pos


def _stops(tables, label: str):
    stops = tables.stops
    ids = _index(stops, "stop_id", label, "stops.txt")
    lat = pd.to_numeric(stops["stop_lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(stops["stop_lon"], errors="coerce").to_numpy(dtype=float)
    x, y = _TO_BNG.transform(np.nan_to_num(lon), np.nan_to_num(lat))
    xy = np.column_stack([x, y])
    names = (_text(stops["stop_name"]).fillna("").to_numpy(dtype=object) if "stop_name" in stops.columns
             else np.full(len(stops), "", dtype=object))
    located = np.isfinite(lat) & np.isfinite(lon)
    origin = located & (np.hypot(xy[:, 0], xy[:, 1]) <= GRID_ORIGIN_M)
    in_gb = located & in_great_britain(np.nan_to_num(lon), np.nan_to_num(lat))
    ok = in_gb & ~origin
    skipped = {}
    for i in np.flatnonzero(~ok):
        reason = ("has no location" if not located[i]
                  else "is at the grid origin (easting 0, northing 0: a missing location written as zeros)" if origin[i]
                  else "is outside Great Britain")
        skipped[int(i)] = {"stop_id": ids[i], "name": names[i], "lat": lat[i], "lon": lon[i], "reason": reason}
    xy[~ok] = np.nan
    return ids, names, xy, ok, skipped


def _stop_times(tables, label: str, stop_index: pd.Index, trip_index: pd.Index):
    st = tables.stop_times
    file = "stop_times.txt"
    trip = _lookup(st["trip_id"], trip_index, label, file, "trip_id", "trips.txt")
    stop = _lookup(st["stop_id"], stop_index, label, file, "stop_id", "stops.txt")
    seq = pd.to_numeric(st["stop_sequence"], errors="coerce")
    if seq.isna().any():
        _fail(label, file, np.flatnonzero(seq.isna().to_numpy()), "stop_sequence is empty")
    seq = seq.to_numpy(dtype=np.int64)
    arr = seconds(st["arrival_time"], label, file, "arrival_time")
    dep = seconds(st["departure_time"], label, file, "departure_time")
    order = np.lexsort((seq, trip))
    trip, stop, seq, arr, dep = trip[order], stop[order], seq[order], arr[order], dep[order]
    same = np.flatnonzero((trip[1:] == trip[:-1]) & (seq[1:] == seq[:-1]))
    if len(same):
        _fail(label, file, order[same + 1], f"stop_sequence {seq[same[0] + 1]} appears twice in trip "
                                             f"{trip_index[trip[same[0]]]!r}")
    arr = np.where(np.isnan(arr), dep, arr)
    dep = np.where(np.isnan(dep), arr, dep)
    n = len(arr)
    ptr = np.searchsorted(trip, np.arange(len(trip_index) + 1))
    missing = np.isnan(arr)
    if missing.any():
        # GTFS lets intermediate stops leave times out; they are interpolated by position along the trip.
        pos = np.arange(n)
        prev = np.maximum.accumulate(np.where(~missing, pos, -1))
        nxt = np.minimum.accumulate(np.where(~missing, pos, n)[::-1])[::-1]
        start, end = ptr[trip], ptr[trip + 1] - 1
        bad = np.flatnonzero(missing & ((prev < start) | (nxt > end)))
        if len(bad):
            _fail(label, file, order[bad], f"trip {trip_index[trip[bad[0]]]!r} has no time at its "
                                           f"{'first' if prev[bad[0]] < start[bad[0]] else 'last'} stop")
        i = np.flatnonzero(missing)
        frac = (i - prev[i]) / (nxt[i] - prev[i])
        arr[i] = dep[i] = dep[prev[i]] + frac * (arr[nxt[i]] - dep[prev[i]])
    early = np.flatnonzero(dep < arr)
    if len(early):
        _fail(label, file, order[early], f"departure_time is before arrival_time in trip {trip_index[trip[early[0]]]!r}")
    back = np.flatnonzero((trip[1:] == trip[:-1]) & (arr[1:] < dep[:-1])) + 1
    if len(back):
        k = back[0]
        _fail(label, file, order[back], f"trip {trip_index[trip[k]]!r} arrives at {clock(arr[k])}, before it left the "
                                        f"previous stop at {clock(dep[k - 1])}")

    def allowed(column: str) -> np.ndarray:
        if column not in st.columns:
            return np.ones(n, dtype=bool)
        kind = pd.to_numeric(st[column], errors="coerce").to_numpy(dtype=float)[order]
        return kind != 1  # 1 = no pickup / no drop-off; 2 and 3 (arrange with agency or driver) still stop

    return stop.astype(np.int32), arr, dep, allowed("pickup_type"), allowed("drop_off_type"), ptr


def _services(tables, label: str) -> tuple[set[str], tuple | None]:
    known: set[str] = set()
    first, last = [], []
    if tables.calendar is not None:
        cal = tables.calendar
        ids = _index(cal, "service_id", label, "calendar.txt")
        start = _dates(cal["start_date"], label, "calendar.txt", "start_date")
        end = _dates(cal["end_date"], label, "calendar.txt", "end_date")
        backwards = np.flatnonzero((end < start).to_numpy())
        if len(backwards):
            _fail(label, "calendar.txt", backwards, f"service {ids[backwards[0]]!r} ends before it starts")
        for day in WEEKDAYS:
            flags = pd.to_numeric(cal[day], errors="coerce")
            bad = np.flatnonzero(~flags.isin([0, 1]).to_numpy())
            if len(bad):
                _fail(label, "calendar.txt", bad, f"{day} must be 0 or 1")
        known |= set(ids)
        first.append(min(start))
        last.append(max(end))
    if tables.calendar_dates is not None:
        cd = tables.calendar_dates
        ids = _text(cd["service_id"])
        if ids.isna().any():
            _fail(label, "calendar_dates.txt", np.flatnonzero(ids.isna().to_numpy()), "service_id is empty")
        dates = _dates(cd["date"], label, "calendar_dates.txt", "date")
        kind = pd.to_numeric(cd["exception_type"], errors="coerce")
        bad = np.flatnonzero(~kind.isin([1, 2]).to_numpy())
        if len(bad):
            _fail(label, "calendar_dates.txt", bad, "exception_type must be 1 (service added) or 2 (removed)")
        known |= set(ids)
        added = dates[(kind == 1).to_numpy()]
        if len(added):
            first.append(min(added))
            last.append(max(added))
    where = " and ".join(f for f, t in (("calendar.txt", tables.calendar), ("calendar_dates.txt", tables.calendar_dates))
                         if t is not None)
    return known, ((min(first), max(last), where) if first else None)


def _feed_info_range(tables, label: str) -> tuple | None:
    info = tables.feed_info
    if info is None or not {"feed_start_date", "feed_end_date"} & set(info.columns):
        return None
    row = info.iloc[:1]
    start = (_dates(row["feed_start_date"], label, "feed_info.txt", "feed_start_date").iloc[0]
             if "feed_start_date" in row and row["feed_start_date"].notna().all() else dt.date.min)
    end = (_dates(row["feed_end_date"], label, "feed_info.txt", "feed_end_date").iloc[0]
           if "feed_end_date" in row and row["feed_end_date"].notna().all() else dt.date.max)
    if start == dt.date.min and end == dt.date.max:
        return None
    if end < start:
        _fail(label, "feed_info.txt", np.array([0]), "feed_end_date is before feed_start_date")
    return start, end, "feed_info.txt row 2"


def _frequencies(tables, label: str, trip_index: pd.Index) -> pd.DataFrame:
    columns = ["trip", "start_s", "end_s", "headway_s", "exact"]
    freq = tables.frequencies
    if freq is None:
        return pd.DataFrame({c: np.array([], dtype=float) for c in columns})
    file = "frequencies.txt"
    trip = _lookup(freq["trip_id"], trip_index, label, file, "trip_id", "trips.txt")
    start = seconds(freq["start_time"], label, file, "start_time")
    end = seconds(freq["end_time"], label, file, "end_time")
    headway = pd.to_numeric(freq["headway_secs"], errors="coerce").to_numpy(dtype=float)
    for column, values in (("start_time", start), ("end_time", end)):
        if np.isnan(values).any():
            _fail(label, file, np.flatnonzero(np.isnan(values)), f"{column} is empty")
    bad = np.flatnonzero(~(headway > 0))
    if len(bad):
        _fail(label, file, bad, "headway_secs must be a positive number of seconds")
    bad = np.flatnonzero(end <= start)
    if len(bad):
        _fail(label, file, bad, "end_time is not after start_time")
    exact = (pd.to_numeric(freq["exact_times"], errors="coerce").fillna(0).to_numpy() == 1
             if "exact_times" in freq.columns else np.zeros(len(freq), dtype=bool))
    return pd.DataFrame({"trip": trip, "start_s": start, "end_s": end, "headway_s": headway, "exact": exact})


def _transfers(tables, label: str, stop_index: pd.Index) -> pd.DataFrame | None:
    tr = tables.transfers
    if tr is None:
        return None
    file = "transfers.txt"
    frm = _lookup(tr["from_stop_id"], stop_index, label, file, "from_stop_id", "stops.txt")
    to = _lookup(tr["to_stop_id"], stop_index, label, file, "to_stop_id", "stops.txt")
    kind = pd.to_numeric(tr["transfer_type"], errors="coerce").fillna(0).to_numpy()
    bad = np.flatnonzero(~np.isin(kind, [0, 1, 2, 3]))
    if len(bad):
        _fail(label, file, bad, "transfer_type must be 0, 1, 2 or 3")
    min_s = (pd.to_numeric(tr["min_transfer_time"], errors="coerce").to_numpy(dtype=float)
             if "min_transfer_time" in tr.columns else np.full(len(tr), np.nan))
    bad = np.flatnonzero((kind == 2) & ~(min_s >= 0))
    if len(bad):
        _fail(label, file, bad, "transfer_type 2 needs min_transfer_time (seconds)")
    return pd.DataFrame({"from_stop": frm, "to_stop": to, "transfer_type": kind.astype(int), "min_s": min_s})


def read_feed(upload) -> GtfsFeed:
    """Read and check a GTFS feed that passed the upload gate (a ``geo.upload.gate.Upload`` of kind ``gtfs``).

    Raises :class:`GTFSFeedError` (one line: file, row, problem) for anything routing cannot use.
    """
    label, path = upload.name, upload.path
    tables = _read_tables(path, label)
    _require(tables, _zip_names(path), label)
    stop_ids, stop_names, stop_xy, stop_ok, skipped = _stops(tables, label)
    routes = _index(tables.routes, "route_id", label, "routes.txt")
    trips = tables.trips
    trip_index = _index(trips, "trip_id", label, "trips.txt")
    _lookup(trips["route_id"], routes, label, "trips.txt", "route_id", "routes.txt")
    services, calendar_range = _services(tables, label)
    trip_service = _text(trips["service_id"]).to_numpy(dtype=object)
    bad = np.flatnonzero(~np.isin(trip_service, list(services)))
    if len(bad):
        _fail(label, "trips.txt", bad, f"service_id {trip_service[bad[0]]!r} is in neither calendar.txt nor "
                                       f"calendar_dates.txt")
    st_stop, st_arr, st_dep, st_board, st_alight, trip_ptr = _stop_times(tables, label, stop_ids, trip_index)
    # Only stops that trips call at matter (stations and entrances without a location are no concern).
    skipped = [skipped[i] for i in np.unique(st_stop) if i in skipped]
    frequencies = _frequencies(tables, label, trip_index)
    transfers = _transfers(tables, label, stop_ids)
    feed_info_range = _feed_info_range(tables, label)
    # Keep only the calendar tables (for the services of a day): stop_times is now in arrays.
    calendars = type(tables)(dist_units="km", calendar=tables.calendar, calendar_dates=tables.calendar_dates)
    return GtfsFeed(
        label=label, key=upload.sha256, tables=calendars, stop_ids=np.asarray(stop_ids, dtype=object),
        stop_names=stop_names, stop_xy=stop_xy, stop_ok=stop_ok, skipped=skipped, st_stop=st_stop, st_arr=st_arr,
        st_dep=st_dep, st_board=st_board, st_alight=st_alight, trip_ids=np.asarray(trip_index, dtype=object),
        trip_service=trip_service, trip_ptr=trip_ptr, frequencies=frequencies, transfers=transfers,
        calendar_range=calendar_range, feed_info_range=feed_info_range)


def clock(value_s: float) -> str:
    """Seconds after midnight as ``HH:MM:SS`` (hours past 24 kept, as GTFS writes them)."""
    s = int(round(value_s))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def check_date(feed: GtfsFeed, day: dt.date) -> None:
    """Raise :class:`GTFSDateError` when ``day`` is outside the feed's calendar or feed_info validity."""
    for span in (feed.feed_info_range, feed.calendar_range):
        if span and not span[0] <= day <= span[1]:
            raise GTFSDateError(f"{feed.label}: {day.isoformat()} is outside the feed's validity ({span[2]}: "
                                f"{span[0].isoformat()} to {span[1].isoformat()}); choose a date in that range")


def default_date(feed: GtfsFeed) -> dt.date:
    """The first Tuesday in the feed's validity on which any trip runs; else its first such weekday.

    Raises :class:`GTFSDateError` when no weekday in the validity (searched up to
    :data:`DEFAULT_SEARCH_DAYS` days) has a trip: then a date must be given.
    """
    start, end = feed.validity
    if end < start:
        raise GTFSDateError(f"{feed.label}: its calendar ({feed.calendar_range[2]}) and feed_info.txt validity do not "
                            f"overlap; pass a date (--date YYYY-MM-DD)")
    days = [start + dt.timedelta(days=i) for i in range(min((end - start).days + 1, DEFAULT_SEARCH_DAYS))]
    for wanted in ([d for d in days if d.weekday() == DEFAULT_WEEKDAY], [d for d in days if d.weekday() < 5]):
        for day in wanted:
            if len(feed.trips_on(day)):
                return day
    raise GTFSDateError(f"{feed.label}: no weekday between {start.isoformat()} and {end.isoformat()} has any trip; "
                        f"pass a date (--date YYYY-MM-DD)")
