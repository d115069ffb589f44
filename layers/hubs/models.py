"""Where to put hubs: MCLP, p-median and LSCP on a travel-time matrix (CBC solver; MCLP and LSCP built
sparsely in PuLP by :mod:`layers.hubs.sparse`, p-median with spopt).

Every model sees the same inputs: an (n_demand x n_sites) array of minutes (NaN = unreachable),
demand weights (e.g. people) with priority flags, a threshold in minutes, and per site whether it is an
existing hub and whether it is **fixed** (kept in every plan). Sites that are not fixed (candidates and
removable existing hubs) are the ones a model chooses between; ``k`` counts them:

* :class:`HubMCLP` (maximal covering): the ``k`` sites, besides the fixed hubs, that put the most priority
  demand within the threshold of a hub; the fixed hubs are held open. The same model as spopt's ``MCLP``,
  built only from the pairs within reach (tests/test_hubs_sparse.py checks both give the same optimum).
* :class:`HubPMedian`: the ``k`` sites, besides the fixed hubs, that make the demand-weighted average
  journey to the nearest hub shortest. spopt ``PMedian`` likewise.
* :class:`HubLSCP` (location set covering): the fewest sites, besides the fixed hubs, that put *all*
  priority demand within the threshold. Checked for feasibility before solving.
* :class:`HubCapacityMCLP`: MCLP where each hub serves at most its capacity (people; blank = no limit):
  the ``k`` sites that let the most priority demand be *served* within reach, with people served per hub,
  unmet demand and full hubs (:func:`layers.hubs.sparse.capacitated_mclp`).

A plan never lists a new site that adds nothing: after solving, chosen new sites that add no coverage
(p-median: shorten no journey; capacitated: serve nobody) are closed and named in ``idle``.

Only priority demand with a weight above 0 enters the models. Each model is built on a reduced
problem that has the same optimum: for MCLP and LSCP, priority areas already within reach of a fixed hub
and areas no site can reach are left out (their coverage cannot change) and areas reached by exactly
the same set of sites are merged (weights added); for p-median, areas no site can reach are left out.
Results are always computed on the full inputs.

Each model class: ``from_matrix`` (plain arrays) builds it, ``from_geodataframe`` (demand points and
sites in EPSG:27700) computes the minutes with :mod:`geo.travel` and delegates, ``solve()`` solves with
CBC under a time limit (:mod:`layers.hubs.cbc`, with a greedy plan as MIP start) and returns self.
After solving: ``open`` (bool per site), ``solver`` (status, gap), ``before``/``after``
(:class:`~layers.hubs.coverage.HubCoverage` with the existing hubs / with the plan), ``marginal``
(the chosen sites in greedy order with the gain of each) and :meth:`site_table`.

**Marginal gains** are the *greedy order of the optimal set*: starting from the fixed hubs, the chosen
site that adds most is listed first, then the one adding most given the first, and so on; the gains add
up to the plan's total. :meth:`HubMCLP.curve` instead re-solves MCLP for k = 1..K, which shows the
best possible coverage for each number of new hubs (where another hub stops paying).

Units: minutes; weights in the demand's unit (people).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
from spopt.locate import PMedian

from geo.words import agree, count_of
from layers.hubs import sparse
from layers.hubs.cbc import COVER_OPTIONS, SolveInfo, check_time_limit, solve_cbc
from layers.hubs.coverage import HubCoverage
from layers.hubs.demand import WEIGHT_LABEL, WEIGHT_VERB, check_demand_layer
from layers.hubs.errors import (DemandError, HubError, InfeasibleCoverageError, ModelTooLargeError,
                                NothingToAddError,
                                NoCandidatesError, SolverError, TooFewCandidatesError)
from layers.hubs.matrix import check_inputs, mode_phrase, travel_minutes
from layers.hubs.hub_sites import EXISTING, site_pool

#: p-median: an unreachable (NaN) pair costs this many times the longest reachable journey, so a demand
#: point is assigned to an unreachable hub only when no open hub is reachable from it.
UNREACHABLE_PENALTY_FACTOR = 10.0
#: p-median has one assignment variable per (demand point, site) pair; above this it is refused.
MAX_PMEDIAN_PAIRS = 250_000
#: MCLP/LSCP: largest (merged demand rows x sites) the model builder is asked to handle.
MAX_COVER_PAIRS = 3_000_000

#: What to do when there are no candidate sites to choose from, in words for either front door.
ADD_CANDIDATES = "add candidate sites (your own list, stations or the priority areas' centres)"

#: Sentences list at most this many chosen sites one by one.
STEPS_SHOWN = 10

DECISIONS = ("fixed", "kept", "closed", "new", "not chosen")


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _group_rows(pattern: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(first, inverse)`` of the distinct rows of a bool matrix, in lexicographic row order: the first
    row of each group and the group of every row. Rows are packed to bytes first (8 sites a byte), which
    is much faster than ``np.unique(axis=0)`` on the bools and gives the same groups in the same order."""
    packed = np.ascontiguousarray(np.packbits(pattern, axis=1))
    keys = packed.view(np.dtype((np.void, max(packed.shape[1], 1)))).reshape(-1) if packed.shape[1] else \
        np.zeros(len(pattern), dtype="V1")
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def _merge_patterns(pattern: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique rows of a bool matrix: ``(unique, first_index, merged_weights)``."""
    if len(pattern) == 0:
        return pattern, np.zeros(0, dtype=int), np.zeros(0)
    first, inverse = _group_rows(pattern)
    merged = np.bincount(inverse, weights=weights, minlength=len(first))
    return pattern[first], first, merged


class HubModel:
    """Shared inputs, checks and results; subclasses build and read one model."""

    kind = "model"
    uses_k = True
    #: statements list the chosen sites in greedy order of coverage gains (and nearest-hub loads over capacity)
    greedy_sentence = True
    #: extra CBC settings for this model (:data:`layers.hubs.cbc.COVER_OPTIONS` for the covering models)
    cbc_options: tuple[str, ...] = ()

    def __init__(self, minutes, weights, threshold_min, k, *, priority, fixed, existing, demand, sites,
                 time_limit_s, mode, area_name, label, verb):
        self.minutes = minutes
        self.weights = weights
        self.threshold_min = float(threshold_min)
        #: (n x m) bool: site within the threshold (an unreachable NaN pair never is).
        self.reach = minutes <= self.threshold_min
        self.k = k
        self.priority = priority
        self.fixed = fixed
        self.existing = existing
        self.demand = demand
        self.sites = sites
        self.time_limit_s = time_limit_s
        self.mode = mode
        self.area_name = area_name
        self.label = label
        self.verb = verb
        self.notes: list[str] = []
        self.site_layer: gpd.GeoDataFrame | None = None
        self.spopt = None  # p-median's spopt model
        self.lp = None  # the built model: .problem, .fac_vars (sparse.CoverLP for MCLP/LSCP)
        self.problem = None
        self.solver: SolveInfo | None = None
        self.open: np.ndarray | None = None
        self.before: HubCoverage | None = None
        self.after: HubCoverage | None = None
        self.marginal: pd.DataFrame | None = None
        self.capacity: np.ndarray | None = None  # people per site, NaN = no limit (capacitated MCLP)
        self.idle: list[str] = []  # chosen new sites closed after solving because they add nothing (names)
        self._start: np.ndarray | None = None  # greedy plan (MIP start, or the answer when nothing is left to solve)

    # -- derived arrays -------------------------------------------------------------------------------
    @property
    def rows(self) -> np.ndarray:
        """Demand points the models plan for: priority with weight above 0."""
        return self.priority & (self.weights > 0)

    @property
    def choosable(self) -> np.ndarray:
        return ~self.fixed

    @property
    def priority_weight(self) -> np.ndarray:
        return np.where(self.priority, self.weights, 0.0)

    # -- constructors ---------------------------------------------------------------------------------
    @classmethod
    def from_matrix(cls, minutes, weights, threshold_min: float, k: int | None = None, *, priority=None, fixed=None,
                    existing=None, demand: pd.DataFrame | None = None, sites: pd.DataFrame | None = None,
                    time_limit_s: float | None = None, mode: str | None = None, area_name: str | None = None,
                    label: str = WEIGHT_LABEL, verb: str = WEIGHT_VERB, capacity=None):
        """Build the model from plain arrays.

        Parameters
        ----------
        minutes : (n_demand x n_sites) minutes; NaN = unreachable.
        weights : (n_demand,) demand, 0 or more (e.g. people).
        threshold_min : reach in minutes (MCLP, LSCP, and the coverage figures of every model).
        k : number of sites to choose besides the fixed hubs (MCLP, p-median; LSCP ignores it).
        priority : (n_demand,) bool; default all priority.
        fixed : (n_sites,) bool, hubs kept in every plan; default none.
        existing : (n_sites,) bool, existing hubs (fixed or removable); default = ``fixed``.
        demand, sites : rows describing the demand points (``code``, ``name``, ``lad_code``, ``lad_name``)
            and the sites (``site_id``, ``name``, ``type``, ``capacity``...); default numbered.
        time_limit_s : solver time limit, seconds (default :data:`layers.hubs.cbc.DEFAULT_TIME_LIMIT_S`).
        mode, area_name, label, verb : for sentences.
        capacity : (n_sites,) people each site can serve, NaN = no limit (used by :class:`HubCapacityMCLP`).
        """
        minutes, weights, priority = check_inputs(minutes, weights, threshold_min, priority)
        n, m = minutes.shape
        fixed = np.zeros(m, dtype=bool) if fixed is None else np.asarray(fixed, dtype=bool).reshape(-1)
        existing = fixed.copy() if existing is None else np.asarray(existing, dtype=bool).reshape(-1)
        if len(priority) != n or len(fixed) != m or len(existing) != m:
            raise HubError("priority flags must match the demand points, fixed/existing flags the sites")
        if (fixed & ~existing).any():
            raise HubError("only existing hubs can be fixed; candidates are never fixed")
        demand = (pd.DataFrame({"code": [f"d{i}" for i in range(n)]}) if demand is None
                  else pd.DataFrame(demand).reset_index(drop=True))
        sites = (pd.DataFrame({"site_id": [f"s{j}" for j in range(m)], "name": [f"site {j}" for j in range(m)]})
                 if sites is None else pd.DataFrame(sites).reset_index(drop=True))
        if len(demand) != n or len(sites) != m:
            raise HubError(f"the minutes array is {n} x {m} but there are {len(demand)} demand rows and {len(sites)} sites")
        if "name" not in sites.columns:
            sites["name"] = sites["site_id"]
        if k is not None:
            if isinstance(k, float) and not k.is_integer():
                raise HubError(f"k must be a whole number of sites, got {k}")
            k = int(k)
        obj = cls(minutes, weights, threshold_min, k, priority=priority, fixed=fixed, existing=existing, demand=demand,
                  sites=sites, time_limit_s=check_time_limit(time_limit_s), mode=mode, area_name=area_name, label=label,
                  verb=verb)
        if capacity is not None:
            capacity = pd.to_numeric(pd.Series(np.asarray(capacity).reshape(-1)), errors="coerce")
            capacity = np.asarray(capacity, dtype=float)
            if len(capacity) != m or (capacity[~np.isnan(capacity)] < 0).any() or np.isinf(capacity).any():
                raise HubError("capacities must be one number of people (0 or more, blank = no limit) per site")
        obj.capacity = capacity
        if not obj.rows.any():
            raise DemandError("there is no priority demand to plan for: no area with a weight above 0 is flagged "
                              "priority (check the priority band or the demand table)")
        obj._check()
        obj._build()
        return obj

    @classmethod
    def from_geodataframe(cls, demand: gpd.GeoDataFrame, existing: gpd.GeoDataFrame | None,
                          candidates: gpd.GeoDataFrame | None, mode: str, threshold_min: float, k: int | None = None, *,
                          engine: str | None = None, time_limit_s: float | None = None, area_name: str | None = None,
                          **params):
        """Build the model from a demand layer (:mod:`layers.hubs.demand`) and existing hubs and candidate
        sites (:mod:`layers.hubs.hub_sites`), all points in EPSG:27700; minutes by ``mode`` from
        :func:`geo.travel.travel_time_matrix` (``engine``, ``**params``)."""
        check_demand_layer(demand)
        pool = site_pool(existing, candidates)
        if len(pool) == 0:
            raise NoCandidatesError(f"no existing hubs and no candidate sites: {ADD_CANDIDATES}")
        minutes, info = travel_minutes(demand, pool, mode, engine=engine, **params)
        obj = cls.from_matrix(minutes, demand["weight"].to_numpy(dtype=float), threshold_min, k,
                              priority=demand["priority"].to_numpy(dtype=bool) if "priority" in demand else None,
                              fixed=pool["fixed"].to_numpy(dtype=bool), existing=(pool["role"] == EXISTING).to_numpy(),
                              demand=pd.DataFrame(demand.drop(columns=demand.geometry.name)),
                              sites=pd.DataFrame(pool.drop(columns="geometry")), time_limit_s=time_limit_s, mode=mode,
                              area_name=area_name, label=demand.attrs.get("label", WEIGHT_LABEL),
                              verb=demand.attrs.get("verb", WEIGHT_VERB))
        obj.site_layer = pool
        if info.get("label"):
            obj.notes.append(f"travel times: {info['label']}")
        return obj

    # -- checks shared by the k-models ------------------------------------------------------------------
    def _check(self) -> None:
        n_choose = int(self.choosable.sum())
        if n_choose == 0:
            besides = " besides the existing hubs" if self.fixed.any() else ""
            raise NoCandidatesError(f"no candidate sites to choose from{besides}: {ADD_CANDIDATES}, "
                                    "or mark existing hubs removable (fixed = false)")
        if self.k is None or self.k < 1:
            raise HubError(f"{self.kind} needs k, the number of sites to choose (1 or more), got {self.k}")
        if self.k > n_choose:
            removable = int((self.existing & ~self.fixed).sum())
            candidates = n_choose - removable
            parts = [count_of(n, word) for n, word in ((candidates, "candidate site"), (removable, "removable hub")) if n]
            first = candidates or removable
            raise TooFewCandidatesError(f"{count_of(self.k, 'new site')} (k) were asked for but there "
                                        f"{agree(first, 'is', 'are')} only {' and '.join(parts)} to choose from; ask for "
                                        f"{n_choose} or fewer, or add candidate sites")

    def _build(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- solving --------------------------------------------------------------------------------------
    def solve(self, time_limit_s: float | None = None):
        """Solve with CBC under the time limit (this call's, else the model's); results on self; returns self.

        Raises :class:`SolverError` when CBC fails or has no solution at the limit (the greedy MIP start
        makes that rare).
        """
        limit = check_time_limit(time_limit_s if time_limit_s is not None else self.time_limit_s)
        if self.problem is None:  # nothing left to decide: the greedy plan is optimal (see _build)
            self.open = self._start.copy()
            self.solver = SolveInfo("optimal", "not needed", "not needed", "no solve needed", 0.0, 0.0, 0.0,
                                    "no solve needed", 0.0, limit)
        else:
            self.solver = solve_cbc(self.problem, time_limit_s=limit, warm_start=True, what=self.title(),
                                    options=self.cbc_options)
            self.open = self._read_open()
        self._check_open()
        self._drop_idle()
        self._results()
        return self

    def _value(self, state: np.ndarray) -> float:
        """What the model maximises for an open set ``state``: priority demand within reach (p-median
        overrides it with minus the demand-weighted minutes)."""
        return self._coverage_figures(state)[0]

    def _drop_idle(self) -> None:
        """Close chosen *new* sites that add nothing (no coverage for MCLP, no shorter journey for p-median).

        The chosen sites are put in greedy order from the fixed hubs; a site's gain there can only shrink
        as more sites open, so once one adds nothing none after it does, and closing those leaves the
        plan's value unchanged. Their names go to ``self.idle`` and a sentence says why they are not listed.
        """
        self.idle = []
        state = self.fixed.copy()
        remaining = [int(j) for j in np.flatnonzero(self.open & ~self.fixed)]
        value = self._value(state) if state.any() else -np.inf
        while remaining:
            values = []
            for j in remaining:
                state[j] = True
                values.append(self._value(state))
                state[j] = False
            i = int(np.argmax(values))
            if values[i] - value <= 1e-9 * max(1.0, abs(value)) and np.isfinite(value):
                break
            j = remaining.pop(i)
            state[j], value = True, values[i]
        idle = [j for j in remaining if not self.existing[j]]
        if idle:
            self.open[idle] = False
            self.idle = [str(self.sites["name"].iloc[j]) for j in idle]

    def _read_open(self) -> np.ndarray:
        return np.array([(v.value() or 0.0) > 0.5 for v in self.lp.fac_vars], dtype=bool)

    def _check_open(self) -> None:
        if not self.open[self.fixed].all():
            raise SolverError(f"{self.title()}: the solver closed a fixed hub; the plan cannot be trusted")
        if self.uses_k and int((self.open & ~self.fixed).sum()) != self.k:
            raise SolverError(f"{self.title()}: the solver opened {int((self.open & ~self.fixed).sum())} sites, not {self.k}")

    def title(self) -> str:
        return self.kind

    # -- results --------------------------------------------------------------------------------------
    def _coverage(self, open_sites: np.ndarray) -> HubCoverage:
        return HubCoverage.from_matrix(self.minutes, self.weights, self.threshold_min, priority=self.priority,
                                       open_sites=open_sites, demand=self.demand, sites=self.sites, mode=self.mode,
                                       area_name=self.area_name, label=self.label, verb=self.verb)

    def _mean_minutes(self, open_sites: np.ndarray) -> float:
        """Weighted mean minutes from priority demand to its nearest open site (demand that reaches one)."""
        if not open_sites.any():
            return float("nan")
        best = np.nanmin(np.where(np.isnan(self.minutes[:, open_sites]), np.inf, self.minutes[:, open_sites]), axis=1)
        ok = self.rows & np.isfinite(best)
        w = self.weights[ok]
        return float((w * best[ok]).sum() / w.sum()) if w.sum() > 0 else float("nan")

    def _gains(self, state: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """Gain of opening each of ``candidates`` given the open set ``state``: priority demand newly within
        reach (p-median overrides it with journey minutes)."""
        uncovered = self.priority_weight * ~self.reach[:, state].any(axis=1)
        return uncovered @ self.reach[:, candidates]

    def _results(self) -> None:
        self.before = self._coverage(self.existing)
        self.after = self._coverage(self.open)
        state = self.fixed.copy()
        remaining = [int(j) for j in np.flatnonzero(self.open & ~self.fixed)]
        rows = [self._marginal_row(0, None, state, None)]
        while remaining:
            gains = self._gains(state, np.array(remaining))
            j = remaining.pop(int(np.argmax(gains)))
            previous = state.copy()
            state[j] = True
            rows.append(self._marginal_row(len(rows), j, state, previous))
        self.marginal = pd.DataFrame(rows)

    def _marginal_row(self, order: int, j: int | None, state: np.ndarray, previous: np.ndarray | None) -> dict:
        cov = self._coverage_figures(state)
        row = {"order": order, "site_id": None if j is None else self.sites["site_id"].iloc[j],
               "name": "fixed hubs" if j is None else self.sites["name"].iloc[j],
               "decision": None if j is None else ("kept" if self.existing[j] else "new"),
               "covered_weight": cov[0], "covered_pct": cov[1], "mean_min": self._mean_minutes(state)}
        if previous is not None:
            before = self._coverage_figures(previous)
            row["added_weight"] = cov[0] - before[0]
            row["added_pct_points"] = cov[1] - before[1]
            row["minutes_saved"] = (self._mean_minutes(previous) - row["mean_min"]
                                    if previous.any() else float("nan"))
        else:
            row["added_weight"] = row["added_pct_points"] = row["minutes_saved"] = float("nan")
        return row

    def _coverage_figures(self, state: np.ndarray) -> tuple[float, float]:
        pw = self.priority_weight
        covered = self.reach[:, state].any(axis=1)
        total = pw.sum()
        return float(pw[covered].sum()), float(100 * pw[covered].sum() / total) if total > 0 else float("nan")

    def decisions(self) -> np.ndarray:
        """Per site: fixed, kept (removable hub kept), closed (removable hub not kept), new, not chosen."""
        out = np.where(self.fixed, "fixed", np.where(self.existing, np.where(self.open, "kept", "closed"),
                                                     np.where(self.open, "new", "not chosen")))
        return out.astype(object)

    def site_table(self) -> pd.DataFrame:
        """Every site with its decision, greedy order and gain, load (priority demand whose nearest open hub it
        is) against capacity, and priority demand within reach."""
        if self.open is None:
            raise HubError("solve the model first")
        keep = [c for c in ("site_id", "name", "type", "role", "fixed", "capacity", "lad_name") if c in self.sites]
        out = self.sites[keep].copy()
        out["decision"] = self.decisions()
        order = dict(zip(self.marginal["site_id"].iloc[1:], self.marginal["order"].iloc[1:]))
        gain = dict(zip(self.marginal["site_id"].iloc[1:], self.marginal["added_weight"].iloc[1:]))
        out["order"] = out["site_id"].map(order).astype("Int64")
        out["added_weight"] = out["site_id"].map(gain)
        sub = np.where(np.isnan(self.minutes[:, self.open]), np.inf, self.minutes[:, self.open])
        load = np.zeros(len(self.sites))
        if self.open.any():
            nearest = sub.argmin(axis=1)
            ok = self.rows & np.isfinite(sub[np.arange(len(sub)), nearest])
            load[np.flatnonzero(self.open)] = np.bincount(nearest[ok], weights=self.weights[ok],
                                                          minlength=int(self.open.sum()))
        out["assigned_weight"] = np.where(self.open, load, np.nan)
        if "capacity" in out.columns:
            cap = pd.to_numeric(out["capacity"], errors="coerce")
            out["over_capacity"] = (cap.notna() & self.open & (out["assigned_weight"] > cap)).to_numpy()
        out["priority_weight_within"] = np.where(self.priority, self.weights, 0.0) @ self.reach
        rank = {d: i for i, d in enumerate(DECISIONS)}
        out["_r"] = out["decision"].map(rank)
        out = out.sort_values(["_r", "order", "site_id"], na_position="last").drop(columns="_r")
        return out.reset_index(drop=True)

    def chosen_names(self, limit: int | None = STEPS_SHOWN) -> str:
        """The chosen sites in greedy order, new ones and kept removable hubs named apart when there are both:
        "A, B" or "new: A, B; kept: C" (at most ``limit`` names each, then "and N more")."""
        chosen = self.marginal.iloc[1:]
        parts = []
        for decision in ("new", "kept"):
            names = [str(n) for n in chosen.loc[chosen["decision"] == decision, "name"]]
            if limit is not None and len(names) > limit:
                names = names[:limit] + [f"and {len(names) - limit} more"]
            if names:
                parts.append((decision, ", ".join(names)))
        if len(parts) == 1 and parts[0][0] == "new":
            return parts[0][1]
        return "; ".join(f"{decision}: {names}" for decision, names in parts) or "none"

    def _n_chosen(self, n: int) -> int:
        """``n``, or fewer when some of the sites asked for would add nothing (:attr:`idle`)."""
        return n if not self.idle else int((self.open & ~self.fixed).sum())

    def _sites_phrase(self, n: int) -> str:
        """``the best 5 sites added to the existing hubs (A, B, ...)`` (``the best site ...`` for one)."""
        n = self._n_chosen(n)
        besides = " added to the existing hubs" if self.fixed.any() else ""
        return f"the best {'site' if n == 1 else f'{n:,} sites'}{besides} ({self.chosen_names()})"

    def _verb(self, n: int, singular: str, plural: str) -> str:
        return agree(self._n_chosen(n), singular, plural)

    def statements(self) -> list[str]:
        """Sentences ready to quote: what the plan does, the solver status, closures, capacity."""
        out = self._headline() + self._idle_and_steps()
        closed = self.sites["name"][self.decisions() == "closed"].tolist()
        if closed:
            out.append(f"closes {count_of(len(closed), 'removable hub')}: {', '.join(map(str, closed))}")
        sites = self.site_table()
        if self.greedy_sentence and "over_capacity" in sites and sites["over_capacity"].any():
            over = sites[sites["over_capacity"]]
            shown = ", ".join(f"{r.name} ({r.assigned_weight:,.0f} for a capacity of {r.capacity:,.0f})"
                              for r in over.itertuples(index=False))
            out.append(f"{count_of(len(over), 'hub')} would be the nearest for more priority demand than "
                       f"{agree(len(over), 'its', 'their')} capacity: {shown}")
        out.append(self.solver.text())
        return out

    def key_statements(self) -> list[str]:
        """The few of :meth:`statements` a page leads with: what the plan does, the sites one by one, and
        whether it is proved the best."""
        return self._headline() + self._idle_and_steps() + [self.solver.text()]

    def _idle_and_steps(self) -> list[str]:
        out = []
        if self.idle:
            n = self._n_chosen(self.k)
            out.append(f"only {n} of the {count_of(self.k, 'site')} asked for {agree(n, 'adds', 'add')} anything: any "
                       f"further new site would add {self._nothing()}, so none is listed (asking for {n} gives the "
                       "same plan)")
        table = self.marginal.iloc[1:]
        if len(table) and self.greedy_sentence:
            steps = "; ".join(self._step(r) for r in table.iloc[:STEPS_SHOWN].itertuples(index=False))
            more = f"; and {len(table) - STEPS_SHOWN} more (see the marginal table)" if len(table) > STEPS_SHOWN else ""
            out.append(f"what each adds, taken one at a time, biggest gain first: {steps}{more}")
        return out

    def _step(self, r) -> str:
        return (f"{_ordinal(int(r.order))} {r.name} +{r.added_pct_points:.1f} points "
                f"({r.added_weight:,.0f} {self.label})")

    def _nothing(self) -> str:
        return f"no {self.label} within reach"

    def _headline(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _phrase(self) -> str:
        how = f" {mode_phrase(self.mode)}" if self.mode else ""
        return f"within {self.threshold_min:g} minutes{how}"

    def _where(self) -> str:
        return f" in {self.area_name}" if self.area_name else ""


class HubMCLP(HubModel):
    """Maximal covering: the ``k`` sites, besides the fixed hubs, covering the most priority demand."""

    kind = "mclp"
    cbc_options = COVER_OPTIONS

    def title(self) -> str:
        return f"MCLP (best {count_of(self.k, 'site')} for coverage)"

    def _check(self) -> None:
        super()._check()
        if not (self.rows & self.reach.any(axis=1)).any():
            filled = np.where(np.isnan(self.minutes), np.inf, self.minutes)[self.rows]
            closest = filled.min() if filled.size else np.inf
            how = f" {mode_phrase(self.mode)}" if self.mode else ""
            need = (f"allow {math.ceil(closest)} minutes or more (the closest pair), "
                    if np.isfinite(closest) else "")
            faster = " or use a faster mode (e.g. car)" if self.mode not in ("car", None) else ""
            raise InfeasibleCoverageError(f"no priority area is within {self.threshold_min:g} minutes{how} of any hub or "
                                          f"candidate, so no choice of sites covers anyone; {need}add candidates nearer "
                                          f"the priority areas{faster}")

    def _build(self) -> None:
        reach, rows = self.reach, self.rows
        fixed_cov = reach[:, self.fixed].any(axis=1)
        free = rows & ~fixed_cov & reach.any(axis=1)
        pattern, first, merged = _merge_patterns(reach[free], self.priority_weight[free])
        self.offset_weight = float(self.priority_weight[rows & fixed_cov].sum())
        self.notes.append(f"MCLP model: {count_of(len(pattern), 'demand group')} from "
                          f"{count_of(int(rows.sum()), 'priority area')} "
                          f"({int((rows & fixed_cov).sum()):,} already reach a fixed hub, "
                          f"{int((rows & ~reach.any(axis=1)).sum()):,} reach no site, the rest merged when the same "
                          f"sites reach them) x {reach.shape[1]:,} sites")
        if len(pattern) * reach.shape[1] > MAX_COVER_PAIRS:
            raise ModelTooLargeError(f"MCLP would need {len(pattern):,} demand groups x {reach.shape[1]:,} sites; "
                                     f"use fewer candidates or a shorter threshold")
        if len(pattern) == 0:
            how = f" {mode_phrase(self.mode)}" if self.mode else ""
            out_of_reach = int((rows & ~fixed_cov).sum())
            if not out_of_reach:
                raise NothingToAddError(f"the existing hubs already put every priority area within "
                                        f"{self.threshold_min:g} minutes{how} of a hub, so no new site would add "
                                        f"coverage; nothing to plan")
            raise NothingToAddError(f"the existing hubs already reach every priority area that any site can reach "
                                    f"within {self.threshold_min:g} minutes{how}, so no new site would add coverage; "
                                    f"nothing to plan ({count_of(out_of_reach, 'priority area')} "
                                    f"{agree(out_of_reach, 'is', 'are')} out of reach of every site: add "
                                    "candidate sites nearer them or allow more minutes)")
        start = self.fixed.copy()
        for _ in range(self.k):
            uncovered = ~pattern[:, start].any(axis=1) if len(pattern) else np.zeros(0, dtype=bool)
            gains = (merged * uncovered) @ pattern if len(pattern) else np.zeros(len(start))
            gains = np.where(start, -1.0, gains)
            start[int(np.argmax(gains))] = True
        self._start = start
        self.lp = sparse.mclp(pattern, merged, self.fixed, int(self.fixed.sum()) + self.k)
        self.problem = self.lp.problem
        for j, var in enumerate(self.lp.fac_vars):
            var.setInitialValue(int(start[j]))
        covered = pattern[:, start].any(axis=1)
        for i, var in enumerate(self.lp.cli_vars):
            var.setInitialValue(int(covered[i]))

    def best_possible_pct(self) -> float | None:
        """Upper bound on the coverage share (%) any plan could reach, from the solver's bound."""
        if self.solver is None or self.solver.bound is None:
            return None
        total = self.priority_weight[self.rows].sum()
        return 100 * (self.offset_weight + self.solver.bound) / total if self.problem is not None else None

    def _headline(self) -> list[str]:
        b, a = self.before.summary, self.after.summary
        out = [f"{self._sites_phrase(self.k)} {self._verb(self.k, 'raises', 'raise')} coverage of {self.label}{self._where()} "
               f"{self._phrase()} of a hub from {b['covered_pct']:.1f}% to {a['covered_pct']:.1f}% "
               f"({b['covered_weight']:,.0f} to {a['covered_weight']:,.0f})"]
        if not self.solver.optimal and self.best_possible_pct() is not None:
            out.append(f"no plan with {count_of(self.k, 'site')} can reach more than {self.best_possible_pct():.1f}%")
        return out

    def curve(self, k_max: int | None = None) -> pd.DataFrame:
        """Best coverage for k = 0..k_max new sites, each re-solved to optimality (or the time limit).

        k = 0 is the fixed hubs alone (removable hubs take a slot when kept). ``gain_weight`` is what the
        k-th extra site adds to the best plan with k - 1; the sites can differ from one k to the next.
        """
        k_max = int(k_max or self.k)
        start = self._coverage_figures(self.fixed)
        rows = [{"k": 0, "covered_weight": start[0], "covered_pct": start[1], "gain_weight": np.nan,
                 "gain_pct_points": np.nan, "status": "fixed hubs only", "gap": 0.0, "sites": ""}]
        for k in range(1, k_max + 1):
            model = HubMCLP.from_matrix(self.minutes, self.weights, self.threshold_min, k, priority=self.priority,
                                        fixed=self.fixed, existing=self.existing, demand=self.demand, sites=self.sites,
                                        time_limit_s=self.time_limit_s, mode=self.mode, area_name=self.area_name,
                                        label=self.label, verb=self.verb).solve()
            cov = model._coverage_figures(model.open)
            rows.append({"k": k, "covered_weight": cov[0], "covered_pct": cov[1],
                         "gain_weight": cov[0] - rows[-1]["covered_weight"],
                         "gain_pct_points": cov[1] - rows[-1]["covered_pct"], "status": model.solver.status,
                         "gap": model.solver.gap, "sites": ";".join(model.sites["site_id"][model.open & ~model.fixed])})
        return pd.DataFrame(rows)


class HubCapacityMCLP(HubMCLP):
    """Maximal covering where each hub serves at most its capacity (people; NaN = no limit): the ``k``
    sites, besides the fixed hubs, that let the most priority demand be *served* by a hub within reach.

    Demand can be split between hubs (a continuous share per area and hub in reach), so the answer is
    also how to share the areas out. Built by :func:`layers.hubs.sparse.capacitated_mclp` on groups of
    priority areas reached by the same sites (areas reached by a fixed hub stay in: its capacity may be
    used up). After solving, ``served`` (people per site), ``served_area`` (people per demand point) and
    :meth:`capacity_figures` report demand against capacity.
    """

    kind = "mclp"
    greedy_sentence = False  # coverage gains say little when capacity binds; the headline lists what each hub serves
    cbc_options = ()
    #: ties between hubs are broken towards the nearer one: a pair's value is w (1 - TIE_BREAK x minutes / threshold)
    TIE_BREAK = 1e-7

    def title(self) -> str:
        return f"capacitated MCLP (best {count_of(self.k, 'site')} for demand served within capacity)"

    def _check(self) -> None:
        super()._check()
        if self.capacity is None or np.isnan(self.capacity).all():
            raise HubError("planning with capacities needs a capacity (people a hub can serve) for at least one site; "
                           f"none of the {len(self.sites)} sites has one (add a capacity column to the sites file)")

    def _build(self) -> None:
        reach, rows = self.reach, self.rows
        free = rows & reach.any(axis=1)
        self._free = free
        pattern, first, merged = _merge_patterns(reach[free], self.priority_weight[free])
        self._group_of = _group_rows(reach[free])[1]  # group of each free demand point
        self._pattern, self._merged = pattern, merged
        self.offset_weight = 0.0
        pairs = int(pattern.sum())
        self.notes.append(f"capacitated MCLP model: {count_of(len(pattern), 'demand group')} from {int(rows.sum()):,} "
                          f"priority areas x {reach.shape[1]:,} sites, {pairs:,} area-hub pairs within reach")
        if pairs + len(pattern) * reach.shape[1] // 10 > MAX_COVER_PAIRS // 10:
            raise ModelTooLargeError(f"the capacitated MCLP would need {pairs:,} area-hub pairs; use fewer candidates "
                                     f"or a shorter threshold")
        if len(pattern) == 0:
            raise InfeasibleCoverageError("no priority area is within reach of any site")  # pragma: no cover - _check
        cap = self.capacity
        start = self.fixed.copy()
        for _ in range(self.k):  # greedy on coverage still uncovered (capacity ignored): a feasible start
            uncovered = ~pattern[:, start].any(axis=1)
            gains = np.where(start, -1.0, (merged * uncovered) @ pattern)
            start[int(np.argmax(gains))] = True
        self._start = start
        near = self.minutes[free][first] / self.threshold_min
        self.lp = sparse.capacitated_mclp(pattern, merged, cap, self.fixed, int(self.fixed.sum()) + self.k,
                                          tie_break=self.TIE_BREAK * near)
        self.problem = self.lp.problem
        for j, var in enumerate(self.lp.fac_vars):
            var.setInitialValue(int(start[j]))
        left = np.where(np.isnan(cap), np.inf, cap).copy()
        share = np.zeros(len(self.lp.pair_vars))
        taken = np.zeros(len(pattern))
        for t, (i, j) in enumerate(zip(self.lp.pair_rows, self.lp.pair_cols)):  # fill open hubs in pair order
            if not start[j] or taken[i] >= 1 or merged[i] <= 0:
                continue
            part = min(1.0 - taken[i], left[j] / merged[i])
            share[t], taken[i], left[j] = part, taken[i] + part, left[j] - part * merged[i]
        for var, value in zip(self.lp.pair_vars, share):
            var.setInitialValue(float(value))

    def _read_open(self) -> np.ndarray:
        opened = super()._read_open()
        share = np.array([v.value() or 0.0 for v in self.lp.pair_vars])
        share = np.clip(share, 0.0, 1.0)
        weights = self._merged[self.lp.pair_rows] * share
        self.served = np.bincount(self.lp.pair_cols, weights=weights, minlength=len(opened))
        group_share = np.bincount(self.lp.pair_rows, weights=share, minlength=len(self._pattern))
        self.served_area = np.zeros(len(self.weights))
        self.served_area[self._free] = self.priority_weight[self._free] * np.minimum(group_share, 1.0)[self._group_of]
        return opened

    def _drop_idle(self) -> None:
        """Close chosen new sites that serve nobody (their shares are all 0, so the plan's value is unchanged)."""
        idle = [int(j) for j in np.flatnonzero(self.open & ~self.fixed & ~self.existing) if self.served[j] <= 1e-6]
        self.open[idle] = False
        self.idle = [str(self.sites["name"].iloc[j]) for j in idle]

    def _nothing(self) -> str:
        return f"no {self.label} served"

    def capacity_figures(self) -> dict:
        """Priority demand (people) in all, served, unmet; unmet split into out of reach of every open hub and
        within reach but beyond the hubs' capacity."""
        total = float(self.priority_weight[self.rows].sum())
        reached = self._coverage_figures(self.open)[0]
        served = float(self.served_area.sum())
        return {"priority_weight": total, "served_weight": served,
                "served_pct": 100 * served / total if total > 0 else float("nan"),
                "unmet_weight": total - served, "out_of_reach_weight": total - reached,
                "over_capacity_weight": max(reached - served, 0.0)}

    def site_table(self) -> pd.DataFrame:
        out = super().site_table()
        served = pd.Series(self.served, index=self.sites["site_id"].to_numpy())
        out["served_weight"] = np.where(out["decision"].isin(("fixed", "kept", "new")),
                                        out["site_id"].map(served).to_numpy(dtype=float), np.nan)
        cap = pd.to_numeric(out["capacity"], errors="coerce") if "capacity" in out else np.nan
        out["spare_capacity"] = cap - out["served_weight"]
        return out

    def _headline(self) -> list[str]:
        b, a, f = self.before.summary, self.after.summary, self.capacity_figures()
        out = [f"{self._sites_phrase(self.k)}, with each hub serving at most its capacity, "
               f"{self._verb(self.k, 'serves', 'serve')} "
               f"{f['served_weight']:,.0f} of {f['priority_weight']:,.0f} {self.label}{self._where()} "
               f"({f['served_pct']:.1f}%) from a hub {self._phrase()}",
               f"unmet demand: {f['unmet_weight']:,.0f} {self.label} ({f['over_capacity_weight']:,.0f} within reach "
               f"but beyond the hubs' capacity, {f['out_of_reach_weight']:,.0f} out of reach of every open hub); "
               f"coverage within reach {b['covered_pct']:.1f}% before, {a['covered_pct']:.1f}% after"]
        sites = self.site_table()
        full = sites[(sites["spare_capacity"] <= 0.5) & sites["served_weight"].notna()]
        if len(full):
            shown = ", ".join(f"{r.name} ({r.served_weight:,.0f} of {r.capacity:,.0f})"
                              for r in full.head(STEPS_SHOWN).itertuples(index=False))
            more = f" and {len(full) - STEPS_SHOWN} more" if len(full) > STEPS_SHOWN else ""
            out.append(f"{count_of(len(full), 'hub')} {agree(len(full), 'is', 'are')} full: {shown}{more}")
        open_sites = sites[sites["served_weight"].notna()].sort_values("served_weight", ascending=False)
        shown = ", ".join(f"{r.name} {r.served_weight:,.0f}" + (f" of {r.capacity:,.0f}" if r.capacity == r.capacity
                                                                 else "")
                          for r in open_sites.head(STEPS_SHOWN).itertuples(index=False))
        extra = len(open_sites) - STEPS_SHOWN
        more = f"; and {extra} more (see the sites table)" if extra > 0 else ""
        out.append(f"{self.label} served by each open hub (of its capacity): {shown}{more}")
        return out

    def curve(self, k_max: int | None = None) -> pd.DataFrame:  # pragma: no cover - refused in plan_hubs
        raise HubError("--curve re-solves the uncapacitated MCLP; leave out --capacity to use it")


class HubPMedian(HubModel):
    """p-median: the ``k`` sites, besides the fixed hubs, with the shortest demand-weighted journeys."""

    kind = "pmedian"

    def title(self) -> str:
        return f"p-median (best {count_of(self.k, 'site')} for journey times)"

    def _build(self) -> None:
        reach_any = np.isfinite(self.minutes).any(axis=1)
        use = self.rows & reach_any
        lost = int((self.rows & ~reach_any).sum())
        if lost:
            self.notes.append(f"{count_of(lost, 'priority area')} cannot reach any site and "
                              f"{agree(lost, 'is', 'are')} left out of the p-median")
        if not use.any():
            raise DemandError("no priority area can reach any site; check the sites and the travel-time engine")
        m = self.minutes.shape[1]
        if int(use.sum()) * m > MAX_PMEDIAN_PAIRS:
            raise ModelTooLargeError(f"p-median on {int(use.sum()):,} priority areas x {m:,} sites needs "
                                     f"{int(use.sum()) * m:,} assignment variables (limit {MAX_PMEDIAN_PAIRS:,}); "
                                     f"use fewer candidates, or mclp")
        cost = self.minutes[use]
        penalty = UNREACHABLE_PENALTY_FACTOR * max(float(np.nanmax(cost)), 1.0)
        self._penalised = np.where(np.isnan(self.minutes), penalty, self.minutes)
        cost = self._penalised[use]
        w = self.weights[use]
        start = self.fixed.copy()
        best = cost[:, start].min(axis=1) if start.any() else np.full(len(cost), np.inf)
        for _ in range(self.k):
            totals = (w[:, None] * np.minimum(best[:, None], cost)).sum(axis=0)
            totals = np.where(start, np.inf, totals)
            j = int(np.argmin(totals))
            start[j] = True
            best = np.minimum(best, cost[:, j])
        self._start = start
        predefined = self.fixed.astype(int) if self.fixed.any() else None
        self.spopt = PMedian.from_cost_matrix(cost, w, int(self.fixed.sum()) + self.k,
                                              predefined_facilities_arr=predefined, name="wardscope_pmedian")
        self.problem = self.spopt.problem
        self.lp = self.spopt
        for j, var in enumerate(self.spopt.fac_vars):
            var.setInitialValue(int(start[j]))
        open_idx = np.flatnonzero(start)
        nearest = open_idx[cost[:, open_idx].argmin(axis=1)]
        for i, j in enumerate(nearest):
            self.spopt.cli_assgn_vars[i, j].setInitialValue(1)

    def _gains(self, state: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """Minus the demand-weighted journey minutes (the p-median objective, unreachable pairs at the
        penalty) after opening each candidate: the largest is the biggest saving."""
        cost = self._penalised
        best = cost[:, state].min(axis=1) if state.any() else np.full(len(cost), np.inf)
        return -(self.priority_weight[:, None] * np.minimum(best[:, None], cost[:, candidates])).sum(axis=0)

    def _value(self, state: np.ndarray) -> float:
        if not state.any():
            return -np.inf
        return -float((self.priority_weight * self._penalised[:, state].min(axis=1)).sum())

    def _nothing(self) -> str:
        return "no shorter journey for anyone"

    def _step(self, r) -> str:
        saved = f"-{r.minutes_saved:.1f} min" if np.isfinite(r.minutes_saved) else f"average {r.mean_min:.1f} min"
        return f"{_ordinal(int(r.order))} {r.name} {saved}, +{r.added_pct_points:.1f} points covered"

    def _headline(self) -> list[str]:
        before, after = self._mean_minutes(self.existing), self._mean_minutes(self.open)
        how = f" {mode_phrase(self.mode)}" if self.mode else ""
        was = f"from {before:.1f} to {after:.1f} minutes" if np.isfinite(before) else f"to {after:.1f} minutes"
        b, a = self.before.summary, self.after.summary
        return [f"{self._sites_phrase(self.k)} {self._verb(self.k, 'brings', 'bring')} the average journey of {self.label}{self._where()} "
                f"to their nearest hub{how} {was}",
                f"coverage {self._phrase()}: {b['covered_pct']:.1f}% before, {a['covered_pct']:.1f}% after"]


class HubLSCP(HubModel):
    """Location set covering: the fewest sites, besides the fixed hubs, putting all priority demand in reach."""

    kind = "lscp"
    uses_k = False
    cbc_options = COVER_OPTIONS

    def title(self) -> str:
        return "LSCP (fewest sites to reach every priority area)"

    def _check(self) -> None:
        reach, rows = self.reach, self.rows
        fixed_cov = reach[:, self.fixed].any(axis=1)
        if self.k is not None:
            self.notes.append(f"LSCP finds the number of sites itself; k = {self.k} is not used")
        if not self.choosable.any() and (rows & ~fixed_cov).any():
            lost = int((rows & ~fixed_cov).sum())
            raise NoCandidatesError(f"{count_of(lost, 'priority area')} {agree(lost, 'has', 'have')} no hub within "
                                    f"reach and there are no candidate sites: {ADD_CANDIDATES}")
        bad = rows & ~reach.any(axis=1)
        if bad.any():
            raise InfeasibleCoverageError(self._infeasible_message(bad))

    def _infeasible_message(self, bad: np.ndarray) -> str:
        filled = np.where(np.isnan(self.minutes), np.inf, self.minutes)
        nearest = filled.min(axis=1) if filled.shape[1] else np.full(len(filled), np.inf)
        idx = np.flatnonzero(bad)
        names = self.demand["name"] if "name" in self.demand else pd.Series([None] * len(self.demand))

        def show(i):
            near = f"nearest site {nearest[i]:.0f} min" if np.isfinite(nearest[i]) else "no site reachable"
            name = names.iloc[i]
            label = self.demand["code"].iloc[i] + (f" {name}" if isinstance(name, str) and name else "")
            return f"{label}: {near}"

        shown = "; ".join(show(i) for i in idx[:3]) + (f"; and {len(idx) - 3} more" if len(idx) > 3 else "")
        need = nearest[self.rows].max()
        fixes = []
        if np.isfinite(need):
            fixes.append(f"{math.ceil(need)} minutes or more")
        fixes.append("candidate sites near those areas")
        if self.mode not in ("car", None):
            fixes.append("a faster mode (e.g. car)")
        how = f" {mode_phrase(self.mode)}" if self.mode else ""
        return (f"no plan can put every priority area within {self.threshold_min:g} minutes{how} of a hub: "
                f"{count_of(len(idx), 'priority area')} {agree(len(idx), 'has', 'have')} no existing hub or "
                f"candidate within reach ({shown}); "
                f"it becomes solvable with {', '.join(fixes[:-1])} or {fixes[-1]}")

    def _build(self) -> None:
        reach, rows = self.reach, self.rows
        free = rows & ~reach[:, self.fixed].any(axis=1)
        pattern, first, _ = _merge_patterns(reach[free], np.ones(int(free.sum())))
        self.notes.append(f"LSCP model: {count_of(len(pattern), 'distinct group')} of priority areas not yet "
                          "within reach of a "
                          f"fixed hub x {reach.shape[1]:,} sites")
        if len(pattern) * reach.shape[1] > MAX_COVER_PAIRS:
            raise ModelTooLargeError(f"LSCP would need {len(pattern):,} demand groups x {reach.shape[1]:,} sites; "
                                     f"use fewer candidates or a shorter threshold")
        start = self.fixed.copy()
        uncovered = np.ones(len(pattern), dtype=bool)
        while uncovered.any():
            gains = np.where(start, -1, uncovered.astype(int) @ pattern)
            j = int(np.argmax(gains))
            if gains[j] <= 0:  # pragma: no cover - excluded by the feasibility check in _check
                raise InfeasibleCoverageError("some priority areas cannot be reached by any site")
            start[j] = True
            uncovered &= ~pattern[:, j]
        self._start = start
        if len(pattern) == 0:
            self.notes.append("the fixed hubs already reach every priority area: no new site is needed")
            return
        self.lp = sparse.lscp(pattern, self.fixed)
        self.problem = self.lp.problem
        for j, var in enumerate(self.lp.fac_vars):
            var.setInitialValue(int(start[j]))

    def _headline(self) -> list[str]:
        n_new = int((self.open & ~self.fixed).sum())
        names = self.chosen_names()
        fixed = f" added to the {count_of(int(self.fixed.sum()), 'existing hub')}" if self.fixed.any() else ""
        b = self.before.summary
        return [f"{count_of(n_new, 'site')}{fixed} ({names}) {agree(n_new, 'puts', 'put')} every priority area{self._where()} {self._phrase()} "
                "of a hub "
                f"(coverage of {self.label} from {b['covered_pct']:.1f}% to {self.after.summary['covered_pct']:.1f}%)"]


MODELS = {"mclp": HubMCLP, "pmedian": HubPMedian, "lscp": HubLSCP}
