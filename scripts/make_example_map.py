"""Regenerate the committed example map of the bundled sample and the README screenshot.

Writes ``maps/sample_coverage.html`` (the interactive map, self-contained and offline) and
``maps/sample_coverage.png`` (the static figure, as ``telecov map --png`` draws it). Output
is deterministic: the same sample gives byte-identical HTML.

With ``--terrain`` it also analyses the sample over its synthetic DEM (as ``telecov report --dem
sample`` does), opens that map in headless Chromium (Playwright, ``/usr/bin/chromium``, network
blocked), shows a technology's footprints, zooms on the terrain-shadowed footprints and writes
the screenshot ``maps/sample_terrain.png``.

    python scripts/make_example_map.py [--out maps] [--technology 4G] [--metric population]
    python scripts/make_example_map.py --terrain [--terrain-technology 2G]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import shapely

import telecov
from telecov.maps.html import coverage_map, save_map
from telecov.maps.png import coverage_png

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 860}


def shadow_bounds(result: telecov.Result, technology: str) -> tuple[float, float, float, float]:
    """Lon/lat box around the footprint of ``technology`` with the most shadow (hole) area."""
    shapes = result.footprints(technology).geometry
    holes = [sum(shapely.Polygon(r).area for p in shapely.get_parts(g) for r in p.interiors) for g in shapes]
    most = max(range(len(shapes)), key=lambda i: holes[i])
    return tuple(shapes.iloc[most].bounds)  # type: ignore[return-value]


def terrain_screenshot(result: telecov.Result, path: Path, *, technology: str) -> Path:
    """Open the map of ``result`` in headless Chromium, show the footprints, save a screenshot."""
    from playwright.sync_api import sync_playwright

    west, south, east, north = shadow_bounds(result, technology)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        page_path = save_map(coverage_map(result, technology=technology), Path(tmp) / "terrain.html")
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport=VIEWPORT)
        page.route(
            "**/*",
            lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort(),
        )
        page.goto(page_path.as_uri())
        page.wait_for_function("window.telecov && telecov.instances.length > 0")
        page.get_by_text(f"{technology} footprints", exact=False).click()
        page.evaluate(
            "(b) => telecov.instances[0].map.fitBounds([[b[1], b[0]], [b[3], b[2]]], {padding: [20, 20]})",
            [west, south, east, north],
        )
        page.wait_for_timeout(1500)
        page.screenshot(path=str(path))
        browser.close()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "maps", help="folder (default: maps/)")
    parser.add_argument("--technology", default="4G")
    parser.add_argument("--metric", default="population", choices=["population", "residential", "area"])
    parser.add_argument("--terrain", action="store_true", help="also write maps/sample_terrain.png")
    parser.add_argument("--terrain-technology", default="2G", help="footprints shown on it (default 2G)")
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
    if args.terrain:
        t4 = time.perf_counter()
        shaded = telecov.analyze(dem=telecov.sample_path("dem.tif"))
        t5 = time.perf_counter()
        shot = terrain_screenshot(shaded, args.out / "sample_terrain.png", technology=args.terrain_technology)
        print(f"with the DEM: analysis {t5 - t4:.1f} s; {shot.name}: {shot.stat().st_size / 1e3:.0f} kB")
        for tech in ("2G", "3G", "4G", "5G", "fiber"):
            flat = result.table.query("level == 'total' and technology == @tech").iloc[0]
            hilly = shaded.table.query("level == 'total' and technology == @tech").iloc[0]
            print(f"  {tech}: {flat.population_pct:.2f} % of the population without the DEM, "
                  f"{hilly.population_pct:.2f} % with it")  # fmt: skip


if __name__ == "__main__":
    main()
