"""Speed and accuracy benchmark of ``telecov report`` (docs/ARCHITECTURE.md, "Speed contract").

Every pipeline runs in its own fresh child process, so its wall time (process start to
exit, after ``coverage.csv`` is written) and peak RSS (``os.wait4`` rusage of that child)
are its own:

- telecov: the real CLI, ``telecov report ... --no-map --format csv > /dev/null``, run once
  untimed first (numba compiles and caches on first use; the OS caches the inputs);
- baseline: the straightforward geopandas pipeline (``_bench_baseline.py --method utm``:
  buffer in UTM, union, overlay, exactextract sum);
- exact reference: the same pipeline made exact (``--method geod``: geodesic circles with
  256 vertices, ellipsoidal areas, exactextract fraction-weighted sums). telecov's errors are
  measured against it.

Cases (``--cases``, comma-separated; default all):

- ``installed``: the quick start's first ``telecov report`` on the bundled sample right after
  installing this checkout's wheel (its build precompiles the kernels), each run in a fresh
  install folder; ``first-run``: the same with numba's cache empty (another machine's or
  numba's wheel, an editable install), then warm;

- ``province-5k``, ``province-50k``: Ha Tinh's 69 real communes, the real 1 km WorldPop
  raster, 5,000 / 50,000 synthetic sites;
- ``country-1km``: all 3,321 communes, 100,000 synthetic sites + 5,000 synthetic 5G, five
  layers, real 1 km WorldPop raster;
- ``country-3s``: the same on a SYNTHETIC 3″ (~100 m) raster made from the 1 km one by seeded
  disaggregation (each pixel's people spread over its 10 × 10 sub-pixels, totals preserved);
- ``layers``: telecov alone on the country 1 km case with only its 4G sites, then 4G + 5G:
  the marginal cost of one technology layer.

Speed ratio = baseline wall / telecov wall (median of ``--repeat`` runs); both compute the
same rows (areas, parents with ``--parent``, total). bench.json adds the ratio against the
baseline without its parent/total rows, CPU seconds (steadier than wall time on a busy
machine) and both pipelines' step timings.

All sites are SYNTHETIC (seeded; drawn with probability ∝ population, jittered inside the
pixel). Results: a Markdown table on stdout and in ``OUT/bench.md``, details in
``OUT/bench.json``; every run's files and stderr log stay under ``OUT/<case>/``.

Usage::

    python scripts/bench.py                      # everything (~20-30 min on 2 cores)
    python scripts/bench.py --quick              # province cases only (~1 min)
    python scripts/bench.py --cases country-1km,layers --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

import _bench_worlds as worlds
from _bench_accuracy import compare
from _bench_report import Case, Run, fmt, markdown, median_wall, targets

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent
CASES = ("installed", "first-run", "province-5k", "province-50k", "country-1km", "country-3s", "layers")
QUICK_CASES = ("province-5k", "province-50k")
BASELINES = ("straightforward", "exact")


def log(msg: str) -> None:
    """Progress on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run_measured(cmd: list[str], *, out_dir: Path, log_path: Path, env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` in a fresh child (stdout discarded); wall time, peak RSS, exit code."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    csv = out_dir / "coverage.csv"
    start_epoch = time.time()
    t0 = time.perf_counter()
    with log_path.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, cwd=log_path.parent, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = rc = os.waitstatus_to_exitcode(status)
    csv_s = csv.stat().st_mtime - start_epoch if csv.is_file() else None
    if csv_s is not None and csv_s < 0:
        csv_s = None  # a stale file from an earlier run
    return Run(
        cmd,
        round(wall, 3),
        round(usage.ru_maxrss / 1024, 1),
        rc,
        None if csv_s is None else round(csv_s, 3),
        str(log_path),
        round(usage.ru_utime + usage.ru_stime, 3),
    )


def telecov_exe(explicit: str | None) -> list[str]:
    """The real ``telecov`` console script (not a pyenv shim, which adds a shell)."""
    if explicit:
        return explicit.split()
    beside = Path(sys.executable).parent / "telecov"
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("telecov")
    if not found:
        sys.exit("bench: no `telecov` command found; install the package (pip install -e .)")
    return [found]


def telecov_cmd(exe: list[str], w: worlds.World, out: Path, extra: list[str]) -> list[str]:
    """``telecov report`` on world ``w`` writing into ``out``."""
    cmd = [
        *exe,
        "report",
        "--sites",
        str(w.sites),
        "--areas",
        str(w.areas),
        "--population",
        str(w.population),
        "--area-id",
        w.area_id,
        "--area-name",
        w.area_name,
    ]
    if w.parent:
        cmd += ["--parent", w.parent]
    return [*cmd, "--out", str(out), "--no-map", "--format", "csv", *extra]


def baseline_cmd(w: worlds.World, out: Path, method: str) -> list[str]:
    """The geopandas pipeline on world ``w`` writing into ``out``."""
    cmd = [
        sys.executable,
        str(SCRIPTS / "_bench_baseline.py"),
        "--sites",
        str(w.sites),
        "--areas",
        str(w.areas),
        "--population",
        str(w.population),
        "--area-id",
        w.area_id,
        "--area-name",
        w.area_name,
        "--out",
        str(out),
        "--method",
        "utm" if method == "straightforward" else "geod",
        "--strategy",
        "overlay" if method == "straightforward" else "per-area",
    ]
    return cmd + (["--parent", w.parent] if w.parent else [])


def run_telecov(
    exe: list[str],
    w: worlds.World,
    case_dir: Path,
    extra: list[str],
    *,
    repeat: int,
    warmup: bool,
    tag: str = "telecov",
    first: int = 1,
) -> list[Run]:
    """Optional untimed warm-up, then ``repeat`` timed runs of telecov."""
    if warmup:
        out = case_dir / f"{tag}_warmup"
        r = run_measured(telecov_cmd(exe, w, out, extra), out_dir=out, log_path=out / "stderr.log")
        log(f"  {tag} warm-up: {r.wall_s:.2f} s rc={r.rc}")
    runs = []
    for i in range(repeat):
        out = case_dir / tag
        r = run_measured(
            telecov_cmd(exe, w, out, extra), out_dir=out, log_path=case_dir / f"{tag}_{first + i}.log"
        )
        r.timings = telecov_timings(out).get("telecov_run_json_timings")
        log(
            f"  {tag} run {first + i}: {r.wall_s:.2f} s (CPU {r.cpu_s:.2f} s), "
            f"peak {r.peak_mb:.0f} MB, rc={r.rc}"
        )
        if r.rc != 0:
            log("  telecov failed:\n" + tail(Path(r.log)))
        runs.append(r)
    return runs


def telecov_timings(out: Path) -> dict[str, Any]:
    """Step timings telecov recorded in its run.json, if any."""
    try:
        run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    t = (run.get("timings_s") or run.get("timings")) if isinstance(run, dict) else None
    return {"telecov_run_json_timings": t} if t else {}


def tail(path: Path, n: int = 15) -> str:
    """Last ``n`` lines of a log."""
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def make_case(name: str, data: Path, inputs: Path, seed: int) -> Case:
    """Build (or reuse) the inputs of case ``name``."""
    if name.startswith("province"):
        n = 5000 if name == "province-5k" else 50000
        raster = worlds.province_raster(data)
        sites = worlds.make_sites(
            inputs / f"synthetic_sites_ha_tinh_{n}_seed{seed}.csv",
            raster=raster,
            n=n,
            shares=worlds.MIX_WITH_5G,
            seed=seed + n,
        )
        w = worlds.World(worlds.province_areas(data, inputs), raster, sites)
        syn = ["sites"]
    else:
        raster = worlds.national_raster(data)
        sites = worlds.make_sites(
            inputs / f"synthetic_sites_vietnam_100000_5000x5G_seed{seed}.csv",
            raster=raster,
            n=100_000,
            shares=worlds.MIX_WITHOUT_5G,
            n_5g=5000,
            seed=seed,
        )
        syn = ["sites"]
        if name == "country-3s":
            fine = inputs / f"SYNTHETIC_worldpop_vnm_2020_3arcsec_seed{seed}.tif"
            if not fine.is_file():
                log("making the synthetic 3″ raster (once; reused afterwards)")
            raster = worlds.make_fine_raster(raster, fine, seed=seed)
            syn.append("population raster (3″ synthetic disaggregation of the 1 km WorldPop)")
        w = worlds.World(worlds.country_areas(data), raster, sites)
    return Case(
        name,
        worlds.count_rows(w.sites),
        worlds.raster_pixels(w.population),
        {k: str(v) for k, v in asdict(w).items()},
        syn,
    )


def world_of(case: Case) -> worlds.World:
    """The :class:`World` a case was built from."""
    i = case.inputs
    return worlds.World(
        Path(i["areas"]), Path(i["population"]), Path(i["sites"]), i["area_id"], i["area_name"], i["parent"]
    )


def environment() -> dict[str, Any]:
    """Machine and versions."""

    def ver(p: str) -> str:
        try:
            return metadata.version(p)
        except metadata.PackageNotFoundError:
            return "?"

    return {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "telecov": ver("telecom-coverage"),
        "versions": {
            p: ver(p)
            for p in ("numpy", "numba", "shapely", "geopandas", "pyproj", "rasterio", "exactextract")
        },
        "load_start": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def _arguments() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=worlds.default_data_dir(REPO),
        help="real data folder (default: ../shared/data next to the repository)",
    )
    ap.add_argument("--out", type=Path, default=REPO / "bench_out", help="work folder")
    ap.add_argument("--cases", default=",".join(CASES), help=f"comma-separated: {', '.join(CASES)}")
    ap.add_argument("--quick", action="store_true", help="province cases only")
    ap.add_argument(
        "--baselines", default=",".join(BASELINES), help="comma-separated: straightforward, exact (or 'none')"
    )
    ap.add_argument("--repeat", type=int, default=3, help="timed telecov runs per case (median)")
    ap.add_argument("--baseline-repeat", type=int, default=3, help="straightforward baseline runs (median)")
    ap.add_argument("--no-warmup", action="store_true", help="skip the untimed telecov run")
    ap.add_argument("--seed", type=int, default=2025, help="seed of all synthetic inputs")
    ap.add_argument("--telecov", help="telecov command (default: the installed console script)")
    ap.add_argument(
        "--telecov-arg",
        action="append",
        default=[],
        help="extra argument passed to telecov report (repeatable)",
    )
    return ap.parse_args()  # fmt: skip


def main() -> None:
    """Parse options, run the selected cases, print and save the report."""
    a = _arguments()
    if a.data_dir is None or not (a.data_dir / worlds.VIETNAM).is_dir():
        sys.exit(f"bench: no real data under --data-dir {a.data_dir}")
    names = list(QUICK_CASES) if a.quick else [s.strip() for s in a.cases.split(",") if s.strip()]
    if bad := [n for n in names if n not in CASES]:
        sys.exit(f"bench: unknown case(s) {bad}; choose from {CASES}")
    baselines = [] if a.baselines == "none" else a.baselines.split(",")
    if bad := [b for b in baselines if b not in BASELINES]:
        sys.exit(f"bench: unknown baseline(s) {bad}")
    out: Path = a.out.resolve()
    inputs = out / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    exe = telecov_exe(a.telecov)
    env = environment()
    cases: dict[str, Case] = {}
    for name in names:
        log(f"case {name}")
        case_dir = out / name
        shutil.rmtree(case_dir, ignore_errors=True)  # no stale outputs from an earlier run
        if name == "layers":
            cases[name] = layers_case(a, exe, inputs, case_dir)
        elif name == "first-run":
            cases[name] = first_run_case(a, exe, case_dir)
        elif name == "installed":
            cases[name] = installed_case(a, exe, case_dir)
        else:
            cases[name] = run_case(a, name, exe, inputs, case_dir, baselines)
    if "layers" in cases and "country-1km" in cases:
        full, only4 = median_wall(cases["country-1km"].telecov), cases["layers"].extra.get("telecov_4G_min_s")
        if full is not None and only4 is not None:
            cases["layers"].extra["mean_extra_layer_s (five layers - 4G only) / 4"] = round(
                (full - only4) / 4, 3
            )
    env["load_end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    md = markdown(cases, env)
    (out / "bench.md").write_text(md, encoding="utf-8")
    (out / "bench.json").write_text(json.dumps(
        {"environment": env, "options": {k: str(v) for k, v in vars(a).items()},
         "targets": [{"target": t, "measured": v, "met": ok} for t, v, ok in targets(cases)],
         "cases": {n: asdict(c) for n, c in cases.items()}}, indent=2, ensure_ascii=False),
        encoding="utf-8")  # fmt: skip
    print(md)


def run_case(
    a: argparse.Namespace, name: str, exe: list[str], inputs: Path, case_dir: Path, baselines: list[str]
) -> Case:
    """telecov and the baselines on one case, with their ratios and telecov's errors."""
    c = make_case(name, a.data_dir.resolve(), inputs, a.seed)
    w = world_of(c)
    c.telecov = run_telecov(exe, w, case_dir, a.telecov_arg, repeat=a.repeat, warmup=not a.no_warmup)
    for b in baselines:
        bdir = case_dir / b
        runs = []
        for i in range(a.baseline_repeat if b == "straightforward" else 1):
            log(f"  {b} geopandas pipeline, run {i + 1} …")
            r = run_measured(baseline_cmd(w, bdir, b), out_dir=bdir, log_path=bdir / f"stderr_{i + 1}.log")
            log(f"  {b}: {r.wall_s:.1f} s (CPU {r.cpu_s:.1f} s), peak {r.peak_mb:.0f} MB, rc={r.rc}")
            if r.rc != 0:
                log(f"  {b} failed:\n" + tail(Path(r.log)))
            runs.append(r)
        ok = sorted((r for r in runs if r.rc == 0), key=lambda r: r.wall_s)
        chosen = ok[(len(ok) - 1) // 2] if ok else runs[-1]  # the median run (the lower of two)
        setattr(c, "baseline" if b == "straightforward" else "exact", chosen)
        if b == "straightforward" and len(ok) > 1:
            c.extra["baseline_walls_s"] = [r.wall_s for r in runs]
    c.extra.update(telecov_timings(case_dir / "telecov"))
    c.extra.update(split(c.telecov))
    c.extra.update(_ratios(c, case_dir))
    tcsv, xcsv = case_dir / "telecov" / "coverage.csv", case_dir / "exact" / "coverage.csv"
    if c.exact and c.exact.rc == 0 and median_wall(c.telecov) and tcsv.is_file():
        c.accuracy = compare(tcsv, xcsv)
        log(f"  accuracy: max |Δpct| {c.accuracy['max_abs_d_pct_pp']:.3f} pp, total pop err "
            f"{fmt(c.accuracy['max_total_covered_pop_err_pct'], '.3f')} %")  # fmt: skip
    return c


def split(runs: list[Run]) -> dict[str, Any]:
    """Median seconds of start-up (and exit), reading, measuring, the rest of the analysis, writing.

    From each run's wall time and its run.json ``timings_s`` (``read``, ``measure``, ``total``
    of the analysis, ``write`` of the output set); start-up is what remains of the wall time:
    the interpreter, the imports and the command line before the analysis, and the exit.
    """
    parts: dict[str, list[float]] = {}
    for r in runs:
        t = r.timings or {}
        if r.rc != 0 or not {"read", "measure", "total", "write"} <= set(t):
            continue
        steps = {
            "start-up": r.wall_s - t["total"] - t["write"], "reading": t["read"], "measuring": t["measure"],
            "tabulating": t["total"] - t["read"] - t["measure"], "writing": t["write"],
        }  # fmt: skip
        for k, v in steps.items():
            parts.setdefault(k, []).append(v)
    return {"split_s": {k: round(statistics.median(v), 2) for k, v in parts.items()}} if parts else {}


def installed_case(a: argparse.Namespace, exe: list[str], case_dir: Path) -> Case:
    """The quick start's first ``telecov report`` after installing this checkout's wheel.

    The wheel is built once by the pip of a new, empty virtual environment (``pip wheel``, in
    pip's isolated build environment, as ``pip install .`` on a fresh machine builds it: the
    build precompiles the kernels, ``setup.py``; its time, with the new environment, is reported
    as ``build_wheel_s``); every
    timed run installs it afresh into its own folder (``pip install --no-deps --target``) that
    is put first on ``PYTHONPATH``, with no ``NUMBA_CACHE_DIR``: the kernels' cache is the one
    the wheel carries, as after ``pip install .`` on this machine.
    """
    from telecov import sample_path

    w = worlds.World(sample_path("communes.gpkg"), sample_path("population.tif"), sample_path("sites.csv"),
                     "commune_code", "commune_name", None)  # fmt: skip
    c = Case("installed", worlds.count_rows(w.sites), worlds.raster_pixels(w.population),
             {k: str(v) for k, v in asdict(w).items()}, ["sites (the bundled synthetic sample)"])  # fmt: skip
    wheels = case_dir / "wheel"
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    t0 = time.perf_counter()
    builder = case_dir / "build-venv"
    subprocess.run([sys.executable, "-m", "venv", str(builder)], check=True)
    build_pip = [str(builder / "bin" / "python"), "-m", "pip", "-q"]
    subprocess.run([*build_pip, "wheel", "--no-deps", "-w", str(wheels), str(REPO)],
                   check=True, env=env)  # fmt: skip
    c.extra["build_wheel_s"] = round(time.perf_counter() - t0, 1)
    pip = [sys.executable, "-m", "pip", "-q"]
    wheel = next(wheels.glob("*.whl"))
    runs = []
    for i in range(max(3, a.repeat)):
        site = case_dir / f"site_{i + 1}"
        subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True, env=env)
        run_env = {**env, "PYTHONPATH": str(site)}
        where = subprocess.run([sys.executable, "-P", "-c", "import telecov; print(telecov.__file__)"],
                               env=run_env, capture_output=True, text=True, check=True).stdout  # fmt: skip
        assert where.startswith(str(site)), where
        out = case_dir / f"telecov_{i + 1}"
        r = run_measured([*exe, "report", "--out", str(out), *a.telecov_arg], out_dir=out,
                         log_path=case_dir / f"run_{i + 1}.log", env=run_env)  # fmt: skip
        r.timings = telecov_timings(out).get("telecov_run_json_timings")
        log(f"  first run {i + 1} after install: {r.wall_s:.2f} s (CPU {r.cpu_s:.2f} s), rc={r.rc}")
        runs.append(r)
    c.telecov = runs
    c.extra["status_line_shown"] = any("compiling telecov's kernels" in Path(r.log).read_text() for r in runs)
    return c


def first_run_case(a: argparse.Namespace, exe: list[str], case_dir: Path) -> Case:
    """The quick start's ``telecov report`` (the bundled sample) with numba's cache empty, then warm.

    Each cold run gets a new empty ``NUMBA_CACHE_DIR``, as after a fresh install; the warm runs
    reuse the first run's cache.
    """
    from telecov import sample_path

    w = worlds.World(sample_path("communes.gpkg"), sample_path("population.tif"), sample_path("sites.csv"),
                     "commune_code", "commune_name", None)  # fmt: skip
    c = Case("first-run", worlds.count_rows(w.sites), worlds.raster_pixels(w.population),
             {k: str(v) for k, v in asdict(w).items()}, ["sites (the bundled synthetic sample)"])  # fmt: skip
    runs = []
    for i in range(max(3, a.repeat)):
        cache = case_dir / f"numba_cache_{i + 1}"
        out = case_dir / f"telecov_cold_{i + 1}"
        env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
        r = run_measured([*exe, "report", "--out", str(out), *a.telecov_arg], out_dir=out,
                         log_path=case_dir / f"cold_{i + 1}.log", env=env)  # fmt: skip
        r.timings = telecov_timings(out).get("telecov_run_json_timings")
        load = os.getloadavg()[0]
        log(f"  cold run {i + 1}: {r.wall_s:.2f} s (CPU {r.cpu_s:.2f} s), rc={r.rc}, load {load:.1f}")
        runs.append(r)
    c.telecov = runs
    warm = []
    for i in range(max(3, a.repeat)):
        out = case_dir / f"telecov_warm_{i + 1}"
        env = {**os.environ, "NUMBA_CACHE_DIR": str(case_dir / "numba_cache_1")}
        r = run_measured([*exe, "report", "--out", str(out), *a.telecov_arg], out_dir=out,
                         log_path=case_dir / f"warm_{i + 1}.log", env=env)  # fmt: skip
        log(f"  warm run {i + 1}: {r.wall_s:.2f} s (CPU {r.cpu_s:.2f} s), rc={r.rc}")
        warm.append(r)
    c.extra["warm_wall_s"] = median_wall(warm)
    c.extra["cold_cpu_s"] = statistics.median(r.cpu_s for r in runs if r.cpu_s is not None)
    c.extra["status_line_shown"] = all("compiling telecov's kernels" in Path(r.log).read_text() for r in runs)
    return c


def _ratios(c: Case, case_dir: Path) -> dict[str, Any]:
    """CSV time, CPU seconds and the speed ratios against the baseline."""
    extra: dict[str, Any] = {}
    tw = median_wall(c.telecov)
    csv_s = [r.csv_s for r in c.telecov if r.rc == 0 and r.csv_s is not None]
    if csv_s:
        # telecov writes its set in a temporary folder swapped in at the end: this is when
        # coverage.csv was written there; the table's wall time runs to process exit
        extra["telecov_coverage_csv_mtime_after_start_s"] = statistics.median(csv_s)
    cpu = [r.cpu_s for r in c.telecov if r.rc == 0 and r.cpu_s is not None]
    if cpu:
        extra["telecov_cpu_s"] = statistics.median(cpu)
    if c.baseline and c.baseline.rc == 0 and c.baseline.cpu_s and cpu:
        extra["baseline_cpu_s"] = c.baseline.cpu_s
        extra["cpu_time_ratio"] = round(c.baseline.cpu_s / statistics.median(cpu), 2)
    if c.baseline and c.baseline.rc == 0 and tw:
        extra["speed_ratio"] = round(c.baseline.wall_s / tw, 2)
        bt = json.loads((case_dir / "straightforward" / "timings.json").read_text())
        extra["baseline_steps_s"] = bt["steps_s"]
        rest = c.baseline.wall_s - bt["parents_total_s"]
        extra["baseline_without_parent_total_rows_s"] = round(rest, 2)
        extra["speed_ratio_vs_baseline_without_parent_total_rows"] = round(rest / tw, 2)
    return extra


def layers_case(a: argparse.Namespace, exe: list[str], inputs: Path, case_dir: Path) -> Case:
    """telecov on the country 1 km case with 4G sites only, then 4G + 5G sites."""
    base = make_case("country-1km", a.data_dir.resolve(), inputs, a.seed)
    full = Path(base.inputs["sites"])
    only4 = worlds.subset_sites(full, inputs / f"{full.stem}_4G.csv", {"4G"})
    with5 = worlds.subset_sites(full, inputs / f"{full.stem}_4G_5G.csv", {"4G", "5G"})
    c = Case("layers", worlds.count_rows(with5), base.pixels, base.inputs, base.synthetic)
    w = world_of(base)
    w4 = worlds.World(w.areas, w.population, only4, w.area_id, w.area_name, w.parent)
    w45 = worlds.World(w.areas, w.population, with5, w.area_id, w.area_name, w.parent)
    r4: list[Run] = []
    r45: list[Run] = []
    for i in range(max(3, a.repeat)):  # interleaved, so load drift hits both alike
        warm = i == 0 and not a.no_warmup
        r4 += run_telecov(
            exe, w4, case_dir, a.telecov_arg, repeat=1, warmup=warm, tag="telecov_4G", first=i + 1
        )
        r45 += run_telecov(
            exe, w45, case_dir, a.telecov_arg, repeat=1, warmup=warm, tag="telecov_4G_5G", first=i + 1
        )
    c.telecov = r4 + r45
    n4 = worlds.count_rows(only4)
    c.extra.update(sites_4g=n4, sites_5g=c.sites - n4)
    ok4, ok45 = [r for r in r4 if r.rc == 0], [r for r in r45 if r.rc == 0]
    if ok4 and ok45:
        # minimum over repeats: the least disturbed run on a shared machine
        m4, m45 = min(r.wall_s for r in ok4), min(r.wall_s for r in ok45)
        c.extra.update(telecov_4G_min_s=m4, telecov_4G_5G_min_s=m45, marginal_5g_layer_s=round(m45 - m4, 3))
        t4 = [r.timings["measure"] for r in ok4 if r.timings and "measure" in r.timings]
        t45 = [r.timings["measure"] for r in ok45 if r.timings and "measure" in r.timings]
        if t4 and t45:
            c.extra["marginal_5g_layer_in_process_measure_s"] = round(min(t45) - min(t4), 3)
    return c


if __name__ == "__main__":
    main()
