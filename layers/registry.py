"""The indicator registry (layers/registry.yaml): what each indicator is, where it comes from, its caveats.

The registry is data: one YAML file with groups (shared fields) and
indicators, and the registry entries of the user indicators that
:mod:`layers.user_indicators` saves (``<user dir>/indicators/<id>.yaml``).
:func:`load_registry` returns every indicator, built-in and saved.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from geo.config import user_dir
from geo.errors import WardscopeError

REGISTRY_FILE = Path(__file__).with_name("registry.yaml")
LEVELS = ("lsoa", "lsoa11", "ward", "lad")
KINDS = ("rate", "count", "score", "decile", "rank", "flag")
RAG_METHODS = ("relative", "absolute", "ci", "value", "decile", "rank", "none")
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*[a-z0-9]$")
#: Where the data of an installed-by-default indicator is missing, this is the command that installs it.
NOMIS_INSTALL_HINT = "python cli.py install --nomis"


class UnknownIndicatorError(WardscopeError):
    """An indicator id that is not in the registry."""


class IndicatorLevelError(WardscopeError):
    """An indicator asked for at a level it does not exist at."""


class IndicatorNotInstalled(WardscopeError):
    """An indicator in the registry whose data is not in the installed store."""


class RegistryError(WardscopeError):
    """layers/registry.yaml (or a saved user indicator) is malformed."""


@dataclass(frozen=True)
class Indicator:
    """One indicator: identity, provenance, meaning, and how it aggregates and compares.

    ``kind`` ``rate`` has numerator/denominator counts and aggregates by summing
    both; ``count`` sums; ``score`` is a population-weighted average above LSOA;
    ``decile``/``rank`` exist only at the level they are published at.
    ``direction`` is +1 when a higher value means more need, -1 for the reverse
    and 0 for context-only figures (population).
    """

    id: str
    label: str
    topic: str
    publisher: str
    dataset: str
    period: str
    levels: list = field(default_factory=list)
    numerator: str = ""
    denominator: str = ""
    universe: str = ""
    unit: str = "%"
    direction: int = 1
    caveat: str = ""
    licence: str = ""
    attribution: str = ""
    estimate: bool = False
    kind: str = "rate"
    # how it is stored, aggregated, compared and shown
    group: str = ""
    table: str = ""
    base: str = "lsoa"
    scale: float = 1.0
    weight: str | None = None
    min_den: float = 0.0
    rag: str = "none"
    rag_tolerance: float = 0.0
    decimals: int = 1
    sources: tuple = ()
    flag_rule: str = ""
    user: bool = False

    @property
    def aggregates(self) -> bool:
        """True when values above the base level come from summing (rate, count, score, flag)."""
        return self.kind in ("rate", "count", "score", "flag")

    def rag_rule(self) -> str:
        """The rule that decides red/amber/green against England, in words."""
        if self.rag == "relative":
            return f"similar when within {self.rag_tolerance:.0%} of England's value (relative)"
        if self.rag == "absolute":
            unit = "percentage points" if self.unit in ("%", "% of LSOAs", "pp") else self.unit
            return f"similar when within {self.rag_tolerance:g} {unit} of England's value"
        if self.rag == "ci":
            return ("worse only when the whole 95% confidence interval is worse than England's value, "
                    "similar when England's value lies inside it")
        if self.rag == "value":
            return "no confidence interval: worse or better than England's value, similar only when equal as shown"
        if self.rag == "decile":
            return "deciles 1-3 worse, 4-7 similar, 8-10 better than England (England spans all ten)"
        if self.rag == "rank":
            return "most deprived 30% of ranks worse, middle 40% similar, least deprived 30% better"
        return "not rated against England"

    def meta(self) -> dict:
        """Plain-dict metadata for tables, JSON and the app."""
        return {
            "id": self.id, "label": self.label, "topic": self.topic, "publisher": self.publisher,
            "dataset": self.dataset, "period": self.period, "levels": list(self.levels),
            "numerator": self.numerator, "denominator": self.denominator, "universe": self.universe,
            "unit": self.unit, "direction": self.direction, "kind": self.kind, "estimate": self.estimate,
            "caveat": self.caveat, "licence": self.licence, "attribution": self.attribution,
            "rag_rule": self.rag_rule(), "min_den": self.min_den, "flag_rule": self.flag_rule,
        }


_FIELDS = {f for f in Indicator.__dataclass_fields__ if f != "id"}


def _text(value) -> str:
    if isinstance(value, list):
        return " ".join(" ".join(str(v).split()) for v in value)
    return " ".join(str(value).split()) if value is not None else ""


def build_indicator(ind_id: str, spec: dict, groups: dict | None = None, *, source: str = str(REGISTRY_FILE)) -> Indicator:
    """An :class:`Indicator` from a registry entry (its group's fields, then its own)."""
    if not ID_PATTERN.match(ind_id):
        raise RegistryError(f"{source}: indicator id {ind_id!r} is not snake_case (a-z, 0-9, _)")
    spec = dict(spec)
    group = spec.pop("group", "")
    merged = dict((groups or {}).get(group, {})) if group else {}
    if group and groups is not None and group not in groups:
        raise RegistryError(f"{source}: {ind_id}: unknown group {group!r}")
    merged.update(spec)
    unknown = sorted(set(merged) - _FIELDS)
    if unknown:
        raise RegistryError(f"{source}: {ind_id}: unknown field(s) {', '.join(unknown)}")
    merged["group"] = group
    for key in ("caveat", "label", "numerator", "denominator", "universe", "dataset", "period", "attribution", "flag_rule"):
        if key in merged:
            merged[key] = _text(merged[key])
    absent = [k for k in ("label", "topic", "publisher", "dataset", "period") if k not in merged]
    if absent:
        raise RegistryError(f"{source}: {ind_id}: missing field(s) {', '.join(absent)}")
    merged["levels"] = list(merged.get("levels", []))
    merged["sources"] = tuple(merged.get("sources", ()))
    ind = Indicator(id=ind_id, **merged)
    bad_levels = [lv for lv in ind.levels if lv not in LEVELS]
    if bad_levels or not ind.levels:
        raise RegistryError(f"{source}: {ind_id}: levels must be some of {', '.join(LEVELS)}, got {ind.levels}")
    if ind.kind not in KINDS:
        raise RegistryError(f"{source}: {ind_id}: kind {ind.kind!r} is not one of {', '.join(KINDS)}")
    if ind.rag not in RAG_METHODS:
        raise RegistryError(f"{source}: {ind_id}: rag {ind.rag!r} is not one of {', '.join(RAG_METHODS)}")
    if ind.direction not in (-1, 0, 1):
        raise RegistryError(f"{source}: {ind_id}: direction must be 1, -1 or 0")
    if not ind.caveat and not ind.user:
        raise RegistryError(f"{source}: {ind_id}: every indicator needs a caveat")
    return ind


@lru_cache(maxsize=1)
def builtin_registry() -> dict[str, Indicator]:
    """The indicators in layers/registry.yaml, by id (file order)."""
    try:
        raw = yaml.safe_load(REGISTRY_FILE.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RegistryError(f"{REGISTRY_FILE}: not valid YAML ({exc})") from None
    groups = raw.get("groups", {})
    return {key: build_indicator(key, spec, groups) for key, spec in raw["indicators"].items()}


def indicators_dir() -> Path:
    """Where saved user indicators live: ``<id>.yaml`` (their registry entry) beside ``<id>.parquet`` (their rows)."""
    return user_dir() / "indicators"


def user_indicators_stamp() -> str:
    """Changes whenever a saved user indicator is added, re-saved or removed (names, sizes, mtimes): a cache key."""
    folder = indicators_dir()
    if not folder.is_dir():
        return ""
    import hashlib

    parts = [f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in sorted(folder.iterdir()) if p.is_file()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def saved_user_indicators() -> list[Indicator]:
    """Every saved user indicator (whose table is present)."""
    folder = indicators_dir()
    if not folder.is_dir():
        return []
    out = []
    for meta_path in sorted(folder.glob("*.yaml")):
        if not (folder / f"{meta_path.stem}.parquet").is_file():
            continue
        try:
            spec = yaml.safe_load(meta_path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise RegistryError(f"{meta_path}: not valid YAML ({exc})") from None
        ind_id = spec.pop("id", meta_path.stem)
        out.append(build_indicator(ind_id, spec, source=str(meta_path)))
    return out


def load_registry(include_user: bool = True) -> dict[str, Indicator]:
    """Every indicator by id: the built-in registry, then saved user indicators."""
    out = dict(builtin_registry())
    if include_user:
        for ind in saved_user_indicators():
            out.setdefault(ind.id, ind)
    return out


def get_indicator(indicator_id: str, registry: dict[str, Indicator] | None = None) -> Indicator:
    """The indicator ``indicator_id``; :class:`UnknownIndicatorError` with close matches otherwise."""
    registry = registry if registry is not None else load_registry()
    key = (indicator_id or "").strip()
    if key in registry:
        return registry[key]
    close = difflib.get_close_matches(key, list(registry), n=4, cutoff=0.6)
    close += [k for k in registry if key and key in k and k not in close][: 4 - len(close)]
    hint = f"; did you mean {', '.join(close)}?" if close else "; see: python cli.py indicators --list"
    raise UnknownIndicatorError(f"unknown indicator {key!r}{hint}")
