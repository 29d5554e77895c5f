"""Derive the sample's villages (``data/villages.csv``) from its population raster, deterministically.

The synthetic province of ``scripts/make_sample.py`` has ~420 villages drawn as gaussian
clusters of people; this script finds them again as local maxima of the population density
(5×5-pixel mean, a peak in its 15×15-pixel neighbourhood, at least ``--min-density`` people per
km²) inside the communes, and writes one point per village at the peak pixel's centre. There is
no randomness: the same raster gives the same file. Used by ``data/plan.toml``'s fiber target
("fiber reaches 99.3 % of villages").

    python scripts/make_villages.py                 # rewrites data/villages.csv
    python scripts/make_villages.py --data-dir /tmp/sample
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from numpy.lib.stride_tricks import sliding_window_view

HERE = Path(__file__).resolve().parent


def box_mean(values: np.ndarray, size: int) -> np.ndarray:
    pad = size // 2
    padded = np.pad(values, pad, mode="constant")
    return sliding_window_view(padded, (size, size)).mean(axis=(2, 3))


def local_max(values: np.ndarray, size: int) -> np.ndarray:
    pad = size // 2
    padded = np.pad(values, pad, mode="constant", constant_values=-np.inf)
    return values >= sliding_window_view(padded, (size, size)).max(axis=(2, 3))


def villages(data_dir: Path, *, min_density: float) -> list[dict[str, str]]:
    with rasterio.open(data_dir / "population.tif") as src:
        people = src.read(1, masked=True).filled(0.0).astype(np.float64)
        transform = src.transform
    people = np.maximum(people, 0.0)
    rows = np.arange(people.shape[0])
    lat_c = transform.f + (rows + 0.5) * transform.e
    pixel_km2 = (abs(transform.a) * 111.32 * np.cos(np.radians(lat_c))) * (abs(transform.e) * 110.57)
    density = box_mean(people, 5) / pixel_km2[:, None]
    peaks = local_max(density, 15) & (density >= min_density)
    r, c = np.nonzero(peaks)
    lon = transform.c + (c + 0.5) * transform.a
    lat = transform.f + (r + 0.5) * transform.e
    communes = gpd.read_file(data_dir / "communes.gpkg", engine="pyogrio")
    tree = shapely.STRtree(communes.geometry.to_numpy())
    pt, area = tree.query(shapely.points(lon, lat), predicate="within")
    order = np.lexsort((lon[pt], -lat[pt]))  # north to south, then west to east
    out = []
    for n, k in enumerate(order, start=1):
        i = pt[k]
        out.append(
            {
                "village_id": f"V{n:04d}",
                "name": f"Thôn {n}",
                "commune_code": str(communes["commune_code"].iloc[area[k]]),
                "lon": f"{lon[i]:.6f}",
                "lat": f"{lat[i]:.6f}",
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=HERE.parent / "data")
    parser.add_argument("--out", type=Path, default=None, help="default: DATA_DIR/villages.csv")
    parser.add_argument("--min-density", type=float, default=400.0, help="people per km² at the peak")
    args = parser.parse_args(argv)
    rows = villages(args.data_dir, min_density=args.min_density)
    out = args.out or args.data_dir / "villages.csv"
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["village_id", "name", "commune_code", "lon", "lat"],
                                lineterminator="\n")  # fmt: skip
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} villages -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
