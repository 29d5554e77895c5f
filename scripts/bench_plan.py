"""Speed and memory of ``telecov plan`` (issue: a province with 10,000 candidates and 200 picks
under 30 s; the country with 100,000 candidates and 1,000 picks under 5 minutes; memory bounded).

Each run is the real CLI in a fresh child process (``telecov plan ... --no-map --format csv``),
timed from process start to exit (wall) with its peak RSS (``os.wait4``), after one untimed run
that compiles and caches the numba kernels. ``plan.json`` gives the steps' own timings
(candidates, greedy, the report after the plan) and how many gains were re-measured.

Cases (``--cases``, comma-separated; default both):

- ``province``: Ha Tinh's 69 real communes, the real 1 km WorldPop raster, 5,000 SYNTHETIC
  existing sites (the report benchmark's set), 10,000 SYNTHETIC 5G candidates (600 m), 200 picks;
- ``country``: all 3,321 communes (34 provinces as parents), the real 1 km raster, the report
  benchmark's 100,000 + 5,000 5G SYNTHETIC sites, 100,000 SYNTHETIC 5G candidates, 1,000 picks.

Candidates are seeded points drawn with probability ∝ the people of each pixel, jittered inside
it. Every plan runs with ``--target 100 --min-gain 0`` so that the budget alone stops it.

Usage::

    python scripts/bench_plan.py                     # both cases, 3 timed runs each
    python scripts/bench_plan.py --cases province --repeat 5
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import _bench_worlds as worlds
import numpy as np
import rasterio

REPO = Path(__file__).resolve().parent.parent
CASES = {
    "province": {"candidates": 10_000, "budget": 200, "limit_s": 30.0},
    "country": {"candidates": 100_000, "budget": 1_000, "limit_s": 300.0},
}


def log(msg: str) -> None:
    print(f"[bench_plan {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def make_candidates(path: Path, *, raster: Path, n: int, seed: int) -> Path:
    """Write ``n`` seeded 5G candidates drawn ∝ people (reused when present)."""
    if path.is_file():
        return path
    rng = np.random.default_rng(seed)
    with rasterio.open(raster) as ds:
        pop = ds.read(1, masked=True).filled(0.0).astype(np.float64)
        t = ds.transform
    pop[~np.isfinite(pop) | (pop < 0)] = 0.0
    flat = pop.ravel()
    idx = np.flatnonzero(flat > 0)
    pick = idx[rng.choice(idx.size, size=n, p=flat[idx] / flat[idx].sum())]
    rows, cols = np.divmod(pick, pop.shape[1])
    lon = t.c + (cols + rng.random(n)) * t.a
    lat = t.f + (rows + rng.random(n)) * t.e
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(("site_id", "technology", "lon", "lat"))
        w.writerows((f"CAND{i + 1:06d}", "5G", f"{lon[i]:.6f}", f"{lat[i]:.6f}") for i in range(n))
    return path


def inputs_of(name: str, data: Path, work: Path, seed: int) -> tuple[worlds.World, Path]:
    """The case's world (areas, raster, existing sites) and its candidates file."""
    if name == "province":
        raster = worlds.province_raster(data)
        sites = worlds.make_sites(
            work / f"synthetic_sites_ha_tinh_5000_seed{seed}.csv", raster=raster, n=5000,
            shares=worlds.MIX_WITH_5G, seed=seed + 5000,
        )  # fmt: skip
        world = worlds.World(worlds.province_areas(data, work), raster, sites)
    else:
        raster = worlds.national_raster(data)
        sites = worlds.make_sites(
            work / f"synthetic_sites_vietnam_100000_5000x5G_seed{seed}.csv", raster=raster, n=100_000,
            shares=worlds.MIX_WITHOUT_5G, n_5g=5000, seed=seed,
        )  # fmt: skip
        world = worlds.World(worlds.country_areas(data), raster, sites)
    n = CASES[name]["candidates"]
    cands = make_candidates(
        work / f"synthetic_candidates_{name}_{n}_seed{seed}.csv", raster=raster, n=n, seed=seed + 1
    )
    return world, cands


def command(exe: str, world: worlds.World, cands: Path, out: Path, budget: int) -> list[str]:
    cmd = [exe, "plan", "--no-config", "--sites", str(world.sites), "--areas", str(world.areas),
           "--population", str(world.population), "--area-id", world.area_id,
           "--area-name", world.area_name]  # fmt: skip
    if world.parent:
        cmd += ["--parent", world.parent]
    return [*cmd, "--technology", "5G", "--candidates", str(cands), "--budget", str(budget),
            "--target", "100", "--min-gain", "0", "--no-map", "--format", "csv",
            "--out", str(out)]  # fmt: skip


def run(cmd: list[str], log_path: Path) -> dict[str, Any]:
    """Run in a fresh child: wall time, CPU time, peak RSS, exit code."""
    t0 = time.perf_counter()
    with log_path.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
    return {
        "wall_s": round(time.perf_counter() - t0, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_mb": round(usage.ru_maxrss / 1024, 1),
        "rc": os.waitstatus_to_exitcode(status),
    }


def bench_case(name: str, a: argparse.Namespace, exe: str) -> dict[str, Any]:
    spec = CASES[name]
    work = a.out / "inputs"
    world, cands = inputs_of(name, a.data_dir, work, a.seed)
    out = a.out / name
    out.mkdir(parents=True, exist_ok=True)
    cmd = command(exe, world, cands, out / "plan", spec["budget"])
    log(f"{name}: warm-up run (kernels compile and cache on first use)")
    first = run(cmd, out / "warmup.log")
    if first["rc"] != 0:
        sys.exit(f"bench_plan: {name} failed, see {out / 'warmup.log'}")
    runs = []
    for i in range(a.repeat):
        runs.append(run(cmd, out / f"run{i + 1}.log"))
        doc = json.loads((out / "plan" / "plan.json").read_text(encoding="utf-8"))
        runs[-1]["steps_s"] = {k: round(v, 2) for k, v in doc["timings_s"].items()}
        log(f"{name}: run {i + 1}: {runs[-1]}")
    picks = sum(1 for _ in (out / "plan" / "planned_sites.csv").open(encoding="utf-8")) - 1
    wall = statistics.median(r["wall_s"] for r in runs)
    return {
        "case": name, "candidates": spec["candidates"], "budget": spec["budget"], "picks": picks,
        "existing_sites": worlds.count_rows(world.sites), "pixels": worlds.raster_pixels(world.population),
        "median_wall_s": wall, "max_peak_mb": max(r["peak_mb"] for r in runs), "limit_s": spec["limit_s"],
        "met": wall < spec["limit_s"], "runs": runs, "warmup": first, "people_added": doc["people_added"],
        "stop_reason": doc["stop_reason"],
    }  # fmt: skip


def markdown(results: list[dict[str, Any]], env: dict[str, Any]) -> str:
    lines = [
        f"telecov plan benchmark — {env['when']}, {env['cpus']} CPUs, load average {env['load']}",
        "",
        "| case | existing sites | candidates | picks | wall (median) | CPU | "
        "steps: candidates / greedy / after | peak RSS | limit | met |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    for r in results:
        steps = statistics.median(x["steps_s"]["greedy"] for x in r["runs"])
        cand = statistics.median(x["steps_s"]["candidates"] for x in r["runs"])
        after = statistics.median(x["steps_s"]["after"] for x in r["runs"])
        lines.append(
            f"| {r['case']} | {r['existing_sites']:,} | {r['candidates']:,} | {r['picks']:,} | "
            f"{r['median_wall_s']:.1f} s | {statistics.median(x['cpu_s'] for x in r['runs']):.1f} s | "
            f"{cand:.1f} / {steps:.1f} / {after:.1f} s | "
            f"{r['max_peak_mb']:,.0f} MB | {r['limit_s']:.0f} s | {'yes' if r['met'] else 'NO'} |"
        )
    lines += [
        "",
        "Sites and candidates are SYNTHETIC (seeded, drawn ∝ people); boundaries and rasters are real.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", default=",".join(CASES))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--seed", type=int, default=20250701)
    p.add_argument("--data-dir", type=Path, default=worlds.default_data_dir(REPO))
    p.add_argument("--out", type=Path, default=Path("bench-plan"))
    a = p.parse_args()
    if a.data_dir is None:
        sys.exit("bench_plan: no data folder; pass --data-dir (../shared/data)")
    exe = str(Path(sys.executable).parent / "telecov")
    results = [bench_case(name, a, exe) for name in a.cases.split(",")]
    env = {"when": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(),
           "python": platform.python_version(),
           "load": " ".join(f"{x:.1f}" for x in os.getloadavg())}  # fmt: skip
    text = markdown(results, env)
    (a.out / "bench_plan.md").write_text(text, encoding="utf-8")
    (a.out / "bench_plan.json").write_text(
        json.dumps({"env": env, "results": results}, indent=1), encoding="utf-8"
    )
    print(text)


if __name__ == "__main__":
    main()
