"""Progress reporting that works the same for the CLI and the app.

Long steps call ``progress(done, total, message)``. An install reports more
through an :class:`InstallReport`: one line per dataset (downloaded, from
the download cache, failed and why), each retry, the bytes expected and
received. The CLI draws all of it as one tqdm bar (:class:`TqdmReport`),
the app passes an ``st.progress`` callback (wrapped by :func:`as_report`),
tests nothing (:data:`silent`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Protocol

from geo.fetch import Reporter, size_text


class Progress(Protocol):
    def __call__(self, done: int, total: int, message: str) -> None: ...


def silent(done: int, total: int, message: str) -> None:
    """A progress callback that reports nothing."""


@dataclass(frozen=True)
class DatasetLine:
    """What happened to one dataset: ``status`` is downloaded, resumed, from cache, mirror or failed."""

    dataset_id: str
    title: str
    status: str
    nbytes: int = 0
    seconds: float = 0.0
    detail: str = ""

    def text(self) -> str:
        size = f"  {size_text(self.nbytes)}" if self.nbytes else ""
        took = f" in {self.seconds:.0f} s" if self.status in ("downloaded", "resumed") and self.seconds >= 1 else ""
        detail = f": {self.detail}" if self.status == "failed" else (f" ({self.detail})" if self.detail else "")
        return f"  {self.status:<10} {self.title}{size}{took}{detail}"


class InstallReport(Reporter):
    """Every hook of an install's progress; this base reports nothing. Callable as a :class:`Progress`."""

    lines: list[DatasetLine]

    def __call__(self, done: int, total: int, message: str) -> None:
        self.step(done, total, message)

    def step(self, done: int, total: int, name: str) -> None:
        """Step ``done`` of ``total`` (named ``name``) is starting."""

    def expect(self, nbytes: int) -> None:
        """``nbytes`` more (or, when negative, fewer) bytes are expected to be downloaded."""

    def dataset(self, line: DatasetLine) -> None:
        """A dataset is ready (or failed)."""

    def summary(self) -> str | None:
        """One line on what the downloads cost, from the dataset lines a subclass keeps (None without any)."""
        lines = getattr(self, "lines", [])
        if not lines:
            return None
        parts = []
        for status in ("downloaded", "resumed", "from cache", "failed"):
            these = [line for line in lines if line.status == status]
            if these:
                size = sum(line.nbytes for line in these)
                parts.append(f"{len(these)} {status}" + (f" ({size_text(size)})" if size and status != "failed" else ""))
        return "datasets: " + ", ".join(parts)

    def note(self, message: str) -> None:
        """A line worth showing (e.g. what the download cache already holds)."""

    def close(self) -> None:
        pass


class CallbackReport(InstallReport):
    """Forwards steps to a plain ``progress(done, total, message)`` callback (the app's progress bar)."""

    def __init__(self, progress: Progress):
        self.progress = progress

    def step(self, done: int, total: int, name: str) -> None:
        self.progress(done, total, name)


def as_report(progress) -> InstallReport:
    """``progress`` itself if it is an :class:`InstallReport`, else one forwarding to the callback."""
    return progress if isinstance(progress, InstallReport) else CallbackReport(progress or silent)


class TqdmReport(InstallReport):
    """One tqdm bar for the whole install, with a line above it per dataset and per retry.

    The bar counts bytes while there is something to download (so tqdm's
    time left is the download's), steps otherwise; its postfix names the
    step running.
    """

    def __init__(self, description: str = "install", file=None):
        self.description, self.file = description, file or sys.stderr
        self.expected = 0
        self.bar = None
        self.step_text = ""
        self.lines: list[DatasetLine] = []

    def _bar(self):
        if self.bar is None:
            from tqdm import tqdm

            by_bytes = self.expected > 0
            self.bar = tqdm(total=self.expected if by_bytes else 1, desc=self.description, file=self.file,
                            unit="B" if by_bytes else "step", unit_scale=by_bytes, unit_divisor=1024,
                            leave=True, dynamic_ncols=True)
            self.by_bytes = by_bytes
        return self.bar

    def _write(self, text: str) -> None:
        from tqdm import tqdm

        if self.bar is None:
            print(text, file=self.file)
        else:
            tqdm.write(text, file=self.file)

    def step(self, done: int, total: int, name: str) -> None:
        bar = self._bar()
        self.step_text = f"{min(done + 1, total)}/{total} {name}"
        if not self.by_bytes:
            bar.total, bar.n = total, done
        bar.set_postfix_str(self.step_text[:60], refresh=False)
        bar.refresh()

    def expect(self, nbytes: int) -> None:
        self.expected = max(self.expected + nbytes, 0)
        if self.bar is not None and self.by_bytes:
            self.bar.total = max(self.expected, self.bar.n)
            self.bar.refresh()

    def transferred(self, nbytes: int) -> None:
        bar = self._bar()
        if self.by_bytes:
            if bar.n + nbytes > bar.total:
                bar.total = bar.n + nbytes
            bar.update(nbytes)

    def dataset(self, line: DatasetLine) -> None:
        self.lines.append(line)
        self._write(line.text())

    def attempt(self, message: str) -> None:
        self._write(f"  retry      {message}")

    def note(self, message: str) -> None:
        self._write(f"  {message}")

    def close(self) -> None:
        if self.bar is not None:
            if self.by_bytes:
                self.bar.total = self.bar.n
            else:
                self.bar.n = self.bar.total
            self.bar.refresh()
            self.bar.close()
