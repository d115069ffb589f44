"""Tables people read: column labels instead of column names, words instead of blank, None or NaN.

One helper for every table the app shows (and any other table a person reads):
:func:`readable_table` renames each column by the labels it is given, else by
the export's labels (:data:`geo.export.columns.KNOWN`: ``lad_code`` ->
``District code (GSS, LAD 2024)``), else by turning a snake_case name into
words (``priority_areas`` -> ``Priority areas``); a column already named in
words is left as it is. True/false become ``yes``/``no``. A missing value
becomes :data:`UNKNOWN` or the column's own word for it (``missing=``:
``{"capacity": "not given"}``), never a blank, ``None``, ``nan`` or 0.

The machine-readable outputs (the CLI's ``--format csv/json``) keep the
column names: scripts and other tools read those.
"""

from __future__ import annotations

import re
from typing import Mapping

import numpy as np
import pandas as pd

from geo.export.columns import KNOWN, as_spec, header

#: What a missing value shows as when the column gives no better word.
UNKNOWN = "–"
_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def column_label(name: str, labels: Mapping[str, str] | None = None) -> str:
    """The label of one column: ``labels``, the export's known labels, or its snake_case name in words."""
    if labels and name in labels:
        return labels[name]
    if name in KNOWN or _NAME.match(str(name)):
        return header(as_spec(str(name)))
    return str(name)


def _yes_no(value):
    return ("yes" if value else "no") if isinstance(value, (bool, np.bool_)) else value


def _shown(values: pd.Series, missing: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        return values.map(_yes_no)
    absent = values.isna()
    if values.dtype == object:
        absent |= values.map(lambda v: isinstance(v, str) and not v.strip())
        values = values.map(_yes_no)
    if not absent.any():
        return values
    # a column with gaps becomes text, so each gap can say what it means
    shown = values.astype(object).where(~absent, missing)
    return shown.map(lambda v: v if isinstance(v, str) else _number(v))


def _number(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:,.0f}"
    if isinstance(value, (int, float)):
        return f"{value:,}"
    return str(value)


def readable_table(frame: pd.DataFrame, labels: Mapping[str, str] | None = None, *,
                   missing: Mapping[str, str] | None = None, drop: tuple[str, ...] = ()) -> pd.DataFrame:
    """A copy of ``frame`` for people: labelled columns, yes/no, and words for missing values.

    Parameters
    ----------
    labels : column name -> label (wins over the known labels).
    missing : column name -> what a missing value means there (default :data:`UNKNOWN`).
    drop : columns not to show (internal ids, codes lists).

    Columns without gaps keep their type (numbers stay numbers and sort as
    numbers); a column with gaps becomes text, so each gap can say what it means.
    Labels stay unique: a clash gets the column name in brackets.
    """
    missing = dict(missing or {})
    out = {}
    for name in frame.columns:
        if name in drop:
            continue
        label = column_label(name, labels)
        if label in out:
            label = f"{label} [{name}]"
        out[label] = _shown(frame[name], missing.get(name, UNKNOWN))
    return pd.DataFrame(out, index=frame.index).reset_index(drop=True)
