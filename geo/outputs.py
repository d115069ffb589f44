"""Output paths a user names (``--out``, export targets): refused in one line before any work.

:func:`check_output` catches what can be known before writing (a folder, a
file where a folder should be, a name longer than the file system allows,
an existing file without overwrite, a folder the disk will not write to);
:func:`not_writable` turns what the disk says later into the same kind of
one-line message. Writing itself is :mod:`geo.atomic`'s job.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from geo.errors import OutputExistsError, OutputNotWritableError

#: Longest file name (bytes) when the file system cannot be asked: ext4, XFS, APFS and NTFS allow 255.
NAME_MAX_BYTES = 255
ADVICE = "choose a folder you can write to"


def _shown(path: Path) -> str:
    """``path`` for a message, the middle of a very long name elided so the message stays one readable line."""
    text = str(path)
    return text if len(text) <= 120 else f"{text[:60]}...{text[-40:]}"


def is_folder(path: Path) -> bool:
    """Whether ``path`` is an existing folder (False, not an error, for a name the system cannot even look up)."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _exists(path: Path) -> bool:
    try:
        os.lstat(path)
        return True
    except (OSError, ValueError):
        return False


def _name_max(path: Path) -> int:
    for candidate in path.parents:
        if is_folder(candidate):
            try:
                return int(os.pathconf(candidate, "PC_NAME_MAX"))
            except (OSError, ValueError):
                return NAME_MAX_BYTES
    return NAME_MAX_BYTES


def check_output(path: Path, *, overwrite: bool = True, example: str = "out.csv") -> Path:
    """``path`` if a file can be written there, else :class:`OutputNotWritableError` or :class:`OutputExistsError`.

    Nothing is left behind: the only write is an empty probe file in the nearest existing folder,
    removed at once, so a read-only disk or a missing permission is refused before any work.
    ``example`` is the file name suggested when ``path`` is a folder.
    """
    path = Path(path).expanduser()
    limit = _name_max(path)
    for part in path.parts:
        size = len(os.fsencode(part))
        if size > limit:
            what = "the file name" if part == path.name else f"the folder name {part[:20]}..."
            raise OutputNotWritableError(f"cannot write {_shown(path)}: {what} is {size} bytes long and this "
                                         f"file system allows {limit}; choose a shorter name")
    if is_folder(path):
        raise OutputNotWritableError(f"{_shown(path)} is a folder; give a file name, e.g. {_shown(path / example)}")
    for ancestor in path.parents:
        if is_folder(ancestor):
            break
        if _exists(ancestor):
            raise OutputNotWritableError(f"cannot write {_shown(path)}: {_shown(ancestor)} is a file, not a folder; {ADVICE}")
    if not overwrite and _exists(path):
        raise OutputExistsError(f"{_shown(path)} already exists; choose another name or overwrite it (--overwrite)")
    folder = next((a for a in path.parents if is_folder(a)), None)
    if folder is not None:  # ask the disk now (read-only, no permission), not after minutes of work
        try:
            fd, probe = tempfile.mkstemp(prefix=".wardscope-probe-", dir=folder)
        except OSError as exc:
            raise not_writable(path, exc) from None
        os.close(fd)
        os.unlink(probe)
    return path


def not_writable(path: Path, exc: BaseException) -> OutputNotWritableError:
    """The one-line error for an OS (or GDAL) refusal while writing ``path``."""
    reason = getattr(exc, "strerror", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
    return OutputNotWritableError(f"cannot write {_shown(Path(path))}: {reason}; {ADVICE}")
