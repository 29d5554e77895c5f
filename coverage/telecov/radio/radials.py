"""Numba kernel of the terrain step: DEM sampling, line of sight and Deygout in one pass per radial.

:func:`covered_columns` does for a range of the polar grid's columns (radials) what sampling the
ground (:func:`telecov.radio.terrain.sample_ground`) and :func:`telecov.radio.kernels.covered_radials`
do on whole arrays, with the same arithmetic, without the grid-sized intermediate arrays: each
sample's DEM position (the quadratic through the site, half and full reach), its bilinear
elevation, the earth-curvature drop, the running maximum of the elevation angle (line of sight)
and, where the verdict depends on it, the Deygout loss. It runs without the GIL, so Python
threads share a site's columns.

Deygout's edge searches (the largest ν between two profile points) are exact but skip blocks of
:data:`BLOCK` profile points whose ν cannot exceed the best found so far: a block's ν is at most
(its highest point − the ray's lowest point over it) × the largest Fresnel weight √(2d/(λ d1 d2))
over it (at one of its ends, as d1·d2 is concave). Runs of :data:`SUPER` blocks are bounded
the same way first, so that most of a long profile is skipped in a few steps. Ties go to the
first point, as in the plain scan of :mod:`telecov.radio.kernels`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .kernels import knife_edge_j

BLOCK = 8
"""Profile points per block of the pruned edge search."""
SUPER = 8
"""Blocks per super-block: the search first bounds runs of ``SUPER × BLOCK`` points."""
_TOL = 1e-9
"""Relative slack for rounding: on a block's ν bound against the exact ν, and on the hull's
side-of-line test (:func:`hull_push`)."""


@njit(cache=True, nogil=True, inline="always")
def bilinear_at(grid: np.ndarray, c: float, r: float) -> float:  # pragma: no cover - compiled
    """Bilinear sample of ``grid`` at one fractional pixel position (as :func:`kernels.bilinear`).

    Inlined where it is called: it runs once per sample of the terrain pass.
    """
    ny, nx = grid.shape
    x, y = c - 0.5, r - 0.5
    x0, y0 = math.floor(x), math.floor(y)
    if x0 < 0 or y0 < 0 or x0 + 1 >= nx or y0 + 1 >= ny:
        cx, cy = math.floor(c), math.floor(r)
        return grid[cy, cx] if 0 <= cx < nx and 0 <= cy < ny else np.nan
    tx, ty = x - x0, y - y0
    top = grid[y0, x0] * (1.0 - tx) + grid[y0, x0 + 1] * tx
    bottom = grid[y0 + 1, x0] * (1.0 - tx) + grid[y0 + 1, x0 + 1] * tx
    return top * (1.0 - ty) + bottom * ty


@njit(cache=True, nogil=True)
def _nu_of(
    dist: np.ndarray, height: np.ndarray, i: int, da: float, za: float, span: float, dz: float, lam: float
) -> float:  # pragma: no cover - compiled
    """ν of profile point i on the ray from (da, za) over ``span`` rising by ``dz`` (−inf at an end)."""
    d1 = dist[i] - da
    d2 = span - d1
    if d1 <= 0.0 or d2 <= 0.0:
        return -np.inf
    h = height[i] - (za + dz * d1 / span)
    return h * math.sqrt(2.0 * span / (lam * d1 * d2))


@njit(cache=True, nogil=True)
def _range_bound(
    dist: np.ndarray,
    top: float,
    s: int,
    e: int,
    da: float,
    za: float,
    span: float,
    dz: float,
    lam: float,
) -> float:  # pragma: no cover - compiled
    """Upper bound of ν over profile points s…e, all at most ``top`` high, for the ray (da, za)+(span, dz)."""
    d1s, d1e = dist[s] - da, dist[e] - da
    if d1s <= 0.0 or span - d1e <= 0.0:
        return np.inf
    lowest = za + min(dz * d1s, dz * d1e) / span
    hub = top - lowest
    ps, pe = d1s * (span - d1s), d1e * (span - d1e)
    if hub > 0.0:
        return hub * math.sqrt(2.0 * span / (lam * min(ps, pe)))
    half = span / 2.0
    peak = half * half if d1s <= half <= d1e else max(ps, pe)
    return hub * math.sqrt(2.0 * span / (lam * peak))


@njit(cache=True, nogil=True)
def edge_search(
    dist: np.ndarray,
    height: np.ndarray,
    bmax: np.ndarray,
    smax: np.ndarray,
    a: int,
    za: float,
    b: int,
    zb: float,
    lam: float,
    seed: int,
) -> tuple[int, float]:  # pragma: no cover - compiled
    """(index, ν) of the edge of largest ν strictly between profile points a and b (first on ties).

    ``bmax[k]`` bounds the heights of points k·BLOCK … (k+1)·BLOCK − 1 and ``smax[k]`` those of
    the k-th run of :data:`SUPER` blocks; ``seed`` (or −1) is a likely edge, looked at first
    so that more blocks are skipped.
    """
    da, span, dz = dist[a], dist[b] - dist[a], zb - za
    best_i, best_v = -1, -np.inf
    if a < seed < b:
        v = _nu_of(dist, height, seed, da, za, span, dz, lam)
        if v > best_v:
            best_i, best_v = seed, v
    lo, hi = a + 1, b - 1
    wide = BLOCK * SUPER
    for sup in range(lo // wide, hi // wide + 1):
        ss, se = max(sup * wide, lo), min(sup * wide + wide - 1, hi)
        if ss > se:
            continue
        if best_i >= 0 and se - ss >= BLOCK:
            bound = _range_bound(dist, smax[sup], ss, se, da, za, span, dz, lam)
            if bound < best_v - _TOL * (1.0 + abs(best_v)):
                continue
        for blk in range(ss // BLOCK, se // BLOCK + 1):
            s, e = max(blk * BLOCK, ss), min(blk * BLOCK + BLOCK - 1, se)
            if best_i >= 0 and e - s >= 3:
                bound = _range_bound(dist, bmax[blk], s, e, da, za, span, dz, lam)
                if bound < best_v - _TOL * (1.0 + abs(best_v)):
                    continue
            for i in range(s, e + 1):
                v = _nu_of(dist, height, i, da, za, span, dz, lam)
                if v > best_v or (v == best_v and i < best_i):
                    best_i, best_v = i, v
    return best_i, best_v


@njit(cache=True, nogil=True)
def hull_push(
    dist: np.ndarray, height: np.ndarray, hull: np.ndarray, size: int, i: int
) -> int:  # pragma: no cover - compiled
    """Add profile point i to the upper hull ``hull[:size]`` (indices, increasing); return its new size.

    A vertex is dropped only when it lies clearly below the line from the one before it to point
    i (by more than rounding), so the stack holds every vertex of the true upper hull, and a few
    points on or next to its edges.
    """
    di, zi = dist[i], height[i]
    while size >= 2:
        a, b = hull[size - 2], hull[size - 1]
        lhs = (zi - height[a]) * (dist[b] - dist[a])
        rhs = (height[b] - height[a]) * (di - dist[a])
        if lhs - rhs <= _TOL * (abs(lhs) + abs(rhs) + 1.0):
            break
        size -= 1
    hull[size] = i
    return size + 1


@njit(cache=True, nogil=True)
def hull_upto(
    dist: np.ndarray, height: np.ndarray, hull: np.ndarray, size: int, done: int, j: int
) -> int:  # pragma: no cover - compiled
    """Add the known profile points done + 1 … j to the upper hull; return its new size."""
    for i in range(done + 1, j + 1):
        if height[i] > -np.inf:
            size = hull_push(dist, height, hull, size, i)
    return size


@njit(cache=True, nogil=True)
def hull_principal(
    dist: np.ndarray,
    height: np.ndarray,
    hull: np.ndarray,
    size: int,
    z_tx: float,
    b: int,
    z_rx: float,
    lam: float,
) -> tuple[int, float]:  # pragma: no cover - compiled
    """(index, ν) of the principal edge of the path 0 → b, among the upper hull's vertices.

    Exact where it matters: an edge of ν > 0 lies on the upper hull of the profile (under a hull
    edge, ν is below its value on that edge, and the Fresnel weight makes ν along an edge
    largest at one of its ends, as d1·d2 is concave); when every vertex has ν ≤ 0, so has
    every point. First on ties, as the plain scan.
    """
    span, dz = dist[b], z_rx - z_tx
    best_i, best_v = -1, -np.inf
    for k in range(size):
        i = hull[k]
        if 0 < i < b:
            v = _nu_of(dist, height, i, 0.0, z_tx, span, dz, lam)
            if v > best_v:
                best_i, best_v = i, v
    return best_i, best_v


@njit(cache=True, nogil=True)
def deygout_within(
    dist: np.ndarray,
    height: np.ndarray,
    bmax: np.ndarray,
    smax: np.ndarray,
    j: int,
    z_tx: float,
    z_rx: float,
    lam: float,
    margin: float,
    hints: np.ndarray,
    tx_nu: np.ndarray,
    hull: np.ndarray,
    size: int,
) -> bool:  # pragma: no cover - compiled
    """Whether the Deygout loss (dB, up to 3 edges) of the path 0 → j is ≤ ``margin``.

    The loss is that of :func:`telecov.radio.kernels.deygout_loss`; the sum stops as soon as it
    exceeds the margin (losses are ≥ 0). The principal edge is sought among the vertices of the
    profile's upper hull ``hull[:size]`` (:func:`hull_principal`). ``hints`` are the radial's
    search hints: [0] and [1] the previous sample's principal and receiver-side edges;
    ``tx_nu`` caches the transmitter-side ν of each principal edge (it depends on that edge
    alone), NaN until known.
    """
    p, vp = hull_principal(dist, height, hull, size, z_tx, j, z_rx, lam)
    if p < 0 or not vp > 0.0:
        return margin >= 0.0
    hints[0] = p
    loss = knife_edge_j(vp)
    if loss > margin:
        return False
    vt = tx_nu[p]
    if math.isnan(vt):
        _, vt = edge_search(dist, height, bmax, smax, 0, z_tx, p, height[p], lam, -1)
        tx_nu[p] = vt
    loss = loss + knife_edge_j(vt)
    if loss > margin:
        return False
    r, vr = edge_search(dist, height, bmax, smax, p, height[p], j, z_rx, lam, hints[1])
    hints[1] = r
    return loss + knife_edge_j(vr) <= margin


@njit(cache=True, nogil=True)
def _begin(
    k: int, bands: np.ndarray, saved: np.ndarray, dist: np.ndarray, z_tx: float, prof_d: np.ndarray,
    prof_z: np.ndarray, bmax: np.ndarray, smax: np.ndarray, out: np.ndarray, diffraction: bool,
) -> tuple[float, int, int]:  # fmt: skip  # pragma: no cover - compiled
    """Start radial k: its parent's first samples copied in; return (max slope, its point, next row).

    The height bounds ``bmax`` and ``smax`` are kept up with diffraction only (as in the pass).
    """
    prof_d[0], prof_z[0] = 0.0, z_tx
    bmax[:], smax[:] = -np.inf, -np.inf
    bmax[0], smax[0] = z_tx, z_tx
    max_slope, top, parent = -np.inf, 0, bands[1, k]
    if parent < 0:
        return max_slope, top, 0
    rows, src = bands[0, k], saved[bands[2, parent]]
    for i in range(1, rows + 1):
        z = src[i]
        prof_d[i], prof_z[i] = dist[i - 1], z
        if diffraction and z > bmax[i // BLOCK]:
            bmax[i // BLOCK] = z
            if z > smax[i // (BLOCK * SUPER)]:
                smax[i // (BLOCK * SUPER)] = z
        if (z - z_tx) / dist[i - 1] > max_slope:
            max_slope, top = (z - z_tx) / dist[i - 1], i
    out[k, :rows] = out[parent, :rows]
    return max_slope, top, rows


@njit(cache=True, nogil=True)
def covered_columns(
    elevation: np.ndarray, site: np.ndarray, half: np.ndarray, full: np.ndarray, weights: np.ndarray,
    dist: np.ndarray, drop: np.ndarray, rgroup: np.ndarray, budget: np.ndarray, path_loss: np.ndarray,
    group: np.ndarray, bands: np.ndarray, heights: tuple, k0: int, k1: int, out: np.ndarray,
) -> np.ndarray:  # fmt: skip  # pragma: no cover - compiled
    """Fill ``out[k0:k1]`` (columns × rows, bool) with the covered samples of those radials.

    ``site = (col, row, z_site)``: the site's DEM pixel position and ground (m); ``half`` and
    ``full`` (2 × columns): the pixel positions at half and full reach of every column;
    ``weights`` (3 × rows): the quadratic's weights of the site, half and full points at each
    sample; sample (k, j) lies at ``dist[rgroup[k], j]`` (m) where the Earth's curvature lowers
    the ground by ``drop[rgroup[k], j]`` (m), columns of the same reach sharing a row of both.
    Its margin is ``budget[k] − path_loss[group[k], j]`` (dB); ``bands`` (3 × columns), the
    :class:`telecov.radio.terrain.InnerBands` (start, parent, slot): a column's first
    ``start[k]`` samples are those of ``parent[k]`` (in k0 … k − 1). ``heights``: antenna,
    receiver, wavelength, diffraction. Verdicts: :func:`telecov.radio.kernels.covered_radials`'s.
    """
    antenna_m, receiver_m, lam, diffraction = heights
    n = dist.shape[1]
    prof_d, prof_z = np.empty(n + 1), np.empty(n + 1)
    saved = np.empty((bands[2].max() + 1, n + 1))  # the last profile of each slot's columns
    hints = np.empty(2, dtype=np.int64)
    tx_nu = np.empty(n + 1)
    bmax = np.empty(n // BLOCK + 1)
    smax = np.empty(n // (BLOCK * SUPER) + 1)
    hull = np.empty(n + 1, dtype=np.int64)
    z_tx = site[2] + antenna_m
    sc, sr = site[0], site[1]
    j_min = knife_edge_j(0.0)
    for k in range(k0, k1):
        dk, dropk, lossk, bk = dist[rgroup[k]], drop[rgroup[k]], path_loss[group[k]], budget[k]
        max_slope, top, j0 = _begin(k, bands, saved, dk, z_tx, prof_d, prof_z, bmax, smax, out, diffraction)
        hints[:], tx_nu[:] = -1, np.nan
        hull[0], size, pushed = 0, 1, 0
        hc, hr, fc, fr = half[0, k], half[1, k], full[0, k], full[1, k]
        outk = out[k]
        for j in range(j0, n):
            w0, w1, w2 = weights[0, j], weights[1, j], weights[2, j]
            c = sc * w0 + hc * w1 + fc * w2
            r = sr * w0 + hr * w1 + fr * w2
            zg = bilinear_at(elevation, c, r)
            d = dk[j]
            known = not math.isnan(zg)
            z = zg - dropk[j] if known else -np.inf
            prof_d[j + 1], prof_z[j + 1] = d, z
            # the edge searches' height bounds, for diffraction only; written out: a helper call
            # here slowed the pass
            if diffraction and z > bmax[(j + 1) // BLOCK]:
                bmax[(j + 1) // BLOCK] = z
                if z > smax[(j + 1) // (BLOCK * SUPER)]:
                    smax[(j + 1) // (BLOCK * SUPER)] = z
            m = bk - lossk[j]
            cov = False
            if m >= 0.0:
                z_rx = z + receiver_m
                if not known or (z_rx - z_tx) / d >= max_slope:
                    cov = True
                elif diffraction and m >= j_min:
                    # ν of the steepest point and of the last principal edge bound the loss from below
                    v_top = _nu_of(prof_d, prof_z, top, 0.0, z_tx, d, z_rx - z_tx, lam)
                    if 0 < hints[0] < j + 1:
                        v_top = max(v_top, _nu_of(prof_d, prof_z, hints[0], 0.0, z_tx, d, z_rx - z_tx, lam))
                    if knife_edge_j(v_top) <= m:
                        size = hull_upto(prof_d, prof_z, hull, size, pushed, j)  # built lazily
                        pushed = j
                        cov = deygout_within(
                            prof_d, prof_z, bmax, smax, j + 1, z_tx, z_rx, lam, m, hints, tx_nu, hull, size
                        )
            outk[j] = cov
            if known and (z - z_tx) / d > max_slope:
                max_slope, top = (z - z_tx) / d, j + 1
        if bands[2, k] > 0:
            saved[bands[2, k]] = prof_z
    return out
