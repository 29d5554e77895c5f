"""Single-linkage clusters of cells within groups, by straight-line distance on the WGS84 ellipsoid.

Two cells of one group are linked when the chord between them (Earth-centred coordinates on the
ellipsoid) is at most the group's distance; a cluster is a connected set of links. The chord is
shorter than the geodesic by about s³ / 24R² — under 0.01 mm at 2 km — so the distances are
ground distances for every purpose here.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

from ..geodesy import WGS84_A, WGS84_E2


def earth_centred(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Earth-centred, Earth-fixed coordinates (m) of points on the WGS84 ellipsoid."""
    phi, lam = np.radians(lat), np.radians(lon)
    sin_phi = np.sin(phi)
    n = WGS84_A / np.sqrt(1.0 - WGS84_E2 * sin_phi * sin_phi)
    return n * np.cos(phi) * np.cos(lam), n * np.cos(phi) * np.sin(lam), n * (1.0 - WGS84_E2) * sin_phi


@njit(cache=True)
def _root(parent: NDArray[np.int64], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@njit(cache=True)
def _link_sorted(
    group: NDArray[np.int64],
    sweep: NDArray[np.float64],
    xyz: NDArray[np.float64],
    limit: NDArray[np.float64],
) -> NDArray[np.int64]:
    """Cluster roots of points sorted by group, then by ``sweep`` (one of the ``xyz`` axes).

    Points of a group closer than its limit along the sweep axis are tested; the others are
    farther apart than that anyway.
    """
    n = len(group)
    parent = np.arange(n)
    for i in range(n):
        d = limit[i]
        j = i + 1
        while j < n and group[j] == group[i] and sweep[j] - sweep[i] <= d:
            dx = xyz[j, 0] - xyz[i, 0]
            dy = xyz[j, 1] - xyz[i, 1]
            dz = xyz[j, 2] - xyz[i, 2]
            if dx * dx + dy * dy + dz * dz <= d * d:
                ri = _root(parent, i)
                rj = _root(parent, j)
                if ri != rj:
                    parent[max(ri, rj)] = min(ri, rj)
            j += 1
    out = np.empty(n, np.int64)
    for i in range(n):
        out[i] = _root(parent, i)
    return out


def single_linkage(
    group: NDArray[np.int64],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    distance_m: NDArray[np.float64],
) -> NDArray[np.int64]:
    """Single-linkage clusters of points within each group.

    Parameters
    ----------
    group
        Group of each point; points of different groups are never linked.
    lon, lat
        Positions in degrees.
    distance_m
        Linkage distance of each point's group (the same for every point of a group), metres.

    Returns
    -------
    numpy.ndarray
        Cluster of each point, named by the position of one of its points (the same for all).

    """
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    x, y, z = earth_centred(np.asarray(lon, np.float64), np.asarray(lat, np.float64))
    xyz = np.column_stack([x, y, z])
    axis = int(np.argmax(np.ptp(xyz, axis=0)))
    order = np.lexsort((xyz[:, axis], group))
    roots = _link_sorted(
        np.ascontiguousarray(group[order], dtype=np.int64),
        np.ascontiguousarray(xyz[order, axis]),
        np.ascontiguousarray(xyz[order]),
        np.ascontiguousarray(np.asarray(distance_m, np.float64)[order]),
    )
    labels = np.empty(n, dtype=np.int64)
    labels[order] = order[roots]
    return labels
