"""Priority areas ready to export for QGIS, ArcGIS or Excel (``cli.py export``; every export button).

The result's data is an :class:`ExportLayer`: the scored areas (EPSG:27700),
their columns and the methodology that travels with every file; the front
door writes it to a path (:meth:`ExportLayer.write`) or to bytes for a
download button (:meth:`ExportLayer.file`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import geopandas as gpd

from geo.export import FORMAT_LABELS, export_areas, export_bytes, parse_selection
from geo.export.selection import Selection
from layers.indicators import england_table
from layers.priority_export import export_layer, provenance
from layers.scoring import POPULATION_COLUMNS
from tasks import score
from tasks.result import Provenance, Result

#: Formats every export offers: name -> what a person calls it (every format geo.export writes).
EXPORT_FORMATS = FORMAT_LABELS


@dataclass(frozen=True)
class ExportRequest:
    score: score.ScoreRequest
    selection: str = "all"    # geo.export.selection text, e.g. "top:20,robust"
    dissolve: bool = False    # merge touching selected areas into priority neighbourhoods


@dataclass(frozen=True, eq=False)
class ExportLayer:
    """Areas (EPSG:27700), their columns, the selection and the methodology of one export."""

    areas: gpd.GeoDataFrame
    columns: list
    selection: Selection
    methodology: dict
    stem: str
    dissolve: bool = False
    layers: dict = field(default_factory=dict)

    @property
    def selected(self) -> int:
        """How many areas the selection holds."""
        return len(self.selection.apply(self.areas))

    def write(self, fmt: str, out: str, *, overwrite: bool = False, raw_names: bool = False):
        """Write the export (see :func:`geo.export.export_areas`); returns its :class:`ExportResult`.

        Fields are named by their labels unless ``raw_names`` (full column names, for scripts).
        """
        return export_areas(self.areas, self.columns, self.selection, fmt, out, overwrite=overwrite,
                            dissolve=self.dissolve, provenance=self.methodology, layers=self.layers or None,
                            raw_names=raw_names)

    def file(self, fmt: str):
        """The export in memory for a download button (:func:`geo.export.export_bytes`)."""
        return export_bytes(self.areas, self.columns, self.selection, fmt, stem=self.stem, provenance=self.methodology,
                            dissolve=self.dissolve, layers=self.layers or None)


def stem_for(*parts: str) -> str:
    """A file name stem: ``wardscope_`` and the parts, lower case; anything but letters, digits and ``-`` as one ``_``.

    Area names are user strings ("Luton & Dunstable", "A/B"): no character of theirs reaches a file name.
    """
    text = "_".join(("wardscope", *parts)).lower()
    return re.sub(r"[^a-z0-9-]+", "_", text, flags=re.ASCII).strip("_")


def run(request: ExportRequest, store, scored: score.ScoreResult | None = None) -> Result:
    """The export layer of a score (``scored``, when the caller has it already, else scored here)."""
    selection = parse_selection(request.selection)  # refuse a bad spec before any work
    result = scored or score.run(request.score, store)
    s = result.data
    registry = result.indicators
    ids = [i for i in s.indicators if i not in result.registry] + [c for c in POPULATION_COLUMNS[:1] if c in registry]
    table = england_table(s.level, ids, store)  # the rows of the area are picked by code; shared by every rerun
    if result.access is not None:
        table = table.merge(result.access, on="code", how="left")
    areas, columns = export_layer(s, store, table, registry)
    record = provenance(s, registry, store, sensitivity=result.provenance.draws, seed=result.provenance.seed)
    layer = ExportLayer(areas, columns, selection, record, stem_for(s.profile.id, s.level, s.area.key),
                        dissolve=request.dissolve)
    prov = Provenance("export", result.provenance.method,
                      {**result.provenance.parameters, "selection": selection.text(), "dissolve": request.dissolve},
                      result.provenance.sources, seed=result.provenance.seed, draws=result.provenance.draws,
                      versions=result.provenance.versions)
    return Result(layer, prov, result.notes)
