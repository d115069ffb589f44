"""Scoring profiles: which indicators, with what weights and method. Data, in YAML.

Two profiles ship in layers/profiles/: ``neighbourhood`` (concentrations of
worklessness and deprivation) and ``multi-agency`` (overlapping needs).
Users save their own (atomically, previous version kept).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import yaml

from geo.errors import WardscopeError
from geo.saved import slug
from layers.normalise import METHODS

PROFILE_DIR = Path(__file__).with_name("profiles")
SHIPPED = {"neighbourhood": "neighbourhood.yaml", "multi-agency": "multi-agency.yaml"}
LEVELS = ("lsoa", "ward")
MISSING_RULES = ("reweight", "exclude")
#: A profile id goes into download and export file names, so it is [a-z0-9_-], 1 to ID_MAX_LEN characters.
ID_MAX_LEN = 40
_SAFE_ID = re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{ID_MAX_LEN - 1}}}")
_WINDOWS_RESERVED = re.compile(r"con|prn|aux|nul|com[0-9]|lpt[0-9]")
#: Numeric settings that must be ordinary (finite) numbers when given.
_NUMBER_SETTINGS = ("max_missing_share", "threshold", "overlap_worst_share", "sensitivity_concentration",
                    "robust_share")


class ProfileError(WardscopeError):
    """A scoring profile is malformed or cannot be used at the chosen level."""


def safe_id(value: object) -> str:
    """``value`` as a profile id that every file name and export accepts.

    An id that is already lower-case ``[a-z0-9_-]`` (at most :data:`ID_MAX_LEN` characters, starting
    with a letter or digit) is kept; anything else becomes its slug ("Growth plan (v2)" ->
    "growth-plan-v2"), never empty (``profile``), never ``..`` and never a name Windows reserves (``con``).
    """
    text = str(value if value is not None else "")
    ident = text if _SAFE_ID.fullmatch(text) else slug(text, max_len=ID_MAX_LEN, fallback="profile")
    # Windows will not save a file called con.yaml or lpt1.yaml, whatever its suffix
    return f"{ident}-profile" if _WINDOWS_RESERVED.fullmatch(ident) else ident


def _not_a_number(value: float) -> str | None:
    """Why ``value`` cannot be a weight or setting ('not a number (NaN)', 'infinite'), or None."""
    if math.isnan(value):
        return "not a number (NaN)"
    return "infinite" if math.isinf(value) else None


@dataclass(frozen=True)
class ProfileIndicator:
    """One indicator in a profile. ``direction`` overrides the registry's when given."""

    id: str
    weight: float
    direction: int | None = None
    when_installed: bool = False


@dataclass(frozen=True)
class Profile:
    """A scoring profile (see README: "How priority is scored")."""

    id: str
    name: str
    indicators: tuple[ProfileIndicator, ...]
    description: str = ""
    level: str = "lsoa"
    normalisation: str = "rank_exponential"
    shrinkage: bool = False
    missing: str = "reweight"
    #: An area missing more than this share of the (weighted) profile gets no score.
    max_missing_share: float = 0.34
    #: Priority bands: the top 10% and top 20% of areas (by rank within ``band_scope``).
    band_shares: tuple[float, ...] = (0.10, 0.20)
    band_scope: str = "area"
    #: A score threshold instead of shares: areas scoring at least this are "priority".
    threshold: float | None = None
    #: An indicator "overlaps" when the area is in the worst fifth nationally on it.
    overlap_worst_share: float = 0.20
    #: Monte Carlo: Dirichlet concentration (higher = weights vary less), methods varied too?
    sensitivity_concentration: float = 40.0
    vary_methods: bool = False
    robust_share: float = 0.90

    @property
    def ids(self) -> list[str]:
        return [i.id for i in self.indicators]

    def with_weights(self, weights: dict[str, float]) -> "Profile":
        """A copy with some weights changed (e.g. from the app's sliders)."""
        return replace(self, indicators=tuple(replace(i, weight=float(weights.get(i.id, i.weight))) for i in self.indicators))

    def to_dict(self) -> dict:
        data = asdict(self)
        # drop unset options only: a weight of 0 (== False in Python) must survive a save
        data["indicators"] = [{k: v for k, v in asdict(i).items() if v is not None and v is not False}
                              for i in self.indicators]
        data["band_shares"] = list(self.band_shares)
        return data


def _parse(data: object, source: str) -> Profile:
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: a profile must be a mapping with id, name and indicators")
    raw = data.get("indicators")
    if not isinstance(raw, list) or not raw:
        raise ProfileError(f"{source}: 'indicators' must be a non-empty list")
    items = []
    for n, item in enumerate(raw, 1):
        if isinstance(item, str):
            item = {"id": item, "weight": 1.0}
        if not isinstance(item, dict) or "id" not in item:
            raise ProfileError(f"{source}: indicator {n} needs an id")
        try:
            weight = float(item.get("weight", 1.0))
        except (TypeError, ValueError):
            raise ProfileError(f"{source}: indicator {item['id']!r} has a weight that is not a number: {item.get('weight')!r}") from None
        except OverflowError:  # an integer with hundreds of digits
            raise ProfileError(f"{source}: indicator {item['id']!r} has a weight too large to use; "
                               f"weights are relative, so use small numbers such as 1 or 2.5") from None
        direction = item.get("direction")
        if direction not in (None, 1, -1):
            raise ProfileError(f"{source}: indicator {item['id']!r} direction must be 1 or -1")
        items.append(ProfileIndicator(str(item["id"]), weight, direction, bool(item.get("when_installed", False))))
    known = {f for f in Profile.__dataclass_fields__}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ProfileError(f"{source}: unknown profile setting(s) {', '.join(unknown)}")
    kwargs = {k: v for k, v in data.items() if k in known and k != "indicators"}
    if "band_shares" in kwargs:
        kwargs["band_shares"] = tuple(float(s) for s in kwargs["band_shares"])
    stem = Path(source).stem
    # the id names download and export files: one from the YAML or the file name is made safe for that
    ident = safe_id(data["id"] if data.get("id") not in (None, "") else stem)
    try:
        profile = Profile(indicators=tuple(items), **{"id": ident, "name": data.get("name", stem),
                                                     **{k: v for k, v in kwargs.items() if k not in ("id", "name")}})
    except TypeError as exc:
        raise ProfileError(f"{source}: {exc}") from None
    check_settings(profile, source)
    return profile


def check_settings(profile: Profile, source: str = "profile") -> None:
    """Refuse weights and settings that cannot give a meaningful score."""
    for item in profile.indicators:
        bad = _not_a_number(item.weight)
        if bad:
            raise ProfileError(f"{source}: indicator {item.id!r} has a weight that is {bad}; "
                               f"weights are ordinary numbers such as 1 or 2.5")
    for name in _NUMBER_SETTINGS:
        value = getattr(profile, name)
        bad = _not_a_number(value) if isinstance(value, float) else None
        if bad:
            raise ProfileError(f"{source}: {name} is {bad}; give an ordinary number")
    weights = [i.weight for i in profile.indicators]
    if not math.isfinite(sum(weights)):
        raise ProfileError(f"{source}: the weights add up to more than the largest number Wardscope can hold "
                           f"(about 1.8e308); weights are relative, so use small numbers such as 1 or 2.5")
    negative = [i.id for i in profile.indicators if i.weight < 0]
    if negative:
        raise ProfileError(f"{source}: negative weight for {', '.join(negative)}; weights must be 0 or more (use direction to reverse)")
    if sum(weights) <= 0:
        raise ProfileError(f"{source}: all weights are zero; give at least one indicator a positive weight")
    dup = sorted({i for i in profile.ids if profile.ids.count(i) > 1})
    if dup:
        raise ProfileError(f"{source}: indicator(s) listed twice: {', '.join(dup)}")
    if profile.normalisation not in METHODS:
        raise ProfileError(f"{source}: normalisation {profile.normalisation!r} is not one of {', '.join(METHODS)}")
    if profile.level not in LEVELS:
        raise ProfileError(f"{source}: level {profile.level!r} is not one of {', '.join(LEVELS)}")
    if profile.missing not in MISSING_RULES:
        raise ProfileError(f"{source}: missing {profile.missing!r} is not one of {', '.join(MISSING_RULES)}")
    if not all(0 < s < 1 for s in profile.band_shares) or list(profile.band_shares) != sorted(profile.band_shares):
        raise ProfileError(f"{source}: band_shares must be increasing shares between 0 and 1, e.g. [0.1, 0.2]")
    if profile.band_scope not in ("area", "national"):
        raise ProfileError(f"{source}: band_scope must be 'area' or 'national'")
    if not 0 < profile.robust_share <= 1 or profile.sensitivity_concentration <= 0:
        raise ProfileError(f"{source}: robust_share must be in (0, 1] and sensitivity_concentration above 0")


def parse_profile_text(text: str, source: str = "profile") -> Profile:
    """Parse YAML text with the one safe loader (geo.safe_yaml: no object tags, size and depth limits).

    Raises :class:`ProfileError` (or the loader's UnsafeYAML) with a one-line message.
    """
    from geo.errors import UnsafeYAML
    from geo.safe_yaml import load_yaml_safely

    try:
        data = load_yaml_safely(text, source=source)
    except UnsafeYAML:
        raise
    except WardscopeError as exc:
        raise ProfileError(f"not a valid YAML profile: {exc}") from None
    return _parse(data, source)


def load_profile(name_or_path: str | Path) -> Profile:
    """A shipped profile by name (``neighbourhood``, ``multi-agency``) or a YAML file."""
    key = str(name_or_path)
    if key in SHIPPED:
        from geo.filememo import read_memoised

        path = PROFILE_DIR / SHIPPED[key]
        try:
            return read_memoised(path, _read_profile)  # a Profile is frozen, so one copy can be shared
        except OSError as exc:
            raise ProfileError(f"{path}: cannot read ({exc})") from None
    path = Path(key)
    if not path.is_file():
        raise ProfileError(f"no profile {key!r}: use neighbourhood, multi-agency or a path to a .yaml file")
    return _read_profile(path)


def _read_profile(path: Path) -> Profile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read ({exc})") from None
    return parse_profile_text(text, str(path))


def profile_yaml(profile: Profile) -> str:
    return yaml.safe_dump(profile.to_dict(), sort_keys=False, allow_unicode=True)


def save_profile(profile: Profile, path: Path) -> Path:
    """Write ``profile`` as YAML atomically, keeping the previous version as ``.prev`` (geo.saved)."""
    from geo.saved import save_text

    check_settings(profile, str(path))
    return save_text(Path(path), profile_yaml(profile))


def load_saved_profile(path: Path, *, previous: bool = False) -> Profile:
    """A profile saved with :func:`save_profile`; a damaged file raises CorruptSavedFile offering ``.prev``."""
    from geo.saved import load_previous, load_saved

    parse = lambda text: parse_profile_text(text, Path(path).name)  # noqa: E731
    return load_previous(Path(path), parse) if previous else load_saved(Path(path), parse)
