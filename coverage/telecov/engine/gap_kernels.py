"""Numba kernels for gap polygons: uncovered residential pieces of the engine's scan lines.

The pass mirrors :func:`telecov.engine.measure` line by line (same strips, same commune
intervals, same footprint unions, same prefix sums), but instead of summing the covered part it
keeps the *uncovered* part of each commune interval that lies on residential pixels, as a
rectangle one strip tall. :func:`merge_and_node` then stacks identical rectangles of
consecutive strips, adds the vertices each rectangle needs for its shared edges to match its
neighbours' exactly (so ``shapely.coverage_union_all`` can dissolve them), and labels the
connected zones.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .kernels import (
    _at,
    _insertion_sort_pairs,
    _prepare_row,
    _union_two,
    area_intervals,
    build_row_index,
    footprint_intervals,
    line_table,
    row_prefix_sums,
)


@njit(cache=True)
def _grow(x: np.ndarray, n: int) -> np.ndarray:
    """``x`` itself while index ``n`` fits, else a copy twice as long (any dtype)."""
    if n < x.shape[0]:
        return x
    out = np.empty(max(16, 2 * x.shape[0]), x.dtype)
    out[: x.shape[0]] = x
    return out


@njit(cache=True)
def _residential_runs(res: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR of maximal runs of residential pixels per row: (row pointer, first column, end column)."""
    nrows, ncols = res.shape
    ptr = np.zeros(nrows + 1, np.int64)
    n = 0
    for r in range(nrows):
        c = 0
        while c < ncols:
            if res[r, c] > 0.0:
                n += 1
                while c < ncols and res[r, c] > 0.0:
                    c += 1
            else:
                c += 1
        ptr[r + 1] = n
    start = np.empty(n, np.int64)
    end = np.empty(n, np.int64)
    k = 0
    for r in range(nrows):
        c = 0
        while c < ncols:
            if res[r, c] > 0.0:
                start[k] = c
                while c < ncols and res[r, c] > 0.0:
                    c += 1
                end[k] = c
                k += 1
            else:
                c += 1
    return ptr, start, end


@njit(cache=True)
def gap_band(
    nrows: int,
    sptr: np.ndarray,
    lat_mid: np.ndarray,
    area_deg: np.ndarray,
    weight: np.ndarray,
    lon0: float,
    dx: float,
    pop: np.ndarray,
    res: np.ndarray,
    ex0: np.ndarray,
    ey0: np.ndarray,
    ex1: np.ndarray,
    ey1: np.ndarray,
    ecomm: np.ndarray,
    erow0: np.ndarray,
    erow1: np.ndarray,
    flon: np.ndarray,
    flat: np.ndarray,
    fm0: np.ndarray,
    frad: np.ndarray,
    faz: np.ndarray,
    fwidth: np.ndarray,
    frow0: np.ndarray,
    frow1: np.ndarray,
    ffp: np.ndarray,
    strip0: int,
    base: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Uncovered residential rectangles of one band of pixel rows (one layer).

    Returns per rectangle the area index, the global strip index (``strip0`` + band strip),
    west and east longitude, people and m², and the count. ``base[area]`` receives the
    engine's population and residential population sums (columns 0 and 1) for checks.
    """
    cum = row_prefix_sums(pop, res)
    run_ptr, run_start, run_end = _residential_runs(res)
    run_end_f = run_end.astype(np.float64)
    no_key = np.zeros(erow0.shape[0], np.int64)
    eptr, eidx = build_row_index(erow0, erow1, nrows, 1, no_key)
    fkey = np.zeros(frow0.shape[0], np.int64)
    fptr, fidx = build_row_index(frow0, frow1, nrows, 1, fkey)
    line_k = line_table(lat_mid)
    max_edges = 1
    max_fp = 1
    for r in range(nrows):
        max_edges = max(max_edges, eptr[r + 1] - eptr[r])
        max_fp = max(max_fp, fptr[r + 1] - fptr[r])
    xs = np.empty(max_edges, np.float64)
    xc = np.empty(max_edges, np.int64)
    ia = np.empty(max_edges, np.float64)
    ib = np.empty(max_edges, np.float64)
    ic = np.empty(max_edges, np.int64)
    fa = np.empty(3 * max_fp, np.float64)
    fb = np.empty(3 * max_fp, np.float64)
    ua = np.empty(3 * max_fp + 1, np.float64)
    ub = np.empty(3 * max_fp + 1, np.float64)
    inner_a = np.empty((1, max_fp), np.float64)
    inner_b = np.empty((1, max_fp), np.float64)
    n_inner = np.zeros(1, np.int64)
    cand = np.empty((1, max_fp), np.int64)
    n_cand = np.zeros(1, np.int64)
    cap = 1024
    oc = np.empty(cap, np.int64)
    os_ = np.empty(cap, np.int64)
    olo = np.empty(cap, np.float64)
    ohi = np.empty(cap, np.float64)
    opp = np.empty(cap, np.float64)
    oar = np.empty(cap, np.float64)
    no = 0
    nn = pop.shape[1]
    for r in range(nrows):
        e0 = eptr[r]
        e1 = eptr[r + 1]
        if e1 == e0:
            continue
        _prepare_row(
            r, sptr, lat_mid, line_k, flon, flat, fm0, frad, fwidth, fptr, fidx, ffp, 1,
            inner_a, inner_b, n_inner, cand, n_cand, fa, fb,
        )  # fmt: skip
        r0 = run_ptr[r]
        r1 = run_ptr[r + 1]
        for s in range(sptr[r], sptr[r + 1]):
            lat = lat_mid[s]
            ni = area_intervals(lat, e0, e1, eidx, ex0, ey0, ex1, ey1, ecomm, xs, xc, ia, ib, ic)
            if ni == 0:
                continue
            wt = weight[s]
            A = area_deg[s]
            for k in range(ni):
                u_a = (ia[k] - lon0) / dx
                u_b = (ib[k] - lon0) / dx
                base[ic[k], 0] += (_at(cum, r, u_b, nn, 0) - _at(cum, r, u_a, nn, 0)) * wt
                base[ic[k], 1] += (_at(cum, r, u_b, nn, 2) - _at(cum, r, u_a, nn, 2)) * wt
            if r1 == r0:
                continue
            # the layer's union on this line (as in the engine)
            nf = 0
            for k in range(n_cand[0]):
                f = cand[0, k]
                nf = footprint_intervals(
                    flon[f], flat[f], fm0[f], frad[f], faz[f], fwidth[f],
                    lat, line_k[s, 0], line_k[s, 1], line_k[s, 2], line_k[s, 3], fa, fb, nf,
                )  # fmt: skip
            _insertion_sort_pairs(fa, fb, 0, nf)
            nu = _union_two(inner_a[0], inner_b[0], n_inner[0], fa, fb, nf, ua, ub)
            gs = strip0 + s
            for k in range(ni):
                a = ia[k]
                b = ib[k]
                c = ic[k]
                j = np.searchsorted(ub[:nu], a, side="right")
                cur = a
                while True:
                    if j < nu and ua[j] < b:
                        p = cur
                        q = ua[j]
                        nxt = max(cur, ub[j])
                        j += 1
                    else:
                        p = cur
                        q = b
                        nxt = b
                    if q > p:
                        # clip the uncovered piece [p, q] to the row's residential runs
                        up = (p - lon0) / dx
                        uq = (q - lon0) / dx
                        t = r0 + np.searchsorted(run_end_f[r0:r1], up, side="right")
                        while t < r1 and run_start[t] < uq:
                            lo_u = max(up, float(run_start[t]))
                            hi_u = min(uq, float(run_end[t]))
                            if hi_u > lo_u:
                                lo = p if up >= run_start[t] else lon0 + run_start[t] * dx
                                hi = q if uq <= run_end[t] else lon0 + run_end[t] * dx
                                people = (_at(cum, r, hi_u, nn, 2) - _at(cum, r, lo_u, nn, 2)) * wt
                                if no > 0 and oc[no - 1] == c and os_[no - 1] == gs and lo <= ohi[no - 1]:
                                    if hi > ohi[no - 1]:
                                        oar[no - 1] += (hi - ohi[no - 1]) * A
                                        ohi[no - 1] = hi
                                    opp[no - 1] += people
                                else:
                                    oc = _grow(oc, no)
                                    os_ = _grow(os_, no)
                                    olo = _grow(olo, no)
                                    ohi = _grow(ohi, no)
                                    opp = _grow(opp, no)
                                    oar = _grow(oar, no)
                                    oc[no] = c
                                    os_[no] = gs
                                    olo[no] = lo
                                    ohi[no] = hi
                                    opp[no] = people
                                    oar[no] = (hi - lo) * A
                                    no += 1
                            t += 1
                    cur = nxt
                    if cur >= b:
                        break
    return oc, os_, olo, ohi, opp, oar, no


@njit(cache=True)
def _find(parent: np.ndarray, i: int) -> int:
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:
        nxt = parent[i]
        parent[i] = root
        i = nxt
    return root


@njit(cache=True)
def merge_and_node(
    rc: np.ndarray,
    rs: np.ndarray,
    rlo: np.ndarray,
    rhi: np.ndarray,
    rpeople: np.ndarray,
    rarea: np.ndarray,
    tops: np.ndarray,
    bottoms: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
           np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Stack identical rectangles of consecutive strips, node shared edges and label zones.

    Input rectangles are sorted by (strip, area, west). Returns, per merged rectangle, area,
    first and last strip, west, east, people, m² and zone label (a union-find root), then the
    extra vertices as (rectangle, edge 0 bottom / 1 top, longitude).
    """
    n = rc.shape[0]
    mc = np.empty(n, np.int64)
    ms0 = np.empty(n, np.int64)
    ms1 = np.empty(n, np.int64)
    mlo = np.empty(n, np.float64)
    mhi = np.empty(n, np.float64)
    mpp = np.empty(n, np.float64)
    mar = np.empty(n, np.float64)
    uf = np.arange(n)
    nd_r = np.empty(16, np.int64)
    nd_e = np.empty(16, np.int64)
    nd_x = np.empty(16, np.float64)
    nnode = 0
    m = 0
    prev = np.empty(n, np.int64)  # merged ids open on the previous strip, in (area, west) order
    n_prev = 0
    prev_s = -10
    cur = np.empty(n, np.int64)
    ending = np.empty(n, np.int64)
    fresh = np.empty(n, np.int64)
    i = 0
    while i < n:
        s = rs[i]
        g1 = i
        while g1 < n and rs[g1] == s:
            g1 += 1
        contiguous = prev_s == s - 1 and bottoms[prev_s] == tops[s]
        n_cur = 0
        n_end = 0
        n_new = 0
        p = 0
        for k in range(i, g1):
            key_c = rc[k]
            continued = -1
            if contiguous:
                while p < n_prev and (
                    mc[prev[p]] < key_c or (mc[prev[p]] == key_c and mlo[prev[p]] < rlo[k])
                ):
                    ending[n_end] = prev[p]
                    n_end += 1
                    p += 1
                if p < n_prev and mc[prev[p]] == key_c and mlo[prev[p]] == rlo[k] and mhi[prev[p]] == rhi[k]:
                    continued = prev[p]
                    p += 1
            if continued >= 0:
                ms1[continued] = s
                mpp[continued] += rpeople[k]
                mar[continued] += rarea[k]
                cur[n_cur] = continued
            else:
                mc[m] = key_c
                ms0[m] = s
                ms1[m] = s
                mlo[m] = rlo[k]
                mhi[m] = rhi[k]
                mpp[m] = rpeople[k]
                mar[m] = rarea[k]
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
            # shared edges between rectangles ending above and rectangles starting here
            a = 0
            b = 0
            while a < n_end and b < n_new:
                e = ending[a]
                f = fresh[b]
                if mc[e] < mc[f]:
                    a += 1
                    continue
                if mc[f] < mc[e]:
                    b += 1
                    continue
                if mhi[e] <= mlo[f]:
                    a += 1
                    continue
                if mhi[f] <= mlo[e]:
                    b += 1
                    continue
                for q in range(4):
                    rect = e if q < 2 else f
                    other = f if q < 2 else e
                    x = mlo[other] if q % 2 == 0 else mhi[other]
                    if mlo[rect] < x < mhi[rect]:
                        nd_r = _grow(nd_r, nnode)
                        nd_e = _grow(nd_e, nnode)
                        nd_x = _grow(nd_x, nnode)
                        nd_r[nnode] = rect
                        nd_e[nnode] = 0 if q < 2 else 1
                        nd_x[nnode] = x
                        nnode += 1
                ra = _find(uf, e)
                rb = _find(uf, f)
                if ra != rb:
                    uf[max(ra, rb)] = min(ra, rb)
                if mhi[e] < mhi[f]:
                    a += 1
                else:
                    b += 1
        prev[:n_cur] = cur[:n_cur]
        n_prev = n_cur
        prev_s = s
        i = g1
    comp = np.empty(m, np.int64)
    for k in range(m):
        comp[k] = _find(uf, k)
    return (
        mc[:m], ms0[:m], ms1[:m], mlo[:m], mhi[:m], mpp[:m], mar[:m], comp,
        nd_r[:nnode], nd_e[:nnode], nd_x[:nnode],
    )  # fmt: skip


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
        top0 = j
        while j < nn and nd_r[j] == i and nd_e[j] == 1:
            j += 1
        top1 = j
        xy[k, 0] = mlo[i]
        xy[k, 1] = south[i]
        idx[k] = i
        k += 1
        for t in range(bot0, bot1):
            xy[k, 0] = nd_x[t]
            xy[k, 1] = south[i]
            idx[k] = i
            k += 1
        xy[k, 0] = mhi[i]
        xy[k, 1] = south[i]
        idx[k] = i
        k += 1
        xy[k, 0] = mhi[i]
        xy[k, 1] = north[i]
        idx[k] = i
        k += 1
        for t in range(top1 - 1, top0 - 1, -1):
            xy[k, 0] = nd_x[t]
            xy[k, 1] = north[i]
            idx[k] = i
            k += 1
        xy[k, 0] = mlo[i]
        xy[k, 1] = north[i]
        idx[k] = i
        k += 1
        xy[k, 0] = mlo[i]
        xy[k, 1] = south[i]
        idx[k] = i
        k += 1
    return xy[:k], idx[:k]
