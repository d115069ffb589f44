"""Shared by the hub tests: the `cli.py hubs` runner and a hand-built Luton demand table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from layers.access import lsoa_centroids

ROOT = Path(__file__).resolve().parent.parent
LUTON = "E06000032"


def run(*args):
    """`python cli.py hubs ARGS` in the project folder (completed process, text)."""
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "hubs", *args], capture_output=True, text=True, cwd=ROOT)


def write_luton_demand(store, folder: Path) -> Path:
    """demand.csv in ``folder``: every Luton LSOA, 1,200-1,999 people, 30% of them 'top 20%'."""
    cent = lsoa_centroids(store, [LUTON])
    n = len(cent)
    demand = pd.DataFrame({"code": cent["code"], "weight": 1200 + (np.arange(n) * 53) % 800,
                           "priority": np.where((np.arange(n) * 7) % 10 < 3, "top 20%", "other")})
    path = folder / "demand.csv"
    demand.to_csv(path, index=False)
    return path
