"""Demand for hubs: where the people who need them live, how many, and which areas are priority.

A demand layer is points in EPSG:27700 (metres), one per area (normally an LSOA 2021 at its
population-weighted centroid), with :data:`DEMAND_COLUMNS`:

* ``weight``: how much demand the point carries, e.g. people (usual residents, economically inactive
  residents 16+, claimants). Zero or more; never missing.
* ``priority``: whether the area is a priority area (from a priority band, or given).

``attrs``: ``kind`` (``population``, ``inactive``, ``claimants`` or ``weight``), ``label`` and ``verb``
for sentences ("62.4% of *priority residents* in Luton *live* within ..."), ``source``.

:func:`demand_points` builds the layer from plain inputs (a table of code, weight, priority with or
without coordinates, or a GeoDataFrame); :func:`read_demand_file` reads such a table from CSV;
:func:`priority_demand` builds it from a scoring profile and the indicator layers.
"""

from __future__ import annotations

import io

from pathlib import Path
from typing import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import BNG, require_bng
from geo.errors import SourceFileError, WardscopeError
from geo.words import agree, count_of
from layers.hubs.errors import DemandError, IndicatorsMissing

#: Columns of every demand layer (then geometry).
DEMAND_COLUMNS = ["code", "name", "lad_code", "lad_name", "weight", "priority", "band"]
#: Bands that count as priority by default (layers.scoring: rank bands, or a threshold profile's band).
PRIORITY_BANDS = ("top 10%", "top 20%", "priority")
#: Bands that never count as priority.
NON_PRIORITY_BANDS = ("other", "no data")
#: Demand kinds: indicator id, the column holding the count, label and verb for sentences.
DEMAND_KINDS = {
    "population": ("census21_population", "census21_population", "priority residents", "live"),
    "inactive": ("census21_inactive_pct", "census21_inactive_pct__num",
                 "economically inactive residents of priority areas", "live"),
    "claimants": ("claimant_count", "claimant_count", "claimants in priority areas", "live"),
}
#: Label and verb for a demand table given by the user.
WEIGHT_LABEL, WEIGHT_VERB = "priority demand", "is"

_TRUE = {"true", "t", "yes", "y", "1", "1.0", "priority"}
_FALSE = {"false", "f", "no", "n", "0", "0.0", "", "other", "no data", "nan", "none"}


def _text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return " ".join(str(value).split()).casefold()


def band_set(band: str | Iterable[str] | None) -> set[str]:
    """Band labels that count as priority.

    ``None`` -> :data:`PRIORITY_BANDS`; ``"top 20%"`` -> every ``top N%`` band with N <= 20 (bands are
    exclusive: the top 10% are labelled "top 10%", not "top 20%"), plus ``priority``; a list is taken as is.
    """
    if band is None:
        return {b.casefold() for b in PRIORITY_BANDS}
    if isinstance(band, str):
        text = _text(band)
        if text.startswith("top ") and text.endswith("%"):
            try:
                limit = float(text[4:-1])
            except ValueError:
                raise DemandError(f"band {band!r} is not like 'top 20%'") from None
            return {"priority"} | {f"top {n:g}%" for n in range(1, 101) if n <= limit}
        return {text}
    return {_text(b) for b in band}


def _number(value: object) -> float:
    """A count as a float ("1,500" accepted); NaN when missing or not a number."""
    if _text(value) == "":
        return float("nan")
    try:
        return float(str(value).replace(",", "").strip())
    except ValueError:
        return float("nan")


def _parse_priority(values: np.ndarray, bands: set[str], rows: list[str], codes: list[str]) -> tuple[np.ndarray, list[str]]:
    out = np.zeros(len(values), dtype=bool)
    problems = []
    for i, value in enumerate(values):
        if isinstance(value, (bool, np.bool_)):
            out[i] = bool(value)
            continue
        text = _text(value)
        if text in bands or text in _TRUE:
            out[i] = True
        elif text in _FALSE or text.startswith("top "):
            out[i] = False
        else:
            problems.append(f"{rows[i]} {codes[i]}: priority {value!r} is not true/false or a band")
    return out, problems


def _all_centroids(store) -> pd.DataFrame:
    from layers.access import lsoa_centroids

    points = lsoa_centroids(store, urban_rural=True)
    frame = pd.DataFrame(points.drop(columns="geometry"))
    frame["x"], frame["y"] = points.geometry.x.to_numpy(), points.geometry.y.to_numpy()
    return frame.set_index("code")


def demand_points(table: pd.DataFrame, *, store=None, source: str = "demand", lad_codes: Iterable[str] | None = None,
                  area_name: str | None = None, band: str | Iterable[str] | None = None, kind: str = "weight",
                  row_label: str = "row", first_row: int = 2) -> gpd.GeoDataFrame:
    """Check a demand table and return it as points in EPSG:27700.

    Parameters
    ----------
    table : one row per area. Columns (names case-insensitive): ``code`` (unique), ``weight`` (a number,
        0 or more; e.g. people), optional ``priority`` (true/false, yes/no, 1/0 or a band label) or
        ``band`` (priority when in ``band``); when neither is given every area is priority.
        Location: ``x``/``y`` or ``easting``/``northing`` (BNG metres), or a GeoDataFrame of points in
        EPSG:27700; otherwise codes must be LSOA 2021 codes, placed at their population-weighted centroid
        from the store (which also gives ``name``, ``lad_code``, ``lad_name``).
    store : the installed store (opened when needed).
    lad_codes, area_name : when given, every code must lie in these districts.
    band : bands counted as priority (see :func:`band_set`).
    kind : ``population``, ``inactive``, ``claimants`` or ``weight`` (label of the weight in sentences).

    Raises :class:`DemandError` naming the rows (first three) that cannot be used.
    """
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise DemandError(f"{source}: no demand rows; give a table with code, weight and priority columns")
    cols = {str(c).strip().casefold(): c for c in table.columns if c != getattr(table, "_geometry_column_name", None)}
    if "code" not in cols or "weight" not in cols:
        raise DemandError(f"{source}: a demand table needs code and weight columns "
                          f"(found: {', '.join(map(str, list(table.columns)[:10]))})")
    n = len(table)
    rows = [f"{row_label} {i + first_row}" for i in range(n)]
    codes = ["" if _text(v) == "" else str(v).strip() for v in table[cols["code"]]]
    problems: list[str] = []
    for i, code in enumerate(codes):
        if not code:
            problems.append(f"{rows[i]}: no code")
    seen: dict[str, int] = {}
    for i, code in enumerate(codes):
        if code and code in seen:
            problems.append(f"{rows[i]} {code}: duplicate code (also {rows[seen[code]]})")
        seen.setdefault(code, i)
    weights = np.array([_number(v) for v in table[cols["weight"]].to_numpy(dtype=object)])
    for i in np.flatnonzero(~np.isfinite(weights) | (weights < 0)):
        problems.append(f"{rows[i]} {codes[i]}: weight {table[cols['weight']].iloc[i]!r} is not a number 0 or more")
    bands = band_set(band)
    band_values = np.full(n, None, dtype=object)
    if "priority" in cols:
        priority, bad = _parse_priority(table[cols["priority"]].to_numpy(dtype=object), bands, rows, codes)
        problems += bad
        texts = [str(v) for v in table[cols["priority"]]]
        band_values = np.array([t if _text(t).startswith("top ") or _text(t) in ("priority", "other", "no data")
                                else None for t in texts], dtype=object)
    elif "band" in cols:
        band_values = table[cols["band"]].to_numpy(dtype=object)
        priority = np.array([_text(b) in bands for b in band_values], dtype=bool)
    else:
        priority = np.ones(n, dtype=bool)

    x = y = None
    if isinstance(table, gpd.GeoDataFrame):
        require_bng(table, what=source)
        geom = table.geometry
        if geom.isna().any() or geom.is_empty.any() or set(geom.geom_type) != {"Point"}:
            raise DemandError(f"{source}: demand geometry must be points (one per area) in EPSG:27700")
        x, y = geom.x.to_numpy(), geom.y.to_numpy()
    else:
        for cx, cy in (("x", "y"), ("easting", "northing")):
            if cx in cols and cy in cols:
                x = pd.to_numeric(table[cols[cx]], errors="coerce").to_numpy(dtype=float)
                y = pd.to_numeric(table[cols[cy]], errors="coerce").to_numpy(dtype=float)
                for i in np.flatnonzero(np.isnan(x) | np.isnan(y)):
                    problems.append(f"{rows[i]} {codes[i]}: {cx}/{cy} are not numbers")
                break

    info = pd.DataFrame(index=pd.Index(codes, name="code"))
    lookup = None
    if x is None or lad_codes is not None or not {"lad_code", "name"} <= set(cols):
        from geo.store import open_store

        store = store or open_store()
        lookup = _all_centroids(store)
        codes = [c.upper() if c.upper() in lookup.index else c for c in codes]  # GSS codes are upper case
        known = np.array([c in lookup.index for c in codes])
        if x is None:
            for i in np.flatnonzero(~known):
                if codes[i]:
                    problems.append(f"{rows[i]} {codes[i]}: not an LSOA 2021 code in the store; "
                                    f"give x/y (easting/northing) for other places")
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise DemandError(f"{source}: {count_of(len(problems), 'demand row')} cannot be used: "
                          f"{'; '.join(problems[:3])}{more}")

    for key in ("name", "lad_code", "lad_name"):
        if key in cols:
            info[key] = table[cols[key]].to_numpy(dtype=object)
        elif lookup is not None:
            info[key] = lookup[key].reindex(codes).to_numpy(dtype=object)
        else:
            info[key] = None
    if x is None:
        x = lookup["x"].reindex(codes).to_numpy(dtype=float)
        y = lookup["y"].reindex(codes).to_numpy(dtype=float)
    if lad_codes is not None:
        wanted = set(lad_codes)
        outside = [c for c, lad in zip(codes, info["lad_code"]) if lad not in wanted]
        if outside:
            where = lookup["lad_name"].reindex(outside[:3]).fillna("unknown district").tolist()
            shown = ", ".join(f"{c} ({w})" for c, w in zip(outside[:3], where))
            raise DemandError(f"{source}: {count_of(len(outside), 'demand code')} {agree(len(outside), 'is', 'are')} "
                              f"not in {area_name or 'the area'}: "
                              f"{shown}; remove them or choose the area that contains them")
    # the estimate engine's rural speeds and circuity for rural LSOAs (ONS rural-urban classification 2021)
    if "urban_rural" in cols:
        info["urban_rural"] = table[cols["urban_rural"]].to_numpy(dtype=object)
    elif lookup is not None and "urban_rural" in lookup.columns:
        info["urban_rural"] = lookup["urban_rural"].reindex(codes).to_numpy(dtype=object)
    label, verb = (DEMAND_KINDS[kind][2], DEMAND_KINDS[kind][3]) if kind in DEMAND_KINDS else (WEIGHT_LABEL, WEIGHT_VERB)
    out = gpd.GeoDataFrame({
        "code": codes, "name": info["name"].to_numpy(), "lad_code": info["lad_code"].to_numpy(),
        "lad_name": info["lad_name"].to_numpy(), "weight": weights, "priority": priority, "band": band_values,
    }, geometry=gpd.points_from_xy(x, y), crs=BNG)
    if "urban_rural" in info.columns:
        out["urban_rural"] = info["urban_rural"].to_numpy()
    out.attrs.update(kind=kind, label=label, verb=verb, source=source)
    return out


def check_demand_layer(demand: gpd.GeoDataFrame) -> None:
    """Refuse anything but a demand layer: points in EPSG:27700 with ``code`` and ``weight``."""
    if not isinstance(demand, gpd.GeoDataFrame):
        raise DemandError("demand must be a GeoDataFrame of points in EPSG:27700 (see layers.hubs.demand_points)")
    require_bng(demand, what="demand")
    missing = [c for c in ("code", "weight") if c not in demand.columns]
    if missing:
        raise DemandError(f"demand has no {' or '.join(missing)} column; build it with layers.hubs.demand_points")


def read_demand_file(path: str | Path, *, store=None, area=None, band=None) -> gpd.GeoDataFrame:
    """Read a demand CSV (code, weight, priority; optional x/y) for an area (:class:`geo.areas.Area`)."""
    return demand_from_text(demand_text(path), source=str(path), store=store, area=area, band=band)


def demand_text(path: str | Path) -> str:
    """The text of a demand CSV (UTF-8, with or without a byte-order mark)."""
    path = Path(path)
    if not path.is_file():
        raise SourceFileError(f"{path}: file not found")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def demand_from_text(text: str, *, source: str = "demand", store=None, area=None, band=None) -> gpd.GeoDataFrame:
    """A demand layer from the text of a demand CSV (see :func:`read_demand_file`)."""
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceFileError(f"{source}: malformed CSV ({str(exc).strip().splitlines()[0]})") from None
    return demand_points(frame, store=store, source=source, band=band,
                         lad_codes=area.lad_codes if area is not None else None,
                         area_name=area.name if area is not None else None)


def demand_from_scores(scores: pd.DataFrame, weights: pd.Series, centroids: gpd.GeoDataFrame, *,
                       band: str | Iterable[str] | None = None, kind: str = "population") -> gpd.GeoDataFrame:
    """Join priority bands, demand weights and centroids into a demand layer (EPSG:27700).

    Parameters
    ----------
    scores : ``code`` and ``band`` per area (``layers.scoring.Scored.areas``).
    weights : demand per code (e.g. usual residents). Areas without a weight are left out and noted.
    centroids : points in EPSG:27700 with ``code``, ``name``, ``lad_code``, ``lad_name`` (LSOA centroids).
    """
    require_bng(centroids, what="centroids")
    table = pd.DataFrame(centroids.drop(columns=centroids.geometry.name))
    table["x"], table["y"] = centroids.geometry.x.to_numpy(), centroids.geometry.y.to_numpy()
    table = table.merge(scores[["code", "band"]], on="code", how="inner")
    table["weight"] = table["code"].map(pd.to_numeric(weights, errors="coerce"))
    missing = table["weight"].isna()
    notes = []
    if missing.any():
        notes.append(f"{count_of(int(missing.sum()), 'area')} {agree(int(missing.sum()), 'has', 'have')} no {kind} "
                     f"figure and {agree(int(missing.sum()), 'is', 'are')} left out, "
                     f"e.g. {table.loc[missing, 'code'].iloc[0]}")
        table = table.loc[~missing]
    if table.empty:
        raise DemandError(f"no area has both a priority band and a {kind} figure")
    keep = ["code", "name", "lad_code", "lad_name", "weight", "band", "x", "y"]
    out = demand_points(table[keep + (["urban_rural"] if "urban_rural" in table.columns else [])],
                        source=f"{kind} demand", band=band, kind=kind)
    out.attrs["notes"] = notes
    return out


def priority_demand(area, profile, level: str = "lsoa", demand: str = "population", band=None, store=None,
                    sensitivity: int = 0) -> gpd.GeoDataFrame:
    """Demand for hubs from a scoring profile: priority areas by band, weighted by people.

    Parameters
    ----------
    area : an area of interest (name, district code or :class:`geo.areas.Area`).
    profile : a :class:`layers.profiles.Profile` or its name/path (``neighbourhood``, ``multi-agency``).
    level : ``lsoa`` (demand points are LSOA 2021 population-weighted centroids).
    demand : ``population`` (Census 2021 usual residents), ``inactive`` (economically inactive residents
        aged 16+, the numerator of ``census21_inactive_pct``) or ``claimants`` (claimant count, when installed).
    band : bands counted as priority (default: top 10%, top 20% and threshold "priority"; see :func:`band_set`).

    Returns a demand layer (EPSG:27700, weights in people). Raises :class:`IndicatorsMissing` when the
    indicator layers are not part of this installation.
    """
    if demand not in DEMAND_KINDS:
        raise DemandError(f"unknown demand {demand!r}; choose one of {', '.join(DEMAND_KINDS)}")
    if level != "lsoa":
        raise DemandError(f"hub demand is built from LSOAs (population-weighted centroids), not {level!r}; use level lsoa")
    try:
        from layers.indicators import available, indicator_table
    except ImportError:
        raise IndicatorsMissing("priority demand needs the indicator layers (layers.indicators), which this version "
                                "does not have; give the demand as a table instead: --demand-file CSV with "
                                "code,weight,priority columns") from None
    from geo.areas import Area, resolve_area
    from geo.store import open_store
    from layers.access import lsoa_centroids
    from layers.profiles import Profile, load_profile
    from layers.scoring import score_area

    store = store or open_store()
    if not isinstance(area, Area):
        area = resolve_area(area, store.districts())
    if not isinstance(profile, Profile):
        profile = load_profile(profile)
    indicator, column, _, _ = DEMAND_KINDS[demand]
    if indicator not in set(available(level, store=store)):
        command = "python cli.py install --nomis" if indicator == "claimant_count" else "python cli.py install"
        raise DemandError(f"{demand} demand needs the {indicator} indicator, which is not installed; "
                          f"run {command}, or choose another demand ({', '.join(DEMAND_KINDS)})")
    scored = score_area(profile, area, level=level, store=store, sensitivity=sensitivity)
    try:
        table = indicator_table(level, list(area.lad_codes), ids=[indicator], store=store)
    except (KeyError, WardscopeError) as exc:
        raise DemandError(f"cannot read {indicator} for {area.name}: {exc}") from None
    if column not in table.columns:
        raise DemandError(f"the {indicator} table has no {column} column; cannot weight demand by {demand}")
    weights = pd.to_numeric(table.set_index("code")[column], errors="coerce")
    out = demand_from_scores(scored.areas, weights, lsoa_centroids(store, area.lad_codes, urban_rural=True), band=band,
                             kind=demand)
    out.attrs["notes"] = list(scored.notes) + out.attrs.get("notes", []) + [
        f"priority: {profile.name} profile, bands {', '.join(sorted(band_set(band)))}"]
    return out
