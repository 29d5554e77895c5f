"""Geometry for the page: area borders simplified together, rounded and compactly encoded."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

log = logging.getLogger(__name__)

__all__ = [
    "CLEAN_MAX_VERTICES",
    "COORD_DECIMALS",
    "DEFAULT_TOLERANCE_DEG",
    "encode_polygons",
    "feature_collection",
    "simplify_areas",
    "to_lonlat",
]

DEFAULT_TOLERANCE_DEG = 0.0005
"""Simplification of area borders in degrees (√ of the smallest triangle kept, ~50 m)."""
CLEAN_MAX_VERTICES = 200_000
"""Above this many vertices, :func:`simplify_areas` does not clean overlaps by default."""
COORD_DECIMALS = 5
"""Decimals kept in map coordinates (1e-5° ≈ 1 m)."""


def simplify_areas(
    geometries: ArrayLike,
    *,
    tolerance: float = DEFAULT_TOLERANCE_DEG,
    decimals: int = COORD_DECIMALS,
    clean: bool | None = None,
) -> NDArray[np.object_]:
    """Simplify area polygons together so that shared borders stay shared, then round them.

    Overlaps, mismatched edges and gaps narrower than ``tolerance`` are cleaned first
    (``shapely.coverage_clean``, shapely ≥ 2.2); borders are simplified as a coverage
    (``shapely.coverage_simplify``) and snapped to ``10**-decimals`` degrees. A geometry that
    comes out invalid or empty falls back to its own topology-preserving simplification, then
    to the rounded input.

    Parameters
    ----------
    geometries
        Polygons or multipolygons in degrees.
    tolerance
        Simplification tolerance in degrees (0 keeps every vertex).
    decimals
        Decimals kept in the coordinates.
    clean
        Clean an invalid coverage first; None: only up to ``CLEAN_MAX_VERTICES`` vertices
        (cleaning all 3,321 communes of Vietnam takes ~8 s and adds vertices).

    Returns
    -------
    numpy.ndarray
        One geometry per input, in order.

    """
    geoms = np.asarray(geometries, dtype=object).copy()
    grid = 10.0**-decimals
    out = geoms
    if tolerance > 0 and len(geoms):
        out = _simplify_coverage(geoms, tolerance, clean=clean)
    out = _snap(np.asarray(out, dtype=object), grid)
    bad = shapely.is_missing(out) | shapely.is_empty(out) | ~shapely.is_valid(out)
    bad &= ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if bad.any():
        retry = _snap(shapely.simplify(geoms[bad], tolerance, preserve_topology=True), grid)
        still = shapely.is_empty(retry) | ~shapely.is_valid(retry)
        retry[still] = geoms[bad][still]
        out[bad] = retry
        log.debug("%d areas simplified on their own after the coverage step", int(bad.sum()))
    return out


def _simplify_coverage(geoms: NDArray[np.object_], tolerance: float, *, clean: bool | None) -> Any:
    """Coverage simplification (cleaned first if asked); each area on its own if it fails."""
    if clean is None:
        clean = int(shapely.get_num_coordinates(geoms).sum()) <= CLEAN_MAX_VERTICES
    try:
        source = geoms
        if clean and hasattr(shapely, "coverage_clean") and not shapely.coverage_is_valid(geoms):
            source = shapely.coverage_clean(geoms, gap_width=tolerance)
        return shapely.coverage_simplify(source, tolerance)
    except (shapely.errors.GEOSException, TypeError, ValueError) as exc:
        log.info("coverage simplification failed (%s); simplifying each area on its own", exc)
        return shapely.simplify(geoms, tolerance, preserve_topology=True)


def _snap(geoms: NDArray[np.object_], grid: float) -> NDArray[np.object_]:
    """Snap to a grid keeping validity (``set_precision``); fall back to plain rounding."""
    try:
        return np.asarray(shapely.set_precision(geoms, grid), dtype=object)
    except shapely.errors.GEOSException:
        return _round(geoms, grid)


def _round(geoms: NDArray[np.object_], grid: float) -> NDArray[np.object_]:
    decimals = round(-math.log10(grid))
    return np.asarray(shapely.transform(geoms, lambda c: np.round(c, decimals)), dtype=object)


def encode_polygons(geoms: NDArray[np.object_], decimals: int) -> list[list[list[list[int]]]]:
    """Polygons as rings of integer deltas: ``[x0, y0, dx1, dy1, ...]`` in ``10**-decimals`` degrees.

    One list of polygons (each a list of rings, exterior first) per geometry; empty when the
    geometry has no polygon. The closing vertex is dropped (Leaflet closes rings). About a
    third of the size of GeoJSON.
    """
    multi = np.array([_as_multipolygon(g) for g in geoms], dtype=object)
    if not len(multi):
        return []
    _, coords, (ring_off, poly_off, geom_off) = shapely.to_ragged_array(multi)
    ints = np.rint(coords[:, :2] * 10.0**decimals).astype(np.int64)
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), np.int64))
    deltas[ring_off[:-1]] = ints[ring_off[:-1]]
    flat = deltas.ravel()
    out = []
    for g in range(len(multi)):
        polygons = []
        for p in range(geom_off[g], geom_off[g + 1]):
            rings = []
            for r in range(poly_off[p], poly_off[p + 1]):
                start, end = ring_off[r], ring_off[r + 1] - 1  # without the closing vertex
                if end - start >= 3:
                    rings.append(flat[2 * start : 2 * end].tolist())
                elif r == poly_off[p]:
                    break  # degenerate exterior: drop the polygon
            if rings:
                polygons.append(rings)
        out.append(polygons)
    return out


def _as_multipolygon(geom: shapely.Geometry | None) -> shapely.MultiPolygon:
    if geom is None or geom.is_empty:
        return shapely.MultiPolygon()
    if geom.geom_type == "MultiPolygon":
        return geom
    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    parts = [p for p in shapely.get_parts(geom, recursive=True) if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(parts)


def to_lonlat(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject a frame to lon/lat (EPSG:4326); unchanged when it is already, or has no CRS."""
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        return frame.to_crs("EPSG:4326")
    return frame


def feature_collection(
    geoms: Iterable[shapely.Geometry | None],
    props: Iterable[dict[str, Any]],
    decimals: int,
) -> dict[str, Any]:
    """GeoJSON of geometries rounded to ``decimals`` with their properties; empty ones dropped."""
    features = [
        {"type": "Feature", "geometry": _geometry_json(g, decimals), "properties": p}
        for g, p in zip(geoms, props, strict=True)
    ]
    return {"type": "FeatureCollection", "features": [f for f in features if f["geometry"]]}


def _geometry_json(geom: shapely.Geometry | None, decimals: int) -> dict[str, Any] | None:
    if geom is None or geom.is_empty:
        return None
    geom = _round(np.asarray([geom], dtype=object), 10.0**-decimals)[0]
    mapped: dict[str, Any] = shapely.geometry.mapping(geom)
    return mapped
