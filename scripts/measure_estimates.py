"""Compare telecov's resource estimate with measured runs: peak memory, output size and time.

Each case runs ``telecov -vv report`` in its own process; the estimate is read from the debug
line ``resource estimate: peak_bytes=... resident_bytes=...`` and compared with the process's
peak RSS minus what it held when it estimated, with the size of the files written and with
the wall time. The estimate must not fall short (ratio ≥ 1 for memory is the aim; it is the
figure a run is refused by).

Cases: the bundled sample; the corpus' small world at ever finer ``--resolution`` (scan strips
dominate); with ``../shared/data``: Hà Tĩnh's 69 communes with 5,000 and 50,000 synthetic sites,
finer resolutions, hundreds of operators with ``--by operator`` (layers dominate), exports of
every footprint, and the country (3,321 communes, 105,000 sites). Sites are synthetic and seeded.

    python scripts/measure_estimates.py [--data-dir ../shared/data] [--only NAME ...] [--repeat 1]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _bench_worlds as worlds

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "bad_inputs"
ESTIMATE = re.compile(
    r"resource estimate: peak_bytes=(\d+) output_bytes=(\d+) seconds=([\d.]+) resident_bytes=(\d+|None)"
    r".* drivers=(\S*)"
)


def telecov() -> list[str]:
    beside = Path(sys.executable).parent / "telecov"
    return [str(beside)] if beside.is_file() else [sys.executable, "-m", "telecov.cli"]


def run_case(args: list[str], work: Path) -> dict[str, object]:
    """Run ``telecov -vv report *args`` into a fresh folder; estimate and measurements."""
    out = work / "out"
    if out.exists():
        for p in out.iterdir():
            p.unlink()
    cmd = [*telecov(), "-vv", "report", *args, "--out", str(out), "--format", "csv"]
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, cwd=work)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        err.seek(0)
        text = err.read()
    code = os.waitstatus_to_exitcode(status)
    match = ESTIMATE.search(text)
    if match is None:
        return {"exit": code, "error": text[-800:]}
    peak, outputs, seconds, resident, drivers = match.groups()
    written = sum(p.stat().st_size for p in out.iterdir()) if out.is_dir() else 0
    held = int(resident) if resident != "None" else 0
    return {
        "exit": code, "estimate_mb": int(peak) / 1e6, "measured_mb": (usage.ru_maxrss * 1024 - held) / 1e6,
        "estimate_out_mb": int(outputs) / 1e6, "written_mb": written / 1e6,
        "estimate_s": float(seconds), "wall_s": wall,
        **{f"d_{k}": float(v) for k, v in (item.split(":") for item in drivers.split(",") if item)},
    }  # fmt: skip


def with_operators(src: Path, dst: Path, k: int) -> Path:
    """A copy of a sites CSV whose operator is one of ``k`` names (``OP0`` … ``OP{k-1}``)."""
    with src.open(newline="", encoding="utf-8") as fi, dst.open("w", newline="", encoding="utf-8") as fo:
        r, w = csv.reader(fi), csv.writer(fo)
        header = next(r)
        w.writerow(header)
        op = header.index("operator")
        for i, row in enumerate(r):
            row[op] = f"OP{i % k}"
            w.writerow(row)
    return dst


def cases(data: Path | None, work: Path) -> dict[str, list[str]]:
    """Case name → ``report`` arguments."""
    base = ["--sites", str(CORPUS / "base_sites.csv"), "--areas", str(CORPUS / "base_areas.geojson"),
            "--population", str(CORPUS / "base_population.tif"), "--no-map"]  # fmt: skip
    out = {"sample": [], "sample-map": ["--export", "gpkg"]}
    for res in ("10", "0.05", "0.01", "0.004", "0.002"):
        out[f"corpus-res-{res}"] = [*base, "--resolution", res]
    if data is None:
        return out
    ha_areas, ha_raster = worlds.province_areas(data, work), worlds.province_raster(data)
    sites5 = worlds.make_sites(work / "ha5k.csv", raster=ha_raster, n=5000, shares=worlds.MIX_WITH_5G, seed=5)
    sites50 = worlds.make_sites(
        work / "ha50k.csv", raster=ha_raster, n=50000, shares=worlds.MIX_WITH_5G, seed=6
    )
    ha = ["--areas", str(ha_areas), "--population", str(ha_raster), "--area-id", "commune_code", "--no-map"]
    by = ["--by", "operator"]
    out |= {
        "hatinh-5k": ["--sites", str(sites5), *ha],
        "hatinh-50k": ["--sites", str(sites50), *ha],
        "hatinh-5k-res-1": ["--sites", str(sites5), *ha, "--resolution", "1"],
        "hatinh-5k-res-0.25": ["--sites", str(sites5), *ha, "--resolution", "0.25"],
        "hatinh-5k-300-operators": [
            "--sites",
            str(with_operators(sites5, work / "op300.csv", 300)),
            *ha,
            *by,
        ],
        "hatinh-5k-2000-operators": [
            "--sites",
            str(with_operators(sites5, work / "op2k.csv", 2000)),
            *ha,
            *by,
        ],
        "hatinh-50k-exports": ["--sites", str(sites50), *ha, "--export", "gpkg", "--export", "geojson"],
    }
    national = worlds.national_raster(data)
    sites105 = worlds.make_sites(work / "vn105k.csv", raster=national, n=100000, shares=worlds.MIX_WITHOUT_5G,
                                 n_5g=5000, seed=7)  # fmt: skip
    country = ["--areas", str(worlds.country_areas(data)), "--population", str(national)]
    out["country-105k"] = ["--sites", str(sites105), *country, "--area-id", "commune_code", "--no-map"]
    return out


def line(row: dict[str, object]) -> str:
    """One case as a line of the printed table."""
    r = {k: float(v) for k, v in row.items() if k != "case"}
    return (
        f"{row['case']:26s} memory est {r['estimate_mb']:9.0f} MB measured {r['measured_mb']:8.0f} MB "
        f"(×{r['estimate_mb'] / max(r['measured_mb'], 1):.2f})  outputs est {r['estimate_out_mb']:8.1f} MB "
        f"written {r['written_mb']:8.1f} MB  time est {r['estimate_s']:7.1f} s wall {r['wall_s']:6.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=worlds.default_data_dir(ROOT))
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "telecov-estimates")
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--repeat", type=int, default=1)
    a = parser.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    rows = []
    print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
    for name, args in cases(a.data_dir, a.work).items():
        if a.only and name not in a.only:
            continue
        runs = [run_case(args, a.work) for _ in range(a.repeat)]
        if any("error" in r for r in runs):
            print(f"{name}: no estimate (exit {runs[0]['exit']}): {runs[0].get('error')}", flush=True)
            continue
        row = {"case": name, **{k: statistics.median(float(r[k]) for r in runs) for k in runs[0]}}
        rows.append(row)
        print(line(row), flush=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
