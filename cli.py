"""Wardscope on the command line. Every subcommand calls the same core as the app.

    python cli.py install [--from DIR]
    python cli.py areas
    python cli.py boundaries --level ward --area "South Midlands" --format csv
    python cli.py access --sites sites.csv --mode bus --engine estimate --level lsoa --area Luton --format csv
    python cli.py hubs --demand neighbourhood --area Luton --sites hubs.csv --candidates stations --model mclp --k 3
    python cli.py bench
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo.errors import WardscopeError


def _output(text: str, out: str | None) -> None:
    if out:
        from geo import atomic

        atomic.write_text(Path(out), text)
        print(f"wrote {out}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def cmd_install(args) -> int:
    from geo.progress import tqdm_progress
    from layers.install import install

    progress, close = tqdm_progress("install")
    try:
        manifest = install(Path(args.from_dir) if args.from_dir else None, progress=progress)
    finally:
        close()
    counts = ", ".join(f"{k.split('/')[-1]} {v:,}" for k, v in manifest["counts"].items())
    print(f"installed store {manifest['generation']} from {manifest['source']}: {counts}")
    for note in manifest.get("notes", []):
        print(f"  note: {note}")
    return 0


def cmd_areas(args) -> int:
    from geo.areas import area_table
    from geo.store import open_store
    from geo.textout import render

    _output(render(area_table(open_store().districts()), args.format), args.out)
    return 0


def cmd_boundaries(args) -> int:
    from geo.layers import area_boundaries
    from geo.textout import render

    gdf = area_boundaries(args.level, args.area)
    _output(render(gdf, args.format), args.out)
    return 0


def cmd_score(args) -> int:
    from geo.textout import render
    from layers.profiles import load_profile
    from layers.scoring import score_area, score_output

    profile = load_profile(args.profile)
    scored = score_area(profile, args.area, level=args.level, sensitivity=args.sensitivity, seed=args.seed)
    for note in scored.notes:
        print(f"note: {note}", file=sys.stderr)
    _output(render(score_output(scored), args.format), args.out)
    return 0


def cmd_access(args) -> int:
    from geo.textout import render
    from layers.access import access_from_files

    frame = access_from_files(args.sites, args.mode, area=args.area, level=args.level, engine=args.engine,
                              network=args.network)
    for note in frame.attrs.get("notes", []):
        print(f"note: {note}", file=sys.stderr)
    _output(render(frame, args.format), args.out)
    return 0


def cmd_hubs(args) -> int:
    from geo.textout import render
    from layers.hubs import plan_from_files

    plan = plan_from_files(args.area, args.sites, candidates=args.candidates or (), demand_profile=args.demand,
                           demand_file=args.demand_file, demand_kind=args.weight, band=args.band, mode=args.mode,
                           minutes=args.minutes, model=args.model, k=args.k, engine=args.engine, network=args.network,
                           time_limit_s=args.time_limit, sites_outside=args.sites_outside, curve=args.curve)
    table = args.table or ("districts" if args.model == "coverage" else "sites")
    text = plan.to_json_text() if args.format == "json" else render(plan.table(table), "csv")
    for line in plan.statements():
        print(line, file=sys.stderr)
    for note in plan.notes:
        print(f"note: {note}", file=sys.stderr)
    _output(text, args.out)
    return 0


def cmd_bench(args) -> int:
    from bench.__main__ import main as bench_main

    return bench_main(args.only or [])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cli.py", description="Wardscope: where employment support should go.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("install", help="build the local store from a mirror directory or the publishers")
    p.add_argument("--from", dest="from_dir", metavar="DIR",
                   help="local mirror directory (default: $WARDSCOPE_MIRROR, else ../shared/data, else download)")
    p.set_defaults(func=cmd_install)

    p = sub.add_parser("areas", help="list areas of interest and districts")
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p.add_argument("--out", metavar="PATH", help="write to a file instead of stdout")
    p.set_defaults(func=cmd_areas)

    p = sub.add_parser("boundaries", help="boundaries of an area of interest")
    p.add_argument("--level", choices=["lad", "ward", "lsoa"], required=True)
    p.add_argument("--area", required=True, metavar="NAME_OR_CODE", help='e.g. "South Midlands", Luton or E06000032')
    p.add_argument("--format", choices=["geojson", "csv"], default="csv")
    p.add_argument("--out", metavar="PATH", help="write to a file instead of stdout")
    p.set_defaults(func=cmd_boundaries)

    p = sub.add_parser("score", help="priority scores for an area of interest")
    p.add_argument("--profile", required=True, metavar="{neighbourhood,multi-agency,PATH.yaml}")
    p.add_argument("--level", choices=["lsoa", "ward"], help="default: the profile's level")
    p.add_argument("--area", required=True, metavar="NAME_OR_CODE")
    p.add_argument("--sensitivity", type=int, default=200, metavar="N",
                   help="Monte Carlo draws of the weights for the robust flag (default 200; 0 = skip)")
    p.add_argument("--seed", type=int, default=20251127, help="random seed for the draws (results are reproducible)")
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p.add_argument("--out", metavar="PATH", help="write to a file instead of stdout")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("access", help="minutes from every LSOA or ward to employment sites, jobs within reach")
    p.add_argument("--sites", required=True, metavar="FILE",
                   help="sites .csv or .geojson (name + longitude/latitude, easting/northing or postcode), or 'sample'")
    p.add_argument("--mode", choices=["walk", "cycle", "car", "bus"], required=True)
    p.add_argument("--engine", choices=["estimate", "network"], default=None,
                   help="default: $WARDSCOPE_TRAVEL_ENGINE, else estimate")
    p.add_argument("--network", metavar="FILE.osm.pbf", help="OpenStreetMap extract covering the area (network engine)")
    p.add_argument("--level", choices=["lsoa", "ward"], default="lsoa")
    p.add_argument("--area", required=True, metavar="NAME_OR_CODE", help='e.g. "South Midlands", Luton or E06000032')
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p.add_argument("--out", metavar="PATH", help="write to a file instead of stdout")
    p.set_defaults(func=cmd_access)

    p = sub.add_parser("hubs", help="coverage of priority areas by hubs; best places for new hubs (MCLP, p-median, LSCP)")
    demand = p.add_mutually_exclusive_group(required=True)
    demand.add_argument("--demand", metavar="PROFILE", help="priority areas from a scoring profile (neighbourhood, "
                        "multi-agency or PATH.yaml); needs the indicator layers")
    demand.add_argument("--demand-file", metavar="CSV", help="demand table: code (LSOA 2021), weight (people), "
                        "priority (true/false or a band); optional x,y (BNG metres)")
    p.add_argument("--weight", choices=["population", "inactive", "claimants"], default="population",
                   help="with --demand: weight areas by residents, economically inactive residents 16+ or claimants")
    p.add_argument("--band", metavar="BAND", help="bands that count as priority, e.g. 'top 10%%' (default: top 20%% "
                   "and threshold 'priority')")
    p.add_argument("--area", required=True, metavar="NAME_OR_CODE", help='e.g. "South Midlands", Luton or E06000032')
    p.add_argument("--sites", metavar="FILE", help="existing hubs .csv/.geojson (name, location; optional type, "
                   "capacity, fixed)")
    p.add_argument("--candidates", action="append", metavar="FILE|stations|priority-centroids",
                   help="candidate sites for new hubs; repeat to combine")
    p.add_argument("--sites-outside", choices=["error", "drop", "keep"], default="error",
                   help="sites outside the area: refuse (default), leave out, or keep (hubs over the border)")
    p.add_argument("--mode", choices=["walk", "cycle", "bus", "car"], default="bus")
    p.add_argument("--minutes", type=float, default=30.0, metavar="N", help="reach of a hub, minutes (default 30)")
    p.add_argument("--model", choices=["coverage", "mclp", "pmedian", "lscp"], default="coverage")
    p.add_argument("--k", type=int, metavar="N", help="sites to choose besides the fixed hubs (mclp, pmedian)")
    p.add_argument("--curve", action="store_true", help="with mclp: re-solve for k = 1..N (best coverage per number of hubs)")
    p.add_argument("--time-limit", type=float, default=60.0, metavar="SECONDS", help="solver time limit per solve (default 60)")
    p.add_argument("--engine", choices=["estimate", "network"], default=None,
                   help="default: $WARDSCOPE_TRAVEL_ENGINE, else estimate")
    p.add_argument("--network", metavar="FILE.osm.pbf", help="OpenStreetMap extract covering the area (network engine)")
    p.add_argument("--table", choices=["districts", "areas", "sites", "marginal", "curve"],
                   help="CSV table to print (default: districts for coverage, sites for a model)")
    p.add_argument("--format", choices=["csv", "json"], default="csv", help="json prints every table and the figures")
    p.add_argument("--out", metavar="PATH", help="write to a file instead of stdout")
    p.set_defaults(func=cmd_hubs)

    p = sub.add_parser("bench", help="run the benchmarks; prints `name value unit` and writes bench/results.json")
    p.add_argument("only", nargs="*", help="run only benchmarks whose name starts with these")
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except WardscopeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was changed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
