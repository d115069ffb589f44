"""Write small GTFS feeds (zip) for tests, with stops given in BNG metres."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from pyproj import Transformer

_TO_WGS84 = Transformer.from_crs(27700, 4326, always_xy=True)

AGENCY = [{"agency_id": "A1", "agency_name": "Test Buses", "agency_url": "https://example.org",
           "agency_timezone": "Europe/London"}]
ROUTES = [{"route_id": "R1", "agency_id": "A1", "route_short_name": "1", "route_type": "3"}]
WEEKDAYS_ONLY = {"monday": "1", "tuesday": "1", "wednesday": "1", "thursday": "1", "friday": "1",
                 "saturday": "0", "sunday": "0"}
EVERY_DAY = {day: "1" for day in WEEKDAYS_ONLY}


def _csv(rows: list[dict]) -> bytes:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def stop_rows(stops: dict[str, tuple[float, float]]) -> list[dict]:
    """stops.txt rows for {stop_id: (easting, northing)}."""
    rows = []
    for stop_id, (x, y) in stops.items():
        lon, lat = _TO_WGS84.transform(x, y)
        rows.append({"stop_id": stop_id, "stop_name": f"Stop {stop_id}", "stop_lat": f"{lat:.7f}", "stop_lon": f"{lon:.7f}"})
    return rows


def trip_rows(trips: dict[str, tuple[str, list[tuple[str, str]]]], *, no_dropoff=(), no_pickup=()) -> tuple[list, list]:
    """trips.txt and stop_times.txt rows for {trip_id: (service_id, [(stop_id, "HH:MM:SS"), ...])}.

    ``no_dropoff`` / ``no_pickup``: (trip_id, stop_id) pairs with drop_off_type / pickup_type 1.
    """
    trip_out, times = [], []
    for trip_id, (service, calls) in trips.items():
        trip_out.append({"route_id": "R1", "service_id": service, "trip_id": trip_id})
        for seq, (stop_id, hms) in enumerate(calls, start=1):
            times.append({"trip_id": trip_id, "arrival_time": hms, "departure_time": hms, "stop_id": stop_id,
                          "stop_sequence": str(seq),
                          "pickup_type": "1" if (trip_id, stop_id) in no_pickup else "0",
                          "drop_off_type": "1" if (trip_id, stop_id) in no_dropoff else "0"})
    return trip_out, times


def write_gtfs(path: Path, tables: dict[str, list[dict] | bytes | None]) -> Path:
    """Write a GTFS zip; ``tables`` maps file names (``stops.txt``...) to rows or raw bytes (None: leave out).

    agency.txt and routes.txt default to one agency and one route.
    """
    tables = {"agency.txt": AGENCY, "routes.txt": ROUTES, **tables}
    path = Path(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, rows in tables.items():
            if rows is None:
                continue
            zf.writestr(name, rows if isinstance(rows, bytes) else _csv(rows))
    return path


def feed_tables(stops, trips, calendar, *, calendar_dates=None, frequencies=None, transfers=None, feed_info=None,
                no_dropoff=(), no_pickup=()) -> dict:
    """The tables of a feed from stops {id: (x, y)}, trips (see :func:`trip_rows`) and calendar rows."""
    trip_out, times = trip_rows(trips, no_dropoff=no_dropoff, no_pickup=no_pickup)
    return {"stops.txt": stop_rows(stops), "trips.txt": trip_out, "stop_times.txt": times, "calendar.txt": calendar,
            "calendar_dates.txt": calendar_dates, "frequencies.txt": frequencies, "transfers.txt": transfers,
            "feed_info.txt": feed_info}
