"""Numba kernels of the scan-line engine (see :mod:`telecov.engine` for the method).

Every function here works on plain arrays in lon/lat degrees. On one scan line (a latitude)
commune polygons and geodesic footprints become exact longitude intervals; their unions are
merged intervals; population and residential area come from per-pixel-row prefix sums.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .geodesy import WGS84_A, WGS84_E2

N_BASE = 4  # area m², population, residential m², residential population
_KEY_SPAN = 1024.0  # larger than any longitude range, for (group, x) composite sort keys


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
def _prefix(cum: np.ndarray, vals: np.ndarray, row: int, u: float) -> float:
    """Integral of a pixel row from its left edge to pixel coordinate ``u``."""
    n = vals.shape[1]
    if u <= 0.0:
        return 0.0
    if u >= n:
        return cum[row, n]
    k = int(u)
    return cum[row, k] + (u - k) * vals[row, k]


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


@njit(cache=True)
def _merge_grouped(
    a: np.ndarray,
    b: np.ndarray,
    group: np.ndarray,
    n: int,
    lon_min: float,
    out_a: np.ndarray,
    out_b: np.ndarray,
    out_g: np.ndarray,
    m: int,
    region_offset: int,
) -> int:
    """Union of intervals within each group; appends to ``out_*`` from index ``m``."""
    key = np.empty(n, np.float64)
    for k in range(n):
        key[k] = group[k] * _KEY_SPAN + (a[k] - lon_min)
    order = np.argsort(key)
    start = m
    for k in range(n):
        i = order[k]
        g = group[i] + region_offset
        if m > start and out_g[m - 1] == g and a[i] <= out_b[m - 1]:
            if b[i] > out_b[m - 1]:
                out_b[m - 1] = b[i]
        else:
            out_a[m] = a[i]
            out_b[m] = b[i]
            out_g[m] = g
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
        n_cand[L] = nc


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
    pop: np.ndarray,
    cpop: np.ndarray,
    res: np.ndarray,
    cres: np.ndarray,
    rpop: np.ndarray,
    crpop: np.ndarray,
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
            nx = 0
            lon_min = 1e300
            for k in range(e0, e1):
                e = eidx[k]
                y0 = ey0[e]
                y1 = ey1[e]
                if (y0 <= lat < y1) or (y1 <= lat < y0):
                    x = ex0[e] + (lat - y0) / (y1 - y0) * (ex1[e] - ex0[e])
                    xs[nx] = x
                    xc[nx] = ecomm[e]
                    lon_min = min(lon_min, x)
                    nx += 1
            if nx < 2:
                continue
            key = np.empty(nx, np.float64)
            for k in range(nx):
                key[k] = xc[k] * _KEY_SPAN + (xs[k] - lon_min)
            order = np.argsort(key)
            ni = 0
            k = 0
            while k < nx - 1:
                p = order[k]
                q = order[k + 1]
                if xc[p] == xc[q]:
                    if xs[q] > xs[p]:
                        ia[ni] = xs[p]
                        ib[ni] = xs[q]
                        ic[ni] = xc[p]
                        ni += 1
                    k += 2
                else:
                    k += 1
            if ni == 0:
                continue
            # 2. regions: communes, parents (union of members), total (union of all)
            nr = 0
            for k in range(ni):
                ra[nr] = ia[k]
                rb[nr] = ib[k]
                rr[nr] = ic[k]
                nr += 1
            if n_parents > 0:
                pa = np.empty(ni, np.float64)
                pb = np.empty(ni, np.float64)
                pg = np.empty(ni, np.int64)
                npi = 0
                for k in range(ni):
                    g = parent[ic[k]]
                    if g >= 0:
                        pa[npi] = ia[k]
                        pb[npi] = ib[k]
                        pg[npi] = g
                        npi += 1
                nr = _merge_grouped(pa, pb, pg, npi, lon_min, ra, rb, rr, nr, n_comm)
            zeros = np.zeros(ni, np.int64)
            nr = _merge_grouped(ia, ib, zeros, ni, lon_min, ra, rb, rr, nr, total_region)
            # 3. measures that do not depend on coverage
            A = area_deg[s]
            wt = weight[s]
            for k in range(nr):
                ua_ = (ra[k] - lon0) / dx
                ub_ = (rb[k] - lon0) / dx
                g = rr[k]
                base[g, 0] += (rb[k] - ra[k]) * A
                base[g, 1] += (_prefix(cpop, pop, r, ub_) - _prefix(cpop, pop, r, ua_)) * wt
                base[g, 2] += (_prefix(cres, res, r, ub_) - _prefix(cres, res, r, ua_)) * dx * A
                base[g, 3] += (_prefix(crpop, rpop, r, ub_) - _prefix(crpop, rpop, r, ua_)) * wt
            # 4. each layer: union of footprints on this line, intersected with each region
            for L in range(n_layers):
                nf = n_inner[L]
                fa[:nf] = inner_a[L, :nf]
                fb[:nf] = inner_b[L, :nf]
                for k in range(n_cand[L]):
                    f = cand[L, k]
                    nf = footprint_intervals(
                        flon[f], flat[f], fm0[f], frad[f], faz[f], fwidth[f],
                        lat, line_k[s, 0], line_k[s, 1], line_k[s, 2], line_k[s, 3], fa, fb, nf,
                    )  # fmt: skip
                if nf == 0:
                    continue
                forder = np.argsort(fa[:nf])
                nu = _merge_sorted(fa, fb, forder, nf, ua, ub)
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
                            cov[g, L, 1] += (_prefix(cpop, pop, r, uhi) - _prefix(cpop, pop, r, ulo)) * wt
                            cov[g, L, 2] += (_prefix(cres, res, r, uhi) - _prefix(cres, res, r, ulo)) * dx * A
                            cov[g, L, 3] += (_prefix(crpop, rpop, r, uhi) - _prefix(crpop, rpop, r, ulo)) * wt
                        j += 1


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
    ncols = pop.shape[1]
    cpop = np.zeros((nrows, ncols + 1), np.float64)
    cres = np.zeros((nrows, ncols + 1), np.float64)
    rpop = pop * res
    crpop = np.zeros((nrows, ncols + 1), np.float64)
    for r in range(nrows):
        acc_p = 0.0
        acc_r = 0.0
        acc_rp = 0.0
        for c in range(ncols):
            acc_p += pop[r, c]
            acc_r += res[r, c]
            acc_rp += rpop[r, c]
            cpop[r, c + 1] = acc_p
            cres[r, c + 1] = acc_r
            crpop[r, c + 1] = acc_rp
    no_key = np.zeros(erow0.shape[0], np.int64)
    eptr, eidx = build_row_index(erow0, erow1, nrows, 1, no_key)
    fptr, fidx = build_row_index(frow0, frow1, nrows, n_layers, flayer)
    line_k = np.empty((lat_mid.shape[0], 4), np.float64)
    for s in range(lat_mid.shape[0]):
        m_l, n_l, c_l, s_l = line_constants(lat_mid[s])
        line_k[s, 0] = m_l
        line_k[s, 1] = n_l
        line_k[s, 2] = c_l
        line_k[s, 3] = s_l
    n_regions = base.shape[0]
    base_t = np.zeros((n_chunks, n_regions, N_BASE), np.float64)
    cov_t = np.zeros((n_chunks, n_regions, n_layers, N_BASE), np.float64)
    for t in prange(n_chunks):
        rows = np.arange(t, nrows, n_chunks)
        _scan_rows(
            rows, sptr, lat_mid, line_k, area_deg, weight, lon0, dx,
            pop, cpop, res, cres, rpop, crpop,
            ex0, ey0, ex1, ey1, ecomm, eptr, eidx, parent, n_parents,
            flon, flat, fm0, frad, faz, fwidth, fptr, fidx, ffp, n_layers,
            base_t[t], cov_t[t],
        )  # fmt: skip
    for t in range(n_chunks):
        base += base_t[t]
        cov += cov_t[t]
