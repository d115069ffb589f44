"""Minutes from every LSOA or ward to employment sites (``cli.py access``; the Transport access page).

Geometry EPSG:27700; minutes at full precision (exports keep it); the pages round to whole minutes when they
show them (:mod:`layers.access_view`).
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.areas import Area
from geo.config import travel_engine
from geo.errors import WardscopeError
from layers.access import GAP_MODES, access_layer
from layers.provenance import dataset_sources
from tasks.inputs import SitesInput
from tasks.result import Provenance, Result, versions

#: Said of every estimate, wherever access figures are shown.
ESTIMATE_NOTE = ("times are estimates: straight-line distance x circuity at mode speeds plus access, wait and parking "
                 "allowances (see README: Transport access)")


@dataclass(frozen=True)
class AccessRequest:
    area: Area
    sites: SitesInput
    modes: tuple[str, ...] = ("bus",)
    level: str = "lsoa"                         # lsoa or ward
    engine: str | None = None                   # None: $WARDSCOPE_TRAVEL_ENGINE, else estimate
    network: str | None = None                  # OpenStreetMap extract (.osm.pbf): network engine; gtfs engine walks
    params: tuple[tuple[str, float], ...] = ()  # engine parameters the user changed (name, value)
    gtfs: str | None = None                     # GTFS zip for the gtfs engine (sent through the upload gate)
    date: str | None = None                     # gtfs: service day YYYY-MM-DD (None: the engine's default)
    depart: str | None = None                   # gtfs: departure window, e.g. 07:00-09:00


def with_gap_modes(mode: str) -> tuple[str, ...]:
    """``mode`` and the access gap's modes (bus, walk), each once: what the Transport access page computes."""
    return tuple(dict.fromkeys((mode, *GAP_MODES)))


def check_engine(engine: str | None, network: str | None, gtfs: str | None = None, date: str | None = None,
                 depart: str | None = None) -> str:
    """The engine to use, and its files checked: the network engine needs ``network`` (a .osm.pbf), the gtfs
    engine ``gtfs`` (a GTFS zip) with optional ``date`` (YYYY-MM-DD), ``depart`` (07:00-09:00) and ``network``
    (walks on it); other engines refuse them rather than ignore them."""
    engine = (engine or travel_engine()).lower()
    if engine == "network" and not network:
        raise WardscopeError("the network engine needs --network FILE.osm.pbf (an OpenStreetMap extract of the area)")
    if engine not in ("network", "gtfs") and network:
        raise WardscopeError(f"--network is only used by the network and gtfs engines (this run uses {engine}); "
                             f"add --engine network")
    if engine == "gtfs" and not gtfs:
        raise WardscopeError("the gtfs engine needs --gtfs FEED.zip (a GTFS timetable covering the area, e.g. the "
                             "Bus Open Data Service's feed for the region)")
    if engine != "gtfs" and (gtfs or date or depart):
        raise WardscopeError(f"--gtfs, --date and --depart are only used by the gtfs engine (this run uses {engine}); "
                             f"add --engine gtfs")
    return engine


def run(request: AccessRequest, store) -> Result:
    """The access layer (see :mod:`layers.access` for its columns), keyed by ``code``."""
    engine = check_engine(request.engine, request.network, request.gtfs, request.date, request.depart)
    layer_sites = request.sites.layer()
    params = {"network": request.network} if request.network else {}
    if request.gtfs:  # the engine sends the file through the upload gate
        params.update(gtfs=request.gtfs, date=request.date, depart=request.depart)
    params.update(dict(request.params))
    frame = access_layer(request.area, layer_sites, request.modes, level=request.level, engine=engine, store=store,
                         **params)
    if engine == "estimate":
        frame.attrs["notes"] = list(frame.attrs.get("notes", [])) + [ESTIMATE_NOTE]
    provenance = Provenance(
        "access", f"{engine} engine: minutes from LSOA 2021 population-weighted centroids to the nearest site"
                  + ("; wards: population-weighted means of their LSOAs" if request.level == "ward" else ""),
        {"area_of_interest": {"name": request.area.name, "lad_codes": list(request.area.lad_codes)},
         "level": request.level, "modes": list(request.modes), "engine": engine, "network": request.network,
         **({"gtfs": request.gtfs, "date": request.date, "depart": request.depart} if request.gtfs else {}),
         "parameters": dict(request.params), "sites": {"source": request.sites.source, "count": len(layer_sites)}},
        tuple(dataset_sources(store, ("lsoa21_centroids", "lsoa21_ward24_lad24"))), versions=versions(store))
    return Result(frame, provenance, tuple(frame.attrs["notes"]))
