"""DEM files: any CRS, metres or feet, clear errors; and the seeded synthetic DEM generator."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Transformer
from rasterio.transform import from_origin

from telecov.errors import InputError, TelecovWarning
from telecov.geodesy import GEOD
from telecov.radio.dem import open_dem, read_dem_window
from telecov.radio.terrain import polar_grid, terrain_footprint

ROOT = Path(__file__).resolve().parents[1]
LON, LAT = 105.9, 18.2
BOX = (LON - 0.06, LAT - 0.06, LON + 0.06, LAT + 0.06)


def ridge_at(lon, lat):
    """A 300 m ridge 1.5 km east of the site (triangular, 400 m wide), on a 20 m plain."""
    x = (np.asarray(lon) - LON) * 111_320.0 * math.cos(math.radians(LAT))
    return 20.0 + 300.0 * np.clip(1.0 - np.abs(x - 1500.0) / 200.0, 0.0, 1.0)


def write_dem(
    path, *, crs="EPSG:4326", pixel=None, unit_label="m", scale=1.0, with_crs=True, centre=(LON, LAT)
):
    if crs == "EPSG:4326":
        pixel = pixel or 1.0 / 3600.0
        half = 0.1
        left, top = centre[0] - half, centre[1] + half
        n = round(2 * half / pixel)
    else:
        pixel = pixel or 30.0
        x0, y0 = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(*centre)
        half = 11_000.0
        left, top = x0 - half, y0 + half
        n = round(2 * half / pixel)
    transform = from_origin(left, top, pixel, pixel)
    cols, rows = np.meshgrid(np.arange(n) + 0.5, np.arange(n) + 0.5)
    x, y = transform * (cols, rows)
    lon, lat = (
        (x, y)
        if crs == "EPSG:4326"
        else Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)
    )
    z = ridge_at(lon, lat) / scale
    profile = {"driver": "GTiff", "width": n, "height": n, "count": 1, "dtype": "float32",
               "transform": transform, "nodata": -9999.0}  # fmt: skip
    if with_crs:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(z.astype(np.float32), 1)
        if unit_label:
            dst.set_band_unit(1, unit_label)
    return path


def footprint(path, *, unit="m"):
    with open_dem(path) as src:
        dem = read_dem_window(src, BOX, unit=unit)
    grid = polar_grid(lambda b: np.full(np.shape(b), 4000.0), azimuth_deg=None, beamwidth_deg=360.0,
                      max_reach_m=4000.0, pixel_m=dem.pixel_m)  # fmt: skip
    return terrain_footprint(LON, LAT, dem=dem, grid=grid, antenna_m=30.0)


def area(geom):
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def test_window_in_metres(tmp_path):
    with open_dem(write_dem(tmp_path / "dem.tif")) as src:
        dem = read_dem_window(src, BOX)
    assert dem.lonlat and dem.elevation_m.shape[0] < src.height  # a window, not the file
    assert dem.pixel_m == pytest.approx(30.87 * math.cos(math.radians(LAT)), rel=0.01)
    assert np.nanmin(dem.elevation_m) == pytest.approx(20.0) and np.nanmax(dem.elevation_m) <= 320.0


def test_any_crs_gives_the_same_footprint(tmp_path):
    lonlat = footprint(write_dem(tmp_path / "ll.tif"))
    utm = footprint(write_dem(tmp_path / "utm.tif", crs="EPSG:32648"))
    assert area(lonlat) < 0.8 * math.pi * 4000.0**2  # the ridge casts a shadow
    assert area(utm) == pytest.approx(area(lonlat), rel=0.01)
    assert lonlat.symmetric_difference(utm).area / lonlat.area < 0.02


def test_feet(tmp_path):
    metres = footprint(write_dem(tmp_path / "m.tif"))
    feet = write_dem(tmp_path / "ft.tif", unit_label="ft", scale=0.3048)
    assert area(footprint(feet, unit="ft")) == pytest.approx(area(metres), rel=1e-6)
    with pytest.raises(InputError, match="ft"):
        footprint(feet)


def test_feet_without_saying_so(tmp_path):
    # 320 m is 1,050 ft: only implausible heights betray an unlabelled DEM in feet
    mountain = write_dem(tmp_path / "alps_ft.tif", unit_label="", scale=0.3048 / 40.0)
    with pytest.raises(InputError, match="feet"):
        footprint(mountain)


def test_no_crs(tmp_path):
    with pytest.raises(InputError, match="no CRS"):
        open_dem(write_dem(tmp_path / "nocrs.tif", with_crs=False))


def test_no_overlap(tmp_path):
    far = write_dem(tmp_path / "far.tif", centre=(100.0, 10.0))
    with open_dem(far) as src, pytest.raises(InputError, match="does not overlap"):
        read_dem_window(src, BOX)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        open_dem(tmp_path / "absent.tif")


def test_unknown_unit(tmp_path):
    with open_dem(write_dem(tmp_path / "dem.tif")) as src, pytest.raises(InputError, match="unit"):
        read_dem_window(src, BOX, unit="yards")


def test_partial_dem_leaves_the_rest_to_the_model(tmp_path):
    # a DEM that ends 1 km west of the site's reach: no terrain there means no shadow there
    edge = write_dem(tmp_path / "edge.tif", centre=(LON - 0.1 + 0.02, LAT))
    with pytest.warns(TelecovWarning, match="covers only part"):
        fp = footprint(edge)
    x, y, _ = GEOD.fwd(LON, LAT, 90.0, 3500.0)
    assert fp.is_valid and fp.contains(shapely.Point(x, y))


def test_make_dem_is_deterministic_in_any_crs(tmp_path):
    script = ROOT / "scripts" / "make_dem.py"
    runs = []
    for name, crs in (("a.tif", "EPSG:4326"), ("b.tif", "EPSG:4326"), ("utm.tif", "EPSG:32648")):
        args = [sys.executable, str(script), "--out", str(tmp_path / name), "--crs", crs]
        args += ["--pixel", "0.0025" if crs == "EPSG:4326" else "270"]
        subprocess.run(args, check=True, timeout=120, capture_output=True)
        runs.append(tmp_path / name)
    assert runs[0].read_bytes() == runs[1].read_bytes()
    with rasterio.open(runs[0]) as a, rasterio.open(runs[2]) as b:
        za, zb = a.read(1), b.read(1)
        assert a.crs.to_epsg() == 4326 and b.crs.to_epsg() == 32648 and a.units == ("m",)
        assert 0 <= za.min() < 50 and 800 < za.max() < 3000  # a coastal plain and mountains
        assert abs(float(np.median(za)) - float(np.median(zb))) < 50.0
