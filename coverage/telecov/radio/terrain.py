"""Terrain-aware footprints: radials over a DEM, the covered polar grid, and its polygon.

A footprint is sampled on a polar grid around the site: columns are bearings (true geodesic
azimuths), rows are fractions of the flat-ground reach at that bearing, so on flat ground the
outline is exactly the disc or lobe. Spacing is fine enough that no DEM pixel at the edge is
skipped: ``oversample`` samples per pixel along the farthest radial and across radials there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from rasterio.features import shapes
from shapely.geometry.base import BaseGeometry

from ..geodesy import GEOD, LONLAT
from .budget import MOBILE_HEIGHT_M
from .dem import DemWindow
from .kernels import bilinear, covered_radials
from .pattern import LOBE_STEP_DEG, lobe_bearings

Floats = NDArray[np.float64]

EARTH_RADIUS_M = 6_371_000.0
"""Mean Earth radius (ITU-R P.452 / P.526)."""
K_FACTOR = 4.0 / 3.0
"""Median effective Earth-radius factor k (ITU-R P.453: 4/3 for a standard atmosphere)."""
SPEED_OF_LIGHT = 299_792_458.0
TERRAIN_MODES: tuple[str, ...] = ("los", "diffraction")
"""``--terrain`` choices."""


@dataclass(frozen=True)
class PolarGrid:
    """A footprint's polar sampling: column edges (bearings) and reaches, rows as reach fractions.

    ``edges_deg`` has one more entry than there are columns (for a full circle the last edge is
    the first plus 360°); ``edge_reach_m`` the reach at each edge, ``centre_deg`` and
    ``centre_reach_m`` the bearing and reach of each column's samples, ``rows`` the samples per
    radial (at fractions (j + 0.5) / rows of the reach).
    """

    edges_deg: Floats
    edge_reach_m: Floats
    centre_deg: Floats
    centre_reach_m: Floats
    rows: int
    closed: bool

    @property
    def distances_m(self) -> Floats:
        """Distance of every sample (columns × rows)."""
        u = (np.arange(self.rows) + 0.5) / self.rows
        return np.asarray(self.centre_reach_m[:, None] * u[None, :])


def polar_grid(
    reach: Callable[[Floats], Floats],
    *,
    azimuth_deg: float | None,
    beamwidth_deg: float,
    max_reach_m: float,
    pixel_m: float,
    oversample: float = 2.0,
    wedge: bool = False,
) -> PolarGrid:
    """Polar grid of one footprint; ``reach(bearings)`` gives the flat-ground reach (m).

    ``wedge`` samples only the sector ``azimuth ± beamwidth/2`` (a fixed-radius sector);
    otherwise the whole circle (a disc, or a lobe with its back disc).
    """
    spacing = pixel_m / oversample
    step = min(LOBE_STEP_DEG, math.degrees(spacing / max(max_reach_m, spacing)))
    rows = max(math.ceil(max_reach_m / spacing), 1)
    if wedge and azimuth_deg is not None and beamwidth_deg < 360.0:
        n = max(math.ceil(beamwidth_deg / step), 1)
        edges = azimuth_deg - beamwidth_deg / 2.0 + np.linspace(0.0, beamwidth_deg, n + 1)
        closed = False
    else:
        ring = lobe_bearings(azimuth_deg=azimuth_deg, beamwidth_deg=beamwidth_deg, step_deg=step)
        edges = np.append(ring, ring[0] + 360.0)
        closed = True
    centre = (edges[:-1] + edges[1:]) / 2.0
    edge_reach = np.asarray(reach(np.mod(edges, 360.0)), dtype=np.float64)
    if closed:
        edge_reach[-1] = edge_reach[0]
    return PolarGrid(edges, edge_reach, centre, np.asarray(reach(np.mod(centre, 360.0))), rows, closed)


@lru_cache(maxsize=8)
def _lonlat_to(crs: CRS) -> Transformer:
    return Transformer.from_crs(LONLAT, crs, always_xy=True)


def sample_ground(dem: DemWindow, lon: float, lat: float, grid: PolarGrid) -> tuple[float, Floats]:
    """DEM elevation (m) at the site and at every sample of ``grid`` (NaN outside the DEM).

    Sample positions follow each geodesic radial: exact points at half and full reach, and a
    quadratic through the site and those two in the DEM's CRS in between.
    """
    m = grid.centre_deg.size
    x, y, _ = GEOD.fwd(
        np.full(2 * m, lon),
        np.full(2 * m, lat),
        np.tile(grid.centre_deg % 360.0, 2),
        np.concatenate([grid.centre_reach_m / 2.0, grid.centre_reach_m]),
    )
    px, py = np.append(x, lon), np.append(y, lat)
    if not dem.lonlat:
        px, py = _lonlat_to(dem.crs).transform(px, py)
    col, row = ~dem.transform * (np.asarray(px), np.asarray(py))
    col, row = np.asarray(col), np.asarray(row)
    u = (np.arange(grid.rows) + 0.5) / grid.rows
    w0, wm, w1 = (2 * u - 1) * (u - 1), 4 * u * (1 - u), u * (2 * u - 1)

    def along(v: Floats) -> Floats:
        return np.asarray(v[-1] * w0[None, :] + v[:m, None] * wm[None, :] + v[m : 2 * m, None] * w1[None, :])

    site = bilinear(dem.elevation_m, col[-1:], row[-1:])
    return float(site[0]), bilinear(dem.elevation_m, along(col), along(row))


def grid_polygon(lon: float, lat: float, grid: PolarGrid, covered: NDArray[np.bool_]) -> BaseGeometry:
    """Lon/lat (multi)polygon of the covered cells of a polar grid, holes included.

    Cells are polygonized in (column, row) index space (:func:`rasterio.features.shapes`), every
    vertex is mapped to its bearing and distance with :meth:`pyproj.Geod.fwd`; a full circle is
    done in two halves joined by a union so no piece wraps across 0°/360°.
    """
    n_cols, rows = covered.shape
    bearing = np.mod(grid.edges_deg, 360.0)
    if grid.closed:
        bearing[-1] = bearing[0]

    def to_lonlat(xy: Floats) -> Floats:
        col = np.rint(xy[:, 0]).astype(np.int64)
        dist = xy[:, 1] / rows * grid.edge_reach_m[col]
        x, y, _ = GEOD.fwd(np.full(col.size, lon), np.full(col.size, lat), bearing[col], dist)
        at_site = dist == 0.0
        x[at_site], y[at_site] = lon, lat  # one site vertex, whatever the bearing
        return np.column_stack([x, y])

    halves = [(0, n_cols // 2), (n_cols // 2, n_cols)] if grid.closed and n_cols > 1 else [(0, n_cols)]
    pieces = []
    for start, stop in halves:
        part = np.ascontiguousarray(covered[start:stop].T).astype(np.uint8)
        for geojson, _ in shapes(part, mask=part.astype(bool), transform=Affine.translation(start, 0.0)):
            cells = shapely.segmentize(shapely.geometry.shape(geojson), 1.0)
            pieces.append(shapely.remove_repeated_points(shapely.transform(cells, to_lonlat)))
    if not pieces:
        return shapely.Polygon()
    # the pieces tile the covered set and share their seam vertices: a coverage union joins them
    merged = shapely.union_all(pieces)
    return shapely.orient_polygons(merged) if hasattr(shapely, "orient_polygons") else merged


def outline(lon: float, lat: float, grid: PolarGrid) -> shapely.Polygon:
    """Return the grid's flat-ground outline: the disc, lobe or wedge through its edge reaches."""
    bearings = np.mod(grid.edges_deg[:-1] if grid.closed else grid.edges_deg, 360.0)
    reach = grid.edge_reach_m[:-1] if grid.closed else grid.edge_reach_m
    x, y, _ = GEOD.fwd(np.full(bearings.size, lon), np.full(bearings.size, lat), bearings, reach)
    ring = np.column_stack([x, y])
    if not grid.closed:
        ring = np.vstack([[lon, lat], ring])
    return shapely.Polygon(ring[::-1])


def terrain_footprint(
    lon: float,
    lat: float,
    *,
    dem: DemWindow,
    grid: PolarGrid,
    antenna_m: float,
    mode: str = "los",
    margin_db: Floats | None = None,
    frequency_mhz: float | None = None,
    receiver_m: float = MOBILE_HEIGHT_M,
) -> BaseGeometry:
    """Footprint of one site over terrain: the covered part of ``grid`` as a lon/lat polygon.

    Parameters
    ----------
    lon, lat
        The site.
    dem
        A DEM window covering the site's reach (:func:`telecov.radio.dem.read_dem_window`).
    grid
        The footprint's polar grid (:func:`polar_grid`).
    antenna_m, receiver_m
        Antenna heights above the DEM ground (m).
    mode
        ``los``: keep samples whose direct ray clears the terrain; ``diffraction``: also those
        whose Deygout knife-edge loss (ITU-R P.526, up to 3 edges) fits in ``margin_db``.
    margin_db
        Link budget left at every sample after the model's path loss (columns × rows); None for
        a fixed-radius site (0 dB everywhere inside the radius).
    frequency_mhz
        Carrier, needed for ``diffraction``.

    """
    if mode not in TERRAIN_MODES:
        raise ValueError(f"unknown terrain mode {mode!r}: use los or diffraction")
    dist = grid.distances_m
    margin = np.zeros(dist.shape) if margin_db is None else np.asarray(margin_db, dtype=np.float64)
    diffraction = mode == "diffraction"
    if diffraction and frequency_mhz is None:
        raise ValueError("diffraction needs frequency_mhz")
    z_site, ground = sample_ground(dem, lon, lat, grid)
    if math.isnan(z_site):
        return outline(lon, lat, grid)
    wavelength = SPEED_OF_LIGHT / (frequency_mhz * 1e6) if frequency_mhz else 1.0
    covered = covered_radials(
        ground,
        dist,
        margin,
        z_site,
        float(antenna_m),
        float(receiver_m),
        K_FACTOR * EARTH_RADIUS_M,
        wavelength,
        diffraction,
    )
    if covered.all():
        return outline(lon, lat, grid)
    return grid_polygon(lon, lat, grid, covered)
