"""Wardscope on the command line. Every subcommand calls the same core as the app.

    python cli.py install [--from DIR] [--nomis]
    python cli.py areas
    python cli.py indicators --list
    python cli.py indicators --level ward --area Worcestershire --ids census21_inactive_pct,imd2025_score --format csv
    python cli.py boundaries --level ward --area "South Midlands" --format csv
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
        manifest = install(Path(args.from_dir) if args.from_dir else None, progress=progress, nomis=args.nomis)
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


def cmd_indicators(args) -> int:
    from geo.textout import render
    from layers.indicators import area_indicator_table, status

    if args.list:
        _output(render(status(), args.format), args.out)
        return 0
    if not args.level or not args.area:
        raise WardscopeError("give --list, or --level and --area (e.g. --level ward --area Worcestershire)")
    ids = [i.strip() for i in args.ids.split(",") if i.strip()] if args.ids else None
    _output(render(area_indicator_table(args.level, args.area, ids), args.format), args.out)
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
    p.add_argument("--nomis", action="store_true",
                   help="also fetch the claimant count and Annual Population Survey from the Nomis API (needs internet)")
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

    p = sub.add_parser("indicators", help="list indicators, or print indicator values for an area of interest")
    p.add_argument("--list", action="store_true", help="one line per indicator: id, label, levels, period, source, installed")
    p.add_argument("--level", choices=["lsoa", "lsoa11", "ward", "lad"])
    p.add_argument("--area", metavar="NAME_OR_CODE", help='e.g. Worcestershire, Luton or E06000032')
    p.add_argument("--ids", metavar="ID,ID,...", help="indicator ids (default: every indicator installed at the level)")
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p.add_argument("--out", metavar="PATH", help="write to a file instead of stdout")
    p.set_defaults(func=cmd_indicators)

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
