"""Coverage: how much priority demand can reach a hub within a travel-time threshold.

An area is **covered** when at least one hub is within the threshold (minutes <= threshold; an
unreachable pair, NaN, never counts). The headline figure is the share of *priority* demand (weights,
e.g. people) in covered areas; the same share over all demand is given beside it.

* **cold spots**: priority areas with no hub within reach;
* **duplication**: priority areas with two or more hubs within reach (``n_hubs``), and per hub the
  demand only it reaches (``exclusive_weight``) against demand other hubs reach too (``shared_weight``);
* per district and for the whole area of interest ("geographical coverage of interventions to support
  priority areas"), with sentences ready to quote.

Units: minutes; weights in the demand's unit (people for population, inactive or claimant demand).
The work is in :meth:`HubCoverage.from_matrix` (plain arrays); :meth:`HubCoverage.from_geodataframe`
takes demand points and hubs in EPSG:27700, computes the travel minutes and delegates.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.words import agree, count_of
from layers.hubs.demand import WEIGHT_LABEL, WEIGHT_VERB, check_demand_layer
from layers.hubs.errors import HubError
from layers.hubs.matrix import check_inputs, mode_phrase, travel_minutes

#: Label of the whole-area row in the district table.
AREA_ROW = "area of interest"


def _pct(part: float, whole: float) -> float:
    return float(100.0 * part / whole) if whole > 0 else float("nan")


class HubCoverage:
    """Coverage of demand by a set of hubs. Build with :meth:`from_matrix` or :meth:`from_geodataframe`.

    Attributes
    ----------
    areas : one row per demand point: its keys, ``weight``, ``priority``, ``n_hubs`` (hubs within the
        threshold), ``nearest_min`` (minutes to the nearest hub; NaN: none reachable), ``nearest_site``,
        ``covered``, ``cold_spot`` (priority and not covered), ``duplicated`` (priority and n_hubs >= 2).
    sites : one row per hub: ``priority_areas_within``, ``priority_weight_within``, ``exclusive_weight``
        (priority demand no other hub reaches), ``shared_weight``.
    summary : dict of the area-of-interest figures (see :meth:`districts`).
    threshold_min, mode, area_name, label, verb : what the sentences say.
    """

    def __init__(self, areas: pd.DataFrame, sites: pd.DataFrame, summary: dict, *, threshold_min: float,
                 mode: str | None, area_name: str | None, label: str, verb: str):
        self.areas = areas
        self.sites = sites
        self.summary = summary
        self.threshold_min = threshold_min
        self.mode = mode
        self.area_name = area_name
        self.label = label
        self.verb = verb
        self.notes: list[str] = []

    @classmethod
    def from_matrix(cls, minutes: np.ndarray, weights: np.ndarray, threshold_min: float, *,
                    priority: np.ndarray | None = None, open_sites: np.ndarray | None = None,
                    demand: pd.DataFrame | None = None, sites: pd.DataFrame | None = None, mode: str | None = None,
                    area_name: str | None = None, label: str = WEIGHT_LABEL, verb: str = WEIGHT_VERB) -> "HubCoverage":
        """Coverage from an (n_demand x n_sites) minutes array.

        Parameters
        ----------
        minutes : float array, minutes; NaN = unreachable.
        weights : (n_demand,) demand, 0 or more (e.g. people).
        threshold_min : reach, minutes (a hub at exactly the threshold counts).
        priority : (n_demand,) bool; default every area is priority.
        open_sites : (n_sites,) bool, which columns are hubs; default all.
        demand : n_demand rows of keys (``code``, ``name``, ``lad_code``, ``lad_name``); default numbered.
        sites : n_sites rows (``site_id``, ``name``, ...); default numbered.
        """
        minutes, weights, priority = check_inputs(minutes, weights, threshold_min, priority)
        n, m = minutes.shape
        open_sites = np.ones(m, dtype=bool) if open_sites is None else np.asarray(open_sites, dtype=bool).reshape(-1)
        if len(priority) != n or len(open_sites) != m:
            raise HubError("priority flags must match the demand points and open flags the sites")
        demand = (pd.DataFrame({"code": [f"d{i}" for i in range(n)]}) if demand is None
                  else pd.DataFrame(demand).reset_index(drop=True))
        sites = (pd.DataFrame({"site_id": [f"s{j}" for j in range(m)]}) if sites is None
                 else pd.DataFrame(sites).reset_index(drop=True))
        if len(demand) != n or len(sites) != m:
            raise HubError(f"the minutes array is {n} x {m} but there are {len(demand)} demand rows and {len(sites)} sites")

        hub_idx = np.flatnonzero(open_sites)
        sub = minutes[:, hub_idx]
        within = sub <= threshold_min  # NaN compares False: unreachable is never within reach
        n_hubs = within.sum(axis=1)
        filled = np.where(np.isnan(sub), np.inf, sub)
        if len(hub_idx):
            arg = filled.argmin(axis=1)
            best = filled[np.arange(n), arg]
        else:
            arg, best = np.zeros(n, dtype=int), np.full(n, np.inf)
        reach = np.isfinite(best)
        site_ids = sites["site_id"].to_numpy(dtype=object)
        covered = n_hubs >= 1
        pw = np.where(priority, weights, 0.0)

        areas = demand[[c for c in ("code", "name", "lad_code", "lad_name") if c in demand.columns]].copy()
        areas["weight"] = weights
        areas["priority"] = priority
        areas["n_hubs"] = n_hubs.astype(int)
        areas["nearest_min"] = np.where(reach, best, np.nan)
        nearest_site = np.full(n, None, dtype=object)
        if len(hub_idx):
            nearest_site[reach] = site_ids[hub_idx][arg][reach]
        areas["nearest_site"] = pd.Series(nearest_site, index=areas.index, dtype=object)
        areas["covered"] = covered
        areas["cold_spot"] = priority & ~covered
        areas["duplicated"] = priority & (n_hubs >= 2)

        only = within & (n_hubs == 1)[:, None]
        hub_table = sites.iloc[hub_idx][[c for c in ("site_id", "name", "type", "role", "fixed", "lad_name")
                                         if c in sites.columns]].reset_index(drop=True)
        hub_table["priority_areas_within"] = (within & priority[:, None]).sum(axis=0).astype(int)
        hub_table["priority_weight_within"] = pw @ within
        hub_table["exclusive_weight"] = pw @ only
        hub_table["shared_weight"] = hub_table["priority_weight_within"] - hub_table["exclusive_weight"]

        summary = _figures(areas)
        out = cls(areas, hub_table, summary, threshold_min=float(threshold_min), mode=mode, area_name=area_name,
                  label=label, verb=verb)
        return out

    @classmethod
    def from_geodataframe(cls, demand: gpd.GeoDataFrame, hubs: gpd.GeoDataFrame, mode: str, threshold_min: float, *,
                          engine: str | None = None, area_name: str | None = None, **params) -> "HubCoverage":
        """Coverage of a demand layer (:mod:`layers.hubs.demand`) by hubs (points with ``site_id``), both
        EPSG:27700, with minutes from :func:`geo.travel.travel_time_matrix` (``engine``, ``**params``)."""
        check_demand_layer(demand)
        minutes, info = travel_minutes(demand, hubs, mode, engine=engine, **params)
        out = cls.from_matrix(minutes, demand["weight"].to_numpy(dtype=float), threshold_min,
                              priority=demand["priority"].to_numpy(dtype=bool) if "priority" in demand else None,
                              demand=pd.DataFrame(demand.drop(columns=demand.geometry.name)),
                              sites=pd.DataFrame(hubs.drop(columns=hubs.geometry.name)), mode=mode,
                              area_name=area_name, label=demand.attrs.get("label", WEIGHT_LABEL),
                              verb=demand.attrs.get("verb", WEIGHT_VERB))
        if info.get("label"):
            out.notes.append(f"travel times: {info['label']}")
        return out

    # -- figures --------------------------------------------------------------------------------------
    def districts(self) -> pd.DataFrame:
        """Figures per district, then one row for the whole area of interest (``level``)."""
        rows = []
        if "lad_code" in self.areas.columns and self.areas["lad_code"].notna().any():
            for (code, name), group in self.areas.groupby(["lad_code", "lad_name"], sort=True, dropna=False):
                rows.append({"level": "district", "lad_code": code, "lad_name": name, **_figures(group)})
        rows.append({"level": AREA_ROW, "lad_code": None, "lad_name": self.area_name or AREA_ROW, **self.summary})
        return pd.DataFrame(rows)

    def sentence(self, figures: dict | None = None, place: str | None = None) -> str:
        """e.g. "62.4% of priority residents in Luton live within 30 minutes by bus of a hub"."""
        f = figures or self.summary
        place = place or self.area_name
        where = f" in {place}" if place else ""
        how = f" {mode_phrase(self.mode)}" if self.mode else ""
        if not f["priority_weight"] > 0:
            return f"there is no {self.label}{where}"
        return (f"{f['covered_pct']:.1f}% of {self.label}{where} {self.verb} within {self.threshold_min:g} minutes"
                f"{how} of a hub ({f['covered_weight']:,.0f} of {f['priority_weight']:,.0f})")

    def statements(self) -> list[str]:
        """The area sentence, then one per district, then cold spots and duplication."""
        out = [self.sentence()]
        table = self.districts()
        districts = table[table["level"] == "district"]
        if len(districts) > 1:
            out += [self.sentence(row._asdict(), row.lad_name) for row in districts.itertuples(index=False)]
        s = self.summary
        out.append(f"{count_of(s['cold_spots'], 'priority area')} {agree(s['cold_spots'], 'has', 'have')} no hub "
                   f"within {self.threshold_min:g} minutes (cold spots, "
                   f"{s['cold_weight']:,.0f} {self.label}); {s['duplicated_areas']} "
                   f"{agree(s['duplicated_areas'], 'has', 'have')} two or more hubs within reach")
        return out


def _figures(areas: pd.DataFrame) -> dict:
    pri = areas["priority"].to_numpy(dtype=bool)
    w = areas["weight"].to_numpy(dtype=float)
    cov = areas["covered"].to_numpy(dtype=bool)
    dup = pri & (areas["n_hubs"].to_numpy() >= 2)
    pw = w[pri].sum()
    return {
        "priority_areas": int(pri.sum()),
        "priority_weight": float(pw),
        "covered_weight": float(w[pri & cov].sum()),
        "covered_pct": _pct(w[pri & cov].sum(), pw),
        "cold_spots": int((pri & ~cov).sum()),
        "cold_weight": float(w[pri & ~cov].sum()),
        "duplicated_areas": int(dup.sum()),
        "duplicated_weight": float(w[dup].sum()),
        "all_weight": float(w.sum()),
        "all_covered_pct": _pct(w[cov].sum(), w.sum()),
    }
