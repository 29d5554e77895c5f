"""Engine internals: geodesic footprint intervals, and invariances of the scan-line measure."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
import shapely
from pyproj import Geod

from telecov.engine import bands as engine
from telecov.engine.lines import footprint_intervals, line_table
from telecov.engine.scan import Footprints, measure, regions_from_geometries
from telecov.io.population import open_population

from _worlds import Grid, box_km, write_raster

GEOD = Geod(ellps="WGS84")


def _intervals(lon0, lat0, radius, lat, azimuth=0.0, width=360.0, half_height=1e-9):
    """The footprint's intervals on a thin strip around ``lat`` (its scan line)."""
    fps = Footprints(*(np.array([v], dtype=float) for v in (lon0, lat0, radius, azimuth, width)))
    discs = fps.discs()
    line_k = line_table(np.array([lat + half_height]), np.array([lat - half_height]))
    a, b, xs = np.zeros(64), np.zeros(64), np.zeros(64)
    k = footprint_intervals(discs, 0, 0, line_k, xs, a, b, 0)
    return list(zip(a[:k], b[:k], strict=True))


@pytest.mark.parametrize("lat0", [0.0, 10.5, 18.3, 23.4, 45.0, -33.0])
@pytest.mark.parametrize("radius", [300.0, 3000.0, 5000.0, 35000.0])
def test_disc_chord_ends_lie_on_the_geodesic_circle(lat0: float, radius: float) -> None:
    lon0 = 105.7
    dlat = math.degrees(radius / 6_371_000.0)
    for frac in (-0.95, -0.6, -0.2, 0.0, 0.3, 0.7, 0.98):
        lat = lat0 + frac * dlat
        ((west, east),) = _intervals(lon0, lat0, radius, lat)
        for lon in (west, east):
            _, _, dist = GEOD.inv(lon0, lat0, lon, lat)
            # mid-latitude plane: error of order r^3/R^2 (3 mm at 5 km, 1 m at 35 km)
            assert dist == pytest.approx(radius, abs=1e-3 + radius**3 / 6.371e6**2)


def test_line_outside_the_disc_has_no_interval() -> None:
    assert _intervals(105.0, 18.0, 1000.0, 18.0 + 1.1 * math.degrees(1000 / 6.37e6)) == []


@pytest.mark.parametrize(("azimuth", "width"), [(0.0, 90.0), (45.0, 120.0), (300.0, 120.0), (10.0, 270.0)])
def test_sector_interval_points_have_bearings_inside_the_wedge(azimuth: float, width: float) -> None:
    lon0, lat0, radius = 105.7, 18.3, 2000.0
    dlat = math.degrees(radius / 6_371_000.0)
    for frac in np.linspace(-0.9, 0.9, 13):
        lat = lat0 + frac * dlat
        for west, east in _intervals(lon0, lat0, radius, lat, azimuth, width):
            for lon in np.linspace(west, east, 7)[1:-1]:
                fwd, _, dist = GEOD.inv(lon0, lat0, lon, lat)
                offset = (fwd - azimuth) % 360.0
                assert offset <= width + 1e-6
                assert dist <= radius + 1e-3


def _world(tmp_path, n_sites: int = 400, seed: int = 3):
    rng = np.random.default_rng(seed)
    grid = Grid(west=105.0, north=18.6, ncols=60, nrows=48, res=1 / 120)
    values = rng.gamma(2.0, 150.0, size=(grid.nrows, grid.ncols))
    values[:5, :7] = np.nan
    raster = write_raster(tmp_path / "pop.tif", grid, values)
    cells = [box_km(105.05, 18.25, 4 * i, 4 * j, 4 * i + 4, 4 * j + 4) for i in range(5) for j in range(5)]
    cells.append(shapely.Point(105.25, 18.35).buffer(0.004))  # a commune smaller than a pixel
    parent = np.array([i % 3 for i in range(len(cells))], dtype=np.int64)
    regions = regions_from_geometries(np.array(cells, dtype=object), parent=parent)
    lon = rng.uniform(105.0, 105.45, n_sites)
    lat = rng.uniform(18.2, 18.55, n_sites)
    sector = rng.random(n_sites) < 0.3
    fps = Footprints(
        lon=lon,
        lat=lat,
        radius=rng.uniform(300, 3000, n_sites),
        azimuth=np.where(sector, rng.uniform(0, 360, n_sites), 0.0),
        width=np.where(sector, 120.0, 360.0),
    )
    layers = [np.arange(0, n_sites, 2), np.arange(1, n_sites, 3), np.arange(n_sites)]
    return regions, fps, layers, raster


def _run(regions, fps, layers, raster_path, **kw):
    opts = {"residential_density": 100.0, "resolution_m": 10.0, **kw}
    with open_population(raster_path) as raster:
        m = measure(regions, fps, layers, raster, **opts)
    return m.base, m.covered


def test_banding_does_not_change_results(tmp_path, monkeypatch) -> None:
    world = _world(tmp_path)
    base1, cov1 = _run(*world)
    monkeypatch.setattr(engine, "BAND_BYTES", 60 * 8 * 8 * 3)  # three pixel rows per band
    base2, cov2 = _run(*world)
    np.testing.assert_allclose(base2, base1, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(cov2, cov1, rtol=1e-12, atol=1e-6)


def test_thread_count_does_not_change_results(tmp_path) -> None:
    world = _world(tmp_path)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _run(*world)
    finally:
        numba.set_num_threads(before)
    many = _run(*world)
    np.testing.assert_allclose(many[1], one[1], rtol=1e-12, atol=1e-6)


def test_site_order_and_duplicates_do_not_change_results(tmp_path) -> None:
    regions, fps, layers, raster = _world(tmp_path)
    _base, cov = _run(regions, fps, layers, raster)
    perm = np.random.default_rng(9).permutation(len(fps))
    inverse = np.argsort(perm)
    shuffled = Footprints(*(getattr(fps, f)[perm] for f in ("lon", "lat", "radius", "azimuth", "width")))
    shuffled_layers = [np.sort(inverse[ix]) for ix in layers]
    _, cov_s = _run(regions, shuffled, shuffled_layers, raster)
    np.testing.assert_allclose(cov_s, cov, rtol=1e-9, atol=1e-4)
    doubled = Footprints(
        *(np.concatenate([getattr(fps, f)] * 2) for f in ("lon", "lat", "radius", "azimuth", "width"))
    )
    doubled_layers = [np.concatenate([ix, ix + len(fps)]) for ix in layers]
    _, cov_d = _run(regions, doubled, doubled_layers, raster)
    np.testing.assert_allclose(cov_d, cov, rtol=1e-9, atol=1e-4)


def test_pruning_is_exact_against_unpruned_sum_of_single_discs(tmp_path) -> None:
    """A dense layer's coverage equals the union computed disc by disc on a coarse check.

    With every footprint in its own layer the pruning never applies; the union layer must
    cover at least the largest single footprint and at most the sum of all of them.
    """
    regions, fps, _layers, raster = _world(tmp_path, n_sites=60)
    singles = [np.array([i]) for i in range(len(fps))]
    _, cov_single = _run(regions, fps, [*singles, np.arange(len(fps))], raster)
    union = cov_single[:, -1, 0]
    parts = cov_single[:, :-1, 0]
    assert np.all(union <= parts.sum(axis=1) + 1e-6)
    assert np.all(union >= parts.max(axis=1) - 1e-6)


def test_finer_resolution_converges(tmp_path) -> None:
    world = _world(tmp_path, n_sites=150)
    base10, cov10 = _run(*world, resolution_m=10.0)
    base2, cov2 = _run(*world, resolution_m=2.0)
    area10, area2 = base10[:, 0], base2[:, 0]
    assert np.all(np.abs(area10 - area2) <= 5e-4 * area2 + 100.0)
    covered_pct10 = 100 * cov10[:, :, 1] / np.maximum(base10[:, None, 1], 1e-9)
    covered_pct2 = 100 * cov2[:, :, 1] / np.maximum(base2[:, None, 1], 1e-9)
    assert np.max(np.abs(covered_pct10 - covered_pct2)) < 0.1


def test_parent_and_total_are_unions_not_sums(tmp_path) -> None:
    grid = Grid(west=105.0, north=18.6, ncols=40, nrows=40, res=1 / 120)
    raster = write_raster(tmp_path / "u.tif", grid, np.full((40, 40), 50.0))
    a = shapely.box(105.05, 18.35, 105.15, 18.45)
    b = shapely.box(105.10, 18.35, 105.20, 18.45)  # overlaps a by half
    regions = regions_from_geometries(np.array([a, b], dtype=object), parent=np.array([0, 0]))
    base, _ = _run(regions, Footprints(*(np.zeros(0) for _ in range(5))), [], raster)
    areas = [abs(GEOD.geometry_area_perimeter(g)[0]) for g in (a, b, a.union(b))]
    assert base[0, 0] == pytest.approx(areas[0], rel=1e-5)
    assert base[1, 0] == pytest.approx(areas[1], rel=1e-5)
    assert base[2, 0] == pytest.approx(areas[2], rel=1e-5)  # parent: the union
    assert base[3, 0] == pytest.approx(areas[2], rel=1e-5)  # total: the union
