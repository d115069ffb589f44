"""Plain words for a ward profile: what each scale means and a one-line caveat per indicator.

The registry's caveats are written for analysts (how a figure is built, its
rounding and perturbation); a councillor needs one line. :func:`lay_caveat`
gives that line, :func:`scale_words` says what a number on an indicator's
scale means, :func:`score_scale_words` what a priority score means. The
technical caveats stay in the profile's appendix. No geometry here.
"""

from __future__ import annotations

#: One-line caveats by indicator id (checked first), then by id prefix (longest first).
LAY_CAVEATS = {
    "census21_inactive_pct": "Counts everyone aged 16 and over, so retired people and students are included.",
    "census21_unemployed_pct": "A share of all residents aged 16+, so lower than the usual unemployment rate.",
    "census21_never_worked_pct": "A share of people not in work, who include retired people and students.",
    "census21_no_qualifications_pct": "Older residents are more likely to have no qualifications.",
    "census21_no_car_pct": "In town centres, not having a car is partly a choice.",
    "census21_pop_16_64": "A head count for scale, not a measure of need.",
    "census21_population": "A head count for scale, not a measure of need.",
    "census21_": "From the 2021 Census, so it describes March 2021.",
    "imd2025_most_deprived": "A ward with few neighbourhoods can only show a few values (e.g. 0%, 20%, 40%).",
    "imd2025_": "From the Indices of Deprivation 2025, which mostly use data from 2021 to 2023.",
    "imd2019_": "The older 2019 edition, converted to today's neighbourhoods; compare with care.",
    "claimant_": "Counts are rounded to the nearest 5, so small wards move in steps.",
    "aps_": "A survey of the whole district: it cannot be split into wards.",
}

#: Names of the groups a prefix caveat covers (the caveat is printed once for the group).
GROUP_NAMES = {
    "census21_": "Other Census 2021 figures",
    "imd2025_most_deprived": "Shares of LSOAs in England's most deprived 10% or 20%",
    "imd2025_": "Indices of Deprivation 2025 figures",
    "imd2019_": "Indices of Deprivation 2019 figures",
    "claimant_": "Claimant figures",
    "aps_": "Annual Population Survey figures",
}

#: What a figure on each unit means, in a line (``unit`` as in the registry).
UNIT_WORDS = {
    "%": "a percentage of the residents (or households) named in the label",
    "% of LSOAs": "the share of the ward's neighbourhoods (LSOAs, about 1,500 residents each) in that group",
    "count": "a number of people",
    "pp": "a change in percentage points",
    "£": "pounds",
    "years": "years",
    "minutes": "minutes of travel",
    "decile": "1 = the most deprived tenth of England, 10 = the least deprived",
    "rank": "1 = the most deprived in England",
}

#: What a priority score means, by the profile's normalisation method.
SCORE_SCALES = {
    "rank_exponential": ("a 0-100 scale: each indicator is ranked across every {level} in England and stretched so "
                         "that 100 is the most need and most places sit low; the score is their weighted average"),
    "minmax": ("a 0-100 scale: each indicator is rescaled so that 0 is the lowest {level} in England and 100 the "
               "highest need; the score is their weighted average"),
    "zscore": ("standard deviations from England's average {level} (0 = average, above 0 = more need), "
               "weighted and averaged across the indicators"),
}


def lay_caveat(indicator_id: str) -> str:
    """The one-line plain caveat for ``indicator_id`` ("" when there is none)."""
    return lay_caveat_group(indicator_id)[1]


def lay_caveat_group(indicator_id: str) -> tuple[str | None, str]:
    """(group name, caveat): the group is None when the caveat is the indicator's own."""
    if indicator_id in LAY_CAVEATS:
        return None, LAY_CAVEATS[indicator_id]
    for prefix in sorted(LAY_CAVEATS, key=len, reverse=True):
        if indicator_id.startswith(prefix):
            return GROUP_NAMES.get(prefix, prefix), LAY_CAVEATS[prefix]
    return None, ""


def scale_words(indicator_id: str, unit: str) -> str:
    """What one number on this indicator's scale means (one clause)."""
    if indicator_id in ("imd2025_income_score", "imd2025_employment_score"):
        return "the share of residents (0 to 1; 0.25 = a quarter) counted as deprived on this domain"
    if indicator_id.startswith("imd") and indicator_id.endswith("_score"):
        if indicator_id in ("imd2025_score", "imd2019_score"):
            return ("the overall Index of Multiple Deprivation score: higher = more deprived; it has no fixed "
                    "maximum, so read it against England's figure")
        return ("an Indices of Deprivation domain score: a relative measure combining several official figures; "
                "higher = more deprived, read against England's figure")
    return UNIT_WORDS.get(unit, "")


def score_scale_words(method: str, level: str = "ward") -> str:
    """What a priority score of, say, 59.8 means under normalisation ``method``."""
    text = SCORE_SCALES.get(method, "a weighted average of the profile's indicators; higher = more need")
    return text.format(level=level)


def scale_name(indicator_id: str, unit: str, label: str) -> str:
    """The name under which :func:`scale_words` is explained (a group of indicators sharing one scale)."""
    if indicator_id in ("imd2025_income_score", "imd2025_employment_score"):
        return "IoD income and employment domain scores"
    if indicator_id in ("imd2025_score", "imd2019_score"):
        return "IMD score"
    if indicator_id.startswith("imd") and indicator_id.endswith("_score"):
        return "Other IoD domain scores"
    if unit == "% of LSOAs":
        return "Shares of LSOAs"
    return label.split(" (")[0]
