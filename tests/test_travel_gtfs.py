"""The timetable engine on small GTFS feeds written here, against journeys worked out by hand.

Layout (BNG metres, on a line near Luton): origin O, stop A 400 m east of it, stops B and C
(200 m apart) 10 km east, stop D 20 km east and the site S 400 m beyond D. Walks are the straight line
x 1.2 at 4.8 km/h (80 m a minute): 400 m takes 6 minutes, 200 m 3 minutes, and walking all the way
(20.4 km, 306 minutes) is beyond the 120-minute limit, so every finite time below rides a bus.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from geo.errors import (GTFSCoverageError, GTFSDateError, GTFSFeedError, NetworkCoverageError, TravelError,
                        UnsafeArchive, UnsupportedUpload, WardscopeError)
from geo.travel import travel_time_matrix
from geo.travel.gtfs import departure_minutes, load_feed, window_stats
from geo.upload.gate import GTFS_KINDS, VECTOR_KINDS, accept_file, read_upload
from geo.workspace import SessionWorkspace
from tests.gtfsfile import EVERY_DAY, WEEKDAYS_ONLY, feed_tables, write_gtfs
from tests.upload_fixtures import shapefile_zip

X0, Y0 = 510_000.0, 220_000.0
ORIGIN = (X0, Y0)
SITE = (X0 + 20_400, Y0)
STOPS = {"A": (X0 + 400, Y0), "B": (X0 + 10_000, Y0), "C": (X0 + 10_000, Y0 + 200), "D": (X0 + 20_000, Y0)}
YEAR = {"start_date": "20240101", "end_date": "20241231"}
TUESDAY = "2024-03-05"


def walk_min(metres: float) -> float:
    return metres * 1.2 / 80.0


def service(service_id: str, days: dict) -> dict:
    return {"service_id": service_id, **days, **YEAR}


#: Scenario "changes": T1 A->B, then at B: T2 (a minute later), T3 (30 s later: only without a change
#: time), or walk to C for T4; T5 cannot set down at D, T6 cannot pick up at A.
CHANGES = {
    "T1": ("WK", [("A", "07:10:00"), ("B", "07:30:00")]),
    "T2": ("WK", [("B", "07:31:00"), ("D", "07:50:00")]),
    "T3": ("WK", [("B", "07:30:30"), ("D", "07:45:00")]),
    "T4": ("WK", [("C", "07:34:30"), ("D", "07:47:00")]),
    "T5": ("WK", [("A", "07:07:00"), ("D", "07:20:00")]),
    "T6": ("WK", [("A", "07:08:00"), ("D", "07:25:00")]),
}


def changes_feed(tmp_path, transfers=None, name="changes.zip"):
    tables = feed_tables(STOPS, CHANGES, [service("WK", WEEKDAYS_ONLY)], transfers=transfers,
                         no_dropoff={("T5", "D")}, no_pickup={("T6", "A")})
    return write_gtfs(tmp_path / name, tables)


def xy(*points):
    return np.array(points, dtype=float)


def minutes(feed_path, *, date=TUESDAY, depart="07:00-07:01", origins=(ORIGIN,), sites=(SITE,), **params):
    """Per-departure minutes (origins x sites x departures)."""
    out, _, _ = departure_minutes(xy(*origins), xy(*sites), gtfs=feed_path, date=date, depart=depart, **params)
    return out


def test_walk_wait_ride_change_walk(tmp_path):
    feed = changes_feed(tmp_path)
    # walk 6 -> A 07:06, T1 07:10 -> B 07:30, walk 200 m (3) + change (1) -> C 07:34, T4 07:34:30 -> D 07:47, walk 6.
    assert minutes(feed)[0, 0, 0] == pytest.approx(47 + walk_min(400))
    # Without a change time, T3 (30 s after T1 arrives) is caught at B: D 07:45.
    assert minutes(feed, min_change_min=0)[0, 0, 0] == pytest.approx(45 + walk_min(400))
    # C out of walking reach: the change at B itself, needing a minute, catches T2 (07:31) -> D 07:50.
    assert minutes(feed, transfer_walk_m=100)[0, 0, 0] == pytest.approx(50 + walk_min(400))
    # T5 (no drop-off at D) and T6 (no pickup at A) would be quicker and are never used; at 07:05 T1 has
    # gone (A at 07:11) and nothing else can be taken: no journey within 120 minutes.
    assert np.isinf(minutes(feed, depart="07:05-07:06")[0, 0, 0])


def test_transfer_needing_a_minimum_change_time_from_transfers_txt(tmp_path):
    slow = [{"from_stop_id": "B", "to_stop_id": "C", "transfer_type": "2", "min_transfer_time": "300"}]
    # B -> C now takes 5 minutes (more than the 3-minute walk + 1): C at 07:35 misses T4 (07:34:30); T2 from B.
    assert minutes(changes_feed(tmp_path, slow))[0, 0, 0] == pytest.approx(50 + walk_min(400))
    quick = [{"from_stop_id": "B", "to_stop_id": "C", "transfer_type": "2", "min_transfer_time": "120"}]
    # 2 minutes is less than the walk + change (4 minutes): the longer one applies, C at 07:34 catches T4.
    assert minutes(changes_feed(tmp_path, quick, "q.zip"))[0, 0, 0] == pytest.approx(47 + walk_min(400))
    # Changing at B forbidden (type 3) and no way to C: the journey needs a change, so there is none.
    banned = [{"from_stop_id": "B", "to_stop_id": "B", "transfer_type": "3"}]
    assert np.isinf(minutes(changes_feed(tmp_path, banned, "b.zip"))[0, 0, 0])
    # A transfers.txt replaces the straight-line walks between stops: listing only B -> B leaves C out.
    only_b = [{"from_stop_id": "B", "to_stop_id": "B", "transfer_type": "0"}]
    assert minutes(changes_feed(tmp_path, only_b, "o.zip"))[0, 0, 0] == pytest.approx(50 + walk_min(400))


def test_window_statistics_over_departures_every_minute(tmp_path):
    feed = changes_feed(tmp_path)
    per_departure = minutes(feed, depart="07:00-07:10")[0, 0]
    # Leaving at 07:00-07:04 reaches A by 07:10 and arrives at 07:53; later departures have no journey.
    expected = np.array([53.0 - t if t <= 4 else np.inf for t in range(10)])
    assert per_departure == pytest.approx(expected)
    frame = travel_time_matrix(_points([ORIGIN], "o"), _points([SITE], "s"), "bus", engine="gtfs", gtfs=feed,
                               date=TUESDAY, depart="07:00-07:10", origin_id="id", destination_id="id")
    # Half the departures have no journey: the median is unreachable (NaN, never 0 or a short time);
    # the 25th percentile is 2.25 places into the sorted times 49, 50, 51, 52, 53, inf...
    row = frame.iloc[0]
    assert np.isnan(row["minutes"]) and np.isnan(row["minutes_p75"])
    assert row["minutes_p25"] == pytest.approx(51 + 0.25 * (52 - 51))
    p25, p50, p75 = window_stats(np.array([[40.0, 10.0, 20.0, 30.0]]) * 60)
    assert (p25[0], p50[0], p75[0]) == pytest.approx((17.5, 25.0, 32.5))  # numpy's linear percentiles


def _points(points, prefix):
    return gpd.GeoDataFrame({"id": [f"{prefix}{i}" for i in range(len(points))]},
                            geometry=gpd.points_from_xy([p[0] for p in points], [p[1] for p in points]), crs=27700)


def test_times_past_midnight(tmp_path):
    night = {"service_id": "NIGHT", **{d: "0" for d in EVERY_DAY}, "tuesday": "1", **YEAR}
    trips = {"N1": ("NIGHT", [("A", "24:10:00"), ("D", "24:40:00")]),
             "M1": ("DAY", [("A", "12:00:00"), ("D", "12:30:00")])}
    feed = write_gtfs(tmp_path / "night.zip", feed_tables(STOPS, trips, [night, service("DAY", EVERY_DAY)]))
    expected = 40 + walk_min(400)  # walk to A (24:06), wait to 24:10, ride to 24:40, walk on
    assert minutes(feed, date=TUESDAY, depart="24:00-24:01")[0, 0, 0] == pytest.approx(expected)
    # The same bus, seen from Wednesday's clock: Tuesday's 24:10 is Wednesday's 00:10.
    assert minutes(feed, date="2024-03-06", depart="00:00-00:01")[0, 0, 0] == pytest.approx(expected)
    # Wednesday's service has no night bus, so Thursday just after midnight has none.
    assert np.isinf(minutes(feed, date="2024-03-07", depart="00:00-00:01")[0, 0, 0])
    assert np.isinf(minutes(feed, date="2024-03-06", depart="24:00-24:01")[0, 0, 0])


def test_frequencies(tmp_path):
    trips = {"F": ("DAY", [("A", "10:00:00"), ("D", "10:20:00")]),
             "L": ("DAY", [("A", "11:00:00"), ("D", "11:30:00")])}
    freq = [{"trip_id": "F", "start_time": "07:00:00", "end_time": "08:00:00", "headway_secs": "600", "exact_times": "1"}]
    feed = write_gtfs(tmp_path / "freq.zip", feed_tables(STOPS, trips, [service("DAY", EVERY_DAY)], frequencies=freq))
    got = minutes(feed, depart="07:00-08:00")[0, 0]
    expected = []
    for t in range(60):  # minutes after 07:00
        ready = t + walk_min(400)
        board = np.ceil(ready / 10) * 10  # buses at 07:00, 07:10 ... 07:50 (08:00 is the end, exclusive)
        expected.append(board + 20 + walk_min(400) - t if board <= 50 else np.inf)
    assert got == pytest.approx(np.array(expected))
    # The template's own times (10:00) are not a trip: at 09:50 the next bus is L at 11:00.
    assert minutes(feed, depart="09:50-09:51")[0, 0, 0] == pytest.approx(100 + walk_min(400))


def test_calendar_dates_add_and_remove_service(tmp_path):
    services = [service("WK", WEEKDAYS_ONLY), service("ALL", EVERY_DAY)]
    exceptions = [{"service_id": "WK", "date": "20240312", "exception_type": "2"},
                  {"service_id": "EXTRA", "date": "20240313", "exception_type": "1"}]
    trips = {"W1": ("WK", [("A", "07:10:00"), ("D", "07:30:00")]),
             "X1": ("EXTRA", [("A", "07:08:00"), ("D", "07:18:00")]),
             "L1": ("ALL", [("A", "08:00:00"), ("D", "08:50:00")])}
    feed = write_gtfs(tmp_path / "cd.zip", feed_tables(STOPS, trips, services, calendar_dates=exceptions))
    egress = walk_min(400)
    assert minutes(feed, date="2024-03-05")[0, 0, 0] == pytest.approx(30 + egress)   # an ordinary Tuesday: W1
    assert minutes(feed, date="2024-03-12")[0, 0, 0] == pytest.approx(110 + egress)  # WK removed: only L1
    assert minutes(feed, date="2024-03-13")[0, 0, 0] == pytest.approx(18 + egress)   # EXTRA added: X1
    assert minutes(feed, date="2024-03-09")[0, 0, 0] == pytest.approx(110 + egress)  # Saturday: no WK


def test_walking_all_the_way_is_always_allowed(tmp_path):
    feed = changes_feed(tmp_path)
    near = (X0 + 20_000, Y0 + 300)  # 500 m from the site: walking beats any bus
    got = minutes(feed, origins=(ORIGIN, near), depart="07:00-07:10")
    assert got[1, 0] == pytest.approx(np.full(10, walk_min(500)))
    # From O walking takes 306 minutes, beyond the 120-minute limit: later departures have no journey.
    assert np.isinf(got[0, 0, 5:]).all() and (got[0, 0, :5] < 60).all()


def test_stops_outside_britain_or_at_the_grid_origin_are_reported_and_skipped(tmp_path):
    tables = feed_tables(STOPS, {"T": ("WK", [("A", "07:10:00"), ("Z", "07:15:00"), ("P", "07:20:00"),
                                             ("D", "07:30:00")])}, [service("WK", WEEKDAYS_ONLY)])
    tables["stops.txt"] += [{"stop_id": "Z", "stop_name": "Sealand School", "stop_lat": "49.766132", "stop_lon": "-7.555903"},
                            {"stop_id": "P", "stop_name": "Paris", "stop_lat": "48.8566", "stop_lon": "2.3522"}]
    path = write_gtfs(tmp_path / "odd.zip", tables)
    feed = load_feed(path)
    reasons = {s["stop_id"]: s["reason"] for s in feed.skipped}
    assert set(reasons) == {"Z", "P"}
    assert "grid origin" in reasons["Z"] and "outside Great Britain" in reasons["P"]
    frame = travel_time_matrix(_points([ORIGIN], "o"), _points([SITE], "s"), "bus", engine="gtfs", gtfs=feed,
                               date=TUESDAY, depart="07:00-07:01", origin_id="id", destination_id="id")
    assert frame["minutes"].iloc[0] == pytest.approx(30 + walk_min(400))  # the bus still runs A -> D
    assert any("Sealand School" in note and "grid origin" in note for note in frame.attrs["notes"])


# --- bad input: one line naming the file and row --------------------------------------------------


def simple_tables(**changes):
    tables = feed_tables(STOPS, {"T": ("WK", [("A", "07:10:00"), ("D", "07:30:00")])}, [service("WK", WEEKDAYS_ONLY)])
    tables.update(changes)
    return tables


def refused(tmp_path, tables, **params):
    path = write_gtfs(tmp_path / "bad.zip", tables)
    with pytest.raises(WardscopeError) as caught:
        departure_minutes(xy(ORIGIN), xy(SITE), gtfs=path, **params)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("bad.zip: ")
    return caught.value


def test_missing_required_file(tmp_path):
    err = refused(tmp_path, simple_tables(**{"stop_times.txt": None}))
    assert isinstance(err, GTFSFeedError) and "stop_times.txt is missing" in str(err)
    err = refused(tmp_path, simple_tables(**{"calendar.txt": None}))
    assert "neither calendar.txt nor calendar_dates.txt" in str(err)
    no_lat = [{k: v for k, v in row.items() if k != "stop_lat"} for row in simple_tables()["stops.txt"]]
    assert "stops.txt has no stop_lat column" in str(refused(tmp_path, simple_tables(**{"stops.txt": no_lat})))


def test_inconsistent_ids(tmp_path):
    tables = simple_tables()
    tables["stop_times.txt"].append({**tables["stop_times.txt"][-1], "trip_id": "NOPE", "stop_sequence": "9"})
    assert "stop_times.txt row 4: trip_id 'NOPE' is not in trips.txt" in str(refused(tmp_path, tables))
    tables = simple_tables()
    tables["stop_times.txt"][1]["stop_id"] = "Q"
    assert "stop_times.txt row 3: stop_id 'Q' is not in stops.txt" in str(refused(tmp_path, tables))
    tables = simple_tables()
    tables["trips.txt"][0]["service_id"] = "ZZ"
    assert "trips.txt row 2: service_id 'ZZ' is in neither calendar.txt nor calendar_dates.txt" in str(
        refused(tmp_path, tables))
    tables = simple_tables()
    tables["stop_times.txt"][1]["stop_sequence"] = "1"
    assert "stop_times.txt row 3: stop_sequence 1 appears twice in trip 'T'" in str(refused(tmp_path, tables))
    tables = simple_tables(**{"frequencies.txt": [{"trip_id": "GHOST", "start_time": "07:00:00", "end_time": "08:00:00",
                                                   "headway_secs": "600"}]})
    assert "frequencies.txt row 2: trip_id 'GHOST' is not in trips.txt" in str(refused(tmp_path, tables))


def test_times_and_numbers_that_do_not_parse(tmp_path):
    tables = simple_tables()
    tables["stop_times.txt"][0]["departure_time"] = "07:6O:00"
    assert "stop_times.txt row 2: departure_time '07:6O:00' is not a time (HH:MM:SS" in str(refused(tmp_path, tables))
    tables = simple_tables()
    tables["stop_times.txt"][1]["arrival_time"] = tables["stop_times.txt"][1]["departure_time"] = "07:05:00"
    assert ("stop_times.txt row 3: trip 'T' arrives at 07:05:00, before it left the previous stop at 07:10:00"
            in str(refused(tmp_path, tables)))
    tables = simple_tables()
    tables["stops.txt"][1]["stop_lat"] = "north"
    assert "stops.txt row 3: stop_lat 'north' is not a number" in str(refused(tmp_path, tables))
    tables = simple_tables()
    tables["calendar.txt"][0]["end_date"] = "2024-12-31"
    assert "calendar.txt row 2: end_date '2024-12-31' is not a date (YYYYMMDD)" in str(refused(tmp_path, tables))


def test_times_left_out_at_intermediate_stops_are_interpolated(tmp_path):
    trips = {"T": ("WK", [("A", "07:10:00"), ("B", ""), ("C", ""), ("D", "07:40:00")])}
    feed = load_feed(write_gtfs(tmp_path / "gaps.zip", feed_tables(STOPS, trips, [service("WK", WEEKDAYS_ONLY)])))
    assert list(feed.st_arr) == list(feed.st_dep) == [25800.0, 26400.0, 27000.0, 27600.0]  # by position: 07:20, 07:30
    trips = {"T": ("WK", [("A", ""), ("D", "07:40:00")])}
    err = refused(tmp_path, feed_tables(STOPS, trips, [service("WK", WEEKDAYS_ONLY)]))
    assert "stop_times.txt row 2: trip 'T' has no time at its first stop" in str(err)


def test_date_outside_the_feeds_validity(tmp_path):
    info = [{"feed_publisher_name": "x", "feed_publisher_url": "https://example.org", "feed_lang": "en",
             "feed_start_date": "20240101", "feed_end_date": "20240630"}]
    err = refused(tmp_path, simple_tables(**{"feed_info.txt": info}), date="2024-08-06")
    assert isinstance(err, GTFSDateError)
    assert "2024-08-06 is outside the feed's validity (feed_info.txt row 2: 2024-01-01 to 2024-06-30)" in str(err)
    err = refused(tmp_path, simple_tables(), date="2025-01-07")
    assert "(calendar.txt: 2024-01-01 to 2024-12-31)" in str(err)
    # Inside the validity but no trip that day: said so, not silently walked.
    err = refused(tmp_path, simple_tables(), date="2024-03-10")
    assert "no trips run on 2024-03-10 (Sunday)" in str(err)


def test_default_date_is_the_first_tuesday_with_trips(tmp_path):
    path = write_gtfs(tmp_path / "d.zip", simple_tables())
    _, _, info = departure_minutes(xy(ORIGIN), xy(SITE), gtfs=path)
    assert info["params"]["date"] == "2024-01-02" and info["params"]["depart"] == "07:00-09:00"
    assert "first Tuesday" in info["notes"][0]


def test_bad_arguments(tmp_path):
    path = write_gtfs(tmp_path / "ok.zip", simple_tables())
    far = xy((X0 + 100_000, Y0 + 100_000))
    with pytest.raises(GTFSCoverageError, match=r"ok.zip: does not reach the area: none of its 2 stops"):
        departure_minutes(far, xy(SITE), gtfs=path, date=TUESDAY)
    with pytest.raises(TravelError, match="departure window '9-7' is not like 07:00-09:00"):
        departure_minutes(xy(ORIGIN), xy(SITE), gtfs=path, depart="9-7")
    with pytest.raises(TravelError, match="date '5 March' is not a date like 2023-08-01"):
        departure_minutes(xy(ORIGIN), xy(SITE), gtfs=path, date="5 March")
    with pytest.raises(TravelError, match="the gtfs engine needs a timetable"):
        departure_minutes(xy(ORIGIN), xy(SITE))


# --- the upload gate ------------------------------------------------------------------------------


def test_gtfs_zip_goes_through_the_gate(tmp_path):
    path = write_gtfs(tmp_path / "feed.zip", simple_tables())
    with SessionWorkspace(tmp_path / "sessions") as ws:
        upload = accept_file(path, workspace=ws, kinds=GTFS_KINDS)
        assert upload.kind == "gtfs" and upload.path.name == "feed.zip" and upload.path.is_relative_to(ws.path)
        feed = read_upload(upload)
        assert len(feed.stop_ids) == 4 and len(feed.trip_ids) == 1
        with pytest.raises(UnsupportedUpload, match="this is a GTFS timetable feed \\(zip\\), not a GeoJSON file"):
            accept_file(path, workspace=ws, kinds=VECTOR_KINDS)


def test_gate_refuses_unsafe_gtfs_archives(tmp_path):
    nested = simple_tables(**{"inner.zip": b"PK\x05\x06" + bytes(18)})
    with SessionWorkspace(tmp_path / "sessions") as ws:
        with pytest.raises(UnsafeArchive, match="holds another archive"):
            accept_file(write_gtfs(tmp_path / "n.zip", nested), workspace=ws, kinds=GTFS_KINDS)
        twice = simple_tables(**{"old/stops.txt": b"stop_id,stop_lat,stop_lon\nA,52,-0.4\n"})
        with pytest.raises(UnsafeArchive, match="holds two stops.txt files"):
            accept_file(write_gtfs(tmp_path / "t.zip", twice), workspace=ws, kinds=GTFS_KINDS)
        traversal = simple_tables(**{"../stops.txt": b"x"})
        with pytest.raises(UnsafeArchive, match="path traversal"):
            accept_file(write_gtfs(tmp_path / "p.zip", traversal), workspace=ws, kinds=GTFS_KINDS)
        (tmp_path / "shape.zip").write_bytes(shapefile_zip())
        with pytest.raises(UnsupportedUpload, match="not a GTFS timetable feed"):
            accept_file(tmp_path / "shape.zip", workspace=ws, kinds=GTFS_KINDS)


# --- walking on an OpenStreetMap network ----------------------------------------------------------


def test_walks_on_an_openstreetmap_walking_network(tmp_path):
    from tests.osmfile import write_osm

    # O reaches A only round three sides of a block (300 + 400 + 300 m); A, B, D and the site S lie on one road.
    nodes = {1: ORIGIN, 2: (X0, Y0 + 300), 3: (X0 + 400, Y0 + 300), 4: STOPS["A"], 5: STOPS["B"], 6: STOPS["D"], 7: SITE}
    ways = [(10, [1, 2, 3, 4], {"highway": "residential"}), (11, [4, 5, 6, 7], {"highway": "residential"})]
    pbf = write_osm(tmp_path / "town.osm.pbf", nodes, ways)
    trips = {"T": ("WK", [("A", "07:20:00"), ("D", "07:40:00")])}
    feed = write_gtfs(tmp_path / "walk.zip", feed_tables(STOPS, trips, [service("WK", WEEKDAYS_ONLY)]))
    # Straight lines: 6 minutes to A, bus 07:20 -> 07:40, 6 minutes from D (400 m x 1.2).
    assert minutes(feed)[0, 0, 0] == pytest.approx(40 + walk_min(400))
    # On the network: 1,000 m to A (12.5 minutes at 80 m a minute), 400 m of road from D (5 minutes).
    assert minutes(feed, network=pbf)[0, 0, 0] == pytest.approx(45.0, abs=1e-3)  # OSM stores ~1 cm coordinates
    # Leaving at 07:10 the straight line still catches the 07:20; the walk round the block does not.
    assert minutes(feed, depart="07:10-07:11")[0, 0, 0] == pytest.approx(30 + walk_min(400))
    assert np.isinf(minutes(feed, depart="07:10-07:11", network=pbf)[0, 0, 0])
    # A point 1.8 km from any path cannot walk anywhere: unreachable, with the reason.
    stranded = (X0 - 1000, Y0 + 1500)
    frame = travel_time_matrix(_points([ORIGIN, stranded], "o"), _points([SITE], "s"), "bus", engine="gtfs", gtfs=feed,
                               date=TUESDAY, depart="07:00-07:01", network=pbf, origin_id="id", destination_id="id")
    assert frame["minutes"].iloc[0] == pytest.approx(45.0, abs=1e-3) and np.isnan(frame["minutes"].iloc[1])
    assert frame.attrs["unreachable"] == [{"id": "o1", "role": "origin", "reason": "no walk route within 500 m"}]
    assert any("OpenStreetMap walking network of town.osm.pbf" in note for note in frame.attrs["notes"])
    with pytest.raises(NetworkCoverageError, match=r"town.osm.pbf does not cover the area: the network covers 0 of 1 sites \(0%\)"):
        minutes(feed, network=pbf, sites=((X0 + 60_000, Y0),))
