"""Start the app on a free port for browser tests and benchmarks: `python cli.py serve` (as the README says),
or plain `streamlit run app.py` (``warm=False``: the store loads when the first visitor arrives)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-quic", "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """A running Streamlit app; ``url`` is its address. Stop with :meth:`stop`."""

    def __init__(self, env: dict | None = None, timeout_s: float = 120, warm: bool = True, script: Path | None = None):
        """Start the server; return once it answers (and, when ``warm``, once it says the store is loaded).

        ``script``: another Streamlit script to run instead of app.py (with ``warm=False``).
        ``ready_s``: seconds from the start of the process until then.
        """
        self.script = script or ROOT / "app.py"
        from app_pages.server import READY

        for attempt in range(3):  # a port found free can be taken by another test process before the server binds it
            if self._start(env, timeout_s, warm, READY):
                return
        raise RuntimeError(f"the app server could not bind a free port: {self.log_path.read_text()[-2000:]}")

    def _start(self, env, timeout_s: float, warm: bool, ready: str) -> bool:
        """True once the server is ready; False when the port was taken (try another); raises otherwise."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = dict(os.environ, **(env or {}))
        artifacts = ROOT / "tests" / "artifacts"
        artifacts.mkdir(exist_ok=True)
        self.log_path = artifacts / f"streamlit-{self.port}.log"
        self.log = open(self.log_path, "w")
        flags = ["--server.port", str(self.port), "--server.address", "127.0.0.1"]
        command = ([str(ROOT / "cli.py"), "serve", "--port", str(self.port), "--address", "127.0.0.1"] if warm else
                   ["-m", "streamlit", "run", str(self.script), *flags, "--server.headless", "true",
                    "--browser.gatherUsageStats", "false"])
        t0 = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, *command], cwd=ROOT, env=full_env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.log.close()
                text = self.log_path.read_text()
                if "already in use" in text or "address in use" in text.lower():
                    return False
                raise RuntimeError(f"the app server exited with {self.proc.returncode}: {text[-2000:]}")
            if self._answers() and (not warm or ready in self.log_path.read_text()):
                self.ready_s = time.monotonic() - t0
                return True
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the app server was not ready in {timeout_s:g} s: {self.log_path.read_text()[-2000:]}")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
