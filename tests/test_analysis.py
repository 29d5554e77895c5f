"""analyze()'s run metadata, its data warnings, the population raster and measure_polygons()."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine

import telecov
from telecov.engine import Footprints, measure, measure_polygons, regions_from_geometries
from telecov.errors import InputError, TelecovWarning
from telecov.footprints import footprints_of
from telecov.io.population import open_population
from telecov.result import RunInfo, population_source
from telecov.vocabulary import check_metric, check_pct, check_technology, needs_combined

from _cli import main_in_process
from _worlds import Grid, World, box_km, site, write_raster, write_world

GRID = Grid(west=105.0, north=18.6, ncols=30, nrows=30)
RUN_KEYS = ["version", "inputs", "options", "radii_m", "crs", "raster", "counts", "timings_s"]
OPTION_KEYS = [
    "area_id", "area_name", "parent", "select", "include_planned", "residential_density",
    "population_field", "sites_crs", "areas_crs", "by_operator", "combined", "resolution_m", "strict",
    "population_band", "population_unit", "sites_layer", "areas_layer", "vocabulary", "propagation",
    "rx_threshold_dbm", "rx_height_m", "environment", "dem", "dem_unit", "terrain", "radio_defaults",
]  # fmt: skip


@pytest.fixture
def world(tmp_path: Path) -> World:
    return write_world(
        tmp_path / "world",
        grid=GRID,
        values=GRID.uniform(300.0),
        areas=[
            ("A", "alpha", box_km(GRID.lon(5), GRID.lat(15), 4, 4, 4, 4)),
            ("B", "beta", box_km(GRID.lon(20), GRID.lat(15), 3, 3, 3, 3)),
        ],
        sites=[site("4G", GRID.lon(5), GRID.lat(15), 2500), site("5G", GRID.lon(20), GRID.lat(15), 600)],
    )


def _analyze(world: World, **options: object) -> telecov.Result:
    return telecov.analyze(
        world.sites,
        world.areas,
        world.population,
        area_id=world.area_id,
        area_name=world.area_name,
        **options,
    )


def test_run_info_is_typed_and_to_json_is_run_json(world: World, tmp_path: Path, monkeypatch, capsys) -> None:
    result = _analyze(world, select={"id": "A"})
    run = result.run
    assert isinstance(run, RunInfo)
    assert run.options.area_id == "id" and run.options.select == {"id": "A"}
    assert run.options.resolution_m == 10.0 and run.raster.scan_lines > 0
    doc = run.to_json()
    assert list(doc) == RUN_KEYS and list(doc["options"]) == OPTION_KEYS
    assert doc["raster"]["pixel_size"] == [GRID.res, GRID.res] and doc["raster"]["size"] == [30, 30]
    assert doc["raster"]["crs"] == "EPSG:4326" and doc["raster"]["grid"] == "lonlat"
    assert (
        doc["raster"]["band"] == 1 and doc["raster"]["unit"] == "count" and doc["raster"]["mask"] == "nodata"
    )
    assert doc["options"]["population_unit"] == "count" and doc["options"]["population_band"] is None
    assert doc["counts"]["sites"] == {"read": 2, "used": 2, "refused": 0, "counted": 2}
    assert json.loads(json.dumps(doc)) == doc
    doc["counts"]["sites"]["read"] = -1  # a copy: the result is unchanged
    assert run.counts["sites"]["read"] == 2
    extended = run.with_options(target_pct=90.0, map=False, export=[])
    assert list(extended.to_json()["options"]) == [*OPTION_KEYS, "target_pct", "map", "export"]
    assert "target_pct" not in run.to_json()["options"]
    code, _, err = main_in_process(
        monkeypatch, capsys, tmp_path, "report", "--sites", str(world.sites), "--areas", str(world.areas),
        "--population", str(world.population), "--area-id", "id", "--area-name", "name", "--no-map",
        "--out", "out",
    )  # fmt: skip
    assert code == 0, err
    written = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    expected = _analyze(world).run.with_options(target_pct=99.0, map=False, export=[]).to_json()
    assert written.pop("command") == "report" and written.pop("files")  # run.json is the set's manifest
    assert {k: v for k, v in written.items() if k != "timings_s"} == {
        k: v for k, v in expected.items() if k != "timings_s"
    }
    assert list(written["timings_s"]) == ["read", "measure", "total", "write"]


def test_population_source(world: World) -> None:
    result = _analyze(world)
    assert population_source(result, None, where="gap_polygons") == Path(world.population)
    assert population_source(result, "other.tif", where="gap_polygons") == "other.tif"
    with rasterio.open(world.population) as dataset:
        in_memory = _analyze(World(world.sites, world.areas, dataset))
        assert not dataset.closed  # a dataset passed in stays open
    with pytest.raises(InputError, match="in-memory raster: pass population= to poi_coverage"):
        population_source(in_memory, None, where="poi_coverage")


def test_input_columns_named_like_metrics_are_renamed_with_a_warning(world: World) -> None:
    areas = gpd.read_file(world.areas)
    areas["4G_population_pct"] = 1.0
    with pytest.warns(
        TelecovWarning, match="input columns renamed to avoid metric names: src_4G_population_pct"
    ):
        result = telecov.analyze(world.sites, areas, world.population, area_id="id", area_name="name")
    assert (result.areas["src_4G_population_pct"] == 1.0).all()
    assert result.areas["4G_population_pct"].notna().all()


def test_negative_pixels_count_as_zero_with_a_warning(tmp_path: Path, world: World) -> None:
    values = GRID.uniform(300.0)
    values[12:15, 3:6] = -5.0  # 9 pixels inside area A
    raster = write_raster(tmp_path / "negative.tif", GRID, values)
    with pytest.warns(TelecovWarning, match=r"negative.tif: 9 negative pixels counted as 0 people"):
        result = _analyze(World(world.sites, world.areas, raster))
    plain = _analyze(world)
    people, before = (
        r.table.set_index(["level", "area_id", "technology"])["population"] for r in (result, plain)
    )
    assert people[("area", "B", "4G")] == pytest.approx(before[("area", "B", "4G")], rel=1e-12)
    assert 0 < people[("area", "A", "4G")] < before[("area", "A", "4G")]


def test_projected_raster_is_read_on_its_own_grid(tmp_path: Path) -> None:
    path = tmp_path / "utm.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32", crs="EPSG:32648",
        transform=Affine(1000.0, 0.0, 500000.0, 0.0, -1000.0, 2000000.0),
    ) as dst:  # fmt: skip
        dst.write(np.full((4, 4), 100.0, dtype=np.float32), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with open_population(path) as raster:
            assert not raster.warped and not raster.lonlat and raster.crs.to_epsg() == 32648
            assert (raster.x0, raster.y0, raster.dx, raster.dy) == (500000.0, 2000000.0, 1000.0, 1000.0)
            assert raster.read(0, raster.height, 0, raster.width).sum() == 1600.0
            owned = raster.owned
    assert len(owned) == 1 and owned[0].closed


def test_rotated_raster_is_warped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "rotated.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32", crs="EPSG:32648",
        transform=Affine(1000.0, 100.0, 500000.0, 100.0, -1000.0, 2000000.0),
    ) as dst:  # fmt: skip
        dst.write(np.full((4, 4), 100.0, dtype=np.float32), 1)
    with (
        pytest.warns(TelecovWarning, match="rotated, sheared or not north-up"),
        open_population(path) as raster,
    ):
        assert raster.warped and raster.read(0, raster.height, 0, raster.width).sum() > 0
        owned = raster.owned
    assert len(owned) == 2 and all(d.closed for d in owned)  # the warp and the file, both closed


def test_population_raster_is_a_context_manager(world: World) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with open_population(world.population) as raster:
            (dataset,) = raster.owned
            assert not dataset.closed and raster.bounds[0] == GRID.west
        assert dataset.closed
        with rasterio.open(world.population) as given:
            with open_population(given) as raster:
                assert raster.owned == ()
            assert not given.closed


def test_measure_polygons_measures_each_polygon_like_an_area(world: World) -> None:
    result = _analyze(world)
    polygons = [*result.areas.geometry, shapely.union_all(result.areas.geometry)]
    fps = footprints_of(result.sites)
    layers = [la.members for la in result.layers]
    with open_population(world.population) as raster:
        got = measure_polygons(polygons, raster, footprints=fps, layers=layers, residential_density=100.0,
                               resolution_m=10.0)  # fmt: skip
        whole = measure(regions_from_geometries(np.array(polygons, dtype=object)), fps, layers, raster,
                        residential_density=100.0, resolution_m=10.0)  # fmt: skip
        bare = measure_polygons(polygons, raster, resolution_m=10.0)
        with pytest.raises(ValueError, match="layers need footprints"):
            measure_polygons(polygons, raster, layers=layers, resolution_m=10.0)
    assert got.base.shape == (3, 4) and got.covered.shape == (3, len(layers), 4)
    np.testing.assert_array_equal(got.base, whole.base[:3])
    np.testing.assert_array_equal(got.covered, whole.covered[:3])
    np.testing.assert_allclose(bare.base[:, :2], got.base[:, :2], rtol=1e-12)  # other strips: ulps
    assert bare.covered.shape == (3, 0, 4)
    table = result.table.set_index(["level", "area_id", "technology"])
    assert got.base[0, 1] == pytest.approx(table.loc[("area", "A", "4G"), "population"], rel=1e-12)
    assert len(Footprints.empty()) == 0


def test_vocabulary_checks() -> None:
    assert check_technology("LTE") == "4G" and check_technology("4g+") == "4G+"
    with pytest.raises(InputError, match="`technology` '6G': unknown technology"):
        check_technology("6G")
    assert check_metric("area") == "area" and check_pct(99) == 99.0
    with pytest.raises(InputError, match="`metric` 'people'"):
        check_metric("people")
    with pytest.raises(InputError, match="`target` 101: must be between 0 and 100"):
        check_pct(101)
    assert needs_combined("4G", "any_mobile") and not needs_combined("4G", "5G")
