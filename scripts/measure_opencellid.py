"""Cells → sites on the OpenCelliD Uruguay sample: the table, the splits, the options' effect, the time.

Prints Markdown:

1. the summary per technology and operator (cells → sites, rule, share of CIs ending in 1-9,
   cells per site, spread of the sites' cells) with the default options;
2. the nodes (eNBs, NodeBs, BTSs) that ``--split-distance`` cut into several sites, and how far
   apart the parts are (a reused id lies tens of km away; a noisy position a few km);
3. the median distance from a cell to the nearest cell of its operator and radio, and total
   sites for other values of ``--split-distance``, ``--group-distance`` and
   ``--sector-digit-share``;
4. the wall time of ``import_cells`` on the sample (median of ``--repeat`` in-process runs after
   one untimed run, which loads or compiles the numba kernel), and the machine's load.

Usage::

    python scripts/measure_opencellid.py [--data-dir ../shared/data] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Geod

from telecov.opencellid import import_cells

GEOD = Geod(ellps="WGS84")


def _summary_table(result) -> str:
    lines = [
        "| technology | operator | cells | sites | rule | CI 1-9 | cells/site "
        "| spread median / p90 / max (m) |",
        "|---|---|---:|---:|---|---:|---:|---:|",
    ]
    for row in result.summary.itertuples(index=False):
        share = "" if np.isnan(row.sector_digit_share) else f"{100 * row.sector_digit_share:.1f} %"
        rule = {"enb": "eNB", "gnb": "gNB", "sector-digit": "CI // 10", "proximity": "proximity"}[row.rule]
        rule += (
            f", {row.distance_m:,.0f} m" if row.rule == "proximity" else f", split {row.distance_m:,.0f} m"
        )
        spread = f"{row.spread_median_m:,.0f} / {row.spread_p90_m:,.0f} / {row.spread_max_m:,.0f}"
        lines.append(f"| {row.technology} | {row.operator} | {row.cells:,} | {row.sites:,} | {rule} "
                     f"| {share} | {row.cells_per_site:.2f} | {spread} |")  # fmt: skip
    for row in result.by_technology.itertuples(index=False):
        lines.append(
            f"| {row.technology} | all | {row.cells:,} | {row.sites:,} | | | {row.cells_per_site:.2f} | |"
        )
    lines.append(f"| total | | {result.used:,} | {len(result.sites):,} | | | "
                 f"{result.used / len(result.sites):.2f} | |")  # fmt: skip
    return "\n".join(lines)


def _split_table(result) -> str:
    sites = result.sites
    parts = sites[sites["site_id"].str.contains("/", regex=False)].copy()
    parts["base"] = parts["site_id"].str.split("/").str[0]
    lines = [
        "| technology | operator | nodes split | sites they make | part → nearest other part, median (m) "
        "| parts > 20 km apart | one-cell parts |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for (tech, operator), group in parts.groupby(["technology", "operator"]):
        nearest = []
        for _, node in group.groupby("base"):
            lon, lat = node["lon"].to_numpy(), node["lat"].to_numpy()
            for k in range(len(node)):
                _, _, d = GEOD.inv(np.full(len(node) - 1, lon[k]), np.full(len(node) - 1, lat[k]),
                                   np.delete(lon, k), np.delete(lat, k))  # fmt: skip
                nearest.append(float(np.min(d)))
        far = np.array(nearest)
        lines.append(f"| {tech} | {operator} | {group['base'].nunique():,} | {len(group):,} | "
                     f"{np.median(far):,.0f} | {100 * np.mean(far > 20_000):.0f} % | "
                     f"{100 * np.mean(group['cells'] == 1):.0f} % |")  # fmt: skip
    return "\n".join(lines)


def _options_table(path: Path) -> str:
    lines = ["| options | 2G sites | 3G sites | 4G sites | total |", "|---|---:|---:|---:|---:|"]
    variants: list[tuple[str, dict[str, float]]] = [
        ("defaults (split 2 km, group 500 m, share 0.9)", {}),
        *[(f"--split-distance {d:g}", {"split_distance_m": d}) for d in (1000, 5000, 10000, 20000)],
        *[(f"--group-distance {d:g}", {"group_distance_m": d}) for d in (50, 250, 1000)],
        ("--sector-digit-share 0.95", {"sector_digit_share": 0.95}),
    ]
    for label, options in variants:
        by = import_cells(path, **options).by_technology.set_index("technology")["sites"]
        lines.append(f"| {label} | {by.get('2G', 0):,} | {by.get('3G', 0):,} | {by.get('4G', 0):,} | "
                     f"{int(by.sum()):,} |")  # fmt: skip
    return "\n".join(lines)


def _enb_reuse(path: Path, result) -> str:
    """LTE cells grouped by eNB alone (the grouping before the split) against the sites now."""
    raw = pd.read_csv(path, dtype={"radio": str})
    lte = raw[raw["radio"] == "LTE"].assign(enb=lambda f: f["cell"] // 256)
    mean = lte.groupby(["net", "enb"])[["lon", "lat"]].transform("mean")
    _, _, d = GEOD.inv(
        lte["lon"].to_numpy(), lte["lat"].to_numpy(), mean["lon"].to_numpy(), mean["lat"].to_numpy()
    )
    worst = pd.Series(d, index=lte.index).groupby([lte["net"], lte["enb"]]).max()
    now = result.sites[result.sites["technology"] == "4G"]
    return (
        f"LTE by eNB alone, site at the mean: {len(worst):,} sites, {int((worst > 10_000).sum())} with a "
        f"cell more than 10 km from the site (up to {worst.max() / 1000:,.0f} km). Now: {len(now):,} sites, "
        f"largest spread {now['spread_m'].max() / 1000:.1f} km."
    )


def _nearest_cells(path: Path) -> str:
    """Median distance from a cell to the nearest other cell of its operator and radio."""
    raw = pd.read_csv(path, dtype={"radio": str})
    parts = []
    for (radio, net), group in raw.groupby(["radio", "net"]):
        lon, lat = group["lon"].to_numpy(), group["lat"].to_numpy()
        best = np.full(len(group), np.inf)
        for k in range(len(group)):
            near = (np.abs(lat - lat[k]) < 0.2) & (np.abs(lon - lon[k]) < 0.2)
            near[k] = False
            if near.any():
                _, _, d = GEOD.inv(
                    np.full(near.sum(), lon[k]), np.full(near.sum(), lat[k]), lon[near], lat[near]
                )
                best[k] = d.min()
        parts.append(f"{radio} {net:02d}: {np.median(best):,.0f} m")
    return "Median distance to the nearest cell of the same operator and radio: " + "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    path = args.data_dir / "opencellid" / "sample.csv"
    start = time.perf_counter()
    result = import_cells(path)
    first = time.perf_counter() - start
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        import_cells(path)
        times.append(time.perf_counter() - start)
    print(f"## {path.name}: {result.read:,} cells read, {result.used:,} used, "
          f"{len(result.rejected):,} refused, {len(result.sites):,} sites\n")  # fmt: skip
    print(_summary_table(result), "\n")
    reasons = (result.rejected["field"] + ": " + result.rejected["reason"]).value_counts()
    print("Refused:", "; ".join(f"{n} × {r}" for r, n in reasons.items()), "\n")
    print(_enb_reuse(path, result), "\n")
    print(_nearest_cells(path), "\n")
    print("### Nodes split by --split-distance\n")
    print(_split_table(result), "\n")
    print("### Sites for other options\n")
    print(_options_table(path), "\n")
    load = os.getloadavg()
    print(f"import_cells: first call {first:.2f} s (loads or compiles the kernel), then median "
          f"{statistics.median(times):.2f} s of {args.repeat} (min {min(times):.2f}, "
          f"max {max(times):.2f}); load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
          f"on {os.cpu_count()} cores")  # fmt: skip
    print(pd.Timestamp.now().isoformat(timespec="seconds"))


if __name__ == "__main__":
    main()
