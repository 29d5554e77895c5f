"""Numba kernels for what one scan line sees: area and footprint intervals on its strip.

On the line at ``y`` (a latitude on lon/lat grids) a commune polygon is an exact set of x
intervals (the even-odd rule on its boundary edges). A footprint is one interval per piece:
a geodesic disc's chord has the disc's mean half-width over the line's strip, and a polygon
footprint's intervals come from its chains' mean x over the strip
(:func:`telecov.engine.chains.outline_intervals`), so each footprint's area in each strip is
exact. Before the lines of a pixel row are scanned, :func:`prepare_layer` finds per layer the
chords covered on every line of the row and the footprints that can still change a line's
union.

Where the corners of a few polygon footprints split strips (:mod:`telecov.engine.bands`),
only those footprints are measured on every line; any other footprint takes one interval per
coarse strip (the row's strips without the corner splits), which holds its exact area in
that strip, and every line inside it uses that interval (:func:`own_lines`). A layer's union
on a line is thus the union of its members' own intervals, whatever the other layers hold.

Footprints are passed as the tuple ``discs = (x, lat, m0, radius, fptr, cptr, cx, cy, cg, ext,
convex)`` (``m0``: meridian radius at the centre; the rest are the chains of polygon
footprints, see :mod:`telecov.engine.chains`); scan lines as ``lat_mid`` (their y) and
``line_k`` (:func:`line_table`).
"""

from __future__ import annotations

import math

import numpy as np

from ..geodesy import WGS84_A, WGS84_E2
from .chains import outline_extent, outline_intervals
from .intervals import INLINE, INNER, KERNEL, insertion_sort, insertion_sort_pairs, merge_sorted, union_two

DEG = 57.29577951308232
"""Degrees per radian."""
N_LINE = 6
"""Columns of :func:`line_table`: M, N, cos and sin of the line's latitude, strip top, strip bottom."""


@INNER
def line_constants(lat: float) -> tuple[float, float, float, float]:
    """Per-line constants: meridian radius M, prime-vertical radius N, cos and sin of ``lat``."""
    phi = math.radians(lat)
    s = math.sin(phi)
    q = 1.0 - WGS84_E2 * s * s
    return WGS84_A * (1.0 - WGS84_E2) / (q * math.sqrt(q)), WGS84_A / math.sqrt(q), math.cos(phi), s


@KERNEL
def line_table(tops: np.ndarray, bottoms: np.ndarray) -> np.ndarray:
    """Per scan line (strip): :func:`line_constants` at its middle, then its top and bottom."""
    line_k = np.empty((tops.shape[0], N_LINE), np.float64)
    for s in range(tops.shape[0]):
        m_l, n_l, c_l, s_l = line_constants(0.5 * (tops[s] + bottoms[s]))
        line_k[s, 0] = m_l
        line_k[s, 1] = n_l
        line_k[s, 2] = c_l
        line_k[s, 3] = s_l
        line_k[s, 4] = tops[s]
        line_k[s, 5] = bottoms[s]
    return line_k


@INLINE
def _arc_integral(y: float, r: float) -> float:
    """Integral of sqrt(r² − t²) for t from 0 to ``y`` (|y| ≤ r)."""
    u = min(1.0, max(-1.0, y / r))
    return 0.5 * (y * math.sqrt(max(r * r - y * y, 0.0)) + r * r * math.asin(u))


@INLINE
def mean_half_width(radius: float, y_bottom: float, y_top: float) -> float:
    """Mean of the half-chord sqrt(r² − y²) of a disc over ``[y_bottom, y_top]`` (m); -1 if apart."""
    if y_bottom >= radius or y_top <= -radius:
        return -1.0
    h = y_top - y_bottom
    y = 0.5 * (y_top + y_bottom)
    w2 = radius * radius - y * y
    if h <= 1e-9 * radius:
        return math.sqrt(max(w2, 0.0))
    if w2 >= 8.0 * radius * h:
        # away from the tips: the midpoint half-chord with its h² term (relative error < 3e-6)
        w = math.sqrt(w2)
        return w - h * h * radius * radius / (24.0 * w2 * w)
    a = max(y_bottom, -radius)
    b = min(y_top, radius)
    return (_arc_integral(b, radius) - _arc_integral(a, radius)) / h


@INLINE
def disc_half_width(discs: tuple, f: int, s: int, line_k: np.ndarray) -> float:
    """Half-width (degrees) of disc ``f``'s chord on line ``s``; negative when it misses the strip.

    Ground distance uses the mid-latitude tangent plane, ``d² = (M Δφ)² + (N cos φm Δλ)²``
    (error of order d³/R², under a centimetre for a 5 km radius); the chord's half-width is
    the mean over the line's strip, so the chord holds the disc's exact area in the strip.
    """
    lat0 = discs[1][f]
    radius = discs[3][f]
    k = 0.5 * (discs[2][f] + line_k[s, 0]) / DEG
    w = mean_half_width(radius, k * (line_k[s, 5] - lat0), k * (line_k[s, 4] - lat0))
    if w <= 0.0:
        return -1.0
    h = 0.25 * (line_k[s, 4] + line_k[s, 5] - 2.0 * lat0) / DEG
    cos_m = line_k[s, 2] + line_k[s, 3] * h - 0.5 * line_k[s, 2] * h * h
    return w * DEG / (line_k[s, 1] * cos_m)


@INLINE
def is_outline(discs: tuple, f: int) -> bool:
    """Whether footprint ``f`` is a polygon (it has chains) rather than an analytic disc."""
    return discs[4][f + 1] > discs[4][f]


@INLINE
def footprint_intervals(
    discs: tuple,
    f: int,
    s: int,
    line_k: np.ndarray,
    xs: np.ndarray,
    out_a: np.ndarray,
    out_b: np.ndarray,
    n: int,
) -> int:
    """Append footprint ``f``'s intervals on line ``s`` (a disc's chord or a polygon's pieces)."""
    if is_outline(discs, f):
        return outline_intervals(f, line_k[s, 4], line_k[s, 5], discs[4:10], xs, out_a, out_b, n)
    h = disc_half_width(discs, f, s, line_k)
    if h > 0.0:
        out_a[n] = discs[0][f] - h
        out_b[n] = discs[0][f] + h
        n += 1
    return n


@INNER
def area_intervals(
    lat: float, e0: int, e1: int, eidx: np.ndarray, edges: tuple, cross: tuple, out: tuple
) -> int:
    """Intervals of every area on the line at ``lat`` (even-odd rule); returns their count.

    ``edges`` is ``(x0, y0, x1, y1, owner, ...)``; edges ``eidx[e0:e1]`` are those whose row
    holds the line, and their crossings arrive grouped by area because edges are stored area
    by area. ``cross`` is scratch ``(x, area)``; ``out`` receives ``(west, east, area)``.
    """
    ex0, ey0, ex1, ey1, ecomm = edges[0], edges[1], edges[2], edges[3], edges[4]
    xs, xc = cross
    ia, ib, ic = out
    nx = 0
    for k in range(e0, e1):
        e = eidx[k]
        y0 = ey0[e]
        y1 = ey1[e]
        if (y0 <= lat < y1) or (y1 <= lat < y0):
            xs[nx] = ex0[e] + (lat - y0) / (y1 - y0) * (ex1[e] - ex0[e])
            xc[nx] = ecomm[e]
            nx += 1
    ni = 0
    g0 = np.int64(0)
    while g0 < nx:
        g1 = g0 + 1
        while g1 < nx and xc[g1] == xc[g0]:
            g1 += 1
        insertion_sort(xs, g0, g1)
        for k in range(g0, g1 - 1, 2):
            if xs[k + 1] > xs[k]:
                ia[ni] = xs[k]
                ib[ni] = xs[k + 1]
                ic[ni] = xc[k]
                ni += 1
        g0 = g1
    return ni


@INNER
def _outline_chord(discs: tuple, f: int, s: int, line_k: np.ndarray, xs: np.ndarray) -> tuple[float, float]:
    """Return the one interval of convex polygon ``f`` on line ``s`` as (west, east)."""
    return outline_extent(f, line_k[s, 4], line_k[s, 5], discs[4:10], xs)


@INLINE
def _spans_row(discs: tuple, f: int, s_first: int, s_last: int, line_k: np.ndarray) -> bool:
    """Whether polygon ``f`` spans every strip of the row from top to bottom."""
    ext = discs[9]
    return ext[f, 0] >= line_k[s_first, 4] and ext[f, 1] <= line_k[s_last, 5]


@INLINE
def is_prunable(discs: tuple, f: int) -> bool:
    """Discs and convex polygons: their chords on a row's lines are bounded by the end lines'."""
    return not is_outline(discs, f) or discs[10][f] == 1


@INNER
def _core_chord(
    discs: tuple, f: int, s_first: int, s_last: int, line_k: np.ndarray, xs: np.ndarray
) -> tuple[float, float]:
    """Return a chord of prunable footprint ``f`` covered on every line of the row; west > east if none.

    A disc's mean half-width shrinks away from its centre and a convex polygon's mean left
    (right) boundary is convex (concave) across strips it spans, so the chord is shortest on
    an end line: the intersection of the two end chords.
    """
    if is_outline(discs, f):
        if not _spans_row(discs, f, s_first, s_last, line_k):
            return 1.0, -1.0
        a1, b1 = _outline_chord(discs, f, s_first, line_k, xs)
        a2, b2 = _outline_chord(discs, f, s_last, line_k, xs)
        if not (b1 > a1 and b2 > a2):
            return 1.0, -1.0
        lo, hi = max(a1, a2), min(b1, b2)
        pad = 1e-9 * (hi - lo)
        return lo + pad, hi - pad
    h1 = disc_half_width(discs, f, s_first, line_k)
    h2 = disc_half_width(discs, f, s_last, line_k)
    if h1 <= 0.0 or h2 <= 0.0:
        return 1.0, -1.0
    h = min(h1, h2) * (1.0 - 1e-9)
    return discs[0][f] - h, discs[0][f] + h


@INLINE
def own_lines(lines: tuple, f: int) -> tuple:
    """Return the row's end lines and the line table that footprint ``f`` is measured on.

    ``lines = (ends, line_k, coarse_ends, coarse_k, splits)``: a footprint whose corners split
    strips (``splits[f]``) is measured on every line of the row, any other once per coarse
    strip (the row's strips without the corner splits); an empty ``splits`` splits none.
    """
    ends, line_k, coarse_ends, coarse_k, splits = lines
    if splits.shape[0] > 0 and splits[f] != 0:
        return ends[0], ends[1], line_k
    return coarse_ends[0], coarse_ends[1], coarse_k


@INNER
def _row_core(k0: int, k1: int, members: tuple, discs: tuple, lines: tuple, tmp: tuple,
              out_a: np.ndarray, out_b: np.ndarray) -> int:  # fmt: skip
    """Union of the chords that every line of the row crosses; returns the count.

    ``members = (fidx, ffp)`` lists the row's footprints ``ffp[fidx[k0:k1]]``, each on its
    own lines (:func:`own_lines`, :func:`_core_chord`).
    """
    fidx, ffp = members
    tmp_a, tmp_b, xs = tmp
    m = np.int64(0)
    for k in range(k0, k1):
        f = ffp[fidx[k]]
        if not is_prunable(discs, f):
            continue
        s_first, s_last, line_k = own_lines(lines, f)
        lo, hi = _core_chord(discs, f, s_first, s_last, line_k, xs)
        if hi > lo:
            tmp_a[m] = lo
            tmp_b[m] = hi
            m += 1
    if m == 0:
        return 0
    order = np.argsort(tmp_a[:m])
    return merge_sorted(tmp_a, tmp_b, order, m, out_a, out_b)


@INNER
def _widest(
    discs: tuple, f: int, s_first: int, s_last: int, line_k: np.ndarray, xs: np.ndarray
) -> tuple[float, float]:
    """Bounds (west, east) of prunable footprint ``f``'s chords on every line of the row.

    West > east when it reaches no line of the row.
    """
    mid_first = 0.5 * (line_k[s_first, 4] + line_k[s_first, 5])
    mid_last = 0.5 * (line_k[s_last, 4] + line_k[s_last, 5])
    if not is_outline(discs, f):
        h1 = disc_half_width(discs, f, s_first, line_k)
        h2 = disc_half_width(discs, f, s_last, line_k)
        lat = discs[1][f]
        if mid_last <= lat <= mid_first:
            # the centre lies between the end lines: the widest chord passes near the centre
            widest = discs[3][f] * DEG / (line_k[s_first, 1] * math.cos(math.radians(lat)))
            hmax = max(h1, h2, widest) * (1.0 + 1e-6)
        else:
            hmax = max(h1, h2) * (1.0 + 1e-9)
        if hmax <= 0.0:
            return 1.0, -1.0
        return discs[0][f] - hmax, discs[0][f] + hmax
    ext = discs[9]
    if ext[f, 1] >= line_k[s_first, 4] or ext[f, 0] <= line_k[s_last, 5]:
        return 1.0, -1.0
    if not _spans_row(discs, f, s_first, s_last, line_k):
        return ext[f, 2], ext[f, 4]  # a tip inside the row: the polygon's whole width
    a1, b1 = _outline_chord(discs, f, s_first, line_k, xs)
    a2, b2 = _outline_chord(discs, f, s_last, line_k, xs)
    lo = ext[f, 2] if mid_last <= ext[f, 3] <= mid_first else min(a1, a2)
    hi = ext[f, 4] if mid_last <= ext[f, 5] <= mid_first else max(b1, b2)
    pad = 1e-9 * (hi - lo) + 1e-12 * abs(hi)
    return lo - pad, hi + pad


@INNER
def _inside_core(f: int, discs: tuple, lines: tuple, xs: np.ndarray, core_a: np.ndarray,
                 core_b: np.ndarray, n_core: int) -> bool:  # fmt: skip
    """Whether footprint ``f`` changes no line of the row: its widest chord lies in the core union."""
    s_first, s_last, line_k = own_lines(lines, f)
    lo, hi = _widest(discs, f, s_first, s_last, line_k, xs)
    if not (hi > lo):
        return True
    j = np.searchsorted(core_b[:n_core], lo, side="left")
    return bool(j < n_core and core_a[j] <= lo and hi <= core_b[j])


@INNER
def prepare_layer(
    L: int, slot: int, lines: tuple, discs: tuple, index: tuple, row: tuple, tmp: tuple
) -> None:
    """Find layer ``L``'s union of chords covered on every line of a row, and its candidates.

    ``index = (fptr, fidx, ffp)``: footprints ``ffp[fidx[fptr[slot]:fptr[slot + 1]]]`` reach
    the row's ``slot`` of the layer; each is measured on its own lines (:func:`own_lines`).
    ``row = (core_a, core_b, n_core, cand, n_cand, n_split)`` receives the layer's core union
    and the footprints to test: those measured once per coarse strip first, then the last
    ``n_split[L]`` measured on every line, each part sorted by x. A disc or convex polygon
    whose widest chord lies inside the core never changes a line's union, so it is no
    candidate (exact pruning).
    """
    fptr, fidx, ffp = index
    core_a, core_b, n_core, cand, n_cand, n_split = row
    splits = lines[4]
    k0 = fptr[slot]
    k1 = fptr[slot + 1]
    ni = _row_core(k0, k1, (fidx, ffp), discs, lines, tmp, core_a[L], core_b[L])
    n_core[L] = ni
    nc = 0
    first = 0
    for part in range(2):
        first = nc
        for k in range(k0, k1):
            f = ffp[fidx[k]]
            split = splits.shape[0] > 0 and splits[f] != 0
            if split != (part == 1):
                continue
            inside = ni > 0 and is_prunable(discs, f)
            if inside and _inside_core(f, discs, lines, tmp[2], core_a[L], core_b[L], ni):
                continue
            cand[L, nc] = f
            nc += 1
        if nc - first > 1:
            by_x = np.argsort(discs[0][cand[L, first:nc]])
            cand[L, first:nc] = cand[L, first:nc][by_x]
    n_cand[L] = nc
    n_split[L] = nc - first


@INNER
def prepare_row(r: int, sptr: np.ndarray, line_k: np.ndarray, discs: tuple, index: tuple, n_layers: int,
                row: tuple, tmp: tuple) -> None:  # fmt: skip
    """:func:`prepare_layer` for every layer of row ``r``, every footprint on every line of the row."""
    ends = (sptr[r], sptr[r + 1] - 1)
    lines = (ends, line_k, ends, line_k, np.zeros(0, np.int64))
    for L in range(n_layers):
        prepare_layer(L, r * n_layers + L, lines, discs, index, row, tmp)


@INLINE
def layer_union(L: int, row: tuple, discs: tuple, s: int, line_k: np.ndarray, tmp: tuple, out: tuple) -> int:
    """Union of layer ``L``'s core and coarse candidates on line ``s`` into ``out = (west, east)``.

    ``row`` is what :func:`prepare_layer` filled for the line's pixel row (the candidates
    measured once per coarse strip: all of them unless corners split strips); ``tmp`` is
    scratch ``(west, east, crossings)`` for their intervals. Returns the count.
    """
    core_a, core_b, n_core, cand, n_cand, n_split = row
    fa, fb, xs = tmp
    nf = np.int64(0)
    for k in range(n_cand[L] - n_split[L]):
        nf = footprint_intervals(discs, cand[L, k], s, line_k, xs, fa, fb, nf)
    if nf == 0 and n_core[L] == 0:
        return 0
    insertion_sort_pairs(fa, fb, 0, nf)
    return union_two(core_a[L], core_b[L], n_core[L], fa, fb, nf, out[0], out[1])


@INLINE
def split_union(L: int, row: tuple, discs: tuple, s: int, line_k: np.ndarray, tmp: tuple, coarse: tuple,
                out: tuple) -> int:  # fmt: skip
    """Union of ``coarse`` and layer ``L``'s candidates measured on every line, on line ``s``.

    ``coarse = (west, east, count)`` is :func:`layer_union` on the line's coarse strip; the
    union goes into ``out``. Returns its count.
    """
    cand, n_cand, n_split = row[3], row[4], row[5]
    fa, fb, xs = tmp
    nf = np.int64(0)
    for k in range(n_cand[L] - n_split[L], n_cand[L]):
        nf = footprint_intervals(discs, cand[L, k], s, line_k, xs, fa, fb, nf)
    insertion_sort_pairs(fa, fb, 0, nf)
    return union_two(coarse[0], coarse[1], coarse[2], fa, fb, nf, out[0], out[1])


@INNER
def most_per_row(
    rows: np.ndarray,
    eptr: np.ndarray,
    fptr: np.ndarray,
    n_layers: int,
    fidx: np.ndarray,
    ffp: np.ndarray,
    discs: tuple,
) -> tuple[int, int, int]:
    """Most edges in one of ``rows``, most footprints of one layer in one row, most intervals they give.

    A disc gives one interval per line, a polygon at most half its chains.
    """
    chain_ptr = discs[4]
    polygons = chain_ptr[chain_ptr.shape[0] - 1] > 0
    max_edges = 1
    max_fp = 1
    max_iv = 1
    for r in rows:
        max_edges = max(max_edges, eptr[r + 1] - eptr[r])
        for L in range(n_layers):
            slot = r * n_layers + L
            n = fptr[slot + 1] - fptr[slot]
            max_fp = max(max_fp, n)
            if not polygons:  # discs only: one interval each, no need to visit the members
                max_iv = max(max_iv, n)
                continue
            iv = 0
            for k in range(fptr[slot], fptr[slot + 1]):
                f = ffp[fidx[k]]
                iv += max(1, (chain_ptr[f + 1] - chain_ptr[f]) // 2)
            max_iv = max(max_iv, iv)
    return max_edges, max_fp, max_iv


@INNER
def line_buffers(max_edges: int, max_fp: int, max_iv: int, max_chains: int, n_layers: int) -> tuple:
    """Scratch for scanning lines: ``(cross, areas, tmp, union, row)``.

    ``cross``: crossings (x, area); ``areas``: area intervals (west, east, area); ``tmp``:
    candidate intervals (west, east) and one footprint's chain crossings; ``union``: a layer's
    union (west, east); ``row``: what :func:`prepare_layer` fills.
    """
    cross = (np.empty(max_edges, np.float64), np.empty(max_edges, np.int64))
    areas = (np.empty(max_edges, np.float64), np.empty(max_edges, np.float64), np.empty(max_edges, np.int64))
    size = max(max_iv, max_fp) + 1
    tmp = (np.empty(size, np.float64), np.empty(size, np.float64), np.empty(max(max_chains, 2), np.float64))
    union = (np.empty(size + max_fp + 1, np.float64), np.empty(size + max_fp + 1, np.float64))
    row = (
        np.empty((n_layers, max_fp), np.float64),
        np.empty((n_layers, max_fp), np.float64),
        np.zeros(n_layers, np.int64),
        np.empty((n_layers, max_fp), np.int64),
        np.zeros(n_layers, np.int64),
        np.zeros(n_layers, np.int64),
    )
    return cross, areas, tmp, union, row


@INNER
def most_chains(discs: tuple) -> int:
    """Most chains of one footprint."""
    chain_ptr = discs[4]
    most = 0
    for f in range(chain_ptr.shape[0] - 1):
        most = max(most, chain_ptr[f + 1] - chain_ptr[f])
    return most
