"""Numba kernels for what one scan line sees: area and footprint intervals at a latitude.

On the line at latitude ``lat`` a commune polygon is an exact set of longitude intervals (the
even-odd rule on its boundary edges) and a geodesic disc or sector is one or two intervals.
Before the lines of a pixel row are scanned, :func:`prepare_row` finds per layer the chords
covered on every line of the row and the footprints that can still change a line's union.

Footprints are passed as the tuple ``discs = (lon, lat, m0, radius, azimuth, width)``
(``m0``: meridian radius at the centre); scan lines as ``lat_mid`` (their latitudes) and
``line_k`` (:func:`line_table`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..geodesy import WGS84_A, WGS84_E2
from .intervals import insertion_sort, insertion_sort_pairs, merge_sorted, union_two

DEG = 57.29577951308232
"""Degrees per radian."""


@njit(cache=True)
def line_constants(lat: float) -> tuple[float, float, float, float]:
    """Per-line constants: meridian radius M, prime-vertical radius N, cos and sin of ``lat``."""
    phi = math.radians(lat)
    s = math.sin(phi)
    q = 1.0 - WGS84_E2 * s * s
    return WGS84_A * (1.0 - WGS84_E2) / (q * math.sqrt(q)), WGS84_A / math.sqrt(q), math.cos(phi), s


@njit(cache=True)
def line_table(lat_mid: np.ndarray) -> np.ndarray:
    """:func:`line_constants` of every scan line, one row per line."""
    line_k = np.empty((lat_mid.shape[0], 4), np.float64)
    for s in range(lat_mid.shape[0]):
        m_l, n_l, c_l, s_l = line_constants(lat_mid[s])
        line_k[s, 0] = m_l
        line_k[s, 1] = n_l
        line_k[s, 2] = c_l
        line_k[s, 3] = s_l
    return line_k


@njit(cache=True, inline="always")
def _wedge(t1: float, t2: float, y: float, w: float) -> tuple[float, float]:
    """X-range within [-w, w] of the line at ``y`` inside the wedge t1→t2 (≤ 180°, clockwise)."""
    d1x = math.sin(t1)
    d1y = math.cos(t1)
    d2x = math.sin(t2)
    d2y = math.cos(t2)
    lo = -w
    hi = w
    # clockwise of d1: d1y * x >= d1x * y
    if d1y > 0.0:
        lo = max(lo, d1x * y / d1y)
    elif d1y < 0.0:
        hi = min(hi, d1x * y / d1y)
    elif d1x * y > 0.0:
        return 0.0, 0.0
    # counter-clockwise of d2: d2y * x <= d2x * y
    if d2y > 0.0:
        hi = min(hi, d2x * y / d2y)
    elif d2y < 0.0:
        lo = max(lo, d2x * y / d2y)
    elif d2x * y < 0.0:
        return 0.0, 0.0
    return lo, hi


@njit(cache=True)
def footprint_intervals(
    lon0: float,
    lat0: float,
    m0: float,
    radius: float,
    azimuth: float,
    width: float,
    lat: float,
    m_line: float,
    n_line: float,
    cos_line: float,
    sin_line: float,
    out_a: np.ndarray,
    out_b: np.ndarray,
    n: int,
) -> int:
    """Append the longitude intervals of a geodesic disc or sector at latitude ``lat``.

    Ground distance uses the mid-latitude tangent plane, ``d² = (M Δφ)² + (N cos φm Δλ)²``
    (error of order d³/R², under a centimetre for a 5 km radius), with M and cos φm expanded
    around the line's latitude. ``m0`` is the meridian radius at the centre. Returns the new
    interval count.
    """
    dphi = math.radians(lat - lat0)
    dy = 0.5 * (m0 + m_line) * dphi
    if abs(dy) >= radius:
        return n
    w = math.sqrt(radius * radius - dy * dy)
    h = 0.5 * dphi
    cos_m = cos_line + sin_line * h - 0.5 * cos_line * h * h
    deg = DEG / (n_line * cos_m)
    if width >= 360.0:
        out_a[n] = lon0 - w * deg
        out_b[n] = lon0 + w * deg
        return n + 1
    t1 = math.radians(azimuth)
    if width <= 180.0:
        lo, hi = _wedge(t1, t1 + math.radians(width), dy, w)
        if hi > lo:
            out_a[n] = lon0 + lo * deg
            out_b[n] = lon0 + hi * deg
            n += 1
        return n
    lo, hi = _wedge(t1 + math.radians(width), t1 + 2.0 * math.pi, dy, w)
    if hi <= lo:
        out_a[n] = lon0 - w * deg
        out_b[n] = lon0 + w * deg
        return n + 1
    if lo > -w:
        out_a[n] = lon0 - w * deg
        out_b[n] = lon0 + lo * deg
        n += 1
    if hi < w:
        out_a[n] = lon0 + hi * deg
        out_b[n] = lon0 + w * deg
        n += 1
    return n


@njit(cache=True)
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
    g0 = 0
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


@njit(cache=True, inline="always")
def _half_chord(discs: tuple, f: int, s: int, lat_mid: np.ndarray, line_k: np.ndarray) -> float:
    """Half-width (degrees) of disc ``f``'s chord on line ``s``; negative when it misses the line."""
    lat0 = discs[1][f]
    m0 = discs[2][f]
    radius = discs[3][f]
    dphi = math.radians(lat_mid[s] - lat0)
    dy = 0.5 * (m0 + line_k[s, 0]) * dphi
    if abs(dy) >= radius:
        return -1.0
    h = 0.5 * dphi
    cos_m = line_k[s, 2] + line_k[s, 3] * h - 0.5 * line_k[s, 2] * h * h
    return math.sqrt(radius * radius - dy * dy) * DEG / (line_k[s, 1] * cos_m)


@njit(cache=True)
def _row_core(
    k0: int,
    k1: int,
    members: tuple,
    discs: tuple,
    s_first: int,
    s_last: int,
    lat_mid: np.ndarray,
    line_k: np.ndarray,
    tmp: tuple,
    out_a: np.ndarray,
    out_b: np.ndarray,
) -> int:
    """Union of the discs' chords that every line of the row crosses; returns the count.

    ``members = (fidx, ffp)`` lists the row's footprints ``ffp[fidx[k0:k1]]``. A disc's chord is
    shortest on the row's line farthest from its centre, so the union of each disc's shorter
    end chord is covered on every line.
    """
    fidx, ffp = members
    flon, fwidth = discs[0], discs[5]
    tmp_a, tmp_b = tmp
    m = 0
    for k in range(k0, k1):
        f = ffp[fidx[k]]
        if fwidth[f] < 360.0:
            continue
        h1 = _half_chord(discs, f, s_first, lat_mid, line_k)
        h2 = _half_chord(discs, f, s_last, lat_mid, line_k)
        if h1 > 0.0 and h2 > 0.0:
            h = min(h1, h2) * (1.0 - 1e-9)
            tmp_a[m] = flon[f] - h
            tmp_b[m] = flon[f] + h
            m += 1
    if m == 0:
        return 0
    order = np.argsort(tmp_a[:m])
    return merge_sorted(tmp_a, tmp_b, order, m, out_a, out_b)


@njit(cache=True)
def _inside_core(
    f: int,
    discs: tuple,
    s_first: int,
    s_last: int,
    lat_mid: np.ndarray,
    line_k: np.ndarray,
    core_a: np.ndarray,
    core_b: np.ndarray,
    n_core: int,
) -> bool:
    """Whether disc ``f`` changes no line of the row: its widest chord lies in the core union."""
    flon, flat, frad = discs[0], discs[1], discs[3]
    h1 = _half_chord(discs, f, s_first, lat_mid, line_k)
    h2 = _half_chord(discs, f, s_last, lat_mid, line_k)
    if lat_mid[s_last] <= flat[f] <= lat_mid[s_first]:
        # the centre lies between the lines: the widest chord passes near the centre
        cos_c = math.cos(math.radians(flat[f]))
        widest = frad[f] * DEG / (line_k[s_first, 1] * cos_c)
        hmax = max(h1, h2, widest) * (1.0 + 1e-6)
    else:
        hmax = max(h1, h2) * (1.0 + 1e-9)
    if hmax < 0.0:
        return True
    lo = flon[f] - hmax
    hi = flon[f] + hmax
    j = np.searchsorted(core_b[:n_core], lo, side="left")
    return j < n_core and core_a[j] <= lo and hi <= core_b[j]


@njit(cache=True)
def prepare_row(
    r: int,
    sptr: np.ndarray,
    lat_mid: np.ndarray,
    line_k: np.ndarray,
    discs: tuple,
    index: tuple,
    n_layers: int,
    row: tuple,
    tmp: tuple,
) -> None:
    """Per layer, the union of chords covered on every line of row ``r`` and the candidates.

    ``index = (fptr, fidx, ffp)``: footprints ``ffp[fidx[fptr[slot]:fptr[slot + 1]]]`` reach
    slot ``r * n_layers + L``. ``row = (core_a, core_b, n_core, cand, n_cand)`` receives per
    layer the core union and the footprints to test on each line, sorted by longitude. A disc
    whose widest chord lies inside the core never changes a line's union, so it is no
    candidate (exact pruning).
    """
    fptr, fidx, ffp = index
    core_a, core_b, n_core, cand, n_cand = row
    fwidth = discs[5]
    s_first = sptr[r]
    s_last = sptr[r + 1] - 1
    for L in range(n_layers):
        slot = r * n_layers + L
        k0 = fptr[slot]
        k1 = fptr[slot + 1]
        ni = _row_core(
            k0, k1, (fidx, ffp), discs, s_first, s_last, lat_mid, line_k, tmp, core_a[L], core_b[L]
        )
        n_core[L] = ni
        nc = 0
        for k in range(k0, k1):
            f = ffp[fidx[k]]
            full = fwidth[f] >= 360.0 and ni > 0
            if full and _inside_core(f, discs, s_first, s_last, lat_mid, line_k, core_a[L], core_b[L], ni):
                continue
            cand[L, nc] = f
            nc += 1
        if nc > 1:
            by_lon = np.argsort(discs[0][cand[L, :nc]])
            cand[L, :nc] = cand[L, :nc][by_lon]
        n_cand[L] = nc


@njit(cache=True, inline="always")
def layer_union(
    L: int, row: tuple, discs: tuple, s: int, lat_mid: np.ndarray, line_k: np.ndarray, tmp: tuple, out: tuple
) -> int:
    """Union of layer ``L``'s footprints on line ``s`` into ``out = (west, east)``; returns the count.

    ``row`` is what :func:`prepare_row` filled for the line's pixel row; ``tmp`` is scratch
    ``(west, east)`` for the candidates' intervals.
    """
    core_a, core_b, n_core, cand, n_cand = row
    flon, flat, fm0, frad, faz, fwidth = discs
    fa, fb = tmp
    lat = lat_mid[s]
    nf = 0
    for k in range(n_cand[L]):
        f = cand[L, k]
        nf = footprint_intervals(
            flon[f], flat[f], fm0[f], frad[f], faz[f], fwidth[f],
            lat, line_k[s, 0], line_k[s, 1], line_k[s, 2], line_k[s, 3], fa, fb, nf,
        )  # fmt: skip
    if nf == 0 and n_core[L] == 0:
        return 0
    insertion_sort_pairs(fa, fb, 0, nf)
    return union_two(core_a[L], core_b[L], n_core[L], fa, fb, nf, out[0], out[1])


@njit(cache=True, inline="always")
def most_per_row(rows: np.ndarray, eptr: np.ndarray, fptr: np.ndarray, n_layers: int) -> tuple[int, int]:
    """Most edges in one of ``rows`` and most footprints of one layer in one of them (at least 1)."""
    max_edges = 1
    max_fp = 1
    for r in rows:
        max_edges = max(max_edges, eptr[r + 1] - eptr[r])
        for L in range(n_layers):
            slot = r * n_layers + L
            max_fp = max(max_fp, fptr[slot + 1] - fptr[slot])
    return max_edges, max_fp


@njit(cache=True, inline="always")
def line_buffers(max_edges: int, max_fp: int, n_layers: int) -> tuple:
    """Scratch for scanning lines: ``(cross, areas, tmp, union, row)``.

    ``cross``: crossings (x, area); ``areas``: area intervals (west, east, area); ``tmp``:
    candidate intervals (west, east); ``union``: a layer's union (west, east); ``row``: what
    :func:`prepare_row` fills.
    """
    cross = (np.empty(max_edges, np.float64), np.empty(max_edges, np.int64))
    areas = (np.empty(max_edges, np.float64), np.empty(max_edges, np.float64), np.empty(max_edges, np.int64))
    tmp = (np.empty(3 * max_fp, np.float64), np.empty(3 * max_fp, np.float64))
    union = (np.empty(3 * max_fp + 1, np.float64), np.empty(3 * max_fp + 1, np.float64))
    row = (
        np.empty((n_layers, max_fp), np.float64),
        np.empty((n_layers, max_fp), np.float64),
        np.zeros(n_layers, np.int64),
        np.empty((n_layers, max_fp), np.int64),
        np.zeros(n_layers, np.int64),
    )
    return cross, areas, tmp, union, row
