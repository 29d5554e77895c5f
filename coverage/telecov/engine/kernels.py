"""Numba kernels of the scan-line engine (see :mod:`telecov.engine` for the method).

Every function here works on plain arrays in lon/lat degrees. On one scan line (a latitude)
commune polygons and geodesic footprints become exact longitude intervals; their unions are
merged intervals; population and residential area come from per-pixel-row prefix sums.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..geodesy import WGS84_A, WGS84_E2

N_BASE = 4  # area m², population, residential m², residential population


@njit(cache=True)
def build_row_index(
    first: np.ndarray, last: np.ndarray, nrows: int, nkeys: int, keys: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """CSR index of items per (row, key): items ``k`` span rows ``first[k]..last[k]``."""
    counts = np.zeros(nrows * nkeys + 1, np.int64)
    for k in range(first.shape[0]):
        a = max(first[k], 0)
        b = min(last[k], nrows - 1)
        for r in range(a, b + 1):
            counts[r * nkeys + keys[k] + 1] += 1
    ptr = np.cumsum(counts)
    fill = ptr[:-1].copy()
    idx = np.empty(ptr[-1], np.int64)
    for k in range(first.shape[0]):
        a = max(first[k], 0)
        b = min(last[k], nrows - 1)
        for r in range(a, b + 1):
            slot = r * nkeys + keys[k]
            idx[fill[slot]] = k
            fill[slot] += 1
    return ptr, idx


@njit(cache=True, inline="always")
def _accumulate(
    cum: np.ndarray, row: int, ua: float, ub: float, out: np.ndarray, g: int, wt: float, res_w: float
) -> None:
    """Add the integrals of one pixel row between pixel coordinates ``ua`` and ``ub``.

    ``cum[row, k, j]`` is the integral from the row's left edge to pixel edge ``k`` of
    population (j=0), residential indicator (j=1) and residential population (j=2); values
    are linear inside a pixel.
    """
    n = cum.shape[1] - 1
    for j in range(3):
        w = res_w if j == 1 else wt
        out[g, j + 1] += (_at(cum, row, ub, n, j) - _at(cum, row, ua, n, j)) * w


@njit(cache=True, inline="always")
def _at(cum: np.ndarray, row: int, u: float, n: int, j: int) -> float:
    if u <= 0.0:
        return 0.0
    if u >= n:
        return cum[row, n, j]
    k = int(u)
    f = u - k
    return cum[row, k, j] * (1.0 - f) + cum[row, k + 1, j] * f


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
def line_constants(lat: float) -> tuple[float, float, float, float]:
    """Per-line constants: meridian radius M, prime-vertical radius N, cos and sin of ``lat``."""
    phi = math.radians(lat)
    s = math.sin(phi)
    q = 1.0 - WGS84_E2 * s * s
    return WGS84_A * (1.0 - WGS84_E2) / (q * math.sqrt(q)), WGS84_A / math.sqrt(q), math.cos(phi), s


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
    deg = 57.29577951308232 / (n_line * cos_m)
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


@njit(cache=True, inline="always")
def _insertion_sort(x: np.ndarray, lo: int, hi: int) -> None:
    """Sort ``x[lo:hi]`` in place (short or nearly sorted runs)."""
    for i in range(lo + 1, hi):
        v = x[i]
        j = i - 1
        while j >= lo and x[j] > v:
            x[j + 1] = x[j]
            j -= 1
        x[j + 1] = v


@njit(cache=True, inline="always")
def _insertion_sort_pairs(a: np.ndarray, b: np.ndarray, lo: int, hi: int) -> None:
    """Sort intervals ``(a, b)[lo:hi]`` by start in place (nearly sorted runs)."""
    for i in range(lo + 1, hi):
        va = a[i]
        vb = b[i]
        j = i - 1
        while j >= lo and a[j] > va:
            a[j + 1] = a[j]
            b[j + 1] = b[j]
            j -= 1
        a[j + 1] = va
        b[j + 1] = vb


@njit(cache=True)
def _union_two(
    a1: np.ndarray,
    b1: np.ndarray,
    n1: int,
    a2: np.ndarray,
    b2: np.ndarray,
    n2: int,
    out_a: np.ndarray,
    out_b: np.ndarray,
) -> int:
    """Union of two start-sorted interval lists."""
    i = 0
    j = 0
    m = 0
    while i < n1 or j < n2:
        if j >= n2 or (i < n1 and a1[i] <= a2[j]):
            a = a1[i]
            b = b1[i]
            i += 1
        else:
            a = a2[j]
            b = b2[j]
            j += 1
        if m > 0 and a <= out_b[m - 1]:
            if b > out_b[m - 1]:
                out_b[m - 1] = b
        else:
            out_a[m] = a
            out_b[m] = b
            m += 1
    return m


@njit(cache=True)
def _merge_sorted(
    a: np.ndarray, b: np.ndarray, order: np.ndarray, n: int, out_a: np.ndarray, out_b: np.ndarray
) -> int:
    """Union of intervals visited in ``order`` (sorted by start); returns the count."""
    m = 0
    for k in range(n):
        i = order[k]
        if m > 0 and a[i] <= out_b[m - 1]:
            if b[i] > out_b[m - 1]:
                out_b[m - 1] = b[i]
        else:
            out_a[m] = a[i]
            out_b[m] = b[i]
            m += 1
    return m


@njit(cache=True, inline="always")
def _disc_extent(
    lon0: float,
    lat0: float,
    m0: float,
    radius: float,
    s: int,
    lat_mid: np.ndarray,
    line_k: np.ndarray,
) -> tuple[float, float]:
    """Half-width (degrees) of a disc's chord on line ``s``: returns (dy metres, half-width)."""
    lat = lat_mid[s]
    dphi = math.radians(lat - lat0)
    dy = 0.5 * (m0 + line_k[s, 0]) * dphi
    if abs(dy) >= radius:
        return dy, -1.0
    h = 0.5 * dphi
    cos_m = line_k[s, 2] + line_k[s, 3] * h - 0.5 * line_k[s, 2] * h * h
    return dy, math.sqrt(radius * radius - dy * dy) * 57.29577951308232 / (line_k[s, 1] * cos_m)


@njit(cache=True)
def _prepare_row(
    r: int,
    sptr: np.ndarray,
    lat_mid: np.ndarray,
    line_k: np.ndarray,
    flon: np.ndarray,
    flat: np.ndarray,
    fm0: np.ndarray,
    frad: np.ndarray,
    fwidth: np.ndarray,
    fptr: np.ndarray,
    fidx: np.ndarray,
    ffp: np.ndarray,
    n_layers: int,
    inner_a: np.ndarray,
    inner_b: np.ndarray,
    n_inner: np.ndarray,
    cand: np.ndarray,
    n_cand: np.ndarray,
    tmp_a: np.ndarray,
    tmp_b: np.ndarray,
) -> None:
    """Per layer, the union of chords covered on every line of row ``r`` and the candidates.

    A disc's chord is shortest on the row's line farthest from its centre; the union of those
    shortest chords is covered on every line. A disc whose longest chord lies inside that union
    never changes a line's union, so only the other footprints are candidates (exact pruning).
    """
    s_first = sptr[r]
    s_last = sptr[r + 1] - 1
    lat_first = lat_mid[s_first]
    lat_last = lat_mid[s_last]
    for L in range(n_layers):
        slot = r * n_layers + L
        k0 = fptr[slot]
        k1 = fptr[slot + 1]
        m = 0
        for k in range(k0, k1):
            f = ffp[fidx[k]]
            if fwidth[f] < 360.0:
                continue
            h1 = _disc_extent(flon[f], flat[f], fm0[f], frad[f], s_first, lat_mid, line_k)[1]
            h2 = _disc_extent(flon[f], flat[f], fm0[f], frad[f], s_last, lat_mid, line_k)[1]
            if h1 > 0.0 and h2 > 0.0:
                h = min(h1, h2) * (1.0 - 1e-9)
                tmp_a[m] = flon[f] - h
                tmp_b[m] = flon[f] + h
                m += 1
        ni = 0
        if m > 0:
            order = np.argsort(tmp_a[:m])
            ni = _merge_sorted(tmp_a, tmp_b, order, m, inner_a[L], inner_b[L])
        n_inner[L] = ni
        nc = 0
        for k in range(k0, k1):
            f = ffp[fidx[k]]
            if fwidth[f] >= 360.0 and ni > 0:
                h1 = _disc_extent(flon[f], flat[f], fm0[f], frad[f], s_first, lat_mid, line_k)[1]
                h2 = _disc_extent(flon[f], flat[f], fm0[f], frad[f], s_last, lat_mid, line_k)[1]
                if lat_last <= flat[f] <= lat_first:
                    # the centre lies between the lines: the widest chord passes near the centre
                    cos_c = math.cos(math.radians(flat[f]))
                    widest = frad[f] * 57.29577951308232 / (line_k[s_first, 1] * cos_c)
                    hmax = max(h1, h2, widest) * (1.0 + 1e-6)
                else:
                    hmax = max(h1, h2) * (1.0 + 1e-9)
                if hmax < 0.0:
                    continue
                lo = flon[f] - hmax
                hi = flon[f] + hmax
                j = np.searchsorted(inner_b[L, :ni], lo, side="left")
                if j < ni and inner_a[L, j] <= lo and hi <= inner_b[L, j]:
                    continue
            cand[L, nc] = f
            nc += 1
        if nc > 1:
            by_lon = np.argsort(flon[cand[L, :nc]])
            cand[L, :nc] = cand[L, :nc][by_lon]
        n_cand[L] = nc


@njit(cache=True)
def area_intervals(
    lat: float,
    e0: int,
    e1: int,
    eidx: np.ndarray,
    ex0: np.ndarray,
    ey0: np.ndarray,
    ex1: np.ndarray,
    ey1: np.ndarray,
    ecomm: np.ndarray,
    xs: np.ndarray,
    xc: np.ndarray,
    ia: np.ndarray,
    ib: np.ndarray,
    ic: np.ndarray,
) -> int:
    """Intervals of every area on the line at ``lat`` (even-odd rule); returns their count.

    Edges ``eidx[e0:e1]`` are those whose row holds the line; crossings arrive grouped by
    area because edges are stored area by area. Fills ``ia``/``ib`` (longitudes) and ``ic``.
    """
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
        _insertion_sort(xs, g0, g1)
        for k in range(g0, g1 - 1, 2):
            if xs[k + 1] > xs[k]:
                ia[ni] = xs[k]
                ib[ni] = xs[k + 1]
                ic[ni] = xc[k]
                ni += 1
        g0 = g1
    return ni


@njit(cache=True)
def _scan_rows(
    rows: np.ndarray,
    sptr: np.ndarray,
    lat_mid: np.ndarray,
    line_k: np.ndarray,
    area_deg: np.ndarray,
    weight: np.ndarray,
    lon0: float,
    dx: float,
    cum: np.ndarray,
    ex0: np.ndarray,
    ey0: np.ndarray,
    ex1: np.ndarray,
    ey1: np.ndarray,
    ecomm: np.ndarray,
    eptr: np.ndarray,
    eidx: np.ndarray,
    parent: np.ndarray,
    n_parents: int,
    flon: np.ndarray,
    flat: np.ndarray,
    fm0: np.ndarray,
    frad: np.ndarray,
    faz: np.ndarray,
    fwidth: np.ndarray,
    fptr: np.ndarray,
    fidx: np.ndarray,
    ffp: np.ndarray,
    n_layers: int,
    base: np.ndarray,
    cov: np.ndarray,
) -> None:
    """Accumulate base and covered measures of every region for the given pixel rows."""
    n_comm = parent.shape[0]
    total_region = n_comm + n_parents
    max_edges = 1
    max_fp = 1
    for r in rows:
        max_edges = max(max_edges, eptr[r + 1] - eptr[r])
        for L in range(n_layers):
            slot = r * n_layers + L
            max_fp = max(max_fp, fptr[slot + 1] - fptr[slot])
    xs = np.empty(max_edges, np.float64)
    xc = np.empty(max_edges, np.int64)
    ia = np.empty(max_edges, np.float64)
    ib = np.empty(max_edges, np.float64)
    ic = np.empty(max_edges, np.int64)
    pcount = np.zeros(n_parents + 1, np.int64)
    pfill = np.zeros(n_parents + 1, np.int64)
    porder = np.empty(max_edges, np.int64)
    ra = np.empty(3 * max_edges, np.float64)
    rb = np.empty(3 * max_edges, np.float64)
    rr = np.empty(3 * max_edges, np.int64)
    fa = np.empty(3 * max_fp, np.float64)
    fb = np.empty(3 * max_fp, np.float64)
    ua = np.empty(3 * max_fp, np.float64)
    ub = np.empty(3 * max_fp, np.float64)
    inner_a = np.empty((n_layers, max_fp), np.float64)
    inner_b = np.empty((n_layers, max_fp), np.float64)
    n_inner = np.zeros(n_layers, np.int64)
    cand = np.empty((n_layers, max_fp), np.int64)
    n_cand = np.zeros(n_layers, np.int64)
    for r in rows:
        e0 = eptr[r]
        e1 = eptr[r + 1]
        if e1 == e0:
            continue
        _prepare_row(
            r, sptr, lat_mid, line_k, flon, flat, fm0, frad, fwidth, fptr, fidx, ffp, n_layers,
            inner_a, inner_b, n_inner, cand, n_cand, fa, fb,
        )  # fmt: skip
        for s in range(sptr[r], sptr[r + 1]):
            lat = lat_mid[s]
            # 1. commune boundaries -> crossings -> intervals per commune (even-odd rule)
            ni = area_intervals(lat, e0, e1, eidx, ex0, ey0, ex1, ey1, ecomm, xs, xc, ia, ib, ic)
            if ni == 0:
                continue
            # 2. regions: communes, parents (union of members), total (union of all)
            for k in range(ni):
                ra[k] = ia[k]
                rb[k] = ib[k]
                rr[k] = ic[k]
            nr = ni
            order = np.argsort(ia[:ni])
            if n_parents > 0:
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
                        m = _merge_sorted(ia, ib, porder[c0:c1], c1 - c0, ra[nr:], rb[nr:])
                        rr[nr : nr + m] = n_comm + g
                        nr += m
            m = _merge_sorted(ia, ib, order, ni, ra[nr:], rb[nr:])
            rr[nr : nr + m] = total_region
            nr += m
            # 3. measures that do not depend on coverage
            A = area_deg[s]
            wt = weight[s]
            for k in range(nr):
                ua_ = (ra[k] - lon0) / dx
                ub_ = (rb[k] - lon0) / dx
                g = rr[k]
                base[g, 0] += (rb[k] - ra[k]) * A
                _accumulate(cum, r, ua_, ub_, base, g, wt, dx * A)
            # 4. each layer: union of footprints on this line, intersected with each region
            for L in range(n_layers):
                nf = 0
                for k in range(n_cand[L]):
                    f = cand[L, k]
                    nf = footprint_intervals(
                        flon[f], flat[f], fm0[f], frad[f], faz[f], fwidth[f],
                        lat, line_k[s, 0], line_k[s, 1], line_k[s, 2], line_k[s, 3], fa, fb, nf,
                    )  # fmt: skip
                if nf == 0 and n_inner[L] == 0:
                    continue
                _insertion_sort_pairs(fa, fb, 0, nf)
                nu = _union_two(inner_a[L], inner_b[L], n_inner[L], fa, fb, nf, ua, ub)
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
                            cov[g, L, 0] += (hi - lo) * A
                            _accumulate(cum, r, ulo, uhi, cov[:, L, :], g, wt, dx * A)
                        j += 1


@njit(cache=True)
def row_prefix_sums(pop: np.ndarray, res: np.ndarray) -> np.ndarray:
    """Per pixel row, integrals from the left edge to each pixel edge (see :func:`_accumulate`).

    ``cum[r, k]`` holds population, residential indicator and residential population.
    """
    nrows, ncols = pop.shape
    cum = np.zeros((nrows, ncols + 1, 3), np.float64)
    for r in range(nrows):
        acc_p = 0.0
        acc_r = 0.0
        acc_rp = 0.0
        for c in range(ncols):
            acc_p += pop[r, c]
            acc_r += res[r, c]
            acc_rp += pop[r, c] * res[r, c]
            cum[r, c + 1, 0] = acc_p
            cum[r, c + 1, 1] = acc_r
            cum[r, c + 1, 2] = acc_rp
    return cum


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


@njit(cache=True, parallel=True)
def scan_band(
    n_chunks: int,
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
    parent: np.ndarray,
    n_parents: int,
    flon: np.ndarray,
    flat: np.ndarray,
    fm0: np.ndarray,
    frad: np.ndarray,
    faz: np.ndarray,
    fwidth: np.ndarray,
    frow0: np.ndarray,
    frow1: np.ndarray,
    flayer: np.ndarray,
    ffp: np.ndarray,
    n_layers: int,
    base: np.ndarray,
    cov: np.ndarray,
) -> None:
    """Measure one band of pixel rows, adding into ``base`` (R×4) and ``cov`` (R×L×4).

    Footprint memberships are given as pairs (``ffp[k]`` footprint, ``flayer[k]`` layer) with
    the row span ``frow0[k]..frow1[k]`` of that footprint within the band.
    """
    cum = row_prefix_sums(pop, res)
    no_key = np.zeros(erow0.shape[0], np.int64)
    eptr, eidx = build_row_index(erow0, erow1, nrows, 1, no_key)
    fptr, fidx = build_row_index(frow0, frow1, nrows, n_layers, flayer)
    line_k = line_table(lat_mid)
    n_regions = base.shape[0]
    base_t = np.zeros((n_chunks, n_regions, N_BASE), np.float64)
    cov_t = np.zeros((n_chunks, n_regions, n_layers, N_BASE), np.float64)
    for t in prange(n_chunks):
        rows = np.arange(t, nrows, n_chunks)
        _scan_rows(
            rows, sptr, lat_mid, line_k, area_deg, weight, lon0, dx,
            cum,
            ex0, ey0, ex1, ey1, ecomm, eptr, eidx, parent, n_parents,
            flon, flat, fm0, frad, faz, fwidth, fptr, fidx, ffp, n_layers,
            base_t[t], cov_t[t],
        )  # fmt: skip
    for t in range(n_chunks):
        base += base_t[t]
        cov += cov_t[t]


@njit(cache=True, nogil=True)
def residential_mask(pop: np.ndarray, pixel_km2: np.ndarray, density: float) -> np.ndarray:
    """1.0 where a pixel's density reaches ``density`` people per km² (and it has people)."""
    res = np.zeros(pop.shape, np.float64)
    for r in range(pop.shape[0]):
        limit = density * pixel_km2[r]
        for c in range(pop.shape[1]):
            v = pop[r, c]
            if v > 0.0 and v >= limit:
                res[r, c] = 1.0
    return res
