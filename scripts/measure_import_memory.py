"""Peak memory and time of ``telecov import-cells`` on a large synthetic OpenCelliD file.

Writes ``--cells`` seeded synthetic cells (LTE, UMTS and GSM with the documented id layouts,
unique keys, positions around Uruguay's towns) to a temporary file, then runs
``telecov import-cells`` on it in a fresh process under an address-space limit
(``--limit-gb``, like ``ulimit -v``), and prints the exit code, peak resident memory, wall time
and the estimate made before reading.

Usage::

    python scripts/measure_import_memory.py [--cells 2000000] [--limit-gb 2.5]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from telecov.io.resources import gib
from telecov.opencellid.importer import estimate_import


def synthetic_cells(n: int, *, seed: int = 42) -> pd.DataFrame:
    """``n`` cells of 3 operators: nodes of 1-6 sectors, unique (radio, mcc, net, area, cell)."""
    rng = np.random.default_rng(seed)
    node = np.arange(n) // 3
    radio = np.array(["LTE", "UMTS", "GSM"])[node % 3]
    sector = np.arange(n) % 3 + 1
    cell = np.where(radio == "LTE", (node + 1) * 256 + sector, (node % 6000 + 1) * 10 + sector)
    area = np.where(radio == "LTE", 1 + node % 900, 1 + node // 6000 % 60000)
    lon = -56.2 + rng.normal(0, 1.0, n // 3 + 1)[node] + rng.normal(0, 0.002, n)
    lat = -32.8 + rng.normal(0, 1.0, n // 3 + 1)[node] + rng.normal(0, 0.002, n)
    return pd.DataFrame({
        "radio": radio, "mcc": 748, "net": 1 + node % 3, "area": area, "cell": cell, "unit": 0,
        "lon": lon.round(6), "lat": lat.round(6), "range": 1000, "samples": 3, "changeable": 1,
        "created": 1459732115, "updated": 1488700433, "averageSignal": 0,
    })  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=2_000_000)
    parser.add_argument("--limit-gb", type=float, default=2.5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cells.csv"
        synthetic_cells(args.cells).to_csv(path, index=False)
        estimate = estimate_import(path)
        limit = int(args.limit_gb * 1e9)

        def limited() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        t0 = time.perf_counter()
        run = subprocess.run(
            ["telecov", "import-cells", str(path), "--output", str(Path(tmp) / "sites.csv")],
            preexec_fn=limited, capture_output=True, text=True, check=False,
        )  # fmt: skip
        wall = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        size = gib(path.stat().st_size)
        print(f"cells: {args.cells:,} ({size} of text); address-space limit {args.limit_gb} GB")
        print(f"estimate before reading: {estimate.describe()}")
        print(f"exit {run.returncode}; peak resident {gib(peak)}; wall {wall:.1f} s")
        print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        if run.returncode:
            print(run.stderr.strip().splitlines()[-1] if run.stderr.strip() else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
