"""Compile telecov's kernels into numba's cache ahead of the first run (``pip install .`` does it).

numba compiles a kernel on its first call and caches the machine code next to the module
(``__pycache__``, or under ``NUMBA_CACHE_DIR``), keyed by numba's version, the module's source
(a content hash), the kernel's type signature and this machine's CPU. :func:`main` runs the
commands of the bundled sample (:data:`WORKLOADS`) so that every kernel they call is compiled
with the types a real run passes; the package's build (``setup.py``) runs it on the installed
copy, so that the wheel carries the cache and a first run on the same machine, with the same
numba, compiles nothing. Elsewhere (another CPU, another numba) the cache does not match and
the first run compiles as before.

Run by hand with ``python -m telecov.cli.precompile`` (after upgrading numba, say).
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

WORKLOADS: tuple[tuple[str, ...], ...] = (
    ("report", "--no-map"),
    ("report", "--no-map", "--dem", "sample", "--radius-uncertainty", "10"),
    ("gaps", "--technology", "4G", "--export", "geojson"),
    ("plan", "--technology", "5G", "--upgrade-from", "4G", "--target", "40", "--no-map"),
)
"""The sample's commands whose kernels are compiled: report (discs, wedges), report over the
sample DEM (radio lobes, terrain polygons, the shrunk and grown footprints), gaps (rectangles
and zones) and plan (candidate gains)."""


def run_workload(args: Sequence[str], out: Path) -> int:
    """Run one telecov command on the bundled sample, quietly, writing under ``out``."""
    from . import main

    argv = sys.argv
    sys.argv = ["telecov", *args, "--out", str(out), "-q"]
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            main()
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        sys.argv = argv
    return 0


def main(workloads: Sequence[Sequence[str]] = WORKLOADS) -> int:
    """Run every workload; returns how many failed (each failure is logged, none is fatal)."""
    failed = 0
    with tempfile.TemporaryDirectory(prefix="telecov-precompile-") as tmp:
        for i, args in enumerate(workloads):
            t0 = time.perf_counter()
            code = run_workload(args, Path(tmp) / f"run{i}")
            seconds = time.perf_counter() - t0
            print(f"telecov precompile: {' '.join(args)}: exit {code}, {seconds:.1f} s", file=sys.stderr)
            failed += code != 0
    return failed


if __name__ == "__main__":
    sys.exit(main())
