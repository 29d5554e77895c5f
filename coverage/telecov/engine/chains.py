"""Numba kernels for polygon footprints: their rings as y-monotone chains, and a chain's mean x.

A footprint given as a polygon (a geodesic sector, a terrain shadow with holes, any geodesic
disc on a projected grid) is stored as chains: runs of its rings' edges along which y only
decreases, from the top vertex down. On a scan strip every chain overlapping the strip gives
one crossing: the chain's mean x over the strip (beyond its ends the chain is continued by
its end vertex). Sorted and paired (even-odd), the crossings are the footprint's intervals;
each interval's length times the strip height is then the polygon's exact area in the strip
(widths are linear in y between vertices, and their mean is what the strip holds).

Chains are passed as ``chains = (fptr, cptr, cx, cy, cg, ext)``: footprint ``f`` owns chains
``fptr[f]:fptr[f + 1]``, chain ``c`` has vertices ``cptr[c]:cptr[c + 1]`` (``cx``, ``cy``, top
first) and ``cg`` holds the integral of x over y from the chain's top to each vertex. A
footprint's ``ext[f, 6]`` long chains come first; the others are at most ``ext[f, 7]`` high and
sorted by their tops, highest first, so a strip looks only at those whose tops lie within that
height above it (a terrain outline has thousands of short chains, a strip crosses a few).
"""

from __future__ import annotations

import math

import numpy as np

from .intervals import INLINE, INNER, KERNEL, insertion_sort

N_EXT = 8
"""Per footprint: top, bottom, west x, its y, east x, its y (its extremes), then its number of
long chains and the height bound of the others (:func:`telecov.engine.outlines.chains_of`)."""


@INLINE
def _g_at(k0: int, k1: int, cx: np.ndarray, cy: np.ndarray, cg: np.ndarray, y: float) -> float:
    """Integral of the (continued) chain's x over ``[y, top]``, negative above the top."""
    if y >= cy[k0]:
        return -(y - cy[k0]) * cx[k0]
    if y <= cy[k1]:
        return cg[k1] + (cy[k1] - y) * cx[k1]
    lo = k0
    hi = k1
    while hi - lo > 1:  # cy[lo] > y >= cy[hi]
        mid = (lo + hi) >> 1
        if cy[mid] > y:
            lo = mid
        else:
            hi = mid
    t = (cy[lo] - y) / (cy[lo] - cy[hi])
    x = cx[lo] + t * (cx[hi] - cx[lo])
    return cg[lo] + 0.5 * (cx[lo] + x) * (cy[lo] - y)


@INLINE
def chain_mean_x(
    k0: int, k1: int, cx: np.ndarray, cy: np.ndarray, cg: np.ndarray, top: float, bottom: float
) -> float:
    """Mean x of the chain with vertices ``k0..k1`` over the strip ``[bottom, top]``."""
    if top - bottom <= 0.0:
        return _x_at(k0, k1, cx, cy, top)
    return (_g_at(k0, k1, cx, cy, cg, bottom) - _g_at(k0, k1, cx, cy, cg, top)) / (top - bottom)


@INLINE
def _x_at(k0: int, k1: int, cx: np.ndarray, cy: np.ndarray, y: float) -> float:
    """Return the (continued) chain's x at ``y``."""
    if y >= cy[k0]:
        return cx[k0]
    if y <= cy[k1]:
        return cx[k1]
    lo = k0
    hi = k1
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if cy[mid] > y:
            lo = mid
        else:
            hi = mid
    t = (cy[lo] - y) / (cy[lo] - cy[hi])
    return cx[lo] + t * (cx[hi] - cx[lo])


@INLINE
def _short_from(lo: int, hi: int, cptr: np.ndarray, cy: np.ndarray, y: float) -> int:
    """First chain of ``lo..hi - 1`` (tops decreasing) whose top is below ``y``."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if cy[cptr[mid]] >= y:
            lo = mid + 1
        else:
            hi = mid
    return lo


@INNER
def chain_crossings(f: int, top: float, bottom: float, chains: tuple, xs: np.ndarray) -> np.int64:
    """Write the mean x of each chain of footprint ``f`` overlapping the strip to ``xs``; return the count."""
    fptr, cptr, cx, cy, cg, ext = chains
    c0 = fptr[f]
    c1 = fptr[f + 1]
    c_long = c0 + np.int64(ext[f, 6])
    nx = np.int64(0)
    for c in range(c0, c_long):
        k0 = cptr[c]
        k1 = cptr[c + 1] - 1
        if cy[k1] >= top or cy[k0] <= bottom:
            continue
        xs[nx] = chain_mean_x(k0, k1, cx, cy, cg, top, bottom)
        nx += 1
    for c in range(_short_from(c_long, c1, cptr, cy, top + ext[f, 7]), c1):
        k0 = cptr[c]
        if cy[k0] <= bottom:
            break  # the tops only go down from here
        k1 = cptr[c + 1] - 1
        if cy[k1] >= top:
            continue
        xs[nx] = chain_mean_x(k0, k1, cx, cy, cg, top, bottom)
        nx += 1
    return nx


@INNER
def outline_intervals(
    f: int,
    top: float,
    bottom: float,
    chains: tuple,
    xs: np.ndarray,
    out_a: np.ndarray,
    out_b: np.ndarray,
    n: int,
) -> int:
    """Append polygon footprint ``f``'s intervals on the strip ``[bottom, top]``; returns the count.

    ``xs`` is scratch for one crossing per chain of ``f``.
    """
    nx = chain_crossings(f, top, bottom, chains, xs)
    insertion_sort(xs, np.int64(0), nx)
    for k in range(0, nx - 1, 2):
        if xs[k + 1] > xs[k]:
            out_a[n] = xs[k]
            out_b[n] = xs[k + 1]
            n += 1
    return n


@INNER
def outline_extent(f: int, top: float, bottom: float, chains: tuple, xs: np.ndarray) -> tuple[float, float]:
    """Smallest and largest chain crossing of footprint ``f`` on a strip (west > east if none).

    For a convex polygon spanning the strip this is its one interval; ``xs`` is scratch.
    """
    nx = chain_crossings(f, top, bottom, chains, xs)
    lo = np.inf
    hi = -np.inf
    for k in range(nx):
        lo = min(lo, xs[k])
        hi = max(hi, xs[k])
    if hi > lo:
        return lo, hi
    return 1.0, -1.0


@INLINE
def _edge_dir(y: np.ndarray, a: int, b: int) -> int:
    if y[b] > y[a]:
        return 1
    if y[b] < y[a]:
        return -1
    return 0


@INNER
def _ring_dirs(x: np.ndarray, y: np.ndarray, s: int, e: int, dirs: np.ndarray) -> int:
    """Direction of each edge of the ring ``s:e`` (flat edges take the previous one's); 0 if all flat."""
    m = e - s
    first = -1
    for k in range(m):
        d = _edge_dir(y, s + k, s + (k + 1) % m)
        dirs[k] = d
        if d != 0 and first < 0:
            first = k
    if first < 0:
        return 0
    last = dirs[first]
    for j in range(m):
        k = (first + j) % m
        if dirs[k] == 0:
            dirs[k] = last
        else:
            last = dirs[k]
    return 1


@INNER
def _convex_ring(x: np.ndarray, y: np.ndarray, s: int, e: int) -> bool:
    """Whether the ring ``s:e`` turns one way only (a convex polygon)."""
    m = e - s
    sign = 0.0
    for k in range(m):
        a = s + k
        b = s + (k + 1) % m
        c = s + (k + 2) % m
        cross = (x[b] - x[a]) * (y[c] - y[b]) - (y[b] - y[a]) * (x[c] - x[b])
        if cross != 0.0:
            if sign == 0.0:
                sign = cross
            elif cross * sign < 0.0:
                return False
    return True


@INNER
def _emit_chain(
    x: np.ndarray, y: np.ndarray, s: int, m: int, k_a: int, k_b: int, up: bool, out: tuple, nv: int
) -> int:
    """Write the vertices of edges ``k_a..k_b`` (cyclic) of a ring as one chain, top first."""
    cx, cy, cg = out
    count = (k_b - k_a) % m + 2
    for j in range(count):
        src = s + (k_a + (count - 1 - j if up else j)) % m
        cx[nv + j] = x[src]
        cy[nv + j] = y[src]
    cg[nv] = 0.0
    for j in range(1, count):
        cg[nv + j] = cg[nv + j - 1] + 0.5 * (cx[nv + j - 1] + cx[nv + j]) * (cy[nv + j - 1] - cy[nv + j])
    return nv + count


@INNER
def _ring_chains(
    x: np.ndarray, y: np.ndarray, s: int, e: int, dirs: np.ndarray, out: tuple, nv: int, nc: int
) -> tuple[int, int]:
    """Cut the ring ``s:e`` into y-monotone chains appended to ``out = (cx, cy, cg, cptr)``."""
    cx, cy, cg, cptr = out
    m = e - s
    if m < 3 or _ring_dirs(x, y, s, e, dirs) == 0:
        return nv, nc
    start = 0
    for k in range(m):
        if dirs[k] != dirs[(k - 1) % m]:
            start = k
            break
    j = 0
    while j < m:
        k_a = (start + j) % m
        d = dirs[k_a]
        run = 1
        while j + run < m and dirs[(start + j + run) % m] == d:
            run += 1
        nv = _emit_chain(x, y, s, m, k_a, (k_a + run - 1) % m, d > 0, (cx, cy, cg), nv)
        nc += 1
        cptr[nc] = nv
        j += run
    return nv, nc


@KERNEL
def build_chains(x: np.ndarray, y: np.ndarray, ring_ptr: np.ndarray, ring_fp: np.ndarray, n_fp: int) -> tuple:
    """Chains of rings grouped by footprint (``ring_fp`` non-decreasing).

    Rings are open (no repeated closing vertex) and have no repeated consecutive vertices.
    Returns ``(fptr, cptr, cx, cy, cg, ext, convex)``: the chains, per footprint its extremes
    (:data:`N_EXT` columns) and whether it is one convex ring.
    """
    n_rings = ring_ptr.shape[0] - 1
    n_vert = x.shape[0]
    cx = np.empty(2 * n_vert + 2, np.float64)
    cy = np.empty(2 * n_vert + 2, np.float64)
    cg = np.empty(2 * n_vert + 2, np.float64)
    cptr = np.zeros(n_vert + 2, np.int64)
    fptr = np.zeros(n_fp + 1, np.int64)
    ext = np.full((n_fp, N_EXT), np.nan)
    rings_of = np.zeros(n_fp, np.int64)
    convex = np.zeros(n_fp, np.int64)
    dirs = np.empty(max(n_vert, 1), np.int64)
    nv = np.int64(0)
    nc = np.int64(0)
    for i in range(n_rings):
        f = ring_fp[i]
        s = ring_ptr[i]
        e = ring_ptr[i + 1]
        before = nc
        nv, nc = _ring_chains(x, y, s, e, dirs, (cx, cy, cg, cptr), nv, nc)
        fptr[f + 1] = nc
        if nc > before:
            rings_of[f] += 1
            convex[f] = 1 if (rings_of[f] == 1 and nc - before == 2 and _convex_ring(x, y, s, e)) else 0
            _extremes(x, y, s, e, ext[f])
    for f in range(n_fp):
        fptr[f + 1] = max(fptr[f + 1], fptr[f])
    return fptr, cptr[: nc + 1].copy(), cx[:nv].copy(), cy[:nv].copy(), cg[:nv].copy(), ext, convex


@KERNEL
def clean_rings(x: np.ndarray, y: np.ndarray, ring_ptr: np.ndarray) -> tuple:
    """Drop each ring's closing vertex and repeated consecutive vertices; returns (x, y, ring_ptr)."""
    ox = np.empty(x.shape[0], np.float64)
    oy = np.empty(y.shape[0], np.float64)
    optr = np.zeros(ring_ptr.shape[0], np.int64)
    n = 0
    for i in range(ring_ptr.shape[0] - 1):
        start = n
        for k in range(ring_ptr[i], ring_ptr[i + 1]):
            if n > start and x[k] == ox[n - 1] and y[k] == oy[n - 1]:
                continue
            ox[n] = x[k]
            oy[n] = y[k]
            n += 1
        while n - start > 1 and ox[n - 1] == ox[start] and oy[n - 1] == oy[start]:
            n -= 1
        optr[i + 1] = n
    return ox[:n].copy(), oy[:n].copy(), optr


@KERNEL
def turns_over(x: np.ndarray, y: np.ndarray, ring_ptr: np.ndarray, degrees: float) -> np.ndarray:
    """Per vertex of cleaned rings (:func:`clean_rings`): whether the outline turns by > ``degrees``.

    Rings of fewer than 3 vertices have no turn.
    """
    out = np.zeros(x.shape[0], np.bool_)
    for i in range(ring_ptr.shape[0] - 1):
        s, n = ring_ptr[i], ring_ptr[i + 1] - ring_ptr[i]
        if n < 3:
            continue
        for k in range(s, s + n):
            p, q = s + (k - s - 1) % n, s + (k - s + 1) % n
            ax, ay = x[k] - x[p], y[k] - y[p]
            bx, by = x[q] - x[k], y[q] - y[k]
            out[k] = abs(math.atan2(ax * by - ay * bx, ax * bx + ay * by)) * (180.0 / math.pi) > degrees
    return out


@INLINE
def _extremes(x: np.ndarray, y: np.ndarray, s: int, e: int, row: np.ndarray) -> None:
    """Grow ``row = (top, bottom, west x, its y, east x, its y)`` by the ring ``s:e``."""
    for k in range(s, e):
        if not (y[k] <= row[0]):
            row[0] = y[k]
        if not (y[k] >= row[1]):
            row[1] = y[k]
        if not (x[k] >= row[2]):
            row[2] = x[k]
            row[3] = y[k]
        if not (x[k] <= row[4]):
            row[4] = x[k]
            row[5] = y[k]
