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
import numpy as np
import pandas as pd

from geo import __version__
from geo.escape import html_attr, html_text, mpl_text
from layers.figures import new_axes, png_bytes
from layers.scoring import priority_bands

RAG_COLOURS = {"red": "#c0392b", "amber": "#e08e0b", "green": "#2e8b57"}
RAG_WORDS = {"red": "worse than England", "amber": "similar to England", "green": "better than England"}
#: The same in a column headed "vs England".
RAG_SHORT = {"red": "worse", "amber": "similar", "green": "better"}


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
    #: The area of interest's district codes (to tell when the area is just the ward's own district).
    area_codes: tuple[str, ...] = ()
    #: True when the area of interest holds every district in England (whatever it is called).
    area_is_england: bool = False
    #: The district's LSOAs that overlap the ward but are counted in a neighbouring ward (EPSG:27700): best fit
    #: puts each LSOA in the ward holding most of its residents, so the map shows them rather than a blank.
    neighbours: gpd.GeoDataFrame | None = None

    @property
    def area_is_district(self) -> bool:
        """True when the area of interest is exactly the ward's district."""
        return tuple(self.area_codes) == (self.lad_code,)

    @property
    def shows_area(self) -> bool:
        """True when the area of interest is shown beside the district and England: not when it is one of them."""
        return not self.area_is_district and not self.area_is_england

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
                      scored: list, claimant_trend: pd.DataFrame | None = None, notes: dict | None = None,
                      draws: int | None = None) -> WardReport:
    """Assemble a ward's profile.

    Each score carries its rank within the ward's district and within England (both independent of the
    area of interest, since scores are normalised over England) and within the area; ``draws`` is the number
    of weight draws behind the robust flag, when computed.

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
    in_district = store.boundaries("lsoa", [row["lad_code"]])
    lsoas = in_district[in_district["ward_code"] == ward_code]
    neighbours = overlapping_neighbours(in_district[in_district["ward_code"] != ward_code], ward)
    district = store.table("boundaries", "lad_outline", [row["lad_code"]])
    mine = comparators[comparators["code"] == ward_code]
    rows = []
    for r in mine.itertuples(index=False):
        ind = registry.get(r.indicator)
        if ind is None or ind.direction == 0 and ind.kind != "count":
            continue
        dec = getattr(ind, "decimals", 1)
        rank = "" if pd.isna(r.rank_in_district) or ind.direction == 0 else f"{int(r.rank_in_district)} of {int(r.n_in_district)}"
        rank_e = ("" if pd.isna(getattr(r, "rank_in_england", np.nan)) or ind.direction == 0
                  else f"{int(r.rank_in_england):,} of {int(r.n_in_england):,}")
        rows.append({"indicator": r.indicator, "label": ind.label, "topic": ind.topic, "unit": ind.unit,
                     "value": r.value, "district": r.district_value, "area": r.area_value, "england": r.england_value,
                     "rank_in_district": rank, "rank_in_england": rank_e, "rag": r.rag if isinstance(r.rag, str) else "",
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
        same = s.areas[(s.areas["lad_code"] == h["lad_code"]) & s.areas["rank_national"].notna()]
        scores.append({"profile": s.profile.name, "score": h["score"], "rank": int(h["rank"]), "n": int(h["n_ranked"]),
                       "rank_district": int((same["rank_national"] < h["rank_national"]).sum()) + 1,
                       "n_district": len(same), "rank_national": int(h["rank_national"]),
                       "n_national": int(h["n_ranked_national"]), "method": s.profile.normalisation,
                       "band_scope": s.profile.band_scope, "draws": draws if "robust" in h else None,
                       "robust_band": "priority" if s.profile.threshold is not None else f"top {round(max(s.profile.band_shares) * 100):g}%",
                       "robust_share": s.profile.robust_share,
                       "rank_range": ((int(h["rank_p05"]), int(h["rank_p95"])) if "rank_p05" in h and pd.notna(h["rank_p05"])
                                      else None),
                       "band": h["band"], "in_band": h["band"] in priority_bands(s.profile),
                       "robust": bool(h["robust"]) if "robust" in h else None,
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
                      ward, lsoas, district, claimant_trend, sources, district_context=context,
                      area_codes=tuple(area.lad_codes),
                      area_is_england=set(area.lad_codes) >= set(store.districts()["code"]), neighbours=neighbours)


#: An LSOA is drawn as a neighbour when at least this share of the ward's area lies in it (m² / m²): smaller
#: overlaps are slivers along a shared edge that no reader would see.
NEIGHBOUR_MIN_SHARE = 0.002


def overlapping_neighbours(others: gpd.GeoDataFrame, ward: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The LSOAs of ``others`` that cover at least :data:`NEIGHBOUR_MIN_SHARE` of ``ward``'s area (EPSG:27700)."""
    shape = ward.geometry.union_all()
    if others.empty or shape.is_empty or shape.area <= 0:
        return others.iloc[:0]
    near = others[others.intersects(shape)]
    overlap = near.geometry.intersection(shape).area
    return near[overlap >= NEIGHBOUR_MIN_SHARE * shape.area]


def context_lines(report: WardReport) -> list[str]:
    """The district's survey and claimant figures in words, one line each (empty when not installed)."""
    if report.district_context is None:
        return []
    return [f"{r.label}: {r.shown}, {r.period} (England {r.england}). {report.lad_name} figure: {r.sentence}."
            for r in report.district_context.itertuples(index=False)]


def report_record(report: WardReport) -> dict:
    """The profile as plain data (no images or date): ward, scores, figures, gaps, sources, summary and ranks."""
    from layers.ward_summary import rank_lines, summary_sentences

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
            "figures": figures, "gaps": report.gaps, "sources": list(report.sources),
            "summary": summary_sentences(report), "ranks": [rank_lines(report, s) for s in report.scores]}


def report_json(report: WardReport) -> str:
    """:func:`report_record` as JSON text."""
    return json.dumps(report_record(report), indent=1, ensure_ascii=False)


def score_lines(report: WardReport, s: dict) -> list[str]:
    """One priority score as short lines: the score and what its scale means, its ranks (district, England,
    then the area as an extra line), whether it is robust, the main reasons and overlapping needs."""
    from layers.lay_words import score_scale_words
    from layers.ward_summary import priority_verdict, rank_lines

    if s["rank"] is None:
        return [f"Not scored: {s['why']}."]
    scale = ("out of 100 (100 = most need; see How to read this profile)"
             if s.get("method") in ("rank_exponential", "minmax") else f"({score_scale_words(s.get('method', ''))})")
    lines = [f"Score {_fmt(s['score'], 'score')} {scale}", *rank_lines(report, s)]
    verdict = priority_verdict(s)
    if verdict is not None:
        lines.append(f"{verdict[0].upper()}{verdict[1:]}" + (" (see the summary)." if s is report.scores[0] else "."))
    reasons = ", ".join(r.split(" (")[0] for r in s["reasons"]) if s["reasons"] else "none recorded"
    lines.append(f"Main reasons: {reasons}.")
    lines.append(f"Needs that overlap: {s['overlap']} of its {s['k']} indicators are in England's worst fifth.")
    return lines


def scale_notes(report: WardReport) -> list[tuple[str, str]]:
    """(what, meaning) for every kind of number the profile shows, each once, in plain words."""
    from layers.lay_words import scale_name, scale_words, score_scale_words

    out: list[tuple[str, str]] = []
    for method in dict.fromkeys(s.get("method") for s in report.scores if s.get("rank") is not None):
        out.append(("Priority score", score_scale_words(method or "")))
    out.append(("Rank", "1 = the most need; ranks are within the ward's own district and within England"))
    out.append(("vs England", "red = worse than England, amber = similar, green = better, by each indicator's rule "
                              "(see the technical notes)"))
    out.append(("Percentages", "of the residents or households named in each indicator's label"))
    seen = set()
    for r in report.figures.itertuples(index=False) if len(report.figures) else []:
        words = scale_words(r.indicator, str(r.unit))
        if words and words not in seen and str(r.unit) not in ("%", "count"):
            seen.add(words)
            out.append((scale_name(r.indicator, str(r.unit), r.label), words))
    return out


def lay_notes(report: WardReport) -> list[tuple[str, str]]:
    """(what, one-line plain caveat): an indicator's own caveat under its label, a shared one once under its
    group's name (e.g. "Indices of Deprivation 2025 figures")."""
    from layers.lay_words import lay_caveat_group

    groups: dict[str, list[str]] = {}
    for r in report.figures.itertuples(index=False) if len(report.figures) else []:
        group, line = lay_caveat_group(r.indicator)
        if line:
            names = groups.setdefault(line, [])
            name = group or _short_label(r.label)
            if name not in names:
                names.append(name)
    return [(", ".join(names), line) for line, names in groups.items()]


def _short_label(label: str) -> str:
    return label.split(" (")[0]


# -- drawing ---------------------------------------------------------------------------------

NEIGHBOURS_NOTE = ("Grey hatched: parts of the ward in neighbourhoods counted in a neighbouring ward, because most "
                   "of their residents live there. The ward's figures use the orange neighbourhoods.")


NO_OWN_NOTE = ("Grey hatched: neighbourhoods counted in neighbouring wards, because most of their residents live "
               "there. No neighbourhood is counted in this ward.")


def map_png(report: WardReport, width_in: float = 6.0) -> bytes:
    """The ward (thick outline), its LSOAs and the district edge, in British National Grid."""
    fig, ax = new_axes((width_in, width_in * 0.75))
    xmin, ymin, xmax, ymax = report.ward.total_bounds
    pad = max(xmax - xmin, ymax - ymin) * 0.35
    report.district.boundary.plot(ax=ax, color="#999999", linewidth=1.0)
    neighbours = report.neighbours if report.neighbours is not None else report.lsoas.iloc[:0]
    if len(neighbours):
        # only the part inside the ward: that is the gap a reader would otherwise puzzle over
        inside = neighbours.geometry.intersection(report.ward.geometry.union_all())
        inside.plot(ax=ax, facecolor="#eeeeee", edgecolor="#aaaaaa", linewidth=0.5, hatch="///")
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
    ax.set_title(mpl_text(f"{report.name} ward (dark outline) and its neighbourhoods (LSOAs, labelled by code)"),
                 fontsize=8, wrap=True)
    if len(neighbours):
        fig.subplots_adjust(bottom=0.17)  # the note sits below the map, never across it
        note = NEIGHBOURS_NOTE if len(report.lsoas) else NO_OWN_NOTE
        fig.text(0.5, 0.02, _wrap(note, int(width_in * 19)), ha="center", va="bottom", fontsize=6.5, color="#555555")
    return png_bytes(fig)


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def chart_png(report: WardReport, width_in: float = 7.0) -> bytes:
    """Dot chart: each percentage indicator for the ward against district, area and England.

    Labels are wrapped, never cut; when the area of interest is the ward's district it is drawn once.
    """
    fig_rows = report.figures[report.figures["unit"].astype(str).str.startswith("%")] if len(report.figures) else report.figures
    n = max(len(fig_rows), 1)
    wrapped = [_wrap(lbl, 44) for lbl in fig_rows["label"]] if len(fig_rows) else []
    lines = sum(w.count("\n") + 1 for w in wrapped) or 1
    fig, ax = new_axes((width_in, 0.2 * lines + 0.12 * n + 1.2))
    if len(fig_rows) == 0:
        ax.text(0.5, 0.5, "No percentage indicators for this ward", ha="center", va="center")
        ax.set_axis_off()
        return png_bytes(fig)
    y = np.arange(len(fig_rows))[::-1]
    series = [("england", "#444444", "|", "England")]
    if report.shows_area:
        series.append(("area", "#7b6fa8", "s", report.area_name))
    series.append(("district", "#4c8fc0", "D", report.lad_name))
    for key, colour, marker, label in series:
        ax.scatter(fig_rows[key], y, color=colour, marker=marker, s=60 if marker == "|" else 28, label=mpl_text(label),
                   zorder=3)
    colours = [RAG_COLOURS.get(r, "#333333") for r in fig_rows["rag"]]
    ax.scatter(fig_rows["value"], y, color=colours, s=70, edgecolor="black", linewidth=0.6,
               label=mpl_text(f"{report.name} ward"), zorder=4)
    missing = fig_rows["value"].isna().to_numpy()
    for yy, miss in zip(y, missing):
        if miss:
            ax.text(0.5, yy, "no data", transform=ax.get_yaxis_transform(), fontsize=7, color="#888888", va="center")
    ax.set_yticks(y)
    ax.set_yticklabels([mpl_text(w) for w in wrapped], fontsize=7)
    ax.set_xlabel("Per cent. The ward's dot is red (worse than England), amber (similar) or green (better).", fontsize=8)
    ax.grid(axis="x", color="#dddddd")
    ax.legend(fontsize=7, loc="lower right", frameon=False, ncol=len(series) + 1, bbox_to_anchor=(1, 1.0))
    fig.tight_layout()
    return png_bytes(fig)


def trend_png(report: WardReport) -> bytes | None:
    t = report.claimant_trend
    if t is None or t.empty:
        return None
    fig, ax = new_axes((6, 2.2))
    ax.plot(pd.to_datetime(t["month"]), t["rate"], color="#1f5f8b")
    ax.set_ylabel("% of residents 16-64", fontsize=8)
    ax.set_title("Claimant rate (Nomis NM_162_1; counts rounded to 5)", fontsize=9)
    ax.grid(color="#eeeeee")
    fig.tight_layout()
    return png_bytes(fig)



# -- PDF -------------------------------------------------------------------------------------

def _font_path() -> str:
    from pathlib import Path

    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")


def new_pdf():
    """An A4 fpdf2 document with DejaVu Sans (regular and bold) so any place name prints."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.add_font("dejavu", "", _font_path())
    pdf.add_font("dejavu", "B", _font_path().replace("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"))
    return pdf


def subtitle(report: WardReport) -> str:
    """The line under the title: code, district, the area (when it is not just the district) and when made."""
    area = f" · compared also with {report.area_name}" if report.shows_area else ""
    return (f"Ward {report.code} in {report.lad_name}{area} · produced {report.generated} "
            f"with Wardscope {__version__}")


def report_pdf(report: WardReport) -> bytes:
    """A printable A4 profile (fpdf2; DejaVu Sans so any place name prints).

    Page 1: the summary in plain English, the map and each priority score with
    what its scale means and its ranks. Then the chart and the figures table
    with what each scale means and one-line plain caveats; technical notes
    (how figures are built, the ward's boundary source) and sources close it.
    """
    from layers.ward_summary import summary_sentences

    pdf = new_pdf()
    pdf.add_page()
    pdf.set_font("dejavu", "B", 16)
    _para(pdf, 8, f"{report.name} ward profile")
    pdf.set_font("dejavu", "", 8.5)
    _para(pdf, 4.5, subtitle(report))
    pdf.ln(2)
    pdf.set_font("dejavu", "B", 11)
    pdf.cell(0, 7, "Summary", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "", 10)
    _para(pdf, 5.2, " ".join(summary_sentences(report)))
    top = pdf.get_y() + 3
    pdf.image(io.BytesIO(map_png(report, width_in=4.2)), x=pdf.l_margin, y=top, w=80)
    pdf.set_xy(pdf.l_margin + 84, top)
    pdf.set_font("dejavu", "B", 11)
    pdf.cell(0, 7, "Priority", new_x="LEFT", new_y="NEXT")
    for s in report.scores or [None]:
        pdf.set_x(pdf.l_margin + 84)
        pdf.set_font("dejavu", "", 8)
        if s is None:
            pdf.multi_cell(0, 4.2, "No priority score for this ward.", new_x="LEFT", new_y="NEXT", align="L")
            break
        pdf.set_font("dejavu", "B", 8.5)
        pdf.multi_cell(0, 4.4, s["profile"], new_x="LEFT", new_y="NEXT", align="L")
        pdf.set_font("dejavu", "", 7.8)
        for line in score_lines(report, s):
            pdf.multi_cell(0, 3.9, line, new_x="LEFT", new_y="NEXT", align="L")
        pdf.ln(1.5)
    pdf.set_xy(pdf.l_margin, max(pdf.get_y(), top + 62) + 2)
    _label_lines(pdf, "How to read this profile", scale_notes(report))
    chart = chart_png(report)
    pdf.set_font("dejavu", "B", 11)
    heading = ("Indicators against the district and England" if not report.shows_area
               else "Indicators against the district, the area and England")
    _keep_with_image(pdf, chart, 185)
    pdf.cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.image(io.BytesIO(chart), w=185)
    pdf.ln(3)
    _figures_table(pdf, report)
    _label_lines(pdf, "Read with care", lay_notes(report))
    if context_lines(report):
        pdf.set_font("dejavu", "B", 9)
        _para(pdf, 6, f"{report.lad_name}: district figures (not split into wards)")
        pdf.set_font("dejavu", "", 7.5)
        for line in context_lines(report):
            _para(pdf, 3.8, line)
    trend = trend_png(report)
    if trend:
        pdf.image(io.BytesIO(trend), w=150)
    if report.gaps:
        pdf.set_font("dejavu", "B", 9)
        _para(pdf, 5, "Gaps: no figures for " + "; ".join(report.gaps) + ".")
    pdf.ln(2)
    pdf.set_font("dejavu", "B", 11)
    pdf.cell(0, 7, "Appendix: technical notes", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "", 7)
    _para(pdf, 3.6, f"Ward boundary: {report.ward_note}")
    for label, caveat in _caveats(report):
        _para(pdf, 3.6, f"{label}: {caveat}")
    pdf.set_font("dejavu", "B", 9)
    pdf.cell(0, 6, "Sources", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "", 7)
    for line in report.sources:
        _para(pdf, 3.6, line)
    return bytes(pdf.output())


def _keep_with_image(pdf, png: bytes, width_mm: float) -> None:
    """Start a new page when a heading and the image below it would not fit on this one."""
    from PIL import Image

    w, h = Image.open(io.BytesIO(png)).size
    needed = 7 + width_mm * h / w
    if pdf.get_y() + needed > pdf.h - pdf.b_margin:
        pdf.add_page()


def _para(pdf, height: float, text: str) -> None:
    """A paragraph across the page, leaving the cursor at the left margin of the next line."""
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT", align="L")


def _label_lines(pdf, heading: str, rows: list[tuple[str, str]]) -> None:
    if not rows:
        return
    pdf.ln(1)
    pdf.set_font("dejavu", "B", 9)
    _para(pdf, 6, heading)
    for label, text in rows:
        pdf.set_font("dejavu", "B", 7.5)
        pdf.write(3.8, f"{label}: ")
        pdf.set_font("dejavu", "", 7.5)
        pdf.write(3.8, text)
        pdf.ln(4.4)


def table_columns(report: WardReport) -> list[tuple[str, str]]:
    """(figure column, heading) of the figures table; the area's column only when it is neither the district nor England."""
    cols = [("label", "Indicator"), ("shown", "Ward"), ("district_shown", report.lad_name)]
    if report.shows_area:
        cols.append(("area_shown", report.area_name))
    cols += [("england_shown", "England"), ("rank_in_district", f"Rank in {report.lad_name}"),
             ("rank_in_england", "Rank in England"), ("rag", "vs England")]
    return cols


def _figures_table(pdf, report: WardReport) -> None:
    from fpdf.fonts import FontFace

    cols = table_columns(report)
    rest = (13, 15, 17, 15, 14, 20, 14) if len(cols) == 8 else (15, 18, 16, 16, 20, 16)
    widths = (186 - sum(rest), *rest)
    pdf.set_font("dejavu", "B", 11)
    pdf.cell(0, 7, "The figures", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "", 6.8)
    head = FontFace(emphasis="BOLD", fill_color=(235, 235, 235))
    with pdf.table(col_widths=widths, line_height=3.4, headings_style=head, first_row_as_headings=True,
                   text_align="LEFT", borders_layout="HORIZONTAL_LINES", padding=0.8) as table:
        row = table.row()
        for _, heading in cols:
            row.cell(heading)
        for r in report.figures.itertuples(index=False):
            row = table.row()
            for key, _ in cols:
                if key == "rag":
                    colour = RAG_COLOURS.get(r.rag)
                    style = FontFace(color=tuple(int(colour[k:k + 2], 16) for k in (1, 3, 5))) if colour else None
                    row.cell(RAG_SHORT.get(r.rag, "not rated"), style=style)
                elif key == "label":
                    row.cell(r.label + (" *" if r.estimate else "") + (" †" if r.small else ""))
                else:
                    row.cell(str(getattr(r, key)))
    pdf.set_font("dejavu", "", 6.5)
    _para(pdf, 3.5, "* estimate (see the technical notes). † few residents behind this rate: read its rank with care. "
                    "'no data' marks a figure this ward does not have. Rank: 1 = most need.")


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
    from layers.ward_summary import summary_sentences

    def img(data: bytes | None, alt: str) -> str:
        return "" if not data else f'<img alt="{html_attr(alt)}" style="max-width:100%" src="data:image/png;base64,{base64.b64encode(data).decode()}">'

    e = html_text
    cols = table_columns(report)

    def cell(r, key):
        if key == "rag":
            return f"<td style=\"color:{html_attr(RAG_COLOURS.get(r.rag, '#333'))}\">{e(RAG_WORDS.get(r.rag, 'not rated'))}</td>"
        if key == "label":
            return f"<td>{e(r.label)}{' *' if r.estimate else ''}{' †' if r.small else ''}</td>"
        return f"<td>{e(str(getattr(r, key)))}</td>"

    head = "".join(f"<th>{e(h)}</th>" for _, h in cols)
    rows = "".join("<tr>" + "".join(cell(r, k) for k, _ in cols) + "</tr>" for r in report.figures.itertuples(index=False))
    scores = "".join(f"<li><b>{e(s['profile'])}</b><ul>" + "".join(f"<li>{e(line)}</li>" for line in score_lines(report, s))
                     + "</ul></li>" for s in report.scores)
    notes = "".join(f"<li><b>{e(a)}</b>: {e(b)}</li>" for a, b in scale_notes(report))
    lay = "".join(f"<li><b>{e(a)}</b>: {e(b)}</li>" for a, b in lay_notes(report))
    caveats = "".join(f"<li><b>{e(a)}</b>: {e(b)}</li>" for a, b in _caveats(report))
    sources = "".join(f"<li>{e(s)}</li>" for s in report.sources)
    gaps = f"<p><b>Gaps:</b> no figures for {e('; '.join(report.gaps))}.</p>" if report.gaps else ""
    context = "".join(f"<li>{e(line)}</li>" for line in context_lines(report))
    context = (f"<h2>{e(report.lad_name)}: district figures (not split into wards)</h2><ul>{context}</ul>"
               if context else "")
    heading = ("Indicators against the district and England" if not report.shows_area
               else "Indicators against the district, the area and England")
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{e(report.name)} ward profile</title>
<style>body{{font-family:DejaVu Sans,Arial,sans-serif;max-width:960px;margin:24px auto;color:#222}}
table{{border-collapse:collapse;font-size:13px}}td,th{{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left}}</style>
</head><body>
<h1>{e(report.name)} ward profile</h1>
<p>{e(subtitle(report))}</p>
<h2>Summary</h2>
<p>{e(' '.join(summary_sentences(report)))}</p>
{img(map_png(report), 'map of the ward and its LSOAs')}
<h2>Priority scores</h2><ul>{scores or '<li>No priority score for this ward.</li>'}</ul>
<h2>How to read this profile</h2><ul style="font-size:13px">{notes}</ul>
<h2>{e(heading)}</h2>
{img(chart_png(report), 'chart of indicators')}
<table><tr>{head}</tr>{rows}</table>
<p style="font-size:12px">* estimate (see the technical notes). † few residents behind this rate: read its rank with care.</p>
<h2>Read with care</h2><ul style="font-size:13px">{lay}</ul>
{context}
{img(trend_png(report), 'claimant rate trend')}
{gaps}
<h2>Appendix: technical notes</h2><ul style="font-size:12px"><li><b>Ward boundary</b>: {e(report.ward_note)}</li>{caveats}</ul>
<h2>Sources</h2><ul style="font-size:12px">{sources}</ul>
</body></html>"""
