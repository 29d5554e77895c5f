"""Numba kernels of marginal gains: what each candidate footprint adds to the existing coverage.

:func:`residual_band` runs the measure's own scan lines over one band (the same strips, area
edges and layer unions as :func:`telecov.engine.scan.measure`) and keeps, on each line, the
pieces of every region's intervals that the existing layer leaves uncovered: three lists per
line (areas, parents, total), each sorted by west end with the running maximum of east ends,
so that the pieces a chord meets are found by bisection even where regions overlap.

:func:`gains_band` measures, for each candidate crossing the band, its chords on those pieces
minus the chords of the sites picked so far, exactly as the measure kernel would add them:
strip area for m², prefix sums of the pixel row for people. Sums go to the candidate's
*pairs*: the regions its footprint can reach.

Tuples passed in (per band unless said otherwise):

- ``strips = (sptr, lat_mid, tops, bottoms, weight)``, ``grid = (lon0, dx)``, ``edges`` and
  ``members`` as in :mod:`telecov.engine.scan_kernel` (one layer: the existing coverage);
- ``discs``: the existing footprints, ``cand``/``picks``: candidate and picked footprints,
  each the kernels' footprint tuple (:meth:`telecov.engine.partition.Footprints.discs`);
- ``pieces = (lptr, west, east, cmax, region)``: what :func:`residual_band` returns; pieces of
  line ``s`` and kind ``k`` are ``lptr[3 s + k] : lptr[3 s + k + 1]``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .intervals import build_row_index, grow, insertion_sort_pairs, merge_sorted, union_two
from .lines import (
    area_intervals,
    footprint_intervals,
    layer_union,
    line_buffers,
    most_chains,
    most_per_row,
    prepare_row,
)  # fmt: skip
from .pixels import accumulate

KINDS = 3
"""Piece lists per line: areas, parents, total."""


@njit(cache=True, inline="always")
def _sort_by_west(a: np.ndarray, b: np.ndarray, g: np.ndarray, lo: int, hi: int) -> None:
    """Sort pieces ``lo:hi`` by west end in place (short, nearly sorted runs)."""
    for i in range(lo + 1, hi):
        va = a[i]
        vb = b[i]
        vg = g[i]
        j = i - 1
        while j >= lo and a[j] > va:
            a[j + 1] = a[j]
            b[j + 1] = b[j]
            g[j + 1] = g[j]
            j -= 1
        a[j + 1] = va
        b[j + 1] = vb
        g[j + 1] = vg


@njit(cache=True)
def _region_lists(areas: tuple, ni: int, parent: np.ndarray, n_parents: int, out: tuple) -> tuple:
    """Intervals of every region on a line, by kind: the areas', each parent's union, the total.

    Returns the ends of the three kinds in ``out = (west, east, region)``.
    """
    ia, ib, ic = areas
    ra, rb, rr = out
    n_areas = parent.shape[0]
    order = np.argsort(ia[:ni])
    for k in range(ni):
        i = order[k]
        ra[k] = ia[i]
        rb[k] = ib[i]
        rr[k] = ic[i]
    n = ni
    if n_parents > 0:
        keys = np.empty(ni, np.int64)
        for k in range(ni):
            keys[k] = parent[ic[order[k]]]
        by_parent = order[np.argsort(keys, kind="mergesort")]  # stable: west order kept per parent
        g0 = 0
        while g0 < ni:
            g = parent[ic[by_parent[g0]]]
            g1 = g0 + 1
            while g1 < ni and parent[ic[by_parent[g1]]] == g:
                g1 += 1
            if g >= 0:
                c = merge_sorted(ia, ib, by_parent[g0:g1], g1 - g0, ra[n:], rb[n:])
                rr[n : n + c] = n_areas + g
                n += c
            g0 = g1
    k1 = n
    _sort_by_west(ra, rb, rr, ni, k1)
    c = merge_sorted(ia, ib, order, ni, ra[n:], rb[n:])
    rr[n : n + c] = n_areas + n_parents
    return ni, k1, n + c


@njit(cache=True, inline="always")
def _subtract(a: float, b: float, ua: np.ndarray, ub: np.ndarray, nu: int, out: tuple, m: int, g: int) -> int:
    """Append the pieces of ``[a, b]`` outside the sorted union ``ua/ub[:nu]``; returns the new count."""
    pa, pb, pg = out
    j = np.searchsorted(ub[:nu], a, side="right")
    x = a
    while j < nu and ua[j] < b:
        if ua[j] > x:
            pa[m] = x
            pb[m] = ua[j]
            pg[m] = g
            m += 1
        x = max(x, ub[j])
        j += 1
    if b > x:
        pa[m] = x
        pb[m] = b
        pg[m] = g
        m += 1
    return m


@njit(cache=True)
def residual_band(
    nrows: int,
    strips: tuple,
    line_k: np.ndarray,
    edges: tuple,
    parent: np.ndarray,
    n_parents: int,
    discs: tuple,
    members: tuple,
    wanted: np.ndarray,
    kinds: np.ndarray,
) -> tuple:
    """Uncovered pieces of every region on each line of the rows where ``wanted[r]``.

    Only the kinds (areas, parents, total) where ``kinds[k]`` get pieces. Returns ``(lptr,
    west, east, cmax, region)``; lines of other rows hold no piece.
    """
    sptr, lat_mid = strips[0], strips[1]
    m_first, m_last, m_layer, m_fp = members
    eptr, eidx = build_row_index(edges[5], edges[6], nrows, 1, np.zeros(edges[5].shape[0], np.int64))
    fptr, fidx = build_row_index(m_first, m_last, nrows, 1, m_layer)
    max_edges, max_fp, max_iv = most_per_row(np.arange(nrows), eptr, fptr, 1, fidx, m_fp, discs)
    cross, areas, tmp, union, row = line_buffers(max_edges, max_fp, max_iv, most_chains(discs), 1)
    regs = (np.empty(3 * max_edges, np.float64), np.empty(3 * max_edges, np.float64),
            np.empty(3 * max_edges, np.int64))  # fmt: skip
    n_lines = sptr[nrows]
    lptr = np.zeros(KINDS * n_lines + 1, np.int64)
    pieces = (np.empty(1024, np.float64), np.empty(1024, np.float64), np.empty(1024, np.int64))
    m = 0
    for r in range(nrows):
        e0 = eptr[r]
        e1 = eptr[r + 1]
        live = wanted[r] and e1 > e0
        if live:
            prepare_row(r, sptr, line_k, discs, (fptr, fidx, m_fp), 1, row, tmp)
        for s in range(sptr[r], sptr[r + 1]):
            ni = area_intervals(lat_mid[s], e0, e1, eidx, edges, cross, areas) if live else 0
            ends = _region_lists(areas, ni, parent, n_parents, regs) if ni > 0 else (0, 0, 0)
            nu = layer_union(0, row, discs, s, line_k, tmp, union) if ni > 0 else 0
            start = 0
            for kind in range(KINDS):
                first = m
                for k in range(start, ends[kind] if kinds[kind] else start):
                    if m + nu + 1 >= pieces[0].shape[0]:
                        pieces = (grow(pieces[0], m + nu + 1), grow(pieces[1], m + nu + 1),
                                  grow(pieces[2], m + nu + 1))  # fmt: skip
                    m = _subtract(regs[0][k], regs[1][k], union[0], union[1], nu, pieces, m, regs[2][k])
                start = ends[kind]
                _sort_by_west(pieces[0], pieces[1], pieces[2], first, m)
                lptr[KINDS * s + kind + 1] = m
    west = pieces[0][:m].copy()
    east = pieces[1][:m].copy()
    cmax = np.empty(m, np.float64)
    for kind_start in range(KINDS * n_lines):
        top = -np.inf
        for k in range(lptr[kind_start], lptr[kind_start + 1]):
            top = max(top, east[k])
            cmax[k] = top
    return lptr, west, east, cmax, pieces[2][:m].copy()


@njit(cache=True, inline="always")
def _chords(
    f: int, fp: tuple, s: int, line_k: np.ndarray, xs: np.ndarray, a: np.ndarray, b: np.ndarray, n: int
) -> int:
    """Append footprint ``f``'s intervals on line ``s``; returns the new count (``xs``: scratch)."""
    return footprint_intervals(fp, f, s, line_k, xs, a, b, n)


@njit(cache=True, inline="always")
def _pieces_of(fp: tuple, f: int) -> int:
    """Most intervals footprint ``f`` gives on one line: 1 for a disc, half its chains for a polygon."""
    return max(1, (fp[4][f + 1] - fp[4][f]) // 2)


@njit(cache=True, inline="always")
def _chains_of(fp: tuple, f: int) -> int:
    """Chains of footprint ``f`` (0 for a disc)."""
    return fp[4][f + 1] - fp[4][f]


@njit(cache=True)
def _new_parts(
    own: tuple,
    cand: tuple,
    near: np.ndarray,
    picks: tuple,
    s: int,
    line_k: np.ndarray,
    buf: tuple,
) -> int:
    """Union of the chords of footprints ``own = (first, end)`` on line ``s``, minus the ``near`` picks'.

    The parts go to ``buf[4], buf[5]``; returns their count.
    """
    ca, cb, pa, pb, qa, qb, qg, ua, ub, xs = buf
    nc = 0
    for f in range(own[0], own[1]):
        nc = _chords(f, cand, s, line_k, xs, ca, cb, nc)
    if nc == 0:
        return 0
    insertion_sort_pairs(ca, cb, 0, nc)
    nc = union_two(ca, cb, nc, ca, cb, 0, qa, qb)
    npk = 0
    for p in near:
        npk = _chords(p, picks, s, line_k, xs, pa, pb, npk)
    if npk == 0:
        return nc
    ca[:nc] = qa[:nc]
    cb[:nc] = qb[:nc]
    insertion_sort_pairs(pa, pb, 0, npk)
    nu = union_two(pa, pb, npk, pa, pb, 0, ua, ub)
    m = 0
    for k in range(nc):
        m = _subtract(ca[k], cb[k], ua, ub, nu, (qa, qb, qg), m, 0)
    return m


@njit(cache=True, inline="always")
def _slot(regions: np.ndarray, p0: int, p1: int, g: int) -> int:
    """Index of region ``g`` among the candidate's pairs ``p0:p1`` (-1 when absent)."""
    for k in range(p0, p1):
        if regions[k] == g:
            return k
    return -1


@njit(cache=True)
def _add_line(
    parts: tuple,
    nq: int,
    s: int,
    r: int,
    band: tuple,
    pieces: tuple,
    pairs: tuple,
    p0: int,
    p1: int,
    out: np.ndarray,
) -> int:
    """Add the measures of parts ``qa/qb[:nq]`` on line ``s`` over the uncovered pieces; returns misses."""
    qa, qb = parts
    weight, lon0, dx, cum = band
    lptr, west, east, cmax, reg = pieces
    preg = pairs[1]
    wt = weight[s]
    misses = 0
    for kind in range(KINDS):
        k0 = lptr[KINDS * s + kind]
        k1 = lptr[KINDS * s + kind + 1]
        if k1 == k0:
            continue
        for q in range(nq):
            a = qa[q]
            b = qb[q]
            j = k0 + np.searchsorted(cmax[k0:k1], a, side="right")
            while j < k1 and west[j] < b:
                lo = max(a, west[j])
                hi = min(b, east[j])
                if hi > lo:
                    slot = _slot(preg, p0, p1, reg[j])
                    if slot < 0:
                        misses += 1
                    else:
                        accumulate(cum, r, (lo - lon0) / dx, (hi - lon0) / dx, out, slot, wt)
                j += 1
    return misses


@njit(cache=True)
def _candidate(
    c: int,
    b0: int,
    strips: tuple,
    line_k: np.ndarray,
    band: tuple,
    pieces: tuple,
    own: tuple,
    rows: tuple,
    cand: tuple,
    picks: tuple,
    mine: np.ndarray,
    pairs: tuple,
    out: np.ndarray,
) -> int:
    """Add what candidate ``c`` (footprints ``own``, raster ``rows``) adds on this band; returns misses.

    ``mine``: the pick footprints that may overlap it.
    """
    sptr = strips[0]
    nrows = sptr.shape[0] - 1
    kc = 2
    kx = 2
    for f in range(own[0], own[1]):
        kc += 2 * _pieces_of(cand, f)
        kx = max(kx, _chains_of(cand, f))
    kp = 2
    for p in mine:
        kp += 2 * _pieces_of(picks, p)
        kx = max(kx, _chains_of(picks, p))
    buf = (np.empty(kc, np.float64), np.empty(kc, np.float64), np.empty(kp, np.float64),
           np.empty(kp, np.float64), np.empty(kc * (kp + 1), np.float64),
           np.empty(kc * (kp + 1), np.float64), np.empty(kc * (kp + 1), np.int64),
           np.empty(kp, np.float64), np.empty(kp, np.float64), np.empty(kx, np.float64))  # fmt: skip
    p0 = pairs[0][c]
    p1 = pairs[0][c + 1]
    misses = 0
    for r in range(max(rows[0] - b0, 0), min(rows[1] - b0, nrows - 1) + 1):
        for s in range(sptr[r], sptr[r + 1]):
            nq = _new_parts(own, cand, mine, picks, s, line_k, buf)
            if nq > 0:
                misses += _add_line((buf[4], buf[5]), nq, s, r, band, pieces, pairs, p0, p1, out)
    return misses


@njit(cache=True, parallel=True)
def gains_band(
    b0: int,
    strips: tuple,
    line_k: np.ndarray,
    grid: tuple,
    cum: np.ndarray,
    pieces: tuple,
    which: np.ndarray,
    cands: tuple,
    picks: tuple,
    near: tuple,
    pairs: tuple,
    out: np.ndarray,
    misses: np.ndarray,
) -> None:
    """Add to ``out[pair]`` what each candidate ``which[i]`` adds on this band's uncovered pieces.

    ``cands = (cptr, first row, last row, discs)``: candidate ``c`` is footprints
    ``cptr[c]:cptr[c + 1]`` of ``discs`` (a site's sectors) spanning raster rows ``first[c]``
    to ``last[c]``; ``near = (optr, oidx)``: the pick footprints that may overlap candidate
    ``which[i]`` are ``oidx[optr[i]:optr[i + 1]]``; ``pairs = (pptr, region)``: candidate
    ``c``'s pairs are ``pptr[c]:pptr[c + 1]``. Pieces whose region is not among the
    candidate's pairs are counted in ``misses[i]``. Candidates are dealt to threads.
    """
    weight = strips[4]
    lon0 = grid[0]
    dx = grid[1]
    cptr, first, last, cand = cands
    optr, oidx = near
    for i in prange(which.shape[0]):
        c = which[i]
        misses[i] += _candidate(
            c, b0, strips, line_k, (weight, lon0, dx, cum), pieces, (cptr[c], cptr[c + 1]),
            (first[c], last[c]), cand, picks, oidx[optr[i] : optr[i + 1]], pairs, out,
        )  # fmt: skip


@njit(cache=True)
def gains_band_serial(
    b0: int,
    strips: tuple,
    line_k: np.ndarray,
    grid: tuple,
    cum: np.ndarray,
    pieces: tuple,
    which: np.ndarray,
    cands: tuple,
    picks: tuple,
    near: tuple,
    pairs: tuple,
    out: np.ndarray,
    misses: np.ndarray,
) -> None:
    """:func:`gains_band` in one thread (for a few candidates, starting threads costs more)."""
    band = (strips[4], grid[0], grid[1], cum)
    cptr, first, last, cand = cands
    optr, oidx = near
    for i in range(which.shape[0]):
        c = which[i]
        misses[i] += _candidate(
            c, b0, strips, line_k, band, pieces, (cptr[c], cptr[c + 1]), (first[c], last[c]), cand, picks,
            oidx[optr[i] : optr[i + 1]], pairs, out,
        )  # fmt: skip
