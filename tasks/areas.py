"""Areas of interest (presets, saved areas) and districts (``cli.py areas``; the app's area picker).

A saved area is a list of districts. Picking wards, or a boundary file, saves the districts those
wards are in / the boundary overlaps (every view then covers those whole districts); :func:`districts_from`
says so in its note.
"""

from __future__ import annotations

from geo.areas import area_table, delete_area, list_areas, save_area
from geo.errors import UnknownAreaError, WardscopeError
from geo.words import count_of
from tasks.result import Provenance, Result, versions

#: Overlap below this (square metres, EPSG:27700) is a boundary drawn along a district edge, not coverage.
MIN_OVERLAP_M2 = 10_000.0


def run(store) -> Result:
    """Every area a user can choose, as a table (name, kind, districts)."""
    return Result(area_table(store.districts()), Provenance("areas", "presets, saved areas and every district",
                                                           versions=versions(store)))


def choices(store) -> list:
    """The areas to choose from, presets first, then every district (:class:`geo.areas.Area`)."""
    return list_areas(store.districts())


def districts_of_names(items, store) -> list[str]:
    """District GSS codes from codes or names (any case); raises on the first unknown one."""
    districts = store.districts()
    by_name = {n.casefold(): c for c, n in zip(districts["code"], districts["name"])}
    known = set(districts["code"])
    def one(text):
        return text.upper() if text.upper() in known else by_name.get(text.casefold())

    # "Herefordshire, County of" holds a comma: a whole value that names a district wins over splitting it
    parts = [p for i in items for p in ([i] if one(i.strip()) else i.split(","))]
    codes = []
    for item in (i.strip() for i in parts):
        if not item:
            continue
        code = one(item)
        if code is None:
            raise UnknownAreaError(f"{item!r} is not a district in the store (England, LAD May 2024; "
                                   f"give a district name or code, see: python cli.py areas)")
        codes.append(code)
    return codes


def districts_of_wards(ward_codes, store) -> list[str]:
    """The districts holding these wards (WD 2024 GSS codes); raises on the first unknown ward."""
    wards = store.boundaries("ward")[["code", "lad_code"]]
    lad_of = dict(zip(wards["code"], wards["lad_code"]))
    codes = []
    for ward in (w.strip().upper() for w in ward_codes):
        if not ward:
            continue
        if ward not in lad_of:
            raise UnknownAreaError(f"{ward!r} is not a ward in the store (England, wards May 2024)")
        codes.append(lad_of[ward])
    return codes


def districts_of_boundary(boundary, store) -> list[str]:
    """The districts a boundary (GeoDataFrame, EPSG:27700) overlaps by at least ``MIN_OVERLAP_M2``."""
    from geo.crs import to_bng

    boundary = to_bng(boundary, source="boundary file")
    shape = boundary.geometry.union_all()
    lads = store.boundaries("lad")
    near = lads[lads.intersects(shape)]
    overlap = near.geometry.intersection(shape).area
    codes = sorted(near.loc[overlap >= MIN_OVERLAP_M2, "code"])
    if not codes:
        raise WardscopeError("the boundary does not overlap any district in England; check it is the right file "
                             "and its coordinate system")
    return codes


def save(name: str, store, *, districts=(), wards=(), boundary=None, description: str = "") -> Result:
    """Save an area from districts, wards or a boundary (exactly one); nothing is written on bad input."""
    given = [k for k, v in (("districts", districts), ("wards", wards), ("boundary", boundary)) if
             (v is not None and len(v))]
    if len(given) != 1:
        raise WardscopeError("save an area from one of: districts, wards or a boundary file")
    if given == ["districts"]:
        codes, note = districts_of_names(districts, store), ""
    elif given == ["wards"]:
        codes = districts_of_wards(wards, store)
        note = "saved as the whole districts these wards are in"
    else:
        codes = districts_of_boundary(boundary, store)
        note = "saved as the whole districts the boundary overlaps"
    if not codes:
        raise WardscopeError("an area needs at least one district; none given")
    area = save_area(name, codes, store.districts(), description=description)
    notes = [f"saved area {area.name!r}: {count_of(len(area.lad_codes), 'district')}" + (f" ({note})" if note else "")]
    return Result(area, Provenance("areas", "save an area of interest", parameters={"source": given[0]},
                                   versions=versions(store)), notes=tuple(notes))


def delete(name: str, store) -> Result:
    """Delete a saved area by name."""
    area = delete_area(name)
    return Result(area, Provenance("areas", "delete a saved area", versions=versions(store)),
                  notes=(f"deleted saved area {area.name!r}",))
