"""What the engine measures on one partition: area regions as edges, and geodesic footprints."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from ..geodesy import meridian_radius


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
    """Geodesic discs and sectors: centre (degrees), radius (m), start azimuth and width (degrees).

    A sector covers bearings from ``azimuth`` clockwise to ``azimuth + width``; ``width`` 360 is
    a full disc.
    """

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    radius: NDArray[np.float64]
    azimuth: NDArray[np.float64]
    width: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.lon.shape[0])

    @classmethod
    def empty(cls) -> Footprints:
        """No footprint at all (to measure areas alone)."""
        return cls(*(np.zeros(0, dtype=np.float64) for _ in range(5)))

    def discs(self) -> tuple[NDArray[np.float64], ...]:
        """Return the kernels' tuple ``(lon, lat, m0, radius, azimuth, width)`` (``m0``: meridian radius)."""
        m0 = np.asarray(meridian_radius(self.lat), dtype=np.float64)
        return (self.lon, self.lat, m0, self.radius, self.azimuth, self.width)


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
