"""The grid the engine scans: the population raster's own rows, in its own CRS.

On a lon/lat WGS84 raster the scan lines are parallels and everything is measured in degrees
as given. On any other raster (UTM, Mollweide, a national grid) the scan lines are rows of
constant y in the raster's CRS: areas are densified in lon/lat and projected, footprints are
traced as polygons in that CRS (:mod:`telecov.engine.outlines`), and every pixel carries its
true ellipsoidal area (from its outline in a Lambert azimuthal equal-area projection on the
ellipsoid, edges densified), spread uniformly over the pixel like its people.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from ..geodesy import GEOD, LONLAT, band_area_per_degree, degrees_lat_for, meridian_radius
from .outlines import DENSIFY_DEG, Chains, Rings, chains_of, corners, disc_rings
from .partition import Footprints, Regions

if TYPE_CHECKING:
    from ..io.population import PopulationRaster

PIXEL_EDGE_STEP_M = 250.0
"""Longest piece of a pixel edge when its true area is computed (its image is curved)."""
MAX_EDGE_STEPS = 8


@dataclass(frozen=True)
class ScanGrid:
    """A north-up grid: row ``r`` spans y from ``y0 - r dy`` down to ``y0 - (r + 1) dy``.

    ``lonlat`` grids are in degrees on WGS84; others are in the units of ``crs``.
    """

    x0: float
    y0: float
    dx: float
    dy: float
    crs: CRS
    lonlat: bool

    @cached_property
    def to_grid(self) -> Any:
        """Transformer from lon/lat (WGS84) to the grid's CRS."""
        return Transformer.from_crs(LONLAT, self.crs, always_xy=True)

    @cached_property
    def to_lonlat(self) -> Any:
        """Transformer from the grid's CRS to lon/lat (WGS84)."""
        return Transformer.from_crs(self.crs, LONLAT, always_xy=True)

    def row_heights_m(self, rows: NDArray[np.int64], col0: int, col1: int) -> NDArray[np.float64]:
        """Ground height (m) of the pixels of each row (the largest over the window's columns)."""
        if self.lonlat:
            lat = self.y0 - (rows + 0.5) * self.dy
            return np.asarray(meridian_radius(np.asarray(lat, dtype=np.float64)) * math.radians(self.dy))
        cols = np.array([col0, 0.5 * (col0 + col1), col1], dtype=np.float64)
        x = np.tile(self.x0 + cols * self.dx, rows.shape[0])
        top = np.repeat(self.y0 - rows * self.dy, 3).astype(np.float64)
        lon_t, lat_t = self.to_lonlat.transform(x, top)
        lon_b, lat_b = self.to_lonlat.transform(x, top - self.dy)
        _, _, dist = GEOD.inv(lon_t, lat_t, lon_b, lat_b)
        return np.asarray(np.asarray(dist, dtype=np.float64).reshape(-1, 3).max(axis=1), dtype=np.float64)

    def metres_per_unit(self, row: float, col0: int, col1: int) -> tuple[float, float]:
        """Ground metres per grid unit along x and along y near ``row`` (a band's middle)."""
        xc = self.x0 + 0.5 * (col0 + col1) * self.dx
        yc = self.y0 - row * self.dy
        if self.lonlat:
            m = float(meridian_radius(np.asarray(yc))) * math.pi / 180.0
            return m * math.cos(math.radians(yc)), m
        lon, lat = self.to_lonlat.transform([xc, xc + self.dx, xc], [yc, yc, yc - self.dy])
        _, _, dist = GEOD.inv([lon[0], lon[0]], [lat[0], lat[0]], [lon[1], lon[2]], [lat[1], lat[2]])
        return float(dist[0]) / self.dx, float(dist[1]) / self.dy

    def pixel_areas(self, row0: int, row1: int, col0: int, col1: int) -> NDArray[np.float64]:
        """Return the true ellipsoidal area (m²) of each pixel of rows ``row0:row1``, cols ``col0:col1``."""
        h, w = row1 - row0, col1 - col0
        tops = self.y0 - np.arange(row0, row1, dtype=np.float64) * self.dy
        if self.lonlat:
            row_area = band_area_per_degree(tops, tops - self.dy) * self.dx
            return np.repeat(row_area[:, None], w, axis=1)
        return self._native_pixel_areas(row0, h, col0, w)

    def _native_pixel_areas(self, row0: int, h: int, col0: int, w: int) -> NDArray[np.float64]:
        """Pixel areas by the shoelace formula in an equal-area projection, edges densified."""
        mx, my = self.metres_per_unit(row0 + 0.5 * h, col0, col0 + w)
        k = int(min(MAX_EDGE_STEPS, max(1, math.ceil(max(mx * self.dx, my * self.dy) / PIXEL_EDGE_STEP_M))))
        xc = self.x0 + (col0 + 0.5 * w) * self.dx
        yc = self.y0 - (row0 + 0.5 * h) * self.dy
        lon_c, lat_c = self.to_lonlat.transform(xc, yc)
        laea = CRS.from_proj4(f"+proj=laea +lat_0={lat_c} +lon_0={lon_c} +ellps=WGS84 +units=m +no_defs")
        to_ea = Transformer.from_crs(self.crs, laea, always_xy=True)
        # rows of pixel edges (west to east) and columns of pixel edges (north to south)
        hx = self.x0 + (col0 + np.arange(w * k + 1) / k) * self.dx
        hy = self.y0 - (row0 + np.arange(h + 1)) * self.dy
        ex, ey = to_ea.transform(*np.meshgrid(hx, hy))
        horizontal = _cross_sums(np.asarray(ex), np.asarray(ey), k)  # (h + 1, w)
        vx = self.x0 + (col0 + np.arange(w + 1)) * self.dx
        vy = self.y0 - (row0 + np.arange(h * k + 1) / k) * self.dy
        fx, fy = to_ea.transform(*np.meshgrid(vx, vy))
        vertical = _cross_sums(np.asarray(fx).T, np.asarray(fy).T, k).T  # (h, w + 1)
        area = 0.5 * (vertical[:, :-1] + horizontal[1:, :] - vertical[:, 1:] - horizontal[:-1, :])
        return np.abs(area)


def _cross_sums(x: NDArray[np.float64], y: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """Shoelace terms along each row of points, summed over runs of ``k`` segments."""
    cross = x[:, :-1] * y[:, 1:] - x[:, 1:] * y[:, :-1]
    return np.asarray(cross.reshape(cross.shape[0], -1, k).sum(axis=2), dtype=np.float64)


def scan_grid(raster: PopulationRaster) -> ScanGrid:
    """Return the grid of ``raster``."""
    return ScanGrid(
        x0=float(raster.x0), y0=float(raster.y0), dx=float(raster.dx), dy=float(raster.dy),
        crs=raster.crs, lonlat=bool(raster.lonlat),
    )  # fmt: skip


def regions_on_grid(regions: Regions, grid: ScanGrid) -> Regions:
    """``regions`` in the grid's coordinates: edges densified in lon/lat, then projected."""
    if grid.lonlat:
        return regions
    dx, dy = regions.x1 - regions.x0, regions.y1 - regions.y0
    pieces = np.maximum(1, np.ceil(np.hypot(dx, dy) / DENSIFY_DEG)).astype(np.int64)
    edge = np.repeat(np.arange(pieces.shape[0]), pieces)
    first = np.cumsum(pieces) - pieces
    t0 = (np.arange(edge.shape[0]) - first[edge]) / pieces[edge]
    t1 = t0 + 1.0 / pieces[edge]
    xs = np.concatenate([regions.x0[edge] + t0 * dx[edge], regions.x0[edge] + t1 * dx[edge]])
    ys = np.concatenate([regions.y0[edge] + t0 * dy[edge], regions.y0[edge] + t1 * dy[edge]])
    gx, gy = grid.to_grid.transform(xs, ys)
    gx, gy = np.asarray(gx, dtype=np.float64), np.asarray(gy, dtype=np.float64)
    n = edge.shape[0]
    owner = regions.owner[edge]
    bounds = np.full((regions.n_areas, 4), np.nan)
    for col, values, fn in ((0, gx, np.fmin), (1, gy, np.fmin), (2, gx, np.fmax), (3, gy, np.fmax)):
        out = bounds[:, col]
        fn.at(out, np.concatenate([owner, owner]), values)
        bounds[:, col] = out
    return replace(
        regions, x0=gx[:n], y0=gy[:n], x1=gx[n:], y1=gy[n:], owner=owner,
        bounds=(float(gx.min()), float(gy.min()), float(gx.max()), float(gy.max())) if n else regions.bounds,
        area_bounds=bounds,
    )  # fmt: skip


@dataclass(frozen=True)
class ScanFootprints:
    """Footprints as the kernels see them on one grid, with each one's y extent.

    ``discs`` is the kernels' tuple ``(x, lat, m0, radius, fptr, cptr, cx, cy, cg, ext,
    convex)``: analytic geodesic discs where a footprint has no chains (lon/lat grids only),
    polygons otherwise.
    """

    discs: tuple[NDArray[Any], ...]
    top: NDArray[np.float64]
    bottom: NDArray[np.float64]
    chains: Chains
    corners: NDArray[np.float64]
    """Y of the polygons' corners (strip boundaries, :func:`telecov.engine.outlines.corners`)."""
    corner_fp: NDArray[np.int64]
    """The footprint of each corner."""


def scan_footprints(footprints: Footprints, grid: ScanGrid) -> ScanFootprints:
    """Footprints on ``grid``: as they are on lon/lat, else every one traced as a polygon in its CRS."""
    n = len(footprints)
    if grid.lonlat:
        chains = footprints.chains
        x = footprints.lon
        rings = footprints.rings
    else:
        outline = footprints.rings
        has = np.zeros(n, dtype=bool)
        has[outline.fp] = True
        discs = np.flatnonzero(~has)
        rings = Rings.join([
            outline.densified(DENSIFY_DEG).transformed(grid.to_grid),
            disc_rings(footprints.lon[discs], footprints.lat[discs], footprints.radius[discs], discs,
                       to_grid=grid.to_grid),
        ])  # fmt: skip
        chains = chains_of(rings, n)
        gx, gy = grid.to_grid.transform(footprints.lon, footprints.lat)
        x, y = np.asarray(gx, dtype=np.float64), np.asarray(gy, dtype=np.float64)
    poly = chains.has_outline()
    dlat = degrees_lat_for(footprints.radius, footprints.lat) if n else np.zeros(0)
    if grid.lonlat:
        radius = footprints.radius
        top = np.where(poly, chains.ext[:, 0], footprints.lat + dlat)
        bottom = np.where(poly, chains.ext[:, 1], footprints.lat - dlat)
    else:  # every footprint is a polygon; one without an outline (no area) covers nothing
        radius = np.where(poly, footprints.radius, 0.0)
        top = np.where(poly, chains.ext[:, 0], y)
        bottom = np.where(poly, chains.ext[:, 1], y)
    m0 = np.asarray(meridian_radius(footprints.lat), dtype=np.float64)
    kernel = (np.ascontiguousarray(x, dtype=np.float64), footprints.lat, m0, radius, *chains.kernel)
    corner_y, corner_fp = corners(rings)
    return ScanFootprints(
        discs=kernel, top=top, bottom=bottom, chains=chains, corners=corner_y, corner_fp=corner_fp
    )


GRID_SEGMENT_M = 500.0
"""Longest edge (ground metres) of a grid-straight polygon before it is mapped to lon/lat."""


def lonlat_geometries(geometries: NDArray[np.object_], raster: PopulationRaster) -> NDArray[np.object_]:
    """Geometries built on ``raster``'s grid (gap zones) in lon/lat; unchanged on a lon/lat grid.

    Straight edges of the grid are curves in lon/lat: they are densified to
    :data:`GRID_SEGMENT_M` before their vertices are transformed.
    """
    grid = scan_grid(raster)
    geoms = np.asarray(geometries, dtype=object)
    if grid.lonlat or geoms.shape[0] == 0:
        return geoms
    mx, my = grid.metres_per_unit(0.5 * raster.height, 0, raster.width)
    step = GRID_SEGMENT_M / max(mx, my)
    dense = shapely.segmentize(geoms, step)

    def to_lonlat(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = grid.to_lonlat.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    out = shapely.transform(dense, to_lonlat)
    invalid = ~shapely.is_valid(out)
    if invalid.any():
        out[invalid] = shapely.make_valid(out[invalid])
    return np.asarray(out, dtype=object)
