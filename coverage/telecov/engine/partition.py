"""What the engine measures on one partition: area regions as edges, and footprints."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from ..geodesy import meridian_radius
from .outlines import Chains, Rings, chains_of, polygon_rings, sector_rings


@dataclass(frozen=True)
class Regions:
    """Area polygons as boundary edges in lon/lat, with their grouping into parents.

    Region ``i < n_areas`` is area ``i``; ``n_areas + p`` is parent ``p`` (the union of its
    areas); the last region is the union of all areas.
    """

    x0: NDArray[np.float64]
    y0: NDArray[np.float64]
    x1: NDArray[np.float64]
    y1: NDArray[np.float64]
    owner: NDArray[np.int64]
    parent: NDArray[np.int64]
    n_parents: int
    bounds: tuple[float, float, float, float]
    area_bounds: NDArray[np.float64]
    area_size_m: NDArray[np.float64]

    @property
    def n_areas(self) -> int:
        """Number of areas."""
        return int(self.parent.shape[0])

    @property
    def n_regions(self) -> int:
        """Areas, parents and the total."""
        return self.n_areas + self.n_parents + 1


@dataclass(frozen=True)
class Footprints:
    """Geodesic discs, geodesic sectors and polygons: what each site covers.

    Per footprint: centre (degrees), radius (m), start azimuth and width (degrees); a sector
    covers true geodesic azimuths from ``azimuth`` clockwise to ``azimuth + width``, ``width``
    360 is a full disc. ``polygons`` (optional, one lon/lat (Multi)Polygon or None per
    footprint) replaces a footprint's disc or sector by that polygon, holes allowed (a radio
    lobe, a terrain shadow). Discs are measured analytically; sectors and polygons through
    their outlines (:attr:`rings`), which :func:`telecov.footprints.footprint_polygons` also
    exports.
    """

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    radius: NDArray[np.float64]
    azimuth: NDArray[np.float64]
    width: NDArray[np.float64]
    polygons: NDArray[np.object_] | None = None

    def __len__(self) -> int:
        return int(self.lon.shape[0])

    @classmethod
    def empty(cls) -> Footprints:
        """No footprint at all (to measure areas alone)."""
        z = np.zeros(0, dtype=np.float64)
        return cls(lon=z, lat=z, radius=z, azimuth=z, width=z)

    def polygon_mask(self) -> NDArray[np.bool_]:
        """Per footprint: whether a polygon is given for it."""
        if self.polygons is None:
            return np.zeros(len(self), dtype=bool)
        return np.array([g is not None and not g.is_empty for g in self.polygons], dtype=bool)

    def sector_mask(self) -> NDArray[np.bool_]:
        """Per footprint: a sector (width under 360°) without a polygon of its own."""
        return (np.asarray(self.width) < 360.0) & ~self.polygon_mask()

    @cached_property
    def rings(self) -> Rings:
        """Lon/lat outlines of the sectors and polygons (discs have none), ordered by footprint."""
        sector = np.flatnonzero(self.sector_mask())
        given = np.flatnonzero(self.polygon_mask())
        polygons = self.polygons if self.polygons is not None else np.zeros(0, dtype=object)
        return Rings.join([
            sector_rings(self.lon[sector], self.lat[sector], self.radius[sector], self.azimuth[sector],
                         self.width[sector], sector),
            polygon_rings(np.asarray(polygons, dtype=object)[given], given),
        ])  # fmt: skip

    @cached_property
    def chains(self) -> Chains:
        """The outlines as the kernels' lon/lat chains."""
        return chains_of(self.rings, len(self))

    def discs(self) -> tuple[NDArray[Any], ...]:
        """Return the kernels' footprint tuple on a lon/lat grid.

        ``(lon, lat, m0, radius, fptr, cptr, cx, cy, cg, ext, convex)``: ``m0`` is the meridian
        radius at the centre; the rest are :attr:`chains` (footprints without chains are discs).
        """
        m0 = np.asarray(meridian_radius(self.lat), dtype=np.float64)
        return (self.lon, self.lat, m0, self.radius, *self.chains.kernel)


def regions_from_geometries(
    geometries: NDArray[np.object_], *, parent: NDArray[np.int64] | None = None
) -> Regions:
    """Build :class:`Regions` from valid lon/lat (Multi)Polygons.

    Parameters
    ----------
    geometries
        One polygonal geometry per area, in lon/lat degrees.
    parent
        Parent index (0..P-1) per area, or -1; None for no parents.

    """
    geoms = np.asarray(geometries, dtype=object)
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    coords, coord_of = shapely.get_coordinates(rings, return_index=True)
    start = np.flatnonzero(coord_of[:-1] == coord_of[1:])
    if parent is None:
        parent = np.full(len(geoms), -1, dtype=np.int64)
    n_parents = int(parent.max()) + 1 if len(parent) and parent.max() >= 0 else 0
    bounds = (
        (
            float(coords[:, 0].min()),
            float(coords[:, 1].min()),
            float(coords[:, 0].max()),
            float(coords[:, 1].max()),
        )
        if len(coords)
        else (0.0, 0.0, 0.0, 0.0)
    )
    area_bounds = shapely.bounds(geoms).reshape(-1, 4)
    mid_lat = np.radians(0.5 * (area_bounds[:, 1] + area_bounds[:, 3]))
    size_m = np.sqrt(np.abs(shapely.area(geoms)) * np.cos(mid_lat)) * (math.pi / 180.0) * 6371000.0
    return Regions(
        area_bounds=area_bounds,
        area_size_m=size_m,
        x0=coords[start, 0].copy(),
        y0=coords[start, 1].copy(),
        x1=coords[start + 1, 0].copy(),
        y1=coords[start + 1, 1].copy(),
        owner=part_of[ring_of[coord_of[start]]].astype(np.int64),
        parent=np.asarray(parent, dtype=np.int64),
        n_parents=n_parents,
        bounds=bounds,
    )
