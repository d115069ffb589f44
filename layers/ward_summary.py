"""A ward profile's plain-English opening and its rank lines, written only from the report's figures.

:func:`summary_sentences` gives 3 to 5 sentences: who lives there, what
stands out against the district and England, how many indicators are worse
than England, where the first profile's priority score ranks, and whether
that is a robust priority and why (from the weight-draw results already
computed). Each sentence comes from figures in the
:class:`layers.ward_report.WardReport`; a figure that is missing is said to
be unknown, never guessed. :func:`rank_lines` gives each score's rank within
the ward's own district and within England (the same whichever area of
interest was chosen), and within the area only as an extra line naming it.
"""

from __future__ import annotations

import math

import pandas as pd

#: How many standout indicators the summary names.
STANDOUT_N = 2


def _known(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value)) and not pd.isna(value)


def _population_sentence(report) -> str:
    f = report.figures
    hit = f[f["indicator"] == "census21_population"] if len(f) else f
    where = f"{report.name} is a ward in {report.lad_name}"
    if len(hit) and _known(hit.iloc[0]["value"]):
        return f"{where} with {hit.iloc[0]['shown']} residents at the 2021 Census."
    return f"{where}; its number of residents is not known here."


def _standouts(report) -> pd.DataFrame:
    """Percentages of residents or households worse than England, furthest above England first (ratio of ward
    to England); shares of LSOAs are left out (a ward has only a handful of them)."""
    f = report.figures
    if not len(f):
        return f
    f = f[(f["rag"] == "red") & (f["unit"].astype(str) == "%") & f["value"].notna()
          & f["england"].notna() & (f["england"] > 0)]
    return f.assign(_ratio=f["value"] / f["england"]).sort_values("_ratio", ascending=False).head(STANDOUT_N)


def _standout_sentence(report) -> str:
    top = _standouts(report)
    if not len(top):
        return "None of its percentage figures is rated worse than England."
    first, *rest = list(top.itertuples(index=False))
    text = (f"Against England it stands out most on \u201c{_short(first.label)}\u201d ({first.shown} here, against "
            f"{first.district_shown} across {report.lad_name} and {first.england_shown} in England)")
    for r in rest:
        text += f" and \u201c{_short(r.label)}\u201d ({r.shown}, against {r.district_shown} and {r.england_shown})"
    return text + "."


def _short(label: str) -> str:
    """A label without its bracketed unit."""
    return label.split(" (")[0]


def _count_sentence(report) -> str:
    f = report.figures
    rated = f[f["rag"].isin(["red", "amber", "green"])] if len(f) else f
    if not len(rated):
        return "None of its figures could be rated against England."
    red, green = int((rated["rag"] == "red").sum()), int((rated["rag"] == "green").sum())
    return (f"It is worse than England on {red} of the {len(rated)} figures rated against England "
            f"and better on {green}.")


def _band_of(s: dict, report) -> str:
    """``top 20% of wards in Luton`` (or in England, for a profile banded nationally)."""
    place = "England" if s.get("band_scope") == "national" else report.area_name
    if s["robust_band"] == "priority":
        return f"the priority group (score at or above the threshold) in {place}"
    return f"the {s['robust_band']} of wards in {place}"


def _priority_sentences(report) -> list[str]:
    if not report.scores:
        return ["It has no priority score."]
    s = report.scores[0]
    if s["rank"] is None:
        return [f"It has no {s['profile']} score: {s['why']}."]
    out = [f"On the {s['profile']} score it ranks {s['rank_district']} of {s['n_district']} wards in "
           f"{report.lad_name} and {s['rank_national']:,} of {s['n_national']:,} in England."]
    share, draws = s.get("band_share"), s.get("draws")
    if s.get("robust") is None or not _known(share):
        out.append("How robust that ranking is was not worked out for this profile.")
    else:
        tried = f" ({draws} tries)" if draws else ""
        spread = ""
        if s.get("rank_range") and s["band_scope"] != "national":  # the 5th to 95th percentile of the ranks
            lo, hi = s["rank_range"]
            spread = (f", ranking between {lo} and {hi} there in 9 tries out of 10" if lo != hi else
                      f", ranked {lo} there in at least 9 tries out of 10")
        band, need, often = _band_of(s, report), f"{s['robust_share']:.0%}", _how_often(share, draws)
        if s["robust"]:
            out.append(f"It is {priority_verdict(s)}: when the indicators are weighted differently{tried} it stays "
                       f"in {band} {often}{spread} (at least {need} is needed).")
        elif share <= 0:
            out.append(f"It is {priority_verdict(s)}: when the indicators are weighted differently{tried} it is "
                       f"never in {band}{spread}.")
        else:
            out.append(f"It is {priority_verdict(s)}: when the indicators are weighted differently{tried} it is "
                       f"in {band} {often}{spread} (a robust priority needs at least {need}).")
    return out


def _how_often(share: float, draws: int | None) -> str:
    """``every time``, ``in 199 of them`` (of ``draws``), or a percentage never rounded to 0% or 100%."""
    if share >= 1:
        return "every time"
    if draws:
        return f"in {round(share * draws):,} of them"
    if share < 0.01 or share > 0.99:
        return "in under 1% of them" if share < 0.01 else "in over 99% of them"
    return f"in {share:.0%} of them"


def priority_verdict(s: dict) -> str:
    """What the weight draws say of score ``s``, in a few words (``robust`` True or False, ``band_share`` 0-1):
    a robust priority; a priority under some weightings only; or not a priority under any weighting tried."""
    if s["robust"]:
        return "a robust priority"
    if _known(s.get("band_share")) and s["band_share"] > 0:
        return "a priority under some weightings only, not a robust one"
    return "not a priority under any weighting tried"


def summary_sentences(report) -> list[str]:
    """The profile's opening, 3 to 5 sentences, each from the report's figures (see the module docstring)."""
    sentences = [_population_sentence(report), _standout_sentence(report), _count_sentence(report),
                 *_priority_sentences(report)]
    return sentences[:5]


def rank_lines(report, s: dict) -> list[str]:
    """Score ``s`` of ``report``: its rank in the ward's district and in England, then (when the area is not
    just the district) in the area of interest as an extra line naming it."""
    if s["rank"] is None:
        return [f"Not ranked: {s['why']}."]
    lines = [f"Rank within {report.lad_name}: {s['rank_district']} of {s['n_district']} wards (1 = most need)",
             f"Rank within England: {s['rank_national']:,} of {s['n_national']:,} wards"]
    if report.shows_area:
        lines.append(f"Also, within the chosen area {report.area_name}: {s['rank']} of {s['n']} wards")
    return lines
