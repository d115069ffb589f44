"""Travel times from places (LSOA centroids) to destinations (employment sites).

Public surface (points in EPSG:27700; minutes out, NaN = unreachable)::

    travel_time_matrix(origins, destinations, mode, engine=None, **params) -> from_id, to_id, minutes
    access_summary(origins, destinations, mode, thresholds_min=(30, 45, 60), weight=None, ...)
    parameter_table(engine) -> documented parameters with units and sources

Engines: ``estimate`` (geo.travel.estimate), ``network`` (geo.travel.network) and ``gtfs``
(geo.travel.gtfs: timetabled public transport from a GTFS feed).
"""

from geo.travel.base import (
    ENGINES,
    MATRIX_COLUMNS,
    MODES,
    THRESHOLDS_MIN,
    EngineUnavailable,
    NoIDColumnError,
    NonUniqueIDError,
    UnknownModeError,
    access_summary,
    check_points,
    parameter_table,
    resolve_engine,
    summarise_minutes,
    travel_time_matrix,
)

__all__ = [
    "ENGINES", "MATRIX_COLUMNS", "MODES", "THRESHOLDS_MIN", "EngineUnavailable", "NoIDColumnError",
    "NonUniqueIDError", "UnknownModeError", "access_summary", "check_points", "parameter_table",
    "resolve_engine", "summarise_minutes", "travel_time_matrix",
]
