"""Choropleth classes and colour-blind-safe palettes for map layers.

Colours always run from light (less need) to dark (more need), whatever the
indicator's direction, so a darker area is always a bigger concern. The
sequential palette is ColorBrewer YlOrRd (marked colour-blind safe by
ColorBrewer), sampled to the number of classes; missing values are drawn
grey and listed as "no data" in the legend.

Schemes: ``quantiles`` (5 equal-count classes), ``deciles`` (10),
``natural_breaks`` (Jenks-Caspall, deterministic), ``iod_deciles`` (the
published national IoD deciles: 1 = most deprived 10% of England) and
``categories`` (bands, flags and counts).
"""

from __future__ import annotations

from dataclasses import dataclass

import mapclassify
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import to_hex

SCHEMES = {"quantiles": "Quantiles (5 classes, equal counts)", "deciles": "Deciles (10 classes)",
           "natural_breaks": "Natural breaks (Jenks-Caspall, 5 classes)"}
NO_DATA_COLOUR = "#bdbdbd"
BAND_COLOURS = {"top 10%": "#99000d", "top 20%": "#fb6a4a", "priority": "#99000d", "other": "#fee5d9", "no data": NO_DATA_COLOUR}


def band_colours(n: int) -> list[str]:
    """Colours for ``n`` priority bands, darkest (highest priority) first."""
    return ["#99000d"] if n == 1 else list(reversed(sequential(n + 1)[1:]))


def sequential(n: int) -> list[str]:
    """``n`` colours from light to dark (ColorBrewer YlOrRd)."""
    cmap = colormaps["YlOrRd"]
    lo, hi = 0.08, 0.95
    return [to_hex(cmap(lo + (hi - lo) * i / max(n - 1, 1))) for i in range(n)]


@dataclass
class Classes:
    """A classified layer: class index per area (-1 = no data), colours and legend rows."""

    index: np.ndarray
    colours: list[str]
    legend: list[tuple[str, str]]  # (colour, text)
    scheme: str


def _fmt(v: float, unit: str) -> str:
    text = f"{v:,.1f}" if abs(v) < 1000 else f"{v:,.0f}"
    return f"{text}%" if unit.startswith("%") else text


def classify(values: pd.Series | np.ndarray, scheme: str = "quantiles", *, direction: int = 1, unit: str = "") -> Classes:
    """Classify numeric values into coloured classes (darker = more need).

    ``direction`` is +1 when a higher value is more need, -1 when lower is.
    """
    y = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
    ok = ~np.isnan(y)
    index = np.full(len(y), -1, dtype=int)
    if scheme == "iod_deciles":
        colours = list(reversed(sequential(10)))  # decile 1 = most deprived = darkest
        index[ok] = np.clip(y[ok].astype(int), 1, 10) - 1
        legend = [(colours[i], f"decile {i + 1}" + (" (most deprived 10%)" if i == 0 else " (least deprived)" if i == 9 else ""))
                  for i in range(10)]
        return Classes(index, colours, legend + [(NO_DATA_COLOUR, "no data")], scheme)
    if ok.sum() == 0:
        return Classes(index, [], [(NO_DATA_COLOUR, "no data")], scheme)
    k = {"quantiles": 5, "deciles": 10, "natural_breaks": 5}.get(scheme)
    if k is None:
        raise ValueError(f"unknown classification {scheme!r}; choose one of {', '.join(SCHEMES)} or iod_deciles")
    distinct = np.unique(y[ok])
    k = max(1, min(k, len(distinct)))
    need = y[ok] * direction  # classify on "need" so class 0 is always least need
    if k == 1:
        bins = np.array([need.max()])
        yb = np.zeros(ok.sum(), dtype=int)
    elif scheme == "natural_breaks":
        c = mapclassify.JenksCaspall(need, k=k)
        bins, yb = c.bins, c.yb
    else:
        c = mapclassify.Quantiles(need, k=k)
        bins, yb = c.bins, c.yb
    index[ok] = yb
    n_classes = len(bins)
    colours = sequential(n_classes)
    lows = np.concatenate([[need.min()], bins[:-1]])
    legend = []
    for i in range(n_classes):
        a, b = lows[i] * direction, bins[i] * direction
        lo, hi = (a, b) if direction > 0 else (b, a)
        legend.append((colours[i], f"{_fmt(lo, unit)} to {_fmt(hi, unit)}"))
    legend.append((NO_DATA_COLOUR, "no data"))
    return Classes(index, colours, legend, scheme)


def categorical(values: pd.Series, order: list[str], colours: dict[str, str]) -> Classes:
    """Classes for labelled categories (bands, flags) in a fixed order."""
    cats = [c for c in order if c != "no data"]
    lookup = {c: i for i, c in enumerate(cats)}
    index = np.array([lookup.get(v, -1) for v in values], dtype=int)
    pal = [colours.get(c, NO_DATA_COLOUR) for c in cats]
    legend = [(colours.get(c, NO_DATA_COLOUR), c) for c in cats] + [(NO_DATA_COLOUR, "no data")]
    return Classes(index, pal, legend, "categories")
