"""Which footprints split scan strips, and where: the tips of small discs, the corners of polygons.

Midpoint sampling errs most at a small disc's tips and where a polygon footprint's outline
turns sharply; over many footprints those errors average out, so only layers with few such
footprints get strip boundaries there (:mod:`telecov.engine.bands`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ..geodesy import meridian_radius
from .grid import ScanFootprints
from .partition import Footprints

CAP_RADIUS_M = 2000.0
"""Footprints up to this radius get scan-strip boundaries at their extreme latitudes."""
CAP_MAX_PER_LAYER = 256
"""Layers with at least this many small footprints get no tip splits (their errors average out)."""
CAP_STEPS = (0.0, 1 / 64, 1 / 16, 1 / 4, 1 / 2, 1.0)
"""Strip boundaries inside each cap, as fractions of the scan-line spacing from its tip."""


def few_small_members(footprints: Footprints, layers: Sequence[NDArray[np.int64]]) -> NDArray[np.int64]:
    """Discs whose tips split strips: the small ones of layers that have few of them.

    Midpoint sampling of a randomly placed disc is unbiased, so over many discs the cap errors
    average out (0.01 % of covered people with 400 sites on Hà Tĩnh); only a layer with a few
    small footprints (a first 5G roll-out) needs its tips resolved exactly. Sectors and
    polygons are exact in every strip and need no split.
    """
    fields = np.column_stack(
        [footprints.lon, footprints.lat, footprints.radius, footprints.azimuth, footprints.width]
    )
    disc = ~(footprints.sector_mask() | footprints.polygon_mask())
    chosen = []
    for ix in layers:
        ix = np.asarray(ix, dtype=np.int64)
        small = ix[(footprints.radius[ix] <= CAP_RADIUS_M) & disc[ix]]
        distinct = np.unique(fields[small], axis=0).shape[0]  # duplicates decide nothing
        if 0 < distinct < CAP_MAX_PER_LAYER:
            chosen.append(small)
    return np.unique(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def few_corner_members(scan: ScanFootprints, layers: Sequence[NDArray[np.int64]]) -> NDArray[np.int64]:
    """Footprints whose corners split strips: those with corners, in layers having few of them.

    Like the tips of small discs (:func:`few_small_members`), the sideways shift of a chain's
    mean x at a corner averages out over many footprints (1,500 sectors on Hà Tĩnh); only a
    layer with fewer than :data:`CAP_MAX_PER_LAYER` of them has its corners split strips.
    """
    n = scan.top.shape[0]
    has = np.bincount(scan.corner_fp, minlength=n) > 0
    keep = np.zeros(n, dtype=bool)
    for ix in layers:
        with_corners = np.unique(np.asarray(ix, dtype=np.int64)[has[ix]])
        if 0 < with_corners.shape[0] < CAP_MAX_PER_LAYER:
            keep[with_corners] = True
    return np.flatnonzero(keep).astype(np.int64)


def few_corners(scan: ScanFootprints, splits: NDArray[np.int64]) -> NDArray[np.float64]:
    """Y of the corners of the footprints that split strips (``splits[f]`` = 1), strip boundaries."""
    return np.unique(scan.corners[splits[scan.corner_fp] != 0])


def footprint_caps(
    footprints: Footprints, which: NDArray[np.int64], *, resolution_m: float
) -> NDArray[np.float64]:
    """Northmost and southmost latitudes of small discs, and :data:`CAP_STEPS` inside each cap.

    A disc's width changes fastest at its top and bottom; strip boundaries at the tip and
    inside it keep the scan lines near the tip, which matters for a lone small disc over a
    dense pixel. Each latitude solves the kernel's own distance formula
    ``r = (M(φ0) + M(φ)) / 2 · |φ − φ0|``.
    """
    small = which[footprints.radius[which] <= CAP_RADIUS_M]
    if small.size == 0:
        return np.zeros(0)
    lat0 = footprints.lat[small]
    r = footprints.radius[small]
    m0 = meridian_radius(lat0)
    out = []
    for sign in (1.0, -1.0):
        for step in CAP_STEPS:
            reach = np.maximum(r - step * resolution_m, 0.0)
            d = reach / m0
            for _ in range(3):
                d = reach / (0.5 * (m0 + meridian_radius(lat0 + sign * np.degrees(d))))
            out.append(lat0 + sign * np.degrees(d))
    return np.unique(np.concatenate(out))


__all__ = [
    "CAP_MAX_PER_LAYER",
    "CAP_RADIUS_M",
    "CAP_STEPS",
    "few_corner_members",
    "few_corners",
    "few_small_members",
    "footprint_caps",
]
