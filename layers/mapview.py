"""What a choropleth needs: values, classes, legend, caveat and tooltips for one layer.

Plain Python shared by the app's pages and tests: it turns an indicator or a
priority score into a :class:`MapData` and then into a light Leaflet map
(:mod:`geo.webmap`). Geometry is EPSG:27700 until the web map converts it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.webmap import PolygonLayer, PolygonStyle, add_labels, add_points, add_polygons, base_map, fit_to
from layers.mapclasses import BAND_COLOURS, Classes, band_colours, categorical, classify, sequential

LEVEL_LABEL = {"lsoa": "LSOA", "ward": "ward", "lad": "district"}
#: Zoom levels (Leaflet) at which names become readable labels: areas from these, districts in this range.
NAME_MIN_ZOOM = {"ward": 13, "lsoa": 14}
DISTRICT_NAME_ZOOM = (10, 12.75)
CLUSTER_COLOUR = "#6a3d9a"
SELECTED_COLOUR = "#00b7ff"


@dataclass
class MapData:
    """One map layer ready to draw.

    ``gdf`` has ``code``, ``name``, ``lad_name``, ``value`` (numeric or label),
    ``shown`` (formatted value with unit or "no data: reason") and ``rank_text``.
    """

    gdf: gpd.GeoDataFrame
    level: str
    classes: Classes
    title: str
    unit: str = ""
    caveat: str = ""
    notes: list[str] = field(default_factory=list)
    no_data_reason: str = ""
    rank_label: str = "Rank (1 = most need)"
    extra_tooltip: list = field(default_factory=list)
    #: Number labels (e.g. priority neighbourhoods): polygons (EPSG:27700) with a ``text`` column.
    numbers: gpd.GeoDataFrame | None = None

    @property
    def n_with_data(self) -> int:
        return int((self.classes.index >= 0).sum())


def format_value(value: float, unit: str, decimals: int = 1) -> str:
    if value is None or pd.isna(value):
        return "no data"
    if unit.startswith("%"):
        return f"{value:.{decimals}f}%"
    if unit in ("decile", "rank", "count"):
        return f"{value:,.0f}"
    return f"{value:,.{decimals}f}" + (f" {unit}" if unit and unit not in ("score",) else "")


def rank_texts(values: pd.Series, direction: int) -> tuple[list, int]:
    """(rank per value, 1 = most need, None when missing; how many were ranked).

    Only the number travels per area; "of N in <area>" goes once into the tooltip label.
    """
    need = pd.to_numeric(values, errors="coerce") * (direction or 1)
    ranks = need.rank(ascending=False, method="min")
    return [None if pd.isna(r) else int(r) for r in ranks], int(need.notna().sum())


def indicator_map(areas: gpd.GeoDataFrame, table: pd.DataFrame, indicator, *, scheme: str = "quantiles",
                  area_name: str = "the area", no_data_reasons: pd.Series | None = None) -> MapData:
    """An indicator layer: ``areas`` (EPSG:27700 boundaries) joined on ``code`` to ``table[indicator.id]``."""
    values = table.set_index("code")[indicator.id].reindex(areas["code"]).to_numpy()
    gdf = areas[["code", "name", "lad_name", "geometry"]].copy()
    gdf["value"] = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy()
    use_scheme = "iod_deciles" if indicator.unit == "decile" else scheme
    direction = indicator.direction if indicator.direction else 1
    classes = classify(gdf["value"], use_scheme, direction=direction, unit=indicator.unit)
    reasons = no_data_reasons.reindex(gdf["code"]).fillna("").to_numpy() if no_data_reasons is not None else [""] * len(gdf)
    decimals = getattr(indicator, "decimals", 1) or 1
    gdf["shown"] = [format_value(v, indicator.unit, decimals) if not pd.isna(v) else ("no data" + (f": {r}" if r else ""))
                    for v, r in zip(gdf["value"], reasons)]
    gdf["rank_text"], n_ranked = rank_texts(gdf["value"], direction)
    level = "lsoa" if areas["code"].iloc[0].startswith("E01") else "ward" if areas["code"].iloc[0].startswith("E05") else "lad"
    unit_text = f" ({indicator.unit})" if indicator.unit and not indicator.unit.startswith("%") else ""
    md = MapData(gdf, level, classes, f"{indicator.label}{unit_text}", indicator.unit, indicator.caveat or "",
                 rank_label=f"Rank of {n_ranked:,} in {area_name} "
                            + ("(1 = most need)" if indicator.direction else "(1 = largest; not a need measure)"))
    if md.n_with_data == 0:
        md.no_data_reason = (f"{indicator.label} has no figures for these {LEVEL_LABEL[level]}s"
                             + (f": {reasons[0]}" if len(reasons) and reasons[0] else "."))
    return md


SCORE_LAYERS = {
    "score": "Priority score",
    "band": "Priority band",
    "robust": "Robust priority",
    "overlap": "Needs that overlap",
    "cluster": "Priority neighbourhoods",
}


def score_map(areas: gpd.GeoDataFrame, scored, what: str = "score", *, scheme: str = "quantiles",
              clusters: pd.Series | None = None, cluster_names: dict | None = None) -> MapData:
    """A layer from a :class:`layers.scoring.Scored` result (``what`` in :data:`SCORE_LAYERS`)."""
    s = scored.areas.set_index("code").reindex(areas["code"])
    gdf = areas[["code", "name", "lad_name", "geometry"]].copy()
    prof = scored.profile.name
    gdf["rank_text"] = [int(r) if r and r > 0 else None for r in s["rank"].fillna(0)]
    n_ranked = int(s["n_ranked"].max()) if s["n_ranked"].notna().any() else 0
    if what == "score":
        gdf["value"] = s["score"].to_numpy()
        classes = classify(gdf["value"], scheme, direction=1)
        gdf["shown"] = [f"{v:.1f}" if not pd.isna(v) else "no data" for v in gdf["value"]]
        title, unit = f"{prof}: score", "score"
    elif what == "band":
        gdf["value"] = s["band"].fillna("no data").to_numpy()
        from layers.scoring import priority_bands

        wanted = priority_bands(scored.profile)
        colours = {**dict(zip(wanted, band_colours(len(wanted)))), "other": BAND_COLOURS["other"]}
        classes = categorical(gdf["value"], wanted + ["other"], colours)
        gdf["shown"] = gdf["value"]
        title, unit = f"{prof}: priority band", ""
    elif what == "robust":
        if "robust" not in s:
            raise ValueError("robustness was not computed (sensitivity draws = 0)")
        label = np.where(s["robust"].fillna(False).to_numpy(bool), "robust priority",
                         np.where(s["band"].isin(_priority(scored)), "priority, not robust", "not a priority"))
        label = np.where(s["score"].isna(), "no data", label)
        gdf["value"] = label
        classes = categorical(gdf["value"], ["robust priority", "priority, not robust", "not a priority"],
                              {"robust priority": "#54278f", "priority, not robust": "#9e9ac8", "not a priority": "#f2f0f7"})
        gdf["shown"] = [f"{lab}: in the band in {sh:.0%} of draws" if not pd.isna(sh) else lab
                        for lab, sh in zip(label, s["band_share"])]
        title, unit = f"{prof}: robust priorities (in the band in at least {scored.profile.robust_share:.0%} of draws)", ""
    elif what == "overlap":
        k = len(scored.indicators)
        gdf["value"] = s["overlap_count"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        gdf.loc[s["score"].isna().to_numpy(), "value"] = np.nan
        pal = sequential(k + 1)
        index = np.where(np.isnan(gdf["value"]), -1, gdf["value"].fillna(0).astype(int)).astype(int)
        legend = [(pal[i], f"{i} of {k}") for i in range(k + 1)] + [("#bdbdbd", "no data")]
        classes = Classes(index, pal, legend, "categories")
        gdf["shown"] = [f"{int(v)} of {k} indicators in England's worst fifth" if not pd.isna(v) else "no data"
                        for v in gdf["value"]]
        title, unit = f"{prof}: needs that overlap (indicators in the worst fifth nationally)", "count"
    elif what == "cluster":
        ids = (clusters.reindex(areas["code"]) if clusters is not None else pd.Series([None] * len(areas))).to_numpy(dtype=object)
        ids = [c if isinstance(c, str) and c else None for c in ids]  # missing ids arrive as None or NaN
        gdf["value"] = [c or "not in a cluster" for c in ids]
        names = sorted({c for c in ids if c})
        named = cluster_names or {}
        # one colour for every neighbourhood, each labelled on the map by its number in the table (N01 -> 1)
        classes = categorical(gdf["value"], names + ["not in a cluster"],
                              {**{n: CLUSTER_COLOUR for n in names}, "not in a cluster": "#f7f7f7"})
        classes.legend = ([(CLUSTER_COLOUR, "Priority neighbourhood (its number on the map, as in the table)")]
                          if names else []) + [("#f7f7f7", "not in a cluster")]
        gdf["shown"] = [f"{v}: {named[v]}" if v in named else v for v in gdf["value"]]
        numbered = gdf[gdf["value"].isin(names)].dissolve(by="value").reset_index()
        numbered["text"] = [cluster_number(v) for v in numbered["value"]]
        title, unit = f"{prof}: priority neighbourhoods", ""
    else:
        raise ValueError(f"unknown score layer {what!r}")
    level = scored.level
    md = MapData(gdf, level, classes, title, unit, "", list(scored.notes),
                 rank_label=f"Rank of {n_ranked:,} in {scored.area.name} (1 = highest priority)")
    if what == "cluster" and names:
        md.numbers = numbered[["text", "geometry"]]
    md.gdf["band"] = s["band"].fillna("no data").to_numpy()
    md.extra_tooltip = [("Band", "band")]
    if md.n_with_data == 0:
        md.no_data_reason = "No area in this selection could be scored (too many indicators missing)."
    return md


def cluster_number(cluster_id: str) -> str:
    """The number shown on the map for a neighbourhood id: ``"N03"`` -> ``"3"``."""
    digits = str(cluster_id).lstrip("N")
    return str(int(digits)) if digits.isdigit() else str(cluster_id)


def _priority(scored) -> list[str]:
    from layers.scoring import priority_bands

    return priority_bands(scored.profile)


def selection_layer(md: MapData, selected: str | None):
    """The outline of the area ``selected`` (a GSS code in ``md.gdf``) as a layer of its own, or None.

    Kept apart from the map so a page can send it alone (``streamlit_folium``'s ``feature_group_to_add``):
    a click then outlines the area without drawing the whole map again.
    """
    import folium

    from geo.crs import to_web

    row = md.gdf.loc[md.gdf["code"] == selected, ["code", "geometry"]]
    if row.empty:
        return None
    group = folium.FeatureGroup(name="Selected area", control=False)
    folium.GeoJson(to_web(row).__geo_interface__, interactive=False, style_function=lambda feature: {
        "color": SELECTED_COLOUR, "weight": 4, "opacity": 1, "fill": False}).add_to(group)
    return group


def folium_map(md: MapData, outline: gpd.GeoDataFrame, *, points=None, tiles: str | None = "light",
               selected: str | None = None, zoom_to: tuple | None = None, zoom_context: float = 1.0):
    """A Leaflet map of ``md`` with district outlines on top.

    Area names are labels from :data:`NAME_MIN_ZOOM`, district names within
    :data:`DISTRICT_NAME_ZOOM`. ``selected`` (a GSS code in ``md.gdf``) is
    outlined; ``zoom_to`` (EPSG:27700 bounds, metres) fits the view to them with
    ``zoom_context`` times their size of surroundings each side.

    ``points`` is a point layer (EPSG:27700) or a list of (layer, style) pairs, the style
    being :func:`geo.webmap.add_points` keywords (``color``, ``fill``, ``radius``).
    """
    fmap = base_map(tuple(outline.total_bounds), tiles=tiles)
    tooltip = [("", "name"), ("Code", "code"), ("Value", "shown"), *md.extra_tooltip, (md.rank_label, "rank_text"),
               ("District", "lad_name")]
    add_polygons(fmap, PolygonLayer(md.gdf, md.level, classes=md.classes.index, palette=md.classes.colours,
                                    tooltip=tooltip, properties=["code"],
                                    style=PolygonStyle(color="#555555", weight=0.5 if md.level == "lsoa" else 0.8,
                                                       fill_opacity=0.78)))
    add_polygons(fmap, PolygonLayer(outline, "lad", properties=[], style=PolygonStyle(color="#111111", weight=2.2, interactive=False)))
    selection = selection_layer(md, selected)
    if selection is not None:
        selection.add_to(fmap)
    if md.level in NAME_MIN_ZOOM:
        add_labels(fmap, md.gdf, md.gdf["name"], min_zoom=NAME_MIN_ZOOM[md.level])
    add_labels(fmap, outline, outline["name"], min_zoom=DISTRICT_NAME_ZOOM[0], max_zoom=DISTRICT_NAME_ZOOM[1], kind="ws-lad")
    if md.numbers is not None and len(md.numbers):
        add_labels(fmap, md.numbers, md.numbers["text"], kind="ws-num")
    if zoom_to is not None:
        fit_to(fmap, zoom_to, context=zoom_context)
    layers = points if isinstance(points, list) else [(points, {})]
    for layer, style in layers:
        if layer is not None and len(layer):
            add_points(fmap, layer, **style)
    return fmap
