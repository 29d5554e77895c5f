"""The fused terrain kernel against slow references: pure Python per sample, and the plain kernel.

:func:`telecov.radio.radials.covered_columns` samples the DEM, tests line of sight and
evaluates Deygout with pruned edge searches in one pass; here every sample is judged again on
its own, by explicit loops over its whole profile, on small random DEMs with rough terrain
(many shadows, many diffraction verdicts either way).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
import shapely.affinity
import shapely.geometry
from affine import Affine
from pyproj import CRS, Transformer
from rasterio.features import shapes

from telecov.radio.dem import DemWindow
from telecov.radio.kernels import covered_radials, knife_edge_j
from telecov.radio.rings import trace_rings
from telecov.radio.terrain import (
    EARTH_RADIUS_M,
    K_FACTOR,
    OVERSAMPLE,
    Margins,
    _weights,
    covered_grid,
    grid_positions,
    inner_bands,
    outline,
    polar_grid,
    sample_ground,
)
from telecov.radio.traced import joined, on_seam, traced_polygons

LON, LAT = 105.9, 18.2
AE = K_FACTOR * EARTH_RADIUS_M
LAMBDA = 299_792_458.0 / 942.5e6


def random_dem(seed, *, pixels=48, pixel_deg=0.0009, rough=40.0, nodata=False):
    rng = np.random.default_rng(seed)
    z = 200.0 + np.cumsum(np.cumsum(rng.normal(0.0, rough, (pixels, pixels)), 0), 1) / 6.0
    z += rng.uniform(0.0, 60.0, z.shape)  # sharp single-pixel peaks: knife edges everywhere
    if nodata:
        z[rng.random(z.shape) < 0.03] = np.nan
    west, north = LON - pixels / 2 * pixel_deg, LAT + pixels / 2 * pixel_deg
    transform = Affine(pixel_deg, 0.0, west, 0.0, -pixel_deg, north)
    return DemWindow(z, transform, CRS.from_epsg(4326), pixel_deg * 105_000.0, "random")


def _bilinear(grid, c, r):
    ny, nx = grid.shape
    x, y = c - 0.5, r - 0.5
    x0, y0 = math.floor(x), math.floor(y)
    if x0 < 0 or y0 < 0 or x0 + 1 >= nx or y0 + 1 >= ny:
        cx, cy = math.floor(c), math.floor(r)
        return float(grid[cy, cx]) if 0 <= cx < nx and 0 <= cy < ny else math.nan
    tx, ty = x - x0, y - y0
    top = grid[y0, x0] * (1.0 - tx) + grid[y0, x0 + 1] * tx
    bottom = grid[y0 + 1, x0] * (1.0 - tx) + grid[y0 + 1, x0 + 1] * tx
    return float(top * (1.0 - ty) + bottom * ty)


def _nu(d, z, i, a, za, b, zb):
    d1, span = d[i] - d[a], d[b] - d[a]
    d2 = span - d1
    if d1 <= 0.0 or d2 <= 0.0:
        return -math.inf
    h = z[i] - (za + (zb - za) * d1 / span)
    return h * math.sqrt(2.0 * span / (LAMBDA * d1 * d2))


def _edge(d, z, a, za, b, zb):
    """The first point of largest ν strictly between a and b, by looking at every one."""
    best, best_v = -1, -math.inf
    for i in range(a + 1, b):
        v = _nu(d, z, i, a, za, b, zb)
        if v > best_v:
            best, best_v = i, v
    return best, best_v


def _deygout(d, z, j, z_tx, z_rx):
    p, vp = _edge(d, z, 0, z_tx, j, z_rx)
    if p < 0 or not vp > 0.0:
        return 0.0
    _, vt = _edge(d, z, 0, z_tx, p, z[p])
    _, vr = _edge(d, z, p, z[p], j, z_rx)
    return knife_edge_j(vp) + knife_edge_j(vt) + knife_edge_j(vr)


def reference(dem, grid, margin, *, antenna_m, receiver_m, diffraction):
    """Every sample judged alone: its profile from scratch, its ray against every point before it.

    A radial's samples near the site are its parent's (:class:`InnerBands`): their ground, and
    their verdicts.
    """
    col, row = grid_positions(dem, LON, LAT, grid)
    m, n = grid.centre_deg.size, grid.rows
    u = (np.arange(n) + 0.5) / n
    w0, wm, w1 = (2 * u - 1) * (u - 1), 4 * u * (1 - u), u * (2 * u - 1)
    z_tx = _bilinear(dem.elevation_m, col[-1], row[-1]) + antenna_m
    ground = np.array([
        [_bilinear(dem.elevation_m, col[-1] * w0[j] + col[k] * wm[j] + col[m + k] * w1[j],
                   row[-1] * w0[j] + row[k] * wm[j] + row[m + k] * w1[j]) for j in range(n)]
        for k in range(m)
    ])  # fmt: skip
    bands = inner_bands(grid)
    ground = bands.inherit(ground)
    out = np.zeros((m, n), dtype=bool)
    for k in range(m):
        d, z = [0.0], [z_tx]
        for j in range(n):
            dist = grid.centre_reach_m[k] * u[j]
            z_j = -math.inf if math.isnan(ground[k, j]) else ground[k, j] - dist * dist / (2.0 * AE)
            d.append(dist)
            z.append(z_j)
            if margin[k, j] < 0.0:
                continue
            if math.isnan(ground[k, j]):
                out[k, j] = True
                continue
            z_rx = z_j + receiver_m
            slope = (z_rx - z_tx) / dist
            clear = all(z[i] == -math.inf or (z[i] - z_tx) / d[i] <= slope for i in range(1, j + 1))
            out[k, j] = clear or (
                diffraction and _deygout(np.array(d), np.array(z), j + 1, z_tx, z_rx) <= margin[k, j]
            )
    return bands.inherit(out)


def _grid(dem, reach_m, *, disc=False):
    """A disc (its radials share their first samples), or a reach varying with bearing."""
    return polar_grid(lambda b: reach_m * (1.0 + (0.0 if disc else 0.2) * np.cos(np.radians(b))),
                      azimuth_deg=None, beamwidth_deg=360.0, max_reach_m=1.2 * reach_m,
                      pixel_m=dem.pixel_m)  # fmt: skip


@pytest.mark.parametrize(
    ("seed", "diffraction", "nodata", "disc"),
    [(1, True, False, False), (2, True, True, False), (3, False, False, False), (4, True, False, True),
     (5, False, True, True)],
)  # fmt: skip
def test_fast_kernel_equals_the_per_sample_reference(seed, diffraction, nodata, disc):
    dem = random_dem(seed, nodata=nodata)
    grid = _grid(dem, 1500.0, disc=disc)
    assert (inner_bands(grid).parent >= 0).any() == disc
    rng = np.random.default_rng(seed)
    # margins from 0 to ~45 dB, falling with distance like a path loss, some < 0 (not covered)
    margin = 45.0 * (1.0 - grid.distances_m / grid.distances_m.max()) + rng.normal(
        0.0, 3.0, grid.distances_m.shape
    )
    _, fast = covered_grid(dem, LON, LAT, grid, margins=Margins.of_grid(margin), antenna_m=12.0,
                           receiver_m=1.5, wavelength_m=LAMBDA, diffraction=diffraction)  # fmt: skip
    slow = reference(dem, grid, margin, antenna_m=12.0, receiver_m=1.5, diffraction=diffraction)
    assert slow.any() and not slow.all()
    assert 0.05 < 1.0 - slow.mean() < 0.95  # shadows and coverage both: the test can fail either way
    np.testing.assert_array_equal(fast, slow)


@pytest.mark.parametrize(("threads", "disc"), [(1, False), (3, False), (1, True), (3, True)])
def test_fast_kernel_equals_the_plain_kernel(threads, disc):
    dem = random_dem(7, pixels=300, pixel_deg=0.0003, rough=8.0)
    grid = _grid(dem, 3000.0, disc=disc)
    assert grid.centre_deg.size * grid.rows > 100_000  # large enough to be shared among threads
    margin = 40.0 * (1.0 - grid.distances_m / grid.distances_m.max())
    margins = Margins.of_grid(margin)
    z_site, fast = covered_grid(dem, LON, LAT, grid, margins=margins, antenna_m=20.0, receiver_m=1.5,
                                wavelength_m=LAMBDA, diffraction=True, threads=threads)  # fmt: skip
    z0, ground = sample_ground(dem, LON, LAT, grid)
    plain = covered_radials(ground, grid.distances_m, margins.full(), z0, 20.0, 1.5, AE, LAMBDA, True)
    assert z_site == z0
    assert 0.05 < plain.mean() < 0.95
    np.testing.assert_array_equal(fast, plain)


@pytest.mark.parametrize(("reach_m", "pixel_m"), [(33_600.0, 90.0), (5_000.0, 30.0), (800.0, 90.0)])
def test_inner_samples_stay_as_dense_as_the_edge(reach_m, pixel_m):
    grid = polar_grid(lambda b: np.full(np.shape(b), reach_m), azimuth_deg=None, beamwidth_deg=360.0,
                      max_reach_m=reach_m, pixel_m=pixel_m)  # fmt: skip
    spacing, (m, n) = pixel_m / OVERSAMPLE, (grid.centre_deg.size, grid.rows)
    bands = inner_bands(grid)
    owner = bands.inherit(np.repeat(np.arange(m)[:, None], n, axis=1))  # whose sample each one is
    assert (bands.parent < np.arange(m)).all()
    dist = grid.distances_m
    off = np.radians(np.abs(grid.centre_deg[owner] - grid.centre_deg[:, None]))
    assert (off * dist <= spacing + 1e-6).all()  # within a spacing (2/3 pixel) of its own bearing
    for j in range(n):  # the radials sampled at each distance are at most a spacing apart
        cols = np.unique(owner[:, j])
        gaps = np.diff(np.append(grid.centre_deg[cols], grid.centre_deg[cols[0]] + 360.0))
        assert np.radians(gaps.max()) * dist[0, j] <= spacing + 1e-6
    own = (n - bands.start).sum() / (m * n)
    assert 0.6 < own < 0.7 if n >= 64 else own <= 1.0  # large grids sample about 2/3 of the samples
    if reach_m > 30_000.0:  # the rural 2G grid of the province's benchmark: 2 million samples
        assert 1.9e6 < m * n < 2.1e6
    assert (owner[:, -1] == np.arange(m)).all()  # at the edge every radial is its own


def test_margins_of_a_model_are_those_of_every_sample():
    dem = random_dem(3)
    grid = _grid(dem, 2000.0)
    budget = np.linspace(150.0, 160.0, grid.centre_deg.size)

    def loss(d):
        return 100.0 + 35.0 * np.log10(d / 1000.0)

    got = Margins.of_model(grid, budget, loss)
    np.testing.assert_array_equal(got.full(), budget[:, None] - loss(grid.distances_m))
    assert Margins.none(grid).full().shape == grid.distances_m.shape
    assert not Margins.none(grid).full().any()


# --- boundary rings of the covered cells ----------------------------------------------------


def _traced(cells):
    xs, ys, ring_at, labels, twice_area = trace_rings(np.ascontiguousarray(cells))
    rings = shapely.linearrings(
        np.column_stack([xs, ys]).astype(float), indices=np.repeat(np.arange(labels.size), np.diff(ring_at))
    )
    return traced_polygons(rings, labels, twice_area), twice_area


@pytest.mark.parametrize("seed", range(6))
def test_traced_rings_are_the_polygons_of_rasterio_shapes(seed):
    rng = np.random.default_rng(seed)
    cells = rng.random((37, 23)) < (0.3 + 0.1 * seed)  # columns × rows; corners touching often
    polys, twice_area = _traced(cells)
    # rasterio.features.shapes on the same cells (image columns = grid columns, image rows = rows)
    image = cells.T.astype(np.uint8)
    found = shapes(image, mask=image.astype(bool), transform=Affine.translation(100.0, 0.0))
    want = [shapely.affinity.translate(shapely.geometry.shape(g), -100.0, 0.0) for g, _ in found]
    assert len(polys) == len(want)
    assert all(p.is_valid for p in polys)
    assert sum(p.area for p in polys) == cells.sum() == twice_area.sum() / 2
    assert shapely.symmetric_difference(shapely.union_all(polys), shapely.union_all(want)).area == 0.0
    assert sorted(p.area for p in polys) == sorted(p.area for p in want)
    assert sorted(len(p.interiors) for p in polys) == sorted(len(p.interiors) for p in want)


@pytest.mark.parametrize("seed", range(4))
def test_two_halves_joined_on_their_seam_are_the_whole_trace(seed):
    rng = np.random.default_rng(seed)
    cells = rng.random((40, 17)) < 0.55
    whole = shapely.union_all(_traced(cells)[0])
    seam, others = [], []
    for start, stop in [(0, 20), (20, 40)]:
        xs, ys, ring_at, labels, twice_area = trace_rings(np.ascontiguousarray(cells[start:stop]))
        rings = shapely.linearrings(
            np.column_stack([xs + start, ys]).astype(float),
            indices=np.repeat(np.arange(labels.size), np.diff(ring_at)),
        )
        joins = on_seam(xs, ring_at, labels, width=stop - start)
        seam.extend(traced_polygons(rings[joins], labels[joins], twice_area[joins]))
        others.extend(traced_polygons(rings[~joins], labels[~joins], twice_area[~joins]))
    got = joined(seam, others)
    assert got.is_valid
    assert got.area == cells.sum()
    assert shapely.symmetric_difference(got, whole).area == 0.0
    # only the components cut by x = 20 (or on x = 0, x = 40) were joined: the others are as traced
    assert len(shapely.get_parts(got)) == len(shapely.get_parts(whole))


def test_traced_rings_of_an_island_in_a_lake_in_an_island():
    cells = np.zeros((9, 9), dtype=bool)
    cells[1:8, 1:8] = True
    cells[2:7, 2:7] = False
    cells[3:6, 3:6] = True
    cells[4, 4] = False
    polys, twice_area = _traced(cells)
    assert sorted((p.area, len(p.interiors)) for p in polys) == [(8.0, 1), (24.0, 1)]
    assert sorted(twice_area.tolist()) == [-50, -2, 18, 98]


def _sampled_pixels(dem, grid):
    """DEM pixels (as row · 10⁵ + column) holding a sample the kernel takes, and the site's position."""
    m = grid.centre_deg.size
    col, row = grid_positions(dem, LON, LAT, grid)
    _, (w0, wm, w1) = _weights(grid.rows)
    own = np.arange(grid.rows)[None, :] >= inner_bands(grid).start[:, None]  # not inherited

    def along(v):
        return np.floor(v[-1] * w0 + v[:m, None] * wm + v[m : 2 * m, None] * w1)[own].astype(np.int64)

    return np.unique(along(row) * 100_000 + along(col)), col[-1], row[-1]


@pytest.mark.parametrize(("oversample", "skips"), [(OVERSAMPLE, False), (1.0, True)])
def test_every_dem_pixel_in_the_reach_holds_a_sample(oversample, skips):
    # a 90 m UTM DEM and a rural 2G reach of 33.6 km, as in the province's benchmark
    utm = CRS.from_epsg(32648)
    x0, y0 = Transformer.from_crs(4326, utm, always_xy=True).transform(LON, LAT)
    half = 400
    transform = Affine(90.0, 0.0, x0 - half * 90.0, 0.0, -90.0, y0 + half * 90.0)
    dem = DemWindow(np.zeros((2 * half, 2 * half)), transform, utm, 90.0, "flat")
    reach = 33_600.0
    grid = polar_grid(lambda b: np.full(np.shape(b), reach), azimuth_deg=None, beamwidth_deg=360.0,
                      max_reach_m=reach, pixel_m=90.0, oversample=oversample)  # fmt: skip
    pixels, c0, r0 = _sampled_pixels(dem, grid)
    r, c = np.mgrid[0 : 2 * half, 0 : 2 * half]
    inside = np.hypot(c + 0.5 - c0, r + 0.5 - r0) * 90.0 < 0.98 * reach  # UTM scale: ≤ 0.1 %
    missing = np.setdiff1d((r * 100_000 + c)[inside], pixels)
    assert bool(missing.size) is skips


def _exact_positions(dem, lon, lat, grid):
    """Every column's half- and full-reach points solved one by one (longitudes kept near the site's)."""
    from telecov.geodesy import GEOD

    m = grid.centre_deg.size
    x, y, _ = GEOD.fwd(np.full(2 * m, lon), np.full(2 * m, lat), np.tile(grid.centre_deg % 360.0, 2),
                       np.concatenate([grid.centre_reach_m / 2.0, grid.centre_reach_m]))  # fmt: skip
    x = lon + (np.append(x, lon) - lon + 180.0) % 360.0 - 180.0
    y = np.append(y, lat)
    if not dem.lonlat:
        x, y = Transformer.from_crs(4326, dem.crs, always_xy=True).transform(x, y)
    return ~dem.transform * (np.asarray(x), np.asarray(y))


@pytest.mark.parametrize("reach", [600.0, 3_000.0, 33_600.0])
@pytest.mark.parametrize(
    ("crs", "lon", "pixel"), [(32648, LON, 90.0), (4326, LON, 1 / 1200), (4326, 179.9, 1 / 1200)]
)
def test_disc_positions_interpolated_from_a_stencil_are_the_geodesic_points(reach, crs, lon, pixel):
    # a disc's half- and full-reach points come from 16 exact points per circle; every column's own
    # solve agrees to 1e-6 pixel (0.1 mm on a 90 m DEM), across the antimeridian too
    x0, y0 = Transformer.from_crs(4326, crs, always_xy=True).transform(lon, LAT)
    dem = DemWindow(np.zeros((8, 8)), Affine(pixel, 0.0, x0 - 4 * pixel, 0.0, -pixel, y0 + 4 * pixel),
                    CRS.from_epsg(crs), 90.0, "flat")  # fmt: skip
    disc = polar_grid(lambda b: np.full(np.shape(b), reach), azimuth_deg=None, beamwidth_deg=360.0,
                      max_reach_m=reach, pixel_m=90.0)  # fmt: skip
    assert disc.centre_deg.size > 32
    col, row = grid_positions(dem, lon, LAT, disc)
    want_col, want_row = _exact_positions(dem, lon, LAT, disc)
    assert np.abs(col - want_col).max() < 1e-6
    assert np.abs(row - want_row).max() < 1e-6


@pytest.mark.parametrize("reach", [600.0, 3_000.0, 33_600.0])
@pytest.mark.parametrize("lon", [LON, 179.9])
def test_a_disc_outline_interpolated_from_a_stencil_has_the_geodesic_vertices(reach, lon):
    # a flat-ground disc's vertices come from 16 exact points; each vertex's own solve agrees to
    # 1e-9 degree (0.1 mm), with longitudes wrapped as Geod.fwd wraps them across the antimeridian
    from telecov.geodesy import GEOD

    disc = polar_grid(lambda b: np.full(np.shape(b), reach), azimuth_deg=None, beamwidth_deg=360.0,
                      max_reach_m=reach, pixel_m=90.0)  # fmt: skip
    assert disc.edges_deg.size > 33
    got = shapely.get_coordinates(outline(lon, LAT, disc))[:-1][::-1]
    bearings = disc.edges_deg[:-1]
    x, y, _ = GEOD.fwd(np.full(bearings.size, lon), np.full(bearings.size, LAT), bearings % 360.0,
                       disc.edge_reach_m[:-1])  # fmt: skip
    assert got.shape == (bearings.size, 2)
    assert np.abs((got[:, 0] - x + 180.0) % 360.0 - 180.0).max() < 1e-9
    assert np.abs(got[:, 1] - y).max() < 1e-9
    assert np.abs(got[:, 0]).max() <= 180.0


def test_lobe_positions_are_solved_column_by_column():
    dem = random_dem(3)
    lobe = polar_grid(lambda b: 2_000.0 + 500.0 * np.cos(np.radians(b)), azimuth_deg=30.0, beamwidth_deg=65.0,
                      max_reach_m=2_500.0, pixel_m=100.0)  # fmt: skip
    col, row = grid_positions(dem, LON, LAT, lobe)
    want_col, want_row = _exact_positions(dem, LON, LAT, lobe)
    assert np.abs(col - want_col).max() < 1e-9 and np.abs(row - want_row).max() < 1e-9
