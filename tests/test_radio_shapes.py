"""Shaped footprints of site rows: lobes of radio sectors and terrain shadows on synthetic DEMs.

Expected reaches are written out from the Okumura–Hata formula (Hata 1980, suburban correction)
and the TR 38.901 horizontal pattern A(φ) = −min(12 (φ/φ3dB)², 30 dB), independently of the code.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine

from telecov.errors import InputError, TelecovWarning
from telecov.geodesy import GEOD, meridian_radius
from telecov.radio.shapes import shaped_footprints

LON, LAT = 105.9, 18.2
M_LAT = float(meridian_radius(LAT)) * math.pi / 180.0
M_LON = 6378137.0 / math.sqrt(1 - 0.00669437999014 * math.sin(math.radians(LAT)) ** 2) * math.pi / 180
M_LON *= math.cos(math.radians(LAT))
RADIO = {"frequency_mhz": 942.5, "eirp_dbm": 57.0, "rx_threshold_dbm": -95.0, "height_m": 30.0,
         "rx_height_m": 1.5, "environment": "suburban"}  # fmt: skip


def _hata_suburban_m(budget_db: float, f: float = 942.5, hb: float = 30.0, hm: float = 1.5) -> float:
    lf = math.log10(f)
    a_hm = (1.1 * lf - 0.7) * hm - (1.56 * lf - 0.8)
    at_1km = 69.55 + 26.16 * lf - 13.82 * math.log10(hb) - a_hm - 2 * math.log10(f / 28) ** 2 - 5.4
    return 1000 * 10 ** ((budget_db - at_1km) / (44.9 - 6.55 * math.log10(hb)))


def _sites(*rows: dict[str, object]) -> gpd.GeoDataFrame:
    base = {"radius_m": 3000.0, "radius_source": "default", "azimuth": np.nan, "beamwidth": np.nan,
            "pattern_beamwidth": np.nan, "frequency_mhz": np.nan, "eirp_dbm": np.nan,
            "rx_threshold_dbm": np.nan, "height_m": np.nan, "rx_height_m": np.nan,
            "environment": ""}  # fmt: skip
    frame = [{**base, **row} for row in rows]
    return gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy([LON] * len(rows), [LAT] * len(rows)), crs=4326
    )


def _radio(**more: object) -> dict[str, object]:
    return {**RADIO, "radius_m": _hata_suburban_m(152.0), "radius_source": "model:hata", **more}


def _at(bearing: float, distance: float) -> shapely.Point:
    x, y, _ = GEOD.fwd(LON, LAT, bearing, distance)
    return shapely.Point(x, y)


def _area(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def write_dem(path: Path, height, *, half_m: float = 14_000.0, pixel_m: float = 90.0, **profile) -> Path:
    """Lon/lat GeoTIFF centred on the site; ``height(x, y)`` in metres of local east/north."""
    dlat, dlon = pixel_m / M_LAT, pixel_m / M_LON
    n = int(2 * half_m / pixel_m)
    west, north = LON - n / 2 * dlon, LAT + n / 2 * dlat
    lon = west + (np.arange(n) + 0.5) * dlon
    lat = north - (np.arange(n) + 0.5) * dlat
    x, y = np.meshgrid((lon - LON) * M_LON, (lat - LAT) * M_LAT)
    data = np.asarray(height(x, y), dtype=np.float32)
    meta = {"driver": "GTiff", "width": n, "height": n, "count": 1, "dtype": "float32", "crs": "EPSG:4326",
            "transform": Affine(dlon, 0, west, 0, -dlat, north), **profile}  # fmt: skip
    with rasterio.open(path, "w", **meta) as dst:
        dst.write(data, 1)
    return path


def test_a_radio_sector_is_a_lobe_and_other_rows_keep_their_disc_or_wedge() -> None:
    sites = _sites(
        _radio(azimuth=90.0),  # lobe, φ3dB 65° by default
        _radio(azimuth=0.0, pattern_beamwidth=30.0),
        _radio(),  # radio omni: the disc of radius_m
        {"radius_m": 2000.0, "azimuth": 90.0, "beamwidth": 120.0},  # fixed-radius sector: a wedge
    )
    shapes = shaped_footprints(sites)
    assert shapes[2] is None and shapes[3] is None
    lobe, narrow = shapes[0], shapes[1]
    full = _hata_suburban_m(152.0)
    for bearing, loss in (
        (90.0, 0.0),
        (90.0 + 32.5, 3.0),
        (90.0 - 32.5, 3.0),
        (90.0 + 50.0, 12 * (50 / 65) ** 2),
    ):
        reach = _hata_suburban_m(152.0 - loss)  # A(φ) added to the path loss
        assert lobe.contains(_at(bearing, 0.995 * reach)) and not lobe.contains(_at(bearing, 1.005 * reach))
    back = _hata_suburban_m(152.0 - 30.0)  # behind the antenna: Am = 30 dB
    assert lobe.contains(_at(270.0, 0.99 * back)) and not lobe.contains(_at(270.0, 1.01 * back))
    assert narrow.contains(_at(15.0, 0.99 * _hata_suburban_m(149.0)))  # 15° off a 30° beam: 3 dB
    assert not narrow.contains(_at(90.0, 0.5 * full))  # 90° off: 30 dB
    assert _area(lobe) < math.pi * full**2 / 2


def test_flat_ground_changes_nothing(tmp_path: Path) -> None:
    dem = write_dem(tmp_path / "flat.tif", lambda x, y: np.full(x.shape, 12.0))
    sites = _sites({"radius_m": 3000.0}, _radio(azimuth=90.0))
    disc, lobe = shaped_footprints(sites, dem=dem)
    assert _area(disc) == pytest.approx(math.pi * 3000.0**2, rel=2e-3)
    assert _area(lobe) == pytest.approx(_area(shaped_footprints(sites)[1]), rel=2e-3)


def _ridge(x, y):
    """A 200 m north–south ridge 3 km east of the site on flat ground at 10 m."""
    return 10.0 + 200.0 * np.exp(-(((x - 3000.0) / 300.0) ** 2))


def test_a_ridge_shadows_what_lies_behind_it_and_nothing_in_front(tmp_path: Path) -> None:
    dem = write_dem(tmp_path / "ridge.tif", _ridge)
    fixed, radio = shaped_footprints(_sites({"radius_m": 8000.0, "height_m": 30.0}, _radio()), dem=dem)
    for fp in (fixed, radio):
        assert fp.contains(_at(90.0, 2000.0))  # in front of the ridge
        assert not fp.contains(_at(90.0, 6000.0))  # behind it
        assert fp.contains(_at(270.0, 6000.0))  # the other way: flat, open
        assert fp.contains(_at(0.0, 6000.0))
    assert _area(fixed) < 0.95 * math.pi * 8000.0**2


def test_a_valley_site_sees_only_its_valley(tmp_path: Path) -> None:
    def valley(x, y):
        return 10.0 + 400.0 * np.clip((np.abs(x) - 1500.0) / 500.0, 0.0, 1.0)  # walls 1.5–2 km away

    dem = write_dem(tmp_path / "valley.tif", valley)
    (fp,) = shaped_footprints(_sites({"radius_m": 8000.0, "height_m": 30.0}), dem=dem, terrain="los")
    assert fp.contains(_at(0.0, 7000.0)) and fp.contains(_at(180.0, 7000.0))  # along the valley
    assert not fp.contains(_at(90.0, 5000.0)) and not fp.contains(_at(270.0, 5000.0))  # beyond its walls


def test_bad_dems_are_clear_errors(tmp_path: Path) -> None:
    sites = _sites({"radius_m": 3000.0})
    nocrs = write_dem(tmp_path / "nocrs.tif", lambda x, y: np.zeros(x.shape), crs=None)
    with pytest.raises(InputError, match="no CRS"):
        shaped_footprints(sites, dem=nocrs)
    far = sites.set_geometry(gpd.points_from_xy([LON + 5.0], [LAT]))
    flat = write_dem(tmp_path / "flat.tif", lambda x, y: np.zeros(x.shape))
    with pytest.raises(InputError, match="does not overlap"):
        shaped_footprints(far, dem=flat)
    feet = write_dem(tmp_path / "feet.tif", lambda x, y: np.full(x.shape, 12_000.0))
    with pytest.raises(InputError, match="`dem_unit` ft"):
        shaped_footprints(sites, dem=feet)
    assert shaped_footprints(sites, dem=feet, dem_unit="ft")[0] is not None
    with pytest.raises(InputError, match="`terrain`"):
        shaped_footprints(sites, dem=flat, terrain="on")
    edge = sites.set_geometry(gpd.points_from_xy([LON + 0.12], [LAT]))
    with pytest.warns(TelecovWarning, match="covers only part"):
        shaped_footprints(edge, dem=flat)


def test_rows_sharing_a_budget_share_one_lobe_turned_to_their_azimuth() -> None:
    from telecov.radio.pattern import lobe_polygon

    sites = _sites(_radio(azimuth=10.0), _radio(azimuth=250.0))
    for shape, azimuth in zip(shaped_footprints(sites), (10.0, 250.0), strict=True):
        direct = lobe_polygon(LON, LAT, azimuth_deg=azimuth, beamwidth_deg=65.0, frequency_mhz=942.5,
                              eirp_dbm=57.0, rx_threshold_dbm=-95.0, base_height_m=30.0,
                              environment="suburban", propagation="hata")  # fmt: skip
        assert shape.symmetric_difference(direct).area < 1e-9 * direct.area
        assert shape.contains(_at(azimuth, 0.99 * _hata_suburban_m(152.0)))


def test_the_engine_measures_a_lobe_and_a_shadowed_disc_exactly_as_polygons(tmp_path: Path) -> None:
    from telecov.engine.scan import measure_polygons
    from telecov.io.population import open_population

    from _worlds import Grid, write_raster

    grid = Grid(west=LON - 0.2, north=LAT + 0.2, ncols=48, nrows=48)
    write_raster(tmp_path / "pop.tif", grid, grid.uniform(250.0))
    dem = write_dem(tmp_path / "ridge.tif", _ridge)
    sites = _sites(_radio(azimuth=90.0), {"radius_m": 8000.0, "height_m": 30.0})
    lobe = shaped_footprints(sites)[0]
    shadowed = shaped_footprints(sites, dem=dem)[1]
    with open_population(tmp_path / "pop.tif") as raster:
        m = measure_polygons([lobe, shadowed], raster, resolution_m=10.0)
    for i, shape in enumerate((lobe, shadowed)):
        assert m.base[i, 0] == pytest.approx(_area(shape), rel=1e-4)  # area_m2
        assert m.base[i, 1] == pytest.approx(250.0 * _area(shape) / 1e6, rel=1e-3)  # people


def test_lobes_of_many_rows_are_those_of_one_row_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from telecov.radio import shapes

    monkeypatch.setattr(shapes, "LOBE_CHUNK", 500)  # many chunks, shared among threads
    rows = [
        _radio(azimuth=10.0), _radio(azimuth=250.0, pattern_beamwidth=90.0), {"radius_source": "default"},
        _radio(azimuth=np.nan), _radio(azimuth=120.0, eirp_dbm=50.0),
    ]  # fmt: skip
    lon, lat = LON + np.arange(5) * 0.1, LAT - np.arange(5) * 0.05
    got = shapes.lobes_of(rows, lon, lat)
    for k, row in enumerate(rows):
        want = shapes.lobe_of(row, float(lon[k]), float(lat[k]))
        if want is None:
            assert got[k] is None
        else:
            assert shapely.equals_exact(got[k], want, tolerance=0.0)
            assert np.array_equal(shapely.get_coordinates(got[k]), shapely.get_coordinates(want))
