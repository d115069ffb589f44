"""Run every benchmark module and record the figures."""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results.json"


def modules() -> list[str]:
    return sorted(p.stem for p in BENCH_DIR.glob("bench_*.py"))


def main(only: list[str] | None = None) -> int:
    sys.path.insert(0, str(BENCH_DIR.parent))
    from geo import atomic

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"figures": {}}
    chosen = [m for m in modules() if not only or any(m[len("bench_"):].startswith(o) or m.startswith(o) for o in only)]
    failures = 0
    for name in chosen:
        module = importlib.import_module(f"bench.{name}")
        try:
            for figure, value, unit in module.run():
                value = round(float(value), 4)
                print(f"{figure} {value} {unit}", flush=True)
                results["figures"][figure] = {"value": value, "unit": unit,
                                              "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        except Exception as exc:  # report and carry on with the other benchmarks
            failures += 1
            print(f"# {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    atomic.write_text(RESULTS, json.dumps(results, indent=2, sort_keys=True) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
