"""Numba kernels that turn gap rectangles into exactly noded rings and connected zones.

:func:`merge_and_node` stacks identical rectangles of consecutive strips, adds the vertices
each rectangle needs for its shared edges to match its neighbours' exactly (so
``shapely.coverage_union_all`` can dissolve them) and labels the connected zones;
:func:`rings` writes the rectangles as closed rings.

Rectangles come as the arrays ``(area, strip, west, east, people, m²)``; merged ones as rows
``mi = (area, first strip, last strip)`` (int) and ``mf = (west, east, people, m²)`` (float).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .intervals import grow


@njit(cache=True)
def _find(parent: np.ndarray, i: int) -> int:
    """Root of ``i`` in the union-find forest ``parent`` (with path compression)."""
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:
        nxt = parent[i]
        parent[i] = root
        i = nxt
    return root


@njit(cache=True, inline="always")
def _ends_before(mi: np.ndarray, mf: np.ndarray, e: int, c: int, west: float) -> bool:
    """Whether merged rectangle ``e`` sorts before a rectangle of area ``c`` starting at ``west``."""
    return mi[e, 0] < c or (mi[e, 0] == c and mf[e, 0] < west)


@njit(cache=True, inline="always")
def _stack_strip(
    i: int, g1: int, contiguous: bool, rects: tuple, merged: tuple, lists: tuple, counts: tuple
) -> tuple[int, int, int, int]:
    """Continue the open rectangles that rectangles ``i:g1`` (one strip) repeat exactly; open the others.

    ``lists = (prev, cur, ending, fresh)`` hold merged ids; ``counts = (m, n_prev)``. Returns
    the new ``m`` and the counts of ``cur`` (open now), ``ending`` and ``fresh``.
    """
    rc, rs, rlo, rhi, rpeople, rarea = rects
    mi, mf = merged
    prev, cur, ending, fresh = lists
    m, n_prev = counts
    s = rs[i]
    n_cur = 0
    n_end = 0
    n_new = 0
    p = 0
    for k in range(i, g1):
        continued = -1
        if contiguous:
            while p < n_prev and _ends_before(mi, mf, prev[p], rc[k], rlo[k]):
                ending[n_end] = prev[p]
                n_end += 1
                p += 1
            if (
                p < n_prev
                and mi[prev[p], 0] == rc[k]
                and mf[prev[p], 0] == rlo[k]
                and mf[prev[p], 1] == rhi[k]
            ):
                continued = prev[p]
                p += 1
        if continued >= 0:
            mi[continued, 2] = s
            mf[continued, 2] += rpeople[k]
            mf[continued, 3] += rarea[k]
            cur[n_cur] = continued
        else:
            mi[m, 0] = rc[k]
            mi[m, 1] = s
            mi[m, 2] = s
            mf[m, 0] = rlo[k]
            mf[m, 1] = rhi[k]
            mf[m, 2] = rpeople[k]
            mf[m, 3] = rarea[k]
            cur[n_cur] = m
            fresh[n_new] = m
            n_new += 1
            m += 1
        n_cur += 1
    if contiguous:
        while p < n_prev:
            ending[n_end] = prev[p]
            n_end += 1
            p += 1
    return m, n_cur, n_end, n_new


@njit(cache=True, inline="always")
def _add_nodes(e: int, f: int, mf: np.ndarray, nodes: tuple, nnode: int) -> tuple:
    """Vertices where the ends of ``e`` (above) and ``f`` (below) fall inside each other's edge.

    ``nodes = (rectangle, edge 0 bottom / 1 top, longitude)`` per vertex.
    """
    nd_r, nd_e, nd_x = nodes
    for q in range(4):
        rect = e if q < 2 else f
        other = f if q < 2 else e
        x = mf[other, 0] if q % 2 == 0 else mf[other, 1]
        if mf[rect, 0] < x < mf[rect, 1]:
            nd_r = grow(nd_r, nnode)
            nd_e = grow(nd_e, nnode)
            nd_x = grow(nd_x, nnode)
            nd_r[nnode] = rect
            nd_e[nnode] = 0 if q < 2 else 1
            nd_x[nnode] = x
            nnode += 1
    return nd_r, nd_e, nd_x, nnode


@njit(cache=True, inline="always")
def _node_shared_edges(
    ending: np.ndarray,
    n_end: int,
    fresh: np.ndarray,
    n_new: int,
    merged: tuple,
    uf: np.ndarray,
    nodes: tuple,
    nnode: int,
) -> tuple:
    """Node the edges shared by rectangles ending above and starting here, and join their zones."""
    mi, mf = merged
    nd_r, nd_e, nd_x = nodes
    a = 0
    b = 0
    while a < n_end and b < n_new:
        e = ending[a]
        f = fresh[b]
        if mi[e, 0] < mi[f, 0] or (mi[e, 0] == mi[f, 0] and mf[e, 1] <= mf[f, 0]):
            a += 1
            continue
        if mi[f, 0] < mi[e, 0] or mf[f, 1] <= mf[e, 0]:
            b += 1
            continue
        nd_r, nd_e, nd_x, nnode = _add_nodes(e, f, mf, (nd_r, nd_e, nd_x), nnode)
        ra = _find(uf, e)
        rb = _find(uf, f)
        if ra != rb:
            uf[max(ra, rb)] = min(ra, rb)
        if mf[e, 1] < mf[f, 1]:
            a += 1
        else:
            b += 1
    return nd_r, nd_e, nd_x, nnode


@njit(cache=True)
def merge_and_node(rects: tuple, tops: np.ndarray, bottoms: np.ndarray) -> tuple:
    """Stack identical rectangles of consecutive strips, node shared edges and label zones.

    ``rects = (area, strip, west, east, people, m²)``, sorted by (strip, area, west). Returns
    the merged rectangles ``mi`` and ``mf``, each one's zone label (a union-find root), then
    the extra vertices as (rectangle, edge 0 bottom / 1 top, longitude).
    """
    rs = rects[1]
    n = rs.shape[0]
    merged = (np.empty((n, 3), np.int64), np.empty((n, 4), np.float64))
    uf = np.arange(n)
    nd_r = np.empty(16, np.int64)
    nd_e = np.empty(16, np.int64)
    nd_x = np.empty(16, np.float64)
    # merged ids open on the previous strip (in (area, west) order), open now, ending, fresh
    lists = (np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64))
    nnode = 0
    m = 0
    n_prev = 0
    prev_s = -10
    i = 0
    while i < n:
        s = rs[i]
        g1 = i
        while g1 < n and rs[g1] == s:
            g1 += 1
        contiguous = prev_s == s - 1 and bottoms[prev_s] == tops[s]
        m, n_cur, n_end, n_new = _stack_strip(i, g1, contiguous, rects, merged, lists, (m, n_prev))
        if contiguous:
            nd_r, nd_e, nd_x, nnode = _node_shared_edges(
                lists[2], n_end, lists[3], n_new, merged, uf, (nd_r, nd_e, nd_x), nnode
            )
        lists[0][:n_cur] = lists[1][:n_cur]
        n_prev = n_cur
        prev_s = s
        i = g1
    comp = np.empty(m, np.int64)
    for k in range(m):
        comp[k] = _find(uf, k)
    return merged[0][:m], merged[1][:m], comp, nd_r[:nnode], nd_e[:nnode], nd_x[:nnode]


@njit(cache=True, inline="always")
def _put(xy: np.ndarray, idx: np.ndarray, k: int, x: float, y: float, i: int) -> int:
    xy[k, 0] = x
    xy[k, 1] = y
    idx[k] = i
    return k + 1


@njit(cache=True)
def rings(
    mlo: np.ndarray,
    mhi: np.ndarray,
    south: np.ndarray,
    north: np.ndarray,
    nd_r: np.ndarray,
    nd_e: np.ndarray,
    nd_x: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Build closed counter-clockwise rings of the rectangles with their extra vertices.

    Vertices must be sorted by (rectangle, edge, longitude). Returns (coordinates, ring index
    per coordinate).
    """
    m = mlo.shape[0]
    total = 6 * m + nd_r.shape[0]
    xy = np.empty((total, 2), np.float64)
    idx = np.empty(total, np.int64)
    k = 0
    j = 0
    nn = nd_r.shape[0]
    for i in range(m):
        bot0 = j
        while j < nn and nd_r[j] == i and nd_e[j] == 0:
            j += 1
        bot1 = j
        while j < nn and nd_r[j] == i and nd_e[j] == 1:
            j += 1
        k = _put(xy, idx, k, mlo[i], south[i], i)
        for t in range(bot0, bot1):
            k = _put(xy, idx, k, nd_x[t], south[i], i)
        k = _put(xy, idx, k, mhi[i], south[i], i)
        k = _put(xy, idx, k, mhi[i], north[i], i)
        for t in range(j - 1, bot1 - 1, -1):
            k = _put(xy, idx, k, nd_x[t], north[i], i)
        k = _put(xy, idx, k, mlo[i], north[i], i)
        k = _put(xy, idx, k, mlo[i], south[i], i)
    return xy[:k], idx[:k]
