"""Footprint outlines: geodesic discs and sectors as polygons, and polygons as the engine's chains.

A geodesic disc of radius ``r`` is traced by ``n`` vertices at equal true azimuths from the
site, at the distance ``r' = r sqrt(θ / sin θ)`` (``θ = 2π / n``) that gives the inscribed
polygon the disc's area; ``n`` keeps the polygon within :data:`TOLERANCE_M` of the circle. A
sector adds its two geodesic side rays, densified every :data:`RAY_STEP_M` so that they follow
the geodesic (curved in lon/lat) to a millimetre. The vertices of a disc come from
:data:`telecov.geodesy.STENCIL` exact ``Geod.fwd`` points by trigonometric interpolation (the
circle's image in any smooth projection is a periodic analytic curve, whose harmonics beyond
the eighth are below a nanometre for radii up to tens of kilometres), so tracing a projected
disc costs 16 geodesic solutions and 16 coordinate transformations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from ..geodesy import GEOD, STENCIL, periodic_interpolated, unwrapped
from .chains import N_EXT, build_chains, clean_rings, turns_over

TOLERANCE_M = 0.25
"""Largest distance between a disc's polygon and its geodesic circle (m)."""
MIN_VERTICES = 64
MAX_VERTICES = 4096
RAY_STEP_M = 250.0
"""Longest segment of a sector's geodesic side rays (m)."""
MIN_RAY_STEPS = 8
"""Fewest segments of a side ray (a geodesic is curved in lon/lat, by ``L² tan φ / 8R``)."""
DENSIFY_DEG = 0.005
"""Longest edge (degrees) of a lon/lat polygon before it is projected (its image is curved)."""


def circle_vertex_count(radius: NDArray[np.float64]) -> NDArray[np.int64]:
    """Vertices of a full geodesic circle: a power of two keeping the polygon within the tolerance."""
    need = np.pi * np.sqrt(np.maximum(np.asarray(radius, dtype=np.float64), 0.0) / (2.0 * TOLERANCE_M))
    n = 2 ** np.ceil(np.log2(np.maximum(need, 1.0)))
    return np.asarray(np.clip(n, MIN_VERTICES, MAX_VERTICES), dtype=np.int64)


def corrected_radius(
    radius: NDArray[np.float64], angle_deg: NDArray[np.float64], segments: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Distance of an arc's vertices that gives the polygon the exact area of the circular sector."""
    theta = np.radians(np.asarray(angle_deg, dtype=np.float64)) / np.asarray(segments, dtype=np.float64)
    return np.asarray(radius, dtype=np.float64) * np.sqrt(theta / np.sin(theta))


@dataclass(frozen=True)
class Rings:
    """Polygon rings: vertices ``ptr[i]:ptr[i + 1]`` of ring ``i`` belong to footprint ``fp[i]``."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    ptr: NDArray[np.int64]
    fp: NDArray[np.int64]

    @classmethod
    def empty(cls) -> Rings:
        """No ring."""
        z = np.zeros(0, dtype=np.float64)
        return cls(z, z, np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64))

    @classmethod
    def join(cls, parts: list[Rings]) -> Rings:
        """All rings of ``parts``, ordered by footprint (stable)."""
        parts = [p for p in parts if p.fp.shape[0]]
        if not parts:
            return cls.empty()
        sizes = np.concatenate([np.diff(p.ptr) for p in parts])
        starts = np.concatenate([p.ptr[:-1] + off for p, off in zip(parts, _offsets(parts), strict=True)])
        x = np.concatenate([p.x for p in parts])
        y = np.concatenate([p.y for p in parts])
        fp = np.concatenate([p.fp for p in parts])
        order = np.argsort(fp, kind="stable")
        size = sizes[order]
        ptr = np.concatenate([[0], np.cumsum(size)]).astype(np.int64)
        index = np.repeat(starts[order] - ptr[:-1], size) + np.arange(int(ptr[-1]))
        return cls(x[index], y[index], ptr, fp[order])

    def densified(self, step: float) -> Rings:
        """Return the rings with vertices added so that no edge is longer than ``step`` (equal pieces).

        Edges join consecutive vertices of a ring (an unclosed ring's closing edge is left as it
        is). Straight edges of lon/lat rings are curves once projected: densified first, their
        image stays close to the curve.
        """
        n = self.x.shape[0]
        if n == 0:
            return self
        last = np.zeros(n, dtype=bool)
        last[self.ptr[1:] - 1] = True  # a ring's last vertex starts no edge
        nxt = np.minimum(np.arange(1, n + 1), n - 1)
        dx, dy = self.x[nxt] - self.x, self.y[nxt] - self.y
        pieces = np.where(last, 1, np.maximum(1, np.ceil(np.hypot(dx, dy) / step))).astype(np.int64)
        edge = np.repeat(np.arange(n), pieces)
        t = (np.arange(edge.shape[0]) - (np.cumsum(pieces) - pieces)[edge]) / pieces[edge]
        ptr = np.concatenate([[0], np.cumsum(pieces)])[self.ptr]
        return Rings(self.x[edge] + t * dx[edge], self.y[edge] + t * dy[edge], ptr, self.fp)

    def transformed(self, transformer: Any) -> Rings:
        """Return the rings with every vertex transformed (e.g. lon/lat to a raster's CRS)."""
        x, y = transformer.transform(self.x, self.y)
        return Rings(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), self.ptr, self.fp)


def _offsets(parts: list[Rings]) -> list[int]:
    sizes = [int(p.x.shape[0]) for p in parts]
    return [int(v) for v in np.concatenate([[0], np.cumsum(sizes)[:-1]])]


def disc_rings(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    radius: NDArray[np.float64],
    fp: NDArray[np.int64],
    *,
    to_grid: Any = None,
    vertices: int | None = None,
) -> Rings:
    """Polygons of geodesic discs (area-corrected), in lon/lat or through ``to_grid`` (a transformer).

    ``vertices`` fixes the vertices of every disc (None: :func:`circle_vertex_count`).
    """
    m = int(np.asarray(lon).shape[0])
    if m == 0:
        return Rings.empty()
    n = circle_vertex_count(radius) if vertices is None else np.full(m, max(int(vertices), 8), dtype=np.int64)
    dist = corrected_radius(radius, np.full(m, 360.0), n)
    az = np.tile(np.arange(STENCIL) * (360.0 / STENCIL), m)
    sx, sy, _ = GEOD.fwd(np.repeat(lon, STENCIL), np.repeat(lat, STENCIL), az, np.repeat(dist, STENCIL))
    sx = unwrapped(np.asarray(sx), np.repeat(lon, STENCIL))
    if to_grid is not None:
        sx, sy = to_grid.transform(sx, sy)
    sx = np.asarray(sx, dtype=np.float64).reshape(m, STENCIL)
    sy = np.asarray(sy, dtype=np.float64).reshape(m, STENCIL)
    ptr = np.concatenate([[0], np.cumsum(n)]).astype(np.int64)
    x = np.empty(int(ptr[-1]))
    y = np.empty(int(ptr[-1]))
    for count in np.unique(n):
        rows = np.flatnonzero(n == count)
        where = (ptr[rows][:, None] + np.arange(count)).ravel()
        x[where] = periodic_interpolated(sx[rows], int(count)).ravel()
        y[where] = periodic_interpolated(sy[rows], int(count)).ravel()
    return Rings(x, y, ptr, np.asarray(fp, dtype=np.int64))


def sector_rings(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    radius: NDArray[np.float64],
    start: NDArray[np.float64],
    width: NDArray[np.float64],
    fp: NDArray[np.int64],
) -> Rings:
    """Lon/lat polygons of geodesic sectors: the site, one side ray, the arc, the other ray.

    The sector spans true azimuths ``start`` to ``start + width`` (clockwise, degrees).
    """
    m = int(np.asarray(lon).shape[0])
    if m == 0:
        return Rings.empty()
    arcs = np.maximum(4, np.ceil(circle_vertex_count(radius) * width / 360.0)).astype(np.int64)
    dist = corrected_radius(radius, width, arcs)
    rays = np.maximum(MIN_RAY_STEPS, np.ceil(dist / RAY_STEP_M)).astype(np.int64)
    sizes = 1 + 2 * (rays - 1) + arcs + 1
    az_parts: list[NDArray[np.float64]] = []
    d_parts: list[NDArray[np.float64]] = []
    for a0, w, r, k, q in zip(start, width, dist, arcs, rays, strict=True):
        ray = np.arange(1, q) * (r / q)
        az_parts.append(np.concatenate([[a0], np.full(q - 1, a0), a0 + w * np.arange(k + 1) / k,
                                        np.full(q - 1, a0 + w)]))  # fmt: skip
        d_parts.append(np.concatenate([[0.0], ray, np.full(k + 1, r), ray[::-1]]))
    centre_x = np.repeat(lon, sizes)
    x, y, _ = GEOD.fwd(centre_x, np.repeat(lat, sizes), np.concatenate(az_parts), np.concatenate(d_parts))
    ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    x = unwrapped(np.asarray(x, dtype=np.float64), centre_x)
    return Rings(x, np.asarray(y, dtype=np.float64), ptr, np.asarray(fp, dtype=np.int64))


def polygon_rings(geometries: NDArray[np.object_], fp: NDArray[np.int64]) -> Rings:
    """Rings of lon/lat (Multi)Polygons (holes included), as they are (:meth:`Rings.densified`)."""
    if len(geometries) == 0:
        return Rings.empty()
    parts, part_of = shapely.get_parts(np.asarray(geometries, dtype=object), return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    coords, coord_of = shapely.get_coordinates(rings, return_index=True)
    counts = np.bincount(coord_of, minlength=len(rings))
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    owner = np.asarray(fp, dtype=np.int64)[part_of[ring_of]]
    return Rings(coords[:, 0].copy(), coords[:, 1].copy(), ptr, owner)


@dataclass(frozen=True)
class Chains:
    """Polygon footprints as y-monotone chains (see :mod:`telecov.engine.chains`)."""

    fptr: NDArray[np.int64]
    cptr: NDArray[np.int64]
    cx: NDArray[np.float64]
    cy: NDArray[np.float64]
    cg: NDArray[np.float64]
    ext: NDArray[np.float64]
    """Per footprint: top, bottom, west x, its y, east x, its y (NaN without an outline)."""
    convex: NDArray[np.int64]

    @property
    def kernel(self) -> tuple[NDArray[Any], ...]:
        """The kernels' tuple ``(fptr, cptr, cx, cy, cg, ext, convex)``."""
        return (self.fptr, self.cptr, self.cx, self.cy, self.cg, self.ext, self.convex)

    def has_outline(self) -> NDArray[np.bool_]:
        """Per footprint: whether it is a polygon (else an analytic disc)."""
        return np.asarray(np.diff(self.fptr) > 0)


def chains_of(rings: Rings, n_footprints: int) -> Chains:
    """Chains of ``rings`` (ordered by footprint) for ``n_footprints`` footprints.

    Without rings (discs only) the chains are empty and the chain kernels are not called, so
    a run without polygon footprints never compiles them.
    """
    if rings.x.shape[0] == 0:
        z = np.zeros(0, dtype=np.float64)
        fptr = np.zeros(n_footprints + 1, dtype=np.int64)
        ext = np.full((n_footprints, N_EXT), np.nan)
        return Chains(fptr=fptr, cptr=np.zeros(1, dtype=np.int64), cx=z, cy=z.copy(), cg=z.copy(), ext=ext,
                      convex=np.zeros(n_footprints, dtype=np.int64))  # fmt: skip
    x, y, ptr = clean_rings(rings.x, rings.y, rings.ptr)
    fptr, cptr, cx, cy, cg, ext, convex = build_chains(x, y, ptr, rings.fp, n_footprints)
    cptr, vertices = _by_top(fptr, cptr, cy, ext)
    return Chains(fptr=fptr, cptr=cptr, cx=cx[vertices], cy=cy[vertices], cg=cg[vertices], ext=ext,
                  convex=convex)  # fmt: skip


LONG_CHAIN_SHARE = 64.0
"""A chain higher than 1/64 of its footprint's height is long: every strip looks at it."""


def _by_top(
    fptr: NDArray[np.int64], cptr: NDArray[np.int64], cy: NDArray[np.float64], ext: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Reorder each footprint's chains: long ones first, then the others by top, highest first.

    Fills ``ext[:, 6]`` (long chains) and ``ext[:, 7]`` (a bound of the others' heights, widened
    by rounding's worth); returns the new chain pointers and the vertices' order.
    """
    sizes = np.diff(cptr)
    fp = np.repeat(np.arange(fptr.shape[0] - 1), np.diff(fptr))
    top, bottom = cy[cptr[:-1]], cy[cptr[1:] - 1]
    height = top - bottom
    long = height > (ext[fp, 0] - ext[fp, 1]) / LONG_CHAIN_SHARE
    order = np.lexsort((-top, ~long, fp))
    ext[:, 6] = np.bincount(fp[long], minlength=ext.shape[0])
    bound = np.zeros(ext.shape[0])
    np.maximum.at(bound, fp[~long], height[~long])
    ext[:, 7] = bound * (1.0 + 1e-9) + 1e-9 * np.maximum(np.abs(ext[:, 0]), np.abs(ext[:, 1]))
    new_ptr = np.concatenate([[0], np.cumsum(sizes[order])]).astype(np.int64)
    vertices = np.repeat(cptr[:-1][order] - new_ptr[:-1], sizes[order]) + np.arange(new_ptr[-1])
    return new_ptr, vertices


CORNER_DEG = 20.0
"""Turn (degrees) from which a polygon footprint's vertex is a corner that splits strips."""


def corners(rings: Rings) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Y of the vertices where a polygon footprint's outline turns by more than :data:`CORNER_DEG`.

    Within a strip, each chain of a footprint counts by its mean x, which keeps the footprint's
    area in the strip exact; where an edge nearly parallel to the scan lines ends in a corner
    (a sector's side ray along a parallel, the ends of its arc, a step of a terrain outline),
    the mean would also shift the interval sideways, so the corner's y becomes a strip
    boundary. Smooth outlines (the vertices of a disc turn by 360°/n) add none. Returns the
    corners' y and their footprints.
    """
    if rings.x.shape[0] == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    x, y, ptr = clean_rings(rings.x, rings.y, rings.ptr)
    sel = turns_over(x, y, ptr, CORNER_DEG)
    ring = np.repeat(np.arange(ptr.shape[0] - 1), np.diff(ptr))
    return y[sel], np.asarray(rings.fp, dtype=np.int64)[ring[sel]]


def ring_polygons(rings: Rings) -> NDArray[np.object_]:
    """One counter-clockwise shapely polygon per ring (discs and sectors have one ring each)."""
    if rings.fp.shape[0] == 0:
        return np.zeros(0, dtype=object)
    index = np.repeat(np.arange(rings.fp.shape[0]), np.diff(rings.ptr))
    # rings are traced by increasing azimuth (clockwise): reverse each one
    order = np.lexsort((-np.arange(index.shape[0]), index))
    coords = np.column_stack([rings.x[order], rings.y[order]])
    return np.asarray(shapely.polygons(shapely.linearrings(coords, indices=index)), dtype=object)


__all__ = [
    "DENSIFY_DEG",
    "Chains",
    "Rings",
    "chains_of",
    "circle_vertex_count",
    "corners",
    "corrected_radius",
    "disc_rings",
    "polygon_rings",
    "ring_polygons",
    "sector_rings",
]
