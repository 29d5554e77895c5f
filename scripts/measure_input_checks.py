"""Time the input checks on the country: do the sites reach the areas, antimeridian, workbooks.

Real 2025 communes (3,321) and the real 1 km WorldPop raster from ``--data-dir``; the 105,000
sites are the benchmark's seeded synthetic ones (drawn where people live). Prints the median of
``--repeat`` runs of:

- ``check_sites_reach`` on the sites as they are (most reach an area: the check stops early),
  on the same sites moved to another continent (none reaches: every site is looked at) and
  with 5 % of them left in place (a warning: every site is looked at);
- ``split_at_antimeridian`` and the id-field check on the 3,321 communes (nothing to split);
- reading 10,000 sites from a workbook (``.xlsx``) against the same rows as CSV.

    python scripts/measure_input_checks.py [--data-dir ../shared/data] [--repeat 5]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench_worlds import MIX_WITH_5G, country_areas, default_data_dir, make_sites, national_raster

from telecov.checks import check_sites_reach
from telecov.io.antimeridian import split_at_antimeridian
from telecov.io.areas import read_areas
from telecov.io.sites import SiteTable, read_sites

REPO = Path(__file__).resolve().parents[1]


def _median(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _moved(table: SiteTable, keep: float) -> SiteTable:
    """The sites with all but a share ``keep`` of them moved 150° west (into the Indian Ocean)."""
    accepted = table.accepted
    move = np.random.default_rng(1).random(len(accepted)) >= keep
    xs = accepted.geometry.x.to_numpy() - np.where(move, 150.0, 0.0)
    points = shapely.points(xs, accepted.geometry.y.to_numpy())
    return replace(table, accepted=accepted.set_geometry(list(points), crs=accepted.crs))


def _workbook(csv_path: Path, xlsx: Path, n: int) -> Path:
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False).head(n)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Danh sách trạm BTS"])
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append(list(row))
    book.save(xlsx)
    frame.to_csv(xlsx.with_suffix(".csv"), index=False)
    return xlsx


def main() -> int:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(REPO))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.data_dir is None:
        parser.error("no --data-dir (../shared/data not found)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sites_csv = make_sites(work / "sites.csv", raster=national_raster(args.data_dir), n=100_000,
                               shares=MIX_WITH_5G, n_5g=5_000, seed=7)  # fmt: skip
        areas = read_areas(country_areas(args.data_dir), area_id="commune_code")
        sites = read_sites(sites_csv)
        print(f"{len(sites.accepted):,} synthetic sites, {len(areas.accepted):,} real communes")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cases = {
                "sites where people live": sites,
                "every site moved away (exit 2)": _moved(sites, 0.0),
                "5 % of the sites in place (warning)": _moved(sites, 0.05),
            }
            for label, table in cases.items():

                def check(t: SiteTable = table) -> None:
                    with contextlib.suppress(ValueError):
                        check_sites_reach(t, areas, selected=False)

                print(f"check_sites_reach, {label}: {_median(check, args.repeat) * 1000:.1f} ms")
        geoms = areas.accepted.geometry.to_numpy()
        t = _median(lambda: split_at_antimeridian(geoms), args.repeat)
        print(f"split_at_antimeridian on {len(geoms):,} communes: {t * 1000:.1f} ms")
        country = country_areas(args.data_dir)
        t = _median(lambda: read_areas(country, area_id="commune_code"), max(1, args.repeat // 2))
        print(f"read_areas of the country (all checks): {t:.2f} s")
        xlsx = _workbook(sites_csv, work / "sites.xlsx", 10_000)
        t_x = _median(lambda: read_sites(xlsx), args.repeat)
        t_c = _median(lambda: read_sites(xlsx.with_suffix(".csv")), args.repeat)
        print(f"10,000 sites: workbook {t_x:.2f} s, CSV {t_c:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
