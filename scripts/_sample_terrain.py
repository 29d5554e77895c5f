"""The SYNTHETIC terrain of the demo province for ``make_sample.py``: a small seeded DEM.

The relief follows the sample's own land: a flat coastal plain with a few isolated hills, the
foothills and a mountain range in the west (where almost nobody lives), ridges parallel to the
coast, and the valley of the valley road (``_sample_land.make_population``) cut through the
range to the western town. Nothing here is a real elevation. Everything comes from the caller's
seeded random generator.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import rasterio
from _sample_land import KX, KY, RES, FloatArray, Grid, Town, inland_km, smooth_noise
from numpy.typing import NDArray

DEM_MARGIN_DEG = 0.12
"""Margin around the population grid (~13 km): every sample footprint lies on the DEM."""
DEM_NODATA = -32768


def dem_grid(grid: Grid) -> Grid:
    """The population grid widened by :data:`DEM_MARGIN_DEG` on each side (same pixels)."""
    pad = round(DEM_MARGIN_DEG / RES)
    return Grid(
        west=round(grid.west - pad * RES, 9),
        north=round(grid.north + pad * RES, 9),
        width=grid.width + 2 * pad,
        height=grid.height + 2 * pad,
    )


def _bump(
    x: FloatArray, y: FloatArray, cx: float, cy: float, along: float, across: float, angle: float
) -> FloatArray:
    """Gaussian bump of height 1, ``along``/``across`` km wide, its long axis ``angle`` from east."""
    c, s = math.cos(angle), math.sin(angle)
    u = (x - cx) * c + (y - cy) * s
    v = -(x - cx) * s + (y - cy) * c
    out: FloatArray = np.exp(-0.5 * ((u / along) ** 2 + (v / across) ** 2))
    return out


def make_terrain(
    rng: np.random.Generator, grid: Grid, phases: FloatArray, towns: list[Town]
) -> NDArray[np.int16]:
    """Elevation in whole metres above sea level on ``grid`` (0 over the sea)."""
    lon, lat = grid.lon[None, :], grid.lat[:, None]
    inland = inland_km(lon, lat, phases) + 0.0 * lat
    x = (lon - grid.lon.mean()) * KX + 0.0 * lat
    y = (lat - grid.lat.mean()) * KY + 0.0 * lon
    land = inland > 0.0
    # the plain rises gently; the range starts ~18 km inland and tops out ~50 km inland
    rise = np.clip((inland - 18.0) / 32.0, 0.0, 1.0)
    z = 3.0 + 1.2 * np.clip(inland, 0.0, None) + 1050.0 * rise**1.6
    z += (6.0 + 300.0 * rise) * smooth_noise(rng, grid, 40) + (2.0 + 90.0 * rise) * smooth_noise(rng, grid, 9)
    heading = math.radians(-70.0)  # ridges run NNW-SSE like the coast
    for _ in range(9):  # ridges of the range and its foothills
        cx = float(rng.uniform(x.min(), x.max()))
        cy = float(rng.uniform(y.min(), y.max()))
        at = float(np.interp(cx, x[0], inland[inland.shape[0] // 2]))
        height = rng.uniform(180.0, 420.0) * (0.5 + min(max((at - 12.0) / 25.0, 0.0), 1.0))
        z += height * _bump(x, y, cx, cy, rng.uniform(6.0, 14.0), rng.uniform(1.0, 1.8),
                            heading + rng.uniform(-0.25, 0.25))  # fmt: skip
    z += _plain_hills(rng, x, y, inland, towns, grid)
    # the valley of the valley road: a floor ~1.5 km wide that climbs slowly westwards
    valley_lat = 18.44 + 0.025 * np.sin(lon * 25.0 + phases[0])
    across = ((lat - valley_lat) * KY) ** 2
    floor = 8.0 + 2.5 * np.clip(inland, 0.0, None)
    cut = np.exp(-0.5 * across / 1.4**2) * (inland > 14.0)
    z = z * (1.0 - cut) + np.minimum(z, floor) * cut
    z = np.where(land, np.maximum(z, 1.0), 0.0)
    return np.rint(z).astype(np.int16)


def _plain_hills(
    rng: np.random.Generator, x: FloatArray, y: FloatArray, inland: FloatArray, towns: list[Town], grid: Grid
) -> FloatArray:
    """Isolated hills on the coastal plain (3–22 km inland), kept away from the town centres."""
    hills = np.zeros_like(x)
    tx = [(t.lon - grid.lon.mean()) * KX for t in towns]
    ty = [(t.lat - grid.lat.mean()) * KY for t in towns]
    placed = 0
    while placed < 14:
        r, c = int(rng.integers(0, grid.height)), int(rng.integers(0, grid.width))
        if not 3.0 < inland[r, c] < 22.0:
            continue
        cx, cy = float(x[r, c]), float(y[r, c])
        if min(math.hypot(cx - a, cy - b) for a, b in zip(tx, ty, strict=True)) < 3.5:
            continue
        size = float(rng.uniform(0.8, 2.2))
        hills += rng.uniform(90.0, 330.0) * _bump(x, y, cx, cy, size * rng.uniform(1.0, 2.5), size,
                                                   float(rng.uniform(0.0, math.pi)))  # fmt: skip
        placed += 1
    return hills


def write_dem(path: Path, grid: Grid, z: NDArray[np.int16]) -> None:
    """Write the DEM GeoTIFF: int16 metres, tiled 256 × 256, DEFLATE with the integer predictor."""
    path.unlink(missing_ok=True)
    profile = {
        "driver": "GTiff", "width": grid.width, "height": grid.height, "count": 1, "dtype": "int16",
        "crs": "EPSG:4326", "transform": grid.transform, "nodata": DEM_NODATA, "tiled": True,
        "blockxsize": 256, "blockysize": 256, "compress": "deflate", "predictor": 2, "zlevel": 9,
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(z, 1)
        dst.set_band_unit(1, "m")
        dst.update_tags(
            1, units="m", description="SYNTHETIC elevation of a demo province (scripts/make_sample.py)"
        )
