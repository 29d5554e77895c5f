"""Start-up cost of the ``telecov`` command line: wall time of fresh processes, and what they import.

For each command line measured (``--version``, ``--help``, ``<command> --help`` and, with
``--sample``, ``report --no-map`` on the bundled sample), the script runs ``--repeat`` fresh
processes and prints the median wall time (process start to exit), with the machine's load
(``os.getloadavg``) before and after. ``--imports`` also lists, for each, which heavy modules
(geopandas, numba, folium, matplotlib, rasterio, pyogrio, pandas, numpy, shapely, pyproj) the
process imported, read from ``sys.modules`` at exit.

Usage::

    python scripts/profile_startup.py                 # --version, --help, every <command> --help
    python scripts/profile_startup.py --repeat 7 --imports
    python scripts/profile_startup.py --sample        # also a warm `telecov report --no-map`
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("geopandas", "numba", "folium", "matplotlib", "rasterio", "pyogrio", "pandas", "numpy",
         "shapely", "pyproj")  # fmt: skip
COMMANDS = ("report", "gaps", "map", "targets", "crosswalk", "import-cells", "init")

_PROBE = """
import atexit, json, sys
heavy = {heavy!r}
def _dump():
    with open({path!r}, "w") as fh:
        json.dump(sorted(m for m in heavy if m in sys.modules), fh)
atexit.register(_dump)
sys.argv = ["telecov", *{args!r}]
from telecov.cli import main
main()
"""


def run_once(args: list[str], *, cwd: Path) -> float:
    """Wall seconds of one fresh ``telecov ARGS`` process (output discarded)."""
    exe = Path(sys.executable).with_name("telecov")
    cmd = [str(exe), *args] if exe.exists() else [sys.executable, "-m", "telecov.cli", *args]
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def imported(args: list[str], *, cwd: Path) -> list[str]:
    """The heavy modules a fresh ``telecov ARGS`` process has imported when it exits."""
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "modules.json")
        code = _PROBE.format(heavy=HEAVY, path=path, args=args)
        subprocess.run([sys.executable, "-c", code], cwd=cwd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)  # fmt: skip
        return list(json.loads(Path(path).read_text()))


def sample_args(out: Path) -> list[str]:
    """``report --no-map`` on the bundled sample, into ``out``."""
    from telecov import sample_path

    return ["report", "--sites", str(sample_path("sites.csv")), "--areas", str(sample_path("communes.gpkg")),
            "--population", str(sample_path("population.tif")), "--no-map", "--format", "csv",
            "--out", str(out), "--force"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--imports", action="store_true", help="list the heavy modules each imports")
    parser.add_argument("--sample", action="store_true", help="also `report --no-map` on the sample")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        cases = [["--version"], ["--help"], *([c, "--help"] for c in COMMANDS)]
        if opts.sample:
            cases.append(sample_args(cwd / "out"))
        load = os.getloadavg()[0]
        print(f"load average before: {load:.2f}; median of {opts.repeat} fresh processes")
        for args in cases:
            if args[0] == "report" and len(args) > 2:
                run_once(args, cwd=cwd)  # the kernels compiled and cached, inputs in the OS cache
            walls = [run_once(args, cwd=cwd) for _ in range(opts.repeat)]
            label = " ".join(args[:1] + (["--no-map (sample)"] if len(args) > 2 else args[1:]))
            line = f"telecov {label:<28} {statistics.median(walls):6.3f} s  (min {min(walls):.3f})"
            if opts.imports:
                line += f"  imports: {', '.join(imported(args, cwd=cwd)) or '-'}"
            print(line, flush=True)
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
