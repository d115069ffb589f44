"""Reading the road network of a local OpenStreetMap ``.osm.pbf`` extract with pyosmium.

Only ways tagged ``highway`` are read. Node locations come from the file
(pyosmium's location cache) and are projected to British National Grid
(EPSG:27700, metres). Nothing is downloaded.

The result, :class:`OsmWays`, is mode-neutral: segments between consecutive
way nodes plus per-way attributes (highway type, parsed ``maxspeed`` in km/h,
one-way direction for vehicles and bicycles, access for walking, cycling and
driving). :mod:`geo.travel.network` turns it into a graph per mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pyproj import Transformer

from geo.errors import SourceFileError

#: 1 mph in km/h.
MPH_KMH = 1.609344
#: UK national speed limits (The Highway Code, rule 124), km/h, for implicit ``maxspeed`` values.
IMPLICIT_MAXSPEED_KMH = {
    "gb:nsl_single": 60 * MPH_KMH, "gb:nsl_dual": 70 * MPH_KMH, "gb:motorway": 70 * MPH_KMH,
    "uk:nsl_single": 60 * MPH_KMH, "uk:nsl_dual": 70 * MPH_KMH, "uk:motorway": 70 * MPH_KMH,
    "national": 60 * MPH_KMH, "gb:zone20": 20 * MPH_KMH, "gb:zone30": 30 * MPH_KMH,
    "walk": 5.0, "none": 70 * MPH_KMH,
}
#: Highway types read at all (others, e.g. proposed, construction, platform, raceway, are ignored).
ROAD_TYPES = {
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "secondary", "secondary_link",
    "tertiary", "tertiary_link", "unclassified", "residential", "living_street", "service", "road", "track",
    "pedestrian", "footway", "path", "cycleway", "bridleway", "steps", "corridor",
}
#: Types cars may use (when access allows).
CAR_TYPES = {"motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "secondary",
             "secondary_link", "tertiary", "tertiary_link", "unclassified", "residential", "living_street",
             "service", "road"}
#: Types walkers may not use unless ``foot=yes``.
NO_WALK_TYPES = {"motorway", "motorway_link"}
#: Types cyclists ride on (others walkable are used at walking pace, as the DfT journey time statistics
#: let cycle journeys use footpaths at walking pace).
CYCLE_TYPES = CAR_TYPES - {"motorway", "motorway_link"} | {"cycleway", "track", "bridleway", "path"}
_NO = {"no", "private"}
_YES = {"yes", "designated", "permissive", "destination", "official"}


@dataclass
class OsmWays:
    """Highway ways of one extract; node coordinates in EPSG:27700 metres."""

    path: Path
    node_ids: np.ndarray          # int64, sorted unique OSM ids of nodes used by highway ways
    x: np.ndarray                 # BNG easting of each node (metres)
    y: np.ndarray                 # BNG northing of each node (metres)
    seg_u: np.ndarray             # node index of each segment's first node
    seg_v: np.ndarray             # node index of each segment's second node
    seg_way: np.ndarray           # way index of each segment
    highway: np.ndarray           # per way: highway type (str)
    maxspeed_kmh: np.ndarray      # per way: tagged maxspeed (km/h), NaN when absent or unreadable
    oneway_vehicle: np.ndarray    # per way: 1 forward only, -1 backward only, 0 both
    oneway_bicycle: np.ndarray    # per way: as above, for bicycles
    walk_ok: np.ndarray           # per way: bool
    cycle_ok: np.ndarray          # per way: bool (riding or pushing)
    car_ok: np.ndarray            # per way: bool
    missing_nodes: int = 0        # way nodes without a location in the file (clipped extract)
    stats: dict = field(default_factory=dict)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min x, min y, max x, max y) of the network's nodes, BNG metres."""
        return float(self.x.min()), float(self.y.min()), float(self.x.max()), float(self.y.max())


def parse_maxspeed(text: str | None) -> float:
    """``maxspeed`` in km/h: "30 mph" -> 48.3, "50" -> 50 (km/h is OSM's default unit), "GB:nsl_single" -> 96.6.

    Returns NaN for a missing or unreadable value (a variable or conditional limit, "signals").
    """
    if not text:
        return np.nan
    value = text.strip().lower()
    if value in IMPLICIT_MAXSPEED_KMH:
        return IMPLICIT_MAXSPEED_KMH[value]
    first = value.split(";")[0].strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?", first)
    if not match:
        return np.nan
    number = float(match.group(1))
    return number * MPH_KMH if match.group(2) == "mph" else number


def _oneway(tags, highway: str, prefix: str = "oneway") -> int:
    value = (tags.get(prefix) or "").lower()
    if value in ("yes", "true", "1"):
        return 1
    if value in ("-1", "reverse"):
        return -1
    if value == "no":
        return 0
    if tags.get("junction") in ("roundabout", "circular") or highway in ("motorway", "motorway_link"):
        return 1
    return 0


def _access(tags, *keys: str) -> str | None:
    """The most specific access value among ``keys`` (listed most specific first)."""
    for key in keys:
        value = tags.get(key)
        if value:
            return value.lower()
    return None


def _way_attributes(tags, highway: str) -> tuple:
    generic = _access(tags, "access")
    foot = _access(tags, "foot")
    walk_ok = highway not in NO_WALK_TYPES or foot in _YES
    if foot in _NO or (foot is None and generic in _NO):
        walk_ok = False
    bike = _access(tags, "bicycle", "vehicle")
    cycle_ok = walk_ok or highway in CYCLE_TYPES
    if highway in ("motorway", "motorway_link") and bike not in _YES:
        cycle_ok = False
    if bike in _NO or (bike is None and generic in _NO):
        cycle_ok = False
    car = _access(tags, "motorcar", "motor_vehicle", "vehicle")
    car_ok = highway in CAR_TYPES
    if car in _NO or (car is None and generic in _NO):
        car_ok = False
    one_vehicle = _oneway(tags, highway)
    one_bike = one_vehicle
    bike_oneway = (tags.get("oneway:bicycle") or "").lower()
    cycleway = " ".join((tags.get(k) or "") for k in ("cycleway", "cycleway:left", "cycleway:right", "cycleway:both"))
    if bike_oneway == "no" or "opposite" in cycleway:
        one_bike = 0
    elif bike_oneway in ("yes", "1", "true"):
        one_bike = 1
    return parse_maxspeed(tags.get("maxspeed")), one_vehicle, one_bike, walk_ok, cycle_ok, car_ok


def read_osm_ways(path: Path) -> OsmWays:
    """Read every highway way of a ``.osm.pbf`` (or .osm/.opl) file.

    Raises :class:`SourceFileError` naming the file when it is missing, unreadable or has no roads.
    Node coordinates are converted from WGS84 to EPSG:27700. Ways whose nodes are missing from the
    file (the edge of a clipped extract) keep their located parts; the count is in ``missing_nodes``.
    """
    import osmium

    path = Path(path)
    if not path.is_file():
        raise SourceFileError(f"{path}: network file not found")
    refs: list[int] = []
    xs: list[int] = []
    ys: list[int] = []
    way_of: list[int] = []
    starts: list[int] = []
    attrs: list[tuple] = []
    highways: list[str] = []
    try:
        processor = (osmium.FileProcessor(str(path)).with_locations()
                     .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
                     .with_filter(osmium.filter.KeyFilter("highway")))
        for way in processor:
            tags = way.tags
            highway = tags.get("highway")
            if highway not in ROAD_TYPES or (tags.get("area") == "yes" and highway != "pedestrian"):
                continue
            w = len(highways)
            highways.append(highway)
            attrs.append(_way_attributes(tags, highway))
            starts.append(len(refs))
            for node in way.nodes:
                refs.append(node.ref)
                xs.append(node.x)
                ys.append(node.y)
            way_of.extend([w] * (len(refs) - starts[-1]))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceFileError(f"{path}: cannot read as an OpenStreetMap file ({first})") from None
    if not highways:
        raise SourceFileError(f"{path}: contains no roads or paths (no ways tagged highway)")
    refs_a = np.asarray(refs, dtype=np.int64)
    fx = np.asarray(xs, dtype=np.int64)
    fy = np.asarray(ys, dtype=np.int64)
    way_a = np.asarray(way_of, dtype=np.int64)
    located = (fx != 2147483647) & (fy != 2147483647)
    # Segments join consecutive located nodes of the same way.
    same_way = way_a[1:] == way_a[:-1]
    seg = np.flatnonzero(same_way & located[1:] & located[:-1])
    node_ids, first, inverse = np.unique(refs_a[located], return_index=True, return_inverse=True)
    position = np.full(len(refs_a), -1, dtype=np.int64)
    position[np.flatnonzero(located)] = inverse
    lon = fx[located][first] / 1e7
    lat = fy[located][first] / 1e7
    x, y = Transformer.from_crs(4326, 27700, always_xy=True).transform(lon, lat)
    cols = list(zip(*attrs))
    return OsmWays(
        path=path, node_ids=node_ids, x=np.asarray(x), y=np.asarray(y),
        seg_u=position[seg], seg_v=position[seg + 1], seg_way=way_a[seg],
        highway=np.asarray(highways, dtype=object), maxspeed_kmh=np.asarray(cols[0], dtype=float),
        oneway_vehicle=np.asarray(cols[1], dtype=np.int8), oneway_bicycle=np.asarray(cols[2], dtype=np.int8),
        walk_ok=np.asarray(cols[3], dtype=bool), cycle_ok=np.asarray(cols[4], dtype=bool),
        car_ok=np.asarray(cols[5], dtype=bool), missing_nodes=int((~located).sum()),
        stats={"ways": len(highways), "nodes": len(node_ids), "segments": int(len(seg))},
    )
