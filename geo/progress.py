"""Progress reporting that works the same for the CLI and the app.

Long steps call ``progress(done, total, message)``. The CLI passes a tqdm
bar, the app an ``st.progress`` callback, tests nothing.
"""

from __future__ import annotations

from typing import Callable, Protocol


class Progress(Protocol):
    def __call__(self, done: int, total: int, message: str) -> None: ...


def silent(done: int, total: int, message: str) -> None:
    """A progress callback that reports nothing."""


def tqdm_progress(description: str = "install") -> tuple[Progress, Callable[[], None]]:
    """A (callback, close) pair drawing a tqdm bar on stderr."""
    from tqdm import tqdm

    bar = tqdm(total=1, desc=description, unit="step", leave=True, dynamic_ncols=True)

    def update(done: int, total: int, message: str) -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(message[:60], refresh=False)
        bar.refresh()

    return update, bar.close
