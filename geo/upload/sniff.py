"""What an uploaded file is, decided by its bytes, never by its name.

:func:`detect_kind` returns one of the upload kinds (``csv``, ``geojson``,
``zip-shapefile``, ``gpkg``, ``yaml``, ``gtfs``) or raises a message that names what the
file really is ("a PNG image", "an Excel workbook"). :func:`decode_text`
accepts UTF-8, UTF-8 with a byte-order mark and Windows-1252, and refuses
anything else, including binary data that happens to decode.
"""

from __future__ import annotations

import io
import re
import zipfile

from geo.errors import UnsupportedUpload, UploadEncodingError, UploadRejected

KINDS = ("csv", "geojson", "zip-shapefile", "gpkg", "yaml", "gtfs")
TEXT_KINDS = ("csv", "geojson", "yaml")

DESCRIPTIONS = {
    "csv": "a CSV table",
    "geojson": "a GeoJSON file",
    "zip-shapefile": "a zipped shapefile",
    "gpkg": "a GeoPackage",
    "yaml": "a YAML profile",
    "gtfs": "a GTFS timetable feed (zip)",
}

#: Leading bytes of binary formats people upload by mistake, and what to call them.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Office file (.xls or .doc)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"\x80\x02", "a Python pickle (Wardscope never opens pickles)"),
    (b"\x80\x03", "a Python pickle (Wardscope never opens pickles)"),
    (b"\x80\x04", "a Python pickle (Wardscope never opens pickles)"),
    (b"\x80\x05", "a Python pickle (Wardscope never opens pickles)"),
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
#: Members whose presence makes a zip (without a .shp) a GTFS feed.
GTFS_MARKERS = frozenset({"stops.txt", "stop_times.txt", "trips.txt", "routes.txt", "calendar.txt", "agency.txt"})
_SQLITE_MAGIC = b"SQLite format 3\x00"
#: GeoPackage application_id values at byte 68 of the SQLite header.
_GPKG_IDS = (b"GPKG", b"GP10", b"GP11")

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
#: Control characters that never appear in CSV/JSON/YAML text (tab, newlines, VT, FF allowed).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")
#: Share of non-ASCII characters above which a Windows-1252 decoding is judged to be binary noise.
_MAX_NON_ASCII_SHARE = 0.3
_HIGH_BYTES = bytes(range(128, 256))
#: A multi-byte UTF-8 sequence (a lead byte and its continuation bytes): a line holding one may be UTF-8.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_YAML_START = re.compile(r"^(---|%YAML|#)|^[^\s,;\"'\t][^,;\t]*:(\s|$)")


def describe(kinds) -> str:
    """'a CSV table or a GeoJSON file' for a set of kinds."""
    return " or ".join(DESCRIPTIONS[k] for k in KINDS if k in kinds)


def _line_of(raw: bytes, offset: int) -> int:
    """1-based line number of byte ``offset``."""
    return raw.count(b"\n", 0, offset) + 1


def _utf8_line(raw: bytes) -> tuple[int, str] | None:
    """(line number, first non-ASCII character) of the first line of ``raw`` that is UTF-8 text with
    non-ASCII characters in it, or None."""
    checked = -1
    for match in _UTF8_SEQUENCE.finditer(raw):
        start = raw.rfind(b"\n", 0, match.start()) + 1
        if start == checked:
            continue
        checked = start
        end = raw.find(b"\n", match.end())
        try:
            line = raw[start:len(raw) if end == -1 else end].decode("utf-8")
        except UnicodeDecodeError:
            continue  # a Windows-1252 line in which two characters happen to look like UTF-8
        return _line_of(raw, start), next(c for c in line if ord(c) > 127)
    return None


def _mixed_encodings(raw: bytes, label: str, bad: int) -> UploadEncodingError | None:
    """The refusal for a file whose lines are partly UTF-8 and partly Windows-1252, or None.

    Such a file (pasted together from two sources) decodes as Windows-1252 without error, but every
    UTF-8 character comes out as mojibake ('CafÃ©'), so it is refused rather than read wrong.
    ``bad`` is the offset of the first byte that is not UTF-8.
    """
    utf8 = _utf8_line(raw)
    if utf8 is None:
        return None
    line, char = utf8
    byte = raw[bad]
    return UploadEncodingError(
        f"{label}: mixes UTF-8 and Windows-1252 text: line {line} is UTF-8 ({char!r}) but line "
        f"{_line_of(raw, bad)} is not (byte 0x{byte:02x}, {bytes([byte]).decode('cp1252')!r} in Windows-1252); "
        f"correct the characters on one of them and save the file as 'CSV UTF-8 (Comma delimited)'"
    )


def decode_text(raw: bytes, label: str) -> tuple[str, str]:
    """Decode an upload as text; return ``(text, encoding)``.

    Encodings tried, in order: UTF-8 with BOM (``utf-8-sig``), UTF-8, then
    Windows-1252 (``cp1252``, what Excel's plain "CSV" writes in the UK).
    Raises :class:`UploadEncodingError` for UTF-16/32, bytes valid in none of
    them, a file that mixes UTF-8 and Windows-1252 lines (it would be read as
    mojibake; the message names both lines), or control characters that mean
    the file is binary.
    """
    if raw.startswith(_UTF32_BOMS) or raw.startswith(_UTF16_BOMS):
        width = "32" if raw.startswith(_UTF32_BOMS) else "16"
        raise UploadEncodingError(
            f"{label}: is UTF-{width} text; save it as UTF-8 (in Excel: Save As > 'CSV UTF-8 (Comma delimited)')"
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            text, encoding = raw[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise UploadEncodingError(
                f"{label}: starts with a UTF-8 byte-order mark but byte 0x{raw[3 + exc.start]:02x} at offset "
                f"{3 + exc.start} (line {_line_of(raw, 3 + exc.start)}) is not UTF-8; save it again as 'CSV UTF-8'"
            ) from None
    else:
        try:
            text, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError as utf8_exc:
            try:
                text, encoding = raw.decode("cp1252"), "cp1252"
            except UnicodeDecodeError as exc:
                raise UploadEncodingError(
                    f"{label}: is not text in UTF-8 or Windows-1252 (byte 0x{raw[exc.start]:02x} at offset "
                    f"{exc.start}); save it as 'CSV UTF-8 (Comma delimited)'"
                ) from None
            non_ascii = len(raw) - len(raw.translate(None, _HIGH_BYTES))  # cp1252 is one byte per character
            if non_ascii > _MAX_NON_ASCII_SHARE * max(len(text), 1):
                raise UploadEncodingError(
                    f"{label}: does not look like text (byte 0x{raw[utf8_exc.start]:02x} at offset {utf8_exc.start} "
                    f"is not UTF-8 and {non_ascii:,} of {len(text):,} characters are not plain ASCII); "
                    f"is it really a text file?"
                ) from None
            mixed = _mixed_encodings(raw, label, utf8_exc.start)
            if mixed is not None:
                raise mixed from None
    bad = _CONTROL.search(text)
    if bad:
        raise UploadEncodingError(
            f"{label}: contains binary data (control character 0x{ord(bad.group()):02x} at character "
            f"{bad.start():,}); it is not a text file"
        )
    return text, encoding


def _zip_kind(raw: bytes, label: str) -> tuple[str | None, str]:
    """('gtfs' or 'zip-shapefile', ...) or (None, what it is) for a zip archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            names = [n.replace("\\", "/").lower() for n in zf.namelist()]
    except Exception as exc:  # zipfile raises BadZipFile, OSError, ValueError, EOFError... on damage
        raise UploadRejected(
            f"{label}: looks like a zip archive but cannot be opened ({_first_line(exc)}); is the file complete?"
        ) from None
    if "[content_types].xml" in names:
        if any(n.startswith("xl/") for n in names):
            return None, "an Excel workbook (.xlsx); save the sheet as 'CSV UTF-8 (Comma delimited)' and upload that"
        return None, "a Microsoft Office document"
    if "mimetype" in names and "content.xml" in names:
        return None, "an OpenDocument file (.ods/.odt); save the sheet as CSV and upload that"
    basenames = {n.rsplit("/", 1)[-1] for n in names}
    if basenames & GTFS_MARKERS and not any(n.endswith(".shp") for n in names):
        return "gtfs", "a GTFS timetable feed (zip)"
    return "zip-shapefile", "a zip archive"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def detect_kind(raw: bytes, kinds, label: str) -> tuple[str, str | None]:
    """Return ``(kind, text_encoding)`` for ``raw``; ``text_encoding`` is None for binary kinds.

    Raises :class:`UnsupportedUpload` naming what the file is when it is not
    one of ``kinds``, :class:`UploadEncodingError` for undecodable text, and
    :class:`UploadRejected` for a damaged zip.
    """
    wanted = describe(kinds)
    if raw.startswith(_ZIP_MAGIC):
        kind, what = _zip_kind(raw, label)
        if kind in kinds:
            return kind, None
        raise UnsupportedUpload(f"{label}: this is {what}, not {wanted}")
    if raw.startswith(_SQLITE_MAGIC):
        if raw[68:72] in _GPKG_IDS:
            if "gpkg" in kinds:
                return "gpkg", None
            raise UnsupportedUpload(f"{label}: this is a GeoPackage, not {wanted}")
        raise UnsupportedUpload(f"{label}: this is an SQLite database but not a GeoPackage, not {wanted}")
    for magic, what in _MAGIC:
        if raw.startswith(magic):
            raise UnsupportedUpload(f"{label}: this is {what}, not {wanted}")
    if not any(k in TEXT_KINDS for k in kinds):
        raise UnsupportedUpload(f"{label}: this is not {wanted} (it looks like text or unknown binary data)")
    text, encoding = decode_text(raw, label)
    return _text_kind(text, kinds, label, wanted), encoding


def _text_kind(text: str, kinds, label: str, wanted: str) -> str:
    head = text[:65536].lstrip("\ufeff \t\r\n")
    if head.startswith("{"):
        if '"type"' in head and "geojson" in kinds:
            return "geojson"
        what = "GeoJSON" if '"type"' in head else 'JSON without a "type" member (not GeoJSON)'
        raise UnsupportedUpload(f"{label}: this is {what}, not {wanted}")
    if head.startswith("[") and not ({"csv", "yaml"} & set(kinds)):
        raise UnsupportedUpload(f"{label}: this is a JSON list, not {wanted}")
    first = next((line for line in head.splitlines() if line.strip()), "")
    looks_yaml = bool(_YAML_START.match(first))
    order = ("yaml", "csv") if looks_yaml else ("csv", "yaml")
    for kind in order:
        if kind in kinds:
            return kind
    raise UnsupportedUpload(f"{label}: this is text ({'YAML' if looks_yaml else 'CSV'}?), not {wanted}")
