"""Digital elevation models: open any GeoTIFF in any CRS and read windows around sites.

Only windows are read (memory stays bounded by the footprints' extent); elevations come back
in metres as float64 with NaN where the DEM has no data.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from rasterio.windows import Window, from_bounds

from ..errors import InputError, TelecovWarning
from ..geodesy import LONLAT, is_lonlat, meridian_radius

FOOT_M = 0.3048
"""One international foot in metres."""
UNITS: dict[str, float] = {"m": 1.0, "ft": FOOT_M}
"""``--dem-unit`` choices and their scale to metres."""
MAX_PLAUSIBLE_ELEVATION_M = 9000.0
"""Higher than any summit on Earth (8,849 m): a DEM said to be in metres that exceeds it is in feet."""
_FEET_NAMES = {"ft", "foot", "feet", "us-ft", "us_survey_foot", "international foot"}


@dataclass(frozen=True)
class DemWindow:
    """Elevations (m, NaN = no data) of a window of a DEM, with what places them on Earth."""

    elevation_m: NDArray[np.float64]
    transform: Affine
    crs: CRS
    pixel_m: float
    source: str

    @property
    def lonlat(self) -> bool:
        """Whether the window's CRS is lon/lat on WGS84 (no coordinate transform needed)."""
        return is_lonlat(self.crs)


def _pixel_size_m(crs: CRS, transform: Affine, lat: float) -> float:
    """Return the smaller pixel side in metres (at latitude ``lat`` for a geographic CRS)."""
    dx, dy = abs(transform.a), abs(transform.e)
    if crs.is_geographic:
        metres = float(meridian_radius(lat)) * math.pi / 180.0
        return min(dy * metres, dx * metres * math.cos(math.radians(lat)))
    factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return min(dx, dy) * factor


def _check_unit(src: rasterio.io.DatasetReader, unit: str, path: str) -> float:
    if unit not in UNITS:
        raise InputError(f"{path}: unknown DEM unit {unit!r}: use m or ft")
    stated = (src.units[0] or "").strip().lower() if src.units else ""
    if unit == "m" and stated in _FEET_NAMES:
        raise InputError(f"{path}: the DEM says its elevations are in {stated!r}: pass `dem_unit` ft")
    return UNITS[unit]


def open_dem(path: str | Path) -> rasterio.io.DatasetReader:
    """Open a DEM GeoTIFF; :class:`InputError` when it is missing, unreadable or has no CRS."""
    name = str(path)
    try:
        src = rasterio.open(name)
    except (rasterio.errors.RasterioIOError, OSError) as exc:
        raise InputError(f"{name}: cannot read the DEM ({exc})") from None
    if src.crs is None:
        src.close()
        raise InputError(
            f"{name}: the DEM has no CRS: assign one (e.g. gdal_edit.py -a_srs EPSG:4326 {name})"
        )
    return src


def _window_bounds(
    src: rasterio.io.DatasetReader, bounds_lonlat: tuple[float, float, float, float]
) -> tuple[Window, bool]:
    """Pixel window over a lon/lat box (plus one pixel), and whether the DEM holds all of it."""
    west, south, east, north = bounds_lonlat
    if not is_lonlat(src.crs):
        to_dem = Transformer.from_crs(LONLAT, src.crs, always_xy=True)
        lon = np.linspace(west, east, 21)
        lat = np.linspace(south, north, 21)
        gx, gy = np.meshgrid(lon, lat)
        edge = (gx == west) | (gx == east) | (gy == south) | (gy == north)
        x, y = to_dem.transform(gx[edge], gy[edge])
        west, south, east, north = float(np.min(x)), float(np.min(y)), float(np.max(x)), float(np.max(y))
    window = from_bounds(west, south, east, north, transform=src.transform)
    full = Window(0, 0, src.width, src.height)
    col0, row0 = math.floor(window.col_off) - 1, math.floor(window.row_off) - 1
    col1 = math.ceil(window.col_off + window.width) + 1
    row1 = math.ceil(window.row_off + window.height) + 1
    inside = col0 >= 0 and row0 >= 0 and col1 <= full.width and row1 <= full.height
    col0, row0, col1, row1 = max(col0, 0), max(row0, 0), min(col1, full.width), min(row1, full.height)
    return Window(col0, row0, max(col1 - col0, 0), max(row1 - row0, 0)), inside


def read_dem_window(
    src: rasterio.io.DatasetReader,
    bounds_lonlat: tuple[float, float, float, float],
    *,
    unit: str = "m",
) -> DemWindow:
    """Elevations (m) of the DEM pixels covering a lon/lat box (plus one pixel around it).

    Parameters
    ----------
    src
        An open DEM (:func:`open_dem`).
    bounds_lonlat
        (west, south, east, north) in degrees, e.g. a site's reach.
    unit
        ``m`` or ``ft``: the DEM's elevation unit.

    Warns
    -----
    TelecovWarning
        When the DEM covers only part of the box.

    Raises
    ------
    InputError
        When the box does not overlap the DEM, when the DEM states feet but ``unit`` is ``m``,
        or when elevations above 9,000 m betray feet.

    """
    path = str(src.name)
    scale = _check_unit(src, unit, path)
    window, inside = _window_bounds(src, bounds_lonlat)
    if window.width == 0 or window.height == 0:
        raise InputError(
            f"{path}: the DEM does not overlap {bounds_lonlat} (lon/lat): use a DEM of this area"
        )
    if not inside:
        message = f"{path}: the DEM covers only part of {bounds_lonlat} (lon/lat); footprints beyond it"
        warnings.warn(message + " follow the propagation model alone", TelecovWarning, stacklevel=2)
    data = src.read(1, window=window, masked=True).astype(np.float64)
    elevation = np.where(np.ma.getmaskarray(data), np.nan, np.ma.getdata(data)) * scale
    if unit == "m" and np.nanmax(elevation, initial=-np.inf) > MAX_PLAUSIBLE_ELEVATION_M:
        raise InputError(
            f"{path}: elevations up to {np.nanmax(elevation):,.0f} 'm' are higher than any "
            "summit: the DEM is probably in feet: pass `dem_unit` ft"
        )
    transform = src.window_transform(window)
    lat = (bounds_lonlat[1] + bounds_lonlat[3]) / 2.0
    crs = CRS.from_user_input(src.crs)
    return DemWindow(elevation, transform, crs, _pixel_size_m(crs, transform, lat), path)
