"""The timetable engine (gtfs) on a county-sized feed: 1,000 origins x 50 sites, departures every minute 07:00-09:00.

The feed is built from the real Bus Open Data Service subset in the mirror (Chester and Wrexham, 1,320
stops, 804 trips, 34,249 stop times), repeated in space and in time:

* space: 2 x 2 copies of every stop, route, trip and calendar entry, shifted by 0.30 degrees of
  longitude and of latitude (about 20 km x 33 km), so neighbouring copies overlap by a few kilometres
  and people can change between them (about 43 x 71 km in all: the size of a county such as Cheshire);
* time: each trip three times, 0, 20 and 40 minutes apart, so an hourly route runs every 20 minutes.

That gives 5,280 stops, 9,648 trips and 410,988 stop times. Origins are 1,000 points up to 800 m from
stops drawn at random (seeded), sites 50 points up to 300 m from stops. The engine's figure includes
everything after the feed has been read (the day's timetable, changes, walks, routing, statistics),
on one core; reading and checking the feed through the upload gate is timed separately (after
gtfs-kit has been imported, which takes a few seconds once per process).

The naive alternative runs Dijkstra (networkx) from each origin for each departure minute on a
time-expanded graph of the same timetable (:mod:`bench.gtfs_naive`): 120,000 searches. Only a sample is
run; the full figure is extrapolated from the mean time per search (plus building the graph once) and
the bench says so. The sample also gives the largest difference from the engine (should be 0).
"""

from __future__ import annotations

import csv
import io
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

TILES = 2               # 2 x 2 copies in space
SHIFT_DEG = 0.30        # between copies, in longitude and latitude
COPIES = 3              # copies in time
COPY_GAP_S = 20 * 60    # between them
ORIGINS, SITES = 1000, 50
NAIVE_ORIGINS, NAIVE_DEPARTURES = 4, 3  # the naive sample: 12 searches


def _source() -> Path:
    from geo.config import default_mirror

    mirror = default_mirror()
    path = (mirror / "transport" / "gtfs_chester_wrexham_bods_2023_subset.zip") if mirror else None
    if path is None or not path.is_file():
        raise FileNotFoundError("the mirror's GTFS subset (transport/gtfs_chester_wrexham_bods_2023_subset.zip) is needed")
    return path


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _seconds(text: str) -> int:
    h, m, s = (int(x) for x in text.split(":"))
    return h * 3600 + m * 60 + s


def write_county_feed(path: Path) -> dict:
    """Write the repeated feed (see module docstring) to ``path``; return its counts."""
    with zipfile.ZipFile(_source()) as zf:
        tables = {n[:-4]: list(csv.DictReader(io.TextIOWrapper(zf.open(n), encoding="utf-8-sig")))
                  for n in zf.namelist() if n.endswith(".txt") and n != "shapes.txt"}
    out: dict[str, list[dict]] = {name: [] for name in tables}
    out["agency"] = tables["agency"]
    out["feed_info"] = tables["feed_info"]
    for tx in range(TILES):
        for ty in range(TILES):
            tile = f"t{tx}{ty}_"
            for r in tables["stops"]:
                out["stops"].append({**r, "stop_id": tile + r["stop_id"],
                                     "stop_lat": f"{float(r['stop_lat']) + ty * SHIFT_DEG:.6f}" if r["stop_id"] != "5120WD22102" else r["stop_lat"],
                                     "stop_lon": f"{float(r['stop_lon']) + tx * SHIFT_DEG:.6f}" if r["stop_id"] != "5120WD22102" else r["stop_lon"],
                                     "parent_station": ""})
            out["routes"] += [{**r, "route_id": tile + r["route_id"]} for r in tables["routes"]]
            out["calendar"] += [{**r, "service_id": tile + r["service_id"]} for r in tables["calendar"]]
            for copy in range(COPIES):
                tag = f"{tile}c{copy}_"
                for r in tables["trips"]:
                    out["trips"].append({**r, "trip_id": tag + r["trip_id"], "route_id": tile + r["route_id"],
                                         "service_id": tile + r["service_id"], "shape_id": ""})
                shift = copy * COPY_GAP_S
                for r in tables["stop_times"]:
                    out["stop_times"].append({**r, "trip_id": tag + r["trip_id"], "stop_id": tile + r["stop_id"],
                                              "arrival_time": _clock(_seconds(r["arrival_time"]) + shift),
                                              "departure_time": _clock(_seconds(r["departure_time"]) + shift)})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, rows in out.items():
            if not rows:
                continue
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            zf.writestr(f"{name}.txt", text.getvalue())
    return {"stops": len(out["stops"]), "trips": len(out["trips"]), "stop_times": len(out["stop_times"])}


def _points(feed, rng, count: int, spread_m: float) -> np.ndarray:
    ok = np.flatnonzero(feed.stop_ok)
    base = feed.stop_xy[rng.choice(ok, count, replace=False)]
    angle, radius = rng.uniform(0, 2 * np.pi, count), spread_m * np.sqrt(rng.uniform(0, 1, count))
    return base + np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


def run():
    from bench.gtfs_naive import build_graph, journey_seconds
    from geo.travel import gtfs as engine
    from geo.upload.gate import GTFS_KINDS, accept_file, read_gtfs_upload
    from geo.workspace import SessionWorkspace

    import gtfs_kit  # noqa: F401  (imported once per process, a few seconds: not part of reading a feed)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "county.zip"
        counts = write_county_feed(path)
        yield "gtfs_county_feed_stops", counts["stops"], "stops"
        yield "gtfs_county_feed_trips", counts["trips"], "trips"
        yield "gtfs_county_feed_stop_times", counts["stop_times"], "stop_times"
        yield "gtfs_county_feed_zip_mb", path.stat().st_size / 2**20, "MB"
        with SessionWorkspace(Path(tmp) / "sessions") as ws:
            start = time.perf_counter()
            feed = read_gtfs_upload(accept_file(path, workspace=ws, kinds=GTFS_KINDS))
            yield "gtfs_county_feed_read_and_check", time.perf_counter() - start, "s"

    rng = np.random.default_rng(14)
    origins, sites = _points(feed, rng, ORIGINS, 800.0), _points(feed, rng, SITES, 300.0)
    engine._TIMETABLES.clear()
    start = time.perf_counter()
    median, info = engine.matrix(origins, sites, "bus", gtfs=feed)
    ours = time.perf_counter() - start
    yield "gtfs_1000x50_2h_window_engine", ours, "s"
    yield "gtfs_1000x50_timetable_events", info["timetable"]["events"], "events"
    yield "gtfs_1000x50_reachable_pairs_share", float(np.isfinite(median).mean()), "ratio"
    yield "gtfs_1000x50_median_minutes_of_reachable", float(np.nanmedian(median)), "min"

    plan = engine.Plan(origins, sites, gtfs=feed, max_rides=50)
    start = time.perf_counter()
    graph, waits = build_graph(plan)
    naive_build = time.perf_counter() - start
    yield "gtfs_naive_time_expanded_graph_nodes", graph.number_of_nodes(), "nodes"
    yield "gtfs_naive_time_expanded_graph_edges", graph.number_of_edges(), "edges"
    yield "gtfs_naive_graph_build", naive_build, "s"
    served = np.unique(plan.access[0])
    sample_o = rng.choice(served, NAIVE_ORIGINS, replace=False)
    sample_k = rng.choice(len(plan.departures), NAIVE_DEPARTURES, replace=False)
    per_departure, _, _ = engine.departure_minutes(origins[sample_o], sites, gtfs=feed, max_rides=50)
    worst, searches = 0.0, 0
    start = time.perf_counter()
    for a, i in enumerate(sample_o):
        for k in sample_k:
            naive = journey_seconds(graph, waits, plan, int(i), plan.departures[k]) / 60
            mine = per_departure[a, :, k]
            if (np.isinf(naive) != np.isinf(mine)).any():
                worst = float("inf")
            elif np.isfinite(mine).any():
                both = np.isfinite(mine)
                worst = max(worst, float(np.abs(mine[both] - naive[both]).max()))
            searches += 1
    per_search = (time.perf_counter() - start) / searches
    naive_total = naive_build + per_search * ORIGINS * len(plan.departures)
    yield "gtfs_naive_dijkstra_per_origin_departure", per_search, "s"
    yield "gtfs_naive_1000x50_2h_extrapolated_from_12_searches", naive_total, "s"
    yield "gtfs_naive_over_engine_ratio_extrapolated", naive_total / ours, "x"
    yield "gtfs_max_abs_difference_vs_naive_sample", worst, "min"
