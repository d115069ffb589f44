"""Per-session temporary directories: where uploads live, and nowhere else.

Each app session (or CLI run) owns one :class:`SessionWorkspace`: a private
directory (mode 0700) created under a root directory (``geo.config.sessions_root()``,
itself private). Uploads are written only inside it, under names Wardscope
chooses (never the uploaded file name). The directory is removed by
``close()``, when the workspace object is garbage-collected (a Streamlit
session ending drops its ``st.session_state``), and at interpreter exit.
A process killed with SIGKILL cannot clean up, so :func:`sweep_stale` removes
directories left by processes that are gone (run it at app start).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import weakref
from pathlib import Path

from geo.config import sessions_root
from geo.fsclock import age_s, fs_now
from geo.errors import UploadExpired, WardscopeError

#: Session directory names: session-<pid>-<random>.
SESSION_PREFIX = "session-"
_NAME = re.compile(r"^session-(\d+)-[A-Za-z0-9_]+$")
#: Default age after which an untouched session directory of a live process is removed (seconds).
STALE_AFTER_S = 24 * 3600

# Paths of workspaces this process has open (sweep_stale never removes these).
_OPEN: set[str] = set()


def _remove_tree(path: str) -> None:
    _OPEN.discard(path)
    shutil.rmtree(path, ignore_errors=True)


def ensure_private_dir(root: Path) -> Path:
    """Create ``root`` (mode 0700) or check an existing one is a private directory of ours.

    A shared temp directory is a classic place for another local user to plant
    a symlink or a world-writable folder, so an unsafe root is refused.
    """
    root = Path(root)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(root)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise WardscopeError(f"session directory root {root} is not a plain directory; set WARDSCOPE_SESSIONS")
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise WardscopeError(
            f"session directory root {root} is not private to this user (owner {info.st_uid}, "
            f"mode {stat.S_IMODE(info.st_mode):o}); use a directory with mode 700 (WARDSCOPE_SESSIONS)"
        )
    return root


class SessionWorkspace:
    """A private temporary directory owned by one session.

    Parameters
    ----------
    root : parent directory (default ``geo.config.sessions_root()``); created
        with mode 0700 if missing, refused if it is not private.

    Examples
    --------
    >>> with SessionWorkspace() as ws:           # doctest: +SKIP
    ...     upload = accept_upload("sites.csv", data, workspace=ws, kinds={"csv"})
    """

    def __init__(self, root: Path | None = None):
        self.root = Path(os.path.abspath(ensure_private_dir(Path(root) if root is not None else sessions_root())))
        # mkdtemp creates the directory with mode 0700 and an unpredictable name
        self.path = Path(tempfile.mkdtemp(prefix=f"{SESSION_PREFIX}{os.getpid()}-", dir=self.root))
        _OPEN.add(str(self.path))
        self._finalizer = weakref.finalize(self, _remove_tree, str(self.path))

    def __repr__(self) -> str:
        return f"SessionWorkspace({str(self.path)!r}{', closed' if self.closed else ''})"

    def __enter__(self) -> SessionWorkspace:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def close(self) -> None:
        """Remove the directory and everything in it (idempotent)."""
        self._finalizer()

    def touch(self) -> None:
        """Mark the workspace as in use (its age is what :func:`sweep_stale` measures)."""
        self.require_open()
        os.utime(self.path)

    def require_open(self) -> None:
        """Raise :class:`UploadExpired` if the workspace was closed."""
        if self.closed or not self.path.is_dir():
            raise UploadExpired("this session's uploads have been removed (the session ended); upload the file again")

    def contains(self, path: Path) -> bool:
        """True when ``path`` (after resolving symlinks and '..') lies inside the workspace."""
        try:
            Path(path).resolve().relative_to(self.path.resolve())
        except ValueError:
            return False
        return True

    def subdir(self, name: str) -> Path:
        """A directory inside the workspace named by Wardscope (``[A-Za-z0-9._-]`` only)."""
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", name):
            raise ValueError(f"not a safe workspace directory name: {name!r}")
        self.require_open()
        return self.path / name


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def sweep_stale(root: Path | None = None, max_age_s: float = STALE_AFTER_S) -> list[Path]:
    """Remove session directories under ``root`` that nobody is using; return what was removed.

    A directory is stale when the process that made it is no longer running,
    when it carries this process's id but is not one of its open workspaces
    (left by an earlier process with the same id, common in containers), or
    when it has not been touched for ``max_age_s`` seconds. Only entries named
    like session directories are considered; symlinks are never followed.
    """
    root = Path(os.path.abspath(root if root is not None else sessions_root()))
    if not root.is_dir():
        return []
    now = fs_now(root)
    removed = []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        match = _NAME.match(entry.name)
        if not match or entry.is_symlink() or not entry.is_dir(follow_symlinks=False):
            continue
        pid = int(match.group(1))
        if entry.path in _OPEN:
            continue
        try:
            age = age_s(Path(entry.path), now)
        except FileNotFoundError:
            continue
        if pid == os.getpid() or not _pid_alive(pid) or age >= max_age_s:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed
