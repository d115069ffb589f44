"""A councillor pack made in a background thread, so its page (and every other page) stays usable meanwhile.

One pack is made at a time on the server (each takes both cores' worth of PDF drawing for a minute or more);
a second one waits its turn and says so. A job is cancelled when what it was made for changes (another area
or profile); the zip is written atomically by :func:`tasks.profile.run_pack`, so a cancelled or failed job
leaves nothing behind. No Streamlit call is made from the thread.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

from geo.errors import WardscopeError

#: One pack at a time per server process.
_TURN = threading.BoundedSemaphore(1)
WAITING = "Waiting for another councillor pack on this server to finish…"
log = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised inside the job's thread (from its progress callback) once the job is cancelled."""


class PackJob:
    """The pack for ``request`` (a :class:`tasks.profile.PackRequest`), made in a daemon thread.

    Read ``done``, ``total`` and ``message`` for progress; once :attr:`finished`, ``zip`` holds the pack's bytes,
    or ``error`` says in one line why there is none (None for both when it was cancelled).
    """

    def __init__(self, request, store, made_for, wards: int):
        self.made_for, self.wards = made_for, wards
        self.done, self.total, self.message = 0, wards, WAITING
        self.zip: bytes | None = None
        self.error: str | None = None
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(request, store), name="wardscope-pack", daemon=True)
        self._thread.start()

    @property
    def finished(self) -> bool:
        return not self._thread.is_alive()

    def cancel(self) -> None:
        """Stop at the next ward (or before starting); nothing is kept."""
        self._cancel.set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the job has finished (True) or ``timeout_s`` has passed (False)."""
        self._thread.join(timeout_s)
        return self.finished

    def _progress(self, done: int, total: int, message: str) -> None:
        if self._cancel.is_set():
            raise Cancelled
        self.done, self.total, self.message = done, total, message

    def _run(self, request, store) -> None:
        from tasks.profile import run_pack

        while not _TURN.acquire(timeout=0.5):
            if self._cancel.is_set():
                return
        try:
            self._progress(0, self.total, "Starting…")
            with tempfile.TemporaryDirectory() as folder:
                out = Path(folder) / "pack.zip"
                run_pack(replace(request, out=str(out)), store, progress=self._progress)
                self.zip = out.read_bytes()
        except Cancelled:
            pass
        except WardscopeError as exc:
            self.error = str(exc)
        except Exception as exc:  # noqa: BLE001  said in one line on the page; the traceback goes to the server log
            log.exception("councillor pack failed")
            self.error = f"an unexpected error ({type(exc).__name__}); the server log has the details"
        finally:
            _TURN.release()
