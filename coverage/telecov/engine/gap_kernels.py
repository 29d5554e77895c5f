"""Numba kernel for gap rectangles: uncovered residential pieces of the engine's scan lines.

The pass mirrors :func:`telecov.engine.measure` line by line (same strips, same commune
intervals, same footprint unions, same prefix sums), but instead of summing the covered part it
keeps the *uncovered* part of each commune interval that lies on residential pixels, as a
rectangle one strip tall. :mod:`telecov.engine.zone_kernels` then stacks and dissolves them.
Arguments are the tuples of :mod:`telecov.engine.scan_kernel`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .intervals import build_row_index, grow
from .lines import (
    area_intervals,
    layer_union,
    line_buffers,
    line_table,
    most_chains,
    most_per_row,
    prepare_row,
)  # fmt: skip
from .pixels import integral_at, row_prefix_sums


@njit(cache=True)
def residential_runs(res: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


@njit(cache=True, inline="always")
def _emit(rects: tuple, no: int, c: int, gs: int, lo: float, hi: float, people: float, m2: float) -> int:
    """Append a rectangle to ``rects`` (room reserved), or extend the last one it touches."""
    oc, os_, olo, ohi, opp, oar = rects
    if no > 0 and oc[no - 1] == c and os_[no - 1] == gs and lo <= ohi[no - 1]:
        if hi > ohi[no - 1]:
            ohi[no - 1] = hi
        oar[no - 1] += m2
        opp[no - 1] += people
        return no
    oc[no] = c
    os_[no] = gs
    olo[no] = lo
    ohi[no] = hi
    opp[no] = people
    oar[no] = m2
    return no + 1


@njit(cache=True, inline="always")
def _clip_to_runs(
    p: float, q: float, key: tuple, runs: tuple, cum: np.ndarray, grid: tuple, rects: tuple, no: int
) -> int:
    """Emit the parts of the uncovered piece ``[p, q]`` that lie on the row's residential runs.

    ``key = (area, global strip, row, weight)``.
    """
    c, gs, r, wt = key
    run_ptr, run_start, run_end, run_end_f = runs
    lon0, dx = grid
    nn = cum.shape[1] - 1
    r0 = run_ptr[r]
    r1 = run_ptr[r + 1]
    up = (p - lon0) / dx
    uq = (q - lon0) / dx
    t = r0 + np.searchsorted(run_end_f[r0:r1], up, side="right")
    while t < r1 and run_start[t] < uq:
        lo_u = max(up, float(run_start[t]))
        hi_u = min(uq, float(run_end[t]))
        if hi_u > lo_u:
            lo = p if up >= run_start[t] else lon0 + run_start[t] * dx
            hi = q if uq <= run_end[t] else lon0 + run_end[t] * dx
            people = (integral_at(cum, r, hi_u, nn, 3) - integral_at(cum, r, lo_u, nn, 3)) * wt
            m2 = (integral_at(cum, r, hi_u, nn, 0) - integral_at(cum, r, lo_u, nn, 0)) * wt
            no = _emit(rects, no, c, gs, lo, hi, people, m2)
        t += 1
    return no


@njit(cache=True, inline="always")
def _uncovered(
    a: float,
    b: float,
    key: tuple,
    union: tuple,
    nu: int,
    runs: tuple,
    cum: np.ndarray,
    grid: tuple,
    rects: tuple,
    no: int,
) -> int:
    """Emit the residential parts of ``[a, b]`` outside the union ``(west, east)[:nu]``."""
    ua, ub = union
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
            no = _clip_to_runs(p, q, key, runs, cum, grid, rects, no)
        cur = nxt
        if cur >= b:
            break
    return no


@njit(cache=True, inline="always")
def _add_area_people(
    areas: tuple, ni: int, grid: tuple, wt: float, cum: np.ndarray, r: int, base: np.ndarray
) -> None:
    """Add each area interval's population and residential population to ``base[area]``."""
    ia, ib, ic = areas
    lon0, dx = grid
    nn = cum.shape[1] - 1
    for k in range(ni):
        u_a = (ia[k] - lon0) / dx
        u_b = (ib[k] - lon0) / dx
        base[ic[k], 0] += (integral_at(cum, r, u_b, nn, 1) - integral_at(cum, r, u_a, nn, 1)) * wt
        base[ic[k], 1] += (integral_at(cum, r, u_b, nn, 3) - integral_at(cum, r, u_a, nn, 3)) * wt


@njit(cache=True, inline="always")
def _reserve(rects: tuple, n: int) -> tuple:
    """``rects`` with room for index ``n`` in each array."""
    oc, os_, olo, ohi, opp, oar = rects
    return grow(oc, n), grow(os_, n), grow(olo, n), grow(ohi, n), grow(opp, n), grow(oar, n)


@njit(cache=True)
def gap_band(
    nrows: int,
    strips: tuple,
    grid: tuple,
    pixels: tuple,
    edges: tuple,
    discs: tuple,
    members: tuple,
    strip0: int,
    base: np.ndarray,
) -> tuple:
    """Uncovered residential rectangles of one band of pixel rows (one layer).

    Returns per rectangle the area index, the global strip index (``strip0`` + band strip),
    west and east longitude, people and m², and the count. ``base[area]`` receives the
    engine's population and residential population sums (columns 0 and 1) for checks.
    """
    sptr, lat_mid, tops, bottoms, weight = strips
    pop, res, area = pixels
    cum = row_prefix_sums(pop, res, area)
    run_ptr, run_start, run_end = residential_runs(res)
    runs = (run_ptr, run_start, run_end, run_end.astype(np.float64))
    eptr, eidx = build_row_index(edges[5], edges[6], nrows, 1, np.zeros(edges[5].shape[0], np.int64))
    fptr, fidx = build_row_index(members[0], members[1], nrows, 1, np.zeros(members[0].shape[0], np.int64))
    line_k = line_table(tops, bottoms)
    max_edges, max_fp, max_iv = most_per_row(np.arange(nrows), eptr, fptr, 1, fidx, members[3], discs)
    cross, areas, tmp, union, row = line_buffers(max_edges, max_fp, max_iv, most_chains(discs), 1)
    rects = (
        np.empty(1024, np.int64), np.empty(1024, np.int64), np.empty(1024, np.float64),
        np.empty(1024, np.float64), np.empty(1024, np.float64), np.empty(1024, np.float64),
    )  # fmt: skip
    no = 0
    for r in range(nrows):
        if eptr[r + 1] == eptr[r]:
            continue
        prepare_row(r, sptr, line_k, discs, (fptr, fidx, members[3]), 1, row, tmp)
        for s in range(sptr[r], sptr[r + 1]):
            ni = area_intervals(lat_mid[s], eptr[r], eptr[r + 1], eidx, edges, cross, areas)
            if ni == 0:
                continue
            _add_area_people(areas, ni, grid, weight[s], cum, r, base)
            if run_ptr[r + 1] == run_ptr[r]:
                continue
            nu = layer_union(0, row, discs, s, line_k, tmp, union)
            for k in range(ni):
                # pieces of one interval meet at most nu + 1 gaps times the row's runs
                rects = _reserve(rects, no + nu + 1 + run_ptr[r + 1] - run_ptr[r])
                key = (areas[2][k], strip0 + s, r, weight[s])
                no = _uncovered(areas[0][k], areas[1][k], key, union, nu, runs, cum, grid, rects, no)
    return (*rects, no)
