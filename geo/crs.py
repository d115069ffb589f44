"""Coordinate reference systems.

Wardscope stores and analyses geometry in British National Grid
(EPSG:27700, metres) and converts to WGS84 longitude/latitude (EPSG:4326)
only for web maps and GeoJSON. A layer with no CRS, or a CRS other than
those two, is refused rather than guessed.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
from pyproj import CRS, Transformer

from geo.errors import CRSError

BNG = CRS.from_epsg(27700)
WGS84 = CRS.from_epsg(4326)

#: Generous lon/lat envelope of Great Britain and its islands (degrees).
GB_LONLAT_BOUNDS = (-9.0, 49.0, 2.5, 61.5)
#: British National Grid extent (metres).
BNG_BOUNDS = (-100_000.0, -100_000.0, 800_000.0, 1_400_000.0)


def _within(bounds, box) -> bool:
    minx, miny, maxx, maxy = bounds
    bx0, by0, bx1, by1 = box
    return minx >= bx0 and miny >= by0 and maxx <= bx1 and maxy <= by1


def to_bng(gdf: gpd.GeoDataFrame, *, source: str) -> gpd.GeoDataFrame:
    """Return ``gdf`` in EPSG:27700, checking that its declared CRS is plausible.

    Accepts EPSG:4326 (checked to lie in Great Britain) or EPSG:27700. Raises
    :class:`CRSError` naming ``source`` for a missing CRS, any other CRS, or
    coordinates that do not match the declared CRS (metres declared as degrees,
    e.g. in a GeoJSON, or degrees declared as British National Grid metres).
    """
    if gdf.crs is None:
        raise CRSError(f"{source}: has no coordinate reference system; expected EPSG:4326 or EPSG:27700")
    crs = CRS.from_user_input(gdf.crs)
    bounds = tuple(gdf.total_bounds) if len(gdf) else None
    if crs.equals(WGS84) or crs.to_epsg() == 4326:
        if bounds is not None and not _within(bounds, GB_LONLAT_BOUNDS):
            if _within(bounds, BNG_BOUNDS):
                raise CRSError(
                    f"{source}: coordinates look like British National Grid metres "
                    f"but the file declares longitude/latitude (EPSG:4326); add the CRS to the file"
                )
            raise CRSError(f"{source}: coordinates {bounds} are outside Great Britain")
        return gdf.to_crs(BNG)
    if crs.equals(BNG) or crs.to_epsg() == 27700:
        # the mirror of the check above: degrees fit the grid's extent, but only at its origin, out at sea
        # south-west of the Isles of Scilly, where no British data lies
        if bounds is not None and _within(bounds, GB_LONLAT_BOUNDS):
            raise CRSError(
                f"{source}: coordinates look like longitude/latitude, not British National Grid metres; "
                f"the file declares EPSG:27700: set its coordinate system to WGS84 (EPSG:4326) and export it again"
            )
        if bounds is not None and not _within(bounds, BNG_BOUNDS):
            raise CRSError(f"{source}: coordinates {bounds} are outside the British National Grid")
        return gdf.set_crs(BNG, allow_override=True)
    raise CRSError(
        f"{source}: unexpected coordinate reference system {crs.name} "
        f"(EPSG:{crs.to_epsg()}); expected EPSG:4326 or EPSG:27700"
    )


def require_bng(gdf: gpd.GeoDataFrame, *, what: str) -> None:
    """Raise :class:`CRSError` unless ``gdf`` is in EPSG:27700 (no silent reprojection)."""
    if gdf.crs is None or CRS.from_user_input(gdf.crs).to_epsg() != 27700:
        raise CRSError(f"{what} must be in British National Grid (EPSG:27700), got {gdf.crs}")


#: PROJ sets itself up again in each new thread (about 40 ms), and Streamlit runs every page in a new
#: thread: conversions to EPSG:4326 run on these two long-lived threads instead (two, so a small
#: conversion does not wait long behind a big one from another session).
_PROJ_THREAD_NAME = "wardscope-proj"
_PROJ_THREAD = ThreadPoolExecutor(max_workers=2, thread_name_prefix=_PROJ_THREAD_NAME)
_TO_LONLAT = threading.local()  # one Transformer per PROJ thread


def _on_proj_thread(fn, *args):
    if threading.current_thread().name.startswith(_PROJ_THREAD_NAME):
        return fn(*args)
    return _PROJ_THREAD.submit(fn, *args).result()


def to_web(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy in EPSG:4326 for web maps and GeoJSON."""
    require_bng(gdf, what="layer")
    return _on_proj_thread(gdf.to_crs, WGS84)


def _lonlat(x, y):
    if not hasattr(_TO_LONLAT, "transformer"):
        _TO_LONLAT.transformer = Transformer.from_crs(BNG, WGS84, always_xy=True)
    return _TO_LONLAT.transformer.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))


def bng_to_lonlat(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes and latitudes (EPSG:4326, degrees) of points given as EPSG:27700 eastings and northings (metres)."""
    return _on_proj_thread(_lonlat, x, y)
