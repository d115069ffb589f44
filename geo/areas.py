"""Areas of interest: named groups of districts.

Three kinds: presets shipped with Wardscope (geo/areas.yaml), every single
district (by name or GSS code), and areas a user saves (``user/areas.yaml``,
written atomically with the previous version kept; see ``geo.saved``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from geo import atomic
from geo.config import user_dir
from geo.errors import CorruptSavedFile, UnknownAreaError, WardscopeError
from geo.filememo import read_memoised
from geo.gss import is_gss
from geo.saved import load_saved, save_text

PRESETS_FILE = Path(__file__).with_name("areas.yaml")


@dataclass(frozen=True)
class Area:
    """An area of interest: a name and the district (LAD 2024) codes it covers."""

    name: str
    lad_codes: tuple[str, ...]
    kind: str  # "preset", "district" or "user"
    description: str = ""
    #: GSS code under which ONS publishes figures for exactly these districts (a county or combined authority), if any.
    ons_code: str = ""

    @property
    def key(self) -> str:
        """A short stable key for caches and file names."""
        return self.lad_codes[0] if self.kind == "district" else self.name


def _load_yaml(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise WardscopeError(f"{path}: not valid YAML ({exc})") from None
    return data.get("presets", data.get("areas", {})) or {}


def user_areas_file() -> Path:
    return user_dir() / "areas.yaml"


def _read_presets(path: Path) -> tuple[Area, ...]:
    return tuple(Area(name, tuple(spec["districts"]), "preset", spec.get("description", ""), spec.get("ons_code", ""))
                 for name, spec in _load_yaml(path).items())


def presets() -> list[Area]:
    if not PRESETS_FILE.is_file():
        return []
    return list(read_memoised(PRESETS_FILE, _read_presets))


def user_areas() -> list[Area]:
    """Areas users saved; a damaged file raises CorruptSavedFile offering the previous version (geo.saved)."""
    path = user_areas_file()
    if not path.is_file():
        return []
    try:
        return list(read_memoised(path, _read_user_areas))
    except FileNotFoundError:  # deleted between the check and the read
        return []


def _read_user_areas(path: Path) -> tuple[Area, ...]:
    data = load_saved(path) or {}
    areas = data.get("areas", {}) if isinstance(data, dict) else None
    if not isinstance(areas, dict) or not all(isinstance(v, dict) and isinstance(v.get("districts"), list)
                                              for v in areas.values()):
        prev = atomic.previous_path(path)
        raise CorruptSavedFile(f"{path.name}: is not a list of areas with districts; restore the previous version",
                               path=path, previous=prev if prev.is_file() else None)
    return tuple(Area(str(name), tuple(spec["districts"]), "user", spec.get("description", ""))
                 for name, spec in areas.items())


def district_areas(districts: pd.DataFrame) -> list[Area]:
    """One area per district; ``districts`` has ``code`` and ``name``."""
    return [Area(row.name, (row.code,), "district") for row in districts.sort_values("name").itertuples(index=False)]


ENGLAND = "England"


def england_area(districts: pd.DataFrame) -> Area:
    """Every district in the store (England, LAD May 2024) as one area."""
    return Area(ENGLAND, tuple(sorted(districts["code"])), "preset", "Every district in England")


def list_areas(districts: pd.DataFrame) -> list[Area]:
    """England and the presets, then user areas, then every district by name."""
    return [england_area(districts)] + presets() + user_areas() + district_areas(districts)


def resolve_area(name_or_code: str, districts: pd.DataFrame) -> Area:
    """Find an area by name (any case) or district GSS code.

    Raises :class:`UnknownAreaError` with close matches when nothing matches.
    """
    text = (name_or_code or "").strip()
    if not text:
        raise UnknownAreaError("no area given; use a preset name, a district name or a district code (see: python cli.py areas)")
    if is_gss(text.upper()):
        code = text.upper()
        hit = districts[districts["code"] == code]
        if hit.empty:
            raise UnknownAreaError(f"{code} is not a district in the store (England, LAD May 2024)")
        return Area(hit["name"].iloc[0], (code,), "district")
    wanted = text.casefold()
    for area in list_areas(districts):
        if area.name.casefold() == wanted:
            known = set(districts["code"])
            missing = [c for c in area.lad_codes if c not in known]
            if missing:
                raise UnknownAreaError(f"area {area.name!r} names district(s) not in the store: {', '.join(missing)}")
            return area
    names = [a.name for a in list_areas(districts)]
    close = [n for n in names if wanted in n.casefold()][:5]
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else "; see: python cli.py areas"
    raise UnknownAreaError(f"no area or district called {text!r}{hint}")


def save_area(name: str, lad_codes: list[str], districts: pd.DataFrame, description: str = "",
              replace: bool = False) -> Area:
    """Save a user area of interest (atomic write, previous version kept; shared by everyone on the installation).

    Refuses an empty name, a name already used (by a preset, a district or, unless ``replace``, a saved area),
    no districts and codes that are not districts; nothing is written then.
    """
    name = " ".join((name or "").split())
    if not name:
        raise WardscopeError("an area needs a name")
    if len(name) > 80:
        raise WardscopeError(f"an area name is at most 80 characters ({len(name)} given)")
    if any(a.name.casefold() == name.casefold() for a in [england_area(districts)] + presets() + district_areas(districts)):
        raise WardscopeError(f"{name!r} is already a preset or district name; choose another")
    if not replace and any(a.name.casefold() == name.casefold() for a in user_areas()):
        raise WardscopeError(f"an area called {name!r} is already saved; choose another name or delete it first")
    codes = sorted({c.strip().upper() for c in lad_codes})
    if not codes:
        raise WardscopeError("an area needs at least one district")
    unknown = sorted(set(codes) - set(districts["code"]))
    if unknown:
        raise UnknownAreaError(f"not districts in the store: {', '.join(unknown)}")
    path = user_areas_file()
    data = {"areas": {a.name: {"districts": list(a.lad_codes), "description": a.description}
                      for a in user_areas() if a.name.casefold() != name.casefold()}}
    data["areas"][name] = {"districts": codes, "description": description}
    save_text(path, yaml.safe_dump(data, sort_keys=True, allow_unicode=True))
    return Area(name, tuple(codes), "user", description)


def delete_area(name: str) -> Area:
    """Delete a saved area (atomic write, previous version kept); presets and districts cannot be deleted."""
    wanted = " ".join((name or "").split()).casefold()
    saved = user_areas()
    hit = [a for a in saved if a.name.casefold() == wanted]
    if not hit:
        names = ", ".join(repr(a.name) for a in saved) or "none"
        raise UnknownAreaError(f"no saved area called {name!r} (saved areas: {names})")
    data = {"areas": {a.name: {"districts": list(a.lad_codes), "description": a.description}
                      for a in saved if a.name.casefold() != wanted}}
    save_text(user_areas_file(), yaml.safe_dump(data, sort_keys=True, allow_unicode=True))
    return hit[0]


def area_table(districts: pd.DataFrame) -> pd.DataFrame:
    """Every area of interest as rows: kind, name, district codes and names."""
    names = dict(zip(districts["code"], districts["name"]))
    rows = [{"kind": a.kind, "name": a.name, "n_districts": len(a.lad_codes),
             "lad_codes": " ".join(a.lad_codes), "lad_names": "; ".join(names.get(c, "?") for c in a.lad_codes)}
            for a in list_areas(districts)]
    return pd.DataFrame(rows)
