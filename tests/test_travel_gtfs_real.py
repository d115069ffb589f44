"""The timetable engine on the real Bus Open Data Service feed around Chester (the mirror's GTFS subset),
from the LSOAs of Cheshire West and Chester (E06000050) to sites in Chester, Tuesday 1 August 2023.

The journeys checked by hand are read from stop_times.txt, trips.txt and calendar.txt with the csv
module here: walk (straight line x 1.2 at 80 m a minute) to the boarding stop, wait for the named trip,
ride it, change (walk + 1 minute), ride, walk to the site.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from geo.travel import travel_time_matrix
from geo.travel.gtfs import Plan, departure_minutes
from geo.upload.gate import GTFS_KINDS, accept_file, read_gtfs_upload
from geo.workspace import SessionWorkspace
from layers.access import lsoa_centroids

ROOT = Path(__file__).resolve().parent.parent
DATE = "2023-08-01"
SITES = {  # name: (longitude, latitude)
    "Chester Town Hall": (-2.8916, 53.1912),
    "Chester railway station": (-2.8797, 53.1963),
    "Countess of Chester Hospital": (-2.9019, 53.2125),
    "Chester Business Park": (-2.9095, 53.1705),
}
WALK_M_PER_MIN = 4.8 * 1000 / 60
CIRCUITY = 1.2
CHANGE_MIN = 1.0
_TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)


@pytest.fixture(scope="module")
def feed_path(mirror):
    return mirror / "transport" / "gtfs_chester_wrexham_bods_2023_subset.zip"


@pytest.fixture(scope="module")
def feed(feed_path, tmp_path_factory):
    with SessionWorkspace(tmp_path_factory.mktemp("sessions")) as ws:
        return read_gtfs_upload(accept_file(feed_path, workspace=ws, kinds=GTFS_KINDS))


@pytest.fixture(scope="module")
def raw(feed_path):
    """The feed's tables as plain csv rows."""
    with zipfile.ZipFile(feed_path) as zf:
        def rows(name):
            return list(csv.DictReader(io.TextIOWrapper(zf.open(name), encoding="utf-8-sig")))
        return {name: rows(f"{name}.txt") for name in ("stops", "stop_times", "trips", "calendar")}


@pytest.fixture(scope="module")
def places(store):
    lsoa = lsoa_centroids(store, ["E06000050"])
    site_xy = np.array([_TO_BNG.transform(*lonlat) for lonlat in SITES.values()])
    return lsoa, np.column_stack([lsoa.geometry.x, lsoa.geometry.y]), site_xy


@pytest.fixture(scope="module")
def run(feed, places):
    _, o_xy, s_xy = places
    return departure_minutes(o_xy, s_xy, gtfs=feed, date=DATE)


def clock_s(hms: str) -> int:
    h, m, s = (int(x) for x in hms.split(":"))
    return h * 3600 + m * 60 + s


def walk_min(a, b) -> float:
    return float(np.hypot(a[0] - b[0], a[1] - b[1])) * CIRCUITY / WALK_M_PER_MIN


def test_the_stop_at_the_grid_origin_is_reported_and_skipped(feed, run):
    skipped = {s["stop_id"]: s for s in feed.skipped}
    assert list(skipped) == ["5120WD22102"]  # the far-away coach stops (Birmingham, Gatwick...) are in Britain
    assert skipped["5120WD22102"]["name"] == "Sealand School" and "grid origin" in skipped["5120WD22102"]["reason"]
    assert not feed.stop_ok[list(feed.stop_ids).index("5120WD22102")]
    assert any("5120WD22102 'Sealand School' is at the grid origin" in note for note in run[2]["notes"])


#: (LSOA, site, departure, legs of (trip_id, boarding stop, alighting stop)).
JOURNEYS = [
    ("E01018333", "Chester Town Hall", "07:37",
     [("VJ4faacb8bb725c93b611867c3e10cf6b5ea00d56f", "0610CH1068", "0610CH1049")]),
    ("E01035378", "Chester railway station", "07:00",
     [("VJac27d8e8d7db47af2c3395b7035b79c400551dbe", "0610CH1049", "0610CH2395")]),
    ("E01018351", "Chester Town Hall", "07:37",  # changing across the road (two stops)
     [("VJ57c67006117d9cf38f98939d3f7990cfb1542143", "0610CH1078", "5120AWD71263"),
      ("VJe4f1ed7931d12a8c762ca96413e5a669f88a8967", "5120AWD71262", "0610CH1049")]),
    ("E01032930", "Chester Business Park", "07:00",  # changing at the same stop
     [("VJac27d8e8d7db47af2c3395b7035b79c400551dbe", "0610CH2396", "0610CH2395"),
      ("VJa20d7ff8082db67f3d99b21989710b02eae45057", "0610CH2395", "0610CH2438")]),
]


@pytest.mark.parametrize("lsoa_code, site, depart, legs", JOURNEYS, ids=[j[0] + " " + j[1] for j in JOURNEYS])
def test_journeys_worked_out_by_hand(raw, places, run, lsoa_code, site, depart, legs):
    lsoa, o_xy, s_xy = places
    stops = {r["stop_id"]: _TO_BNG.transform(float(r["stop_lon"]), float(r["stop_lat"])) for r in raw["stops"]}
    service = {r["trip_id"]: r["service_id"] for r in raw["trips"]}
    calendar = {r["service_id"]: r for r in raw["calendar"]}
    t0 = clock_s(depart + ":00")
    now, here = float(t0), o_xy[list(lsoa["code"]).index(lsoa_code)]
    for n, (trip, board, alight) in enumerate(legs):
        day = calendar[service[trip]]
        assert day["tuesday"] == "1" and day["start_date"] <= DATE.replace("-", "") <= day["end_date"]
        calls = sorted((r for r in raw["stop_times"] if r["trip_id"] == trip), key=lambda r: int(r["stop_sequence"]))
        on = next(i for i, r in enumerate(calls) if r["stop_id"] == board)
        off = next(i for i, r in enumerate(calls) if r["stop_id"] == alight and i > on)
        assert calls[on]["pickup_type"] != "1" and calls[off]["drop_off_type"] != "1"
        ready = now + 60 * (walk_min(here, stops[board]) + (CHANGE_MIN if n else 0.0))
        departs = clock_s(calls[on]["departure_time"])
        assert ready <= departs, "the hand-worked journey misses its bus"
        now, here = float(clock_s(calls[off]["arrival_time"])), stops[alight]  # the wait is departs - ready
    j = list(SITES).index(site)
    by_hand = (now - t0) / 60 + walk_min(here, s_xy[j])
    minutes, departures, _ = run
    k = int(np.flatnonzero(departures == t0)[0])
    assert minutes[list(lsoa["code"]).index(lsoa_code), j, k] == pytest.approx(by_hand, abs=1e-4)  # float32 seconds inside
    assert by_hand < walk_min(o_xy[list(lsoa["code"]).index(lsoa_code)], s_xy[j])  # the bus is worth taking


def _max_bus_speed_m_per_min(raw, stops) -> float:
    """The fastest straight-line speed between consecutive calls of any trip (skipping the grid-origin stop)."""
    by_trip: dict[str, list] = {}
    for r in raw["stop_times"]:
        by_trip.setdefault(r["trip_id"], []).append(r)
    best = 0.0
    for calls in by_trip.values():
        calls.sort(key=lambda r: int(r["stop_sequence"]))
        for a, b in zip(calls, calls[1:]):
            if "5120WD22102" in (a["stop_id"], b["stop_id"]):
                continue
            seconds = clock_s(b["arrival_time"]) - clock_s(a["departure_time"])
            assert seconds > 0
            best = max(best, walk_min(stops[a["stop_id"]], stops[b["stop_id"]]) * WALK_M_PER_MIN / CIRCUITY
                       / (seconds / 60))
    return best


def test_never_worse_than_walking_and_never_faster_than_the_bus(raw, places, run):
    _, o_xy, s_xy = places
    minutes = run[0]
    walk = np.hypot(*(o_xy[:, None, :] - s_xy[None, :, :]).transpose(2, 0, 1)) * CIRCUITY / WALK_M_PER_MIN
    assert minutes.shape == (len(o_xy), len(s_xy), 120)
    # Walking all the way is always allowed (when it is within the 120-minute limit).
    within = walk <= 120
    assert (minutes[within] <= walk[within][:, None] + 1e-9).all()
    assert (np.isinf(minutes[~within]) | (minutes[~within] <= 120)).all()
    # No journey beats: walk to some stop, ride in a straight line at the feed's fastest speed, walk on.
    stops = {r["stop_id"]: _TO_BNG.transform(float(r["stop_lon"]), float(r["stop_lat"])) for r in raw["stops"]
             if r["stop_id"] != "5120WD22102"}
    speed = _max_bus_speed_m_per_min(raw, stops)
    stop_xy = np.array(list(stops.values()))
    reach = 20 * WALK_M_PER_MIN / CIRCUITY
    served = np.zeros(len(o_xy), dtype=bool)
    for i in range(len(o_xy)):
        near_o = stop_xy[np.hypot(*(stop_xy - o_xy[i]).T) <= reach]
        served[i] = len(near_o) > 0
        for j in range(len(s_xy)):
            bound = walk[i, j]
            near_d = stop_xy[np.hypot(*(stop_xy - s_xy[j]).T) <= reach]
            if len(near_o) and len(near_d):
                ride = np.hypot(*(near_o[:, None, :] - near_d[None, :, :]).transpose(2, 0, 1)) / speed
                access = np.hypot(*(near_o - o_xy[i]).T) * CIRCUITY / WALK_M_PER_MIN
                egress = np.hypot(*(near_d - s_xy[j]).T) * CIRCUITY / WALK_M_PER_MIN
                bound = min(bound, float((access[:, None] + ride + egress[None, :]).min()))
            assert (minutes[i, j] >= bound - 1e-9).all(), (i, j)
    # The buses matter: from LSOAs with a stop in reach, many pairs beat walking at the median (the subset
    # has 25 routes, so for others walking is still quicker).
    assert (np.median(minutes, axis=2) < walk - 1)[served].mean() > 0.25


def test_window_statistics_are_the_median_and_quartiles_of_the_departures(feed, places, run):
    lsoa, o_xy, s_xy = places
    o = gpd.GeoDataFrame({"code": lsoa["code"]}, geometry=gpd.points_from_xy(o_xy[:, 0], o_xy[:, 1]), crs=27700)
    s = gpd.GeoDataFrame({"site_id": list(SITES)}, geometry=gpd.points_from_xy(s_xy[:, 0], s_xy[:, 1]), crs=27700)
    frame = travel_time_matrix(o, s, "bus", engine="gtfs", gtfs=feed, date=DATE, depart="07:00-09:00")
    assert list(frame.columns) == ["from_id", "to_id", "minutes", "minutes_p25", "minutes_p75"]
    per_departure = run[0].reshape(-1, 120)
    big = 1e9  # no journey: sorts last; a percentile that lands on it is unreachable
    expected = np.percentile(np.where(np.isinf(per_departure), big, per_departure), [25, 50, 75], axis=1)
    expected[expected > 1e6] = np.nan  # any share of "big" in the interpolation (real times are <= 120)
    for q, column in zip(expected, ["minutes_p25", "minutes", "minutes_p75"]):
        assert np.allclose(frame[column].to_numpy(), q, equal_nan=True, atol=1e-9)
    ok = frame["minutes"].notna()
    assert ok.mean() > 0.4 and frame.loc[ok, "minutes"].gt(0).all()
    both = ok & frame["minutes_p75"].notna()
    assert (frame.loc[ok, "minutes_p25"] <= frame.loc[ok, "minutes"]).all()
    assert (frame.loc[both, "minutes"] <= frame.loc[both, "minutes_p75"]).all()
    # Buses every 10-30 minutes: departures differ, so the quartiles are not all equal to the median.
    assert (frame["minutes_p75"] - frame["minutes_p25"]).gt(1).sum() > 50


def test_engine_agrees_with_dijkstra_on_a_time_expanded_graph(feed, places, run):
    from bench.gtfs_naive import build_graph, journey_seconds

    _, o_xy, s_xy = places
    plan = Plan(o_xy, s_xy, gtfs=feed, date=DATE, max_rides=20)  # the naive search has no limit on changes
    graph, waits = build_graph(plan)
    served = np.unique(plan.access[0])
    rng = np.random.default_rng(7)
    for i in rng.choice(served, 4, replace=False):
        for k in (0, 41, 119):
            naive = journey_seconds(graph, waits, plan, int(i), plan.departures[k]) / 60
            assert run[0][i, :, k] == pytest.approx(naive, abs=1e-4)


def test_cli_prints_believable_minutes(tmp_path, feed_path, places):
    lsoa, o_xy, s_xy = places
    sites = tmp_path / "chester_sites.csv"
    sites.write_text("name,longitude,latitude\n" + "".join(f"{n},{x},{y}\n" for n, (x, y) in SITES.items()))
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "access", "--engine", "gtfs", "--gtfs", str(feed_path),
                          "--sites", str(sites), "--area", "Cheshire West and Chester", "--level", "lsoa",
                          "--format", "csv"], capture_output=True, text=True, cwd=ROOT)  # the timetable means bus
    assert out.returncode == 0, out.stderr
    frame = pd.read_csv(io.StringIO(out.stdout))
    assert sorted(frame["code"]) == sorted(lsoa["code"])
    nearest = frame.set_index("code").loc[lsoa["code"], "access_bus_nearest_min"]
    walk = np.hypot(*(o_xy[:, None, :] - s_xy[None, :, :]).transpose(2, 0, 1)).min(axis=1) * CIRCUITY / WALK_M_PER_MIN
    assert (nearest.dropna() > 0).all() and (nearest.to_numpy() <= walk + 0.01).sum() == nearest.notna().sum()
    # Unreachable (NaN, never 0) only where no site is within the 120-minute limit on foot and no bus helps.
    assert (walk[nearest.isna().to_numpy()] > 120).all() and nearest.notna().mean() > 0.4  # the subset feed covers Chester, not Northwich or Winsford
    # Chester's own LSOAs (within 4 km of the Town Hall) all reach a site within the hour, typically in 10-25.
    city = nearest[np.hypot(*(o_xy - s_xy[0]).T) < 4000]
    assert len(city) > 40 and (city < 60).all() and 10 < city.median() < 25
    assert "2023-08-01 (Tuesday, the first Tuesday" in out.stderr and "Sealand School" in out.stderr


def test_cli_access_without_a_mode_needs_one_unless_the_engine_is_a_timetable():
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "access", "--sites", "sample", "--area", "Luton"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2 and out.stderr.strip().splitlines()[-1].endswith(
        "--mode is needed: walk, cycle, car or bus (or several, e.g. bus,walk)"), out.stderr


def test_cli_gtfs_errors_are_one_line(tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, str(ROOT / "cli.py"), "access", "--sites", "sample", "--mode", "bus",
                               "--area", "Cheshire West and Chester", *args], capture_output=True, text=True, cwd=ROOT)

    out = cli("--engine", "gtfs")
    assert out.returncode == 2 and out.stderr.strip() == (
        "error: the gtfs engine needs --gtfs FEED.zip (a GTFS timetable covering the area, e.g. the Bus Open Data "
        "Service's feed for the region)")
    bad = tmp_path / "broken.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("stops.txt", "stop_id,stop_lat,stop_lon\nA,53.19,-2.89\n")
    out = cli("--engine", "gtfs", "--gtfs", str(bad))
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == ["error: broken.zip: agency.txt is missing; a GTFS feed needs agency.txt, "
                                               "stops.txt, routes.txt, trips.txt, stop_times.txt and calendar.txt or "
                                               "calendar_dates.txt"]
    out = cli("--engine", "estimate", "--date", "2023-08-01")
    assert out.returncode == 2 and "--gtfs, --date and --depart are only used by the gtfs engine" in out.stderr


def test_cli_check_reads_a_gtfs_feed(feed_path):
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "check", str(feed_path)], capture_output=True, text=True,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("accepted as gtfs, 505,639 bytes, sha256 1a6dd12da34b6814; 1,320 stops, 804 trips, "
                                       "1 stop skipped")
