"""Wardscope on the command line: each subcommand parses its arguments into a request, runs one task
(:mod:`tasks`) and prints the result. The app's pages run the same tasks.

    python cli.py install [--from DIR] [--nomis] [--only census|claimant|aps|labour] [--dry-run] [--no-wait | --wait-minutes N]
    python cli.py verify
    python cli.py areas
    python cli.py indicators --list
    python cli.py indicators --level ward --area Worcestershire --ids census21_inactive_pct,imd2025_score --format csv
    python cli.py indicators --user visits.csv --id hub_visits --label "Hub visits" --kind count --value visits --direction higher-is-worse
    python cli.py boundaries --level ward --area "South Midlands" --format csv
    python cli.py score --profile neighbourhood --level ward --area Luton [--neighbourhoods] [--provenance FILE]
    python cli.py score --profile neighbourhood --area Luton --user-indicator hub_visits:2
    python cli.py access --sites sites.csv --mode bus --engine estimate --level lsoa --area Luton --format csv
    python cli.py access --sites sites.csv --mode bus --engine gtfs --gtfs feed.zip --date 2023-08-01 --area "Cheshire West and Chester"
    python cli.py export --profile neighbourhood --area Luton --select top:20 --format gpkg --out top20
    python cli.py hubs --demand neighbourhood --area Luton --sites hubs.csv --candidates stations --model mclp --k 3
    python cli.py profile --ward E05014737 [--area "South Midlands"] --format pdf --out ward.pdf
    python cli.py profile --area Luton --out pack.zip
    python cli.py dashboard --area "South Midlands" [--period 2023] --format xlsx --out dashboard.xlsx

    python cli.py serve [--port 8501]   (the app, with the store loaded at start)
    python cli.py check sites.zip [--assume-crs 27700] [--repair]
    python cli.py bench
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from geo.errors import WardscopeError
from geo.export.core import FORMATS
from geo.travel.base import ENGINES, MODES
from tasks.score import DEFAULT_DRAWS, DEFAULT_SEED


def _output(text: str, out: str | None) -> None:
    if out:
        from geo import atomic
        from geo.outputs import check_output, not_writable

        path = check_output(Path(out))
        try:
            atomic.write_text(path, text)
        except OSError as exc:
            raise not_writable(path, exc) from None
        print(f"wrote {out}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _store():
    from geo.store import open_store

    return open_store()


def _notes(result, prefix: str = "note: ") -> None:
    for note in result.notes:
        print(f"{prefix}{note}", file=sys.stderr)


def _provenance(result, args) -> None:
    """Write the result's provenance as JSON when ``--provenance PATH`` was given."""
    if getattr(args, "provenance", None):
        from geo import atomic

        atomic.write_text(Path(args.provenance), json.dumps(result.provenance.to_dict(), indent=1, ensure_ascii=False))


def _area(args, store):
    from tasks.inputs import area_of

    return area_of(args.area, store)


def cmd_install(args) -> int:
    from tqdm import tqdm

    from geo.progress import TqdmReport
    from geo.storelock import DEFAULT_WAIT_S
    from tasks import install

    if args.wait_minutes is not None and not 0 <= args.wait_minutes < float("inf"):
        raise WardscopeError(f"--wait-minutes must be a number of minutes, 0 or more; got {args.wait_minutes:g}")
    wait_s = 0 if args.no_wait else DEFAULT_WAIT_S if args.wait_minutes is None else args.wait_minutes * 60
    request = install.InstallRequest(args.from_dir, args.nomis, args.only, wait_s)
    if args.dry_run:
        print("\n".join(install.dry_run(request)))
        return 0
    report = TqdmReport("install")
    try:
        result = install.run(request, progress=report, on_wait=lambda message: tqdm.write(message, file=sys.stderr))
    finally:
        report.close()
    manifest = result.data
    counts = ", ".join(f"{k.split('/')[-1]} {v:,}" for k, v in manifest["counts"].items())
    print(f"installed store {manifest['generation']} from {manifest['source']}: {counts}")
    if report.summary():
        print(f"  {report.summary()}")
    for note in result.notes:  # on stdout, with the summary (as before the tasks layer)
        print(f"  note: {note}")
    return 0


def cmd_verify(args) -> int:
    """Check every store file against the sha256, size and rows store.json records; one line per damaged file."""
    import time

    from geo.storecheck import PREDATES
    from geo.store import Store

    start = time.perf_counter()
    store = Store(check=False)
    problems = store.verify()
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    if problems:
        return 2
    if not store.checksums:
        print(f"warning: {store.root}: {PREDATES} (its {len(store.records)} files are present with the rows "
              "store.json lists; their contents cannot be checked)", file=sys.stderr)
        return 1
    size_mb = sum(r["bytes"] for r in store.records.values()) / 1e6
    print(f"store {store.generation} in {store.root}: all {len(store.records)} files match store.json "
          f"(sha256, size, rows; {size_mb:.1f} MB in {time.perf_counter() - start:.2f} s)")
    return 0


def cmd_areas(args) -> int:
    from geo.textout import render
    from tasks import areas

    store = _store()
    if args.delete:
        _notes(areas.delete(args.delete, store))
        return 0
    if args.save:
        boundary = None
        if args.boundary:
            from geo.upload.gate import accept_file, read_vector_upload
            from geo.workspace import SessionWorkspace

            with SessionWorkspace() as workspace:
                upload = accept_file(Path(args.boundary), workspace=workspace,
                                     kinds={"geojson", "zip-shapefile", "gpkg"})
                boundary = read_vector_upload(upload)
        _notes(areas.save(args.save, store, districts=args.districts or [], wards=_items(args.wards),
                          boundary=boundary))
        return 0
    if args.districts or args.wards or args.boundary:
        raise WardscopeError("--districts, --wards and --boundary go with --save NAME")
    _output(render(areas.run(store).data, args.format), args.out)
    return 0


def _items(values) -> list[str]:
    """Comma- or space-separated values from repeated options (district names may hold spaces: use commas)."""
    return [i.strip() for v in (values or []) for i in v.split(",") if i.strip()]


def boundaries_request(args, store):
    from tasks.boundaries import BoundariesRequest

    return BoundariesRequest(_area(args, store), args.level)


def cmd_boundaries(args) -> int:
    from geo.textout import render
    from tasks import boundaries

    store = _store()
    result = boundaries.run(boundaries_request(args, store), store)
    _output(render(result.data, args.format), args.out)
    _provenance(result, args)
    return 0


def score_request(args, store):
    """The :class:`tasks.score.ScoreRequest` that ``score`` and ``export`` arguments describe."""
    from tasks.inputs import SitesInput, profile_text
    from tasks.score import AccessInScore, ScoreRequest

    access = None
    if getattr(args, "access_sites", None):
        access = AccessInScore(SitesInput.from_file(args.access_sites, store), args.access_mode, args.access_weight)
    users = tuple(_user_weight(item) for item in (getattr(args, "user_indicator", None) or []))
    return ScoreRequest(_area(args, store), profile_text(args.profile), args.level, args.sensitivity, args.seed, access,
                        users)


def _user_weight(item: str) -> tuple[str, float]:
    """``ID`` or ``ID:WEIGHT`` (default weight 1) of ``--user-indicator``."""
    ind_id, _, weight = item.partition(":")
    try:
        return ind_id.strip(), float(weight) if weight.strip() else 1.0
    except ValueError:
        raise WardscopeError(f"--user-indicator {item!r}: the weight after ':' must be a number, e.g. {ind_id}:2") from None


def cmd_score(args) -> int:
    from geo.textout import render
    from layers.scoring import score_output
    from tasks import neighbourhoods, score

    store = _store()
    request = score_request(args, store)
    result = score.run(request, store)
    _notes(result)
    if args.neighbourhoods:
        result = neighbourhoods.run(request, store, scored=result)
        table = result.data.table
    else:
        table = score_output(result.data)
    _output(render(table, args.format), args.out)
    _provenance(result, args)
    return 0


def access_request(args, store):
    from tasks.access import AccessRequest
    from tasks.inputs import SitesInput

    if args.mode is None:  # a timetable is for buses; every other engine needs to be told
        from geo.config import travel_engine

        if (args.engine or travel_engine()) != "gtfs":
            raise WardscopeError("--mode is needed: walk, cycle, car or bus (or several, e.g. bus,walk)")
        args.mode = ("bus",)
    return AccessRequest(_area(args, store), SitesInput.from_file(args.sites, store), args.mode, args.level,
                         args.engine, args.network, gtfs=args.gtfs, date=args.date, depart=args.depart)


def cmd_access(args) -> int:
    from geo.textout import render
    from tasks import access

    store = _store()
    result = access.run(access_request(args, store), store)
    _notes(result)
    _output(render(result.data, args.format), args.out)
    _provenance(result, args)
    return 0


def cmd_check(args) -> int:
    """Send a file through the upload gate, as the app would, and say what Wardscope makes of it."""
    from geo.errors import MissingCRSError
    from geo.upload.gate import KINDS, accept_file, describe_result, read_upload
    from geo.workspace import SessionWorkspace

    kinds = set(args.kinds.split(",")) if args.kinds else set(KINDS)
    with SessionWorkspace() as workspace:
        upload = accept_file(Path(args.file), workspace=workspace, kinds=kinds)
        try:
            result = read_upload(upload, assume_crs=args.assume_crs, repair=args.repair, layer=args.layer)
        except MissingCRSError as exc:
            raise type(exc)(f"{exc} (answer with --assume-crs 27700 or --assume-crs 4326)", hint=exc.hint) from None
    print(describe_result(upload, result))
    for note in getattr(result, "attrs", {}).get("warnings", []):
        print(f"  warning: {note}")
    return 0


def indicators_request(args, store):
    from tasks.indicators import IndicatorsRequest

    ids = tuple(i.strip() for i in args.ids.split(",") if i.strip()) if args.ids else None
    return IndicatorsRequest(_area(args, store), args.level, ids, getattr(args, "period", None))


def cmd_indicators(args) -> int:
    from geo.textout import render
    from tasks import indicators

    if args.user:
        return _save_user_indicator(args)
    if args.list:
        _output(render(indicators.catalogue().data, args.format), args.out)
        return 0
    if not args.level or not args.area:
        raise WardscopeError("give --list, or --level and --area (e.g. --level ward --area Worcestershire)")
    store = _store()
    result = indicators.run(indicators_request(args, store), store)
    _output(render(result.data, args.format), args.out)
    _notes(result)
    _provenance(result, args)
    return 0


def user_indicator_request(args, store):
    """The :class:`tasks.user_indicator.UserIndicatorRequest` of ``indicators --user FILE``: the file through the gate."""
    from geo.upload.gate import TABLE_KINDS, accept_file, upload_text
    from geo.workspace import SessionWorkspace
    from tasks.user_indicator import UserIndicatorRequest

    if not args.id or not args.label:
        raise WardscopeError("indicators --user FILE needs --id (snake_case) and --label (what people read)")
    with SessionWorkspace() as workspace:
        upload = accept_file(Path(args.user), workspace=workspace, kinds=TABLE_KINDS)
        data = upload_text(upload).encode("utf-8")  # the task checks it again, as it does the app's
    return UserIndicatorRequest(args.user, data, args.id, args.label, args.kind, args.value, args.denominator,
                                args.direction, args.unit, args.caveat or "", args.dry_run)


def _save_user_indicator(args) -> int:
    from tasks import user_indicator

    store = _store()
    result = user_indicator.run(user_indicator_request(args, store), store)
    if len(result.data):
        print(f"{len(result.data)} row problem(s) in {args.user} (those rows left out or kept as unknown):")
        for row in result.data.itertuples(index=False):
            print(f"  row {row.row}" + (f" ({row.code})" if row.code else "") + f": {row.problem}")
    ind = result.indicator
    verb = "checked (not saved)" if not result.saved else "saved"
    print(f"{verb}: {ind.id} ({ind.label}), a {ind.kind} given for {result.level}, available at {', '.join(ind.levels)}")
    for note in result.notes:
        print(f"  note: {note}")
    return 0


def export_request(args, store):
    from geo.export import parse_selection
    from tasks.export import ExportRequest

    parse_selection(args.select)  # refuse a bad spec before any work
    return ExportRequest(score_request(args, store), args.select, args.dissolve)


def cmd_export(args) -> int:
    from geo.export import check_export_path, parse_selection

    parse_selection(args.select)  # refuse a bad spec or --out before any work (and before the heavy imports)
    check_export_path(args.out, args.format, overwrite=args.overwrite)
    from tasks import export

    store = _store()
    result = export.run(export_request(args, store), store)
    written = result.data.write(args.format, args.out, overwrite=args.overwrite, raw_names=args.raw_names)
    print(f"wrote {', '.join(str(p) for p in written.files)} ({written.feature_count} areas)", file=sys.stderr)
    _provenance(result, args)
    return 0


def hubs_request(args, store):
    from layers.hubs.demand import demand_text
    from tasks.hubs import HubsRequest
    from tasks.inputs import SitesInput, profile_text

    generated = ("stations", "priority-centroids")
    return HubsRequest(
        _area(args, store), profile=profile_text(args.demand) if args.demand else None,
        demand_csv=demand_text(args.demand_file) if args.demand_file else None,
        demand_source=args.demand_file or "demand", weight=args.weight,
        bands=tuple(args.band) if args.band else None,
        existing=SitesInput.from_file(args.sites, store) if args.sites else None,
        candidates=tuple(c if c in generated else SitesInput.from_file(c, store) for c in args.candidates or ()),
        sites_outside=args.sites_outside, mode=args.mode, minutes=args.minutes, model=args.model, k=args.k,
        engine=args.engine, network=args.network, time_limit_s=args.time_limit, curve=args.curve,
        capacity=args.capacity)


def cmd_hubs(args) -> int:
    from geo.textout import render
    from tasks import hubs

    store = _store()
    result = hubs.run(hubs_request(args, store), store)
    plan = result.data
    table = args.table or ("districts" if args.model == "coverage" else "sites")
    text = plan.to_json_text() if args.format == "json" else render(plan.table(table), "csv")
    for line in plan.statements():
        print(line, file=sys.stderr)
    _notes(result)
    _output(text, args.out)
    _provenance(result, args)
    return 0


def ward_profile_request(args, store):
    """The :class:`tasks.profile.WardProfileRequest` of ``profile``/``ward-profile`` arguments: ``--ward`` is a
    code or name; without ``--area`` the ward is compared with its own district."""
    from tasks.inputs import area_of, profile_text
    from tasks.profile import SHIPPED_PROFILES, WardProfileRequest, resolve_ward

    area = _area(args, store) if args.area else None
    code, lad_code = resolve_ward(args.ward, area, store)
    return WardProfileRequest(area or area_of(lad_code, store), code,
                              tuple(profile_text(p) for p in (args.profile or SHIPPED_PROFILES)), args.sensitivity)


def pack_request(args, store):
    """The :class:`tasks.profile.PackRequest` of ``profile --area NAME --out PACK.zip`` (no ``--ward``)."""
    from tasks.inputs import profile_text
    from tasks.profile import SHIPPED_PROFILES, PackRequest

    return PackRequest(_area(args, store), args.out, tuple(profile_text(p) for p in (args.profile or SHIPPED_PROFILES)),
                       args.sensitivity)


def cmd_ward_profile(args) -> int:
    from layers.ward_report import report_html, report_json, report_pdf
    from tasks import profile

    if not args.ward:
        return _cmd_pack(args)
    if args.format == "pdf" and not args.out:
        raise WardscopeError("a PDF needs --out FILE.pdf")
    store = _store()
    result = profile.run(ward_profile_request(args, store), store)
    if args.format == "pdf":
        from geo import atomic

        atomic.write_bytes(Path(args.out), report_pdf(result.data))
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        _output(report_html(result.data) if args.format == "html" else report_json(result.data), args.out)
    _provenance(result, args)
    return 0


def _cmd_pack(args) -> int:
    from tqdm import tqdm

    from tasks import profile

    if not args.area or not args.out or not args.out.lower().endswith(".zip") or args.format != "pdf":
        raise WardscopeError("give --ward CODE_OR_NAME for one ward, or --area NAME --out PACK.zip (PDF) for every "
                             "ward of the area")
    store = _store()
    request = pack_request(args, store)
    with tqdm(total=1, unit="ward", file=sys.stderr, desc="ward profiles") as bar:
        def progress(done, total, message):
            bar.total = total
            bar.n = done
            bar.set_postfix_str(message, refresh=True)

        result = profile.run_pack(request, store, progress)
    print(f"wrote {args.out}: {len(result.data)} ward profiles and a contents page", file=sys.stderr)
    _provenance(result, args)
    return 0


def dashboard_request(args, store):
    from tasks.dashboard import DashboardRequest

    ids = tuple(i.strip() for i in args.ids.split(",") if i.strip()) if args.ids else None
    return DashboardRequest(_area(args, store), args.period, ids)


def cmd_dashboard(args) -> int:
    from geo import atomic
    from geo.store import open_store
    from layers import dashboard_out
    from tasks import dashboard

    if args.format in ("xlsx", "png") and not args.out:
        raise WardscopeError(f"--format {args.format} makes a binary file: give --out FILE")
    if (args.format == "png") != bool(args.chart):
        raise WardscopeError("--chart ID goes with --format png (e.g. --chart aps_employment_rate --format png --out FILE)")
    store = open_store()
    result = dashboard.run(dashboard_request(args, store), store)
    board = result.data
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    render = {"csv": dashboard_out.to_csv_bytes, "xlsx": dashboard_out.to_xlsx_bytes,
              "html": lambda b: dashboard_out.to_html(b).encode("utf-8"),
              "png": lambda b: dashboard_out.trend_png(b, args.chart)}[args.format]
    data = render(board)
    if args.out:
        atomic.write_bytes(Path(args.out), data)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
    _provenance(result, args)
    return 0


def cmd_serve(args) -> int:
    from app_pages.server import serve  # the app's own module: Streamlit is imported only for this command

    return serve(port=args.port, address=args.address)


def cmd_bench(args) -> int:
    from bench.__main__ import main as bench_main

    return bench_main(args.only or [])


def add_output(p: argparse.ArgumentParser, formats=("csv", "json"), help: str | None = None) -> None:
    """The --format and --out options every printing subcommand shares (first format is the default)."""
    p.add_argument("--format", choices=list(formats), default=formats[0], help=help)
    p.add_argument("--out", metavar="PATH", help="write to a file instead of stdout")
    p.add_argument("--provenance", metavar="PATH", help="also write how the result was made (sources, method, "
                                                          "parameters, seed, versions) as JSON")


def modes(text: str) -> tuple[str, ...]:
    """``--mode bus`` or ``--mode bus,walk``: travel modes, each checked."""
    out = tuple(dict.fromkeys(m.strip() for m in text.split(",") if m.strip()))
    bad = [m for m in out if m not in MODES]
    if bad or not out:
        raise argparse.ArgumentTypeError(f"unknown mode {', '.join(bad) or text!r}; choose from {', '.join(MODES)}")
    return out


def build_parser() -> argparse.ArgumentParser:
    from geo.storelock import DEFAULT_WAIT_S

    parser = argparse.ArgumentParser(prog="cli.py", description="Wardscope: where employment support should go.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("install", help="build the local store from a mirror directory or the publishers")
    p.add_argument("--from", dest="from_dir", metavar="DIR",
                   help="local mirror directory (default: $WARDSCOPE_MIRROR, else ../shared/data, else download)")
    p.add_argument("--nomis", action="store_true",
                   help="also fetch the claimant count and Annual Population Survey from the Nomis API (needs internet)")
    wait = p.add_mutually_exclusive_group()
    wait.add_argument("--no-wait", action="store_true",
                      help="if another install is running, stop at once with an error instead of waiting for it")
    wait.add_argument("--wait-minutes", type=float, metavar="N",
                      help=f"if another install is running, wait up to N minutes for it (default {DEFAULT_WAIT_S / 60:g})")
    p.add_argument("--only", metavar="PART", choices=["census", "claimant", "aps", "labour"],
                   help="install (or retry) just this optional part, keeping the rest of the current store")
    p.add_argument("--dry-run", action="store_true", help="list what would be fetched and from where; change nothing")
    p.set_defaults(func=cmd_install)

    p = sub.add_parser("verify", help="check every store file against its recorded sha256, size and rows; "
                                      "exit 0 if all match, 1 if the store predates checksums, 2 if damaged")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("areas", help="list areas of interest and districts; save or delete an area")
    add_output(p)
    p.add_argument("--save", metavar="NAME", help="save an area (shared on this installation) from --districts, "
                                                  "--wards or --boundary")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--districts", nargs="+", metavar="DISTRICT", help="district names or codes (comma-separated)")
    g.add_argument("--wards", nargs="+", metavar="WARD", help="ward codes; the area is the districts they are in")
    g.add_argument("--boundary", metavar="FILE", help="a boundary file (GeoJSON, zipped shapefile, GeoPackage); "
                                                      "the area is the districts it overlaps")
    p.add_argument("--delete", metavar="NAME", help="delete a saved area")
    p.set_defaults(func=cmd_areas)

    p = sub.add_parser("boundaries", help="boundaries of an area of interest")
    p.add_argument("--level", choices=["lad", "ward", "lsoa"], required=True)
    p.add_argument("--area", required=True, metavar="NAME_OR_CODE", help='e.g. "South Midlands", Luton or E06000032')
    add_output(p, ("csv", "geojson"))
    p.set_defaults(func=cmd_boundaries)

    p = sub.add_parser("score", help="priority scores for an area of interest")
    p.add_argument("--profile", required=True, metavar="{neighbourhood,multi-agency,PATH.yaml}")
    p.add_argument("--level", choices=["lsoa", "ward"], help="default: the profile's level")
    p.add_argument("--area", required=True, metavar="NAME_OR_CODE")
    p.add_argument("--sensitivity", type=int, default=DEFAULT_DRAWS, metavar="N",
                   help=f"Monte Carlo draws of the weights for the robust flag (default {DEFAULT_DRAWS}; 0 = skip)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed for the draws (results are reproducible)")
    p.add_argument("--access-sites", metavar="FILE", help="add minutes to the nearest of these sites (or 'sample') "
                                                         "to the profile as an indicator")
    p.add_argument("--access-mode", choices=["walk", "cycle", "car", "bus"], default="bus")
    p.add_argument("--access-weight", type=float, default=1.0, metavar="W", help="weight of the access indicator")
    p.add_argument("--user-indicator", action="append", metavar="ID[:WEIGHT]",
                   help="add a saved user indicator (cli.py indicators --user FILE --id ID ...) to the profile with "
                        "this weight (default 1); repeat for several")
    p.add_argument("--neighbourhoods", action="store_true", help="print the priority neighbourhoods (touching "
                   "priority areas joined, with Gi* hot spots) instead of the areas")
    add_output(p)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("access", help="minutes from every LSOA or ward to employment sites, jobs within reach")
    p.add_argument("--sites", required=True, metavar="FILE",
                   help="sites .csv or .geojson (name + longitude/latitude, easting/northing or postcode), or 'sample'")
    p.add_argument("--mode", type=modes, metavar="{walk,cycle,car,bus}",
                   help="travel mode, or several separated by commas (e.g. bus,walk); with --engine gtfs, bus")
    p.add_argument("--engine", choices=list(ENGINES), default=None,
                   help="default: $WARDSCOPE_TRAVEL_ENGINE, else estimate")
    p.add_argument("--network", metavar="FILE.osm.pbf",
                   help="OpenStreetMap extract covering the area (network engine; gtfs engine: walk on it)")
    p.add_argument("--gtfs", metavar="FEED.zip", help="GTFS timetable feed covering the area (gtfs engine, --mode bus)")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="gtfs engine: day of travel (default: the feed's first Tuesday)")
    p.add_argument("--depart", metavar="HH:MM-HH:MM", help="gtfs engine: departure window, one a minute (default 07:00-09:00)")
    p.add_argument("--level", choices=["lsoa", "ward"], default="lsoa")
    p.add_argument("--area", required=True, metavar="NAME_OR_CODE", help='e.g. "South Midlands", Luton or E06000032')
    add_output(p)
    p.set_defaults(func=cmd_access)

    p = sub.add_parser("check", help="check a file through the upload gate (type, size, encoding, CRS, geometry)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--kinds", metavar="K1,K2", help="accept only these kinds (csv, geojson, zip-shapefile, gpkg, yaml, gtfs)")
    p.add_argument("--assume-crs", type=int, choices=[27700, 4326], help="CRS of a layer that does not say (e.g. no .prj)")
    p.add_argument("--repair", action="store_true", help="repair invalid geometries instead of refusing them")
    p.add_argument("--layer", help="GeoPackage layer to read")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("indicators", help="list indicators, or print indicator values for an area of interest")
    p.add_argument("--list", action="store_true", help="one line per indicator: id, label, levels, period, source, installed")
    p.add_argument("--level", choices=["lsoa", "lsoa11", "ward", "lad"])
    p.add_argument("--area", metavar="NAME_OR_CODE", help='e.g. Worcestershire, Luton or E06000032')
    p.add_argument("--ids", metavar="ID,ID,...", help="indicator ids (default: every indicator installed at the level)")
    p.add_argument("--period", type=int, metavar="YEAR", help="first year of the period of district figures from ONS "
                   "Explore Local Statistics, e.g. 2023 (--level lad only; default: each indicator's latest)")
    g = p.add_argument_group("your own indicator", "save a CSV keyed by GSS codes (LSOA 2021 or 2011, ward 2024 or "
                             "district) as an indicator; bad rows are listed and left out")
    g.add_argument("--user", metavar="FILE.csv", help="the CSV to save (a 'code' column and the figure's column)")
    g.add_argument("--id", help="its id (snake_case, e.g. hub_visits)")
    g.add_argument("--label", help="its label, as people read it")
    g.add_argument("--kind", choices=["count", "rate", "score"],
                   help="count (adds up), rate (a count over --denominator) or score (kept at its level); "
                        "default: rate with numerator/denominator columns, else score")
    g.add_argument("--value", metavar="COLUMN", help="the figure's column (a rate's numerator); default value/numerator")
    g.add_argument("--denominator", metavar="COLUMN", help="a rate's denominator column (default denominator)")
    g.add_argument("--direction", choices=["higher-is-worse", "higher-is-better", "context"], default="higher-is-worse",
                   help="does a higher figure mean more need (higher-is-worse, the default)?")
    g.add_argument("--unit", help="unit shown (default: %% for a rate, count, value)")
    g.add_argument("--caveat", help="what people should know about the figures")
    g.add_argument("--dry-run", action="store_true", help="check and list row problems; save nothing")
    add_output(p)
    p.set_defaults(func=cmd_indicators)

    p = sub.add_parser("export", help="export priority areas for QGIS, ArcGIS or Excel (gpkg, shp, geojson, csv)")
    p.add_argument("--profile", required=True, metavar="{neighbourhood,multi-agency,PATH.yaml}")
    p.add_argument("--level", choices=["lsoa", "ward"], help="default: the profile's level")
    p.add_argument("--area", required=True, metavar="NAME_OR_CODE")
    p.add_argument("--select", required=True, metavar="SPEC",
                   help="comma-separated filters, all must hold: top:N, band:NAME (repeat for several, e.g. "
                        "'band:top 10%%,band:top 20%%' for the top fifth), robust, codes:FILE, threshold:COLUMN>=X, or all")
    p.add_argument("--dissolve", action="store_true", help="merge touching selected areas into priority neighbourhoods")
    p.add_argument("--format", choices=list(FORMATS), required=True)
    p.add_argument("--out", required=True, metavar="PATH")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")
    p.add_argument("--raw-names", action="store_true",
                   help="name gpkg, geojson and csv fields by their column names (code, lad_code, score) for "
                        "scripts, not by their labels ('Ward code (GSS)'); methodology.json maps one to the other")
    p.add_argument("--provenance", metavar="PATH", help="also write how the areas were scored (sources, method, "
                                                          "parameters, seed, versions) as JSON")
    p.add_argument("--sensitivity", type=int, default=DEFAULT_DRAWS, metavar="N",
                   help=f"weight draws for the robust flag (default {DEFAULT_DRAWS})")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("hubs", help="coverage of priority areas by hubs; best places for new hubs (MCLP, p-median, LSCP)")
    demand = p.add_mutually_exclusive_group(required=True)
    demand.add_argument("--demand", metavar="PROFILE", help="priority areas from a scoring profile (neighbourhood, "
                        "multi-agency or PATH.yaml); needs the indicator layers")
    demand.add_argument("--demand-file", metavar="CSV", help="demand table: code (LSOA 2021), weight (people), "
                        "priority (true/false or a band); optional x,y (BNG metres)")
    p.add_argument("--weight", choices=["population", "inactive", "claimants"], default="population",
                   help="with --demand: weight areas by residents, economically inactive residents 16+ or claimants")
    p.add_argument("--band", metavar="BAND", action="append", help="a band that counts as priority, e.g. 'top 10%%'; "
                   "repeat for several (default: top 10%%, top 20%% and threshold 'priority')")
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
    p.add_argument("--capacity", action="store_true", help="with mclp: each hub serves at most its capacity (the "
                   "sites files' capacity column, people; blank = no limit); reports demand served, unmet and full hubs")
    p.add_argument("--time-limit", type=float, default=60.0, metavar="SECONDS", help="solver time limit per solve (default 60)")
    p.add_argument("--engine", choices=[e for e in ENGINES if e != "gtfs"], default=None,  # timetables: access only
                   help="default: $WARDSCOPE_TRAVEL_ENGINE, else estimate")
    p.add_argument("--network", metavar="FILE.osm.pbf", help="OpenStreetMap extract covering the area (network engine)")
    p.add_argument("--table", choices=["districts", "areas", "sites", "marginal", "curve"],
                   help="CSV table to print (default: districts for coverage, sites for a model)")
    add_output(p, help="json prints every table and the figures")
    p.set_defaults(func=cmd_hubs)

    for name, alias in (("profile", False), ("ward-profile", True)):
        p = sub.add_parser(name, help=("the same as profile (kept for old scripts)" if alias else
                                       "a ward's profile for councillors (PDF, HTML or JSON), or with --area and "
                                       "--out PACK.zip every ward of the area (one PDF each and a contents page)"))
        p.add_argument("--area", required=alias, metavar="NAME_OR_CODE",
                       help="the area of interest the ward is also compared with (default: the ward's district)")
        p.add_argument("--ward", required=alias, metavar="CODE_OR_NAME",
                       help="ward (2024) GSS code, e.g. E05014737, or name, e.g. Biscot; leave out for a pack")
        p.add_argument("--profile", action="append", metavar="{neighbourhood,multi-agency,PATH.yaml}",
                       help="profiles to report, in order; repeat for several (default: both shipped profiles)")
        p.add_argument("--sensitivity", type=int, default=DEFAULT_DRAWS, metavar="N",
                       help=f"weight draws for the robust flag (default {DEFAULT_DRAWS})")
        add_output(p, ("pdf", "html", "json"))
        p.set_defaults(func=cmd_ward_profile)

    p = sub.add_parser("dashboard", help="district dashboard: labour-market figures for each district of an area, "
                                         "the area and England, against England, with distance to 80%% employment")
    p.add_argument("--area", required=True, metavar="NAME_OR_CODE", help='e.g. "South Midlands", Luton or E06000032')
    p.add_argument("--period", type=int, metavar="YEAR", help="first year of the period, e.g. 2023 (default: each "
                                                             "indicator's latest)")
    p.add_argument("--ids", metavar="ID,ID,...", help="indicators (default: every labour-market indicator installed)")
    p.add_argument("--chart", metavar="ID", help="with --format png: the indicator to draw over time")
    add_output(p, ("csv", "xlsx", "html", "png"), help="csv: one row per figure; xlsx: readable table, figures, "
                                                      "distance to 80%%, trends and notes; html: page with charts")
    p.set_defaults(func=cmd_dashboard)

    p = sub.add_parser("serve", help="run the app (as `streamlit run app.py`) with the store and England's tables "
                                     "loaded in the background at start, so the first visitor does not wait for them")
    p.add_argument("--port", type=int, help="port to listen on (default Streamlit's, 8501)")
    p.add_argument("--address", help="address to listen on (default: every interface, as Streamlit)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("bench", help="run the benchmarks; prints `name value unit` and writes bench/results.json")
    p.add_argument("only", nargs="*", help="run only benchmarks whose name starts with these")
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "out", None) and args.command != "export":  # refuse a bad --out before any work
            from geo.outputs import check_output

            check_output(Path(args.out))
        return args.func(args)
    except WardscopeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was changed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
