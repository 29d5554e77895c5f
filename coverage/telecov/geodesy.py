"""CRS handling and WGS84 ellipsoid geometry: the one place where coordinates meet the Earth."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS, Geod

WGS84_A = 6378137.0
"""Semi-major axis of the WGS84 ellipsoid (m)."""
WGS84_F = 1.0 / 298.257223563
"""Flattening of the WGS84 ellipsoid."""
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
"""First eccentricity squared."""
WGS84_B = WGS84_A * (1.0 - WGS84_F)

GEOD = Geod(ellps="WGS84")
"""The ellipsoid all ground distances and areas are measured on."""

LONLAT = CRS.from_epsg(4326)

STENCIL = 16
"""Exact points on a geodesic circle from which points at other equal bearings are interpolated
(:func:`periodic_interpolated`): the circle's image in any smooth projection is a periodic
analytic curve whose harmonics beyond the eighth are below a nanometre for radii up to tens of
kilometres."""


def is_lonlat(crs: CRS | None) -> bool:
    """Whether ``crs`` is a geographic CRS on (a datum equivalent to) WGS84, axes lon/lat-able."""
    if crs is None:
        return False
    crs = CRS.from_user_input(crs)
    if not crs.is_geographic:
        return False
    ellipsoid = crs.ellipsoid
    return ellipsoid is not None and abs(ellipsoid.semi_major_metre - WGS84_A) < 1.0


def _authalic_integral(lat_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    """Ellipsoidal area between the equator and ``lat`` per radian of longitude (m²)."""
    e = math.sqrt(WGS84_E2)
    s = np.sin(np.radians(lat_deg))
    return (
        WGS84_B**2 / 2.0 * (s / (1.0 - WGS84_E2 * s * s) + np.log((1.0 + e * s) / (1.0 - e * s)) / (2.0 * e))
    )


def band_area_per_degree(
    lat_top: NDArray[np.float64], lat_bottom: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Exact ellipsoidal area (m²) of latitude bands one degree of longitude wide."""
    top = np.asarray(lat_top, dtype=np.float64)
    bottom = np.asarray(lat_bottom, dtype=np.float64)
    return np.abs(_authalic_integral(top) - _authalic_integral(bottom)) * (math.pi / 180.0)


def meridian_radius(lat_deg: float | NDArray[np.float64]) -> NDArray[np.float64]:
    """Meridional radius of curvature M (m) at ``lat_deg``."""
    s = np.sin(np.radians(lat_deg))
    return np.asarray(WGS84_A * (1.0 - WGS84_E2) / (1.0 - WGS84_E2 * s * s) ** 1.5)


def degrees_lat_for(distance_m: NDArray[np.float64], lat_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    """Latitude span (degrees) of a north-south ground distance, with a small safety margin."""
    return np.degrees(np.asarray(distance_m) / meridian_radius(lat_deg)) * 1.001 + 1e-9


def geodesic_area_km2(geometries: NDArray[np.object_]) -> NDArray[np.float64]:
    """Ellipsoidal area (km²) of lon/lat polygons, computed by :class:`pyproj.Geod`."""
    out = np.empty(len(geometries), dtype=np.float64)
    for i, geom in enumerate(geometries):
        out[i] = 0.0 if geom is None or geom.is_empty else abs(GEOD.geometry_area_perimeter(geom)[0])
    return out / 1e6


def unwrapped(lon: NDArray[np.float64], centre: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """Longitudes within 180° of ``centre`` (a footprint across the antimeridian stays whole).

    With ``centre`` 0, longitudes wrapped into [−180°, 180°), as :meth:`pyproj.Geod.fwd` gives them.
    """
    return np.asarray(centre + (lon - centre + 180.0) % 360.0 - 180.0, dtype=np.float64)


def periodic_interpolated(samples: NDArray[np.float64], count: int) -> NDArray[np.float64]:
    """Trigonometric interpolation of periodic samples at ``count`` equal steps (rows independent).

    Row i holds a function's values at equal steps over one period from some start; the result
    holds its values at ``count`` equal steps from the same start.
    """
    coef = np.fft.rfft(samples, axis=1)
    coef[:, -1] = 0.0  # the Nyquist term: below a nanometre, and ambiguous
    return np.asarray(np.fft.irfft(coef, n=count, axis=1) * (count / samples.shape[1]), dtype=np.float64)
