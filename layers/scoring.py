"""Priority scores: a weighted sum of normalised indicators, with ranks, bands and reasons.

How a score is made (the README explains it in plain words):

1. Every indicator in the profile is taken for **all of England** at the
   chosen level, so a score means the same thing in Luton and in Worcester.
   Optionally, small-denominator rates are first shrunk towards their
   district's rate (:mod:`layers.shrinkage`).
2. Each indicator is normalised so that more need is a larger number
   (:mod:`layers.normalise`; the profile chooses the method).
3. The score is the weighted average of the normalised indicators, with the
   profile's weights scaled to add up to one. Each indicator's
   *contribution* is its weight times its normalised value; contributions
   add up to the score, which is how the app explains why an area is a
   priority. An area with a missing indicator is flagged; with the
   ``reweight`` rule its other indicators carry the missing weight, and it
   gets no score at all when more than ``max_missing_share`` of the weight
   is missing (never a silent zero).
4. Areas are ranked (1 = most need) nationally and within the area of
   interest, and banded: the top 10% and top 20% of the area of interest
   (or of England, or above a score threshold).
5. "Needs that overlap": how many of the indicators put the area in the
   worst fifth of England.

The work is in :func:`score_matrix` (plain arrays); :func:`score_area` loads
the indicators for an area of interest and delegates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.areas import Area, resolve_area
from geo.errors import WardscopeError
from layers.normalise import METHODS, normalise
from layers.profiles import Profile, ProfileError
from layers.robustness import DEFAULT_SEED, monte_carlo
from layers.shrinkage import shrink_rates
from layers.weighted import band_size, weighted_scores

NO_DATA = "no data"
OTHER = "other"


def band_labels(shares: tuple[float, ...]) -> list[str]:
    """``(0.1, 0.2)`` -> ``['top 10%', 'top 20%']``."""
    return [f"top {round(s * 100):g}%" for s in shares]


def priority_bands(profile: Profile) -> list[str]:
    """The band labels that count as priority for ``profile`` (its share bands, or "priority" for a threshold)."""
    return ["priority"] if profile.threshold is not None else band_labels(profile.band_shares)


@dataclass
class MatrixScore:
    """Scores for n areas from an (n x k) matrix of raw indicator values."""

    score: np.ndarray            # (n,) weighted score, NaN = no score
    contributions: np.ndarray    # (n, k) weight x normalised value; rows sum to score
    normalised: np.ndarray       # (n, k)
    missing_share: np.ndarray    # (n,) share of the weight that was missing
    weights: np.ndarray          # (k,) scaled to sum to 1


def score_matrix(values: np.ndarray, weights: np.ndarray, directions: np.ndarray, method: str, *,
                 missing: str = "reweight", max_missing_share: float = 0.34) -> MatrixScore:
    """Normalise each column (over all rows given) and combine with ``weights``."""
    weights = np.asarray(weights, dtype=float)
    if not np.isfinite(weights.sum()) or weights.sum() <= 0 or (weights < 0).any():
        raise ProfileError("weights must be ordinary numbers, 0 or more and not all zero")
    w = weights / weights.sum()
    norm = normalise(values, directions, method)
    score, contrib, miss = weighted_scores(norm, w, missing=missing, max_missing_share=max_missing_share)
    return MatrixScore(score, contrib, norm, miss, w)


def ranks_desc(score: np.ndarray) -> np.ndarray:
    """Rank 1 = highest score; ties share the best rank; NaN gets no rank (0)."""
    out = np.zeros(score.shape, dtype=np.int64)
    ok = np.flatnonzero(~np.isnan(score))
    if len(ok):
        values = -score[ok]
        order = np.argsort(values)
        xs = values[order]
        first = np.concatenate(([True], xs[1:] != xs[:-1]))
        start = np.flatnonzero(first)  # position where each run of equal scores starts
        ranks_sorted = start[np.cumsum(first) - 1] + 1
        out[ok[order]] = ranks_sorted
    return out


def id_lists(mask: np.ndarray, ids: list[str]) -> pd.Categorical:
    """Per row, the ids whose column is True, joined with ';'.

    Built once per distinct pattern and returned as a categorical, so 33,000
    rows cost a few hundred strings rather than 33,000.
    """
    if mask.shape[1] == 0:
        return pd.Categorical([""] * mask.shape[0])
    bits = mask.astype(np.int64) @ (1 << np.arange(mask.shape[1], dtype=np.int64))
    patterns, inverse = np.unique(bits, return_inverse=True)
    names = [";".join(i for j, i in enumerate(ids) if p >> j & 1) for p in patterns.tolist()]
    return pd.Categorical.from_codes(inverse.reshape(-1), names)


def bands(rank: np.ndarray, n_scored: int, shares: tuple[float, ...]) -> np.ndarray:
    """Band label per area from its rank among ``n_scored`` areas (rank 0 = no score)."""
    labels = band_labels(shares)
    conditions = [rank == 0] + [rank <= band_size(share, n_scored) for share in sorted(shares)]
    choices = [NO_DATA] + [label for _, label in sorted(zip(shares, labels))]
    return np.select(conditions, choices, OTHER).astype(object)


def _quantile(x: np.ndarray, q: float) -> float:
    """``np.quantile(x, q)`` (linear interpolation) by partial sort; +inf for an empty ``x``."""
    if len(x) == 0:
        return np.inf
    pos = q * (len(x) - 1)
    lo, hi = int(np.floor(pos)), int(np.ceil(pos))
    part = np.partition(x, [lo, hi])
    return float(part[lo] + (pos - lo) * (part[hi] - part[lo]))


def overlap_counts(values: np.ndarray, directions: np.ndarray, worst_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Per area: how many indicators are in the worst ``worst_share`` nationally, and which (bool matrix)."""
    signed = np.ascontiguousarray((values * directions[None, :]).T)
    cut = np.array([_quantile(row[~np.isnan(row)], 1.0 - worst_share) for row in signed])
    worst = (signed >= cut[:, None]).T  # NaN compares False: never "worst"
    return worst.sum(axis=1), worst


@dataclass
class Scored:
    """Result of :func:`score_area`: one row per area of the area of interest."""

    areas: pd.DataFrame
    profile: Profile
    level: str
    area: Area
    indicators: list[str]
    notes: list[str] = field(default_factory=list)
    national: pd.DataFrame | None = None

    @property
    def contribution_columns(self) -> list[str]:
        return [f"contrib__{i}" for i in self.indicators]


def _directions(profile: Profile, ids: list[str], registry: dict) -> np.ndarray:
    out = []
    for item in profile.indicators:
        if item.id in ids:
            out.append(item.direction if item.direction is not None else registry[item.id].direction)
    return np.asarray(out, dtype=float)


def resolve_indicators(profile: Profile, level: str, registry: dict, installed: set[str]) -> tuple[list[str], list[str]]:
    """Ids to use and notes; raises :class:`ProfileError` for unknown or unavailable indicators."""
    use, notes = [], []
    for item in profile.indicators:
        if item.id not in registry:
            close = [k for k in registry if item.id.split("_")[0] in k][:4]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ProfileError(f"profile {profile.id!r}: no indicator {item.id!r}{hint}; see python cli.py indicators --list")
        ind = registry[item.id]
        if level not in ind.levels:
            raise ProfileError(f"profile {profile.id!r}: {item.id} ({ind.label}) is not available at {level} level; "
                               f"it exists at {', '.join(ind.levels)}")
        if item.id not in installed:
            if item.when_installed:
                notes.append(f"{ind.label} is not installed here, so it was left out of the score; "
                             f"the other weights were scaled up")
                continue
            command = "python cli.py install --nomis" if getattr(ind, "table", "") in ("claimant", "aps") else "python cli.py install"
            raise ProfileError(f"profile {profile.id!r}: {item.id} ({ind.label}) is not installed; run {command}, "
                               f"or mark it when_installed: true in the profile")
        if item.weight == 0:
            notes.append(f"{ind.label} has weight 0 and does not affect the score")
        use.append(item.id)
    if not use or sum(i.weight for i in profile.indicators if i.id in use) <= 0:
        raise ProfileError(f"profile {profile.id!r}: no indicator with a positive weight is available")
    return use, notes


def prepare_values(table: pd.DataFrame, ids: list[str], registry: dict, *, shrink: bool) -> np.ndarray:
    """Raw values (n x k); rate indicators shrunk towards their district when asked."""
    cols = []
    for i in ids:
        num, den = f"{i}__num", f"{i}__den"
        if shrink and registry[i].kind == "rate" and num in table and den in table:
            rate = shrink_rates(table[num], table[den], table["lad_code"])
            scale = 100.0 if registry[i].unit.startswith("%") else 1.0
            cols.append((rate * scale).to_numpy(dtype=float))
        else:
            column = table[i]
            cols.append(column.to_numpy(dtype=float) if pd.api.types.is_numeric_dtype(column)
                        else pd.to_numeric(column, errors="coerce").to_numpy(dtype=float))
    return np.column_stack(cols) if cols else np.empty((len(table), 0))


def with_extra(table: pd.DataFrame, registry: dict, installed: set[str], extra: pd.DataFrame | None,
               extra_registry: dict | None) -> tuple[pd.DataFrame, dict, set[str]]:
    """Add session indicators (e.g. access minutes, keyed by ``code``) to the table, registry and installed ids."""
    if extra is None or extra.empty:
        return table, registry, installed
    cols = [c for c in extra.columns if c != "code"]
    joined = table.drop(columns=[c for c in cols if c in table.columns])
    joined = joined.merge(extra[["code", *cols]], on="code", how="left")
    return joined, {**registry, **(extra_registry or {})}, installed | set(cols)


def score_table(table: pd.DataFrame, profile: Profile, area: Area, level: str, registry: dict,
                installed: set[str], *, sensitivity: int = 0, seed: int = DEFAULT_SEED,
                vary_methods: bool | None = None, extra: pd.DataFrame | None = None,
                extra_registry: dict | None = None) -> Scored:
    """Score every area of ``table`` (all of England at ``level``) and return the area of interest's rows.

    ``extra`` adds indicators known only to this session (keyed by ``code``, described by
    ``extra_registry``), such as minutes to the session's employment sites. The steps: add the
    session's indicators, check the profile's indicators, score England, keep the area of interest's
    rows with their ranks and bands, and (``sensitivity`` draws) add how robust each rank is.
    """
    table, registry, installed = with_extra(table, registry, installed, extra, extra_registry)
    ids, notes = resolve_indicators(profile, level, registry, installed)
    weights = np.array([i.weight for i in profile.indicators if i.id in ids], dtype=float)
    directions = _directions(profile, ids, registry)
    values = prepare_values(table, ids, registry, shrink=profile.shrinkage)
    result = score_matrix(values, weights, directions, profile.normalisation,
                          missing=profile.missing, max_missing_share=profile.max_missing_share)
    in_area = table["lad_code"].isin(area.lad_codes).to_numpy()
    if not in_area.any():
        raise WardscopeError(f"no {level} areas in {area.name}")
    out = area_rows(table, in_area, result, values, directions, profile, ids)
    scored = Scored(out, profile, level, area, ids, notes)
    if sensitivity:
        add_robustness(scored, values, weights, directions, in_area, sensitivity=sensitivity, seed=seed,
                       vary_methods=vary_methods)
    return scored


def area_bands(profile: Profile, area_scores: np.ndarray, area_rank: np.ndarray, national_rank: np.ndarray,
               in_area: np.ndarray) -> np.ndarray:
    """Band label per area of interest: by score threshold, by national rank or by rank in the area."""
    n_area = int((~np.isnan(area_scores)).sum())
    n_nat = int((national_rank > 0).sum())
    if profile.threshold is not None:
        return np.where(np.isnan(area_scores), NO_DATA, np.where(area_scores >= profile.threshold, "priority", OTHER))
    if profile.band_scope == "national":
        return bands(national_rank, n_nat, profile.band_shares)[in_area]
    return bands(area_rank[in_area], n_area, profile.band_shares)


def area_rows(table: pd.DataFrame, in_area: np.ndarray, result: MatrixScore, values: np.ndarray,
              directions: np.ndarray, profile: Profile, ids: list[str]) -> pd.DataFrame:
    """The area of interest's rows: identity, score, ranks, band, overlapping needs and contributions."""
    national_rank = ranks_desc(result.score)
    area_score = np.where(in_area, result.score, np.nan)
    area_rank = ranks_desc(area_score)
    overlap, worst = overlap_counts(values, directions, profile.overlap_worst_share)

    area_scores = result.score[in_area]
    n_area = int((~np.isnan(area_scores)).sum())
    n_nat = int((~np.isnan(result.score)).sum())
    band = area_bands(profile, area_scores, area_rank, national_rank, in_area)
    unscored = np.isnan(area_scores)

    def blank_if_unscored(values: np.ndarray) -> pd.arrays.IntegerArray:
        # an area with no score has no rank and no count: blank, never 0
        return pd.arrays.IntegerArray(np.asarray(values, dtype=np.int64), unscored.copy())

    columns = {
        "score": np.round(area_scores, 3), "rank": blank_if_unscored(area_rank[in_area]),
        "rank_national": blank_if_unscored(national_rank[in_area]),
        "n_ranked": np.full(len(area_scores), n_area), "n_ranked_national": np.full(len(area_scores), n_nat),
        "band": band, "overlap_count": blank_if_unscored(overlap[in_area]), "overlap_ids": id_lists(worst[in_area], ids),
        "missing_ids": id_lists(np.isnan(values[in_area]), ids),
    }
    contrib = np.round(result.contributions[in_area], 3)
    columns.update({f"contrib__{i}": contrib[:, j] for j, i in enumerate(ids)})
    # one concat, not a column at a time: pandas charges per inserted column
    return pd.concat([table.loc[in_area, ["code", "name", "lad_code", "lad_name"]].reset_index(drop=True),
                      pd.DataFrame(columns)], axis=1)


def add_robustness(scored: Scored, values: np.ndarray, weights: np.ndarray, directions: np.ndarray,
                   in_area: np.ndarray, *, sensitivity: int, seed: int, vary_methods: bool | None = None) -> None:
    """Add each area's rank range and band share over ``sensitivity`` weight draws (see :mod:`layers.robustness`)."""
    profile = scored.profile
    methods = None
    if vary_methods if vary_methods is not None else profile.vary_methods:
        methods = list(METHODS)
    scope = np.ones(len(values), dtype=bool) if profile.band_scope == "national" else in_area
    robust = monte_carlo(values, weights, directions, profile, n_draws=sensitivity, seed=seed,
                         methods=methods, scope=scope)
    robust = robust[in_area[scope]].reset_index(drop=True)
    scored.areas = pd.concat([scored.areas, robust], axis=1)
    scored.notes.append(f"How robust each ranking is: the scores were worked out again with {sensitivity:,} "
                        "different weightings of the indicators, to see which priorities hold (Dirichlet draws, "
                        f"concentration {profile.sensitivity_concentration:g}"
                        f"{', methods varied' if methods else ''}; seed {seed})")


def top_reasons(row: pd.Series, ids: list[str], labels: dict[str, str], n: int = 3) -> list[str]:
    """The ``n`` indicators contributing most to an area's score, as labels."""
    return top_reasons_table(pd.DataFrame([row]), ids, labels, n)[0]


def top_reasons_table(frame: pd.DataFrame, ids: list[str], labels: dict[str, str], n: int = 3) -> list[list[str]]:
    """:func:`top_reasons` for every row of ``frame`` at once (all of England's wards in well under a second).

    Largest contribution first; equal ones in reverse id order; unknown contributions are never a reason.
    """
    cols = sorted({i for i in ids if f"contrib__{i}" in frame}, reverse=True)
    if not cols:
        return [[] for _ in range(len(frame))]
    values = (frame[[f"contrib__{i}" for i in cols]].apply(pd.to_numeric, errors="coerce")
              .to_numpy(dtype=float, na_value=np.nan))
    known = ~np.isnan(values)
    # a stable sort keeps equal contributions in column order, which is reverse id order; unknowns are
    # dropped before the first n are taken, so they never push a known one out
    order = np.argsort(-np.where(known, values, -np.inf), axis=1, kind="stable")
    names = [labels.get(i, i) for i in cols]
    return [[names[j] for j in row if ok[j]][:n] for row, ok in zip(order, known)]


def score_area(profile: Profile, area: str | Area, *, level: str | None = None, store=None,
               sensitivity: int = 0, seed: int = DEFAULT_SEED, vary_methods: bool | None = None,
               extra: pd.DataFrame | None = None, extra_registry: dict | None = None) -> Scored:
    """Score an area of interest with a profile (the one entry point for the CLI and the app).

    ``level`` defaults to the profile's level. Indicators are normalised over
    all of England at that level; ranks and bands are reported for the area.
    """
    from geo.store import open_store
    from layers.indicators import available, england_table
    from layers.registry import load_registry

    store = store or open_store()
    level = level or profile.level
    if level not in ("lsoa", "ward"):
        raise ProfileError(f"priority scores are for lsoa or ward level, not {level!r}")
    if not isinstance(area, Area):
        area = resolve_area(area, store.districts())
    registry = load_registry()
    installed = set(available(level, store=store))
    _, all_registry, all_installed = with_extra(pd.DataFrame({"code": []}), registry, installed, extra, extra_registry)
    ids, _ = resolve_indicators(profile, level, all_registry, all_installed)
    table = england_table(level, [i for i in ids if i in installed], store)
    return score_table(table, profile, area, level, registry, installed, sensitivity=sensitivity, seed=seed,
                       vary_methods=vary_methods, extra=extra, extra_registry=extra_registry)


def score_output(scored: Scored) -> pd.DataFrame:
    """The table the CLI prints: identity, score, ranks, band, overlap, robustness, then contributions."""
    first = ["code", "name", "lad_code", "lad_name", "score", "rank", "rank_national", "band", "overlap_count"]
    robust = [c for c in ("robust", "band_share", "median_rank", "rank_p05", "rank_p95") if c in scored.areas]
    rest = scored.contribution_columns + ["overlap_ids", "missing_ids"]
    return scored.areas[first + robust + rest].sort_values(["rank", "code"], na_position="last")


#: Columns that hold Census 2021 usual residents, best first.
POPULATION_COLUMNS = ("census21_population", "census21_disabled_pct__den")


def population_of(table: pd.DataFrame, codes: pd.Series) -> np.ndarray:
    """Census 2021 usual residents for ``codes`` from an indicator table (NaN where unknown)."""
    for col in POPULATION_COLUMNS:
        if col in table:
            return table.set_index("code")[col].reindex(codes).to_numpy(dtype=float)
    return np.full(len(codes), np.nan)
