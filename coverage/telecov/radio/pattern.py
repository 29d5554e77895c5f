"""Sector antenna pattern: the TR 38.901 horizontal pattern and the lobe it gives a footprint.

The horizontal attenuation is A(φ) = −min(12 (φ/φ3dB)², Am) with Am = 30 dB
(3GPP TR 38.901 Table 7.3-1); φ is the bearing's offset from the boresight and φ3dB the
pattern's 3 dB beamwidth. The reach at bearing φ is the link-budget radius with A(φ) added to
the path loss, so a sector is a lobe (and a small disc behind the antenna, where the
front-to-back ratio Am still leaves some budget), not a wedge.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from ..geodesy import GEOD
from .budget import MOBILE_HEIGHT_M, RadioRadius, link_budget_radius

Floats = NDArray[np.float64]

DEFAULT_BEAMWIDTH_DEG = 65.0
"""3 dB beamwidth of a radio row's sector when the row gives none (a common macro panel)."""
MAX_ATTENUATION_DB = 30.0
"""Am, the front-to-back ratio of TR 38.901 Table 7.3-1."""
LOBE_STEP_DEG = 0.5
"""Bearing step of lobe polygons (enough for a 1e-4 relative area error, see the tests)."""


def bearing_offset_deg(bearing_deg: ArrayLike, azimuth_deg: ArrayLike) -> Floats:
    """Signed offset of each bearing from the boresight, in (−180°, 180°]."""
    off = np.mod(np.asarray(bearing_deg, dtype=np.float64) - np.asarray(azimuth_deg) + 180.0, 360.0) - 180.0
    return np.asarray(np.where(off == -180.0, 180.0, off))


def pattern_loss_db(
    bearing_deg: ArrayLike,
    *,
    azimuth_deg: ArrayLike,
    beamwidth_deg: ArrayLike = DEFAULT_BEAMWIDTH_DEG,
    max_attenuation_db: float = MAX_ATTENUATION_DB,
) -> Floats:
    """Horizontal pattern loss min(12 (φ/φ3dB)², Am) in dB (≥ 0) at each true bearing."""
    phi = bearing_offset_deg(bearing_deg, azimuth_deg)
    return np.asarray(
        np.minimum(12.0 * (phi / np.asarray(beamwidth_deg, dtype=np.float64)) ** 2, max_attenuation_db)
    )


def lobe_bearings(
    *,
    azimuth_deg: float | None,
    beamwidth_deg: float = DEFAULT_BEAMWIDTH_DEG,
    step_deg: float = LOBE_STEP_DEG,
    max_attenuation_db: float = MAX_ATTENUATION_DB,
) -> Floats:
    """Bearings (degrees in [0, 360), increasing) at which a footprint's outline is sampled.

    A uniform ``step_deg`` grid around the whole circle, plus the two bearings where the
    pattern reaches Am (the outline's corners); ``azimuth_deg=None`` is an omni site.
    """
    n = max(math.ceil(360.0 / step_deg), 8)
    if azimuth_deg is None:
        return np.linspace(0.0, 360.0, n, endpoint=False)
    corner = beamwidth_deg * math.sqrt(max_attenuation_db / 12.0)
    base = azimuth_deg + np.linspace(-180.0, 180.0, n, endpoint=False)
    extra = [azimuth_deg - corner, azimuth_deg + corner] if corner < 180.0 else []
    return np.unique(np.round(np.mod(np.concatenate([base, extra]), 360.0), 9))


def lobe_reach(
    bearings_deg: ArrayLike,
    *,
    azimuth_deg: float | None,
    beamwidth_deg: float = DEFAULT_BEAMWIDTH_DEG,
    frequency_mhz: float,
    eirp_dbm: float,
    rx_threshold_dbm: float,
    base_height_m: float,
    mobile_height_m: float = MOBILE_HEIGHT_M,
    environment: str = "suburban",
    propagation: str = "auto",
) -> RadioRadius:
    """Link-budget reach of one site at each bearing (the pattern's loss added off boresight)."""
    bearings = np.asarray(bearings_deg, dtype=np.float64)
    loss = (
        np.zeros(bearings.shape)
        if azimuth_deg is None
        else pattern_loss_db(bearings, azimuth_deg=azimuth_deg, beamwidth_deg=beamwidth_deg)
    )
    return link_budget_radius(
        np.full(bearings.shape, frequency_mhz),
        eirp_dbm=eirp_dbm,
        rx_threshold_dbm=rx_threshold_dbm,
        base_height_m=base_height_m,
        mobile_height_m=mobile_height_m,
        environment=np.full(bearings.shape, environment, dtype=object),
        propagation=propagation,
        extra_loss_db=loss,
    )


def outline_polygon(lon: float, lat: float, bearings_deg: ArrayLike, reach_m: ArrayLike) -> shapely.Polygon:
    """Lon/lat polygon through the points at ``reach_m`` along each true geodesic bearing.

    Bearings must increase (clockwise from north); the ring is returned counter-clockwise.
    """
    bearings = np.asarray(bearings_deg, dtype=np.float64)
    reach = np.asarray(reach_m, dtype=np.float64)
    x, y, _ = GEOD.fwd(np.full(bearings.size, lon), np.full(bearings.size, lat), bearings, reach)
    return shapely.Polygon(np.column_stack([x, y])[::-1])


def lobe_polygon(
    lon: float,
    lat: float,
    *,
    azimuth_deg: float | None,
    beamwidth_deg: float = DEFAULT_BEAMWIDTH_DEG,
    step_deg: float = LOBE_STEP_DEG,
    **budget: object,
) -> shapely.Polygon:
    """Footprint of one radio site: its lobe (or disc) as a lon/lat polygon.

    ``budget`` holds :func:`lobe_reach`'s link-budget keywords (``frequency_mhz``,
    ``eirp_dbm``, ``rx_threshold_dbm``, ``base_height_m``, …).
    """
    bearings = lobe_bearings(azimuth_deg=azimuth_deg, beamwidth_deg=beamwidth_deg, step_deg=step_deg)
    reach = lobe_reach(bearings, azimuth_deg=azimuth_deg, beamwidth_deg=beamwidth_deg, **budget)  # type: ignore[arg-type]
    return outline_polygon(lon, lat, bearings, reach.radius_m)
