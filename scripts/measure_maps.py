"""Measure the size and build time of coverage maps at province and country scale.

Province: Hà Tĩnh's 69 real communes, its WorldPop raster and 5,000 synthetic sites.
Country: all 3,321 communes of Vietnam, the 1 km WorldPop raster and 100,000 synthetic sites;
and the same with 1,000,000 sites, whose markers the map samples to stay under 10 MB.
Sites are synthetic (seeded, spread over the communes in proportion to their area; a mix of
technologies, operators, sectors and planned sites). With Chromium and Playwright present,
the opening time of each map in headless Chromium (network blocked) is measured too.

    python scripts/measure_maps.py [--data-dir ../shared/data] [--out /tmp/telecov-maps]
        [--only province|country] [--no-browser]
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import telecov
from telecov.maps.html import coverage_map, save_map

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
LIMITS_MB = {"province": 10.0, "country": 10.0, "country-1M": 10.0}
"""A map stays under 10 MB whatever the number of sites (markers sampled beyond a budget)."""
BROWSER_LIMIT_S = 5.0


def synthetic_sites(areas: gpd.GeoDataFrame, n: int, *, seed: int) -> pd.DataFrame:
    """``n`` seeded sites spread over the areas in proportion to their (degree) area."""
    rng = np.random.default_rng(seed)
    weight = shapely.area(areas.geometry.to_numpy())  # degrees² are fine for weights
    counts = rng.multinomial(n, weight / weight.sum())
    points = areas.geometry.sample_points(size=counts, rng=rng).explode(index_parts=False)
    points = points[~points.is_empty].to_numpy()[:n]
    m = len(points)
    tech = rng.choice(["2G", "3G", "4G", "5G", "fiber"], m, p=[0.2, 0.15, 0.4, 0.05, 0.2])
    sector = rng.random(m) < 0.1
    return pd.DataFrame(
        {
            "site_id": [f"S{i:06d}" for i in range(m)],
            "operator": rng.choice(["Viettel", "VNPT", "MobiFone"], m, p=[0.5, 0.3, 0.2]),
            "technology": tech,
            "lon": np.round([p.x for p in points], 6),
            "lat": np.round([p.y for p in points], 6),
            "azimuth": np.where(sector, rng.integers(0, 360, m), np.nan),
            "status": np.where(rng.random(m) < 0.03, "planned", "existing"),
        }
    )


def browser_open_seconds(html: Path) -> float | None:
    """Seconds from navigation until communes and markers are drawn, in headless Chromium; None if absent."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(CHROMIUM).exists():
        return None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.route(
            "**/*",
            lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort(),
        )
        t0 = time.perf_counter()
        page.goto(html.as_uri(), wait_until="load", timeout=120_000)
        page.wait_for_function(
            "document.querySelectorAll('.leaflet-overlay-pane path').length > 0", timeout=120_000
        )
        page.wait_for_function(  # and the shown technology's markers: clusters or single sites
            "document.querySelectorAll('.tc-cluster, .tc-site').length > 0", timeout=120_000
        )
        seconds = time.perf_counter() - t0
        browser.close()
    return seconds


def measure(name: str, areas: Path, population: Path, n_sites: int, out: Path, browser: bool) -> dict:
    frame = gpd.read_file(areas)
    with tempfile.TemporaryDirectory() as tmp:
        sites_csv = Path(tmp) / "sites.csv"
        synthetic_sites(frame, n_sites, seed=7).to_csv(sites_csv, index=False)
        t0 = time.perf_counter()
        result = telecov.analyze(sites_csv, areas, population, parent="province_name")
        t_analyze = time.perf_counter() - t0
    t0 = time.perf_counter()
    fmap = coverage_map(result)
    t_map = time.perf_counter() - t0
    html = out / f"{name}.html"
    t0 = time.perf_counter()
    save_map(fmap, html)
    t_save = time.perf_counter() - t0
    size_mb = html.stat().st_size / 1e6
    row = {
        "map": name,
        "areas": len(result.areas),
        "sites": len(result.sites),
        "size_mb": round(size_mb, 2),
        "limit_mb": LIMITS_MB[name],
        "analyze_s": round(t_analyze, 1),
        "coverage_map_s": round(t_map, 1),
        "save_s": round(t_save, 1),
        "browser_open_s": None,
        "markers": None,
        "file": str(html),
    }
    text = html.read_text(encoding="utf-8")
    sampled = "a random sample of" in text
    row["markers"] = "sampled" if sampled else "all"
    if browser:
        seconds = browser_open_seconds(html)
        row["browser_open_s"] = None if seconds is None else round(seconds, 1)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "telecov-maps")
    parser.add_argument("--only", choices=["province", "country", "country-1M"])
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    vn = args.data_dir / "vietnam"
    cases = {
        "province": (vn / "ha_tinh_communes_2025.geojson", vn / "worldpop_ha_tinh_2020.tif", 5_000),
        "country": (vn / "communes_2025.gpkg", vn / "worldpop_vnm_2020_1km.tif", 100_000),
        "country-1M": (vn / "communes_2025.gpkg", vn / "worldpop_vnm_2020_1km.tif", 1_000_000),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    browser = not args.no_browser and shutil.which(CHROMIUM) is not None
    rows = []
    for name, (areas, population, n_sites) in cases.items():
        if args.only and name != args.only:
            continue
        row = measure(name, areas, population, n_sites, args.out, browser)
        rows.append(row)
        verdict = "ok" if row["size_mb"] < row["limit_mb"] else "TOO LARGE"
        opened = row["browser_open_s"]
        slow = "" if opened is None or opened < BROWSER_LIMIT_S else " (TOO SLOW)"
        print(
            f"{name:10s} {row['areas']:5d} areas {row['sites']:9,d} sites, markers {row['markers']}  "
            f"{row['size_mb']:6.2f} MB (limit {row['limit_mb']:.0f} MB, {verdict})  "
            f"map {row['coverage_map_s']:.1f} s + save {row['save_s']:.1f} s  "
            f"browser {opened if opened is not None else '–'} s{slow}",
            flush=True,
        )
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
