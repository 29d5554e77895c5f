"""Accuracy contract: telecov.analyze against the independent exact reference (tests/reference.py).

docs/ARCHITECTURE.md "Accuracy contract": every ``*_pct`` within 0.25 percentage points; ``area_km2`` and
``covered_km2`` within max(0.5 %, 0.01 km²); per-technology totals of covered population within
0.2 %. Each case is also checked against its answer by hand where one exists.

Run ``pytest tests/test_accuracy.py -s`` (or ``-rP``) to see the errors measured per case and
the maximum over the module (printed by the last test).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon

import telecov
from telecov.errors import TelecovWarning

from _accuracy import (
    KM2_ABS,
    KM2_REL,
    PCT_TOL,
    POP_REL,
    WORST,
    disc_km2,
    ha_tinh_sites,
    hand_population,
    lognormal_raster,
    near_km2,
    near_pop,
    offset,
    row,
    run,
)
from _worlds import Grid, World, box_km, site, write_world
from reference import COLUMNS, PCT_COLUMNS, TECHNOLOGIES, ellipsoidal_area_km2

HA_TINH = Path(__file__).resolve().parents[2] / "shared" / "data" / "vietnam"

D = 1000.0  # people per km² of the uniform worlds (residential at the default threshold 100)
GRID = Grid(west=105.5, north=18.3, ncols=40, nrows=40)
LON_C, LAT_C = GRID.lon(20.37), GRID.lat(20.61)  # deliberately not on a pixel corner


def test_public_entry_point() -> None:
    """``telecov.analyze`` and ``from telecov import analyze`` are the function, every time."""
    from telecov import analyze as imported

    assert callable(imported)
    assert callable(telecov.analyze)
    assert callable(telecov.analyze)


# --------------------------------------------------------------------------- hand-checkable cases


def test_disc_in_uniform_square(tmp_path: Path) -> None:
    square = box_km(LON_C, LAT_C, 10, 10, 10, 10)
    world = write_world(
        tmp_path,
        grid=GRID,
        values=GRID.uniform(D),
        areas=[("A", "square", square)],
        sites=[site("4G", LON_C, LAT_C, 3000)],
    )
    tel, ref = run(world, "disc in uniform square")
    area = ellipsoidal_area_km2(square)
    for table in (ref, tel):
        r = row(table, "A", "4G")
        assert near_km2(r.covered_km2, disc_km2(3000))
        assert near_pop(r.covered_population, D * disc_km2(3000))
        assert near_pop(r.population, D * area)
        assert abs(r.area_pct - 100 * disc_km2(3000) / area) <= PCT_TOL
        assert r.residential_km2 == pytest.approx(area, rel=POP_REL)
        for tech in ("2G", "3G", "5G", "fiber"):
            assert row(table, "A", tech).covered_km2 == 0
    # the reference itself is far tighter than the contract
    r = row(ref, "A", "4G")
    assert r.covered_km2 == pytest.approx(disc_km2(3000), rel=1e-4)
    assert r.covered_population == pytest.approx(D * disc_km2(3000), rel=1e-4)


def test_commune_smaller_than_a_pixel(tmp_path: Path) -> None:
    values = lognormal_raster(GRID, seed=1)
    # T1: 300 m x 300 m inside pixel (row 20, col 20); T2: 400 m x 400 m centred on a pixel
    # corner; T3: 300 m x 300 m with a 23 m sliver in the next row, a pixel 500x denser
    lon1, lat1 = GRID.lon(20.2), GRID.lat(20.05)
    t1 = box_km(lon1, lat1, 0, 0.3, 0.3, 0)
    t2 = box_km(GRID.lon(25), GRID.lat(10), 0.2, 0.2, 0.2, 0.2)
    t3 = box_km(GRID.lon(20.2), GRID.lat(20.7), 0, 0.3, 0.3, 0)
    assert values[21, 20] / values[20, 20] > 400
    world = write_world(
        tmp_path,
        grid=GRID,
        values=values,
        areas=[("T1", "inside", t1), ("T2", "corner", t2), ("T3", "sliver", t3)],
        sites=[
            site("5G", *offset(lon1, lat1, 0.15 - 0.5, -0.15), 500),  # edge through T1's middle
            site("5G", GRID.lon(25), GRID.lat(10), 600),  # covers T2 entirely
            site("5G", GRID.lon(20.37), GRID.lat(21.2), 400),  # covers T3's south
        ],
    )
    tel, ref = run(world, "commune smaller than a pixel")
    pixel_km2 = GRID.pixel_km2()
    by_hand = {
        "T1": values[20, 20] * ellipsoidal_area_km2(t1) / pixel_km2[20],
        "T2": hand_population(t2, GRID, values),
        "T3": hand_population(t3, GRID, values),
    }
    for table in (ref, tel):
        for aid, people in by_hand.items():
            assert near_pop(row(table, aid, "5G").population, people), aid
        r = row(table, "T1", "5G")
        assert r.area_km2 == pytest.approx(0.09, abs=KM2_ABS)
        # the disc (centre 350 m west of T1's west edge) covers x <= sqrt(500² - y²) - 350 m
        # for |y| <= 150 m: (150·sqrt(500² - 150²) + 500²·asin(0.3) - 350·300) / 300² = 47.46 %
        segment = 150 * math.sqrt(500**2 - 150**2) + 500**2 * math.asin(0.3) - 350 * 300
        assert r.area_pct == pytest.approx(100 * segment / 300**2, abs=PCT_TOL)
        r2 = row(table, "T2", "5G")
        assert r2.area_pct == pytest.approx(100, abs=PCT_TOL)
        assert r2.population_pct == pytest.approx(100, abs=PCT_TOL)
        assert 0 < row(table, "T3", "5G").population_pct < 100


def test_commune_with_a_hole(tmp_path: Path) -> None:
    outer = box_km(LON_C, LAT_C, 5, 5, 5, 5)
    hole = box_km(LON_C, LAT_C, 2, 2, 2, 2)
    commune = Polygon(outer.exterior.coords, [hole.exterior.coords])
    world = write_world(
        tmp_path,
        grid=GRID,
        values=GRID.uniform(D),
        areas=[("H", "holed", commune)],
        sites=[site("4G", LON_C, LAT_C, 3000), site("5G", LON_C, LAT_C, 1500)],
    )
    tel, ref = run(world, "commune with a hole")
    area = ellipsoidal_area_km2(outer) - ellipsoidal_area_km2(hole)
    ring = disc_km2(3000) - ellipsoidal_area_km2(hole)  # the hole lies inside the disc
    for table in (ref, tel):
        r = row(table, "H", "4G")
        assert near_km2(r.area_km2, area)
        assert near_km2(r.covered_km2, ring)
        assert near_pop(r.covered_population, D * ring)
        assert near_pop(r.population, D * area)
        # a 1.5 km disc fits in the hole: nothing covered
        r5 = row(table, "H", "5G")
        assert r5.covered_km2 <= KM2_ABS
        assert r5.covered_population <= 0.01 * D * KM2_ABS


def test_island_multipolygon(tmp_path: Path) -> None:
    west = box_km(LON_C, LAT_C, 1.5, 1.5, 1.5, 1.5)
    lon_e, lat_e = offset(LON_C, LAT_C, 10, 0)
    east = box_km(lon_e, lat_e, 1.5, 1.5, 1.5, 1.5)
    world = write_world(
        tmp_path,
        grid=GRID,
        values=GRID.uniform(D),
        areas=[("I", "islands", MultiPolygon([west, east]))],
        sites=[site("4G", lon_e, lat_e, 3000)],
    )
    tel, ref = run(world, "island multipolygon")
    share = 100 * ellipsoidal_area_km2(east) / (ellipsoidal_area_km2(west) + ellipsoidal_area_km2(east))
    for table in (ref, tel):
        r = row(table, "I", "4G")
        assert near_km2(r.area_km2, 18.0)
        assert r.area_pct == pytest.approx(share, abs=PCT_TOL)
        assert r.population_pct == pytest.approx(share, abs=PCT_TOL)
        assert r.residential_pct == pytest.approx(share, abs=PCT_TOL)


def test_nodata_and_outside_the_raster(tmp_path: Path) -> None:
    values = GRID.uniform(D)
    values[:, :12] = np.nan  # nodata block over the west
    inside_nodata = box_km(GRID.lon(5), GRID.lat(20), 2, 2, 2, 2)
    half = box_km(GRID.lon(12), GRID.lat(30), 3, 3, 3, 3)  # half over nodata
    lon_out, lat_out = GRID.east + 0.1, GRID.lat(20)
    outside = box_km(lon_out, lat_out, 2, 2, 2, 2)  # entirely east of the raster
    edge = box_km(GRID.east, GRID.lat(10), 2, 2, 2, 2)  # across the east edge
    world = write_world(
        tmp_path,
        grid=GRID,
        values=values,
        areas=[
            ("N1", "nodata", inside_nodata),
            ("N2", "half", half),
            ("N3", "outside", outside),
            ("N4", "edge", edge),
        ],
        sites=[
            site("4G", GRID.lon(5), GRID.lat(20), 1500),
            site("4G", GRID.lon(12), GRID.lat(30), 2000),
            site("4G", lon_out, lat_out, 1000),
            site("4G", GRID.east, GRID.lat(10), 1000),
        ],
    )
    with pytest.warns(
        TelecovWarning, match="2 of 4 areas lie partly or wholly outside the population raster"
    ):
        tel, ref = run(world, "nodata / outside raster")
    for table in (ref, tel):
        for aid in ("N1", "N3"):
            r = row(table, aid, "4G")
            assert r.population == 0 and r.residential_km2 == 0
            assert math.isnan(r.population_pct) and math.isnan(r.residential_pct)
            assert not math.isnan(r.area_pct) and r.area_pct > 0
        r = row(table, "N1", "4G")
        assert r.area_pct == pytest.approx(100 * disc_km2(1500) / r.area_km2, abs=PCT_TOL)
        # half the commune and half the disc over data: the covered share of people is the
        # covered share of the half-disc within the half-square
        r2 = row(table, "N2", "4G")
        assert r2.population == pytest.approx(D * r2.area_km2 / 2, rel=POP_REL)
        assert r2.population_pct == pytest.approx(100 * (disc_km2(2000) / 2) / (r2.area_km2 / 2), abs=PCT_TOL)
        r4 = row(table, "N4", "4G")
        assert r4.population == pytest.approx(D * r4.area_km2 / 2, rel=POP_REL)
        assert r4.population_pct == pytest.approx(100 * disc_km2(1000) / r4.area_km2, abs=PCT_TOL)


@pytest.mark.parametrize("boundary", ["meridian", "parallel"])
def test_site_on_a_shared_boundary(tmp_path: Path, boundary: str) -> None:
    lon_s, lat_s = LON_C, LAT_C
    if boundary == "meridian":
        one, two = box_km(lon_s, lat_s, 5, 5, 0, 5), box_km(lon_s, lat_s, 0, 5, 5, 5)
    else:
        one, two = box_km(lon_s, lat_s, 5, 0, 5, 5), box_km(lon_s, lat_s, 5, 5, 5, 0)
    world = write_world(
        tmp_path,
        grid=GRID,
        values=lognormal_raster(GRID, seed=2),
        areas=[("W", "one", one), ("E", "two", two)],
        sites=[site("4G", lon_s, lat_s, 3000), site("5G", lon_s, lat_s, 700)],
    )
    tel, ref = run(world, f"site on a shared boundary ({boundary})")
    for table in (ref, tel):
        for tech, radius in (("4G", 3000), ("5G", 700)):
            for aid in ("W", "E"):
                assert near_km2(row(table, aid, tech).covered_km2, disc_km2(radius) / 2)
            total = row(table, "ALL", tech, level="total")
            assert near_km2(total.covered_km2, disc_km2(radius))
            both = row(table, "W", tech).covered_population + row(table, "E", tech).covered_population
            assert near_pop(total.covered_population, both)


def test_duplicate_sites_count_once(tmp_path: Path) -> None:
    values = lognormal_raster(GRID, seed=3)
    square = box_km(LON_C, LAT_C, 6, 6, 6, 6)
    one = [
        site("4G", LON_C, LAT_C, 2500),
        site("5G", *offset(LON_C, LAT_C, 1, 1), 450),
        site("3G", LON_C, LAT_C, 2000, 45, 90),
    ]
    single = write_world(
        tmp_path / "one", grid=GRID, values=values, areas=[("Q", "square", square)], sites=one
    )
    dup = write_world(
        tmp_path / "dup", grid=GRID, values=values, areas=[("Q", "square", square)], sites=one * 3 + one[:1]
    )
    tel_one, _ = run(single, "single sites")
    tel_dup, _ = run(dup, "duplicate sites")
    num = [c for c in COLUMNS if tel_one[c].dtype.kind == "f"]
    np.testing.assert_allclose(tel_dup[num].to_numpy(), tel_one[num].to_numpy(), rtol=1e-9, atol=1e-9)


def test_footprint_covering_everything(tmp_path: Path) -> None:
    values = lognormal_raster(GRID, seed=4)
    areas = [
        ("C1", "one", box_km(LON_C, LAT_C, 5, 5, 0, 0)),
        ("C2", "two", box_km(LON_C, LAT_C, 0, 5, 5, 0)),
        (
            "C3",
            "three",
            MultiPolygon([box_km(LON_C, LAT_C, 5, 0, 0, 5), box_km(*offset(LON_C, LAT_C, 4, 8), 1, 1, 1, 1)]),
        ),
    ]
    world = write_world(
        tmp_path,
        grid=GRID,
        values=values,
        areas=areas,
        # the 300 m disc lies inside one pixel, centred on it
        sites=[site("2G", LON_C, LAT_C, 60000), site("5G", GRID.lon(23.5), GRID.lat(23.5), 300)],
    )
    tel, ref = run(world, "footprint covering everything", combined=True)
    for table in (ref, tel):
        full = table[table["technology"].isin(["2G", "any_mobile"])]
        for pct in PCT_COLUMNS:
            np.testing.assert_allclose(full[pct].to_numpy(dtype=float), 100.0, atol=PCT_TOL)
        assert near_km2(row(table, "ALL", "4G+", level="total").covered_km2, disc_km2(300))


def test_lone_small_5g_discs(tmp_path: Path) -> None:
    """A province with a single 5G station (early roll-out): its total is that one disc.

    Thirty seeded positions and radii (300-800 m) on a 1 km raster with contrasted densities;
    each world's total covered population must be within 0.2 %, every pct within 0.25 pp.
    """
    values = lognormal_raster(GRID, seed=4)
    square = box_km(LON_C, LAT_C, 8, 8, 8, 8)
    rng = np.random.default_rng(0)
    broken: list[str] = []
    for k in range(30):
        x, y = offset(LON_C, LAT_C, rng.uniform(-6, 6), rng.uniform(-6, 6))
        radius = float(rng.uniform(300, 800))
        world = write_world(
            tmp_path / f"w{k}",
            grid=GRID,
            values=values,
            areas=[("A", "square", square)],
            sites=[site("5G", x, y, radius)],
        )
        try:
            run(world, f"lone 5G disc #{k} ({radius:.0f} m at {x:.5f}, {y:.5f})", verbose=False)
        except AssertionError as exc:
            lines = str(exc).splitlines()
            broken.append(" ".join(line.strip() for line in lines[:3]))
    assert not broken, f"{len(broken)} of 30 lone discs break the contract:\n" + "\n".join(broken)


def _overlap_deg(a0: float, a1: float, b0: float, b1: float) -> float:
    """Degrees shared by the clockwise azimuth ranges [a0, a1] and [b0, b1]."""
    total = 0.0
    for shift in (-360.0, 0.0, 360.0):
        total += max(0.0, min(a1, b1 + shift) - max(a0, b0 + shift))
    return total


@pytest.mark.parametrize(
    ("azimuth", "beamwidth"), [(45.0, 90.0), (45.0, 270.0), (45.0, None), (350.0, 60.0), (200.0, 30.0)]
)
def test_sectors(tmp_path: Path, azimuth: float, beamwidth: float | None) -> None:
    """Azimuth is the beam's centre (boresight), the sector spans azimuth ± beamwidth/2."""
    from reference import geodesic_sector

    octants = [(10.0 + 45.0 * k, 55.0 + 45.0 * k) for k in range(8)]
    areas = [
        (f"O{k}", f"{a0:g}-{a1:g}°", geodesic_sector(LON_C, LAT_C, 5000, (a0 + a1) / 2, 45, per_degree=8))
        for k, (a0, a1) in enumerate(octants)
    ]
    lon2, lat2 = offset(LON_C, LAT_C, 12, -12)
    areas.append(("H", "east half", box_km(lon2, lat2, 0, 4, 4, 4)))
    world = write_world(
        tmp_path,
        grid=GRID,
        values=lognormal_raster(GRID, seed=7),
        areas=areas,
        sites=[
            site("4G", LON_C, LAT_C, 3000, azimuth, beamwidth),
            site("3G", lon2, lat2, 2000, 90.0, 180.0),  # the half disc east of the site
        ],
    )
    tel, ref = run(world, f"sector az {azimuth} bw {beamwidth}")
    width = 120.0 if beamwidth is None else beamwidth
    lo, hi = azimuth - width / 2, azimuth + width / 2
    for table in (ref, tel):
        for k, (a0, a1) in enumerate(octants):
            expected = disc_km2(3000) * _overlap_deg(lo, hi, a0, a1) / 360
            assert near_km2(row(table, f"O{k}", "4G").covered_km2, expected), (k, a0, a1)
        total = row(table, "ALL", "4G", level="total")
        assert near_km2(total.covered_km2, disc_km2(3000) * width / 360)
        assert near_km2(row(table, "H", "3G").covered_km2, disc_km2(2000) / 2)


def test_two_overlapping_communes(tmp_path: Path) -> None:
    a = box_km(LON_C, LAT_C, 6, 5, 1, 5)  # 7 km wide
    b = box_km(LON_C, LAT_C, 1, 5, 6, 5)  # overlaps a on a 2 km strip
    overlap = a.intersection(b)
    world = write_world(
        tmp_path,
        grid=GRID,
        values=GRID.uniform(D),
        areas=[("A", "a", a), ("B", "b", b)],
        sites=[site("4G", LON_C, LAT_C, 2500)],
    )
    tel, ref = run(world, "two overlapping communes")
    union_km2 = ellipsoidal_area_km2(a) + ellipsoidal_area_km2(b) - ellipsoidal_area_km2(overlap)
    for table in (ref, tel):
        ra, rb, rt = row(table, "A", "4G"), row(table, "B", "4G"), row(table, "ALL", "4G", "total")
        assert near_km2(ra.area_km2, 70) and near_km2(rb.area_km2, 70)
        assert near_km2(rt.area_km2, union_km2)
        assert near_pop(rt.population, D * union_km2)
        assert near_km2(rt.covered_km2, disc_km2(2500))  # the disc lies inside the union
        assert ra.covered_km2 + rb.covered_km2 > rt.covered_km2 + 5  # overlap counted twice
        assert near_pop(rt.covered_population, D * disc_km2(2500))


# --------------------------------------------------------------------------- scattered 5G discs


def test_5g_discs_on_a_grid_of_1km2_communes(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    lon0, lat0 = GRID.lon(8.37), GRID.lat(8.41)
    areas = [
        (f"G{i}{j}", f"cell {i},{j}", box_km(*offset(lon0, lat0, i, -j), 0, 1, 1, 0))
        for i in range(8)
        for j in range(6)
    ]
    lon1, lat1 = offset(lon0, lat0, 8, -6)
    sites = [
        site(
            "5G",
            float(rng.uniform(lon0, lon1)),
            float(rng.uniform(lat1, lat0)),
            round(float(rng.uniform(300, 800)), 1),
        )
        for _ in range(40)
    ]
    world = write_world(tmp_path, grid=GRID, values=lognormal_raster(GRID, seed=12), areas=areas, sites=sites)
    tel, ref = run(world, "5G discs on a grid of 1 km2 communes")
    for table in (ref, tel):
        assert row(table, "ALL", "5G", "total").area_km2 == pytest.approx(48, rel=KM2_REL)


def test_subpixel_5g_discs_on_irregular_communes(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    grid = Grid(west=105.5, north=18.3, ncols=36, nrows=30)
    values = lognormal_raster(grid, seed=6)
    frame = shapely.box(grid.lon(3.3), grid.lat(26.6), grid.lon(32.8), grid.lat(2.9))
    seeds = shapely.multipoints(
        np.column_stack(
            [
                rng.uniform(frame.bounds[0], frame.bounds[2], 9),
                rng.uniform(frame.bounds[1], frame.bounds[3], 9),
            ]
        )
    )
    cells = [c.intersection(frame) for c in shapely.get_parts(shapely.voronoi_polygons(seeds))]
    cells = [shapely.segmentize(c, 0.002) for c in cells if not c.is_empty]
    areas = [(f"V{i}", f"cell {i}", c) for i, c in enumerate(cells)]
    parents = ["P1" if c.centroid.x < frame.centroid.x else "P2" for c in cells]
    # 5G discs of 300-800 m clustered around a few towns (partly overlapping), some 4G sectors,
    # and sites outside the communes that reach in
    towns = rng.uniform([grid.lon(2), grid.lat(28)], [grid.lon(34), grid.lat(2)], size=(6, 2))
    sites = []
    for _ in range(160):
        tx, ty = towns[rng.integers(len(towns))]
        x, y = offset(tx, ty, rng.normal(0, 2.0), rng.normal(0, 2.0))
        sites.append(site("5G", x, y, round(float(rng.uniform(300, 800)), 1)))
    for _ in range(25):
        x, y = rng.uniform(frame.bounds[0], frame.bounds[2]), rng.uniform(frame.bounds[1], frame.bounds[3])
        sites.append(
            site(
                "4G",
                x,
                y,
                float(rng.uniform(1500, 4000)),
                float(rng.uniform(0, 360)),
                float(rng.choice([65.0, 90.0, 120.0])),
            )
        )
    sites.append(site("5G", grid.lon(3.0), grid.lat(15), 700))
    sites.append(site("fiber", grid.lon(33.3), grid.lat(3.0)))  # default radius 1000 m
    world = write_world(tmp_path, grid=grid, values=values, areas=areas, sites=sites, parents=parents)
    _tel, ref = run(world, "sub-pixel 5G discs, irregular communes", combined=True)
    assert (ref["level"] == "parent").any()
    covered_5g = row(ref, "ALL", "5G", "total").covered_km2
    assert 20 < covered_5g < 160 * disc_km2(800)  # overlapping discs: less than the sum


# --------------------------------------------------------------------------- real Ha Tinh data


def test_ha_tinh_real_boundaries_and_worldpop(tmp_path: Path) -> None:
    communes = HA_TINH / "ha_tinh_communes_2025.geojson"
    population = HA_TINH / "worldpop_ha_tinh_2020.tif"
    if not (communes.exists() and population.exists()):
        if os.environ.get("CI"):
            pytest.fail(f"Ha Tinh data missing under {HA_TINH}")
        pytest.skip(f"Ha Tinh data not found under {HA_TINH}")
    from _worlds import write_sites

    sites = write_sites(tmp_path / "sites.csv", ha_tinh_sites(population, 400, seed=42))
    world = World(
        sites=sites, areas=communes, population=population, area_id="commune_code", area_name="commune_name"
    )
    _tel, ref = run(world, "Ha Tinh 69 communes, WorldPop 1 km, 400 sites", combined=True)
    assert (ref["level"] == "area").sum() == 69 * (len(TECHNOLOGIES) + 2)
    total = row(ref, "ALL", "5G", "total")
    assert 0 < total.population_pct < 100


def test_zz_report_max_errors(capsys: pytest.CaptureFixture[str]) -> None:
    """Print the largest errors measured over this module (runs last)."""
    with capsys.disabled():
        print("\n\naccuracy vs exact reference - max errors over all cases:")
        for key, worst in WORST.items():
            print(f"  {key:30s} {worst.value:12.4g}   [{worst.case}: {worst.where}]")
