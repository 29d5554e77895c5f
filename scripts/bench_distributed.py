"""Benchmark of the engine on dask.distributed: one process vs ``--workers 1/2``, and the 1″ case.

Cases (``--cases``, comma-separated):

- ``country-1km``: the 3,321 communes of 2025, 100,000 synthetic sites + 5,000 synthetic 5G,
  the real 1 km WorldPop raster (the inputs of ``scripts/bench.py``'s case of that name);
  ``telecov report`` in one process, with ``--workers 1``, ``--workers 2`` and with
  ``--scheduler`` on a cluster of two workers started beforehand (no start-up in the run);
- ``big-1s``: the same communes and sites on the SYNTHETIC 1″ raster of
  ``scripts/make_big_raster.py`` (1.41 × 10⁹ pixels, a VRT of compressed tiles), one process
  vs ``--workers 1`` / ``--workers 2``;
- ``countries``: the 2025 communes plus a synthetic country of 200 communes south of the
  equator (98–101°E, 5–2°S, UTM zone 47S) on one raster (a VRT of the national raster and a
  synthetic tile on its grid): one process vs ``--workers 2``, the tables compared;
- ``plan-province``: ``telecov plan`` on ``scripts/bench_plan.py``'s province case (Hà Tĩnh's
  69 real communes, the real 1 km raster, 5,000 synthetic sites, 10,000 synthetic 5G
  candidates, 200 picks): one process vs ``--workers 2`` and ``--scheduler`` (two workers
  started beforehand), the picks compared;
- ``gaps-country``: ``telecov gaps --technology 5G --export geojson`` on the country case: one
  process vs ``--workers 2``, the zones compared.

Every run is a fresh ``telecov`` process (wall time, CPU time and peak RSS of that process
from ``os.wait4``; the CPU time includes the local workers it started and reaped); each case
but ``big-1s`` is run once untimed first (kernels compiled, files cached; ``big-1s`` runs
after them, once per mode by default: ``--repeat-big``). Then, for each report case
(``country-1km``, ``big-1s``, ``countries``), ``--stats`` runs its partitions on a
LocalCluster of two workers through :func:`telecov.engine.tasks.run_tasks` and records each
partition's seconds and each worker's peak RSS. Results: ``OUT/bench_distributed.json`` and a
Markdown table on stdout.

Usage::

    python scripts/bench_distributed.py OUT [--cases country-1km,big-1s,countries,plan-province,gaps-country]
        [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import _bench_worlds as worlds
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = Path(__file__).resolve().parent
FIELDS = ["--area-id", "commune_code", "--area-name", "commune_name", "--parent", "province_name"]


def _telecov() -> str:
    beside = Path(sys.executable).parent / "telecov"
    return str(beside) if beside.is_file() else "telecov"


def run(cmd: list[str], log: Path, stdout: Path | None = None) -> dict[str, float]:
    """Run ``cmd`` in a child process; its wall time, CPU time and peak RSS (MiB)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with log.open("w") as err, (stdout or Path(os.devnull)).open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed ({os.waitstatus_to_exitcode(status)}): {' '.join(cmd)}; see {log}")
    return {
        "wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
    }  # fmt: skip


def report_cmd(case: dict[str, str], out: Path, *extra: str) -> list[str]:
    return [
        _telecov(), "report", "--sites", case["sites"], "--areas", case["areas"],
        "--population", case["population"], *FIELDS, "--out", str(out), "--no-map", "--format", "csv", *extra,
    ]  # fmt: skip


def southern_country(inputs: Path, national: Path, areas: Path, seed: int) -> tuple[Path, Path]:
    """The 2025 communes plus 200 synthetic communes at 98–101°E, 5–2°S; a VRT raster over both."""
    import geopandas as gpd
    import rasterio
    import shapely
    from make_big_raster import _vrt
    from rasterio.transform import Affine

    out_areas, vrt = inputs / "communes_2025_plus_southland.gpkg", inputs / "vietnam_plus_southland_1km.vrt"
    if out_areas.is_file() and vrt.is_file():
        return out_areas, vrt
    rng = np.random.default_rng(seed)
    cells = [shapely.box(98 + 0.15 * i, -5 + 0.15 * j, 98.15 + 0.15 * i, -4.85 + 0.15 * j)
             for i in range(20) for j in range(10)]  # fmt: skip
    south = gpd.GeoDataFrame(
        {"commune_code": [f"S{k:04d}" for k in range(200)],
         "commune_name": [f"Selatan {k}" for k in range(200)],
         "province_name": [f"Southland {k // 50}" for k in range(200)]}, geometry=cells, crs="EPSG:4326",
    )  # fmt: skip
    north = gpd.read_file(areas)
    pd.concat([north, south.to_crs(north.crs)], ignore_index=True).to_file(out_areas)
    with rasterio.open(national) as ds:
        t, crs, nodata = ds.transform, ds.crs, ds.nodata
        width, height = ds.width, ds.height
    c0 = int(np.floor((97.9 - t.c) / t.a))
    r0 = int(np.floor((t.f - (-1.9)) / -t.e))
    h, w = int(np.ceil(3.2 / -t.e)), int(np.ceil(3.2 / t.a))
    tile = inputs / "southland_1km.tif"
    people = rng.gamma(0.5, 600.0, (h, w)).astype("float32")
    profile = {"driver": "GTiff", "height": h, "width": w, "count": 1, "dtype": "float32", "crs": crs,
               "nodata": nodata, "transform": t * Affine.translation(c0, r0)}  # fmt: skip
    with rasterio.open(tile, "w", **profile) as dst:
        dst.write(people, 1)
    link = inputs / "national_1km.tif"
    if not link.exists():
        link.symlink_to(national)
    x0 = min(c0, 0)
    grid = t * Affine.translation(x0, 0)
    _vrt(vrt, [(link, -x0, 0, width, height), (tile, c0 - x0, r0, w, h)], width=width - x0, height=r0 + h,
         transform=grid, crs_wkt=crs.to_wkt())  # fmt: skip
    return out_areas, vrt


def southland_sites(inputs: Path, sites: Path, seed: int) -> Path:
    """The national synthetic sites plus 3,000 synthetic sites in the southern country."""
    out = inputs / "sites_plus_southland.csv"
    if out.is_file():
        return out
    rng = np.random.default_rng(seed + 1)
    n = 3000
    extra = pd.DataFrame({
        "site_id": [f"SOUTH{k:05d}" for k in range(n)], "operator": "Selatan",
        "technology": rng.choice(["2G", "4G", "5G"], n, p=[0.3, 0.6, 0.1]),
        "lon": np.round(rng.uniform(98.0, 101.0, n), 6), "lat": np.round(rng.uniform(-5.0, -3.5, n), 6),
    })  # fmt: skip
    pd.concat([pd.read_csv(sites, dtype=str), extra.astype(str)], ignore_index=True).to_csv(out, index=False)
    return out


def stats(case: dict[str, str], workers: int) -> dict[str, object]:
    """Partitions of ``case`` on a LocalCluster of ``workers``: seconds each, workers' peak RSS."""
    from distributed import Client

    import telecov

    with _cluster(workers) as cluster, Client(cluster) as client:
        kw = {"area_id": "commune_code", "area_name": "commune_name", "parent": "province_name"}
        t0 = time.perf_counter()
        telecov.analyze(case["sites"], case["areas"], case["population"], client=client, **kw)
        warm = time.perf_counter() - t0
        parts = _partitions(case, client)
        rss = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    secs = [p["seconds"] for p in parts]
    return {
        "workers": workers, "first_run_s": round(warm, 2), "partitions": len(parts),
        "partition_s": {"sum": round(sum(secs), 2), "max": round(max(secs), 2),
                        "median": round(statistics.median(secs), 3)},
        "partition_work_max": round(max(p["work"] for p in parts), 4),
        "worker_peak_rss_mib": {k: round(v, 1) for k, v in rss.items()}, "parts": parts,
    }  # fmt: skip


def _partitions(case: dict[str, str], client: object) -> list[dict[str, float]]:
    from telecov.engine.partition import regions_from_geometries
    from telecov.engine.tasks import TASKS_PER_WORKER, plan_partitions, run_tasks
    from telecov.footprints import build_layers, footprints_of
    from telecov.io.areas import read_areas
    from telecov.io.population import open_population
    from telecov.io.sites import read_sites

    areas = read_areas(case["areas"], area_id="commune_code", area_name="commune_name").accepted
    sites = read_sites(case["sites"]).accepted
    regions = regions_from_geometries(areas.geometry.to_numpy())
    layers = [la.members for la in build_layers(sites)]
    threads = sum(client.nthreads().values())  # type: ignore[attr-defined]
    with open_population(case["population"]) as raster:
        tasks = plan_partitions(
            regions, footprints_of(sites), layers, raster, population=case["population"],
            residential_density=300.0, resolution_m=100.0, count=TASKS_PER_WORKER * threads,
        )  # fmt: skip
    work = {t.index: t.work for t in tasks}
    rows = {t.index: t.rows[1] - t.rows[0] for t in tasks}
    return [
        {"index": p.index, "rows": rows[p.index], "work": round(work[p.index], 4),
         "seconds": round(p.seconds, 3), "worker": p.worker, "peak_rss_mib": round(p.peak_rss_mb, 1)}
        for p in run_tasks(client, tasks)
    ]  # fmt: skip


def _same(a: Path, b: Path) -> float:
    """Largest relative difference between two coverage.csv files (same rows)."""
    x, y = pd.read_csv(a, dtype={"area_id": str}), pd.read_csv(b, dtype={"area_id": str})
    num = x.select_dtypes("number").columns
    u, v = x[num].to_numpy(float), y[num].to_numpy(float)
    ok = ~np.isnan(u)
    return float(np.max(np.abs(u[ok] - v[ok]) / np.maximum(np.abs(u[ok]), 1e-300)))


def bench_case(
    name: str,
    case: dict[str, str],
    out: Path,
    *,
    repeat: int,
    modes: list[list[str]],
    warm: bool = True,
    command: Any = None,
    same: Any = None,
) -> dict:
    """Every mode of one case: medians of ``repeat`` runs after one untimed run (``warm``)."""
    result: dict[str, object] = {"inputs": case}
    tables: dict[str, Path] = {}
    for extra in modes:
        label = " ".join(extra) or "one process"
        folder = out / name / (label.replace(" ", "_").replace("-", "").replace(":", "_").replace("/", "_"))
        table = folder / "coverage.stdout.csv"
        cmd = (command or report_cmd)(case, folder / "out", *extra)
        if warm:
            run(cmd, folder / "warm.log", table)
        runs = [run(cmd, folder / f"run{i}.log", table) for i in range(repeat)]
        tables[label] = table
        result[label] = {
            "wall_s": statistics.median(r["wall_s"] for r in runs),
            "cpu_s": statistics.median(r["cpu_s"] for r in runs),
            "runs_wall_s": [r["wall_s"] for r in runs],
            "client_peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        }  # fmt: skip
        print(f"{name:12s} {label:30s} {result[label]}", flush=True)
    first = tables["one process"]
    result["max_rel_diff_vs_one_process"] = {
        k: (same or _same)(first, p) for k, p in tables.items() if k != "one process"
    }
    return result


def plan_cmd(case: dict[str, str], out: Path, *extra: str) -> list[str]:
    return [
        _telecov(), "plan", "--no-config", "--sites", case["sites"], "--areas", case["areas"],
        "--population", case["population"], "--area-id", case["area_id"], "--area-name", case["area_name"],
        *(["--parent", case["parent"]] if case.get("parent") else []), "--technology", "5G",
        "--candidates", case["candidates"], "--budget", case["budget"], "--target", "100", "--min-gain", "0",
        "--no-map", "--format", "csv", "--out", str(out), *extra,
    ]  # fmt: skip


def gaps_cmd(case: dict[str, str], out: Path, *extra: str) -> list[str]:
    return [
        _telecov(), "gaps", "--no-config", "--sites", case["sites"], "--areas", case["areas"],
        "--population", case["population"], *FIELDS, "--technology", "5G", "--export", "geojson",
        "--format", "csv", "--out", str(out), *extra,
    ]  # fmt: skip


def _same_picks(a: Path, b: Path) -> float:
    """Largest relative difference of two plans' marginal people; inf unless the same sites in order."""
    x, y = pd.read_csv(a, dtype={"site_id": str}), pd.read_csv(b, dtype={"site_id": str})
    if x["site_id"].tolist() != y["site_id"].tolist():
        return float("inf")
    u, v = x["marginal_people"].to_numpy(float), y["marginal_people"].to_numpy(float)
    return float(np.max(np.abs(u - v) / np.maximum(np.abs(u), 1e-300))) if len(u) else 0.0


def _same_zones(a: Path, b: Path) -> float:
    """Largest relative difference of two gap runs' zone populations; inf unless the same zones in order."""
    za = json.loads((a.parent / "out" / "gaps.geojson").read_text(encoding="utf-8"))["features"]
    zb = json.loads((b.parent / "out" / "gaps.geojson").read_text(encoding="utf-8"))["features"]
    keys = [
        [(f["properties"]["rank"], f["properties"]["area_id"], f["geometry"]) for f in z] for z in (za, zb)
    ]
    if keys[0] != keys[1]:
        return float("inf")
    u = np.array([f["properties"]["population"] for f in za], dtype=float)
    v = np.array([f["properties"]["population"] for f in zb], dtype=float)
    return float(np.max(np.abs(u - v) / np.maximum(np.abs(u), 1e-300))) if len(u) else 0.0


def plan_case(out: Path, data: Path, seed: int, repeat: int) -> dict:
    """``plan-province``: one process vs ``--workers 2``, the picks compared."""
    from bench_plan import CASES, inputs_of

    world, cands = inputs_of("province", data, (out / "inputs").resolve(), seed)
    case = {"sites": str(world.sites), "areas": str(world.areas), "population": str(world.population),
            "area_id": world.area_id, "area_name": world.area_name, "parent": world.parent or "",
            "candidates": str(cands), "budget": str(CASES["province"]["budget"])}  # fmt: skip
    with _cluster(2) as cluster:  # --scheduler: two workers started before the runs
        modes = [[], ["--workers", "2"], ["--scheduler", cluster.scheduler_address]]
        result = bench_case("plan-province", case, out, repeat=repeat, modes=modes, command=plan_cmd,
                            same=_same_picks)  # fmt: skip
    for extra in modes:
        label = " ".join(extra) or "one process"
        folder = (
            out
            / "plan-province"
            / (label.replace(" ", "_").replace("-", "").replace(":", "_").replace("/", "_"))
        )
        doc = json.loads((folder / "out" / "plan.json").read_text(encoding="utf-8"))
        result[label]["steps_s"] = doc["timings_s"]  # type: ignore[index]
        result[label]["gains_remeasured"] = doc["gains_remeasured"]  # type: ignore[index]
        result[label]["gains_on_cluster"] = doc.get("gains_on_cluster")  # type: ignore[index]
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--cases", default="country-1km,big-1s,countries")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--repeat-big", type=int, default=1)
    p.add_argument("--big", type=Path, help="VRT of scripts/make_big_raster.py (made in OUT/big if absent)")
    p.add_argument("--seed", type=int, default=20260601)
    p.add_argument("--stats", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.stats:
        case = json.loads(a.stats)
        print(json.dumps(stats(case, int(case.pop("workers")))))
        return
    data = worlds.default_data_dir(REPO)
    if data is None:
        raise SystemExit("../shared/data is needed")
    inputs = (a.out / "inputs").resolve()
    inputs.mkdir(parents=True, exist_ok=True)
    national = worlds.national_raster(data)
    sites = worlds.make_sites(inputs / f"synthetic_sites_vietnam_100000_5000x5G_seed{a.seed}.csv",
                              raster=national, n=100_000, shares=worlds.MIX_WITHOUT_5G, n_5g=5000,
                              seed=a.seed)  # fmt: skip
    areas = worlds.country_areas(data)
    base = {"sites": str(sites), "areas": str(areas), "population": str(national)}
    load = os.getloadavg()
    report: dict[str, object] = {"load_average_at_start": [round(x, 2) for x in load], "cpus": os.cpu_count()}
    for name in a.cases.split(","):
        case = dict(base)
        if name == "plan-province":
            report[name] = plan_case(a.out, data, a.seed, a.repeat)
            (a.out / "bench_distributed.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
            continue
        if name == "gaps-country":
            report[name] = bench_case(name, case, a.out, repeat=a.repeat, modes=[[], ["--workers", "2"]],
                                      command=gaps_cmd, same=_same_zones)  # fmt: skip
            (a.out / "bench_distributed.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
            continue
        if name == "big-1s":
            from make_big_raster import DEFAULT_SOURCE, make_big_raster

            case["population"] = str(a.big or make_big_raster(a.out / "big", source=DEFAULT_SOURCE, factor=30,
                                                              tile=120, seed=a.seed))  # fmt: skip
        if name == "countries":
            c_areas, c_raster = southern_country(inputs, national, areas, a.seed)
            case = {"sites": str(southland_sites(inputs, sites, a.seed)), "areas": str(c_areas),
                    "population": str(c_raster)}  # fmt: skip
        modes = [[], ["--workers", "1"], ["--workers", "2"]]
        if name == "countries":
            modes = [[], ["--workers", "2"]]
        reps = a.repeat_big if name == "big-1s" else a.repeat
        if name == "country-1km":
            report[name] = _with_scheduler(name, case, a.out, repeat=reps, modes=modes)
        else:
            report[name] = bench_case(name, case, a.out, repeat=reps, modes=modes, warm=name != "big-1s")
        cmd = [sys.executable, __file__, str(a.out), "--stats", json.dumps({**case, "workers": 2})]
        got = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        report[name]["stats_2_workers"] = json.loads(got.strip().splitlines()[-1])  # type: ignore[index]
        report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        (a.out / "bench_distributed.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items()}, indent=1, default=str)[:20000])


def _with_scheduler(
    name: str, case: dict[str, str], out: Path, *, repeat: int, modes: list[list[str]]
) -> dict:
    """The modes, plus ``--scheduler`` on two workers started before the runs (no start-up inside)."""
    with _cluster(2) as cluster:
        address = cluster.scheduler_address
        return bench_case(name, case, out, repeat=repeat, modes=[*modes, ["--scheduler", address]])


def _cluster(workers: int) -> Any:
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=":0",
        scheduler_kwargs={"dashboard": False},
    )  # fmt: skip


if __name__ == "__main__":
    main()
