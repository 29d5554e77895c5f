"""Numba kernel of the terrain step's polygons: boundary rings of the covered cells of a polar grid.

:func:`trace_rings` walks the cell edges between covered and uncovered cells (in index space:
x = column, y = row) and returns every ring with a vertex at each cell corner, what
:func:`rasterio.features.shapes` followed by a segmentation at unit length gives, in one
compiled pass over the runs of covered cells and the boundary, without the GIL.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _cov(covered: np.ndarray, x: int, y: int) -> bool:  # pragma: no cover - compiled
    """Whether cell (x, y) (column, row) is covered; cells off the grid are not."""
    return 0 <= x < covered.shape[0] and 0 <= y < covered.shape[1] and covered[x, y]


@njit(cache=True, nogil=True)
def _is_edge(covered: np.ndarray, x: int, y: int, d: int) -> bool:  # pragma: no cover - compiled
    """Whether the step from vertex (x, y) in direction d (0 +x, 1 +y, 2 −x, 3 −y) has covered on its left."""
    if d == 0:
        return _cov(covered, x, y) and not _cov(covered, x, y - 1)
    if d == 1:
        return _cov(covered, x - 1, y) and not _cov(covered, x, y)
    if d == 2:
        return _cov(covered, x - 1, y - 1) and not _cov(covered, x - 1, y)
    return _cov(covered, x, y - 1) and not _cov(covered, x - 1, y - 1)


@njit(cache=True, nogil=True)
def _runs(
    covered: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Return the runs of covered cells down each column (column, first row, end row), each column's first."""
    nx, ny = covered.shape
    rx, r0, r1 = [np.int64(0)][:0], [np.int64(0)][:0], [np.int64(0)][:0]
    first = np.zeros(nx + 1, dtype=np.int64)
    for x in range(nx):
        first[x] = len(rx)
        y = 0
        while y < ny:
            if covered[x, y]:
                y0 = y
                while y < ny and covered[x, y]:
                    y += 1
                rx.append(np.int64(x))
                r0.append(np.int64(y0))
                r1.append(np.int64(y))
            else:
                y += 1
    first[nx] = len(rx)
    return np.array(rx), np.array(r0), np.array(r1), first


@njit(cache=True, nogil=True)
def _find(parent: np.ndarray, i: int) -> int:  # pragma: no cover - compiled
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@njit(cache=True, nogil=True)
def _components(
    r0: np.ndarray, r1: np.ndarray, first: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled
    """Return the component of every run (runs of neighbouring columns sharing a row are joined)."""
    parent = np.arange(r0.size)
    for x in range(1, first.size - 1):
        a, b = first[x - 1], first[x]
        while a < first[x] and b < first[x + 1]:
            if max(r0[a], r0[b]) < min(r1[a], r1[b]):
                ra, rb = _find(parent, a), _find(parent, b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
            if r1[a] < r1[b]:
                a += 1
            else:
                b += 1
    for i in range(r0.size):
        parent[i] = _find(parent, i)
    return parent


_DX = (1, 0, -1, 0)
_DY = (0, 1, 0, -1)


@njit(cache=True, nogil=True)
def _emit(
    px: list,
    py: list,
    start: int,
    x: int,
    y: int,
    xs: list,
    ys: list,
    starts: list,
    labels: list,
    areas: list,
    label: int,
) -> None:  # pragma: no cover - compiled
    """Append the ring of path vertices start… closed at (x, y), its label and twice its signed area."""
    starts.append(len(xs))
    twice = np.int64(0)
    for q in range(start, len(px)):
        xs.append(px[q])
        ys.append(py[q])
        nx_, ny_ = (px[q + 1], py[q + 1]) if q + 1 < len(px) else (x, y)
        twice += px[q] * ny_ - nx_ * py[q]
    xs.append(x)
    ys.append(y)
    labels.append(label)
    areas.append(twice)


@njit(cache=True, nogil=True)
def trace_rings(
    covered: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Boundary rings of the covered cells of a grid (columns × rows), every unit step a vertex.

    Rings keep the covered cells on their left (outer rings counter-clockwise with x = column,
    y = row; holes clockwise); at a vertex where two covered cells touch only by a corner the
    ring turns left, so covered cells join by their sides only (4-connectivity), and a ring
    that comes back to a vertex is split there (a hole touching its outer ring at a point), as
    :func:`rasterio.features.shapes` does. Returns the vertices (x, y as int64, each ring
    closed by repeating its first vertex), the start of each ring in them (plus the end), each
    ring's connected component and twice its signed area.
    """
    nx, ny = covered.shape
    rx, r0, r1, first = _runs(covered)
    comp = _components(r0, r1, first)
    seen = np.zeros((nx + 1, ny + 1), dtype=np.bool_)  # the step +x from (x, y) was traced
    pos = np.full((nx + 1, ny + 1), -1, dtype=np.int64)  # position on the current path
    xs, ys = [np.int64(0)][:0], [np.int64(0)][:0]
    starts, labels, areas = [0][:0], [np.int64(0)][:0], [np.int64(0)][:0]
    px, py = [np.int64(0)][:0], [np.int64(0)][:0]
    for run in range(rx.size):
        # every step +x with a covered cell on its left is the bottom of a run
        x0, y0 = rx[run], r0[run]
        if seen[x0, y0]:
            continue
        x, y, d = x0, y0, 0
        while True:
            back = pos[x, y]
            if back >= 0:  # a loop closes here: split it off
                _emit(px, py, back, x, y, xs, ys, starts, labels, areas, comp[run])
                for q in range(back, len(px)):
                    pos[px[q], py[q]] = -1
                del px[back:]
                del py[back:]
            pos[x, y] = len(px)
            px.append(x)
            py.append(y)
            if d == 0:
                seen[x, y] = True
            x, y = x + _DX[d], y + _DY[d]
            for turn in (1, 0, 3):  # left, straight, right
                e = (d + turn) % 4
                if _is_edge(covered, x, y, e):
                    d = e
                    break
            if x == x0 and y == y0 and d == 0:
                break
        _emit(px, py, 0, x0, y0, xs, ys, starts, labels, areas, comp[run])
        for q in range(len(px)):
            pos[px[q], py[q]] = -1
        del px[:]
        del py[:]
    starts.append(len(xs))
    return np.array(xs), np.array(ys), np.array(starts), np.array(labels), np.array(areas)
