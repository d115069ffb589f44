"""Priority areas ready to export: the scored layer, its columns with labels, and its provenance.

Used by ``cli.py export`` and every download button in the app, so an export
from either carries the same columns and the same methodology.json.
Geometry EPSG:27700 (the writers convert GeoJSON to EPSG:4326).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo.export import ColumnSpec
from layers.provenance import dataset_sources, indicator_sources
from layers.scoring import Scored, population_of

#: Installed datasets every scored export names besides its indicators.
SCORE_DATASETS = ("lsoa21_boundaries", "ward_boundaries", "lsoa21_ward24_lad24")


def _scored_columns(scored: Scored, registry: dict) -> list[ColumnSpec]:
    cols = [
        ColumnSpec("score", f"{scored.profile.name}: score (weighted average of normalised indicators)", "score"),
        # merged neighbourhoods keep their best member's rank, never an average of ranks
        ColumnSpec("rank", f"Rank within {scored.area.name} (1 = highest priority)", "rank", dissolve="min"),
        ColumnSpec("rank_national", f"Rank in England at {scored.level} level (1 = highest priority)", "rank",
                   dissolve="min"),
        ColumnSpec("band", "Priority band (top 10% / top 20% of the area of interest, or other)", ""),
        ColumnSpec("overlap_count", "Needs that overlap: indicators in the worst fifth of England", "indicators",
                   dissolve="max"),
    ]
    if "robust" in scored.areas:
        cols += [ColumnSpec("robust", "Robust priority: in the priority band in at least "
                                      f"{scored.profile.robust_share:.0%} of weight draws", ""),
                 ColumnSpec("band_share", "Share of weight draws in which the area is in the priority band "
                                          "(merged neighbourhoods: the lowest of their areas)", "share 0-1", dissolve="min"),
                 ColumnSpec("rank_p05", "Rank, 5th percentile over weight draws", "rank", dissolve="min"),
                 ColumnSpec("rank_p95", "Rank, 95th percentile over weight draws", "rank", dissolve="min")]
    cols.append(ColumnSpec("population", "Usual residents (Census 2021)", "people", dissolve="sum"))
    for i in scored.indicators:
        ind = registry.get(i)
        if ind is not None:
            cols.append(ColumnSpec(i, ind.label, ind.unit))
    for i in scored.indicators:
        label = registry[i].label if i in registry else i
        cols.append(ColumnSpec(f"contrib__{i}", f"Contribution of {label} to the score", "score points"))
    return cols


def export_layer(scored: Scored, store, table: pd.DataFrame, registry: dict, *,
                 extra: pd.DataFrame | None = None, extra_columns: list[ColumnSpec] = ()) -> tuple[gpd.GeoDataFrame, list[ColumnSpec]]:
    """The scored areas with geometry (EPSG:27700) and the columns to export.

    ``table`` is the national indicator table at the scored level (for the
    indicator values and population); ``extra`` adds columns keyed by
    ``code`` (access figures, hub coverage) described by ``extra_columns``.
    """
    areas = scored.areas
    boundaries = store.boundaries(scored.level, scored.area.lad_codes).set_index("code")
    geo = boundaries["geometry"]
    frame = areas.copy()
    if "ward_name" in boundaries:  # LSOAs: dissolved neighbourhoods are named after their wards
        frame["ward_name"] = boundaries["ward_name"].reindex(frame["code"]).to_numpy()
    frame["population"] = population_of(table, frame["code"])
    values = table.set_index("code").reindex(frame["code"])
    for i in scored.indicators:
        # three decimals is finer than any source publishes; longer tails only clutter spreadsheets
        frame[i] = values[i].round(3).to_numpy()
    columns = _scored_columns(scored, registry)
    if "ward_name" in frame:
        columns.insert(0, ColumnSpec("ward_name", "Electoral ward (2024) name", "", dissolve="join"))
    if extra is not None:
        add = extra.set_index("code").reindex(frame["code"])
        for spec in extra_columns:
            frame[spec.name] = add[spec.name].to_numpy()
        columns += list(extra_columns)
    gdf = gpd.GeoDataFrame(frame, geometry=geo.reindex(frame["code"]).to_numpy(), crs=27700)
    return gdf, columns


def provenance(scored: Scored, registry: dict, store, *, sensitivity: int, seed: int) -> dict:
    """What methodology.json records about how these areas were chosen."""
    profile = scored.profile
    used = [i for i in profile.indicators if i.id in scored.indicators]
    sources = indicator_sources(scored.indicators, registry) + dataset_sources(store, SCORE_DATASETS)
    return {
        "profile": {"name": profile.name, "id": profile.id,
                    "method": f"{profile.normalisation} normalisation over England"
                              + ("; access indicators (minutes to this session's sites) over the area of interest only"
                                 if any(i.id.startswith("access_") for i in used) else "")
                              + f", weighted average; missing values: {profile.missing}; "
                                f"bands {list(profile.band_shares)} ({profile.band_scope})",
                    "indicators": [i.id for i in used], "weights": {i.id: i.weight for i in used},
                    "definition": profile.to_dict()},
        "area_of_interest": {"name": scored.area.name, "lad_codes": list(scored.area.lad_codes)},
        "level": scored.level,
        "robustness": {"draws": sensitivity, "seed": seed, "concentration": profile.sensitivity_concentration},
        "notes": list(scored.notes),
        "store_generation": store.generation,
        "sources": sources,
    }
