"""Export figures: every English LSOA (~33,700) with 20 columns, as GeoPackage and Shapefile zip.

Targets (issue 8): each at most 10 s. Side by side with a plain
``GeoDataFrame.to_file`` of the same data (no selection, provenance, short
names, zip or atomic rename), as a ratio: the cost of everything the export
adds. Numeric columns are synthesised deterministically from each area's
geometry (the priority score is built elsewhere).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from bench.timing import best_of

#: Attribute columns in the benchmark export (4 identity columns + 16 numbers).
N_COLUMNS = 20


def lsoas_with_columns():
    """All LSOAs (EPSG:27700) with :data:`N_COLUMNS` attribute columns, the same on every run."""
    from geo.store import Store

    gdf = Store().boundaries("lsoa")
    gdf = gdf[["code", "name", "lad_code", "lad_name", "geometry"]].copy()
    area_m2 = gdf.geometry.area.to_numpy()
    gdf["population"] = (1200 + area_m2 % 997).astype("int64")
    gdf["score"] = np.round(1e6 / (area_m2 + 2e5), 6)
    gdf["rank"] = gdf["score"].rank(ascending=False, method="first").astype("int64")
    for i in range(N_COLUMNS - 7):
        gdf[f"indicator_{i + 1:02d}_rate"] = np.round((area_m2 * (i + 3)) % 1000 / 10, 3)
    assert len(gdf.columns) - 1 == N_COLUMNS
    return gdf


def run():
    from geo.export import export_areas

    gdf = lsoas_with_columns()
    columns = [c for c in gdf.columns if c not in ("code", "name", "lad_code", "lad_name", "geometry")]
    provenance = {"profile": {"name": "bench"}, "area_of_interest": "England", "level": "lsoa"}
    yield "export_rows_all_lsoa21", len(gdf), "areas"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)

        def export(fmt):
            return lambda: export_areas(gdf, columns, "all", fmt, folder / f"all_{fmt}", overwrite=True, provenance=provenance)

        for fmt, plain in (("gpkg", "plain.gpkg"), ("shp", "plain.shp")):
            ours = best_of(export(fmt), 3)
            theirs = best_of(lambda: gdf.to_file(folder / plain), 3)
            yield f"export_{fmt}_all_lsoa21_{N_COLUMNS}cols", ours, "s"
            yield f"to_file_{fmt}_all_lsoa21_{N_COLUMNS}cols", theirs, "s"
            yield f"export_{fmt}_vs_to_file_ratio", ours / theirs, "x"
        yield f"export_geojson_all_lsoa21_{N_COLUMNS}cols", best_of(export("geojson"), 1), "s"
        yield f"export_csv_all_lsoa21_{N_COLUMNS}cols", best_of(export("csv"), 1), "s"
        yield "export_shp_zip_all_lsoa21_size", (folder / "all_shp.zip").stat().st_size / 2**20, "MiB"
        yield "export_gpkg_all_lsoa21_size", (folder / "all_gpkg.gpkg").stat().st_size / 2**20, "MiB"
