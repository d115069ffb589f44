"""The district dashboard: every labour-market indicator for each district of an area, the area and England.

One row per indicator; one column per district, then the area, then England.
Each figure keeps its value, its 95% confidence interval (where published)
and its period. Red/amber/green against England (``comparators.rag``) uses
the interval: "worse" only when the whole interval is worse than England's
figure, "similar" when England's figure lies inside it, "better" otherwise;
figures without an interval are compared by value, and the legend says which.

The area figure is the one ONS publishes for exactly the area's districts
(a county or combined authority: ``Area.ons_code``) when there is one;
otherwise an average of the districts weighted by Census 2021 residents
(aged 16-64 for rates of that age group; all residents for GDHI and travel
times), with an approximate interval that treats the district samples as
independent; medians, model-based and life-expectancy figures are never
averaged. Distance to 80%: how many more residents aged 16-64 would need to
be in work for the employment rate to reach 80%.

:class:`DashboardRequest` + :func:`build_dashboard` are the entry point (the
CLI, and later the app page, call them); renderers are in
:mod:`layers.dashboard_out`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.areas import Area, resolve_area
from geo.errors import WardscopeError
from layers import labour_market as lm
from layers.comparators import rag
from layers.registry import IndicatorNotInstalled, get_indicator, load_registry

#: Census 2021 population (registry ``weight``) -> the store's district count indicator.
WEIGHTS = {"pop_working_age": "census21_pop_16_64", "pop_total": "census21_population"}
TARGET_PCT = 80.0
ROUND_TO = 10
Z95 = 1.959964
RAG_WORDS = {"red": "worse", "amber": "similar", "green": "better"}
LEGEND = [
    "Compared with England: 'worse' only when the whole 95% confidence interval is worse than England's figure, "
    "'similar' when England's figure lies inside the interval, 'better' when the whole interval is better. "
    "A survey estimate for a district is uncertain; a gap smaller than that uncertainty is not evidence of a "
    "real difference, so it is called similar.",
    "Figures with no interval (counts and administrative figures: claimant rate, household income, child "
    "poverty, travel times) are compared by value alone: 'similar' only when equal as shown.",
    "Status: 'not available' (x) is unknown, never zero; 'unreliable' (u, or an ONS note) marks a small sample.",
]


class PeriodNotAvailable(WardscopeError):
    """A --period that none of the asked-for indicators has a figure for."""


@dataclass(frozen=True)
class DashboardRequest:
    """What the dashboard shows: an area of interest (preset, saved area, district name or code),
    a period (first year, e.g. 2023; None = each indicator's latest) and indicators (None = all installed)."""

    area: str
    period: int | None = None
    indicators: tuple[str, ...] | None = None


@dataclass
class Dashboard:
    """A built dashboard: tidy figures for the chosen period, every year for the charts, distance to 80%."""

    area: Area
    period: int | None
    indicators: list[str]                 # registry ids, in row order
    columns: list[tuple[str, str, str]]   # (place key, name, role) in column order
    figures: pd.DataFrame                 # chosen period: one row per indicator and place
    series: pd.DataFrame                  # every year, same columns
    distance: pd.DataFrame                # distance to 80% employment, per district and the area
    notes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """The readable wide table: Indicator, Period, one column per place (value, interval, comparison)."""
        return wide_table(self)

    def trend(self, indicator: str) -> pd.DataFrame:
        """Every year of one indicator for each place (districts, the area, England)."""
        return self.series[self.series["indicator"] == indicator].reset_index(drop=True)


def _long(store) -> pd.DataFrame:
    """The installed long table, text as plain object columns (fast to filter; kept on the store)."""
    memo = store.__dict__.setdefault("_labour_series", {})
    if "series" not in memo:
        if not store.has("indicators", lm.SERIES):
            raise IndicatorNotInstalled("the labour-market figures (ONS Explore Local Statistics) are not installed; "
                                        "reinstall the store: python cli.py install")
        frame = store.table("indicators", lm.SERIES)
        memo["series"] = frame.astype({c: object for c in frame.columns if frame[c].dtype.kind not in "iufb"})
    return memo["series"]


def _indicators(request: DashboardRequest, series: pd.DataFrame, registry) -> list[str]:
    have = set(series["indicator"].unique())
    if request.indicators is None:
        return [i for i in lm.IDS if i in have]
    out = []
    for raw in request.indicators:
        ind = get_indicator(raw, registry)
        if ind.id not in lm.IDS:
            raise WardscopeError(f"{ind.id} is not a district dashboard indicator; choose from {', '.join(lm.IDS)}")
        if ind.id not in have:
            raise IndicatorNotInstalled(f"{ind.id} ({ind.label}) is not installed: reinstall: python cli.py install")
        out.append(ind.id)
    return list(dict.fromkeys(out))


def _weighted_area(rows: pd.DataFrame, n_districts: int, weights: pd.DataFrame, registry) -> pd.DataFrame:
    """Area rows averaged from district rows (every district needed), per indicator and period."""
    kind = rows["indicator"].map({i: registry[i].weight or "" for i in rows["indicator"].unique()}).to_numpy()
    rows, kind = rows[kind != ""], kind[kind != ""]
    if rows.empty:
        return pd.DataFrame(columns=["indicator", "period", "value", "lci", "uci", "period_label", "status", "note",
                                     "source"])
    w = np.full(len(rows), np.nan)
    for name, column in WEIGHTS.items():
        w = np.where(kind == name, weights[column].reindex(rows["code"]).to_numpy(dtype="float64"), w)
    se = (rows["uci"] - rows["lci"]).to_numpy() / (2 * Z95)
    work = pd.DataFrame({"indicator": rows["indicator"].to_numpy(), "period": rows["period"].to_numpy(),
                         "wv": w * rows["value"].to_numpy(), "w": np.where(rows["value"].notna(), w, np.nan),
                         "w2se2": (w * se) ** 2, "n": rows["value"].notna().to_numpy(),
                         "n_ci": ~np.isnan(se)})
    g = work.groupby(["indicator", "period"], sort=False)
    sums = g[["wv", "w", "w2se2"]].sum(min_count=1)
    counts = g[["n", "n_ci"]].sum()
    labels = rows.groupby(["indicator", "period"], sort=False)["period_label"].first()
    value = sums["wv"] / sums["w"]
    half = Z95 * np.sqrt(sums["w2se2"]) / sums["w"]
    complete = counts["n"] == n_districts
    with_ci = counts["n_ci"] == n_districts
    # averages of one-decimal survey figures: two places, not sixteen
    out = pd.DataFrame({"value": value.where(complete), "lci": (value - half).where(complete & with_ci),
                        "uci": (value + half).where(complete & with_ci), "period_label": labels}).round(
        {"value": 2, "lci": 2, "uci": 2})
    out["status"] = ""
    out["note"] = np.where(complete, "", "not computed: " + (n_districts - counts["n"]).astype(str) + " of "
                           + str(n_districts) + " districts have no figure")
    out["source"] = np.where(complete, np.where(with_ci, "average of the districts weighted by Census 2021 residents "
                                                         "(approximate interval: district samples independent)",
                                                "average of the districts weighted by Census 2021 residents"), "")
    return out.reset_index()


def _area_rows(area: Area, rows: pd.DataFrame, weights: pd.DataFrame, registry) -> pd.DataFrame:
    """The area column: ONS's published row for the area where there is one, else the weighted average."""
    districts = rows[rows["role"] == "district"]
    published = rows[rows["code"] == area.ons_code] if area.ons_code else rows.iloc[:0]
    published = published.assign(source=[f"published by ONS for {n} ({c})" for n, c in
                                         zip(published["name"], published["code"])])
    averaged = _weighted_area(districts, len(area.lad_codes), weights, registry)
    if len(published):
        have = set(zip(published["indicator"], published["period"]))
        averaged = averaged[[k not in have for k in zip(averaged["indicator"], averaged["period"])]]
    frame = pd.concat([published[["indicator", "period", "period_label", "value", "lci", "uci", "status", "note",
                                  "source"]], averaged], ignore_index=True)
    periods = districts.drop_duplicates(["indicator", "period"])[["indicator", "period", "period_label"]]
    done = pd.MultiIndex.from_frame(frame[["indicator", "period"]])
    missing = periods[~pd.MultiIndex.from_frame(periods[["indicator", "period"]]).isin(done)]
    missing = missing.assign(value=np.nan, lci=np.nan, uci=np.nan, status="", source="",
                             note="not computed: ONS publishes no figure for this area, and this figure (a median, "
                                  "a model estimate or a life expectancy) cannot be averaged from districts")
    frame = pd.concat([frame, missing], ignore_index=True)
    return frame.assign(code="area", name=area.name, role="area")


def _rate(frame: pd.DataFrame, registry) -> pd.DataFrame:
    """Add england, rag, basis and unreliable: each figure against England in the same period.

    Unreliable figures (status u, or an ONS note saying so) are shown but not rated.
    """
    england = frame[frame["role"] == "england"].set_index(["indicator", "period"])["value"]
    key = pd.MultiIndex.from_arrays([frame["indicator"], frame["period"]])
    e_value = england.reindex(key).to_numpy(dtype="float64")
    value, lci, uci = (frame[c].to_numpy(dtype="float64") for c in ("value", "lci", "uci"))
    note = frame["note"].to_numpy(dtype=object)
    unreliable = (frame["status"].to_numpy(dtype=object) == "u") | np.array(
        ["unreliable" in str(n).lower() for n in note], dtype=bool)
    colours = np.full(len(frame), None, dtype=object)
    basis = np.full(len(frame), "", dtype=object)
    has_ci = ~np.isnan(lci) & ~np.isnan(uci)
    for ind_id, pos in frame.groupby("indicator", sort=False).indices.items():
        ind = registry[ind_id]
        with_ci = pos[has_ci[pos]] if ind.rag == "ci" else pos[:0]
        plain = np.setdiff1d(pos, with_ci)
        colours[with_ci] = rag(ind, value[with_ci], e_value[with_ci], lower=lci[with_ci], upper=uci[with_ci])
        colours[plain] = rag(_by_value(ind), value[plain], e_value[plain])
        basis[with_ci], basis[plain] = "95% interval", "value (no interval)"
    basis[np.isnan(e_value)] = "not rated: no England figure"
    colours[unreliable] = None
    basis[unreliable] = "not rated: unreliable (small sample)"
    basis[np.isnan(value)] = ""
    is_england = frame["role"].to_numpy(dtype=object) == "england"
    colours[is_england], basis[is_england] = None, ""
    return frame.assign(england=e_value, rag=colours, basis=basis, unreliable=unreliable)


def _by_value(ind):
    """``ind`` compared by value (a figure published without its interval)."""
    from dataclasses import replace

    return ind if ind.rag != "ci" else replace(ind, rag="value")


def _choose(series: pd.DataFrame, period: int | None, ids: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """The rows of the chosen period (each indicator's latest when None) and notes on indicators without it."""
    have = series[series["value"].notna() & series["role"].isin(["district", "england"])]
    spans = have.groupby("indicator")["period"].agg(["min", "max"])
    if period is None:
        latest = spans["max"].reindex(series["indicator"]).to_numpy()
        return series[series["period"].to_numpy() == latest], []
    held = [i for i in ids if i in spans.index and spans.at[i, "min"] <= period <= spans.at[i, "max"]
            and ((have["indicator"] == i) & (have["period"] == period)).any()]
    if not held:
        ranges = ", ".join(f"{i} {spans.at[i, 'min']}-{spans.at[i, 'max']}" for i in ids if i in spans.index)
        raise PeriodNotAvailable(f"--period {period}: the labour-market files hold no {period} figure for these "
                                 f"indicators ({ranges}); choose a year in those ranges, or leave --period out for "
                                 "each one's latest")
    notes = [f"{i}: no {period} figure (published for {spans.at[i, 'min']}-{spans.at[i, 'max']})"
             for i in ids if i not in held and i in spans.index]
    return series[series["period"] == period], notes


def _distance(chosen: pd.DataFrame, pops: pd.Series, area: Area) -> pd.DataFrame:
    """People aged 16-64 who would need to be in work for the employment rate to reach 80%, per place."""
    rows = chosen[(chosen["indicator"] == "aps_employment_rate") & chosen["role"].isin(["district", "area"])]
    pop = np.array([pops.sum() if c == "area" else pops.get(c, np.nan) for c in rows["code"]], dtype="float64")
    value, lci, uci = (rows[c].to_numpy(dtype="float64") for c in ("value", "lci", "uci"))

    def people(rate):
        return np.round(np.maximum(TARGET_PCT - rate, 0.0) / 100.0 * pop / ROUND_TO) * ROUND_TO

    central, low, high = people(value), people(uci), people(lci)
    statement = []
    for v, lo, hi, c, label in zip(value, low, high, central, rows["period_label"]):
        if np.isnan(v):
            statement.append("no employment rate for this period")
        elif v >= TARGET_PCT:
            reach = f"; at the low end of its interval up to {hi:,.0f}" if hi > 0 else ""
            statement.append(f"already above 80% ({label}{reach})")
        elif np.isnan(lo):
            statement.append(f"{c:,.0f} more people in work ({label}; no interval published)")
        elif lo == 0:
            statement.append(f"{c:,.0f} more people in work (up to {hi:,.0f}; the interval reaches 80%) ({label})")
        else:
            statement.append(f"{c:,.0f} more people in work (range {lo:,.0f} to {hi:,.0f}) ({label})")
    return pd.DataFrame({
        "code": rows["code"].to_numpy(), "name": rows["name"].to_numpy(), "role": rows["role"].to_numpy(),
        "period_label": rows["period_label"].to_numpy(), "employment_rate": value, "lci": lci, "uci": uci,
        "population_16_64": pop, "people_needed": central, "people_needed_low": low, "people_needed_high": high,
        "statement": statement,
        "population_source": "Census 2021 usual residents aged 16-64 (sum of LSOA counts)"
                             + ("; the area is the sum of its districts" if len(area.lad_codes) > 1 else ""),
        "rounding": f"rounded to the nearest {ROUND_TO}"})


def build_dashboard(request: DashboardRequest, store) -> Dashboard:
    """The dashboard for ``request`` from the installed store (see the module docstring).

    Raises :class:`~geo.errors.UnknownAreaError` (area), :class:`PeriodNotAvailable` (a period none of the
    indicators holds) or :class:`~layers.registry.IndicatorNotInstalled` with a one-line message.
    """
    from layers.indicators import indicator_table

    registry = load_registry()
    area = request.area if isinstance(request.area, Area) else resolve_area(request.area, store.districts())
    long = _long(store)
    ids = _indicators(request, long, registry)
    codes = list(area.lad_codes)
    wanted = codes + [lm.ENGLAND] + ([area.ons_code] if area.ons_code else [])
    rows = long[long["code"].isin(wanted) & long["indicator"].isin(ids)]
    rows = rows.assign(role=np.where(rows["code"] == lm.ENGLAND, "england",
                                     np.where(rows["code"].isin(codes), "district", "published")), source="")
    rows.loc[rows["role"] == "district", "source"] = "district figure"
    pops = indicator_table("lad", codes, list(WEIGHTS.values()), store).set_index("code")
    parts = [rows[rows["role"].isin(["district", "england"])]]
    if len(codes) > 1:
        parts.append(_area_rows(area, rows, pops, registry))
    series = pd.concat(parts, ignore_index=True)
    series = _rate(series, registry)
    names = pops["name"].sort_values()
    columns = [(c, names[c], "district") for c in names.index]
    columns += [("area", area.name, "area")] if len(codes) > 1 else []
    columns += [(lm.ENGLAND, "England", "england")]
    order = {key: i for i, (key, _, _) in enumerate(columns)}
    series["name"] = series["code"].map({**names.to_dict(), "area": area.name, lm.ENGLAND: "England"})
    series["column"] = series["code"].map(order)
    series["indicator_order"] = series["indicator"].map({i: n for n, i in enumerate(ids)})
    series = series.sort_values(["indicator_order", "period", "column"]).reset_index(drop=True)
    chosen, notes = _choose(series, request.period, ids)
    notes += [f"{area.name}: figures published by ONS for {area.ons_code} are used where they exist"] \
        if area.ons_code else []
    distance = _distance(chosen, pops[WEIGHTS["pop_working_age"]], area)
    sources = sorted({registry[i].attribution for i in ids})
    return Dashboard(area, request.period, ids, columns, chosen.reset_index(drop=True), series, distance, notes, sources)


def _fmt(value: float, unit: str, decimals: int) -> str:
    if value is None or np.isnan(value):
        return ""
    if unit == "£":
        return f"£{value:,.{decimals}f}"
    text = f"{value:,.{decimals}f}"
    return f"{text}%" if unit == "%" else text


def cell_text(row, ind) -> str:
    """One figure as read in a table: value, interval, comparison with England, warnings."""
    if np.isnan(row.value):
        if row.status == "x":
            return "not available"
        if row.status == "u":
            return "unreliable: not published"
        return "not computed" if str(row.note).startswith("not computed") else "no figure"
    text = _fmt(row.value, ind.unit, ind.decimals)
    if not np.isnan(row.lci):
        text += f" ({_fmt(row.lci, ind.unit, ind.decimals)} to {_fmt(row.uci, ind.unit, ind.decimals)})"
    if isinstance(row.rag, str):
        text += f": {RAG_WORDS[row.rag]}"
    return text + (" [unreliable]" if row.unreliable else "")


def wide_table(board: Dashboard) -> pd.DataFrame:
    """One row per indicator: its label, unit, period and one text cell per place (see :func:`cell_text`)."""
    registry = load_registry()
    groups = dict(tuple(board.figures.groupby("indicator", sort=False)))
    out = []
    for ind_id in board.indicators:
        ind = registry[ind_id]
        part = groups.get(ind_id, board.figures.iloc[:0])
        empty = f"no {board.period} figure" if board.period is not None else "no figure"
        row = {"Indicator": ind.label, "Period": ", ".join(dict.fromkeys(part["period_label"])) or "-"}
        cells = {r.code: cell_text(r, ind) for r in part.itertuples(index=False)}
        for key, name, _ in board.columns:
            row[name] = cells.get(key, empty)
        row["How compared"] = "95% interval" if ind.rag == "ci" else "value (no interval)"
        out.append(row)
    return pd.DataFrame(out)


#: District figures a ward profile shows as its district's context, and why they are not split into wards.
CONTEXT = {"aps_employment_rate": "a survey of the whole district; it cannot be split into wards",
           "aps_inactivity_rate": "a survey of the whole district; it cannot be split into wards",
           "claimant_rate_annual": "a count for the whole district over the year; it cannot be split into wards"}


def district_context(store, lad_code: str) -> pd.DataFrame | None:
    """The district's APS rates (with their intervals) and annual claimant rate for a ward profile.

    One row per figure: indicator, label, shown (value, interval and comparison with England), england
    (England's figure as shown), period, sentence (why it is a district figure). None when the
    labour-market figures are not installed.
    """
    if not store.has("indicators", lm.SERIES):
        return None
    have = set(_long(store)["indicator"].unique())
    ids = tuple(i for i in CONTEXT if i in have)
    if not ids:
        return None
    registry = load_registry()
    board = build_dashboard(DashboardRequest(lad_code, indicators=ids), store)
    rows = []
    for r in board.figures.itertuples(index=False):
        if r.role != "district":
            continue
        ind = registry[r.indicator]
        england = board.figures[(board.figures["indicator"] == r.indicator) & (board.figures["role"] == "england")]
        rows.append({"indicator": r.indicator, "label": ind.label, "shown": cell_text(r, ind),
                     "england": cell_text(next(england.itertuples(index=False)), ind) if len(england) else "",
                     "period": r.period_label, "sentence": CONTEXT[r.indicator]})
    return pd.DataFrame(rows)
