"""Find a place on the map: a ward (name or GSS code), a district, an LSOA code or a postcode.

Plain Python shared by the app's search box and tests. Searches the areas of
one area of interest (its districts); geometry stays EPSG:27700 and bounds are
British National Grid metres (minx, miny, maxx, maxy).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import geopandas as gpd
import shapely

from geo import postcodes

#: GSS code shapes: E05 wards, E01 LSOAs, E06-E09 districts (upper case, no spaces).
GSS_PATTERN = re.compile(r"^[EWSN]\d{8}$")
KIND_LABEL = {"ward": "ward", "lsoa": "LSOA", "lad": "district"}
FOUND, CHOICES, NOT_FOUND = "found", "choices", "not_found"


@dataclass(frozen=True)
class Place:
    """One matching area: GSS ``code``, ``name``, ``kind`` (ward, lsoa, lad), its district and BNG bounds (m)."""

    code: str
    name: str
    kind: str
    lad_name: str
    bounds: tuple[float, float, float, float]
    ward_code: str = ""  # for an LSOA: the ward it is assigned to

    @property
    def label(self) -> str:
        """What a person reads in a list of choices, e.g. ``Biscot (ward, Luton)``."""
        where = "" if self.kind == "lad" else f", {self.lad_name}"
        return f"{self.name} ({KIND_LABEL[self.kind]}{where})"


@dataclass
class PlaceResult:
    """``status`` is found (one place), choices (several, pick one) or not_found; ``message`` says why."""

    status: str
    places: list[Place] = field(default_factory=list)
    message: str = ""
    postcode_point: tuple[float, float] | None = None  # easting, northing (m) when a postcode was found


def _places(gdf: gpd.GeoDataFrame, kind: str) -> list[Place]:
    bounds = shapely.bounds(gdf.geometry.to_numpy())
    wards = gdf["ward_code"] if "ward_code" in gdf else [""] * len(gdf)
    return [Place(str(c), str(n), kind, str(l), tuple(float(x) for x in b), "" if w is None else str(w))
            for c, n, l, b, w in zip(gdf["code"], gdf["name"], gdf["lad_name"], bounds, wards)]


def _fold(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def find_place(query: str, store, area, *, level: str = "ward") -> PlaceResult:
    """Look ``query`` up among the wards, LSOAs and districts of ``area`` (a :class:`geo.areas.Area`).

    A postcode (offline directory, :mod:`geo.postcodes`) gives the ``level``
    area (ward or lsoa) that contains its grid reference. Names match whole
    first (case and punctuation ignored), then as a prefix, then anywhere; an
    exact code always wins. Nothing outside ``area`` is returned.
    """
    text = str(query or "").strip()
    if not text:
        return PlaceResult(NOT_FOUND, message="Type a ward or district name, a GSS or LSOA code, or a postcode.")
    lads = list(area.lad_codes)
    layers = {"ward": store.boundaries("ward", lads), "lsoa": store.boundaries("lsoa", lads),
              "lad": store.boundaries("lad", lads)}
    code = postcodes.normalise(text)
    if GSS_PATTERN.match(code):
        for kind, gdf in layers.items():
            hit = gdf[gdf["code"] == code]
            if len(hit):
                return PlaceResult(FOUND, _places(hit, kind))
        return PlaceResult(NOT_FOUND, message=f"No ward, LSOA or district with code {code} in {area.name}.")
    if postcodes.POSTCODE_PATTERN.match(code):
        got = postcodes.lookup([code]).iloc[0]
        if got["status"] != postcodes.FOUND:
            return PlaceResult(NOT_FOUND, message=postcodes.problem_text(code, got["status"]).capitalize() + ".")
        point = shapely.Point(got["easting"], got["northing"])
        kind = level if level in ("ward", "lsoa") else "ward"
        gdf = layers[kind]
        hit = gdf[gdf.geometry.covers(point)]
        if not len(hit):
            return PlaceResult(NOT_FOUND, message=f"Postcode {postcodes.pretty(code)} is outside {area.name}.")
        return PlaceResult(FOUND, _places(hit.head(1), kind),
                           postcode_point=(float(got["easting"]), float(got["northing"])))
    want = _fold(text)
    for test in (lambda n: n == want, lambda n: n.startswith(want), lambda n: want in n):
        found = []
        for kind in ("lad", "ward"):
            gdf = layers[kind]
            mask = [test(_fold(n)) for n in gdf["name"]]
            found += _places(gdf[mask], kind)
        if len(found) == 1:
            return PlaceResult(FOUND, found)
        if found:
            found.sort(key=lambda p: (p.kind != "lad", p.name, p.lad_name))
            return PlaceResult(CHOICES, found, f"{len(found)} places match {text!r}: pick one.")
    return PlaceResult(NOT_FOUND, message=f"Nothing called {text!r} in {area.name} "
                                          "(try a ward or district name, a GSS or LSOA code, or a postcode).")
