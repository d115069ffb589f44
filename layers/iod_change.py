"""Change in IoD deciles from IoD 2019 to IoD 2025, on 2021 LSOAs (England; no geometry, no CRS).

IoD 2019 is published on 2011 LSOAs. Its decile on a 2021 LSOA comes from
the ONS LSOA 2011 to 2021 change lookup:

* U (unchanged) and S (split): the 2011 LSOA's published decile;
* M (merged): the decile of the population-weighted mean of the merged 2011
  LSOAs' IoD 2019 ranks (weights: IoD 2019 mid-2015 population), that is
  ``ceil(10 * mean rank / 32,844)``, as MHCLG's deciles are made from ranks;
* X (irregular): unknown (NaN), never guessed.

The change is IoD 2025 decile minus IoD 2019 decile, a whole number from -9
to 9: **negative means the LSOA moved into a more deprived decile relative
to the other LSOAs in England** (decile 1 is the most deprived 10%),
positive into a less deprived one. MHCLG: scores cannot be compared across
editions; only ranks and deciles, as positions relative to other areas.
An area that moved to a more deprived decile need not have become more
deprived in absolute terms.

Above LSOA (``kind: score``): the population-weighted mean change (weights:
the IoD 2025 score weights, see :func:`layers.iod.build_iod2025`), and the
share of LSOAs that moved into a more (or less) deprived IMD decile.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from layers.iod import CHANGE_ORDER, DOMAINS, DOMAINS19, LSOA11_ENGLAND

TABLE = "iod_change"
#: (suffix of the ids, IoD 2019 stem, IoD 2025 stem): "" for the IMD, "_income" ... for the domains
STEMS = [(stem25.replace("imd2025", ""), stem19, stem25) for (stem19, _), (stem25, _, _) in zip(DOMAINS19, DOMAINS)]
SHARES = {"imd_moved_more_deprived_pct": -1, "imd_moved_less_deprived_pct": 1}


def change_id(suffix: str) -> str:
    """The registry id of the decile change of the IMD (``suffix`` "") or a domain ("_income", ...)."""
    return f"imd{suffix}_decile_change"


def kind_of(change: pd.DataFrame, codes: pd.Index) -> pd.Series:
    """The change kind (U, S, M or X) of each 2021 LSOA in ``codes``; X wins over M over S over U."""
    return (change.assign(order=change["change"].map(CHANGE_ORDER)).sort_values(["lsoa21_code", "order"])
            .drop_duplicates("lsoa21_code").set_index("lsoa21_code")["change"].reindex(codes))


def deciles_2019_on_lsoa21(ranks11: pd.DataFrame, pop11: pd.Series, change: pd.DataFrame,
                           codes: pd.Index) -> pd.DataFrame:
    """IoD 2019 deciles (1 = most deprived 10%) of every domain on the 2021 LSOAs ``codes``.

    ``ranks11``: ``code`` and ``<stem>_rank`` by LSOA 2011 (:func:`layers.iod.read_iod2019_ranks`);
    ``pop11``: mid-2015 population by LSOA 2011; ``change``: ``lsoa11_code``, ``lsoa21_code``, ``change``.
    A 2021 LSOA made from one 2011 LSOA takes its decile; a merged one the decile of the
    population-weighted mean rank, unknown when a part's rank or population is; X is NaN.
    Returns ``<stem>_decile`` columns (float, NaN = unknown) indexed by ``codes``.
    """
    links = change[["lsoa11_code", "lsoa21_code", "change"]].reset_index(drop=True)
    key = links["lsoa21_code"].to_numpy(dtype=object)
    single = links.groupby("lsoa21_code")["lsoa11_code"].transform("size").to_numpy() == 1
    pop = pop11.reindex(links["lsoa11_code"]).to_numpy(dtype="float64")
    weight = np.where(single, 1.0, np.where(pop > 0, pop, np.nan))
    ranks = ranks11.set_index("code").reindex(links["lsoa11_code"])
    kinds = kind_of(links, codes)
    out = pd.DataFrame(index=codes)
    for _, stem19, _ in STEMS:
        rank = ranks[f"{stem19}_rank"].to_numpy(dtype="float64")
        num = pd.Series(rank * weight).groupby(key).sum(min_count=1)
        den = pd.Series(weight).groupby(key).sum(min_count=1)
        unknown = pd.Series(np.isnan(rank * weight)).groupby(key).any()
        mean = (num / den).where(~unknown).reindex(codes)
        decile = np.ceil(10.0 * mean.to_numpy() / LSOA11_ENGLAND)
        out[f"{stem19}_decile"] = np.where(kinds.to_numpy() == "X", np.nan, decile)
    return out


def build(ranks11: pd.DataFrame, pop11: pd.Series, change: pd.DataFrame, iod2025: pd.DataFrame,
          lsoa: pd.DataFrame, weight: pd.Series) -> pd.DataFrame:
    """The ``iod_change_lsoa`` table, one row per 2021 LSOA of ``lsoa`` (``code``, ``lad_code``).

    ``iod2025``: the ``iod2025_lsoa`` table (``code``, ``<stem>_decile``); ``weight``: people by LSOA 2021
    (for the ward and district mean change). Columns per domain: ``imd<suffix>_decile_2019`` (as mapped),
    ``imd<suffix>_decile_2025``, the change ``imd<suffix>_decile_change`` with its ``__num``/``__den``
    (change x people, people); the 0/1 rows of :data:`SHARES`; ``iod_change__kind`` (U, S, M, X) and
    ``iod_change__from`` (the 2011 LSOAs, ``;``-separated).
    """
    codes = pd.Index(lsoa["code"].to_numpy(dtype=object), dtype=object)
    d19 = deciles_2019_on_lsoa21(ranks11, pop11, change, codes)
    d25 = iod2025.set_index("code").reindex(codes)
    people = pd.to_numeric(weight.reindex(codes), errors="coerce").to_numpy(dtype="float64")
    people = np.where(people > 0, people, np.nan)
    table = pd.DataFrame({"code": codes, "lad_code": lsoa.set_index("code")["lad_code"].reindex(codes).to_numpy()})
    for suffix, stem19, stem25 in STEMS:
        before = d19[f"{stem19}_decile"].to_numpy()
        after = d25[f"{stem25}_decile"].to_numpy(dtype="float64")
        delta = after - before
        ind = change_id(suffix)
        table[f"imd{suffix}_decile_2019"] = before
        table[f"imd{suffix}_decile_2025"] = after
        table[ind] = delta
        ok = ~np.isnan(delta) & ~np.isnan(people)
        table[f"{ind}__num"] = np.where(ok, delta * people, np.nan)
        table[f"{ind}__den"] = np.where(ok, people, np.nan)
    delta = table[change_id("")].to_numpy()
    for ind, sign in SHARES.items():
        known = ~np.isnan(delta)
        table[f"{ind}__num"] = np.where(known, (np.sign(delta) == sign).astype("float64"), np.nan)
        table[f"{ind}__den"] = np.where(known, 1.0, np.nan)
    table["iod_change__kind"] = kind_of(change, codes).to_numpy()
    parents = change.sort_values("lsoa11_code").groupby("lsoa21_code")["lsoa11_code"].agg(";".join)
    table["iod_change__from"] = parents.reindex(codes).to_numpy()
    return table


def counts_note(table: pd.DataFrame) -> str:
    """One line for the install notes: how many 2021 LSOAs have a change, and how they moved."""
    delta = table[change_id("")]
    known = delta.notna()
    kinds = table["iod_change__kind"].value_counts().to_dict()
    return (f"IMD decile change 2019 to 2025: {int(known.sum()):,} of {len(table):,} LSOAs 2021 "
            f"({int((delta < 0).sum()):,} moved into a more deprived decile, {int((delta > 0).sum()):,} into a less "
            f"deprived one); IoD 2019 mapped by change kind: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items()))
            + " (M: decile of the population-weighted mean rank; X: unknown)")
