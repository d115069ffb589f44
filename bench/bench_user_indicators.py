"""A user's own indicator: a 35,000-row LSOA CSV (real 2021 codes for all England, plus bad rows) checked,
saved and mapped at ward and district level.

The timing covers the upload gate, the row checks, the atomic save (into a temporary user directory)
and the ward and district tables for all England. Target (issue 13): at most 2 s.
"""

from __future__ import annotations

import os
import tempfile

from bench.timing import best_of

ROWS = 35_000


def _csv(store) -> bytes:
    """Every LSOA 2021 code with a count, then unknown codes, duplicates and suppressed cells to make ``ROWS`` rows."""
    codes = store.load("indicators", "index_lsoa")["code"].tolist()
    lines = ["code,people"] + [f"{c},{i % 97}" for i, c in enumerate(codes)]
    extra = ROWS - len(codes)
    lines += [f"E0199{i:04d},3" if i % 3 == 0 else (f"{codes[i]},*" if i % 3 == 1 else f"{codes[i]},4")
              for i in range(extra)]
    return ("\n".join(lines[: ROWS + 1]) + "\n").encode()


def run():
    from geo.store import Store
    from layers.indicators import indicator_table
    from tasks import user_indicator

    data = _csv(Store())
    before = os.environ.get("WARDSCOPE_USER")
    with tempfile.TemporaryDirectory() as home:
        os.environ["WARDSCOPE_USER"] = home
        try:
            def validate_and_map():
                store = Store()
                request = user_indicator.UserIndicatorRequest("bench.csv", data, "bench_people", "People",
                                                              kind="count", value="people")
                user_indicator.run(request, store)
                for level in ("ward", "lad"):
                    indicator_table(level, None, ["bench_people"], store)

            yield "user_indicator_35k", best_of(validate_and_map, 3), "s"
        finally:
            if before is None:
                os.environ.pop("WARDSCOPE_USER", None)
            else:
                os.environ["WARDSCOPE_USER"] = before
