"""The measure kernel: base and covered sums of every region over one band of pixel rows.

On each scan line the areas' intervals are merged into parent and total unions; each region
interval adds its exact strip area and its people (prefix sums of the pixel row) to ``base``,
and its intersection with each layer's union adds the same to ``cov``.

Tuples passed in (all arrays are per band unless said otherwise):

- ``strips = (sptr, lat_mid, area_deg, weight)``: strip ``k`` of row ``r`` is ``sptr[r] + k``,
  at latitude ``lat_mid``, with its exact area per degree of longitude and its share of the
  row's area;
- ``grid = (lon0, dx)``: west edge and pixel width of the band's columns (degrees);
- ``edges = (x0, y0, x1, y1, owner, first row, last row)``: area boundary edges;
- ``discs = (lon, lat, m0, radius, azimuth, width)``: every footprint (not only the band's);
- ``members = (first row, last row, layer, footprint)``: layer memberships crossing the band.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .intervals import build_row_index, merge_sorted
from .lines import area_intervals, layer_union, line_buffers, line_table, most_per_row, prepare_row
from .pixels import accumulate, row_prefix_sums

N_BASE = 4
"""Sums per region: area m², population, residential m², residential population."""


@njit(cache=True, inline="always")
def _parent_unions(
    areas: tuple,
    ni: int,
    order: np.ndarray,
    parent: np.ndarray,
    n_parents: int,
    buckets: tuple,
    out: tuple,
    nr: int,
) -> int:
    """Append each parent's union of its areas' intervals to ``out`` from ``nr``; returns the count."""
    ia, ib, ic = areas
    pcount, pfill, porder = buckets
    ra, rb, rr = out
    n_comm = parent.shape[0]
    # stable bucket of the x-sorted intervals by parent, then merge each bucket
    pcount[:] = 0
    for k in range(ni):
        g = parent[ic[k]]
        if g >= 0:
            pcount[g + 1] += 1
    for g in range(n_parents):
        pcount[g + 1] += pcount[g]
    pfill[:n_parents] = pcount[:n_parents]
    for k in range(ni):
        i = order[k]
        g = parent[ic[i]]
        if g >= 0:
            porder[pfill[g]] = i
            pfill[g] += 1
    for g in range(n_parents):
        c0 = pcount[g]
        c1 = pcount[g + 1]
        if c1 > c0:
            m = merge_sorted(ia, ib, porder[c0:c1], c1 - c0, ra[nr:], rb[nr:])
            rr[nr : nr + m] = n_comm + g
            nr += m
    return nr


@njit(cache=True, inline="always")
def _region_intervals(
    areas: tuple, ni: int, parent: np.ndarray, n_parents: int, buckets: tuple, out: tuple
) -> int:
    """Intervals of every region on a line: the areas', each parent's union, the total's union."""
    ia, ib, ic = areas
    ra, rb, rr = out
    for k in range(ni):
        ra[k] = ia[k]
        rb[k] = ib[k]
        rr[k] = ic[k]
    nr = ni
    order = np.argsort(ia[:ni])
    if n_parents > 0:
        nr = _parent_unions(areas, ni, order, parent, n_parents, buckets, out, nr)
    m = merge_sorted(ia, ib, order, ni, ra[nr:], rb[nr:])
    rr[nr : nr + m] = parent.shape[0] + n_parents
    return nr + m


@njit(cache=True, inline="always")
def _add_base(
    regs: tuple, nr: int, grid: tuple, A: float, wt: float, cum: np.ndarray, r: int, base: np.ndarray
) -> None:
    """Add the measures of the region intervals ``regs`` of one line of row ``r`` to ``base``."""
    ra, rb, rr = regs
    lon0, dx = grid
    for k in range(nr):
        ua_ = (ra[k] - lon0) / dx
        ub_ = (rb[k] - lon0) / dx
        g = rr[k]
        base[g, 0] += (rb[k] - ra[k]) * A
        accumulate(cum, r, ua_, ub_, base, g, wt, dx * A)


@njit(cache=True, inline="always")
def _add_covered(
    regs: tuple,
    nr: int,
    union: tuple,
    nu: int,
    grid: tuple,
    A: float,
    wt: float,
    cum: np.ndarray,
    r: int,
    cov: np.ndarray,
) -> None:
    """Add the measures of each region interval intersected with a layer's union to ``cov``."""
    ra, rb, rr = regs
    ua, ub = union
    lon0, dx = grid
    for k in range(nr):
        a = ra[k]
        b = rb[k]
        j = np.searchsorted(ub[:nu], a, side="right")
        g = rr[k]
        while j < nu and ua[j] < b:
            lo = max(a, ua[j])
            hi = min(b, ub[j])
            if hi > lo:
                ulo = (lo - lon0) / dx
                uhi = (hi - lon0) / dx
                cov[g, 0] += (hi - lo) * A
                accumulate(cum, r, ulo, uhi, cov, g, wt, dx * A)
            j += 1


@njit(cache=True)
def _scan_rows(
    rows: np.ndarray,
    strips: tuple,
    grid: tuple,
    cum: np.ndarray,
    edges: tuple,
    parent: np.ndarray,
    n_parents: int,
    discs: tuple,
    index: tuple,
    n_layers: int,
    base: np.ndarray,
    cov: np.ndarray,
) -> None:
    """Accumulate base and covered measures of every region for the given pixel rows.

    ``index = (eptr, eidx, fptr, fidx, ffp, line_k)``: the band's edges and layer members per
    row (:func:`build_row_index`) and :func:`line_table` of its lines.
    """
    sptr, lat_mid, area_deg, weight = strips
    eptr, eidx, fptr, fidx, ffp, line_k = index
    max_edges, max_fp = most_per_row(rows, eptr, fptr, n_layers)
    cross, areas, tmp, union, row = line_buffers(max_edges, max_fp, n_layers)
    buckets = (
        np.zeros(n_parents + 1, np.int64),
        np.zeros(n_parents + 1, np.int64),
        np.empty(max_edges, np.int64),
    )
    regs = (
        np.empty(3 * max_edges, np.float64),
        np.empty(3 * max_edges, np.float64),
        np.empty(3 * max_edges, np.int64),
    )
    for r in rows:
        e0 = eptr[r]
        e1 = eptr[r + 1]
        if e1 == e0:
            continue
        prepare_row(r, sptr, lat_mid, line_k, discs, (fptr, fidx, ffp), n_layers, row, tmp)
        for s in range(sptr[r], sptr[r + 1]):
            ni = area_intervals(lat_mid[s], e0, e1, eidx, edges, cross, areas)
            if ni == 0:
                continue
            nr = _region_intervals(areas, ni, parent, n_parents, buckets, regs)
            A = area_deg[s]
            wt = weight[s]
            _add_base(regs, nr, grid, A, wt, cum, r, base)
            for L in range(n_layers):
                nu = layer_union(L, row, discs, s, lat_mid, line_k, tmp, union)
                if nu > 0:
                    _add_covered(regs, nr, union, nu, grid, A, wt, cum, r, cov[:, L, :])


@njit(cache=True, parallel=True)
def _scan_chunks(
    strips: tuple,
    grid: tuple,
    cum: np.ndarray,
    edges: tuple,
    parent: np.ndarray,
    n_parents: int,
    discs: tuple,
    index: tuple,
    n_layers: int,
    base_t: np.ndarray,
    cov_t: np.ndarray,
) -> None:
    """Scan every ``n``-th pixel row in each of ``n`` threads, thread ``t`` summing into ``base_t[t]``."""
    n_chunks = base_t.shape[0]
    nrows = cum.shape[0]
    for t in prange(n_chunks):
        rows = np.arange(t, nrows, n_chunks)
        _scan_rows(
            rows, strips, grid, cum, edges, parent, n_parents, discs, index, n_layers, base_t[t], cov_t[t]
        )


@njit(cache=True)
def scan_band(
    n_chunks: int,
    nrows: int,
    strips: tuple,
    grid: tuple,
    pixels: tuple,
    edges: tuple,
    parent: np.ndarray,
    n_parents: int,
    discs: tuple,
    members: tuple,
    n_layers: int,
    base: np.ndarray,
    cov: np.ndarray,
) -> None:
    """Measure one band of pixel rows, adding into ``base`` (R×4) and ``cov`` (R×L×4).

    ``pixels = (pop, res)``: people and residential flags of the band's pixels. Rows are dealt
    to ``n_chunks`` threads, each summing into its own copy. Only the loop over threads is
    compiled as a parallel function, which keeps the compile short.
    """
    pop, res = pixels
    m_first, m_last, m_layer, m_fp = members
    cum = row_prefix_sums(pop, res)
    eptr, eidx = build_row_index(edges[5], edges[6], nrows, 1, np.zeros(edges[5].shape[0], np.int64))
    fptr, fidx = build_row_index(m_first, m_last, nrows, n_layers, m_layer)
    index = (eptr, eidx, fptr, fidx, m_fp, line_table(strips[1]))
    n_regions = base.shape[0]
    base_t = np.zeros((n_chunks, n_regions, N_BASE), np.float64)
    cov_t = np.zeros((n_chunks, n_regions, n_layers, N_BASE), np.float64)
    _scan_chunks(strips, grid, cum, edges, parent, n_parents, discs, index, n_layers, base_t, cov_t)
    for t in range(n_chunks):
        base += base_t[t]
        cov += cov_t[t]
