"""Ward profiles for councillors: figures, charts and a map, as PDF and HTML.

:func:`build_ward_report` gathers everything about one ward (its LSOAs,
every indicator against its district, the area of interest and England,
red/amber/green ratings, ranks within the district, claimant trend when
installed, priority scores and why); :func:`report_pdf` and
:func:`report_html` print it. Charts and the map are drawn with matplotlib
(geometry in EPSG:27700, so the map is in metres and not distorted), which
keeps the printable profile independent of any web service.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from dataclasses import dataclass, field

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from geo import __version__  # noqa: E402
from geo.escape import html_attr, html_text, mpl_text  # noqa: E402

RAG_COLOURS = {"red": "#c0392b", "amber": "#e08e0b", "green": "#2e8b57"}
RAG_WORDS = {"red": "worse than England", "amber": "similar to England", "green": "better than England"}


@dataclass
class WardReport:
    """Everything printed in a ward profile."""

    code: str
    name: str
    lad_code: str
    lad_name: str
    area_name: str
    ward_note: str
    figures: pd.DataFrame          # indicator rows: label, unit, value, district, area, england, rank, rag, caveat, shown...
    scores: list[dict]             # per profile: name, score, rank, n, band, robust, reasons
    ward: gpd.GeoDataFrame         # the ward (EPSG:27700)
    lsoas: gpd.GeoDataFrame        # its LSOAs (EPSG:27700)
    district: gpd.GeoDataFrame     # the district outline (EPSG:27700)
    claimant_trend: pd.DataFrame | None = None
    sources: list[str] = field(default_factory=list)
    #: The district's APS and annual claimant figures (layers.dashboard.district_context): never split into wards.
    district_context: pd.DataFrame | None = None
    generated: str = field(default_factory=lambda: dt.datetime.now().strftime("%d %B %Y"))

    @property
    def gaps(self) -> list[str]:
        return list(self.figures.loc[self.figures["value"].isna(), "label"])


def _fmt(value, unit: str, decimals: int = 1) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value):
        return "no data"
    if unit.startswith("%"):
        return f"{value:.{decimals}f}%"
    if unit in ("decile", "rank", "count"):
        return f"{value:,.0f}"
    return f"{value:,.{decimals}f}"


def build_ward_report(*, ward_code: str, area, store, comparators: pd.DataFrame, registry: dict,
                      scored: list, claimant_trend: pd.DataFrame | None = None, notes: dict | None = None) -> WardReport:
    """Assemble a ward's profile.

    ``comparators`` is :func:`layers.comparators.comparators` output for the
    area at ward level; ``scored`` a list of :class:`layers.scoring.Scored`
    results at ward level for the same area.
    """
    wards = store.boundaries("ward", area.lad_codes)
    ward = wards[wards["code"] == ward_code]
    if ward.empty:
        from geo.errors import UnknownAreaError

        raise UnknownAreaError(f"ward {ward_code} is not in {area.name}")
    row = ward.iloc[0]
    lsoas = store.boundaries("lsoa", [row["lad_code"]])
    lsoas = lsoas[lsoas["ward_code"] == ward_code]
    district = store.table("boundaries", "lad_outline", [row["lad_code"]])
    mine = comparators[comparators["code"] == ward_code]
    rows = []
    for r in mine.itertuples(index=False):
        ind = registry.get(r.indicator)
        if ind is None or ind.direction == 0 and ind.kind != "count":
            continue
        dec = getattr(ind, "decimals", 1)
        rank = "" if pd.isna(r.rank_in_district) or ind.direction == 0 else f"{int(r.rank_in_district)} of {int(r.n_in_district)}"
        rows.append({"indicator": r.indicator, "label": ind.label, "topic": ind.topic, "unit": ind.unit,
                     "value": r.value, "district": r.district_value, "area": r.area_value, "england": r.england_value,
                     "rank_in_district": rank, "rag": r.rag if isinstance(r.rag, str) else "",
                     "caveat": ind.caveat, "estimate": bool(ind.estimate), "period": ind.period,
                     "shown": _fmt(r.value, ind.unit, dec), "district_shown": _fmt(r.district_value, ind.unit, dec),
                     "area_shown": _fmt(r.area_value, ind.unit, dec), "england_shown": _fmt(r.england_value, ind.unit, dec),
                     "small": bool(getattr(r, "small_denominator", False))})
    figures = pd.DataFrame(rows)
    labels = {k: v.label for k, v in registry.items()}
    scores = []
    from layers.scoring import top_reasons

    for s in scored:
        hit = s.areas[s.areas["code"] == ward_code]
        if hit.empty:
            continue
        h = hit.iloc[0]
        if pd.isna(h["rank"]):
            missing = str(h.get("missing_ids") or "")
            why = (f"too many indicators are missing ({missing.replace(';', ', ')})" if missing else "no figures")
            scores.append({"profile": s.profile.name, "rank": None, "why": why})
            continue
        scores.append({"profile": s.profile.name, "score": h["score"], "rank": int(h["rank"]), "n": int(h["n_ranked"]),
                       "band": h["band"], "robust": bool(h["robust"]) if "robust" in h else None,
                       "band_share": h.get("band_share"), "overlap": int(h["overlap_count"]), "k": len(s.indicators),
                       "reasons": top_reasons(h, s.indicators, labels), "why": ""})
    sources = sorted({registry[i].attribution for i in figures["indicator"]} if len(figures) else set())
    sources.insert(0, "Source: Office for National Statistics licensed under the Open Government Licence v3.0. "
                      "Contains OS data © Crown copyright and database right 2024.")
    ward_note = f"{row['geometry_source']}; LSOAs assigned by {row['lsoa_assignment']} ({int(row['n_lsoa'])} LSOAs)."
    if notes and ward_code in notes:
        ward_note += f" {notes[ward_code]}"
    from layers.dashboard import district_context

    context = district_context(store, row["lad_code"])
    if context is not None and len(context):
        sources.append("Source: Office for National Statistics (Explore Local Statistics) licensed under the Open "
                       "Government Licence v3.0")
    return WardReport(ward_code, row["name"], row["lad_code"], row["lad_name"], area.name, ward_note, figures, scores,
                      ward, lsoas, district, claimant_trend, sources, district_context=context)


def context_lines(report: WardReport) -> list[str]:
    """The district's survey and claimant figures in words, one line each (empty when not installed)."""
    if report.district_context is None:
        return []
    return [f"{r.label}: {r.shown}, {r.period} (England {r.england}). {report.lad_name} figure: {r.sentence}."
            for r in report.district_context.itertuples(index=False)]


def report_record(report: WardReport) -> dict:
    """The profile as plain data (no images or date): ward, scores, figures, gaps and sources."""
    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if hasattr(value, "item"):  # numpy scalars
            value = value.item()
        return None if isinstance(value, float) and not np.isfinite(value) else value

    figures = json.loads(report.figures.to_json(orient="records", force_ascii=False)) if len(report.figures) else []
    return {"code": report.code, "name": report.name, "lad_code": report.lad_code, "lad_name": report.lad_name,
            "area": report.area_name, "ward_note": report.ward_note, "scores": plain(report.scores),
            "figures": figures, "gaps": report.gaps, "sources": list(report.sources)}


def report_json(report: WardReport) -> str:
    """:func:`report_record` as JSON text."""
    return json.dumps(report_record(report), indent=1, ensure_ascii=False)


def score_sentence(s: dict, area_name: str) -> str:
    """One priority score in words (or why the ward has none)."""
    if s["rank"] is None:
        return f"not scored: {s['why']}."
    robust = "" if s["robust"] is None else (" Robust priority." if s["robust"] else " Not a robust priority.")
    reasons = ", ".join(r.split(" (")[0] for r in s["reasons"]) if s["reasons"] else "-"
    return (f"Score {_fmt(s['score'], 'score')}, ranked {s['rank']} of {s['n']} wards in {area_name} ({s['band']})."
            f"{robust} Main reasons: {reasons}. Needs that overlap: {s['overlap']} of {s['k']} indicators in "
            "England's worst fifth.")


# -- drawing ---------------------------------------------------------------------------------

def map_png(report: WardReport, width_in: float = 6.0) -> bytes:
    """The ward (thick outline), its LSOAs and the district edge, in British National Grid."""
    fig, ax = plt.subplots(figsize=(width_in, width_in * 0.75), dpi=150)
    xmin, ymin, xmax, ymax = report.ward.total_bounds
    pad = max(xmax - xmin, ymax - ymin) * 0.35
    report.district.boundary.plot(ax=ax, color="#999999", linewidth=1.0)
    if len(report.lsoas):
        report.lsoas.plot(ax=ax, facecolor="#fde0c5", edgecolor="#c46a2b", linewidth=0.6)
        for _, r in report.lsoas.iterrows():
            p = r.geometry.representative_point()
            ax.annotate(mpl_text(r["name"].split(" ")[-1]), (p.x, p.y), fontsize=6, ha="center", color="#5a2d0c")
    report.ward.boundary.plot(ax=ax, color="#1f3b57", linewidth=2.2)
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(mpl_text(f"{report.name} ward and its LSOAs (British National Grid)"), fontsize=9)
    return _png(fig)


def chart_png(report: WardReport, width_in: float = 7.0) -> bytes:
    """Dot chart: each percentage indicator for the ward against district, area and England."""
    fig_rows = report.figures[report.figures["unit"].astype(str).str.startswith("%")] if len(report.figures) else report.figures
    n = max(len(fig_rows), 1)
    fig, ax = plt.subplots(figsize=(width_in, 0.38 * n + 1.2), dpi=150)
    if len(fig_rows) == 0:
        ax.text(0.5, 0.5, "No percentage indicators for this ward", ha="center", va="center")
        ax.set_axis_off()
        return _png(fig)
    y = np.arange(len(fig_rows))[::-1]
    for key, colour, marker, label in (("england", "#444444", "|", "England"), ("area", "#7b6fa8", "s", report.area_name),
                                       ("district", "#4c8fc0", "D", report.lad_name)):
        ax.scatter(fig_rows[key], y, color=colour, marker=marker, s=60 if marker == "|" else 28, label=mpl_text(label),
                   zorder=3)
    colours = [RAG_COLOURS.get(r, "#333333") for r in fig_rows["rag"]]
    ax.scatter(fig_rows["value"], y, color=colours, s=70, edgecolor="black", linewidth=0.6, label=mpl_text(report.name), zorder=4)
    missing = fig_rows["value"].isna().to_numpy()
    for yy, miss in zip(y, missing):
        if miss:
            ax.text(0.5, yy, "no data", transform=ax.get_yaxis_transform(), fontsize=7, color="#888888", va="center")
    ax.set_yticks(y)
    ax.set_yticklabels([mpl_text(lbl if len(lbl) < 60 else lbl[:57] + "…") for lbl in fig_rows["label"]], fontsize=7)
    ax.set_xlabel("% (ward dot coloured red/amber/green against England)", fontsize=8)
    ax.grid(axis="x", color="#dddddd")
    ax.legend(fontsize=7, loc="lower right", frameon=False, ncol=4, bbox_to_anchor=(1, 1.0))
    fig.tight_layout()
    return _png(fig)


def trend_png(report: WardReport) -> bytes | None:
    t = report.claimant_trend
    if t is None or t.empty:
        return None
    fig, ax = plt.subplots(figsize=(6, 2.2), dpi=150)
    ax.plot(pd.to_datetime(t["month"]), t["rate"], color="#1f5f8b")
    ax.set_ylabel("% of residents 16-64", fontsize=8)
    ax.set_title("Claimant rate (Nomis NM_162_1; counts rounded to 5)", fontsize=9)
    ax.grid(color="#eeeeee")
    fig.tight_layout()
    return _png(fig)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


# -- PDF -------------------------------------------------------------------------------------

def _font_path() -> str:
    from pathlib import Path

    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")


def report_pdf(report: WardReport) -> bytes:
    """A printable A4 profile (fpdf2; DejaVu Sans so any place name prints).

    Page 1: the ward, its map and priority, and the chart against its district,
    the area and England. Page 2 on: the figures table, trend, gaps, caveats
    and sources.
    """
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.add_font("dejavu", "", _font_path())
    pdf.add_font("dejavu", "B", _font_path().replace("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    pdf.set_font("dejavu", "B", 16)
    pdf.cell(0, 9, f"{report.name} ward profile", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "", 9)
    _para(pdf, 5, f"{report.code} · {report.lad_name} · area of interest: {report.area_name} · "
                  f"produced {report.generated} with Wardscope {__version__}")
    pdf.set_font("dejavu", "", 7)
    _para(pdf, 3.6, f"Ward: {report.ward_note}")
    top = pdf.get_y() + 2
    pdf.image(io.BytesIO(map_png(report, width_in=4.2)), x=pdf.l_margin, y=top, w=88)
    pdf.set_xy(pdf.l_margin + 92, top)
    pdf.set_font("dejavu", "B", 11)
    pdf.cell(0, 7, "Priority", new_x="LEFT", new_y="NEXT")
    for s in report.scores or [None]:
        pdf.set_x(pdf.l_margin + 92)
        pdf.set_font("dejavu", "", 8)
        if s is None:
            pdf.multi_cell(0, 4.2, "No priority score for this ward.", new_x="LEFT", new_y="NEXT")
            break
        pdf.set_font("dejavu", "B", 8.5)
        pdf.multi_cell(0, 4.4, s["profile"], new_x="LEFT", new_y="NEXT")
        pdf.set_font("dejavu", "", 8)
        pdf.multi_cell(0, 4.2, score_sentence(s, report.area_name), new_x="LEFT", new_y="NEXT")
        pdf.ln(1.5)
    pdf.set_xy(pdf.l_margin, max(pdf.get_y(), top + 70) + 2)
    pdf.set_font("dejavu", "B", 11)
    pdf.cell(0, 7, "Indicators against the district, the area and England", new_x="LMARGIN", new_y="NEXT")
    pdf.image(io.BytesIO(chart_png(report)), w=185)
    pdf.add_page()
    _figures_table(pdf, report)
    if context_lines(report):
        pdf.set_font("dejavu", "B", 9)
        pdf.cell(0, 6, f"{report.lad_name}: district figures (not split into wards)", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("dejavu", "", 7)
        for line in context_lines(report):
            _para(pdf, 3.6, line)
    trend = trend_png(report)
    if trend:
        pdf.image(io.BytesIO(trend), w=150)
    if report.gaps:
        pdf.set_font("dejavu", "B", 9)
        _para(pdf, 5, "Gaps: no figures for " + "; ".join(report.gaps) + ".")
    pdf.set_font("dejavu", "B", 9)
    pdf.cell(0, 6, "Caveats", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "", 7)
    for label, caveat in _caveats(report):
        _para(pdf, 3.6, f"{label}: {caveat}")
    pdf.set_font("dejavu", "B", 9)
    pdf.cell(0, 6, "Sources", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "", 7)
    for line in report.sources:
        _para(pdf, 3.6, line)
    return bytes(pdf.output())


def _fit(pdf, text: str, width_mm: float) -> str:
    """``text`` cut with an ellipsis so it fits ``width_mm`` in the current font."""
    if pdf.get_string_width(text) <= width_mm:
        return text
    while text and pdf.get_string_width(text + "…") > width_mm:
        text = text[:-1]
    return text.rstrip() + "…"


def _para(pdf, height: float, text: str) -> None:
    """A paragraph across the page, leaving the cursor at the left margin of the next line."""
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")


def _figures_table(pdf, report: WardReport) -> None:
    widths = (78, 17, 17, 17, 17, 18, 26)
    head = ("Indicator", "Ward", "District", "Area", "England", "Rank in district", "vs England")
    pdf.set_font("dejavu", "B", 11)
    pdf.cell(0, 7, "The figures", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "B", 6.8)
    for w, h in zip(widths, head):
        pdf.cell(w, 5, _fit(pdf, h, w - 1), border="B")
    pdf.ln()
    pdf.set_font("dejavu", "", 6.8)
    for r in report.figures.itertuples(index=False):
        cells = (r.label + (" *" if r.estimate else ""), r.shown, r.district_shown, r.area_shown, r.england_shown,
                 r.rank_in_district, RAG_WORDS.get(r.rag, "not rated"))
        for i, (w, c) in enumerate(zip(widths, cells)):
            if i == 6 and r.rag in RAG_COLOURS:
                pdf.set_text_color(*[int(RAG_COLOURS[r.rag][k:k + 2], 16) for k in (1, 3, 5)])
            pdf.cell(w, 4.2, _fit(pdf, str(c), w - 1))
            pdf.set_text_color(0, 0, 0)
        pdf.ln()
    pdf.set_font("dejavu", "", 6.5)
    _para(pdf, 3.5, "* estimate (see caveats). 'no data' marks a figure this ward does not have. "
                    "Rank in district: 1 = most need.")


def _caveats(report: WardReport) -> list[tuple[str, str]]:
    seen, out = set(), []
    for r in report.figures.itertuples(index=False):
        if r.caveat and r.caveat not in seen:
            seen.add(r.caveat)
            out.append((r.label, r.caveat))
    return out


# -- HTML ------------------------------------------------------------------------------------

def report_html(report: WardReport) -> str:
    """A self-contained HTML profile (images inlined; no scripts, no external files)."""
    def img(data: bytes | None, alt: str) -> str:
        return "" if not data else f'<img alt="{html_attr(alt)}" style="max-width:100%" src="data:image/png;base64,{base64.b64encode(data).decode()}">'

    e = html_text
    rows = "".join(
        f"<tr><td>{e(r.label)}{' *' if r.estimate else ''}</td><td>{e(r.shown)}</td><td>{e(r.district_shown)}</td>"
        f"<td>{e(r.area_shown)}</td><td>{e(r.england_shown)}</td><td>{e(r.rank_in_district)}</td>"
        f"<td style=\"color:{html_attr(RAG_COLOURS.get(r.rag, '#333'))}\">{e(RAG_WORDS.get(r.rag, 'not rated'))}</td></tr>"
        for r in report.figures.itertuples(index=False))
    scores = "".join(f"<li><b>{e(s['profile'])}</b>: {e(score_sentence(s, report.area_name))}</li>" for s in report.scores)
    caveats = "".join(f"<li><b>{e(a)}</b>: {e(b)}</li>" for a, b in _caveats(report))
    sources = "".join(f"<li>{e(s)}</li>" for s in report.sources)
    gaps = f"<p><b>Gaps:</b> no figures for {e('; '.join(report.gaps))}.</p>" if report.gaps else ""
    context = "".join(f"<li>{e(line)}</li>" for line in context_lines(report))
    context = (f"<h2>{e(report.lad_name)}: district figures (not split into wards)</h2><ul>{context}</ul>"
               if context else "")
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{e(report.name)} ward profile</title>
<style>body{{font-family:DejaVu Sans,Arial,sans-serif;max-width:960px;margin:24px auto;color:#222}}
table{{border-collapse:collapse;font-size:13px}}td,th{{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left}}</style>
</head><body>
<h1>{e(report.name)} ward profile</h1>
<p>{e(report.code)} · {e(report.lad_name)} · area of interest: {e(report.area_name)} · produced {e(report.generated)} with Wardscope {e(__version__)}</p>
<p style="font-size:12px">Ward: {e(report.ward_note)}</p>
{img(map_png(report), 'map of the ward and its LSOAs')}
<h2>Priority scores</h2><ul>{scores or '<li>No priority score for this ward.</li>'}</ul>
<h2>Indicators against the district, the area and England</h2>
{img(chart_png(report), 'chart of indicators')}
<table><tr><th>Indicator</th><th>Ward</th><th>District</th><th>Area</th><th>England</th><th>Rank in district</th><th>vs England</th></tr>{rows}</table>
<p style="font-size:12px">* estimate (see caveats)</p>
{context}
{img(trend_png(report), 'claimant rate trend')}
{gaps}
<h2>Caveats</h2><ul style="font-size:12px">{caveats}</ul>
<h2>Sources</h2><ul style="font-size:12px">{sources}</ul>
</body></html>"""
