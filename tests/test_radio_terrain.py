"""Terrain on synthetic DEMs with hand-checkable answers, and the knife-edge loss of ITU-R P.526."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import CRS

from telecov.geodesy import GEOD, meridian_radius
from telecov.radio import terrain
from telecov.radio.dem import DemWindow
from telecov.radio.kernels import deygout_loss, knife_edge_j, knife_edge_loss_db
from telecov.radio.models import path_loss_db
from telecov.radio.pattern import lobe_polygon, lobe_reach, pattern_loss_db
from telecov.radio.terrain import grid_polygon, outline, polar_grid, terrain_footprint

LON, LAT = 105.9, 18.2
M_LAT = float(meridian_radius(LAT)) * math.pi / 180.0  # metres per degree of latitude
M_LON = (
    6378137.0
    / math.sqrt(1 - 0.00669437999014 * math.sin(math.radians(LAT)) ** 2)
    * math.pi
    / 180
    * math.cos(math.radians(LAT))
)
RADIO = {"frequency_mhz": 942.5, "eirp_dbm": 57.0, "rx_threshold_dbm": -95.0, "base_height_m": 30.0,
         "environment": "suburban"}  # fmt: skip


def make_dem(height, *, half_m=12_000.0, pixel_m=30.0):
    """Lon/lat DEM centred on the site; ``height(x, y)`` in metres of local east/north (m)."""
    dlat, dlon = pixel_m / M_LAT, pixel_m / M_LON
    n_rows, n_cols = int(2 * half_m / pixel_m), int(2 * half_m / pixel_m)
    transform = Affine(dlon, 0.0, LON - n_cols / 2 * dlon, 0.0, -dlat, LAT + n_rows / 2 * dlat)
    lon = LON - n_cols / 2 * dlon + (np.arange(n_cols) + 0.5) * dlon
    lat = LAT + n_rows / 2 * dlat - (np.arange(n_rows) + 0.5) * dlat
    x, y = np.meshgrid((lon - LON) * M_LON, (lat - LAT) * M_LAT)
    return DemWindow(
        np.asarray(height(x, y), dtype=np.float64), transform, CRS.from_epsg(4326), pixel_m, "synthetic"
    )


def fixed_grid(radius, dem, *, azimuth=None, beamwidth=360.0, wedge=False):
    return polar_grid(lambda b: np.full(np.shape(b), radius), azimuth_deg=azimuth, beamwidth_deg=beamwidth,
                      max_reach_m=radius, pixel_m=dem.pixel_m, wedge=wedge)  # fmt: skip


def radio_grid(dem, *, azimuth=90.0):
    def reach(b):
        return lobe_reach(b, azimuth_deg=azimuth, beamwidth_deg=65.0, **RADIO).radius_m

    longest = float(reach(np.array([azimuth or 0.0]))[0])
    grid = polar_grid(
        reach, azimuth_deg=azimuth, beamwidth_deg=65.0, max_reach_m=longest, pixel_m=dem.pixel_m
    )
    loss = (
        0.0 if azimuth is None else pattern_loss_db(grid.centre_deg, azimuth_deg=azimuth, beamwidth_deg=65.0)
    )
    pl = path_loss_db(
        "hata", grid.distances_m, frequency_mhz=942.5, base_height_m=30.0, environment="suburban"
    )
    return grid, RADIO["eirp_dbm"] - RADIO["rx_threshold_dbm"] - np.reshape(loss, (-1, 1)) - pl


def at(bearing, distance):
    x, y, _ = GEOD.fwd(LON, LAT, bearing, distance)
    return shapely.Point(x, y)


def covered(fp, bearing, distance):
    return bool(fp.contains(at(bearing, distance)))


def area(geom):
    return abs(GEOD.geometry_area_perimeter(geom)[0])


# --- knife-edge loss ------------------------------------------------------------------------


def _exact_j(v):
    """J(ν) from the Fresnel integrals (ITU-R P.526 §4.1), integrated numerically (Simpson)."""
    t = np.linspace(0.0, v, 20001)
    c = np.cos(np.pi * t**2 / 2)
    s = np.sin(np.pi * t**2 / 2)
    h = v / 20000
    cv = h / 3 * (c[0] + c[-1] + 4 * c[1:-1:2].sum() + 2 * c[2:-1:2].sum())
    sv = h / 3 * (s[0] + s[-1] + 4 * s[1:-1:2].sum() + 2 * s[2:-1:2].sum())
    return -20 * math.log10(math.hypot(1 - cv - sv, cv - sv) / 2)


def test_knife_edge_loss_p526():
    # P.526-15 eq. (31): J(0) = 6.02 dB (grazing edge halves the field), 0 dB from ν = -0.78 down
    assert knife_edge_j(0.0) == pytest.approx(6.03, abs=0.01)
    assert knife_edge_j(-0.78) == 0.0 and knife_edge_j(-3.0) == 0.0
    assert knife_edge_j(-0.7799) == pytest.approx(0.0, abs=0.01)
    assert knife_edge_j(1.0) == pytest.approx(13.93, abs=0.01)
    v = np.linspace(-0.7, 5.0, 58)
    assert knife_edge_loss_db(v) == pytest.approx([knife_edge_j(x) for x in v], abs=1e-12)


@pytest.mark.parametrize("v", [-0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 5.0])
def test_knife_edge_approximation_against_fresnel_integrals(v):
    assert _exact_j(0.0) == pytest.approx(6.0206, abs=1e-3)  # 20 log10 2
    assert knife_edge_j(v) == pytest.approx(_exact_j(v), abs=0.6)


def test_rappaport_example_knife_edge():
    # Rappaport, Wireless Communications, 2nd ed., Example 4.7: λ = 1/3 m, d1 = d2 = 1 km,
    # h = 25 m → ν = 2.74 and a loss of about 22 dB; h = 0 → ν = 0 and 6 dB
    dist = np.array([0.0, 1000.0, 2000.0])
    for h, loss in ((25.0, 22.0), (0.0, 6.0)):
        got = deygout_loss(dist, np.array([0.0, h, 0.0]), 2, 0.0, 0.0, 1.0 / 3.0)
        assert got == pytest.approx(loss if h else 0.0, abs=0.5)  # ν = 0 does not cut the ray
    v = 25.0 * math.sqrt(2 * 2000 / (1 / 3 * 1000 * 1000))
    assert v == pytest.approx(2.74, abs=0.005)
    assert knife_edge_j(v) == pytest.approx(22.0, abs=0.5)


def test_deygout_two_edges_by_hand():
    lam = 0.3
    dist = np.array([0.0, 1000.0, 3000.0, 5000.0])
    height = np.array([0.0, 30.0, 50.0, 0.0])  # ends at 0 m: the ray is the x axis
    v_p = 50.0 * math.sqrt(2 * 5000 / (lam * 3000 * 2000))  # the principal edge at 3 km
    h_sub = 30.0 - 50.0 * 1000 / 3000  # the 1 km edge above the ray from the site to the principal edge
    v_t = h_sub * math.sqrt(2 * 3000 / (lam * 1000 * 2000))
    want = knife_edge_j(v_p) + knife_edge_j(v_t)
    assert deygout_loss(dist, height, 3, 0.0, 0.0, lam) == pytest.approx(want, abs=1e-9)


# --- terrain footprints ---------------------------------------------------------------------


def test_flat_ground_changes_nothing():
    dem = make_dem(lambda x, y: np.full(x.shape, 120.0))
    grid = fixed_grid(5000.0, dem)
    fp = terrain_footprint(LON, LAT, dem=dem, grid=grid, antenna_m=30.0)
    assert fp.equals(outline(LON, LAT, grid))
    assert area(fp) == pytest.approx(math.pi * 5000.0**2, rel=1e-4)  # the geodesic disc
    grid, margin = radio_grid(dem)
    for mode in ("los", "diffraction"):
        fp = terrain_footprint(LON, LAT, dem=dem, grid=grid, antenna_m=30.0, mode=mode, margin_db=margin,
                               frequency_mhz=942.5)  # fmt: skip
        assert fp.equals(outline(LON, LAT, grid))
        lobe = lobe_polygon(LON, LAT, azimuth_deg=90.0, beamwidth_deg=65.0, **RADIO)
        assert area(fp) == pytest.approx(area(lobe), rel=1e-4)


def test_fixed_wedge_on_flat_ground_is_the_wedge():
    dem = make_dem(lambda x, y: np.zeros(x.shape))
    grid = fixed_grid(3000.0, dem, azimuth=45.0, beamwidth=120.0, wedge=True)
    fp = terrain_footprint(LON, LAT, dem=dem, grid=grid, antenna_m=30.0)
    assert area(fp) == pytest.approx(math.pi * 3000.0**2 / 3, rel=1e-4)
    assert covered(fp, 45.0, 2900.0) and not covered(fp, 200.0, 500.0)


def ridge(x, y):
    """A north-south ridge rising to 400 m 1 km east of the site (faces 200 m wide), on 50 m plains."""
    return 50.0 + 350.0 * np.clip(1.0 - np.abs(x - 1000.0) / 200.0, 0.0, 1.0)


def test_a_ridge_shadows_what_lies_behind_it_and_nothing_in_front():
    dem = make_dem(ridge)
    fp = terrain_footprint(LON, LAT, dem=dem, grid=fixed_grid(5000.0, dem), antenna_m=30.0)
    # in front: every point west of the ridge is seen (x < 800 m)
    for bearing in range(0, 360, 5):
        for dist in (200.0, 850.0, 2000.0, 4900.0):
            x = dist * math.sin(math.radians(bearing))
            if x < 780.0:
                assert covered(fp, bearing, dist), (bearing, dist)
    # the ridge's face is seen; the plain behind it is not, on every bearing that crosses it
    assert covered(fp, 90.0, 850.0) and covered(fp, 90.0, 950.0)
    for bearing in (60.0, 90.0, 120.0):
        for dist in (1500.0, 3000.0, 4900.0):
            if dist * math.sin(math.radians(bearing)) > 1200.0:
                assert not covered(fp, bearing, dist), (bearing, dist)
    # behind the ridge, a mast 100 m higher than the ridge top sees over it
    tall = terrain_footprint(LON, LAT, dem=dem, grid=fixed_grid(5000.0, dem), antenna_m=900.0)
    assert covered(tall, 90.0, 4900.0)


def valley(x, y):
    """A 2 km wide north-south valley at 0 m between walls that rise to 600 m, land beyond at 100 m."""
    ax = np.abs(x)
    wall = np.clip((ax - 1000.0) / 500.0, 0.0, 1.0) * 600.0
    return np.where(ax > 2000.0, 100.0, wall)


@pytest.mark.parametrize("mode", ["los", "diffraction"])
def test_a_valley_site_sees_only_its_valley(mode):
    dem = make_dem(valley)
    grid, margin = radio_grid(dem, azimuth=None)
    fp = terrain_footprint(LON, LAT, dem=dem, grid=grid, antenna_m=30.0, mode=mode, margin_db=margin,
                           frequency_mhz=942.5)  # fmt: skip
    reach = float(grid.centre_reach_m[0])
    assert reach > 8000.0
    for dist in (500.0, 3000.0, 0.95 * reach):  # up and down the valley
        assert covered(fp, 0.0, dist) and covered(fp, 180.0, dist)
    for bearing in (90.0, 270.0):  # across: the floor and the inner walls, nothing beyond the crests
        assert covered(fp, bearing, 900.0) and covered(fp, bearing, 1400.0)
        for dist in (2500.0, 4000.0, 7000.0):
            assert not covered(fp, bearing, dist), (bearing, dist)
    minx, _, maxx, _ = fp.bounds
    assert (maxx - LON) * M_LON < 1600.0 and (LON - minx) * M_LON < 1600.0


def test_diffraction_adds_what_the_budget_affords_behind_a_low_ridge():
    # a knife-edge 70 m high at 1 km: 4 m above the ray from the 80 m antenna to a receiver at 2 km
    low = make_dem(lambda x, y: 50.0 + 20.0 * np.clip(1.0 - np.abs(x - 1000.0) / 60.0, 0.0, 1.0))
    grid, margin = radio_grid(low)
    kw = {"dem": low, "grid": grid, "antenna_m": 30.0, "margin_db": margin, "frequency_mhz": 942.5}
    los = terrain_footprint(LON, LAT, mode="los", **kw)
    diff = terrain_footprint(LON, LAT, mode="diffraction", **kw)
    assert not covered(los, 90.0, 2000.0) and covered(diff, 90.0, 2000.0)
    assert shapely.difference(los, diff).area < 1e-12  # diffraction only adds
    assert area(diff) < area(outline(LON, LAT, grid))  # but not everything: deep shadow stays dark


def test_a_hill_casts_a_shadow_hole():
    # a hill 100 m high 2 km east, ground rising at 30 % from 4 km: the plain between is a hole
    def hill(x, y):
        r = np.hypot(x - 2000.0, y)
        return np.where(r < 250.0, 100.0, 0.3 * np.clip(x - 4000.0, 0.0, None))

    dem = make_dem(hill)
    fp = terrain_footprint(LON, LAT, dem=dem, grid=fixed_grid(6000.0, dem), antenna_m=30.0)
    assert fp.geom_type == "Polygon" and fp.is_valid and len(fp.interiors) >= 1
    assert not covered(fp, 90.0, 3000.0) and covered(fp, 90.0, 5500.0) and covered(fp, 90.0, 1000.0)


def test_a_shadow_across_north_has_no_seam():
    dem = make_dem(lambda x, y: np.where(np.abs(y - 1500.0) < 100.0, 500.0, 0.0) * (np.abs(x) < 400.0))
    fp = terrain_footprint(LON, LAT, dem=dem, grid=fixed_grid(4000.0, dem), antenna_m=30.0)
    assert fp.is_valid and fp.geom_type == "Polygon"
    assert not covered(fp, 0.0, 3000.0) and not covered(fp, 359.0, 3000.0) and not covered(fp, 1.0, 3000.0)
    assert covered(fp, 0.0, 1000.0) and covered(fp, 30.0, 3000.0) and covered(fp, 330.0, 3000.0)


def test_sampling_is_fine_enough_for_the_dem():
    dem = make_dem(lambda x, y: np.zeros(x.shape), pixel_m=90.0)
    grid = fixed_grid(10_000.0, dem)
    step_along = 10_000.0 / grid.rows
    step_across = math.radians(np.diff(grid.edges_deg).max()) * 10_000.0
    assert step_along <= 60.0 and step_across <= 60.0 + 1e-9  # 2/3 pixel: every pixel holds a sample


def test_grid_polygon_of_a_ring_of_cells():
    dem = make_dem(lambda x, y: np.zeros(x.shape))
    grid = fixed_grid(3000.0, dem)
    cells = np.zeros((grid.centre_deg.size, grid.rows), dtype=bool)
    cells[:, grid.rows // 2 :] = True  # outer half only: an annulus
    ring = grid_polygon(LON, LAT, grid, cells)
    assert ring.geom_type == "Polygon" and len(ring.interiors) == 1
    want = math.pi * (3000.0**2 - (3000.0 * (grid.rows // 2) / grid.rows) ** 2)
    assert area(ring) == pytest.approx(want, rel=1e-4)


def test_radial_runs_of_a_shadow_keep_few_vertices_and_the_same_cells(monkeypatch):
    # ridges east and north cast shadows with long radial sides
    dem = make_dem(lambda x, y: 400.0 * ((np.abs(x - 3000.0) < 60.0) & (np.abs(y) < 1500.0))
                   + 400.0 * ((np.abs(y - 2500.0) < 60.0) & (np.abs(x) < 900.0)))  # fmt: skip
    grid = fixed_grid(9000.0, dem)
    lean = terrain_footprint(LON, LAT, dem=dem, grid=grid, antenna_m=30.0)
    monkeypatch.setattr(terrain, "RADIAL_RUN_M", 0.0)  # a vertex at every cell corner
    full = terrain_footprint(LON, LAT, dem=dem, grid=grid, antenna_m=30.0)
    assert lean.is_valid and full.is_valid and area(full) < 0.97 * area(outline(LON, LAT, grid))
    assert shapely.get_num_coordinates(lean) < 0.8 * shapely.get_num_coordinates(full)
    assert area(lean) == pytest.approx(area(full), rel=1e-7)
    assert shapely.symmetric_difference(lean, full).area < 1e-5 * full.area  # chords: cm from the radials
    for bearing, distance, seen in [(90.0, 2000.0, True), (90.0, 6000.0, False), (0.0, 6000.0, False),
                                    (45.0, 6000.0, True), (180.0, 8500.0, True)]:  # fmt: skip
        assert covered(lean, bearing, distance) is seen and covered(full, bearing, distance) is seen
