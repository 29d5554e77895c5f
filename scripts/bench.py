"""Speed and accuracy benchmark of ``telecov report`` (DESIGN.md, "Speed contract").

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
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import _bench_worlds as worlds
import numpy as np
import pandas as pd
from numpy.typing import NDArray

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent
CASES = ("province-5k", "province-50k", "country-1km", "country-3s", "layers")
QUICK_CASES = ("province-5k", "province-50k")
BASELINES = ("straightforward", "exact")
PEAK_LIMIT_MB = 3 * 1024
PCT_TOL_PP = 0.25
TOTAL_POP_TOL_PCT = 0.2
LAYER_TARGET_S = 0.5
""""Well under a second": the marginal layer time is checked against half a second."""


@dataclass
class Run:
    """One measured child process."""

    cmd: list[str]
    wall_s: float
    peak_mb: float
    rc: int
    csv_s: float | None
    log: str
    cpu_s: float | None = None
    """User + system CPU seconds of the child (less sensitive to a busy machine than wall)."""
    timings: dict[str, float] | None = None
    """telecov's own step timings (run.json ``timings_s``) when it wrote them."""


@dataclass
class Case:
    """Inputs and results of one benchmark case."""

    name: str
    sites: int
    pixels: int
    inputs: dict[str, str]
    synthetic: list[str]
    telecov: list[Run] = field(default_factory=list)
    baseline: Run | None = None
    exact: Run | None = None
    accuracy: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def log(msg: str) -> None:
    """Progress on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run_measured(cmd: list[str], *, out_dir: Path, log_path: Path) -> Run:
    """Run ``cmd`` in a fresh child (stdout discarded); wall time, peak RSS, exit code."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    csv = out_dir / "coverage.csv"
    start_epoch = time.time()
    t0 = time.perf_counter()
    with log_path.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, cwd=log_path.parent)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = rc = os.waitstatus_to_exitcode(status)
    csv_s = csv.stat().st_mtime - start_epoch if csv.is_file() else None
    if csv_s is not None and csv_s < 0:
        csv_s = None  # a stale file from an earlier run
    return Run(cmd, round(wall, 3), round(usage.ru_maxrss / 1024, 1), rc,
               None if csv_s is None else round(csv_s, 3), str(log_path),
               round(usage.ru_utime + usage.ru_stime, 3))


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
    cmd = [*exe, "report", "--sites", str(w.sites), "--areas", str(w.areas),
           "--population", str(w.population), "--area-id", w.area_id,
           "--area-name", w.area_name]
    if w.parent:
        cmd += ["--parent", w.parent]
    return [*cmd, "--out", str(out), "--no-map", "--format", "csv", *extra]


def baseline_cmd(w: worlds.World, out: Path, method: str) -> list[str]:
    """The geopandas pipeline on world ``w`` writing into ``out``."""
    cmd = [sys.executable, str(SCRIPTS / "_bench_baseline.py"), "--sites", str(w.sites),
           "--areas", str(w.areas), "--population", str(w.population),
           "--area-id", w.area_id, "--area-name", w.area_name, "--out", str(out),
           "--method", "utm" if method == "straightforward" else "geod",
           "--strategy", "overlay" if method == "straightforward" else "per-area"]
    return cmd + (["--parent", w.parent] if w.parent else [])


def run_telecov(
    exe: list[str], w: worlds.World, case_dir: Path, extra: list[str], *, repeat: int,
    warmup: bool, tag: str = "telecov", first: int = 1,
) -> list[Run]:
    """Optional untimed warm-up, then ``repeat`` timed runs of telecov."""
    if warmup:
        out = case_dir / f"{tag}_warmup"
        r = run_measured(telecov_cmd(exe, w, out, extra), out_dir=out, log_path=out / "stderr.log")
        log(f"  {tag} warm-up: {r.wall_s:.2f} s rc={r.rc}")
    runs = []
    for i in range(repeat):
        out = case_dir / tag
        r = run_measured(telecov_cmd(exe, w, out, extra), out_dir=out,
                         log_path=case_dir / f"{tag}_{first + i}.log")
        r.timings = telecov_timings(out).get("telecov_run_json_timings")
        log(f"  {tag} run {first + i}: {r.wall_s:.2f} s (CPU {r.cpu_s:.2f} s), "
            f"peak {r.peak_mb:.0f} MB, rc={r.rc}")
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


def read_coverage(path: Path) -> pd.DataFrame:
    """A coverage.csv keyed by (level, area_id, technology), operator ``all`` only."""
    df = pd.read_csv(path, dtype={"area_id": str, "parent": str, "area_name": str})
    if "operator" in df:
        df = df[df["operator"].astype(str) == "all"]
    return df.set_index(["level", "area_id", "technology"])


def compare(telecov_csv: Path, exact_csv: Path) -> dict[str, Any]:
    """telecov's errors against the exact reference (see module docstring)."""
    t, e = read_coverage(telecov_csv), read_coverage(exact_csv)
    res: dict[str, Any] = {
        "missing_in_telecov": [list(k) for k in e.index.difference(t.index)[:20]],
        "extra_in_telecov": len(t.index.difference(e.index)),
    }
    j = e.add_suffix("_x").join(t.add_suffix("_t"), how="inner")

    def diff(col: str, rows: NDArray[np.bool_]) -> pd.Series:
        return (j.loc[rows, f"{col}_t"] - j.loc[rows, f"{col}_x"]).abs()

    lev = j.index.get_level_values("level")
    is_area = np.asarray(lev == "area")
    for label, rows in (("area", is_area), ("parent_total", ~is_area)):
        for col in ("population_pct", "area_pct"):
            d = diff(col, rows)
            null_x = j.loc[rows, f"{col}_x"].isna()
            null_t = j.loc[rows, f"{col}_t"].isna()
            res[f"{label}_max_abs_d_{col}_pp"] = float(d.max()) if d.notna().any() else 0.0
            res[f"{label}_{col}_null_mismatch"] = int((null_x != null_t).sum())
            if label == "area":
                worst = d.dropna().sort_values(ascending=False).head(5).index
                res[f"worst_{col}"] = [
                    {"key": list(k), "telecov": _f(j.at[k, f"{col}_t"]),
                     "exact": _f(j.at[k, f"{col}_x"]),
                     "exact_population": _f(j.at[k, "population_x"]),
                     "exact_area_km2": _f(j.at[k, "area_km2_x"])}
                    for k in worst
                ]
        for col in ("area_km2", "covered_km2"):
            x, tv = j.loc[rows, f"{col}_x"], j.loc[rows, f"{col}_t"]
            tol = np.maximum(0.005 * x.abs(), 0.01)
            ratio = float(((tv - x).abs() / tol).max())
            res[f"{label}_{col}_max_err_over_tol"] = _f(ratio)
            res[f"{label}_{col}_max_abs_err_km2"] = _f((tv - x).abs().max())
    tot = j[lev == "total"]
    per_tech: dict[str, float | None] = {}
    for key, row in tot.iterrows():
        tech = str(key[2])  # type: ignore[index]
        x = row["covered_population_x"]
        per_tech[tech] = None if not x else _f(100.0 * (row["covered_population_t"] - x) / x)
    res["total_covered_population_rel_err_pct"] = per_tech
    vals = [abs(v) for v in per_tech.values() if v is not None and np.isfinite(v)]
    res["max_total_covered_pop_err_pct"] = max(vals) if vals else None
    res["max_abs_d_pct_pp"] = max(
        res["area_max_abs_d_population_pct_pp"], res["area_max_abs_d_area_pct_pp"]
    )
    return res


def _f(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def make_case(name: str, data: Path, inputs: Path, seed: int) -> Case:
    """Build (or reuse) the inputs of case ``name``."""
    if name.startswith("province"):
        n = 5000 if name == "province-5k" else 50000
        raster = worlds.province_raster(data)
        sites = worlds.make_sites(
            inputs / f"synthetic_sites_ha_tinh_{n}_seed{seed}.csv", raster=raster, n=n,
            shares=worlds.MIX_WITH_5G, seed=seed + n,
        )
        w = worlds.World(worlds.province_areas(data, inputs), raster, sites)
        syn = ["sites"]
    else:
        raster = worlds.national_raster(data)
        sites = worlds.make_sites(
            inputs / f"synthetic_sites_vietnam_100000_5000x5G_seed{seed}.csv", raster=raster,
            n=100_000, shares=worlds.MIX_WITHOUT_5G, n_5g=5000, seed=seed,
        )
        syn = ["sites"]
        if name == "country-3s":
            fine = inputs / f"SYNTHETIC_worldpop_vnm_2020_3arcsec_seed{seed}.tif"
            if not fine.is_file():
                log("making the synthetic 3″ raster (once; reused afterwards)")
            raster = worlds.make_fine_raster(
                raster, fine, seed=seed
            )
            syn.append("population raster (3″ synthetic disaggregation of the 1 km WorldPop)")
        w = worlds.World(worlds.country_areas(data), raster, sites)
    return Case(name, worlds.count_rows(w.sites), worlds.raster_pixels(w.population),
                {k: str(v) for k, v in asdict(w).items()}, syn)


def world_of(case: Case) -> worlds.World:
    """The :class:`World` a case was built from."""
    i = case.inputs
    return worlds.World(Path(i["areas"]), Path(i["population"]), Path(i["sites"]),
                        i["area_id"], i["area_name"], i["parent"])


def median_wall(runs: list[Run]) -> float | None:
    """Median wall time of the successful runs."""
    ok = [r.wall_s for r in runs if r.rc == 0]
    return statistics.median(ok) if ok else None


def max_peak(runs: list[Run]) -> float | None:
    """Largest peak RSS of the successful runs."""
    ok = [r.peak_mb for r in runs if r.rc == 0]
    return max(ok) if ok else None


def fmt(x: float | None, spec: str = ".2f") -> str:
    """Table cell."""
    return "—" if x is None else format(x, spec)


def mark(ok: bool | None) -> str:
    """Met / not met / not measured."""
    return "not measured" if ok is None else ("**met**" if ok else "**NOT met**")


def targets(cases: dict[str, Case]) -> list[tuple[str, str, bool | None]]:
    """(target, measured value, met?) rows."""
    rows: list[tuple[str, str, bool | None]] = []
    c = cases.get("country-1km")
    if c:
        tw = median_wall(c.telecov)
        rows.append(("country (a) 1 km: telecov < 10 s", fmt(tw) + " s",
                     None if tw is None else tw < 10))
        ratio = c.extra.get("speed_ratio")
        rows.append(("country (a) 1 km: ≥ 15× the straightforward baseline",
                     fmt(ratio, ".1f") + "×", None if ratio is None else ratio >= 15))
    c = cases.get("country-3s")
    if c:
        tw = median_wall(c.telecov)
        rows.append(("country (b) 3″: telecov < 20 s", fmt(tw) + " s",
                     None if tw is None else tw < 20))
    for name in ("province-5k", "province-50k"):
        c = cases.get(name)
        if c:
            tw = median_wall(c.telecov)
            rows.append((f"{name}: telecov < 2 s", fmt(tw) + " s", None if tw is None else tw < 2))
    c = cases.get("layers")
    if c:
        m = c.extra.get("marginal_5g_layer_s")
        rows.append((f"one extra layer (5G on top of 4G, country 1 km) well under 1 s "
                     f"(checked < {LAYER_TARGET_S} s)", fmt(m) + " s",
                     None if m is None else m < LAYER_TARGET_S))
    peaks = [(n, p) for n, c in cases.items() if (p := max_peak(c.telecov)) is not None]
    if peaks:
        n, p = max(peaks, key=lambda x: x[1])
        rows.append(("telecov peak RSS < 3 GB (all cases)", f"{p:.0f} MB ({n})", p < PEAK_LIMIT_MB))
    for name, c in cases.items():
        if c.accuracy:
            a = c.accuracy
            d, tp = a["max_abs_d_pct_pp"], a["max_total_covered_pop_err_pct"]
            rows.append((f"{name}: every area *_pct within {PCT_TOL_PP} pp of exact",
                         f"{d:.3f} pp", d <= PCT_TOL_PP))
            rows.append((f"{name}: total covered population within {TOTAL_POP_TOL_PCT} %",
                         fmt(tp, ".3f") + " %", None if tp is None else tp <= TOTAL_POP_TOL_PCT))
            km = [a.get(f"{lv}_{col}_max_err_over_tol") for lv in ("area", "parent_total")
                  for col in ("area_km2", "covered_km2")]
            worst = max((k for k in km if k is not None), default=None)
            rows.append((f"{name}: area_km2 and covered_km2 within max(0.5 %, 0.01 km²)",
                         f"worst error = {fmt(worst)} × tolerance",
                         None if worst is None else worst <= 1.0))
    return rows


def markdown(cases: dict[str, Case], env: dict[str, Any]) -> str:
    """The report."""
    head = ("| case | sites | pixels | telecov wall s | telecov peak MB | baseline wall s | "
            "baseline peak MB | speed ratio | max \\|Δpct\\| pp | max total covered-pop err % |")
    lines = [
        "# telecov benchmark", "",
        f"{env['date']} · {env['cpus']} CPUs · load average {env['load_start']} at start, "
        f"{env['load_end']} at end · telecov {env['telecov']} · Python {env['python']}", "",
        *(["**The machine was busy (load average ≥ 1 besides this benchmark): timings are "
           "indicative only; CPU seconds are in bench.json.**", ""]
          if float(env["load_start"].split()[0]) >= 1 or float(env["load_end"].split()[0]) >= 2
          else []),
        "All sites are **synthetic** (seeded, drawn ∝ WorldPop population, jittered in the "
        "pixel). Boundaries (2025 communes) and the 1 km WorldPop 2020 raster are real; the "
        "3″ raster of `country-3s` is a **synthetic** seeded 10 × 10 disaggregation of the 1 km "
        "one (pixel totals preserved). Wall time: process start to exit (after coverage.csv); "
        "peak: the child's max RSS. Baseline: the straightforward geopandas pipeline "
        "(UTM buffer, union, overlay, exactextract); errors are against the exact reference "
        "(256-vertex geodesic circles, ellipsoidal areas, exactextract). MB = MiB.", "",
        head, "|" + "---|" * 10,
    ]
    for name, c in cases.items():
        tw, tp = median_wall(c.telecov), max_peak(c.telecov)
        b = c.baseline if c.baseline and c.baseline.rc == 0 else None
        acc = c.accuracy or {}
        if name == "layers":
            tw = c.extra.get("marginal_5g_layer_s")
            sites = f"{c.extra.get('sites_4g', 0):,} 4G + {c.extra.get('sites_5g', 0):,} 5G"
            lines.append(f"| layers: marginal 5G layer | {sites} | {c.pixels:,} | {fmt(tw)} "
                         f"| {fmt(tp, '.0f')} | — | — | — | — | — |")
            continue
        ratio = c.extra.get("speed_ratio")
        lines.append(
            f"| {name} | {c.sites:,} | {c.pixels:,} | {fmt(tw)} | {fmt(tp, '.0f')} | "
            f"{fmt(b.wall_s if b else None)} | {fmt(b.peak_mb if b else None, '.0f')} | "
            f"{fmt(ratio, '.1f')}{'×' if ratio else ''} | "
            f"{fmt(acc.get('max_abs_d_pct_pp'), '.3f')} | "
            f"{fmt(acc.get('max_total_covered_pop_err_pct'), '.3f')} |"
        )
    lines += ["", "## Targets", "", "| target | measured | |", "|---|---|---|"]
    lines += [f"| {t} | {v} | {mark(ok)} |" for t, v, ok in targets(cases)]
    lines += ["", "## Details", ""]
    for name, c in cases.items():
        bits = []
        if c.exact:
            bits.append(f"exact reference {fmt(c.exact.wall_s)} s, {c.exact.peak_mb:.0f} MB"
                        + ("" if c.exact.rc == 0 else f" (FAILED rc={c.exact.rc})"))
        if a := c.accuracy:
            bits.append(
                "area rows: max |Δ population_pct| "
                f"{a['area_max_abs_d_population_pct_pp']:.3f} pp, "
                f"max |Δ area_pct| {a['area_max_abs_d_area_pct_pp']:.3f} pp; parent/total rows: "
                f"{a['parent_total_max_abs_d_population_pct_pp']:.3f} / "
                f"{a['parent_total_max_abs_d_area_pct_pp']:.3f} pp; km² error / tolerance "
                f"max(0.5 %, 0.01 km²): area {fmt(a['area_area_km2_max_err_over_tol'])}, "
                f"covered {fmt(a['area_covered_km2_max_err_over_tol'])}; null mismatches "
                f"{a['area_population_pct_null_mismatch']}/{a['area_area_pct_null_mismatch']}; "
                f"total covered population error % by technology: "
                + ", ".join(f"{k} {fmt(v, '+.3f')}" for k, v in
                            a["total_covered_population_rel_err_pct"].items())
            )
            if a["missing_in_telecov"]:
                bits.append(f"rows missing in telecov output: {a['missing_in_telecov'][:5]}")
        for k, v in c.extra.items():
            if k not in ("speed_ratio", "baseline_steps_s"):
                bits.append(f"{k} = {v}")
        failed = [r for r in [*c.telecov, c.baseline] if r and r.rc != 0]
        bits += [f"FAILED rc={r.rc}: see {r.log}" for r in failed]
        lines.append(f"- **{name}**: " + "; ".join(bits) if bits else f"- **{name}**")
    return "\n".join(lines) + "\n"


def environment() -> dict[str, Any]:
    """Machine and versions."""
    def ver(p: str) -> str:
        try:
            return metadata.version(p)
        except metadata.PackageNotFoundError:
            return "?"

    return {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "cpus": os.cpu_count(), "platform": platform.platform(),
        "python": platform.python_version(), "telecov": ver("telecom-coverage"),
        "versions": {p: ver(p) for p in ("numpy", "numba", "shapely", "geopandas",
                                         "pyproj", "rasterio", "exactextract")},
        "load_start": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def main() -> None:
    """Parse options, run the selected cases, print and save the report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=worlds.default_data_dir(REPO),
                    help="real data folder (default: ../shared/data next to the repository)")
    ap.add_argument("--out", type=Path, default=REPO / "bench_out", help="work folder")
    ap.add_argument("--cases", default=",".join(CASES), help=f"comma-separated: {', '.join(CASES)}")
    ap.add_argument("--quick", action="store_true", help="province cases only")
    ap.add_argument("--baselines", default=",".join(BASELINES),
                    help="comma-separated: straightforward, exact (or 'none')")
    ap.add_argument("--repeat", type=int, default=1, help="timed telecov runs per case (median)")
    ap.add_argument("--no-warmup", action="store_true", help="skip the untimed telecov run")
    ap.add_argument("--seed", type=int, default=2025, help="seed of all synthetic inputs")
    ap.add_argument("--telecov", help="telecov command (default: the installed console script)")
    ap.add_argument("--telecov-arg", action="append", default=[],
                    help="extra argument passed to telecov report (repeatable)")
    a = ap.parse_args()
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
        if name == "layers":
            shutil.rmtree(case_dir, ignore_errors=True)
            cases[name] = layers_case(a, exe, inputs, case_dir)
            continue
        shutil.rmtree(case_dir, ignore_errors=True)  # no stale outputs from an earlier run
        c = make_case(name, a.data_dir.resolve(), inputs, a.seed)
        w = world_of(c)
        c.telecov = run_telecov(exe, w, case_dir, a.telecov_arg, repeat=a.repeat,
                                warmup=not a.no_warmup)
        for b in baselines:
            bdir = case_dir / b
            log(f"  {b} geopandas pipeline …")
            r = run_measured(baseline_cmd(w, bdir, b), out_dir=bdir, log_path=bdir / "stderr.log")
            log(f"  {b}: {r.wall_s:.1f} s (CPU {r.cpu_s:.1f} s), peak {r.peak_mb:.0f} MB, "
                f"rc={r.rc}")
            if r.rc != 0:
                log(f"  {b} failed:\n" + tail(Path(r.log)))
            setattr(c, "baseline" if b == "straightforward" else "exact", r)
        tw = median_wall(c.telecov)
        c.extra.update(telecov_timings(case_dir / "telecov"))
        csv_s = [r.csv_s for r in c.telecov if r.rc == 0 and r.csv_s is not None]
        if csv_s:
            # telecov writes its set in a temporary folder swapped in at the end: this is when
            # coverage.csv was written there; the table's wall time runs to process exit
            c.extra["telecov_coverage_csv_mtime_after_start_s"] = statistics.median(csv_s)
        cpu = [r.cpu_s for r in c.telecov if r.rc == 0 and r.cpu_s is not None]
        if cpu:
            c.extra["telecov_cpu_s"] = statistics.median(cpu)
        if c.baseline and c.baseline.rc == 0 and c.baseline.cpu_s and cpu:
            c.extra["baseline_cpu_s"] = c.baseline.cpu_s
            c.extra["cpu_time_ratio"] = round(c.baseline.cpu_s / statistics.median(cpu), 2)
        if c.baseline and c.baseline.rc == 0 and tw:
            c.extra["speed_ratio"] = round(c.baseline.wall_s / tw, 2)
            bt = json.loads((case_dir / "straightforward" / "timings.json").read_text())
            c.extra["baseline_steps_s"] = bt["steps_s"]
            rest = c.baseline.wall_s - bt["parents_total_s"]
            c.extra["baseline_without_parent_total_rows_s"] = round(rest, 2)
            c.extra["speed_ratio_vs_baseline_without_parent_total_rows"] = round(rest / tw, 2)
        tcsv, xcsv = case_dir / "telecov" / "coverage.csv", case_dir / "exact" / "coverage.csv"
        if c.exact and c.exact.rc == 0 and tw and tcsv.is_file():
            c.accuracy = compare(tcsv, xcsv)
            log(f"  accuracy: max |Δpct| {c.accuracy['max_abs_d_pct_pp']:.3f} pp, total pop err "
                f"{fmt(c.accuracy['max_total_covered_pop_err_pct'], '.3f')} %")
        cases[name] = c
    if "layers" in cases and "country-1km" in cases:
        full, only4 = median_wall(cases["country-1km"].telecov), cases["layers"].extra.get(
            "telecov_4G_min_s")
        if full is not None and only4 is not None:
            cases["layers"].extra["mean_extra_layer_s (five layers - 4G only) / 4"] = round(
                (full - only4) / 4, 3)
    env["load_end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    md = markdown(cases, env)
    (out / "bench.md").write_text(md, encoding="utf-8")
    (out / "bench.json").write_text(json.dumps(
        {"environment": env, "options": {k: str(v) for k, v in vars(a).items()},
         "targets": [{"target": t, "measured": v, "met": ok} for t, v, ok in targets(cases)],
         "cases": {n: asdict(c) for n, c in cases.items()}}, indent=2, ensure_ascii=False),
        encoding="utf-8")
    print(md)


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
        r4 += run_telecov(exe, w4, case_dir, a.telecov_arg, repeat=1, warmup=warm,
                          tag="telecov_4G", first=i + 1)
        r45 += run_telecov(exe, w45, case_dir, a.telecov_arg, repeat=1, warmup=warm,
                           tag="telecov_4G_5G", first=i + 1)
    c.telecov = r4 + r45
    n4 = worlds.count_rows(only4)
    c.extra.update(sites_4g=n4, sites_5g=c.sites - n4)
    ok4, ok45 = [r for r in r4 if r.rc == 0], [r for r in r45 if r.rc == 0]
    if ok4 and ok45:
        # minimum over repeats: the least disturbed run on a shared machine
        m4, m45 = min(r.wall_s for r in ok4), min(r.wall_s for r in ok45)
        c.extra.update(telecov_4G_min_s=m4, telecov_4G_5G_min_s=m45,
                       marginal_5g_layer_s=round(m45 - m4, 3))
        t4 = [r.timings["measure"] for r in ok4 if r.timings and "measure" in r.timings]
        t45 = [r.timings["measure"] for r in ok45 if r.timings and "measure" in r.timings]
        if t4 and t45:
            c.extra["marginal_5g_layer_in_process_measure_s"] = round(min(t45) - min(t4), 3)
    return c


if __name__ == "__main__":
    main()
