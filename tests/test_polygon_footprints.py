"""Polygon footprints in the engine: measured like communes, beside analytic discs, holes allowed.

Every case is checked against an independent computation: shapely unions and differences of
the polygons, ellipsoidal areas with ``pyproj.Geod`` and exactextract fraction-weighted sums
(tests/reference.py), or against the analytic disc the polygon traces.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Geod

from telecov.engine import Footprints, measure, measure_polygons, regions_from_geometries
from telecov.engine.bands import bands
from telecov.engine.gap_kernels import gap_band
from telecov.engine.outlines import chains_of, polygon_rings
from telecov.footprints import footprint_polygons, footprints_of
from telecov.io.population import open_population

from _accuracy import lognormal_raster
from _worlds import Grid, box_km, write_raster
from reference import ellipsoidal_area_km2, geodesic_disc, load_population, raster_sums

GEOD = Geod(ellps="WGS84")
GRID = Grid(west=105.5, north=18.3, ncols=40, nrows=40)
LON, LAT = GRID.lon(20.37), GRID.lat(20.61)
OPTS = {"residential_density": 100.0, "resolution_m": 10.0}


def _fine_disc(lon: float, lat: float, radius: float, n: int = 8192) -> shapely.Polygon:
    """Inscribed geodesic polygon whose area equals the disc's (radius scaled by sqrt(θ / sin θ))."""
    theta = 2 * math.pi / n
    return geodesic_disc(lon, lat, radius * math.sqrt(theta / math.sin(theta)), n_vertices=n)


def _footprints(lon, lat, radius, polygons=None) -> Footprints:
    n = len(lon)
    return Footprints(
        lon=np.asarray(lon, dtype=float), lat=np.asarray(lat, dtype=float),
        radius=np.asarray(radius, dtype=float), azimuth=np.zeros(n), width=np.full(n, 360.0),
        polygons=None if polygons is None else np.asarray(polygons, dtype=object),
    )  # fmt: skip


@pytest.fixture(scope="module")
def raster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_raster(tmp_path_factory.mktemp("poly") / "pop.tif", GRID, lognormal_raster(GRID, seed=11))


def _measure(raster: Path, areas: list[shapely.Polygon], fps: Footprints, layers) -> tuple:
    with open_population(raster) as src:
        m = measure(regions_from_geometries(np.array(areas, dtype=object)), fps, layers, src, **OPTS)
    return m.base, m.covered


def test_polygon_equal_to_a_fine_disc_measures_like_the_disc(raster: Path) -> None:
    square = box_km(LON, LAT, 6, 6, 6, 6)
    offsets = [(0.0, 0.0), (2.2, -1.3), (-3.1, 2.4)]
    lons, lats = zip(*[_shift(LON, LAT, dx, dy) for dx, dy in offsets], strict=True)
    radii = [2500.0, 600.0, 1800.0]
    discs = _footprints(lons, lats, radii)
    polys = _footprints(
        lons, lats, radii, [_fine_disc(x, y, r) for x, y, r in zip(lons, lats, radii, strict=True)]
    )
    layers = [np.array([0]), np.array([1]), np.array([0, 1, 2])]
    _, cov_disc = _measure(raster, [square], discs, layers)
    _, cov_poly = _measure(raster, [square], polys, layers)
    np.testing.assert_allclose(cov_poly[0, :, 0], cov_disc[0, :, 0], rtol=2e-6)  # km²: exact in each strip
    np.testing.assert_allclose(cov_poly[0, :, 1], cov_disc[0, :, 1], rtol=2e-4)  # people
    assert cov_disc[0, 0, 0] / 1e6 == pytest.approx(math.pi * 2.5**2, rel=1e-5)


def _cells(seed: int, *, n: int = 160, share: float = 0.55) -> shapely.MultiPolygon:
    """A shadowed footprint's kind of outline: a union of random 65 m cells, holes and islands."""
    rng = np.random.default_rng(seed)
    step = 0.0006
    west, south = LON - n / 2 * step, LAT - n / 2 * step
    cells = [
        shapely.box(west + i * step, south + j * step, west + (i + 1) * step, south + (j + 1) * step)
        for i, j in zip(*np.nonzero(rng.random((n, n)) < share), strict=True)
    ]
    return shapely.union_all(cells)


@pytest.mark.parametrize("seed", [1, 2])
def test_an_outline_of_many_short_chains_measures_like_the_reference(raster: Path, seed: int) -> None:
    shape = _cells(seed)
    rings = polygon_rings(np.array([shape, _fine_disc(LON, LAT, 800.0)], dtype=object), np.array([0, 1]))
    chains = chains_of(rings, 2)
    for f in range(2):  # long chains first, then the others by top, highest first, within the bound
        c = np.arange(chains.fptr[f], chains.fptr[f + 1])
        top, bottom = chains.cy[chains.cptr[c]], chains.cy[chains.cptr[c + 1] - 1]
        n_long = int(chains.ext[f, 6])
        assert (np.diff(top[n_long:]) <= 0).all()
        assert (top - bottom)[n_long:].max(initial=0.0) <= chains.ext[f, 7]
    assert int(chains.ext[0, 6]) < 0.5 * np.diff(chains.fptr)[0] and int(chains.ext[1, 6]) == 2
    areas = [box_km(LON, LAT, 3, 3, 3, 3), box_km(LON, LAT, 1, 4, 5, 1)]
    fps = _footprints([LON, LON], [LAT, LAT], [6000.0, 800.0], [shape, None])
    _base, cov = _measure(raster, areas, fps, [np.array([0]), np.array([0, 1])])
    grids = load_population(raster, residential_density=100.0)
    for li, layer in enumerate([shape, shape.union(_fine_disc(LON, LAT, 800.0))]):
        cuts = [a.intersection(layer) for a in areas]
        np.testing.assert_allclose(cov[:2, li, 0] / 1e6, [ellipsoidal_area_km2(c) for c in cuts], rtol=1e-4)
        np.testing.assert_allclose(cov[:2, li, 1], raster_sums(grids, cuts)[:, 0], rtol=1e-3)


def _shift(lon: float, lat: float, east_km: float, north_km: float) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, 90.0 if east_km >= 0 else 270.0, abs(east_km) * 1000)
    x, y, _ = GEOD.fwd(x, y, 0.0 if north_km >= 0 else 180.0, abs(north_km) * 1000)
    return float(x), float(y)


def test_polygon_with_a_hole_and_a_disc_union_in_one_layer(raster: Path) -> None:
    """An annulus (a terrain shadow in the middle), a disc across its hole, and both together."""
    areas = [box_km(LON, LAT, 6, 6, 6, 6), box_km(LON, LAT, 1, 1, 5, 4)]
    outer, inner = _fine_disc(LON, LAT, 3000.0), _fine_disc(LON, LAT, 1500.0)
    ring = shapely.Polygon(outer.exterior.coords, [inner.exterior.coords[::-1]])
    dlon, dlat = _shift(LON, LAT, 0.8, 0.4)
    disc = _fine_disc(dlon, dlat, 1000.0)
    fps = _footprints([LON, dlon], [LAT, dlat], [3000.0, 1000.0], [ring, None])
    layers = [np.array([0]), np.array([1]), np.array([0, 1])]
    _base, cov = _measure(raster, areas, fps, layers)
    grids = load_population(raster, residential_density=100.0)
    for li, shape in enumerate([ring, disc, ring.union(disc)]):
        cuts = [a.intersection(shape) for a in areas]
        want_km2 = [ellipsoidal_area_km2(c) for c in cuts]
        want = raster_sums(grids, cuts)
        np.testing.assert_allclose(cov[:2, li, 0] / 1e6, want_km2, rtol=1e-4)
        np.testing.assert_allclose(cov[:2, li, 1], want[:, 0], rtol=1e-3)
        np.testing.assert_allclose(cov[:2, li, 2] / 1e6, want[:, 1], rtol=1e-3, atol=1e-6)
    hole = ellipsoidal_area_km2(inner)
    assert cov[0, 0, 0] / 1e6 == pytest.approx(math.pi * (9.0 - 2.25), rel=1e-5)
    assert cov[0, 2, 0] / 1e6 < cov[0, 0, 0] / 1e6 + cov[0, 1, 0] / 1e6 - 0.5  # the overlap counts once
    assert hole == pytest.approx(math.pi * 2.25, rel=1e-6)


def test_footprints_of_takes_polygons_and_measure_polygons_measures_them(raster: Path) -> None:
    import geopandas as gpd

    sites = gpd.GeoDataFrame(
        {"radius_m": [3000.0, 800.0], "azimuth": [np.nan, 90.0], "beamwidth": [np.nan, 120.0]},
        geometry=gpd.points_from_xy([LON, LON + 0.01], [LAT, LAT]), crs="EPSG:4326",
    )  # fmt: skip
    lobe = shapely.Polygon(
        [(LON, LAT), (LON + 0.02, LAT + 0.01), (LON + 0.03, LAT), (LON + 0.02, LAT - 0.012)]
    )
    fps = footprints_of(sites, polygons=[lobe, None])
    assert fps.polygon_mask().tolist() == [True, False] and fps.sector_mask().tolist() == [False, True]
    with pytest.raises(ValueError, match="1 polygons for 2 sites"):
        footprints_of(sites, polygons=[lobe])
    zone = box_km(LON, LAT, 2, 2, 4, 2)
    with open_population(raster) as src:
        m = measure_polygons([zone], src, footprints=fps, layers=[np.array([0])], **OPTS)
    assert m.covered[0, 0, 0] / 1e6 == pytest.approx(ellipsoidal_area_km2(zone.intersection(lobe)), rel=1e-4)
    shapes = footprint_polygons(sites, polygons=[lobe, None]).geometry
    assert shapes.iloc[0].equals(lobe)
    assert shapes.iloc[1].area > 0 and shapes.iloc[1].exterior.is_ccw


def test_gap_kernel_keeps_what_polygon_footprints_leave_uncovered(raster: Path) -> None:
    """The gap rectangles' people add up to the residential people the measure leaves uncovered."""
    areas = [box_km(LON, LAT, 6, 6, 6, 6), box_km(LON, LAT, 2, 3, 4, 1)]
    outer, inner = _fine_disc(LON, LAT, 3500.0, 1024), _fine_disc(LON, LAT, 1200.0, 1024)
    ring = shapely.Polygon(outer.exterior.coords, [inner.exterior.coords[::-1]])
    dlon, dlat = _shift(LON, LAT, -2.0, 1.0)
    fps = _footprints([LON, dlon], [LAT, dlat], [3500.0, 900.0], [ring, None])
    layer = np.array([0, 1])
    regions = regions_from_geometries(np.array(areas, dtype=object))
    base, cov = _measure(raster, areas, fps, [layer])
    uncovered = np.zeros(2)
    people = np.zeros((2, 2))
    with open_population(raster) as src:
        strip0 = 0
        for band in bands(regions, fps, [layer], src, **OPTS):
            *rects, count = gap_band(
                band.rows,
                band.strips,
                band.grid,
                band.pixels,
                band.edges,
                band.discs,
                band.members,
                strip0,
                people,
            )
            np.add.at(uncovered, rects[0][:count], rects[4][:count])
            strip0 += band.tops.shape[0]
    want = base[:2, 3] - cov[:2, 0, 3]
    np.testing.assert_allclose(uncovered, want, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(people[:, 1], base[:2, 3], rtol=1e-12)
    assert want.min() > 0


def test_footprints_without_split_corners_take_one_interval_per_coarse_strip(raster: Path) -> None:
    """A shadowed outline's corners split strips; discs of another layer keep the coarse strips.

    The discs are measured once per coarse strip (the row's strips without the corner splits),
    the outline on every line; each layer still matches the exact reference, and a combined
    layer covers at least each of its parts in every area (its union is of the same intervals).
    """
    shape = _cells(3, n=120)
    areas = [box_km(LON, LAT, 3, 3, 3, 3), box_km(LON, LAT, 1, 4, 5, 1), box_km(LON, LAT, 5, 0.5, 0.5, 5)]
    centres = [_shift(LON, LAT, dx, dy) for dx, dy in [(1.5, 1.0), (-2.0, -0.5), (0.3, -2.4)]]
    lons, lats = [LON, *(c[0] for c in centres)], [LAT, *(c[1] for c in centres)]
    radii = [6000.0, 2600.0, 3100.0, 2200.0]
    fps = _footprints(lons, lats, radii, [shape, None, None, None])
    layers = [np.array([0]), np.array([1, 2, 3]), np.array([0, 1, 2, 3])]
    with open_population(raster) as src:
        regions = regions_from_geometries(np.array(areas, dtype=object))
        split = [b for b in bands(regions, fps, layers, src, **OPTS) if b.coarse[0][-1] < b.sptr[-1]]
    assert split and all(b.coarse[4].tolist() == [1, 0, 0, 0] for b in split)
    assert sum(int(b.sptr[-1]) - int(b.coarse[0][-1]) for b in split) > 100  # the cells' 121 rows of corners
    _base, cov = _measure(raster, areas, fps, layers)
    grids = load_population(raster, residential_density=100.0)
    discs = shapely.union_all(
        [_fine_disc(x, y, r) for x, y, r in zip(lons[1:], lats[1:], radii[1:], strict=True)]
    )
    for li, layer in enumerate([shape, discs, shape.union(discs)]):
        cuts = [a.intersection(layer) for a in areas]
        np.testing.assert_allclose(cov[:3, li, 0] / 1e6, [ellipsoidal_area_km2(c) for c in cuts], rtol=1e-4)
        np.testing.assert_allclose(cov[:3, li, 1], raster_sums(grids, cuts)[:, 0], rtol=1e-3)
    for k in range(3):  # km², people, residential km²
        assert np.all(cov[:, 2, k] >= np.maximum(cov[:, 0, k], cov[:, 1, k]) - 1e-6)
        assert np.all(cov[:, 2, k] <= cov[:, 0, k] + cov[:, 1, k] + 1e-6)


def test_densified_rings_match_shapely_segmentize() -> None:
    holed = shapely.Polygon(
        [(105.0, 18.0), (105.03, 18.0), (105.03, 18.021), (105.0, 18.02)],
        holes=[[(105.01, 18.005), (105.0121, 18.005), (105.01, 18.0151)]],
    )
    shapes = np.array([holed, _fine_disc(LON, LAT, 30_000.0, n=256)], dtype=object)
    got = polygon_rings(shapes, np.array([0, 1])).densified(0.005)
    want = polygon_rings(shapely.segmentize(shapes, 0.005), np.array([0, 1]))
    np.testing.assert_array_equal(got.ptr, want.ptr)
    np.testing.assert_array_equal(got.fp, want.fp)
    np.testing.assert_allclose(got.x, want.x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.y, want.y, rtol=0, atol=1e-12)
    assert np.diff(got.ptr).sum() > np.diff(polygon_rings(shapes, np.array([0, 1])).ptr).sum()
    edges = np.hypot(np.diff(got.x), np.diff(got.y))[np.diff(np.repeat(np.arange(3), np.diff(got.ptr))) == 0]
    assert edges.max() <= 0.005 + 1e-12


def test_corners_are_the_vertices_where_an_outline_turns() -> None:
    from telecov.engine.outlines import corners

    square = shapely.Polygon(
        [(105.0, 18.0), (105.01, 18.0), (105.01, 18.01), (105.005, 18.01), (105.0, 18.01)]
    )
    disc = _fine_disc(LON, LAT, 30_000.0, n=256)  # turns by 360°/256 at every vertex
    y, fp = corners(polygon_rings(np.array([square, disc], dtype=object), np.array([0, 1])))
    assert sorted(y.tolist()) == [18.0, 18.0, 18.01, 18.01]  # the collinear (105.005, 18.01) is no corner
    assert (fp == 0).all()
