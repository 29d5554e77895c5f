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
over it (at one of its ends, as d1·d2 is concave). Ties go to the first point, as in the plain
scan of :mod:`telecov.radio.kernels`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .kernels import knife_edge_j

BLOCK = 8
"""Profile points per block of the pruned edge search."""
_TOL = 1e-9
"""Relative slack on a block's ν bound (rounding of the bound against the exact ν)."""


@njit(cache=True, nogil=True)
def bilinear_at(grid: np.ndarray, c: float, r: float) -> float:  # pragma: no cover - compiled
    """Bilinear sample of ``grid`` at one fractional pixel position (as :func:`kernels.bilinear`)."""
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
def _block_bound(
    dist: np.ndarray,
    bmax: np.ndarray,
    blk: int,
    s: int,
    e: int,
    da: float,
    za: float,
    span: float,
    dz: float,
    lam: float,
) -> float:  # pragma: no cover - compiled
    """Upper bound of ν over profile points s…e (inside block ``blk``) for the ray (da, za)+(span, dz)."""
    d1s, d1e = dist[s] - da, dist[e] - da
    if d1s <= 0.0 or span - d1e <= 0.0:
        return np.inf
    lowest = za + min(dz * d1s, dz * d1e) / span
    hub = bmax[blk] - lowest
    ps, pe = d1s * (span - d1s), d1e * (span - d1e)
    if hub > 0.0:
        return hub * math.sqrt(2.0 * span / (lam * min(ps, pe)))
    half = span / 2.0
    top = half * half if d1s <= half <= d1e else max(ps, pe)
    return hub * math.sqrt(2.0 * span / (lam * top))


@njit(cache=True, nogil=True)
def edge_search(
    dist: np.ndarray,
    height: np.ndarray,
    bmax: np.ndarray,
    a: int,
    za: float,
    b: int,
    zb: float,
    lam: float,
    seed: int,
    seed2: int,
) -> tuple[int, float]:  # pragma: no cover - compiled
    """(index, ν) of the edge of largest ν strictly between profile points a and b (first on ties).

    ``bmax[k]`` bounds the heights of points k·BLOCK … (k+1)·BLOCK − 1; ``seed`` and ``seed2``
    (or −1) are likely edges, looked at first so that more blocks are skipped.
    """
    da, span, dz = dist[a], dist[b] - dist[a], zb - za
    best_i, best_v = -1, -np.inf
    for cand in (seed, seed2):
        if a < cand < b:
            v = _nu_of(dist, height, cand, da, za, span, dz, lam)
            if v > best_v or (v == best_v and cand < best_i):
                best_i, best_v = cand, v
    lo, hi = a + 1, b - 1
    for blk in range(lo // BLOCK, hi // BLOCK + 1):
        s, e = max(blk * BLOCK, lo), min(blk * BLOCK + BLOCK - 1, hi)
        if s > e:
            continue
        if best_i >= 0 and e - s >= 3:
            bound = _block_bound(dist, bmax, blk, s, e, da, za, span, dz, lam)
            if bound < best_v - _TOL * (1.0 + abs(best_v)):
                continue
        for i in range(s, e + 1):
            v = _nu_of(dist, height, i, da, za, span, dz, lam)
            if v > best_v or (v == best_v and i < best_i):
                best_i, best_v = i, v
    return best_i, best_v


@njit(cache=True, nogil=True)
def deygout_within(
    dist: np.ndarray,
    height: np.ndarray,
    bmax: np.ndarray,
    j: int,
    z_tx: float,
    z_rx: float,
    lam: float,
    margin: float,
    hints: np.ndarray,
    tx_nu: np.ndarray,
) -> bool:  # pragma: no cover - compiled
    """Whether the Deygout loss (dB, up to 3 edges) of the path 0 → j is ≤ ``margin``.

    The loss is that of :func:`telecov.radio.kernels.deygout_loss`; the sum stops as soon as it
    exceeds the margin (losses are ≥ 0). ``hints`` are the radial's search hints: [0] the
    point of steepest elevation angle so far, [1] and [2] the previous sample's principal and
    receiver-side edges; ``tx_nu`` caches the transmitter-side ν of each principal edge (it
    depends on that edge alone), NaN until known.
    """
    p, vp = edge_search(dist, height, bmax, 0, z_tx, j, z_rx, lam, hints[0], hints[1])
    if p < 0 or not vp > 0.0:
        return margin >= 0.0
    hints[1] = p
    loss = knife_edge_j(vp)
    if loss > margin:
        return False
    vt = tx_nu[p]
    if math.isnan(vt):
        _, vt = edge_search(dist, height, bmax, 0, z_tx, p, height[p], lam, -1, -1)
        tx_nu[p] = vt
    loss = loss + knife_edge_j(vt)
    if loss > margin:
        return False
    r, vr = edge_search(dist, height, bmax, p, height[p], j, z_rx, lam, hints[2], -1)
    hints[2] = r
    return loss + knife_edge_j(vr) <= margin


@njit(cache=True, nogil=True)
def covered_columns(
    elevation: np.ndarray,
    site: np.ndarray,
    half: np.ndarray,
    full: np.ndarray,
    weights: np.ndarray,
    dist: np.ndarray,
    drop: np.ndarray,
    rgroup: np.ndarray,
    budget: np.ndarray,
    path_loss: np.ndarray,
    group: np.ndarray,
    heights: tuple,
    k0: int,
    k1: int,
    out: np.ndarray,
) -> np.ndarray:  # pragma: no cover - compiled
    """Fill ``out[k0:k1]`` (columns × rows, bool) with the covered samples of those radials.

    ``site = (col, row, z_site)``: the site's DEM pixel position and ground (m); ``half`` and
    ``full`` (2 × columns): the pixel positions at half and full reach of every column;
    ``weights`` (3 × rows): the quadratic's weights of the site, half and full points at each
    sample; sample (k, j) lies at ``dist[rgroup[k], j]`` (m) where the Earth's curvature lowers
    the ground by ``drop[rgroup[k], j]`` (m), columns of the same reach sharing a row of both.
    Its margin is ``budget[k] − path_loss[group[k], j]`` (dB).
    ``heights = (antenna, receiver, wavelength, diffraction)``.
    Same verdicts as :func:`telecov.radio.kernels.covered_radials` on the sampled ground.
    """
    antenna_m, receiver_m, lam, diffraction = heights
    n = dist.shape[1]
    prof_d, prof_z = np.empty(n + 1), np.empty(n + 1)
    hints = np.empty(3, dtype=np.int64)
    tx_nu = np.empty(n + 1)
    bmax = np.empty(n // BLOCK + 1)
    z_tx = site[2] + antenna_m
    j_min = knife_edge_j(0.0)
    for k in range(k0, k1):
        prof_d[0], prof_z[0] = 0.0, z_tx
        bmax[:] = -np.inf
        bmax[0] = z_tx
        hints[:] = -1
        tx_nu[:] = np.nan
        max_slope, top = -np.inf, 0
        for j in range(n):
            c = site[0] * weights[0, j] + half[0, k] * weights[1, j] + full[0, k] * weights[2, j]
            r = site[1] * weights[0, j] + half[1, k] * weights[1, j] + full[1, k] * weights[2, j]
            zg = bilinear_at(elevation, c, r)
            d = dist[rgroup[k], j]
            known = not math.isnan(zg)
            z = zg - drop[rgroup[k], j] if known else -np.inf
            prof_d[j + 1], prof_z[j + 1] = d, z
            if z > bmax[(j + 1) // BLOCK]:
                bmax[(j + 1) // BLOCK] = z
            m = budget[k] - path_loss[group[k], j]
            cov = False
            if m >= 0.0:
                z_rx = z + receiver_m
                if not known or (z_rx - z_tx) / d >= max_slope:
                    cov = True
                elif diffraction and m >= j_min:
                    # ν of the steepest point and of the last principal edge bound the loss from below
                    v_top = _nu_of(prof_d, prof_z, top, 0.0, z_tx, d, z_rx - z_tx, lam)
                    if 0 < hints[1] < j + 1:
                        v_top = max(v_top, _nu_of(prof_d, prof_z, hints[1], 0.0, z_tx, d, z_rx - z_tx, lam))
                    if knife_edge_j(v_top) <= m:
                        hints[0] = top
                        cov = deygout_within(prof_d, prof_z, bmax, j + 1, z_tx, z_rx, lam, m, hints, tx_nu)
            out[k, j] = cov
            if known and (z - z_tx) / d > max_slope:
                max_slope, top = (z - z_tx) / d, j + 1
    return out
