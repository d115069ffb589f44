"""Save a user's own indicator from a CSV keyed by GSS codes (``cli.py indicators --user``; the app's upload panel).

The request holds the file's content (bytes) and what the user says about it; :func:`run` checks it
through the upload gate and :mod:`layers.user_indicators` (bad rows left out and listed, a file with
no valid row refused) and, unless ``dry_run``, saves it for this installation (atomically, the
previous version kept). The saved indicator then maps, compares and scores like any other.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from geo.words import agree, count_of
from layers.user_indicators import read_user_indicator, save_user_indicator
from tasks.result import Provenance, Result, versions

#: What people choose, and the registry's direction (+1: higher means more need).
DIRECTIONS = {"higher-is-worse": 1, "higher-is-better": -1, "context": 0}


@dataclass(frozen=True)
class UserIndicatorRequest:
    name: str                       # the file's name, as the user gave it (for messages)
    data: bytes                     # the file's content
    id: str
    label: str
    kind: str | None = None         # count, rate or score; None: from the column names
    value: str | None = None        # the figure's column (a rate's numerator); None: value / numerator
    denominator: str | None = None  # a rate's denominator column; None: denominator
    direction: str = "higher-is-worse"
    unit: str | None = None
    caveat: str = ""
    dry_run: bool = False           # check and describe only


@dataclass(frozen=True)
class UserIndicatorResult(Result):
    """``data``: the row problems (row, code, problem); ``indicator`` the registry entry saved (or not, dry run)."""

    indicator: object = None
    rows: pd.DataFrame | None = None
    saved: bool = False
    level: str = ""
    rows_read: int = 0


def run(request: UserIndicatorRequest, store) -> UserIndicatorResult:
    """Check the file and save it; raises a one-line :class:`geo.errors.WardscopeError` when nothing can be saved."""
    if request.direction not in DIRECTIONS:
        from geo.errors import WardscopeError

        raise WardscopeError(f"direction {request.direction!r} is not one of {', '.join(DIRECTIONS)}")
    check = read_user_indicator(request.data, id=request.id, label=request.label, store=store, kind=request.kind,
                                value=request.value, denominator_column=request.denominator,
                                direction=DIRECTIONS[request.direction], unit=request.unit, caveat=request.caveat,
                                source=request.name)
    if not request.dry_run:
        save_user_indicator(check.indicator, check.rows)
    ind = check.indicator
    kept = int(check.rows[ind.id].notna().sum())
    notes = [f"{count_of(len(check.problems), 'row')} with a problem (listed); {kept} of "
             f"{count_of(check.rows_read, 'row')} {agree(kept, 'gives', 'give')} a figure"]
    if check.level == "lsoa11":
        notes.append("the file is on 2011 LSOAs: figures were put on 2021 LSOAs (merged ones added up)")
    provenance = Provenance("user_indicator", ind.caveat,
                            {"id": ind.id, "label": ind.label, "kind": ind.kind, "direction": ind.direction,
                             "level": check.level, "levels": list(ind.levels), "file": request.name},
                            ({"title": request.name, "publisher": ind.publisher},), versions=versions(store))
    return UserIndicatorResult(check.problems_table(), provenance, tuple(notes), indicator=ind, rows=check.rows,
                               saved=not request.dry_run, level=check.level, rows_read=check.rows_read)
