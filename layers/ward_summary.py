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

from geo.words import count_of

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


def _band_of(s: dict, area_name: str) -> str:
    """``the top 20% of wards in Luton`` (``area_name``; England for a profile banded nationally)."""
    place = "England" if s.get("band_scope") == "national" else area_name
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
    verdict = priority_verdict(s)
    if verdict is None:
        out.append("How robust that ranking is was not worked out for this profile.")
        return out
    share, draws = float(s["band_share"]), s.get("draws")
    tried = f" ({draws:,} {'try' if draws == 1 else 'tries'})" if draws else ""
    spread = ""
    if s.get("rank_range") and s["band_scope"] != "national":  # the 5th to 95th percentile of the ranks
        lo, hi = s["rank_range"]
        spread = (f", ranking between {lo} and {hi} there in 9 tries out of 10" if lo != hi else
                  f", ranked {lo} there in at least 9 tries out of 10")
    band = _band_of(s, report.area_name)
    if _never(s):
        where = f"it is never in {band}"
    else:
        where = (f"it stays in {band}" if s["robust"] else f"it is in {band}") + f" {_how_often(share, draws)}"
        where += f" (a robust priority needs {_needed(s['robust_share'], draws)})"
    out.append(f"It is {verdict}: when the indicators are weighted differently{tried} {where}{spread}.")
    return out


#: Above this many draws a share (kept to 4 decimals) no longer gives an exact count of tries.
EXACT_COUNT_DRAWS = 10_000


def _counted(draws) -> bool:
    return bool(draws) and draws <= EXACT_COUNT_DRAWS


def _never(s: dict) -> bool:
    return float(s["band_share"]) <= 0 and (_counted(s.get("draws")) or not s.get("draws"))


def _how_often(share: float, draws: int | None) -> str:
    """``every time``, ``in 199 of them`` (of ``draws``), or a percentage never rounded to 0% or 100%."""
    if share >= 1:
        return "every time"
    if _counted(draws):
        return f"in {round(share * draws):,} of them"
    if share < 0.01 or share > 0.99:
        return "in under 1% of them" if share < 0.01 else "in over 99% of them"
    return f"in {share:.0%} of them"


def _needed(robust_share: float, draws: int | None) -> str:
    """``at least 180 of the 200`` (tries), or ``at least 90% of them``."""
    if _counted(draws):
        return f"at least {math.ceil(robust_share * draws - 1e-9):,} of the {draws:,}"
    return f"at least {robust_share:.0%} of them"


#: What the weight draws can say of a score: the summary's words and a table cell's (the pack's contents).
VERDICTS = {
    "robust": ("a robust priority", "Robust priority"),
    "most": ("a priority under most of the weightings tried, but not a robust one", "Most weightings, not robust"),
    "few": ("a priority under only a few of the weightings tried", "Only a few weightings"),
    "own": ("a priority at the profile's own weights only", "Its own weights only"),
    "never": ("not a priority under any of the weightings tried", "Never a priority"),
}


def verdict_kind(s: dict) -> str | None:
    """Which of :data:`VERDICTS` fits score ``s``, or None when the weight draws were not run.

    ``robust`` (True when ``band_share``, the 0-1 share of draws in the priority band, reaches the profile's
    ``robust_share``); ``in_band``: in the priority band at the profile's own weights.
    """
    if s.get("robust") is None or not _known(s.get("band_share")):
        return None
    if s["robust"]:
        return "robust"
    if _never(s):
        return "own" if s.get("in_band") else "never"
    return "most" if float(s["band_share"]) >= 0.5 else "few"


def priority_verdict(s: dict) -> str | None:
    """What the weight draws say of score ``s`` in a few words, or None when they were not run."""
    kind = verdict_kind(s)
    return None if kind is None else VERDICTS[kind][0]


def verdict_cell(s: dict) -> str:
    """:func:`priority_verdict` as a table cell: ``Robust priority`` ... ``Never``, or ``Not worked out``."""
    kind = verdict_kind(s)
    return "Not worked out" if kind is None else VERDICTS[kind][1]


def robust_rule(s: dict, area_name: str) -> str | None:
    """How score ``s``'s verdict was reached (ranked within ``area_name``), in one sentence for a key (None when
    the draws were not run)."""
    if verdict_kind(s) is None:
        return None
    draws = s.get("draws")
    tried = (f"{count_of(draws, 'different weighting')} of the indicators" if draws else
             "different weightings of the indicators")
    return (f"Under other weightings: how often the ward is still in {_band_of(s, area_name)} across {tried}; "
            f"a robust priority is there in {_needed(s['robust_share'], draws)}.")


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
