"""Polygons across the antimeridian: split at ±180° so that lon/lat geometry means what it says.

A ring that crosses the antimeridian is often written with a jump of almost 360° in longitude
(179.5 → −179.5); read literally it is a band around the whole globe (a 1 km² island becomes
millions of km²). Such a polygon is *unwrapped* (every jump over 180° of longitude undone, holes
moved next to their exterior), cut into its parts west and east of ±180°, and each part moved
back into [−180°, 180°]. Longitudes written beyond ±180° (the 0–360° convention) are moved back
the same way. Rings around a pole (whose unwrapped ends do not meet) are left as they are.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from numpy.typing import NDArray

Geometries = NDArray[np.object_]

_POLYGON, _MULTIPOLYGON = 3, 6


def needs_split(geom: shapely.Geometry) -> bool:
    """Whether a polygon's rings jump over 180° of longitude or leave [−180°, 180°]."""
    for part in shapely.get_parts(geom):
        for ring in [part.exterior, *part.interiors]:
            x = shapely.get_coordinates(ring)[:, 0]
            if x.size and (x.min() < -180 or x.max() > 180 or np.abs(np.diff(x)).max(initial=0) > 180):
                return True
    return False


def _unwrapped(ring: shapely.LinearRing) -> NDArray[np.float64] | None:
    """Ring coordinates with every jump of more than 180° in longitude undone (None around a pole)."""
    xy: NDArray[np.float64] = np.array(shapely.get_coordinates(ring), dtype=np.float64)
    xy[:, 0] = np.unwrap(xy[:, 0], period=360.0)
    if abs(xy[0, 0] - xy[-1, 0]) > 1e-9:
        return None
    return xy


def _near(xy: NDArray[np.float64], centre: float) -> NDArray[np.float64]:
    """``xy`` moved by whole turns so that its mean longitude is nearest ``centre``."""
    out = xy.copy()
    out[:, 0] += 360.0 * round((centre - float(xy[:, 0].mean())) / 360.0)
    return out


def split_polygon(polygon: shapely.Polygon) -> shapely.Geometry | None:
    """Unwrap the polygon and cut it at ±180° into parts within [−180°, 180°] (None around a pole)."""
    outer = _unwrapped(polygon.exterior)
    if outer is None:
        return None
    holes = [_unwrapped(r) for r in polygon.interiors]
    if any(h is None for h in holes):
        return None
    centre = float(outer[:, 0].mean())
    whole = shapely.make_valid(shapely.Polygon(outer, [_near(h, centre) for h in holes if h is not None]))
    west, _, east, _ = whole.bounds
    parts = []
    for turn in range(math.floor((west + 180.0) / 360.0), math.floor((east + 180.0) / 360.0) + 1):
        shift = 360.0 * turn
        piece = shapely.intersection(whole, shapely.box(shift - 180.0, -90.0, shift + 180.0, 90.0))
        for p in shapely.get_parts(piece):
            if shapely.get_type_id(p) in (_POLYGON, _MULTIPOLYGON) and p.area > 0:
                parts.extend(shapely.get_parts(shapely.transform(p, lambda c, s=shift: c - [s, 0.0])))
    return shapely.MultiPolygon(parts) if len(parts) > 1 else (parts[0] if parts else None)


def split_at_antimeridian(geoms: Geometries) -> tuple[Geometries, NDArray[np.bool_]]:
    """Polygons (and multipolygons) in lon/lat split at ±180° where they cross it.

    Parameters
    ----------
    geoms
        Lon/lat geometries; missing and non-polygonal ones are passed through.

    Returns
    -------
    geoms : numpy.ndarray
        The geometries, split ones replaced.
    split : numpy.ndarray
        Where a geometry was split (or moved back into [−180°, 180°]).

    """
    out = geoms.copy()
    split = np.zeros(len(geoms), dtype=bool)
    polygonal = np.isin(shapely.get_type_id(geoms), (_POLYGON, _MULTIPOLYGON))
    bounds = np.full((len(geoms), 4), np.nan)
    bounds[polygonal] = shapely.bounds(geoms[polygonal])
    wide = polygonal & ((bounds[:, 2] - bounds[:, 0] > 180) | (bounds[:, 0] < -180) | (bounds[:, 2] > 180))
    for i in map(int, np.flatnonzero(wide)):
        if not needs_split(geoms[i]):
            continue
        parts = [split_polygon(p) for p in shapely.get_parts(geoms[i])]
        if any(p is None for p in parts):
            continue
        pieces = [q for p in parts for q in shapely.get_parts(p)]
        out[i] = shapely.MultiPolygon(pieces) if len(pieces) > 1 else pieces[0]
        split[i] = True
    return out, split
