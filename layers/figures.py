"""Matplotlib figures made without pyplot, for the PNG charts and maps of profiles, packs and dashboards.

pyplot keeps one figure registry for the whole process and is not thread-safe; every Streamlit session runs
in its own thread and the councillor pack draws in a background one, so figures are made as plain
:class:`matplotlib.figure.Figure` objects (Agg canvas) and never registered.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # geopandas imports pyplot when it plots: never a window on a server
from matplotlib.figure import Figure  # noqa: E402


def new_axes(figsize: tuple[float, float], dpi: int = 150):
    """(figure, axes) of ``figsize`` inches at ``dpi`` dots per inch."""
    fig = Figure(figsize=figsize, dpi=dpi)
    return fig, fig.subplots()


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes, cropped to what is drawn."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
