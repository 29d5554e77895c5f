"""Gaps on a hand-made world: the communes under a target and the gap zones are known exactly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely

import telecov
from telecov.gaps import GAP_COLUMNS, ZONE_COLUMNS, gap_polygons, gaps

from _worlds import GEOD, Grid, site, write_world

TELECOV = [sys.executable, "-c", "from telecov.cli import main; main()"]
GRID = Grid(west=105.0, north=18.5, ncols=48, nrows=36, res=1 / 120)
BLOCK1 = (6, 12, 6, 12)  # rows, cols (end exclusive): 6 x 6 residential pixels with a 5G disc inside
BLOCK2 = (6, 9, 20, 23)  # 3 x 3 residential pixels, no coverage
BLOCK3 = (14, 15, 14, 15)  # one sparsely residential pixel
DISC = (GRID.lon(9), GRID.lat(9), 1000.0)  # centre of block 1


def pixel_box(rows_cols: tuple[int, int, int, int]) -> shapely.Polygon:
    r0, r1, c0, c1 = rows_cols
    return shapely.box(GRID.lon(c0), GRID.lat(r1), GRID.lon(c1), GRID.lat(r0))


def geodesic_disc(lon: float, lat: float, radius: float, n: int = 720) -> shapely.Polygon:
    az = np.linspace(0, 360, n, endpoint=False)
    x, y, _ = GEOD.fwd(np.full(n, lon), np.full(n, lat), az, np.full(n, radius))
    return shapely.Polygon(np.column_stack([x, y])[::-1])


def km2(geom: shapely.Geometry) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e6


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    values = np.zeros((GRID.nrows, GRID.ncols))
    px = GRID.pixel_km2()[:, None] * np.ones((1, GRID.ncols))
    for (r0, r1, c0, c1), density in ((BLOCK1, 1000.0), (BLOCK2, 1000.0), (BLOCK3, 150.0)):
        values[r0:r1, c0:c1] = density * px[r0:r1, c0:c1]
    values[20:30, 6:18] = 50.0 * px[20:30, 6:18]  # commune B: people, but nothing residential
    areas = [
        ("A", "Xã A", pixel_box((2, 18, 2, 31))),
        ("B", "Xã B", pixel_box((18, 33, 2, 31))),
        ("C", "Xã C", pixel_box((2, 33, 32, 47))),  # nobody lives here
    ]
    sites = [
        site("5G", DISC[0], DISC[1], radius_m=DISC[2]),
        site("4G", GRID.lon(12), GRID.lat(25), radius_m=2000),
    ]
    w = write_world(tmp_path_factory.mktemp("gaps"), grid=GRID, values=values, areas=areas, sites=sites)
    return w


@pytest.fixture(scope="module")
def result(world):
    return telecov.analyze(
        world.sites, world.areas, world.population, area_id="id", area_name="name", combined=True
    )


def test_communes_under_target_sorted_with_left_out_count(result) -> None:
    frame = gaps(result, technology="5G", target=99, metric="population")
    assert list(frame.columns) == list(GAP_COLUMNS)
    assert frame["area_id"].tolist() == ["A", "B"]  # C has no people: left out
    assert frame.attrs["left_out"] == 1
    assert frame["has_any"].tolist() == [True, False]
    table = result.table.set_index(["level", "area_id", "technology"])
    a = table.loc[("area", "A", "5G")]
    assert frame.loc[0, "value"] == pytest.approx(a["population_pct"])
    assert frame.loc[0, "uncovered_population"] == pytest.approx(a["population"] - a["covered_population"])
    assert (frame["uncovered_population"].diff().dropna() <= 0).all()
    # by area, C counts (0 %), and it is the largest uncovered area but has no people
    by_area = gaps(result, technology="5G", metric="area")
    assert set(by_area["area_id"]) == {"A", "B", "C"} and by_area.attrs["left_out"] == 0
    assert by_area.set_index("area_id").loc["C", "value"] == 0.0
    # residential: B has no residential pixel, so it is left out
    res = gaps(result, technology="5G", metric="residential")
    assert res["area_id"].tolist() == ["A"] and res.attrs["left_out"] == 2
    # nothing under a 0 % target
    assert gaps(result, technology="5G", target=0).empty


def test_combined_layers_and_aliases(result) -> None:
    plus = gaps(result, technology="4G+", target=99)
    assert plus["has_any"].tolist() == [True, True]  # A by 5G, B by 4G
    assert gaps(result, technology="NR", target=99)["technology"].unique().tolist() == ["5G"]
    assert telecov.gaps(result, technology="5G")["area_id"].tolist() == ["A", "B"]  # the public entry point


def test_combined_layer_needs_a_combined_result(world) -> None:
    plain = telecov.analyze(world.sites, world.areas, world.population)
    with pytest.raises(telecov.InputError, match="combined"):
        gaps(plain, technology="any_mobile")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"technology": "6G"}, "unknown technology"),
        ({"metric": "people"}, "unknown metric"),
        ({"target": 120}, "between 0 and 100"),
        ({"target": -1}, "between 0 and 100"),
    ],
)
def test_bad_options(result, options, message) -> None:
    with pytest.raises(telecov.InputError, match=message):
        gaps(result, **options)


def test_gap_zones_are_exact(result) -> None:
    zones = gap_polygons(result, technology="5G")
    z = zones.zones
    assert list(z.columns) == [*ZONE_COLUMNS, "geometry"]
    assert z["area_id"].tolist() == ["A", "A", "A"]
    assert z["rank"].tolist() == [1, 2, 3]
    assert z.geometry.is_valid.all()
    ring, square, pixel = z.geometry
    # block 1 minus the disc: one polygon with one hole
    assert ring.geom_type == "Polygon" and len(ring.interiors) == 1
    expected = km2(pixel_box(BLOCK1)) - km2(geodesic_disc(*DISC))
    assert z.loc[0, "area_km2"] == pytest.approx(expected, rel=2e-3)
    assert km2(ring) == pytest.approx(expected, rel=2e-3)
    assert shapely.hausdorff_distance(shapely.Polygon(ring.exterior), pixel_box(BLOCK1)) < 1e-9
    assert z.loc[0, "population"] == pytest.approx(1000.0 * expected, rel=2e-3)
    # block 2 (no coverage) and the lone pixel are exactly their pixels
    assert shapely.hausdorff_distance(square, pixel_box(BLOCK2)) < 1e-9
    assert shapely.hausdorff_distance(pixel, pixel_box(BLOCK3)) < 1e-9
    assert z.loc[1, "population"] == pytest.approx(1000.0 * km2(pixel_box(BLOCK2)), rel=1e-3)
    # they add up to the report's uncovered residential population
    row = result.table.set_index(["level", "area_id", "technology"]).loc[("area", "A", "5G")]
    uncovered = row["residential_population"] - row["covered_residential_population"]
    assert z["population"].sum() == pytest.approx(uncovered, rel=1e-9)
    assert zones.uncovered_population["A"] == pytest.approx(uncovered, rel=1e-9)
    assert zones.uncovered_population["B"] == 0.0


def test_min_people_drops_and_counts(result) -> None:
    all_zones = gap_polygons(result, technology="5G")
    kept = gap_polygons(result, technology="5G", min_people=500)
    assert len(kept.zones) == 2 and kept.dropped == 1
    assert kept.dropped_population == pytest.approx(all_zones.zones["population"].iloc[2])
    assert kept.zones["population"].sum() + kept.dropped_population == pytest.approx(
        all_zones.zones["population"].sum()
    )


def test_combined_layer_zones(result) -> None:
    # 4G+ = 4G or 5G: the 4G disc lies in B, where nobody is residential; same zones as 5G in A
    plus = gap_polygons(result, technology="4G+")
    assert len(plus.zones) == 3
    assert plus.zones["population"].sum() == pytest.approx(
        gap_polygons(result, technology="5G").zones["population"].sum()
    )


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([*TELECOV, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


def test_cli_json_and_exports(world, tmp_path) -> None:
    inputs = ["--sites", str(world.sites), "--areas", str(world.areas), "--population", str(world.population)]
    proc = run("gaps", "--technology", "5G", "--format", "json", "--export", "geojson", "--export", "gpkg",
               "--min-people", "500", *inputs, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [row["area_id"] for row in data] == ["A", "B"]
    assert set(data[0]) == set(GAP_COLUMNS)
    assert "1 communes left out" in proc.stderr and "1 zones under --min-people" in proc.stderr
    geo = json.loads((tmp_path / "out" / "gaps.geojson").read_text(encoding="utf-8"))
    assert [f["properties"]["rank"] for f in geo["features"]] == [1, 2]
    assert "crs" not in geo
    gpkg = pyogrio.read_dataframe(tmp_path / "out" / "gaps.gpkg")
    assert gpkg["area_id"].tolist() == ["A", "A"]
    # no gaps at all: an empty array, still exit 0
    proc = run("gaps", "--technology", "4G+", "--target", "0", "--format", "json", *inputs, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_cli_unknown_technology_exits_2() -> None:
    from typer.testing import CliRunner

    from telecov.cli.app import app

    res = CliRunner().invoke(app, ["gaps", "--technology", "6G"])
    assert res.exit_code == 2 and "6G" in res.stderr
