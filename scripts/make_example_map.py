"""Regenerate the committed example map of the bundled sample and the README screenshot.

Writes ``maps/sample_coverage.html`` (the interactive map, self-contained and offline) and
``maps/sample_coverage.png`` (the static figure, as ``telecov map --png`` draws it). Output
is deterministic: the same sample gives byte-identical HTML.

    python scripts/make_example_map.py [--out maps] [--technology 4G] [--metric population]
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import telecov
from telecov.maps.html import coverage_map, save_map
from telecov.maps.png import coverage_png

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "maps", help="folder (default: maps/)")
    parser.add_argument("--technology", default="4G")
    parser.add_argument("--metric", default="population", choices=["population", "residential", "area"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    t0 = time.perf_counter()
    result = telecov.analyze()  # the bundled sample
    t1 = time.perf_counter()
    html = save_map(
        coverage_map(result, technology=args.technology, metric=args.metric),
        args.out / "sample_coverage.html",
    )
    t2 = time.perf_counter()
    png = coverage_png(
        result, args.out / "sample_coverage.png", technology=args.technology, metric=args.metric
    )
    t3 = time.perf_counter()
    print(f"sample: {len(result.areas)} areas, {len(result.sites)} sites (analysis {t1 - t0:.1f} s)")
    print(f"{html.relative_to(ROOT) if html.is_relative_to(ROOT) else html}: "
          f"{html.stat().st_size / 1e6:.2f} MB in {t2 - t1:.1f} s")  # fmt: skip
    print(f"{png.relative_to(ROOT) if png.is_relative_to(ROOT) else png}: "
          f"{png.stat().st_size / 1e3:.0f} kB in {t3 - t2:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
