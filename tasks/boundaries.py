"""Boundaries of an area of interest at one level (``cli.py boundaries``; the app's maps)."""

from __future__ import annotations

from dataclasses import dataclass

from geo.areas import Area
from geo.area_boundaries import area_boundaries
from layers.provenance import dataset_sources
from tasks.result import BOUNDARY_DATASETS, Provenance, Result, versions


@dataclass(frozen=True)
class BoundariesRequest:
    area: Area
    level: str  # lad, ward, lsoa or lsoa11


def run(request: BoundariesRequest, store) -> Result:
    """The areas of ``level`` in the area of interest (EPSG:27700; code, name, lad_code, lad_name first)."""
    gdf = area_boundaries(request.level, request.area, store)
    provenance = Provenance(
        "boundaries", "installed boundaries (generalised for mapping), EPSG:27700",
        {"level": request.level, "area_of_interest": {"name": request.area.name,
                                                      "lad_codes": list(request.area.lad_codes)}},
        tuple(dataset_sources(store, BOUNDARY_DATASETS.get(request.level, ()))), versions=versions(store))
    return Result(gdf, provenance)
