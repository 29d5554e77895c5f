"""Results of ``bench.py``: measured runs, cases, the targets they meet and the Markdown report."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

PEAK_LIMIT_MB = 3 * 1024
PCT_TOL_PP = 0.25
TOTAL_POP_TOL_PCT = 0.2
LAYER_TARGET_S = 0.3
"""Each extra technology layer: under 0.3 s."""
FIRST_RUN_TARGET_S = 12.0
"""The first ``telecov report`` after a fresh install (numba compiling the kernels): under 12 s."""


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
    return [*_speed_targets(cases), *_peak_targets(cases), *_accuracy_targets(cases)]


def _speed_targets(cases: dict[str, Case]) -> list[tuple[str, str, bool | None]]:
    rows: list[tuple[str, str, bool | None]] = []
    c = cases.get("first-run")
    if c:
        tw = median_wall(c.telecov)
        rows.append(
            (
                f"first run on the bundled sample (kernels compiled): < {FIRST_RUN_TARGET_S:g} s",
                fmt(tw) + " s",
                None if tw is None else tw < FIRST_RUN_TARGET_S,
            )
        )
    c = cases.get("installed")
    if c:
        tw = median_wall(c.telecov)
        rows.append(
            (
                f"first run on the bundled sample after installing the wheel: < {FIRST_RUN_TARGET_S:g} s",
                fmt(tw) + " s",
                None if tw is None else tw < FIRST_RUN_TARGET_S,
            )
        )
    c = cases.get("country-1km")
    if c:
        tw = median_wall(c.telecov)
        rows.append(("country (a) 1 km: telecov < 8 s", fmt(tw) + " s", None if tw is None else tw < 8))
        ratio = c.extra.get("speed_ratio")
        rows.append(
            (
                "country (a) 1 km: ≥ 20× the straightforward baseline",
                fmt(ratio, ".1f") + "×",
                None if ratio is None else ratio >= 20,
            )
        )
    c = cases.get("country-3s")
    if c:
        tw = median_wall(c.telecov)
        rows.append(("country (b) 3″: telecov < 12 s", fmt(tw) + " s", None if tw is None else tw < 12))
    c = cases.get("province-50k")
    if c:
        ratio = c.extra.get("speed_ratio")
        rows.append(
            (
                "province-50k: ≥ 4× the straightforward baseline",
                fmt(ratio, ".1f") + "×",
                None if ratio is None else ratio >= 4,
            )
        )
    c = cases.get("layers")
    if c:
        m = c.extra.get("marginal_5g_layer_s")
        rows.append(
            (
                f"one extra layer (5G on top of 4G, country 1 km) < {LAYER_TARGET_S} s",
                fmt(m) + " s",
                None if m is None else m < LAYER_TARGET_S,
            )
        )
    return rows  # fmt: skip


def _peak_targets(cases: dict[str, Case]) -> list[tuple[str, str, bool | None]]:
    peaks = [(n, p) for n, c in cases.items() if (p := max_peak(c.telecov)) is not None]
    if not peaks:
        return []
    n, p = max(peaks, key=lambda x: x[1])
    return [("telecov peak RSS < 3 GB (all cases)", f"{p:.0f} MB ({n})", p < PEAK_LIMIT_MB)]


def _accuracy_targets(cases: dict[str, Case]) -> list[tuple[str, str, bool | None]]:
    rows: list[tuple[str, str, bool | None]] = []
    for name, c in cases.items():
        if c.accuracy:
            a = c.accuracy
            d, tp = a["max_abs_d_pct_pp"], a["max_total_covered_pop_err_pct"]
            rows.append(
                (f"{name}: every area *_pct within {PCT_TOL_PP} pp of exact", f"{d:.3f} pp", d <= PCT_TOL_PP)
            )
            rows.append(
                (
                    f"{name}: total covered population within {TOTAL_POP_TOL_PCT} %",
                    fmt(tp, ".3f") + " %",
                    None if tp is None else tp <= TOTAL_POP_TOL_PCT,
                )
            )
            km = [
                a.get(f"{lv}_{col}_max_err_over_tol")
                for lv in ("area", "parent_total")
                for col in ("area_km2", "covered_km2")
            ]
            worst = max((k for k in km if k is not None), default=None)
            rows.append(
                (
                    f"{name}: area_km2 and covered_km2 within max(0.5 %, 0.01 km²)",
                    f"worst error = {fmt(worst)} × tolerance",
                    None if worst is None else worst <= 1.0,
                )
            )
    return rows  # fmt: skip


def markdown(cases: dict[str, Case], env: dict[str, Any]) -> str:
    """The report."""
    lines = [*_header(env), *(_case_row(name, c) for name, c in cases.items())]
    lines += ["", "## Targets", "", "| target | measured | |", "|---|---|---|"]
    lines += [f"| {t} | {v} | {mark(ok)} |" for t, v, ok in targets(cases)]
    lines += ["", "## Details", ""]
    for name, c in cases.items():
        bits = _details(c)
        lines.append(f"- **{name}**: " + "; ".join(bits) if bits else f"- **{name}**")
    return "\n".join(lines) + "\n"


def _header(env: dict[str, Any]) -> list[str]:
    head = (
        "| case | sites | pixels | telecov wall s | telecov peak MB | baseline wall s | "
        "baseline peak MB | speed ratio | max \\|Δpct\\| pp | max total covered-pop err % |"
    )
    busy = float(env["load_start"].split()[0]) >= 1 or float(env["load_end"].split()[0]) >= 2
    return [
        "# telecov benchmark", "",
        f"{env['date']} · {env['cpus']} CPUs · load average {env['load_start']} at start, "
        f"{env['load_end']} at end · telecov {env['telecov']} · Python {env['python']}", "",
        *(["**The machine was busy (load average ≥ 1 besides this benchmark): timings are "
           "indicative only; CPU seconds are in bench.json.**", ""] if busy else []),
        "All sites are **synthetic** (seeded, drawn ∝ WorldPop population, jittered in the "
        "pixel). Boundaries (2025 communes) and the 1 km WorldPop 2020 raster are real; the "
        "3″ raster of `country-3s` is a **synthetic** seeded 10 × 10 disaggregation of the 1 km "
        "one (pixel totals preserved). Wall time: process start to exit (after coverage.csv); "
        "peak: the child's max RSS. Baseline: the straightforward geopandas pipeline "
        "(UTM buffer, union, overlay, exactextract); errors are against the exact reference "
        "(256-vertex geodesic circles, ellipsoidal areas, exactextract). MB = MiB.", "",
        head, "|" + "---|" * 10,
    ]  # fmt: skip


def _case_row(name: str, c: Case) -> str:
    tw, tp = median_wall(c.telecov), max_peak(c.telecov)
    if name == "layers":
        tw = c.extra.get("marginal_5g_layer_s")
        sites = f"{c.extra.get('sites_4g', 0):,} 4G + {c.extra.get('sites_5g', 0):,} 5G"
        return (
            f"| layers: marginal 5G layer | {sites} | {c.pixels:,} | {fmt(tw)} "
            f"| {fmt(tp, '.0f')} | — | — | — | — | — |"
        )
    b = c.baseline if c.baseline and c.baseline.rc == 0 else None
    acc = c.accuracy or {}
    ratio = c.extra.get("speed_ratio")
    return (
        f"| {name} | {c.sites:,} | {c.pixels:,} | {fmt(tw)} | {fmt(tp, '.0f')} | "
        f"{fmt(b.wall_s if b else None)} | {fmt(b.peak_mb if b else None, '.0f')} | "
        f"{fmt(ratio, '.1f')}{'×' if ratio else ''} | "
        f"{fmt(acc.get('max_abs_d_pct_pp'), '.3f')} | "
        f"{fmt(acc.get('max_total_covered_pop_err_pct'), '.3f')} |"
    )


def _details(c: Case) -> list[str]:
    bits = []
    if c.exact:
        bits.append(f"exact reference {fmt(c.exact.wall_s)} s, {c.exact.peak_mb:.0f} MB"
                    + ("" if c.exact.rc == 0 else f" (FAILED rc={c.exact.rc})"))  # fmt: skip
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
            + ", ".join(f"{k} {fmt(v, '+.3f')}" for k, v in a["total_covered_population_rel_err_pct"].items())
        )
        if a["missing_in_telecov"]:
            bits.append(f"rows missing in telecov output: {a['missing_in_telecov'][:5]}")
    for k, v in c.extra.items():
        if k not in ("speed_ratio", "baseline_steps_s"):
            bits.append(f"{k} = {v}")
    failed = [r for r in [*c.telecov, c.baseline] if r and r.rc != 0]
    bits += [f"FAILED rc={r.rc}: see {r.log}" for r in failed]
    return bits
