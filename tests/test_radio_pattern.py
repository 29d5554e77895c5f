"""Sector pattern (TR 38.901 Table 7.3-1) and the lobe footprint polygon."""

from __future__ import annotations

import numpy as np
import pytest

from telecov.geodesy import GEOD
from telecov.radio.budget import link_budget_radius
from telecov.radio.pattern import (
    bearing_offset_deg,
    lobe_bearings,
    lobe_polygon,
    lobe_reach,
    outline_polygon,
    pattern_loss_db,
)

LON, LAT = 105.9, 18.2
LTE = {"frequency_mhz": 1842.5, "eirp_dbm": 61.0, "rx_threshold_dbm": -79.2, "base_height_m": 30.0,
       "environment": "urban"}  # fmt: skip
NR = {"frequency_mhz": 3550.0, "eirp_dbm": 67.0, "rx_threshold_dbm": -64.8, "base_height_m": 25.0,
      "environment": "urban"}  # fmt: skip


def _area(geom):
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def test_pattern_values():
    # A(φ) = -min(12 (φ/φ3dB)², 30 dB): 3 dB at half the beamwidth, 30 dB front-to-back
    loss = pattern_loss_db(
        [40.0, 40.0 + 32.5, 40.0 - 32.5, 40.0 + 65.0, 220.0], azimuth_deg=40.0, beamwidth_deg=65.0
    )
    assert loss.tolist() == pytest.approx([0.0, 3.0, 3.0, 12.0, 30.0])


def test_offsets_wrap_around_north():
    assert bearing_offset_deg([350.0, 10.0, 190.0], 10.0).tolist() == [-20.0, 0.0, 180.0]
    assert pattern_loss_db(355.0, azimuth_deg=5.0, beamwidth_deg=65.0) == pytest.approx(12.0 * (10 / 65) ** 2)


def test_reach_is_the_budget_less_the_pattern():
    reach = lobe_reach(np.array([90.0, 122.5, 270.0]), azimuth_deg=90.0, beamwidth_deg=65.0, **LTE).radius_m
    kw = {k: v for k, v in LTE.items() if k != "frequency_mhz"}
    for got, loss in zip(reach, (0.0, 3.0, 30.0), strict=True):
        want = float(link_budget_radius(LTE["frequency_mhz"], **kw, extra_loss_db=loss).radius_m)
        assert got == pytest.approx(want, rel=1e-12)


def test_lobe_bearings_include_the_corners():
    b = lobe_bearings(azimuth_deg=350.0, beamwidth_deg=65.0)
    corner = 65.0 * np.sqrt(30.0 / 12.0)
    assert np.all(np.diff(b) > 0) and b[0] >= 0.0 and b[-1] < 360.0
    assert np.any(np.isclose(b, (350.0 + corner) % 360.0)) and np.any(np.isclose(b, 350.0 - corner))


@pytest.mark.parametrize("budget", [LTE, NR], ids=["cost231", "38901-uma"])
@pytest.mark.parametrize("azimuth", [None, 0.0, 137.0])
def test_lobe_area_within_1e4_of_the_exact_lobe(budget, azimuth):
    got = _area(lobe_polygon(LON, LAT, azimuth_deg=azimuth, **budget))
    fine = _area(lobe_polygon(LON, LAT, azimuth_deg=azimuth, step_deg=0.02, **budget))  # 18,000 bearings
    finer = _area(lobe_polygon(LON, LAT, azimuth_deg=azimuth, step_deg=0.01, **budget))
    assert abs(fine - finer) / finer < 1e-7  # the fine sampling has converged: it is the exact area
    assert abs(got - finer) / finer < 1e-4


def test_lobe_vertices_lie_on_true_geodesic_bearings():
    bearings = np.array([10.0, 100.0, 200.0, 300.0])
    reach = np.array([1000.0, 2000.0, 3000.0, 4000.0])
    ring = np.asarray(outline_polygon(LON, LAT, bearings, reach).exterior.coords)[:-1][::-1]
    az, _, dist = GEOD.inv(np.full(4, LON), np.full(4, LAT), ring[:, 0], ring[:, 1])
    assert np.mod(az, 360.0) == pytest.approx(bearings, abs=1e-9)
    assert dist == pytest.approx(reach, abs=1e-6)


def test_a_sector_is_a_lobe_not_a_wedge():
    lobe = lobe_polygon(LON, LAT, azimuth_deg=90.0, beamwidth_deg=65.0, **LTE)
    disc = lobe_polygon(LON, LAT, azimuth_deg=None, **LTE)
    assert lobe.is_valid and lobe.exterior.is_ccw
    assert _area(lobe) < _area(disc)
    assert lobe.contains(disc.centroid)  # the back disc holds the site
