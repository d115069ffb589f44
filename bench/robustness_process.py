"""Process memory of robustness draws for every English LSOA, as a user's server holds it (store loaded).

Run in a fresh interpreter (``python -m bench.robustness_process N_DRAWS``); prints the peak resident size
before and after the draws in MB. It reads VmHWM, which starts afresh with the interpreter, rather than
ru_maxrss, which Linux carries over from the parent process.
"""

from __future__ import annotations

import sys

import numpy as np


def peak_mb() -> float:
    """This process's peak resident size so far (MB, from /proc/self/status)."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def main(n_draws: int) -> None:
    from bench.bench_scoring import TEN, ten_profile
    from geo.store import Store
    from layers.indicators import indicator_table
    from layers.registry import load_registry
    from layers.robustness import monte_carlo
    from layers.scoring import prepare_values

    store, registry = Store(), load_registry()
    for level in ("lsoa", "ward", "lad"):  # what a server has loaded before anyone asks for draws
        store.boundaries(level)
    profile = ten_profile()
    values = prepare_values(indicator_table("lsoa", None, TEN, store=store), TEN, registry, shrink=False)
    weights = np.array([i.weight for i in profile.indicators])
    directions = np.array([registry[i].direction for i in TEN], dtype=float)
    before = peak_mb()
    monte_carlo(values, weights, directions, profile, n_draws=n_draws, seed=1)
    print(before, peak_mb())


if __name__ == "__main__":
    main(int(sys.argv[1]))
