"""Make the bundled SYNTHETIC demo province in ``data/`` (communes, population raster, sites).

Everything is invented from a seeded random generator: the province outline, the commune
borders, the names, the people, the sites (part of them with radio columns) and the terrain.
Nothing here is a real boundary, a real tower or a real elevation.
Rerunning with the same ``--seed`` writes byte-identical files.

Usage::

    python scripts/make_sample.py            # writes data/communes.gpkg, population.tif, sites.csv, dem.tif
    python scripts/make_sample.py --out /tmp/sample --seed 7
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import math
import os
from pathlib import Path

# GeoPackage stores "last change" timestamps; pin them so reruns are byte-identical.
# GDAL reads config options from the environment when it needs them, so set this early.
os.environ["OGR_CURRENT_DATE"] = "2025-07-01T00:00:00.000Z"

import geopandas as gpd
import numpy as np
import pyogrio
import rasterio
import shapely
from _sample_land import NODATA, RES, Grid, make_communes, make_land, make_population, make_towns, pick_seeds
from _sample_sites import (
    DEFAULT_RADIUS,
    RADIO_FIELDS,
    TECH_SPELLINGS_INV,
    add_radio,
    coverage_share,
    make_sites,
)
from _sample_terrain import dem_grid, make_terrain, write_dem
from numpy.typing import NDArray
from rasterio.features import rasterize
from shapely.geometry import MultiPolygon, Polygon, box

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "data"
DEFAULT_SEED = 20250701

PROVINCE = "Tỉnh Mẫu"

XA_FIRST = [
    "Cẩm",
    "Thạch",
    "Kỳ",
    "Hương",
    "Sơn",
    "Đức",
    "Xuân",
    "Thiên",
    "Phú",
    "Hòa",
    "An",
    "Tân",
    "Yên",
    "Gia",
    "Quang",
    "Hồng",
    "Vĩnh",
    "Tùng",
    "Mỹ",
    "Đồng",
    "Trường",
    "Thịnh",
]
XA_SECOND = [
    "Bình",
    "Lạc",
    "Trung",
    "Hưng",
    "Lâm",
    "Khê",
    "Ngọc",
    "Phong",
    "Tiến",
    "Đô",
    "Trạch",
    "Liên",
    "Lộc",
    "Trà",
    "Thủy",
    "Thịnh",
    "Châu",
    "Hải",
    "Mỹ",
    "Long",
    "Thành",
    "Vinh",
    "Điền",
    "Giang",
    "Thọ",
    "Phúc",
    "Nam",
    "Bắc",
    "Đông",
    "Tây",
    "Minh",
    "Hợp",
    "Nghĩa",
]
PHUONG_NAMES = [
    "Bắc Hà",
    "Nam Hà",
    "Trần Phú",
    "Hưng Trí",
    "Thạch Quý",
    "Đại Nài",
    "Văn Yên",
    "Tân Giang",
    "Nguyễn Du",
    "Hà Huy Tập",
    "Sông Trí",
    "Hoành Sơn",
    "Trung Lương",
    "Đậu Liêu",
    "Bắc Hồng",
    "Nam Hồng",
    "Lê Lợi",
    "Quang Trung",
]


# ----------------------------------------------------------------------------- writing


def write_communes(path: Path, gdf: gpd.GeoDataFrame) -> None:
    """Write the GeoPackage layer ``communes`` (replacing the file)."""
    path.unlink(missing_ok=True)
    # keep Polygon and MultiPolygon as they are (a generic GEOMETRY layer, allowed by GPKG)
    pyogrio.write_dataframe(
        gdf,
        path,
        layer="communes",
        driver="GPKG",
        geometry_type="Unknown",
        promote_to_multi=False,
    )


def write_raster(path: Path, grid: Grid, people: NDArray[np.float32]) -> None:
    """Write the population GeoTIFF: float32, tiled, DEFLATE with the float predictor."""
    path.unlink(missing_ok=True)
    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": grid.transform,
        "nodata": NODATA,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
        "predictor": 3,
        "zlevel": 9,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(people, 1)
        dst.update_tags(
            1,
            units="people per pixel",
            description="SYNTHETIC population of a demo province (scripts/make_sample.py)",
        )


def write_sites(path: Path, sites: list[dict[str, str]]) -> None:
    """Write the sites CSV (UTF-8, LF line ends)."""
    fields = ["site_id", "operator", "technology", "lon", "lat", "radius_m", "azimuth", "beamwidth", "status",
              *RADIO_FIELDS]  # fmt: skip
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(sites)


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- main


def commune_names(rng: np.random.Generator, kinds: list[str]) -> list[str]:
    """Unique invented Vietnamese names with the ``Xã``/``Phường`` prefix."""
    combos = [f"{a} {b}" for a in XA_FIRST for b in XA_SECOND if a != b]
    xa = iter(rng.permutation(combos).tolist())
    phuong = iter(rng.permutation(PHUONG_NAMES).tolist())
    return [f"Phường {next(phuong)}" if k == "phường" else f"Xã {next(xa)}" for k in kinds]


def _grid_over(geoms: list[Polygon | MultiPolygon]) -> Grid:
    """The pixel grid over the communes with a 0.02° margin, snapped to whole pixels."""
    minx, miny, maxx, maxy = shapely.union_all(geoms).bounds
    west = math.floor((minx - 0.02) / RES) * RES
    north = math.ceil((maxy + 0.02) / RES) * RES
    return Grid(
        west=round(west, 9),
        north=round(north, 9),
        width=math.ceil((maxx + 0.02 - west) / RES),
        height=math.ceil((north - miny + 0.02) / RES),
    )


def build(out: Path, seed: int) -> dict[str, object]:
    """Generate all sample files into ``out`` and return a summary."""
    rng = np.random.default_rng(seed)
    province, sea, phases = make_land(rng)
    towns = make_towns(rng, phases)
    seeds, kinds, enclave_at = pick_seeds(rng, province, towns, phases)
    geoms, enclave_index, island_index = make_communes(rng, province, sea, seeds, enclave_at)
    kinds.append("phường")  # the enclave town

    # codes run north to south like real statistical codes
    cent = shapely.centroid(np.array(geoms, dtype=object))
    order = sorted(range(len(geoms)), key=lambda i: (-round(cent[i].y, 6), round(cent[i].x, 6)))
    names = commune_names(rng, [kinds[i] for i in order])

    grid = _grid_over(geoms)
    frame = box(
        grid.west - 1, grid.north - grid.height * RES - 1, grid.west + grid.width * RES + 1, grid.north + 1
    )
    islets = [g for g in shapely.get_parts(geoms[island_index]) if g.within(sea)]
    assert len(islets) == 2
    land = [frame.difference(sea), *islets]
    ids = rasterize(
        ((geoms[i], k + 1) for k, i in enumerate(order)),
        out_shape=(grid.height, grid.width),
        transform=grid.transform,
        dtype="int32",
    )
    province_mask = ids > 0
    people = make_population(rng, grid, land, province_mask, towns, phases)

    pop = np.where(people > 0, people, 0.0).astype(np.float64)
    raster_sum = np.bincount(ids.ravel(), weights=pop.ravel(), minlength=len(geoms) + 1)
    factor = np.clip(rng.normal(1.0, 0.08, len(geoms)), 0.82, 1.18)
    official = [int(round(raster_sum[k + 1] * factor[k], -1)) for k in range(len(geoms))]

    # the two least populated inland communes get no dedicated 4G site (weak 4G)
    density = [raster_sum[k + 1] / geoms[i].area for k, i in enumerate(order)]
    weak = [int(k) + 1 for k in np.argsort(density)[:2]]
    sites = make_sites(rng, grid, people, ids, weak)
    # radio columns and terrain draw from their own generators: the files above stay as they were
    add_radio(np.random.default_rng([seed, 1]), sites, grid, people)
    relief = dem_grid(grid)
    elevation = make_terrain(np.random.default_rng([seed, 2]), relief, phases, towns)

    gdf = gpd.GeoDataFrame(
        {
            "commune_code": [f"{101 + 3 * k:05d}" for k in range(len(order))],
            "commune_name": names,
            "province": [PROVINCE] * len(order),
            "kind": [kinds[i] for i in order],
            "population": np.array(official, dtype=np.int64),
        },
        geometry=[geoms[i] for i in order],
        crs="EPSG:4326",
    )
    out.mkdir(parents=True, exist_ok=True)
    write_communes(out / "communes.gpkg", gdf)
    write_raster(out / "population.tif", grid, people)
    write_sites(out / "sites.csv", sites)
    write_dem(out / "dem.tif", relief, elevation)

    shares = {t: coverage_share(grid, people, sites, t, ids) for t in DEFAULT_RADIUS}
    return {
        "communes": len(gdf),
        "enclave": gdf.commune_name.iloc[order.index(enclave_index)],
        "island": gdf.commune_name.iloc[order.index(island_index)],
        "weak_4g": [gdf.commune_name.iloc[k - 1] for k in weak],
        "province_population": float(pop[province_mask].sum()),
        "official_population": int(sum(official)),
        "raster": f"{grid.width}x{grid.height}",
        "rows": len(sites),
        "per_technology": {
            t: sum(1 for s in sites if TECH_SPELLINGS_INV[s["technology"]] == t) for t in DEFAULT_RADIUS
        },
        "radio_rows": {
            t: sum(1 for s in sites if s["band"] and TECH_SPELLINGS_INV[s["technology"]] == t)
            for t in DEFAULT_RADIUS
        },
        "dem": f"{relief.width}x{relief.height}, {int(elevation.min())}..{int(elevation.max())} m",
        "approx_population_covered_fixed_radii": {t: round(100 * v[0], 1) for t, v in shares.items()},
        "communes_without_5g": int(np.sum(shares["5G"][1][1:] < 0.01)),
        "communes_4g_below_50pct": int(np.sum(shares["4G"][1][1:] < 0.5)),
        "sha256": {p.name: sha256(p) for p in sorted(out.glob("*")) if p.suffix in (".gpkg", ".tif", ".csv")},
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default data/)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    ap.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    args = ap.parse_args(argv)
    summary = build(args.out, args.seed)
    if not args.quiet:
        for key, value in summary.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
