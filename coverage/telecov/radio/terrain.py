"""Terrain-aware footprints: radials over a DEM, the covered polar grid, and its polygon.

A footprint is sampled on a polar grid around the site: columns are bearings (true geodesic
azimuths), rows are fractions of the flat-ground reach at that bearing, so on flat ground the
outline is exactly the disc or lobe. Spacing is fine enough that no DEM pixel is skipped:
:data:`OVERSAMPLE` samples per pixel along the farthest radial and across radials there.
Nearer the site, where radials are closer together than that, a radial takes its first samples
from a neighbour (:class:`InnerBands`), so samples are as far apart near the site as at the edge.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numba
import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from ..geodesy import GEOD, LONLAT, STENCIL, periodic_interpolated, unwrapped
from .budget import MOBILE_HEIGHT_M
from .dem import DemWindow
from .kernels import bilinear
from .pattern import LOBE_STEP_DEG, lobe_bearings
from .radials import covered_columns
from .rings import trace_rings
from .traced import joined, on_seam, traced_polygons, without_radial_steps

Floats = NDArray[np.float64]

EARTH_RADIUS_M = 6_371_000.0
"""Mean Earth radius (ITU-R P.452 / P.526)."""
K_FACTOR = 4.0 / 3.0
"""Median effective Earth-radius factor k (ITU-R P.453: 4/3 for a standard atmosphere)."""
SPEED_OF_LIGHT = 299_792_458.0
TERRAIN_MODES: tuple[str, ...] = ("los", "diffraction")
"""``--terrain`` choices."""
OVERSAMPLE = 1.5
"""Samples per DEM pixel along and across radials: they are s = pixel / 1.5 apart, so every point
lies within s/√2 ≈ 0.47 pixel of a sample, less than half a pixel: every pixel holds a sample."""
RADIAL_RUN_M = 2_000.0
"""Longest straight piece of a ring along a radial (:func:`_without_radial_steps`). Over a length
L the geodesic and the lon/lat chord between its ends differ by at most about L² tan φ / (8 R):
3 cm at 18° N, 14 cm at 60°."""


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

    def turned(self, degrees: float) -> PolarGrid:
        """Return the same grid turned clockwise by ``degrees`` (a lobe's grid at another azimuth)."""
        return PolarGrid(
            self.edges_deg + degrees, self.edge_reach_m, self.centre_deg + degrees, self.centre_reach_m,
            self.rows, self.closed,
        )  # fmt: skip

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
    oversample: float = OVERSAMPLE,
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


INNER_ROWS = 4
"""Fewest samples a radial takes from its neighbour (:func:`inner_bands`); fewer are sampled."""


@dataclass(frozen=True)
class InnerBands:
    """Which radials take their samples near the site from a neighbour rather than sampling them.

    Column k with exactly ℓ < ``levels`` trailing zero bits samples from row ``start[k]`` outward
    (rows whose distance is above 2^−(ℓ+1) of the reach); its rows below are those of column
    ``parent[k]`` = k − 2^ℓ: the same ground, the same verdict. There the columns still sampled
    are at most the grid's spacing at the edge apart, and a sample is at most that spacing (half
    a pixel) away from its own bearing; about a third of a large grid's samples are not taken.
    Multiples of 2^``levels`` (``period``) and columns of another reach than their parent sample
    every row (``parent`` −1). ``slot`` is min(ℓ, ``levels``): where the compiled pass keeps a
    column's profile for its children.
    """

    start: NDArray[np.intp]
    parent: NDArray[np.intp]
    slot: NDArray[np.intp]
    levels: int

    @property
    def period(self) -> int:
        """Columns apart of the radials that sample every row (threads split the grid there)."""
        return int(2**self.levels)

    def inherit(self, values: NDArray[np.generic]) -> NDArray[np.generic]:
        """Return ``values`` (columns × rows) with each column's first rows those of its parent."""
        out = np.array(values, copy=True)
        for k in np.flatnonzero(self.parent >= 0):
            out[k, : self.start[k]] = out[self.parent[k], : self.start[k]]
        return out


def _inner_rows(rows: int, level: NDArray[np.int64] | int) -> NDArray[np.intp]:
    """Rows at fractions (j + 0.5) / rows ≤ 2^−(level+1) of the reach (per level)."""
    return np.floor(rows / 2.0 ** (np.asarray(level) + 1) + 0.5).astype(np.intp)


def inner_bands(grid: PolarGrid) -> InnerBands:
    """Return the grid's :class:`InnerBands`: as many levels as leave ≥ :data:`INNER_ROWS` rows each."""
    m, rows = grid.centre_deg.size, grid.rows
    levels = 0
    while _inner_rows(rows, levels) >= INNER_ROWS and 2 ** (levels + 1) <= m // 16:
        levels += 1
    k = np.arange(m, dtype=np.int64)
    low = np.log2(np.maximum(k & -k, 1)).astype(np.int64)  # trailing zero bits (k > 0)
    level = np.where(k == 0, levels, np.minimum(low, levels))
    inner = level < levels
    parent = np.where(inner, k - 2**level, -1)
    inner &= grid.centre_reach_m[np.maximum(parent, 0)] == grid.centre_reach_m
    start = np.where(inner, _inner_rows(rows, level), 0).astype(np.intp)
    return InnerBands(start, np.where(inner, parent, -1).astype(np.intp), level.astype(np.intp), levels)


@lru_cache(maxsize=8)
def _lonlat_to(crs: CRS) -> Transformer:
    return Transformer.from_crs(LONLAT, crs, always_xy=True)


def _disc_stencil(bearings: Floats, reach: Floats, *, closed: bool) -> tuple[Floats, Floats] | None:
    """Return the STENCIL bearings and reaches of a disc's columns (equal steps, one reach), or None."""
    m = bearings.size
    equal = closed and m > 2 * STENCIL and np.ptp(reach) == 0.0
    if not (equal and np.abs(np.diff(bearings) - 360.0 / m).max() < 1e-9):
        return None
    return bearings[0] + np.arange(STENCIL) * (360.0 / STENCIL), np.full(STENCIL, reach[0])


def grid_positions(dem: DemWindow, lon: float, lat: float, grid: PolarGrid) -> tuple[Floats, Floats]:
    """DEM pixel (column, row) of every column's half-reach point, full-reach point, then the site.

    Both arrays hold 2 m + 1 values for m columns: half reaches, full reaches, the site. A disc's
    columns (equal steps, one reach) are interpolated from :data:`telecov.geodesy.STENCIL` exact
    points on each circle (:func:`telecov.geodesy.periodic_interpolated`); others are solved
    one by one.
    """
    m = grid.centre_deg.size
    stencil = _disc_stencil(grid.centre_deg, grid.centre_reach_m, closed=grid.closed)
    bearing, reach = stencil or (grid.centre_deg, grid.centre_reach_m)
    x, y, _ = GEOD.fwd(
        np.full(2 * bearing.size, lon), np.full(2 * bearing.size, lat), np.tile(bearing % 360.0, 2),
        np.concatenate([reach / 2.0, reach]),
    )  # fmt: skip
    x = np.asarray(x)
    if np.abs(x - lon).max() > 180.0:  # across the antimeridian: longitudes near the site's
        x = unwrapped(x, lon)
    px, py = np.append(x, lon), np.append(y, lat)
    if not dem.lonlat:
        px, py = _lonlat_to(dem.crs).transform(px, py)
    col, row = ~dem.transform * (np.asarray(px), np.asarray(py))
    col, row = np.asarray(col, dtype=np.float64), np.asarray(row, dtype=np.float64)
    if stencil is not None:  # a row per circle, interpolated at the m columns' bearings, then the site
        col = np.append(periodic_interpolated(col[:-1].reshape(2, STENCIL), m).ravel(), col[-1])
        row = np.append(periodic_interpolated(row[:-1].reshape(2, STENCIL), m).ravel(), row[-1])
    return col, row


def _weights(rows: int) -> tuple[Floats, Floats]:
    """Sample fractions u of the reach and the quadratic's weights (site, half, full) at each."""
    u = (np.arange(rows) + 0.5) / rows
    return u, np.vstack([(2 * u - 1) * (u - 1), 4 * u * (1 - u), u * (2 * u - 1)])


def sample_ground(dem: DemWindow, lon: float, lat: float, grid: PolarGrid) -> tuple[float, Floats]:
    """DEM elevation (m) at the site and at every sample of ``grid`` (NaN outside the DEM).

    Sample positions follow each geodesic radial: exact points at half and full reach, and a
    quadratic through the site and those two in the DEM's CRS in between; a radial's first
    samples are its parent's (:class:`InnerBands`). (The terrain step itself computes the same
    positions on the fly, :func:`covered_grid`.)
    """
    m = grid.centre_deg.size
    col, row = grid_positions(dem, lon, lat, grid)
    _, (w0, wm, w1) = _weights(grid.rows)

    def along(v: Floats) -> Floats:
        return np.asarray(v[-1] * w0[None, :] + v[:m, None] * wm[None, :] + v[m : 2 * m, None] * w1[None, :])

    site = bilinear(dem.elevation_m, col[-1:], row[-1:])
    ground = bilinear(dem.elevation_m, along(col), along(row))
    return float(site[0]), np.asarray(inner_bands(grid).inherit(ground), dtype=np.float64)


@dataclass(frozen=True)
class Margins:
    """Link budget left at every sample of a polar grid: ``budget_db[k] − path_loss_db[group[k], j]``.

    Columns of the same reach share a row of path losses (a disc has one), so the grid-sized
    margin array is never built.
    """

    budget_db: Floats
    path_loss_db: Floats
    group: NDArray[np.intp]

    @classmethod
    def of_grid(cls, margin_db: Floats) -> Margins:
        """Margins given sample by sample (columns × rows)."""
        margin = np.asarray(margin_db, dtype=np.float64)
        return cls(np.zeros(margin.shape[0]), -margin, np.arange(margin.shape[0]))

    @classmethod
    def none(cls, grid: PolarGrid) -> Margins:
        """0 dB everywhere (a fixed-radius site: covered up to its radius)."""
        return cls(
            np.zeros(grid.centre_deg.size), np.zeros((1, grid.rows)), np.zeros(grid.centre_deg.size, np.intp)
        )

    @classmethod
    def of_model(cls, grid: PolarGrid, budget_db: Floats, path_loss: Callable[[Floats], Floats]) -> Margins:
        """``budget_db`` per column less ``path_loss(distances)``, computed once per distinct reach."""
        reach, group = np.unique(grid.centre_reach_m, return_inverse=True)
        u = (np.arange(grid.rows) + 0.5) / grid.rows
        loss = np.asarray(path_loss(reach[:, None] * u[None, :]), dtype=np.float64)
        return cls(np.asarray(budget_db, dtype=np.float64), loss, group.astype(np.intp))

    def full(self) -> Floats:
        """Return the margin of every sample (columns × rows)."""
        return np.asarray(self.budget_db[:, None] - self.path_loss_db[self.group])


PARALLEL_SAMPLES = 100_000
"""Footprints of more samples are shared among threads (:func:`covered_grid`)."""


@lru_cache(maxsize=1)
def _pool(n_threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="telecov-terrain")


def covered_grid(
    dem: DemWindow,
    lon: float,
    lat: float,
    grid: PolarGrid,
    *,
    margins: Margins,
    antenna_m: float,
    receiver_m: float = MOBILE_HEIGHT_M,
    wavelength_m: float = 1.0,
    diffraction: bool = False,
    threads: int | None = None,
) -> tuple[float, NDArray[np.bool_]]:
    """Return the site's ground (m, NaN off the DEM) and the covered samples of ``grid`` (columns × rows).

    One compiled pass per radial (:func:`telecov.radio.radials.covered_columns`), its first
    samples taken from its parent (:class:`InnerBands`); a large grid's columns are shared among
    ``threads`` Python threads (default ``numba.get_num_threads()``) in runs of whole periods.
    """
    col, row = grid_positions(dem, lon, lat, grid)
    m = grid.centre_deg.size
    z_site = float(bilinear(dem.elevation_m, col[-1:], row[-1:])[0])
    out = np.zeros((m, grid.rows), dtype=np.bool_)
    if math.isnan(z_site):
        return z_site, out
    u, weights = _weights(grid.rows)
    reach, rgroup = np.unique(grid.centre_reach_m, return_inverse=True)
    dist = reach[:, None] * u[None, :]  # the values of PolarGrid.distances_m, one row per reach
    drop = dist * dist / (2.0 * (K_FACTOR * EARTH_RADIUS_M))  # the Earth's curvature (k = 4/3)
    bands = inner_bands(grid)
    args = (
        dem.elevation_m, np.array([col[-1], row[-1], z_site]), np.vstack([col[:m], row[:m]]),
        np.vstack([col[m : 2 * m], row[m : 2 * m]]), weights, dist, drop,
        rgroup.astype(np.intp), margins.budget_db, margins.path_loss_db, margins.group,
        np.vstack([bands.start, bands.parent, bands.slot]).astype(np.intp),
        (float(antenna_m), float(receiver_m), float(wavelength_m), bool(diffraction)),
    )  # fmt: skip
    threads = max(1, numba.get_num_threads() if threads is None else threads)
    if threads == 1 or m * grid.rows < PARALLEL_SAMPLES:
        covered_columns(*args, 0, m, out)
        return z_site, out
    chunk = bands.period * max(1, round(m / (4 * threads * bands.period)))  # a parent in every job
    bounds = np.append(np.arange(0, m, chunk), m)
    jobs = [
        _pool(threads).submit(covered_columns, *args, int(a), int(b), out)
        for a, b in itertools.pairwise(bounds)
    ]
    for job in jobs:
        job.result()
    return z_site, out


def grid_polygon(lon: float, lat: float, grid: PolarGrid, covered: NDArray[np.bool_]) -> BaseGeometry:
    """Lon/lat (multi)polygon of the covered cells of a polar grid, holes included.

    The cells' boundary rings are traced in (column, row) index space
    (:func:`telecov.radio.rings.trace_rings`: a vertex at every cell corner, covered cells
    joined by their sides; straight runs along a radial keep a vertex every
    :data:`RADIAL_RUN_M`), every vertex is mapped to its bearing and distance with
    :meth:`pyproj.Geod.fwd`; a full circle is done in two halves so no piece wraps across
    0°/360°, and the pieces on their seams are joined by a coverage union
    (:func:`telecov.radio.traced.joined`).
    """
    n_cols, rows = covered.shape
    bearing = np.mod(grid.edges_deg, 360.0)
    if grid.closed:
        bearing[-1] = bearing[0]
    halves = [(0, n_cols // 2), (n_cols // 2, n_cols)] if grid.closed and n_cols > 1 else [(0, n_cols)]
    every = max(1, int(RADIAL_RUN_M * rows / max(float(grid.edge_reach_m.max()), 1.0)))  # rows
    seam: list[BaseGeometry] = []
    others: list[BaseGeometry] = []
    for start, stop in halves:
        xs, ys, ring_at, labels, twice_area = trace_rings(np.ascontiguousarray(covered[start:stop]))
        if not labels.size:
            continue
        xs, ys, ring_at = without_radial_steps(xs, ys, ring_at, width=stop - start, every=every)
        col = xs + start
        dist = ys / rows * grid.edge_reach_m[col]
        x, y, _ = GEOD.fwd(np.full(col.size, lon), np.full(col.size, lat), bearing[col], dist)
        at_site = dist == 0.0
        x[at_site], y[at_site] = lon, lat  # one site vertex, whatever the bearing
        rings = shapely.linearrings(
            np.column_stack([x, y]), indices=np.repeat(np.arange(labels.size), np.diff(ring_at))
        )
        if len(halves) > 1:
            joins = on_seam(xs, ring_at, labels, width=stop - start)
        else:  # an open grid: no seam, nothing to join
            joins = np.zeros(labels.size, dtype=bool)
        seam.extend(traced_polygons(rings[joins], labels[joins], twice_area[joins]))
        others.extend(traced_polygons(rings[~joins], labels[~joins], twice_area[~joins]))
    return joined(seam, others)


def outline(lon: float, lat: float, grid: PolarGrid) -> shapely.Polygon:
    """Return the grid's flat-ground outline: the disc (interpolated), lobe or wedge through its reaches."""
    bearings = grid.edges_deg[:-1] if grid.closed else grid.edges_deg
    reach = grid.edge_reach_m[:-1] if grid.closed else grid.edge_reach_m
    stencil = _disc_stencil(bearings, reach, closed=grid.closed)
    at, far = stencil or (bearings, reach)
    x, y, _ = GEOD.fwd(np.full(at.size, lon), np.full(at.size, lat), np.mod(at, 360.0), far)
    if stencil is not None:  # interpolated near the site's longitude, then wrapped as Geod.fwd wraps
        x, y = periodic_interpolated(np.vstack([unwrapped(np.asarray(x), lon), y]), bearings.size)
        x = unwrapped(x, 0.0)
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
    margins: Margins | None = None,
    frequency_mhz: float | None = None,
    receiver_m: float = MOBILE_HEIGHT_M,
    threads: int | None = None,
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
    margins
        The same as :class:`Margins` (without the grid-sized array); wins over ``margin_db``.
    frequency_mhz
        Carrier, needed for ``diffraction``.
    threads
        Threads sharing a large grid's radials (default ``numba.get_num_threads()``).

    """
    if mode not in TERRAIN_MODES:
        raise ValueError(f"unknown terrain mode {mode!r}: use los or diffraction")
    diffraction = mode == "diffraction"
    if diffraction and frequency_mhz is None:
        raise ValueError("diffraction needs frequency_mhz")
    if margins is None:
        margins = Margins.none(grid) if margin_db is None else Margins.of_grid(margin_db)
    wavelength = SPEED_OF_LIGHT / (frequency_mhz * 1e6) if frequency_mhz else 1.0
    z_site, covered = covered_grid(
        dem, lon, lat, grid, margins=margins, antenna_m=antenna_m, receiver_m=receiver_m,
        wavelength_m=wavelength, diffraction=diffraction, threads=threads,
    )  # fmt: skip
    if math.isnan(z_site) or covered.all():
        return outline(lon, lat, grid)
    return grid_polygon(lon, lat, grid, covered)
