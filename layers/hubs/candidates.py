"""Generated candidate sites for new hubs.

* :func:`station_candidates`: railway stations (store table ``places/stations``, England only) that lie in
  the area's districts, tested against the area's LSOA 2021 polygons;
* :func:`priority_centroid_candidates`: the population-weighted centroid of every priority area (the
  demand points themselves): a hub "in the middle of" each priority neighbourhood.

Both return hub sites layers (:data:`layers.hubs.hub_sites.HUB_COLUMNS`), points in EPSG:27700, role
``candidate``, never fixed.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import BNG, require_bng
from layers.hubs.errors import DemandError
from layers.hubs.hub_sites import CANDIDATE, CENTROID_TYPE, HUB_COLUMNS, STATION_TYPE

#: Stations in the store carry the country they are in; only these are used.
STATION_COUNTRIES = ("england",)


def _candidates(frame: dict, geometry) -> gpd.GeoDataFrame:
    n = len(frame["site_id"])
    base = {"type_given": np.full(n, None, dtype=object), "capacity": np.full(n, np.nan), "role": CANDIDATE,
            "fixed": np.zeros(n, dtype=bool)}
    data = {**base, **frame}
    out = gpd.GeoDataFrame({c: data[c] for c in HUB_COLUMNS}, geometry=geometry, crs=BNG)
    return out.reset_index(drop=True)


def station_candidates(area, store=None) -> gpd.GeoDataFrame:
    """Railway stations inside the area of interest (name, code or :class:`geo.areas.Area`) as candidates.

    ``site_id`` is ``station_<CRS code>``; ``lad_code``/``lad_name`` give the district. EPSG:27700.
    """
    from geo.areas import Area, resolve_area
    from geo.store import open_store

    store = store or open_store()
    if not isinstance(area, Area):
        area = resolve_area(area, store.districts())
    stations = store.table("places", "stations")
    require_bng(stations, what="places/stations")
    stations = stations[stations["country"].isin(STATION_COUNTRIES)]
    lsoa = store.boundaries("lsoa", area.lad_codes)[["lad_code", "lad_name", "geometry"]]
    hit = gpd.sjoin(stations, lsoa, how="inner", predicate="within").drop_duplicates("code")
    hit = hit.sort_values(["lad_code", "name"])
    out = _candidates({
        "site_id": ("station_" + hit["code"].astype(str)).to_numpy(),
        "name": (hit["name"].astype(str) + " station").to_numpy(),
        "type": np.full(len(hit), STATION_TYPE, dtype=object),
        "source": ("railway station (CRS " + hit["code"].astype(str) + ")").to_numpy(),
    }, hit.geometry.to_numpy())
    out["lad_code"] = hit["lad_code"].to_numpy()
    out["lad_name"] = hit["lad_name"].to_numpy()
    return out


def priority_centroid_candidates(demand: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One candidate at each priority demand point (LSOA population-weighted centroid), EPSG:27700.

    ``site_id`` is ``centre_<code>``; the name is the area's name (or code) + " (centre)".
    """
    require_bng(demand, what="demand")
    if "priority" not in demand.columns:
        raise DemandError("demand has no priority column, so there are no priority areas to put candidates in")
    pri = demand[demand["priority"].astype(bool)]
    if pri.empty:
        raise DemandError("no priority areas, so no priority-centroid candidates; check the priority band or demand table")
    names = pri["name"] if "name" in pri.columns else pd.Series([None] * len(pri), index=pri.index)
    label = [f"{n if isinstance(n, str) and n else c} (centre)" for n, c in zip(names, pri["code"])]
    out = _candidates({
        "site_id": ("centre_" + pri["code"].astype(str)).to_numpy(),
        "name": np.array(label, dtype=object),
        "type": np.full(len(pri), CENTROID_TYPE, dtype=object),
        "source": np.full(len(pri), "priority area population-weighted centroid", dtype=object),
    }, pri.geometry.to_numpy())
    for col in ("lad_code", "lad_name"):
        if col in pri.columns:
            out[col] = pri[col].to_numpy()
    return out
