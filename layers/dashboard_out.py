"""The district dashboard as files: CSV (formula-safe), Excel, self-contained HTML and PNG trend charts.

Every text cell that comes from a file (area and district names, ONS notes)
is neutralised for spreadsheets (``geo.csvsafe``) in CSV and Excel and
escaped with ``html.escape`` in HTML. Charts are drawn with matplotlib
(years on the x axis, the indicator's unit on the y axis).
"""

from __future__ import annotations

import base64
import html

import matplotlib
import numpy as np
import pandas as pd

from geo import csvsafe
from layers.dashboard import LEGEND, RAG_WORDS, Dashboard
from layers.figures import new_axes, png_bytes
from layers.registry import load_registry

RAG_COLOURS = {"red": "#f4c7c3", "amber": "#fce8b2", "green": "#c9e7d0"}
#: Columns of the tidy table, in order.
TIDY = ["indicator", "label", "unit", "code", "name", "role", "period", "period_label", "value", "lci", "uci",
        "status", "unreliable", "england", "comparison", "basis", "source", "note"]


def tidy(board: Dashboard, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """The figures (or ``frame``, e.g. ``board.series``) with labels and the comparison in words."""
    registry = load_registry()
    frame = board.figures if frame is None else frame
    out = frame.assign(label=frame["indicator"].map(lambda i: registry[i].label),
                       unit=frame["indicator"].map(lambda i: registry[i].unit),
                       comparison=frame["rag"].map(RAG_WORDS))
    return out[TIDY].reset_index(drop=True)


def notes_lines(board: Dashboard) -> list[str]:
    """Legend, the dashboard's notes, how the area figures were made, and the sources."""
    area = board.figures[board.figures["role"] == "area"]
    made = sorted(set(area["source"].dropna()) - {""})
    lines = list(LEGEND)
    lines += [f"{board.area.name} column: {m}." for m in made]
    registry = load_registry()
    for reason, part in area[area["value"].isna() & (area["note"] != "")].groupby("note", sort=False):
        labels = ", ".join(dict.fromkeys(registry[i].label for i in part["indicator"]))
        lines.append(f"{board.area.name} column, {labels}: {reason}.")
    lines += board.notes
    lines += [f"Distance to 80%: {board.distance['population_source'].iloc[0]}; "
              f"{board.distance['rounding'].iloc[0]}."] if len(board.distance) else []
    return lines + board.sources


def to_csv_bytes(board: Dashboard) -> bytes:
    """The tidy figures of the chosen period as formula-safe CSV (UTF-8 with BOM)."""
    return csvsafe.to_csv_bytes(tidy(board))


def to_xlsx_bytes(board: Dashboard) -> bytes:
    """An Excel workbook: Dashboard (readable), Figures (tidy), Distance to 80%, Trends (every year), Notes."""
    sheets = {"Dashboard": board.table(), "Figures": tidy(board), "Distance to 80%": board.distance,
              "Trends": tidy(board, board.series), "Notes": pd.DataFrame({"note": notes_lines(board)})}
    return csvsafe.to_xlsx_bytes(sheets)


def trend_png(board: Dashboard, indicator: str, width_in: float = 7.0, dpi: int = 130) -> bytes:
    """Line chart of one indicator over time: each district, the area (dashed) and England (black)."""
    ind = load_registry()[indicator]
    data = board.trend(indicator)
    fig, ax = new_axes((width_in, 3.4), dpi)
    colours = matplotlib.colormaps["tab20"].colors
    styles = {"area": dict(color="#5b3f8c", linewidth=2.2, linestyle="--"), "england": dict(color="black", linewidth=2.6)}
    for n, (key, name, role) in enumerate(board.columns):  # districts come first
        rows = data[data["code"] == key].sort_values("period")
        if rows["value"].notna().sum() == 0:
            continue
        style = styles.get(role) or dict(color=colours[n % len(colours)], linewidth=1.2)
        ax.plot(rows["period"], rows["value"], label=name, marker="o", markersize=2.5, **style)
        if role == "england" and rows["lci"].notna().any():
            ax.fill_between(rows["period"], rows["lci"], rows["uci"], color="black", alpha=0.12, linewidth=0)
    ax.set_title(f"{ind.label}: {board.area.name} and England", fontsize=9)
    ax.set_ylabel(ind.unit, fontsize=8)
    years = sorted(data["period"].unique())
    if years:
        labels = data.drop_duplicates("period").set_index("period")["period_label"]
        step = max(1, len(years) // 10)
        ax.set_xticks(years[::step])
        ax.set_xticklabels([labels[y] for y in years[::step]], fontsize=7, rotation=30)
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(color="#eeeeee")
    ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    fig.tight_layout()
    return png_bytes(fig)


def table_html(board: Dashboard) -> str:
    """The wide table as an HTML ``<table>``, each cell coloured red/amber/green; every text is escaped."""
    e = html.escape
    table = board.table()
    figures = board.figures.set_index(["indicator", "code"])
    head = "".join(f"<th>{e(str(c))}</th>" for c in table.columns)
    body = []
    for ind_id, (_, row) in zip(board.indicators, table.iterrows()):
        cells = [f"<th scope='row'>{e(str(row['Indicator']))}</th>", f"<td>{e(str(row['Period']))}</td>"]
        for key, name, _ in board.columns:
            colour = ""
            if (ind_id, key) in figures.index:
                hit = figures.loc[(ind_id, key), "rag"]
                colour = RAG_COLOURS.get(hit.iloc[0] if isinstance(hit, pd.Series) else hit, "")
            style = f" style='background:{colour}'" if colour else ""
            cells.append(f"<td{style}>{e(str(row[name]))}</td>")
        cells.append(f"<td>{e(str(row['How compared']))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def to_html(board: Dashboard, charts: bool = True) -> str:
    """A self-contained HTML page (no scripts, images inlined); every text from a file is escaped."""
    e = html.escape
    distance = "".join(f"<tr><td>{e(str(r.name))}</td><td>{e(str(r.statement))}</td>"
                       f"<td>{'' if np.isnan(r.population_16_64) else f'{r.population_16_64:,.0f}'}</td></tr>"
                       for r in board.distance.itertuples(index=False))
    notes = "".join(f"<li>{e(line)}</li>" for line in notes_lines(board))
    images = ""
    if charts:
        for ind_id in board.indicators:
            data = base64.b64encode(trend_png(board, ind_id, dpi=80)).decode("ascii")
            images += f"<img alt='{e(ind_id)} over time' style='max-width:100%' src='data:image/png;base64,{data}'>"
    period = "latest figures" if board.period is None else f"{board.period}"
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{e(board.area.name)}: district dashboard</title>
<style>body{{font-family:DejaVu Sans,Arial,sans-serif;margin:24px;color:#222}}
table{{border-collapse:collapse;font-size:12px}}td,th{{padding:3px 6px;border:1px solid #ddd;text-align:left;vertical-align:top}}</style>
</head><body>
<h1>{e(board.area.name)}: district dashboard ({e(period)})</h1>
{table_html(board)}
<h2>Distance to an 80% employment rate</h2>
<table><tr><th>Place</th><th>More residents aged 16-64 in work</th><th>Residents aged 16-64 (Census 2021)</th></tr>{distance}</table>
<h2>How to read this</h2><ul style="font-size:12px">{notes}</ul>
<h2>Over time</h2>{images}
</body></html>"""
