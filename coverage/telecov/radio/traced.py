"""Polygons of the terrain step's traced rings (:func:`telecov.radio.rings.trace_rings`).

:func:`without_radial_steps` thins a traced ring's collinear vertices along a radial,
:func:`traced_polygons` makes the polygons of a trace's rings (outer rings with their holes), and
:func:`joined` joins the pieces of a full circle's two halves along their seams.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

Ints = NDArray[np.int64]


def without_radial_steps(
    xs: Ints, ys: Ints, ring_at: Ints, *, width: int, every: int
) -> tuple[Ints, Ints, Ints]:
    """Drop the ring vertices inside straight runs along a radial (x constant), but every ``every``-th row.

    A traced ring has a vertex at every cell corner; along a radial they are collinear in index
    space, so the ring's cells are unchanged. Vertices on the half's seams (x = 0, x = ``width``)
    stay: both halves must keep the same ones for their coverage union.
    """
    inner = np.ones(xs.size, dtype=bool)
    inner[ring_at[:-1]] = False
    inner[ring_at[1:] - 1] = False  # each ring's first vertex and its closing repeat
    i = np.flatnonzero(inner)
    drop = (xs[i - 1] == xs[i]) & (xs[i + 1] == xs[i]) & (xs[i] > 0) & (xs[i] < width) & (ys[i] % every != 0)
    keep = np.ones(xs.size, dtype=bool)
    keep[i[drop]] = False
    kept = np.concatenate([[0], np.cumsum(keep)])[ring_at]
    return xs[keep], ys[keep], kept


def on_seam(xs: Ints, ring_at: Ints, labels: Ints, *, width: int) -> NDArray[np.bool_]:
    """Per ring: whether its connected component has a vertex on x = 0 or x = ``width``."""
    touches = np.logical_or.reduceat((xs == 0) | (xs == width), ring_at[:-1])
    return np.isin(labels, labels[touches])


def traced_polygons(rings: NDArray[np.object_], labels: Ints, twice_area: Ints) -> list[BaseGeometry]:
    """Polygons of traced rings: each component's outer ring (positive area) with its holes.

    A component with one outer ring (nearly all) takes all its holes, in one vectorized call;
    one with several puts each hole in the smallest outer ring around it.
    """
    if labels.size == 0:
        return []
    outer = twice_area > 0
    _, label = np.unique(labels, return_inverse=True)
    single = (np.bincount(label, weights=outer) == 1)[label]
    order = np.lexsort((~outer, label))  # stable: each component's outer ring, then its holes in order
    simple = order[single[order]]
    out: list[BaseGeometry] = []
    if simple.size:
        index = np.unique(label[simple], return_inverse=True)[1]
        out.extend(shapely.polygons(rings[simple], indices=index))
    several = np.flatnonzero(~single)
    for group in np.split(several, np.flatnonzero(np.diff(label[several])) + 1) if several.size else []:
        out.extend(_nested(rings[group[outer[group]]], rings[group[~outer[group]]]))
    return out


def _nested(shells: NDArray[np.object_], holes: NDArray[np.object_]) -> list[BaseGeometry]:
    """Polygons of several outer rings, each hole in the smallest of them around it."""
    polygons = shapely.polygons(shells)
    inside = [
        np.flatnonzero(shapely.contains(polygons, shapely.polygons(h).representative_point())) for h in holes
    ]
    owner = [where[np.argmin(shapely.area(polygons[where]))] if where.size else -1 for where in inside]
    return [
        shapely.Polygon(ring, holes=[h for h, k in zip(holes, owner, strict=True) if k == i])
        for i, ring in enumerate(shells)
    ]


def joined(seam: list[BaseGeometry], others: list[BaseGeometry]) -> BaseGeometry:
    """One (multi)polygon of a trace's pieces, oriented counter-clockwise, holes clockwise.

    The pieces tile the covered set; only those on a seam (``seam``) share edges with a piece of
    the other half, and a coverage union joins them; the others are kept as they are.
    """
    parts = list(shapely.remove_repeated_points(np.asarray(others, dtype=object)))
    if seam:
        merged = shapely.coverage_union_all(shapely.remove_repeated_points(np.asarray(seam, dtype=object)))
        parts = [*shapely.get_parts(merged), *parts]
    if not parts:
        return shapely.Polygon()
    out = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
    return shapely.orient_polygons(out) if hasattr(shapely, "orient_polygons") else out
