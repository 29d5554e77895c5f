"""Speed of radio-aware footprints (docs/radio.md): model radii against fixed radii, and terrain.

Cases (``--cases``, comma-separated; default both):

- ``country``: all 3,321 communes, the real 1 km WorldPop raster, the 105,000 SYNTHETIC sites of
  ``scripts/bench.py`` (same seed) given radio columns: ``band`` by technology (2G ``G900``, 3G
  ``U2100``, 4G ``L1800``, 5G ``n78``), ``height_m`` (30 m; 5G 25 m), no ``radius_m`` on radio
  rows, ``environment`` left to ``auto`` (by population density). The same file is run with
  ``--propagation fixed`` (the radius table) and ``--propagation auto`` (link-budget radii);
  target: auto within 1.3× of fixed.
- ``province-dem``: Ha Tinh's 69 communes, the real 1 km raster, 5,000 SYNTHETIC sites with the
  same radio columns, and a SYNTHETIC 90 m DEM over the province (``scripts/make_dem.py
  --pixel 90 --crs EPSG:32648``; nothing real): ``--dem`` against the same run without it;
  target: under 30 s.
- ``province-dem-accuracy``: the same run with ``--dem`` (``--export gpkg``) against the exact
  reference of its own footprint polygons (the GeoPackage's ``footprints`` layer measured by
  ``_bench_baseline.py --method geod --strategy per-area --footprints``: shapely unions and
  intersections, ellipsoidal areas, exactextract sums); the accuracy contract is 0.01
  percentage points per area. ``--slice K`` keeps every K-th site (the reference's unions of
  5,000 terrain polygons take long).
- ``province-shapes``: the same sites and DEM, in this process: the time to read the sites,
  find their radii and build every footprint polygon over the DEM (``shaped_footprints``),
  without measuring them: the terrain's own cost, median of ``--repeat`` runs.

Each run is the real CLI in its own process (``telecov report ... --no-map --format csv``), run
once untimed first (numba compiles, the OS caches the inputs), then ``--repeat`` timed runs of
each variant, alternated; medians are reported with the machine's load average. Inputs are made
once under ``--work`` and reused.

Usage::

    python scripts/bench_radio.py --repeat 3
    python scripts/bench_radio.py --cases country --repeat 5
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import statistics
import sys
import time
from pathlib import Path

import _bench_worlds as worlds
from _bench_accuracy import compare
from bench import baseline_cmd, run_measured, telecov_cmd, telecov_exe

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent
BANDS = {"2G": "G900", "3G": "U2100", "4G": "L1800", "5G": "n78"}
HEIGHTS = {"2G": "30", "3G": "30", "4G": "30", "5G": "25"}


def log(msg: str) -> None:
    """Progress on stderr."""
    print(f"[bench_radio {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def with_radio_columns(src: Path, dst: Path) -> Path:
    """Copy a bench sites file adding ``band`` and ``height_m``; radio rows lose ``radius_m``."""
    if dst.is_file():
        return dst
    with src.open(newline="", encoding="utf-8") as fi, dst.open("w", newline="", encoding="utf-8") as fo:
        reader, writer = csv.DictReader(fi), csv.writer(fo)
        header = [*(reader.fieldnames or []), "band", "height_m"]
        writer.writerow(header)
        for row in reader:
            tech = row["technology"]
            radio = tech in BANDS
            if radio:
                row["radius_m"] = ""
            writer.writerow([*(row[k] for k in header[:-2]), BANDS.get(tech, ""), HEIGHTS.get(tech, "")])
    return dst


def make_dem(areas: Path, work: Path) -> Path:
    """The SYNTHETIC 90 m UTM DEM over the province (made once)."""
    out = work / "SYNTHETIC_dem_ha_tinh_90m_utm48n.tif"
    if not out.is_file():
        sys.path.insert(0, str(SCRIPTS))
        import make_dem as dem_maker

        dem_maker.make_dem(
            out, communes=areas, crs="EPSG:32648", pixel=90.0, unit="m", seed=dem_maker.DEFAULT_SEED
        )
    return out


def timed(
    exe: list[str], w: worlds.World, case_dir: Path, variants: dict[str, list[str]], repeat: int
) -> dict:
    """Warm-up, then ``repeat`` alternated runs of every variant; wall and CPU medians."""
    results: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in variants}
    for name, extra in variants.items():
        out = case_dir / f"{name}_warmup"
        r = run_measured(telecov_cmd(exe, w, out, extra), out_dir=out, log_path=out / "stderr.log")
        log(f"  {name} warm-up {r.wall_s:.2f} s rc={r.rc}")
        if r.rc != 0:
            sys.exit(f"bench_radio: {name} failed, see {r.log}")
    for i in range(repeat):
        for name, extra in variants.items():
            out = case_dir / name
            r = run_measured(
                telecov_cmd(exe, w, out, extra), out_dir=out, log_path=case_dir / f"{name}_{i}.log"
            )
            if r.rc != 0:
                sys.exit(f"bench_radio: {name} failed (exit {r.rc}), see {r.log}")
            results[name]["wall"].append(r.wall_s)
            results[name]["cpu"].append(r.cpu_s)
            log(
                f"  {name} run {i + 1}: {r.wall_s:.2f} s (CPU {r.cpu_s:.2f} s) "
                f"peak {r.peak_mb:.0f} MB rc={r.rc}"
            )
    return {
        name: {k: statistics.median(v) for k, v in runs.items()}
        | {"runs": runs["wall"], "best": min(runs["wall"])}
        for name, runs in results.items()
    }


def country(exe: list[str], data: Path, work: Path, repeat: int, seed: int) -> str:
    raster = worlds.national_raster(data)
    sites = worlds.make_sites(
        work / f"synthetic_sites_vietnam_100000_5000x5G_seed{seed}.csv", raster=raster, n=100_000,
        shares=worlds.MIX_WITHOUT_5G, n_5g=5000, seed=seed,
    )  # fmt: skip
    radio = with_radio_columns(sites, work / f"synthetic_radio_sites_vietnam_105000_seed{seed}.csv")
    w = worlds.World(worlds.country_areas(data), raster, radio)
    got = timed(exe, w, work / "country", {"fixed": ["--propagation", "fixed"], "auto": []}, repeat)
    ratio = got["auto"]["wall"] / got["fixed"]["wall"]
    fixed, auto = got["fixed"], got["auto"]
    cpu, best = auto["cpu"] / fixed["cpu"], auto["best"] / fixed["best"]
    return (
        f"| country, 105,000 sites, 1 km | fixed {fixed['wall']:.2f} s (CPU {fixed['cpu']:.2f}, best "
        f"{fixed['best']:.2f}) | auto {auto['wall']:.2f} s (CPU {auto['cpu']:.2f}, best {auto['best']:.2f}) "
        f"| wall {ratio:.2f}×, CPU {cpu:.2f}×, best {best:.2f}× | {'met' if ratio <= 1.3 else 'NOT met'} "
        "(≤ 1.3× in median wall time) |"
    )


def province_inputs(data: Path, work: Path, seed: int) -> tuple[worlds.World, Path]:
    """Ha Tinh's world with the 5,000 radio sites, and the synthetic 90 m DEM."""
    raster = worlds.province_raster(data)
    areas = worlds.province_areas(data, work)
    sites = worlds.make_sites(
        work / f"synthetic_sites_ha_tinh_5000_seed{seed}.csv", raster=raster, n=5000,
        shares=worlds.MIX_WITH_5G, seed=seed + 5000,
    )  # fmt: skip
    radio = with_radio_columns(sites, work / f"synthetic_radio_sites_ha_tinh_5000_seed{seed}.csv")
    return worlds.World(areas, raster, radio), make_dem(areas, work)


def province_dem(exe: list[str], data: Path, work: Path, repeat: int, seed: int) -> str:
    w, dem = province_inputs(data, work, seed)
    got = timed(exe, w, work / "province-dem", {"no-dem": [], "dem": ["--dem", str(dem)]}, repeat)
    wall = got["dem"]["wall"]
    return (
        f"| Ha Tinh, 5,000 sites, 90 m DEM | no DEM {got['no-dem']['wall']:.2f} s "
        f"(CPU {got['no-dem']['cpu']:.2f}) | DEM {wall:.2f} s (CPU {got['dem']['cpu']:.2f}, "
        f"best {got['dem']['best']:.2f}) | "
        f"| {'met' if wall < 30 else 'NOT met'} (< 30 s) |"
    )


def every_kth(src: Path, k: int) -> Path:
    """Every ``k``-th data row of a sites CSV (all of them for k = 1)."""
    if k <= 1:
        return src
    dst = src.with_name(f"{src.stem}_every{k}.csv")
    with src.open(newline="", encoding="utf-8") as fi, dst.open("w", newline="", encoding="utf-8") as fo:
        rows = list(csv.reader(fi))
        csv.writer(fo).writerows([rows[0], *rows[1::k]])
    return dst


def province_dem_accuracy(exe: list[str], data: Path, work: Path, k: int, seed: int) -> str:
    w, dem = province_inputs(data, work, seed)
    w = dataclasses.replace(w, sites=every_kth(w.sites, k))
    case = work / f"province-dem-accuracy-every{k}"
    out = case / "telecov"
    cmd = telecov_cmd(exe, w, out, ["--dem", str(dem), "--export", "gpkg"])  # its footprints layer
    r = run_measured(cmd, out_dir=out, log_path=case / "telecov.log")
    log(f"  telecov (DEM, gpkg) {r.wall_s:.2f} s rc={r.rc}")
    if r.rc != 0:
        sys.exit(f"bench_radio: telecov failed, see {r.log}")
    exact = case / "exact"
    ref = [*baseline_cmd(w, exact, "exact"), "--footprints", str(out / "coverage.gpkg")]
    r = run_measured(ref, out_dir=exact, log_path=case / "exact.log")
    log(f"  exact reference {r.wall_s:.1f} s rc={r.rc}")
    if r.rc != 0:
        sys.exit(f"bench_radio: the exact reference failed, see {r.log}")
    got = compare(out / "coverage.csv", exact / "coverage.csv")
    (case / "accuracy.json").write_text(json.dumps(got, indent=2))
    worst = got["max_abs_d_pct_pp"]
    return (
        f"| Ha Tinh, one in {k} of 5,000 sites, 90 m DEM: accuracy | exact reference of the run's "
        f"footprint polygons | max \\|Δ pct\\| per area {worst:.4f} pp, total covered population "
        f"{got['max_total_covered_pop_err_pct'] or 0.0:.4f} % "
        f"| | {'met' if worst <= 0.01 else 'NOT met'} (≤ 0.01 pp) |"
    )


def province_shapes(exe: list[str], data: Path, work: Path, repeat: int, seed: int) -> str:
    del exe
    import warnings

    from telecov.errors import TelecovWarning
    from telecov.io.population import open_population
    from telecov.io.sites import read_sites
    from telecov.radio.columns import radio_columns
    from telecov.radio.reach import RadioOptions, with_radii
    from telecov.radio.shapes import shaped_footprints

    w, dem = province_inputs(data, work, seed)
    raster, radio = w.population, w.sites
    walls, steps, cpus = [], [], []
    for i in range(repeat):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TelecovWarning)
            t0, c0 = time.perf_counter(), time.process_time()
            table = read_sites(radio, columns=radio_columns)
            with open_population(raster) as pop:
                table = with_radii(table, pop, options=RadioOptions())
            t1 = time.perf_counter()
            shapes = shaped_footprints(table.accepted, dem=dem)
            t2, c2 = time.perf_counter(), time.process_time()
        walls.append(t2 - t0)
        steps.append(t2 - t1)
        cpus.append(c2 - c0)
        n = sum(s is not None for s in shapes)
        log(
            f"  shapes run {i + 1}: {t2 - t0:.2f} s, CPU {c2 - c0:.2f} s (radii {t1 - t0:.2f} s, "
            f"{n} polygons {t2 - t1:.2f} s), peak {peak_mb():.0f} MB"
        )
    wall = statistics.median(walls)
    return (
        f"| Ha Tinh, 5,000 sites, 90 m DEM: polygons only (in process) | | {wall:.2f} s "
        f"(CPU {statistics.median(cpus):.2f} s, polygons {statistics.median(steps):.2f} s, "
        f"best {min(walls):.2f} s) "
        "| | the engine's measuring not included: see province-dem |"
    )


def peak_mb() -> float:
    """Peak resident memory of this process (MB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=worlds.default_data_dir(REPO), help="../shared/data")
    ap.add_argument("--work", type=Path, default=Path("/tmp/telecov-bench-radio"), help="inputs and runs")
    ap.add_argument("--cases", default="country,province-dem")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--seed", type=int, default=2025, help="seed of the synthetic sites (that of scripts/bench.py)"
    )
    ap.add_argument("--telecov", default=None, help="the telecov command (default: beside this Python)")
    ap.add_argument("--slice", type=int, default=1, help="province-dem-accuracy: every K-th site")
    args = ap.parse_args(argv)
    if args.data is None:
        sys.exit("bench_radio: no data directory (../shared/data); pass --data")
    args.work.mkdir(parents=True, exist_ok=True)
    exe = telecov_exe(args.telecov)
    lines = ["| case | reference | radio | ratio | target |", "|---|---|---|---|---|"]
    for case in args.cases.split(","):
        log(f"case {case}")
        if case == "province-dem-accuracy":
            lines.append(province_dem_accuracy(exe, args.data, args.work, args.slice, args.seed))
            continue
        run = {"country": country, "province-dem": province_dem, "province-shapes": province_shapes}[case]
        lines.append(run(exe, args.data, args.work, args.repeat, args.seed))
    load = os.getloadavg()
    lines.append(
        f"\nmedians of {args.repeat} runs; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        f"on {os.cpu_count()} cores"
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
