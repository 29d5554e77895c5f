"""Make a SYNTHETIC, seeded elevation model (GeoTIFF) for the bundled demo province.

The terrain is invented: a coastal plain in the east rising to a mountain range in the west,
with seeded hills, ridges and valleys. Nothing here is a real elevation. The extent is that of
``data/communes.gpkg`` plus a margin (so footprints at the edge have terrain), in any CRS
(lon/lat by default, or e.g. ``--crs EPSG:32648`` for UTM 48N). Rerunning with the same
arguments writes a byte-identical file.

Usage::

    python scripts/make_dem.py                       # writes data/dem.tif (3 arc-seconds, m)
    python scripts/make_dem.py --out /tmp/dem_utm.tif --crs EPSG:32648 --pixel 90
    python scripts/make_dem.py --unit ft --out /tmp/dem_ft.tif
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pyogrio
import rasterio
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from rasterio.transform import from_origin

DATA = Path(__file__).resolve().parent.parent / "data"
DEFAULT_SEED = 20250714
MARGIN_DEG = 0.15  # ~16 km: the reach of a rural 900 MHz site
FOOT_M = 0.3048

Floats = NDArray[np.float64]


def province_bounds(communes: Path) -> tuple[float, float, float, float]:
    """Lon/lat bounds of the communes, widened by the margin."""
    w, s, e, n = pyogrio.read_info(communes)["total_bounds"]
    return (w - MARGIN_DEG, s - MARGIN_DEG, e + MARGIN_DEG, n + MARGIN_DEG)


def _bump(x: Floats, y: Floats, cx: float, cy: float, along: float, across: float, angle: float) -> Floats:
    """Unit Gaussian bump elongated along ``angle`` (radians), sizes in km."""
    c, s = math.cos(angle), math.sin(angle)
    u = (x - cx) * c + (y - cy) * s
    v = -(x - cx) * s + (y - cy) * c
    return np.exp(-((u / along) ** 2) - (v / across) ** 2)


def terrain(x: Floats, y: Floats, *, seed: int) -> Floats:
    """Elevation (m) on local east/north km coordinates centred on the province."""
    rng = np.random.default_rng(seed)
    span_x = float(x.max() - x.min())
    west = np.clip((x.max() - x) / span_x, 0.0, 1.0)
    z = 5.0 + 900.0 * west**2.2  # plain at the coast, mountains inland
    for _ in range(40):  # hills
        cx, cy = rng.uniform(x.min(), x.max()), rng.uniform(y.min(), y.max())
        size = rng.uniform(1.5, 5.0)
        z += rng.uniform(60.0, 450.0) * _bump(
            x, y, cx, cy, size, size * rng.uniform(0.6, 1.0), rng.uniform(0, math.pi)
        )
    for _ in range(8):  # ridges across the range, north-west to south-east
        cx, cy = rng.uniform(x.min(), x.min() + 0.7 * span_x), rng.uniform(y.min(), y.max())
        z += rng.uniform(250.0, 700.0) * _bump(x, y, cx, cy, rng.uniform(10.0, 20.0), rng.uniform(1.5, 3.0),
                                               math.radians(rng.uniform(110.0, 150.0)))  # fmt: skip
    for _ in range(5):  # river valleys running to the sea
        cx, cy = rng.uniform(x.min(), x.max()), rng.uniform(y.min(), y.max())
        z -= rng.uniform(150.0, 400.0) * _bump(x, y, cx, cy, rng.uniform(15.0, 30.0), rng.uniform(1.5, 3.0),
                                               math.radians(rng.uniform(-20.0, 20.0)))  # fmt: skip
    return np.maximum(z, 0.0)


def make_dem(
    out: Path, *, communes: Path, crs: str = "EPSG:4326", pixel: float | None = None, unit: str = "m",
    seed: int = DEFAULT_SEED,
) -> Path:  # fmt: skip
    """Write the DEM GeoTIFF and return its path (pixel in the CRS's units; 3″ or 90 m by default)."""
    target = CRS.from_user_input(crs)
    west, south, east, north = province_bounds(communes)
    if target.is_geographic:
        pixel = pixel or 1.0 / 1200.0
        left, top, right, bottom = west, north, east, south
    else:
        pixel = pixel or 90.0
        to = Transformer.from_crs("EPSG:4326", target, always_xy=True)
        xs, ys = to.transform([west, west, east, east], [south, north, south, north])
        left, right, bottom, top = min(xs), max(xs), min(ys), max(ys)
    width, height = math.ceil((right - left) / pixel), math.ceil((top - bottom) / pixel)
    transform = from_origin(left, top, pixel, pixel)
    cols, rows = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    px, py = transform * (cols, rows)
    lon, lat = (
        (px, py)
        if target.is_geographic
        else Transformer.from_crs(target, "EPSG:4326", always_xy=True).transform(px, py)
    )
    lat0 = (south + north) / 2.0
    x = (np.asarray(lon) - (west + east) / 2.0) * 111.32 * math.cos(math.radians(lat0))
    y = (np.asarray(lat) - lat0) * 110.6
    z = terrain(x, y, seed=seed) / (FOOT_M if unit == "ft" else 1.0)
    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "int16",
               "crs": target,
               "transform": transform, "nodata": -32768, "compress": "deflate", "predictor": 2, "tiled": True,
               "blockxsize": 256, "blockysize": 256}  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(out, "w", **profile) as dst:
        dst.write(np.rint(z).astype(np.int16), 1)
        dst.set_band_unit(1, "ft" if unit == "ft" else "m")
        dst.update_tags(SOURCE="synthetic terrain from scripts/make_dem.py", SEED=str(seed))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--out", type=Path, default=DATA / "dem.tif", help="output GeoTIFF (default data/dem.tif)"
    )
    ap.add_argument("--communes", type=Path, default=DATA / "communes.gpkg", help="extent source")
    ap.add_argument("--crs", default="EPSG:4326", help="output CRS (default EPSG:4326)")
    ap.add_argument("--pixel", type=float, default=None, help="pixel size in CRS units (default 3″ or 90 m)")
    ap.add_argument("--unit", choices=("m", "ft"), default="m", help="elevation unit (default m)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = ap.parse_args(argv)
    path = make_dem(
        args.out, communes=args.communes, crs=args.crs, pixel=args.pixel, unit=args.unit, seed=args.seed
    )
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
