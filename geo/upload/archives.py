"""Zip archives, inspected before anything is extracted.

:func:`inspect_zip` reads only the archive's directory and refuses, before a
byte is written: too many members, too much uncompressed data in total, a
member whose compression ratio marks a zip bomb, overlapping members (the
"non-recursive" bomb), absolute paths, drive letters and '..', symbolic links
and other special files, encrypted members, unknown compression methods and
duplicate names. :func:`shapefile_members` picks the parts of the one
shapefile inside; :func:`extract_shapefile` writes those parts, under names
Wardscope chooses, into a directory the caller owns. :func:`gtfs_members`
checks a GTFS feed's tables (the feed is kept zipped and read in place).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from geo.config import UploadLimits
from geo.errors import IncompleteShapefile, UnsafeArchive, UploadRejected

#: Shapefile parts Wardscope extracts (others, e.g. .sbn/.qix/.xml, are left in the archive).
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
REQUIRED_PARTS = (".shp", ".shx", ".dbf")
#: Members with these endings are archives themselves; nested archives are refused, never opened.
ARCHIVE_SUFFIXES = (".zip", ".gz", ".tgz", ".tar", ".7z", ".rar", ".bz2", ".xz", ".kmz", ".zipx")
_SAFE_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_LOCAL_HEADER_BYTES = 30
_COPY_CHUNK = 1 << 20


def _mb(size: int) -> str:
    return f"{size / 2**20:,.1f} MB" if size < 10 * 2**20 else f"{size / 2**20:,.0f} MB"


def _display(name: str) -> str:
    return repr(name[:120])


def _check_name(name: str, label: str) -> None:
    if any(ord(c) < 32 for c in name):
        raise UnsafeArchive(f"{label}: member {_display(name)} has control characters in its name; refused")
    unixy = name.replace("\\", "/")
    if unixy.startswith("/") or re.match(r"^[A-Za-z]:", unixy):
        raise UnsafeArchive(
            f"{label}: member {_display(name)} has an absolute path and would be written outside the upload "
            f"folder; refused, nothing was extracted"
        )
    if ".." in PurePosixPath(unixy).parts:
        raise UnsafeArchive(
            f"{label}: member {_display(name)} uses '..' and would be written outside the upload folder "
            f"(path traversal); refused, nothing was extracted"
        )


def _check_type(info: zipfile.ZipInfo, label: str) -> None:
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise UnsafeArchive(f"{label}: member {_display(info.filename)} is a symbolic link; refused, nothing was extracted")
    if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise UnsafeArchive(f"{label}: member {_display(info.filename)} is a device or other special file; refused")
    if info.flag_bits & 0x1:
        raise UnsafeArchive(
            f"{label}: member {_display(info.filename)} is encrypted; password-protected zips are not accepted"
        )
    if info.compress_type not in _SAFE_METHODS:
        raise UnsafeArchive(
            f"{label}: member {_display(info.filename)} uses compression method {info.compress_type}; "
            f"re-zip it with ordinary (deflate) compression"
        )


def open_zip(raw: bytes, label: str) -> zipfile.ZipFile:
    """Open ``raw`` as a zip, turning every kind of damage into :class:`UploadRejected`."""
    try:
        return zipfile.ZipFile(io.BytesIO(raw))
    except Exception as exc:  # BadZipFile, LargeZipFile, OSError, ValueError, EOFError, NotImplementedError
        text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise UploadRejected(f"{label}: looks like a zip archive but cannot be opened ({text}); is the file complete?") from None


def inspect_zip(raw: bytes, label: str, limits: UploadLimits) -> list[zipfile.ZipInfo]:
    """Check a zip archive from its directory alone; return its members. Writes nothing.

    Raises :class:`UnsafeArchive` (zip bomb, traversal, symlink, encrypted,
    too many members...) or :class:`UploadRejected` (damaged archive).
    """
    with open_zip(raw, label) as zf:
        infos = zf.infolist()
    if len(infos) > limits.max_zip_members:
        raise UnsafeArchive(
            f"{label}: holds {len(infos):,} files; the limit is {limits.max_zip_members:,} (upload only the shapefile)"
        )
    total = 0
    seen: dict[str, str] = {}
    for info in infos:
        _check_name(info.filename, label)
        _check_type(info, label)
        folded = info.filename.replace("\\", "/").rstrip("/").casefold()
        if folded in seen:
            raise UnsafeArchive(f"{label}: holds two members called {_display(info.filename)}; refused")
        seen[folded] = info.filename
        size = info.file_size
        ratio = size / max(info.compress_size, 1)
        if size >= limits.zip_ratio_min_bytes and ratio > limits.max_zip_ratio:
            raise UnsafeArchive(
                f"{label}: member {_display(info.filename)} expands {ratio:,.0f} times ({info.compress_size:,} bytes to "
                f"{size:,}), the mark of a zip bomb (limit {limits.max_zip_ratio:,.0f}); refused, nothing was extracted"
            )
        total += size
        if total > limits.max_zip_total_bytes:
            raise UnsafeArchive(
                f"{label}: would expand to more than {_mb(limits.max_zip_total_bytes)} (a zip bomb?); "
                f"refused, nothing was extracted"
            )
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for a, b in zip(ordered, ordered[1:]):
        if a.header_offset + _LOCAL_HEADER_BYTES + a.compress_size > b.header_offset:
            raise UnsafeArchive(
                f"{label}: members {_display(a.filename)} and {_display(b.filename)} overlap inside the archive "
                f"(a crafted zip bomb); refused, nothing was extracted"
            )
    return infos


def _skipped(name: str) -> bool:
    """macOS metadata (``__MACOSX/``, ``._sites.shp``) and other hidden files, which are not the data.

    Folders are judged by name only for ``__MACOSX``: a folder called ``..sites`` or ``.backup`` is a
    legal name (``_check_name`` has already refused a real '..' part), and nothing is ever written
    under a member's own name, so a shapefile inside one is read like any other.
    """
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return "__MACOSX" in parts or (bool(parts) and parts[-1].startswith("."))


def shapefile_members(infos: list[zipfile.ZipInfo], label: str) -> dict[str, zipfile.ZipInfo]:
    """The members of the single shapefile in an inspected archive, by lower-case suffix.

    Raises :class:`UnsafeArchive` for a nested archive and
    :class:`IncompleteShapefile` when there is no .shp, more than one, or
    its .shx or .dbf is missing.
    """
    files = [i for i in infos if not i.is_dir() and not _skipped(i.filename)]
    for info in files:
        if info.filename.lower().endswith(ARCHIVE_SUFFIXES):
            raise UnsafeArchive(
                f"{label}: holds another archive ({_display(info.filename)}); nested archives are not opened, "
                f"unzip it and upload the shapefile itself"
            )
    shps = [i for i in files if i.filename.lower().endswith(".shp")]
    if not shps:
        listing = ", ".join(i.filename for i in files[:5]) or "nothing"
        raise IncompleteShapefile(f"{label}: holds no shapefile (.shp); it contains {listing}")
    if len(shps) > 1:
        names = ", ".join(i.filename for i in shps[:5])
        raise IncompleteShapefile(f"{label}: holds {len(shps)} shapefiles ({names}); upload one shapefile per zip")
    stem = shps[0].filename[:-4].replace("\\", "/").casefold()
    parts = {}
    for info in files:
        name = info.filename.replace("\\", "/")
        base, dot, suffix = name.rpartition(".")
        if dot and base.casefold() == stem and f".{suffix.lower()}" in SHAPEFILE_PARTS:
            parts[f".{suffix.lower()}"] = info
    missing = [s for s in REQUIRED_PARTS if s not in parts]
    if missing:
        shown = PurePosixPath(shps[0].filename.replace("\\", "/")).stem
        raise IncompleteShapefile(
            f"{label}: a shapefile needs .shp, .shx and .dbf files; {', '.join(shown + s for s in missing)} "
            f"{'is' if len(missing) == 1 else 'are'} missing from the zip"
        )
    return parts


def gtfs_members(infos: list[zipfile.ZipInfo], label: str) -> dict[str, zipfile.ZipInfo]:
    """The ``.txt`` tables of a GTFS feed in an inspected archive, by lower-case file name.

    Raises :class:`UnsafeArchive` for a nested archive or a table that appears twice (in two folders),
    since a reader would silently take one of them.
    """
    tables: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if info.is_dir() or _skipped(info.filename):
            continue
        name = PurePosixPath(info.filename.replace("\\", "/")).name.lower()
        if name.endswith(ARCHIVE_SUFFIXES):
            raise UnsafeArchive(f"{label}: holds another archive ({_display(info.filename)}); nested archives are not "
                                f"opened, unzip it and upload the GTFS feed itself")
        if not name.endswith(".txt"):
            continue
        if name in tables:
            raise UnsafeArchive(f"{label}: holds two {name} files ({_display(tables[name].filename)} and "
                                f"{_display(info.filename)}); upload one GTFS feed per zip")
        tables[name] = info
    return tables


def extract_shapefile(raw: bytes, parts: dict[str, zipfile.ZipInfo], dest: Path, label: str) -> dict[str, Path]:
    """Write the shapefile ``parts`` to ``dest/layer.<suffix>``; return their paths.

    Files are written to a temporary directory beside ``dest`` and renamed
    into place, so ``dest`` is either complete or absent. A member whose data
    is damaged (bad CRC) or longer than its declared size is refused and
    nothing is left behind.
    """
    dest = Path(dest)
    if dest.is_dir():
        return {suffix: dest / f"layer{suffix}" for suffix in parts}
    dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=dest.parent))
    try:
        with open_zip(raw, label) as zf:
            for suffix, info in parts.items():
                written = 0
                with zf.open(info) as src, open(tmp / f"layer{suffix}", "xb") as out:
                    while chunk := src.read(_COPY_CHUNK):
                        written += len(chunk)
                        if written > info.file_size:
                            raise UnsafeArchive(f"{label}: member {_display(info.filename)} is longer than it declares; refused")
                        out.write(chunk)
        try:
            os.rename(tmp, dest)
        except OSError:
            if not dest.is_dir():  # another thread extracting the same upload won the race otherwise
                raise
    except UploadRejected:
        raise
    except (zipfile.BadZipFile, EOFError, zlib.error, ValueError, NotImplementedError) as exc:
        raise UploadRejected(f"{label}: the zip archive is damaged ({str(exc).strip()[:200] or type(exc).__name__})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {suffix: dest / f"layer{suffix}" for suffix in parts}
