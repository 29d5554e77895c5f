"""Accuracy contract on projected rasters: UTM 48N and Mollweide grids measured on their own grid.

The Ha Tinh WorldPop 1 km raster is reprojected (rasterio, nearest neighbour) onto a 1 km
UTM 48N grid and a 1 km Mollweide grid: the reprojected raster IS the input, and the
reference (tests/reference.py) sums it with exactextract on that native grid, the areas and
footprints projected onto it after densifying their lon/lat edges. The 100 m cases are a
seeded synthetic disaggregation of each 1 km projected raster (every pixel split into 10 × 10
pixels with lognormal weights that keep its people), on a window of the province.

Run ``pytest tests/test_accuracy_projected.py -s`` to see the errors measured per case (the
last test prints them).
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio.warp import Resampling, calculate_default_transform, reproject

from _accuracy import METRICS, compare, ha_tinh_sites
from _accuracy import analyze as telecov_analyze
from _worlds import NODATA, write_sites
from reference import reference_table

HA_TINH = Path(__file__).resolve().parents[2] / "shared" / "data" / "vietnam"
COMMUNES = HA_TINH / "ha_tinh_communes_2025.geojson"
POPULATION = HA_TINH / "worldpop_ha_tinh_2020.tif"
CRSES = {"UTM 48N": "EPSG:32648", "Mollweide": "ESRI:54009"}
ERRORS: dict[str, dict[str, float]] = {}
SECONDS: dict[str, float] = {}


def _need_data() -> None:
    if not (COMMUNES.exists() and POPULATION.exists()):
        if os.environ.get("CI"):
            pytest.fail(f"Ha Tinh data missing under {HA_TINH}")
        pytest.skip(f"Ha Tinh data not found under {HA_TINH}")


def _reprojected(path: Path, crs: str, pixel_m: float) -> Path:
    """The 1 km lon/lat raster on a north-up grid of ``crs`` with ``pixel_m`` pixels."""
    with rasterio.open(POPULATION) as src:
        transform, width, height = calculate_default_transform(
            src.crs, crs, src.width, src.height, *src.bounds, resolution=pixel_m
        )
        data = np.full((height, width), NODATA, dtype=np.float32)
        reproject(
            source=rasterio.band(src, 1), destination=data, src_transform=src.transform, src_crs=src.crs,
            dst_transform=transform, dst_crs=crs, resampling=Resampling.nearest, dst_nodata=NODATA,
        )  # fmt: skip
    with rasterio.open(
        path, "w", driver="GTiff", width=width, height=height, count=1, dtype="float32", crs=crs,
        transform=transform, nodata=NODATA,
    ) as dst:  # fmt: skip
        dst.write(data, 1)
    return path


def _disaggregated(src_path: Path, path: Path, window: tuple[int, int, int, int], seed: int) -> Path:
    """Split each pixel of a window into 10 x 10 pixels with lognormal weights keeping its people."""
    r0, r1, c0, c1 = window
    with rasterio.open(src_path) as src:
        values = src.read(1, masked=True).filled(0.0).astype(np.float64)[r0:r1, c0:c1]
        t, crs = src.transform, src.crs
    rng = np.random.default_rng(seed)
    h, w = values.shape
    weights = rng.lognormal(0.0, 1.0, size=(h, 10, w, 10))
    weights /= weights.sum(axis=(1, 3), keepdims=True)
    fine = (weights * values[:, None, :, None]).reshape(h * 10, w * 10)
    transform = Affine(t.a / 10, 0.0, t.c + c0 * t.a, 0.0, t.e / 10, t.f + r0 * t.e)
    with rasterio.open(
        path, "w", driver="GTiff", width=w * 10, height=h * 10, count=1, dtype="float32", crs=crs,
        transform=transform, nodata=NODATA,
    ) as dst:  # fmt: skip
        dst.write(fine.astype(np.float32), 1)
    return path


def _window_communes(raster: Path, communes: gpd.GeoDataFrame, n: int) -> tuple[tuple[int, ...], Path]:
    """A raster window around ``n`` communes near the province's most peopled pixel."""
    with rasterio.open(raster) as ds:
        values = ds.read(1, masked=True).filled(0.0)
        crs, t = ds.crs, ds.transform
    r, c = np.unravel_index(int(np.argmax(values)), values.shape)
    x, y = t * (c + 0.5, r + 0.5)
    local = communes.to_crs(crs)
    order = np.argsort(local.geometry.centroid.distance(shapely.Point(x, y)).to_numpy())[:n]
    chosen = communes.iloc[order]
    west, south, east, north = local.iloc[order].total_bounds
    c0, r0 = (int(np.floor(v)) - 1 for v in ~t * (west, north))
    c1, r1 = (int(np.ceil(v)) + 1 for v in ~t * (east, south))
    r0, c0 = max(r0, 0), max(c0, 0)
    r1, c1 = min(r1, values.shape[0]), min(c1, values.shape[1])
    path = raster.with_name(raster.stem + "_window.gpkg")
    chosen.to_file(path)
    return (r0, r1, c0, c1), path


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _need_data()
    folder = tmp_path_factory.mktemp("projected_sites")
    return write_sites(folder / "sites.csv", ha_tinh_sites(POPULATION, 400, seed=42))


def _case(case: str, sites: Path, areas: Path, population: Path) -> None:
    import time

    options = {"area_id": "commune_code", "area_name": "commune_name", "combined": True}
    t0 = time.perf_counter()
    result = telecov_analyze(sites, areas, population, **options)
    SECONDS[case] = time.perf_counter() - t0
    assert result.run.raster.grid == "native" and not result.run.raster.warped
    ref = reference_table(sites, areas, population, **options)  # type: ignore[arg-type]
    ERRORS[case] = compare(result.table, ref, case, verbose=False)
    total = ref[(ref["level"] == "total") & (ref["technology"] == "any_mobile")].iloc[0]
    assert total.population > 1000 and 0 < total.population_pct < 100


@pytest.mark.parametrize("name", list(CRSES))
def test_projected_1km_raster_on_its_own_grid(name: str, sites: Path, tmp_path: Path) -> None:
    population = _reprojected(tmp_path / "pop.tif", CRSES[name], 1000.0)
    _case(f"Ha Tinh 69 communes, {name} 1 km", sites, COMMUNES, population)


@pytest.mark.parametrize("name", list(CRSES))
def test_projected_100m_synthetic_raster_on_its_own_grid(name: str, sites: Path, tmp_path: Path) -> None:
    coarse = _reprojected(tmp_path / "pop_1km.tif", CRSES[name], 1000.0)
    window, areas = _window_communes(coarse, gpd.read_file(COMMUNES), 12)
    population = _disaggregated(coarse, tmp_path / "pop_100m.tif", window, seed=7)
    _case(f"Ha Tinh 12 communes, {name} 100 m (synthetic)", sites, areas, population)


def test_zz_report_projected_errors(capsys: pytest.CaptureFixture[str]) -> None:
    """Print the errors measured per projected case (runs last)."""
    if not ERRORS:
        pytest.skip("no projected case ran")
    with capsys.disabled():
        print("\n\naccuracy on projected rasters vs exactextract on the native grid:")
        for case, errors in ERRORS.items():
            print(f"  {case}  (analyze {SECONDS[case]:.2f} s)")
            for key in METRICS:
                print(f"    {key:30s} {errors[key]:12.4g}")
