"""Population rasters: masks, alpha bands and nodata; band choice; scale/offset; density grids."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

import telecov
from telecov.errors import InputError, TelecovWarning
from telecov.io.population import open_population

from _cli import main_in_process
from _worlds import Grid, box_km, site, write_areas, write_raster, write_sites
from reference import ellipsoidal_area_km2

GRID = Grid(west=105.5, north=18.3, ncols=20, nrows=20)
UTM = ("EPSG:32648", Affine(1000.0, 0.0, 560000.0, 0.0, -1000.0, 2020000.0))
LONLAT = ("EPSG:4326", Affine(GRID.res, 0.0, GRID.west, 0.0, -GRID.res, GRID.north))
BLOCKED = (slice(8, 10), slice(8, 11))  # six pixels the mask says are invalid
VALUE = 100.0


def _write(path: Path, grid: tuple[str, Affine], bands: list[np.ndarray], **profile: object) -> Path:
    crs, transform = grid
    h, w = bands[0].shape
    with rasterio.open(
        path, "w", driver="GTiff", width=w, height=h, count=len(bands), dtype=bands[0].dtype.name,
        crs=crs, transform=transform, **profile,
    ) as dst:  # fmt: skip
        for i, band in enumerate(bands, start=1):
            dst.write(band, i)
    return path


def _mask_raster(path: Path, grid: tuple[str, Affine], kind: str) -> Path:
    """A 20 x 20 raster of ``VALUE`` people per pixel whose :data:`BLOCKED` pixels are invalid."""
    values = np.full((20, 20), VALUE, dtype=np.float32)
    valid = np.full((20, 20), 255, dtype=np.uint8)
    valid[BLOCKED] = 0
    if kind == "none":
        return _write(path, grid, [values])
    if kind == "nodata":
        values[BLOCKED] = -1.0
        return _write(path, grid, [values], nodata=-1.0)
    if kind == "alpha":  # a float band: GDAL does not take the alpha band as its mask
        return _write(path, grid, [values, valid.astype(np.float32)], alpha="YES")
    if kind == "alpha8":  # 8-bit: GDAL's own mask of the band is the alpha band
        return _write(path, grid, [values.astype(np.uint8), valid], alpha="YES")
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True):
        _write(path, grid, [values])
        with rasterio.open(path, "r+") as dst:
            dst.write_mask(valid)
    return path


@pytest.mark.parametrize("grid", [LONLAT, UTM], ids=["lonlat", "utm"])
@pytest.mark.parametrize("kind", ["nodata", "per_dataset", "alpha", "alpha8"])
def test_masks_alpha_and_nodata_mean_no_people(tmp_path: Path, kind: str, grid: tuple[str, Affine]) -> None:
    path = _mask_raster(tmp_path / "pop.tif", grid, kind)
    with open_population(path) as raster:
        assert raster.band.index == 1 and raster.band.mask == kind.rstrip("8")
        values = raster.read(0, 20, 0, 20)
    assert values[BLOCKED].sum() == 0.0
    assert values.sum() == pytest.approx(VALUE * (400 - 6))


def test_masked_pixels_count_no_people_in_an_analysis(tmp_path: Path) -> None:
    """An area over the masked block of a UTM raster loses exactly the block's people."""
    from pyproj import Transformer
    from shapely.geometry import box

    crs, t = UTM
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    west, north = to_lonlat.transform(t.c + 3000.0, t.f - 3000.0)
    east, south = to_lonlat.transform(t.c + 17000.0, t.f - 17000.0)
    areas = write_areas(tmp_path / "a.gpkg", [("A", "inside", box(west, south, east, north))])
    sites = write_sites(tmp_path / "s.csv", [site("4G", (west + east) / 2, (north + south) / 2, 1000)])
    people = {}
    for kind in ("per_dataset", "alpha", "nodata", "none"):
        path = _mask_raster(tmp_path / f"{kind}.tif", UTM, kind)
        result = telecov.analyze(sites, areas, path, area_id="id", area_name="name")
        assert result.run.raster.mask == kind and result.run.raster.grid == "native"
        people[kind] = result.table.query("level == 'area' and technology == '4G'").population.iloc[0]
    for kind in ("per_dataset", "alpha", "nodata"):
        assert people["none"] - people[kind] == pytest.approx(6 * VALUE, rel=1e-9)


def test_several_data_bands_need_population_band(tmp_path: Path) -> None:
    a = np.full((20, 20), 1.0, dtype=np.float32)
    b = np.full((20, 20), 2.0, dtype=np.float32)
    path = _write(tmp_path / "two.tif", LONLAT, [a, b])
    with rasterio.open(path, "r+") as dst:
        dst.set_band_description(1, "people")
        dst.set_band_description(2, "quality")
    with pytest.raises(
        InputError,
        match=r"2 data bands \(1 \(float32, 'people'\), 2 \(float32, 'quality'\)\).*`population_band`",
    ):
        open_population(path)
    with open_population(path, band=2) as raster:
        assert raster.band.index == 2 and raster.read(0, 20, 0, 20).sum() == 800.0
    with pytest.raises(InputError, match=r"`population_band` 3: .* has bands 1 to 2"):
        open_population(path, band=3)


def test_alpha_band_is_a_mask_not_a_data_band(tmp_path: Path) -> None:
    path = _mask_raster(tmp_path / "alpha.tif", LONLAT, "alpha")
    with open_population(path) as raster:  # one data band: no `population_band` needed
        assert raster.band.index == 1
    with pytest.raises(InputError, match=r"band 2 of .* is an alpha"):
        open_population(path, band=2)


def test_scale_and_offset_are_applied(tmp_path: Path) -> None:
    stored = np.full((20, 20), 10, dtype=np.int16)
    stored[0, 0] = -1
    path = _write(tmp_path / "scaled.tif", UTM, [stored], nodata=-1)
    with rasterio.open(path, "r+") as dst:
        dst.scales = (2.5,)
        dst.offsets = (1.0,)
    with open_population(path) as raster:
        assert (raster.band.scale, raster.band.offset) == (2.5, 1.0)
        values = raster.read(0, 20, 0, 20)
    assert values[0, 0] == 0.0 and values[1, 1] == 26.0 and values.sum() == 26.0 * 399


def _density_world(tmp_path: Path, unit: str) -> tuple[Path, Path, Path]:
    """A uniform world of 1,000 people per km², as counts or as a density grid."""
    d = 1000.0
    tmp_path.mkdir(parents=True, exist_ok=True)
    values = GRID.uniform(d) if unit == "count" else np.full((GRID.nrows, GRID.ncols), d)
    lon, lat = GRID.lon(10.3), GRID.lat(10.6)
    square = box_km(lon, lat, 5, 5, 5, 5)
    return (
        write_sites(tmp_path / "s.csv", [site("4G", lon, lat, 3000)]),
        write_areas(tmp_path / "a.gpkg", [("A", "square", square)]),
        write_raster(tmp_path / f"{unit}.tif", GRID, values),
    )


def test_density_grid_is_people_per_km2_times_true_pixel_area(tmp_path: Path) -> None:
    sites, areas, count = _density_world(tmp_path / "c", "count")
    _, _, density = _density_world(tmp_path / "d", "density")
    a = telecov.analyze(sites, areas, count, area_id="id", area_name="name")
    b = telecov.analyze(sites, areas, density, area_id="id", area_name="name", population_unit="density")
    ra = a.table.query("level == 'area' and technology == '4G'").iloc[0]
    rb = b.table.query("level == 'area' and technology == '4G'").iloc[0]
    area_km2 = ellipsoidal_area_km2(box_km(GRID.lon(10.3), GRID.lat(10.6), 5, 5, 5, 5))
    assert rb.population == pytest.approx(1000.0 * area_km2, rel=1e-5)
    assert rb.population == pytest.approx(ra.population, rel=1e-6)
    assert rb.covered_population == pytest.approx(ra.covered_population, rel=1e-6)
    assert rb.residential_km2 == pytest.approx(ra.residential_km2, rel=1e-9)
    doc = b.run.to_json()
    assert doc["options"]["population_unit"] == "density" and doc["raster"]["unit"] == "density"


def test_count_raster_that_looks_like_a_density_warns(tmp_path: Path) -> None:
    """100 m pixels holding 1,000 'people' each would be 100,000 people per km²."""
    fine = Grid(west=105.5, north=18.3, ncols=60, nrows=60, res=1 / 1200)
    lon, lat = fine.lon(30.2), fine.lat(30.4)
    sites = write_sites(tmp_path / "s.csv", [site("4G", lon, lat, 500)])
    areas = write_areas(tmp_path / "a.gpkg", [("A", "square", box_km(lon, lat, 2, 2, 2, 2))])
    pop = write_raster(tmp_path / "p.tif", fine, np.full((60, 60), 1000.0))
    with pytest.warns(TelecovWarning, match=r"people per km² over the areas.*`population_unit`=density"):
        telecov.analyze(sites, areas, pop, area_id="id", area_name="name")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        telecov.analyze(sites, areas, pop, area_id="id", area_name="name", population_unit="count")
        result = telecov.analyze(sites, areas, pop, area_id="id", area_name="name", population_unit="density")
    people = result.table.query("level == 'area' and technology == '4G'").population.iloc[0]
    assert people == pytest.approx(1000.0 * 16.0, rel=2e-3)
    with pytest.raises(InputError, match="`population_unit` 'people'"):
        telecov.analyze(sites, areas, pop, area_id="id", area_name="name", population_unit="people")


def test_cli_population_band_and_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sites, areas, _ = _density_world(tmp_path, "count")
    per_km2 = np.full((GRID.nrows, GRID.ncols), 1000.0, dtype=np.float32)
    two = _write(tmp_path / "two.tif", LONLAT, [np.zeros_like(per_km2), per_km2])
    base = ["report", "--no-map", "--sites", str(sites), "--areas", str(areas), "--population", str(two),
            "--area-id", "id", "--area-name", "name"]  # fmt: skip
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, *base, "--out", "o1")
    assert code == 2 and "--population-band" in err
    code, _, err = main_in_process(
        monkeypatch, capsys, tmp_path, *base, "--population-band", "2", "--population-unit", "density",
        "--out", "o2",
    )  # fmt: skip
    assert code == 0, err
    run = json.loads((tmp_path / "o2" / "run.json").read_text(encoding="utf-8"))
    assert run["options"]["population_band"] == 2 and run["options"]["population_unit"] == "density"
    assert run["raster"]["band"] == 2
    table = (tmp_path / "o2" / "coverage.csv").read_text(encoding="utf-8").splitlines()
    assert table[0].endswith(",sites")


def test_planning_gains_refuse_a_projected_raster(tmp_path: Path) -> None:
    """Marginal gains are measured on lon/lat grids only; a projected raster is refused by name."""
    from shapely.geometry import box

    from telecov.engine.gains import Candidates, gain_model
    from telecov.engine.partition import Footprints, regions_from_geometries

    path = _mask_raster(tmp_path / "utm.tif", UTM, "none")
    regions = regions_from_geometries(np.array([box(105.6, 18.1, 105.7, 18.2)], dtype=object))
    fps = Footprints(*(np.array([v]) for v in (105.65, 18.15, 1000.0, 0.0, 360.0)))
    with open_population(path) as raster, pytest.raises(InputError, match="planning needs a lon/lat"):
        gain_model(
            regions, fps, np.array([0]), Candidates.single(fps), raster,
            residential_density=100.0, resolution_m=10.0,
        )  # fmt: skip


def test_gap_zones_on_a_projected_raster(tmp_path: Path) -> None:
    """Gap zones built on a UTM grid come back as lon/lat polygons holding the report's uncovered people."""
    from pyproj import Transformer
    from shapely.geometry import box

    from telecov.gaps import gap_polygons

    path = _mask_raster(tmp_path / "utm.tif", UTM, "none")  # 100 people per 1 km² pixel
    crs, t = UTM
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    west, north = to_lonlat.transform(t.c + 2300.0, t.f - 2700.0)
    east, south = to_lonlat.transform(t.c + 15400.0, t.f - 16100.0)
    lon, lat = (west + east) / 2, (north + south) / 2
    areas = write_areas(tmp_path / "a.gpkg", [("A", "inside", box(west, south, east, north))])
    sites = write_sites(tmp_path / "s.csv", [site("5G", lon, lat, 2500)])
    result = telecov.analyze(sites, areas, path, area_id="id", area_name="name", residential_density=50.0)
    row = result.table.query("level == 'area' and technology == '5G'").iloc[0]
    assert row.residential_km2 == pytest.approx(row.area_km2, rel=1e-9)
    zones = gap_polygons(result, technology="5G").zones
    assert zones.geometry.is_valid.all() and len(zones) == 1
    ring = zones.geometry.iloc[0]
    assert ring.geom_type == "Polygon" and len(ring.interiors) == 1  # the area minus the disc
    uncovered = row.residential_population - row.covered_residential_population
    assert zones["population"].sum() == pytest.approx(uncovered, rel=1e-9)
    assert ellipsoidal_area_km2(ring) == pytest.approx(row.area_km2 - row.covered_km2, rel=2e-3)
