"""The measure kernel: base and covered sums of every region over one band of pixel rows.

On each scan line the areas' intervals are merged into parent and total unions; each region
interval adds its true area, its people, its residential area and residential people (prefix
sums of the pixel row, :mod:`telecov.engine.pixels`) to ``base``, and its intersection with
each layer's union adds the same to ``cov``.

Tuples passed in (all arrays are per band unless said otherwise):

- ``strips = (sptr, lat_mid, tops, bottoms, weight)``: strip ``k`` of row ``r`` is
  ``sptr[r] + k``, its scan line at ``lat_mid`` between ``tops`` and ``bottoms`` (y of the
  grid), holding the share ``weight`` of the row's pixels;
- ``grid = (lon0, dx)``: west edge and pixel width of the band's columns (grid x);
- ``edges = (x0, y0, x1, y1, owner, first row, last row)``: area boundary edges;
- ``discs``: every footprint (not only the band's), see :mod:`telecov.engine.lines`;
- ``members = (first row, last row, layer, footprint)``: layer memberships crossing the band.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .chains import N_EXT
from .intervals import INLINE, build_row_index, kernel, merge_sorted
from .lines import (
    N_LINE,
    area_intervals,
    layer_union,
    line_buffers,
    line_table,
    most_chains,
    most_per_row,
    prepare_layer,
    split_union,
)  # fmt: skip
from .pixels import N_CHANNELS, accumulate, row_prefix_sums
from .warm import wait

N_BASE = N_CHANNELS
"""Sums per region: area m², population, residential m², residential population."""

_F8, _I8 = np.float64, np.int64
STRIP_DTYPES = (_I8, _F8, _F8, _F8, _F8)
"""Dtypes of ``strips``; with :data:`EDGE_DTYPES` and :data:`DISC_DTYPES` what the kernels take."""
COARSE_DTYPES = (_I8, _I8, _F8, _F8, _I8)
EDGE_DTYPES = (_F8, _F8, _F8, _F8, _I8, _I8, _I8)
DISC_DTYPES = (_F8, _F8, _F8, _F8, _I8, _I8, _F8, _F8, _F8, _F8, _I8)


@INLINE
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


@INLINE
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


@INLINE
def _add_base(
    regs: tuple, nr: int, grid: tuple, wt: float, cum: np.ndarray, r: int, base: np.ndarray
) -> None:
    """Add the measures of the region intervals ``regs`` of one line of row ``r`` to ``base``."""
    ra, rb, rr = regs
    lon0, dx = grid
    for k in range(nr):
        accumulate(cum, r, (ra[k] - lon0) / dx, (rb[k] - lon0) / dx, base, rr[k], wt)


@INLINE
def _add_covered(
    regs: tuple,
    nr: int,
    union: tuple,
    nu: int,
    grid: tuple,
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
                accumulate(cum, r, (lo - lon0) / dx, (hi - lon0) / dx, cov, g, wt)
            j += 1


@kernel(nogil=True)
def _scan_rows(
    rows: np.ndarray,
    strips: tuple,
    coarse: tuple,
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

    ``index = (eptr, eidx, fptr, fidx, ffp, line_k, coarse_k)``: the band's edges and layer
    members per row (:func:`build_row_index`), :func:`line_table` of its lines and of its
    coarse strips. ``coarse = (csptr, coarse_of, splits)``: the coarse strips (the strips
    without the corner splits) per row, the coarse strip of each line, and whether each
    footprint's corners split strips. A footprint whose corners split strips is measured on
    every line, any other once per coarse strip (its interval holds its exact area in that
    strip): a layer's union on a line is the union of its members' intervals, whatever the
    other layers (a combined layer never covers less than one of its parts).
    """
    sptr, lat_mid, _tops, _bottoms, weight = strips
    csptr, coarse_of, splits = coarse
    eptr, eidx, fptr, fidx, ffp, line_k, coarse_k = index
    max_edges, max_fp, max_iv = most_per_row(rows, eptr, fptr, n_layers, fidx, ffp, discs)
    cross, areas, tmp, union, row = line_buffers(max_edges, max_fp, max_iv, most_chains(discs), n_layers)
    ca = np.empty((n_layers, union[0].shape[0]), np.float64)
    cb = np.empty((n_layers, union[0].shape[0]), np.float64)
    n_coarse = np.zeros(n_layers, np.int64)
    done = np.empty(n_layers, np.int64)
    n_split = row[5]
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
        lines = ((sptr[r], sptr[r + 1] - 1), line_k, (csptr[r], csptr[r + 1] - 1), coarse_k, splits)
        for L in range(n_layers):
            prepare_layer(L, r * n_layers + L, lines, discs, (fptr, fidx, ffp), row, tmp)
            done[L] = -1
        for s in range(sptr[r], sptr[r + 1]):
            ni = area_intervals(lat_mid[s], e0, e1, eidx, edges, cross, areas)
            if ni == 0:
                continue
            nr = _region_intervals(areas, ni, parent, n_parents, buckets, regs)
            wt = weight[s]
            _add_base(regs, nr, grid, wt, cum, r, base)
            c = coarse_of[s]
            for L in range(n_layers):
                if c != done[L]:
                    n_coarse[L] = layer_union(L, row, discs, c, coarse_k, tmp, (ca[L], cb[L]))
                    done[L] = c
                if n_split[L] > 0:
                    nu = split_union(L, row, discs, s, line_k, tmp, (ca[L], cb[L], n_coarse[L]), union)
                    if nu > 0:
                        _add_covered(regs, nr, union, nu, grid, wt, cum, r, cov[:, L, :])
                elif n_coarse[L] > 0:
                    _add_covered(regs, nr, (ca[L], cb[L]), n_coarse[L], grid, wt, cum, r, cov[:, L, :])


@kernel(nogil=True)
def _band_index(
    nrows: int, pixels: tuple, edges: tuple, members: tuple, n_layers: int, strips: tuple, coarse_lines: tuple
) -> tuple:
    """Return the prefix sums of the band's pixel rows and its per-row indexes of edges and members."""
    pop, res, area = pixels
    m_first, m_last, m_layer, m_fp = members
    cum = row_prefix_sums(pop, res, area)
    one = np.int64(1)  # typed int64, not a literal 1: one specialisation of build_row_index
    eptr, eidx = build_row_index(edges[5], edges[6], nrows, one, np.zeros(edges[5].shape[0], np.int64))
    fptr, fidx = build_row_index(m_first, m_last, nrows, n_layers, m_layer)
    line_k = line_table(strips[2], strips[3])
    return cum, (eptr, eidx, fptr, fidx, m_fp, line_k, line_table(coarse_lines[0], coarse_lines[1]))


@functools.cache
def _pool(n_threads: int) -> ThreadPoolExecutor:
    """Return the threads that measure the rows of a band (kept for the later bands)."""
    return ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="telecov-scan")


def scan_band(
    n_chunks: int,
    nrows: int,
    strips: tuple,
    coarse: tuple,
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

    ``pixels = (pop, res, area)``: people, residential flags and true areas (m²) of the band's
    pixels; ``coarse = (csptr, coarse_of, tops, bottoms, splits)``: the band's strips without
    the corner splits (row pointers, the coarse strip of each strip, their tops and bottoms)
    and whether each footprint's corners split strips (:attr:`telecov.engine.bands.Band.coarse`).
    Row ``r`` goes to thread ``r mod n_chunks``, each thread summing into its own copy,
    the copies added in thread order. The threads are Python threads running the compiled
    :func:`_scan_rows` without the GIL: all cores measure, and nothing is compiled as a numba
    parallel function (which took a third of the first run's compile time).
    """
    strips = kernel_arrays(strips, STRIP_DTYPES)
    csptr, coarse_of, ctops, cbottoms, splits = kernel_arrays(coarse, COARSE_DTYPES)
    edges = kernel_arrays(edges, EDGE_DTYPES)
    discs = kernel_arrays(discs, DISC_DTYPES)
    parent = np.require(parent, _I8, ("C", "W"))
    cum, index = _band_index(nrows, pixels, edges, members, n_layers, strips, (ctops, cbottoms))
    wait()  # a helper compiling _scan_rows into the cache (first run): load it from there
    n_regions = base.shape[0]
    base_t = np.zeros((n_chunks, n_regions, N_BASE), np.float64)
    cov_t = np.zeros((n_chunks, n_regions, n_layers, N_BASE), np.float64)

    def run(t: int) -> None:
        rows = np.arange(t, cum.shape[0], n_chunks)
        _scan_rows(
            rows, strips, (csptr, coarse_of, splits), grid, cum, edges, parent, n_parents, discs, index,
            n_layers, base_t[t], cov_t[t],
        )  # fmt: skip

    if n_chunks == 1:
        run(0)
    else:
        list(_pool(n_chunks).map(run, range(n_chunks)))
    for t in range(n_chunks):
        base += base_t[t]
        cov += cov_t[t]


def kernel_arrays(arrays: tuple, dtypes: tuple) -> tuple:
    """``arrays`` as C-contiguous, writable arrays of ``dtypes`` (copied only where they are not).

    numba compiles one specialisation per distinct argument type, read-only and non-contiguous
    arrays included: every input reaches :func:`_scan_rows` with the one type
    :func:`compile_measuring` compiles.
    """
    return tuple(np.require(a, dtype=d, requirements=("C", "W")) for a, d in zip(arrays, dtypes, strict=True))


def compile_measuring() -> None:
    """Compile :func:`_scan_rows` (or load it from numba's cache) for the types :func:`scan_band` passes.

    Called on empty inputs: nothing is measured, the kernel and those it calls are compiled
    and cached (what :mod:`telecov.engine.warm`'s helper process does on a first run).
    """
    f8, i8, one = np.zeros(0, _F8), np.zeros(0, _I8), np.zeros(1, _I8)
    strips = (one, f8, f8, f8, f8)
    edges = (f8, f8, f8, f8, i8, i8, i8)
    discs = (f8, f8, f8, f8, one, i8, f8, f8, f8, np.zeros((0, N_EXT), _F8), i8)
    lines = np.zeros((0, N_LINE), _F8)
    index = (i8, i8, i8, i8, i8, lines, lines)
    cum = np.zeros((0, 1, N_BASE), _F8)
    base, cov = np.zeros((0, N_BASE), _F8), np.zeros((0, 1, N_BASE), _F8)
    _scan_rows(i8, strips, (one, i8, i8), (0.0, 1.0), cum, edges, i8, 0, discs, index, 1, base, cov)
