"""Bias of lone geodesic sectors: the engine's covered km² against pyproj geodesic sectors.

A sector is the set of points within ``radius`` of the site whose true geodesic azimuth from
the site lies in ``azimuth ± beamwidth / 2``. The reference polygon has 8,192 arc vertices and
geodesic side rays densified to 10 m (``Geod.fwd``); its area is ``Geod.polygon_area_perimeter``.
The engine measures the sector as the only footprint of one large area on a uniform raster.

Usage::

    python scripts/_bench_sectors.py            # prints one line per case
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from affine import Affine
from pyproj import Geod
from rasterio.io import MemoryFile

from telecov.engine import Footprints, measure, regions_from_geometries
from telecov.io.population import open_population

GEOD = Geod(ellps="WGS84")
CASES = [(lat, az, r) for lat in (21.0, 60.0) for az in (0.0, 180.0, 90.0) for r in (300.0, 3000.0, 30000.0)]


def reference_sector(lon: float, lat: float, radius: float, azimuth: float, width: float) -> shapely.Polygon:
    """Geodesic sector with thousands of vertices (arc and densified geodesic rays)."""
    arc_az = np.linspace(azimuth - width / 2, azimuth + width / 2, 8193)
    ax, ay, _ = GEOD.fwd(
        np.full(arc_az.size, lon), np.full(arc_az.size, lat), arc_az, np.full(arc_az.size, radius)
    )
    n_ray = max(2, math.ceil(radius / 10.0))
    d = np.linspace(0.0, radius, n_ray + 1)[1:-1]
    r1x, r1y, _ = GEOD.fwd(np.full(d.size, lon), np.full(d.size, lat), np.full(d.size, arc_az[0]), d)
    r2x, r2y, _ = GEOD.fwd(np.full(d.size, lon), np.full(d.size, lat), np.full(d.size, arc_az[-1]), d)
    xs = np.concatenate([[lon], r1x, ax, r2x[::-1]])
    ys = np.concatenate([[lat], r1y, ay, r2y[::-1]])
    return shapely.Polygon(np.column_stack([xs, ys]))


def engine_km2(lon: float, lat: float, radius: float, azimuth: float, width: float) -> float:
    """Covered km² of one sector, measured by the engine inside a large square area."""
    pad = 2.0 * math.degrees(radius / 6.3e6) / max(math.cos(math.radians(lat)), 0.1) + 0.02
    area = shapely.box(lon - pad, lat - pad, lon + pad, lat + pad)
    res = 1 / 120
    ncols = nrows = int(2 * pad / res) + 4
    west, north = lon - pad - 2 * res, lat + pad + 2 * res
    fps = Footprints(
        lon=np.array([lon]), lat=np.array([lat]), radius=np.array([radius]),
        azimuth=np.array([(azimuth - width / 2) % 360.0]), width=np.array([width]),
    )  # fmt: skip
    with MemoryFile() as mem:
        with mem.open(
            driver="GTiff", width=ncols, height=nrows, count=1, dtype="float32", crs="EPSG:4326",
            transform=Affine(res, 0.0, west, 0.0, -res, north),
        ) as dst:  # fmt: skip
            dst.write(np.ones((nrows, ncols), np.float32), 1)
        with mem.open() as ds, open_population(ds) as raster:
            m = measure(
                regions_from_geometries(np.array([area], dtype=object)), fps, [np.array([0])], raster,
                residential_density=100.0, resolution_m=10.0,
            )  # fmt: skip
    return float(m.covered[0, 0, 0]) / 1e6


def main() -> None:
    width = 120.0
    print("lat    azimuth radius_m  engine_km2      reference_km2   relative_error")
    for lat, az, r in CASES:
        ref = abs(GEOD.geometry_area_perimeter(reference_sector(105.0, lat, r, az, width))[0]) / 1e6
        got = engine_km2(105.0, lat, r, az, width)
        print(f"{lat:5.1f}  {az:6.1f}  {r:8.0f}  {got:14.6f}  {ref:14.6f}  {(got - ref) / ref:+.3e}")


if __name__ == "__main__":
    main()
