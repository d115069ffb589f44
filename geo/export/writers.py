"""One writer per format. Each writes complete files to the (temporary) paths it is given.

Atomicity, overwrite checks and file naming live in :mod:`geo.export.core`;
the writers only turn prepared layers into bytes on disk. Input layers are
in EPSG:27700; only the GeoJSON writer reprojects (to EPSG:4326).

* GeoPackage: one file, EPSG:27700, GeoPackage 1.2 (read by GDAL >= 2.2,
  QGIS 3 and ArcGIS Pro without warnings). Layers: ``areas`` (or the
  neighbourhoods), the extra point layers, and three non-spatial tables
  registered as ``attributes`` in gpkg_contents: ``metadata`` (key/value,
  the last row the whole methodology JSON), ``fields`` (name, label, unit)
  and, after a dissolve, ``members``.
* Shapefile zip: ``areas.shp/.shx/.dbf/.prj/.cpg`` (+ one shapefile per
  extra layer), ``fields.csv``, ``README.txt``, ``methodology.json`` and,
  after a dissolve, ``members.csv``. Text is UTF-8 (``.cpg``), the ``.prj``
  is the ESRI WKT of British National Grid, true/false is written as 1/0
  (ArcGIS reads dBASE logical fields poorly) and text longer than dBASE's
  254 bytes is cut at a list separator and marked ``...``.
* GeoJSON: RFC 7946 (EPSG:4326 longitude/latitude, no ``crs`` member,
  exterior rings counter-clockwise), coordinates on a 1e-6 degree grid.
* CSV: attributes only, see :mod:`geo.csvsafe`.

Field names: a layer's ``short`` maps each full column name to the name
written in the file: 10-character names for the shapefile
(:func:`shapefile_layers`), readable labels for GeoPackage, GeoJSON and CSV
(:func:`labelled_layers`), or nothing (full names, ``raw_names=True``).
Values are written at full precision whatever the names.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo import csvsafe
from geo.crs import WGS84, require_bng
from geo.export.columns import ColumnSpec, as_spec, field_names, header
from geo.export.fieldnames import short_names

#: GeoJSON decimal places: 6 places of a degree is about 0.1 m in England. The
#: boundaries are generalised to about 200 m and the 27700 -> 4326 transform
#: without the OSTN15 grid is good to a few metres, so more digits would be noise;
#: fewer (5 places, about 1 m) would start to move shared boundaries apart.
GEOJSON_DECIMALS = 6
GEOJSON_GRID_DEG = 10.0 ** -GEOJSON_DECIMALS
#: GeoPackage version written (1.2 opens without warnings in GDAL 3.x, QGIS 3 and ArcGIS Pro).
GPKG_VERSION = "1.2"
#: dBASE text fields hold at most this many bytes.
DBF_TEXT_BYTES = 254
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed member dates: same export, same zip bytes


@dataclass
class Layer:
    """One layer to write: a (Geo)DataFrame whose columns are ``specs`` in order (full names)."""

    name: str
    frame: pd.DataFrame
    specs: list[ColumnSpec]
    description: str = ""
    #: full name -> the name written in the file (shapefile short name or readable label); empty: full names
    short: dict[str, str] = field(default_factory=dict)

    @property
    def spatial(self) -> bool:
        return isinstance(self.frame, gpd.GeoDataFrame)


def _write(frame, path: Path, **kwargs) -> None:
    """Write one layer with pyogrio (Arrow path for geometry layers: several times faster).

    Polygon layers are written as MultiPolygon so a layer never mixes the
    two (some GIS refuse to edit such layers); points stay points.
    """
    spatial = isinstance(frame, gpd.GeoDataFrame)
    if spatial and len(frame) and frame.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        kwargs["promote_to_multi"] = True
    pyogrio.write_dataframe(frame, path, use_arrow=spatial, **kwargs)


def fields_table(layers: Sequence[Layer], written: str = "short_name") -> pd.DataFrame:
    """One row per field of every layer: layer, ``written`` (the name in the file), full_name, label, unit."""
    rows = []
    for layer in layers:
        for spec in layer.specs:
            rows.append({"layer": layer.name, written: layer.short.get(spec.name, spec.name),
                         "full_name": spec.name, "label": spec.label, "unit": spec.unit})
    return pd.DataFrame(rows, columns=["layer", written, "full_name", "label", "unit"])


def labelled_layers(layers: Sequence[Layer]) -> list[Layer]:
    """The layers with readable field names (labels, see :func:`geo.export.columns.field_names`) chosen."""
    return [Layer(layer.name, layer.frame, layer.specs, layer.description, field_names(layer.specs)) for layer in layers]


def _named(frame: pd.DataFrame, layer: Layer) -> pd.DataFrame:
    return frame.rename(columns=layer.short) if layer.short else frame


# -- GeoPackage ----------------------------------------------------------------------

def write_gpkg(path: Path, layers: Sequence[Layer], tables: dict[str, pd.DataFrame]) -> None:
    """Spatial ``layers`` (EPSG:27700) then non-spatial ``tables`` into one GeoPackage at ``path``."""
    first = True
    for layer in layers:
        require_bng(layer.frame, what=f"layer {layer.name!r}")
        options = {"IDENTIFIER": layer.name, "DESCRIPTION": layer.description, "SPATIAL_INDEX": "YES"}
        _write(_named(layer.frame, layer), path, layer=layer.name, driver="GPKG",
               dataset_options={"VERSION": GPKG_VERSION} if first else None, layer_options=options)
        first = False
    for name, table in tables.items():
        _write(table, path, layer=name, driver="GPKG", layer_options={"IDENTIFIER": name, "ASPATIAL_VARIANT": "GPKG_ATTRIBUTES"})


# -- Shapefile zip -------------------------------------------------------------------

def _dbf_text(value: object) -> object:
    if not isinstance(value, str) or len(value.encode("utf-8")) <= DBF_TEXT_BYTES:
        return value
    keep = DBF_TEXT_BYTES - 4
    cut = value.encode("utf-8")[:keep].decode("utf-8", "ignore")
    if "; " in cut:
        cut = cut[: cut.rindex("; ")]
    return cut + " ..."


def dbf_frame(layer: Layer) -> gpd.GeoDataFrame:
    """``layer.frame`` ready for dBASE: short names, true/false as 1/0, text within 254 bytes."""
    frame = layer.frame.copy()
    for spec in layer.specs:
        values = frame[spec.name]
        if pd.api.types.is_bool_dtype(values):
            frame[spec.name] = values.astype("int32")
        elif pd.api.types.is_string_dtype(values) or values.dtype == object:
            frame[spec.name] = values.map(_dbf_text, na_action="ignore")
    return frame.rename(columns=layer.short)


def shapefile_layers(layers: Sequence[Layer]) -> list[Layer]:
    """The layers with their short field names chosen and bool units noted."""
    out = []
    for layer in layers:
        short = short_names([s.name for s in layer.specs], {s.name: s.short for s in layer.specs if s.short})
        specs = [s if not pd.api.types.is_bool_dtype(layer.frame[s.name]) else
                 ColumnSpec(s.name, s.label, (s.unit + "; " if s.unit else "") + "1 = yes, 0 = no", s.short, s.dissolve)
                 for s in layer.specs]
        out.append(Layer(layer.name, layer.frame, specs, layer.description, short))
    return out


def write_shapefile_zip(path: Path, layers: Sequence[Layer], extras: dict[str, bytes], workdir: Path) -> None:
    """A zip at ``path``: one shapefile per layer (EPSG:27700, UTF-8), then ``extras`` (name -> bytes).

    ``layers`` must come from :func:`shapefile_layers`. ``workdir`` is an
    empty directory for the shapefile parts (removed by the caller).
    """
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for layer in layers:
            require_bng(layer.frame, what=f"layer {layer.name!r}")
            target = workdir / f"{layer.name}.shp"
            _write(dbf_frame(layer), target, driver="ESRI Shapefile", encoding="UTF-8")
            for suffix in SHAPEFILE_PARTS:
                part = target.with_suffix(suffix)
                if not part.is_file():
                    raise OSError(f"GDAL did not write {part.name}")
                add_to_zip(archive, part.name, part.read_bytes())
        for name, data in extras.items():
            add_to_zip(archive, name, data)


def add_to_zip(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    """Add ``data`` as ``name`` with a fixed date, so the same export gives the same zip entries."""
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


# -- GeoJSON and CSV -----------------------------------------------------------------

def to_wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """EPSG:27700 -> EPSG:4326 with coordinates snapped to the 1e-6 degree grid, keeping geometries valid."""
    require_bng(frame, what="layer")
    web = frame.to_crs(WGS84)
    geoms = shapely.transform(web.geometry.to_numpy(), lambda xy: np.round(xy, GEOJSON_DECIMALS))
    broken = ~shapely.is_valid(geoms)
    if broken.any():  # rounding pinched a ring: snap those to the grid keeping them valid (slower, so only these)
        original = web.geometry.to_numpy()[broken]
        snapped = shapely.set_precision(original, GEOJSON_GRID_DEG)
        # a shape thinner than the grid would vanish; keep it unrounded rather than lose the area
        geoms[broken] = np.where(shapely.is_empty(snapped), original, snapped)
    return web.set_geometry(gpd.GeoSeries(geoms, index=web.index, crs=WGS84))


def write_geojson(path: Path, layer: Layer) -> None:
    """RFC 7946 GeoJSON of one layer (EPSG:4326, :data:`GEOJSON_DECIMALS` places)."""
    _write(_named(to_wgs84(layer.frame), layer), path, driver="GeoJSON", layer=layer.name,
           layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": str(GEOJSON_DECIMALS), "WRITE_BBOX": "YES"})


def csv_frame(layer: Layer) -> pd.DataFrame:
    """Attributes of a layer for CSV, named as the layer says; point layers get easting/northing (EPSG:27700 metres)."""
    frame = pd.DataFrame(layer.frame[[s.name for s in layer.specs]])
    if layer.spatial and len(layer.frame) and (layer.frame.geom_type == "Point").all():
        for axis, values in (("easting", layer.frame.geometry.x), ("northing", layer.frame.geometry.y)):
            name = header(as_spec(axis)) if layer.short else axis
            if name in frame.columns or name in layer.short.values():
                continue  # the layer carries its own easting/northing
            frame[name] = values.round(1).to_numpy()
    return _named(frame, layer)


def write_csv(path: Path, layer: Layer) -> None:
    """UTF-8 CSV (BOM, header, formula injection neutralised) of one layer's attributes."""
    path.write_bytes(csvsafe.to_csv_bytes(csv_frame(layer)))


def json_bytes(record: dict) -> bytes:
    return (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
