"""A councillor pack made in a background thread, so its page (and every other page) stays usable meanwhile.

One pack is made at a time on the server (a pack keeps one core busy drawing PDFs for a minute or more, and
the server may have only two); a second one waits its turn and says so. A job stops at its next ward once
cancelled: when the visitor stops it, or when the visitor's session has been gone (tab closed) for
:data:`GONE_GRACE_S`. The zip is written atomically by :func:`tasks.profile.run_pack`, so a stopped or
failed job leaves nothing behind. No Streamlit call is made from the thread.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

from geo.errors import WardscopeError

#: One pack at a time per server process.
_TURN = threading.BoundedSemaphore(1)
WAITING = "Waiting for another councillor pack on this server to finish…"
STARTING = "Starting…"
#: Seconds a job goes on after its session was last seen (a dropped connection can come back).
GONE_GRACE_S = 60.0
#: Seconds between a waiting job's looks at the slot (and at whether it was cancelled).
WAIT_POLL_S = 0.25
log = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised inside the job's thread (from its progress callback) once the job is cancelled."""


class PackJob:
    """The pack for ``request`` (a :class:`tasks.profile.PackRequest`), made in a daemon thread.

    Read ``done``, ``total`` and ``message`` for progress; once :attr:`finished`, ``zip`` holds the pack's bytes,
    or ``error`` says in one line why there is none (None for both when it was cancelled). ``alive()``
    says whether the visitor's session is still there (always, when not given).
    """

    def __init__(self, request, store, made_for, wards: int, alive: Callable[[], bool] | None = None):
        self.made_for, self.wards = made_for, wards
        self.done, self.total, self.message = 0, wards, STARTING
        self.zip: bytes | None = None
        self.error: str | None = None
        self._alive, self._seen = alive or (lambda: True), time.monotonic()
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(request, store), name="wardscope-pack", daemon=True)
        self._thread.start()

    @property
    def finished(self) -> bool:
        return not self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        """Cancelled but not yet finished."""
        return self._cancel.is_set() and not self.finished

    def cancel(self) -> None:
        """Stop at the next ward (or before starting, when still waiting); nothing is kept."""
        self._cancel.set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the job has finished (True) or ``timeout_s`` has passed (False)."""
        self._thread.join(timeout_s)
        return self.finished

    def _stopped(self) -> bool:
        """True once cancelled, or once the session has been gone for :data:`GONE_GRACE_S` (then cancels)."""
        if self._alive():
            self._seen = time.monotonic()
        elif time.monotonic() - self._seen > GONE_GRACE_S:
            self._cancel.set()
        return self._cancel.is_set()

    def _progress(self, done: int, total: int, message: str) -> None:
        if self._stopped():
            raise Cancelled
        self.done, self.total, self.message = done, total, message

    def _run(self, request, store) -> None:
        if not _TURN.acquire(blocking=False):
            self.message = WAITING
            # polled, not a timed acquire: under libfaketime (.ci/any-date) a lock's timeout never comes
            while not _TURN.acquire(blocking=False):
                if self._stopped():
                    return
                time.sleep(WAIT_POLL_S)
        try:
            from tasks.profile import run_pack

            self._progress(0, self.total, STARTING)
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


def session_alive() -> Callable[[], bool]:
    """For the calling page run: a callable saying whether its session is still connected to the server."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or not Runtime.exists():
        return lambda: True
    session_id, runtime = ctx.session_id, Runtime.instance()
    return lambda: runtime.is_active_session(session_id)
