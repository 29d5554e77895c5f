"""What ``--radius-uncertainty PCT`` costs: ``telecov report`` with and without it, same inputs.

Cases (``--cases``, comma-separated; default all):

- ``sample``: the bundled synthetic sample (``telecov report`` with no inputs);
- ``sample-dem``: the sample with a SYNTHETIC DEM of its province (``scripts/make_dem.py``,
  3″, written once into the work folder): every counted footprint is cut by terrain (``los``),
  so the shapes are derived three times with the option;
- ``province-50k``: Ha Tinh's 69 real communes, the real 1 km WorldPop raster and 50,000
  SYNTHETIC sites, built as ``scripts/bench.py`` builds its case of that name (needs
  ``../shared/data``).

Each run is a fresh ``telecov report ... --no-map --format csv`` child process (as in
``bench.py``), after one untimed warm-up of each variant; the timed runs alternate without /
with the option so that a change in the machine's load hits both alike. Reported: medians of
wall time, CPU time, peak RSS, run.json's ``total`` (the analysis: reading, shaping, measuring,
tabulating) and ``measure`` steps, and the ratios with / without.

Usage::

    python scripts/bench_uncertainty.py                         # every case, 5 runs each, PCT 10
    python scripts/bench_uncertainty.py --cases sample --repeat 3 --pct 20
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import _bench_worlds as worlds
from bench import REPO, make_case, run_measured, telecov_cmd, telecov_exe, world_of

CASES = ("sample", "sample-dem", "province-50k")


def log(msg: str) -> None:
    """Progress on stderr."""
    print(f"[bench-uncertainty {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _command(exe: list[str], world: worlds.World | None, out: Path, extra: list[str]) -> list[str]:
    if world is None:  # the bundled sample
        return [*exe, "report", "--out", str(out), "--no-map", "--format", "csv", *extra]
    return telecov_cmd(exe, world, out, extra)


def _dem(folder: Path) -> Path:
    """The synthetic DEM of the sample's province (made once)."""
    path = folder / "sample_dem.tif"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        make = [sys.executable, str(REPO / "scripts" / "make_dem.py"), "--out", str(path)]
        subprocess.run(make, check=True)
    return path


def _one(cmd: list[str], out: Path, log_path: Path) -> dict[str, Any]:
    r = run_measured(cmd, out_dir=out, log_path=log_path)
    if r.rc != 0:
        sys.exit(f"bench-uncertainty: {' '.join(cmd)} failed (rc {r.rc}); see {log_path}")
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    return {"wall_s": r.wall_s, "cpu_s": r.cpu_s, "peak_mb": r.peak_mb,
            "measure_s": run["timings_s"]["measure"], "analysis_s": run["timings_s"]["total"]}  # fmt: skip


def run_case(exe: list[str], case: str, a: argparse.Namespace) -> dict[str, Any]:
    """Warm-ups, then ``a.repeat`` alternating runs without and with the option."""
    base = ["--dem", str(_dem(a.out)), "--terrain", "los"] if case == "sample-dem" else []
    variants = {"without": base, "with": [*base, "--radius-uncertainty", f"{a.pct:g}"]}
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in variants}
    folder = a.out / case
    world = None
    if not case.startswith("sample"):
        world = world_of(make_case(case, a.data_dir.resolve(), a.inputs, a.seed))
    for name, extra in variants.items():
        out = folder / f"{name}_warmup"
        _one(_command(exe, world, out, extra), out, folder / f"{name}_warmup.log")
    for i in range(a.repeat):
        for name, extra in variants.items():
            out = folder / name
            runs[name].append(_one(_command(exe, world, out, extra), out, folder / f"{name}_{i + 1}.log"))
            log(f"{case} {name} run {i + 1}: {runs[name][-1]}")
    med = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()}
    return {"runs": runs, "median": med,
            "ratio_wall": med["with"]["wall_s"] / med["without"]["wall_s"],
            "ratio_measure": med["with"]["measure_s"] / med["without"]["measure_s"]}  # fmt: skip


def markdown(results: dict[str, dict[str, Any]], *, pct: float, repeat: int) -> str:
    """The results as a Markdown table."""
    lines = [
        f"`telecov report` without / with `--radius-uncertainty {pct:g}` (medians of {repeat} runs)",
        "",
        "| case | wall s | CPU s | analysis s | measure s | peak MB | wall × | measure × |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for case, r in results.items():
        a, b = r["median"]["without"], r["median"]["with"]
        lines.append(
            f"| {case} | {a['wall_s']:.2f} / {b['wall_s']:.2f} | {a['cpu_s']:.2f} / {b['cpu_s']:.2f} | "
            f"{a['analysis_s']:.2f} / {b['analysis_s']:.2f} | "
            f"{a['measure_s']:.2f} / {b['measure_s']:.2f} | {a['peak_mb']:.0f} / {b['peak_mb']:.0f} | "
            f"{r['ratio_wall']:.2f} | {r['ratio_measure']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse options, run the cases, print the table and save ``OUT/bench_uncertainty.json``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default=",".join(CASES), help=f"comma-separated: {', '.join(CASES)}")
    ap.add_argument("--pct", type=float, default=10.0, help="the --radius-uncertainty percentage")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs of each variant (median)")
    ap.add_argument("--data-dir", type=Path, default=worlds.default_data_dir(REPO), help="real data folder")
    ap.add_argument("--out", type=Path, default=REPO / "bench_out" / "uncertainty", help="work folder")
    ap.add_argument("--seed", type=int, default=2025, help="seed of the synthetic sites (as bench.py)")
    ap.add_argument("--telecov", help="telecov command (default: the installed console script)")
    a = ap.parse_args()
    a.inputs = REPO / "bench_out" / "inputs"
    a.inputs.mkdir(parents=True, exist_ok=True)
    cases = [c.strip() for c in a.cases.split(",") if c.strip()]
    if set(cases) - set(CASES):
        sys.exit(f"bench-uncertainty: unknown case(s) {sorted(set(cases) - set(CASES))}; choose from {CASES}")
    exe = telecov_exe(a.telecov)
    results = {case: run_case(exe, case, a) for case in cases}
    md = markdown(results, pct=a.pct, repeat=a.repeat)
    print(md)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "bench_uncertainty.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
