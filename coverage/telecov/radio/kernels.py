"""Numba kernels of the terrain step: DEM sampling and the covered set along radials.

Geometry of one radial: heights are taken relative to the tangent plane at the site, with the
ground dropping by d²/(2·aₑ) (effective Earth radius aₑ = k·a, k = 4/3): straight lines in
that frame are radio rays over the refracting atmosphere. The transmitter sits at
H = ground(site) + antenna height, a receiver at ground(d) − d²/(2aₑ) + receiver height.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

Floats = NDArray[np.float64]

KNIFE_EDGE_MIN_V = -0.78
"""Below this ν the knife-edge loss of ITU-R P.526 is 0 dB."""


@njit(cache=True)
def knife_edge_j(v: float) -> float:  # pragma: no cover - compiled
    """ITU-R P.526 knife-edge loss J(ν) (dB): 6.9 + 20 log10(√((ν−0.1)²+1) + ν − 0.1), ν > −0.78."""
    if not v > KNIFE_EDGE_MIN_V:
        return 0.0
    w = v - 0.1
    return 6.9 + 20.0 * math.log10(math.sqrt(w * w + 1.0) + w)


def knife_edge_loss_db(v: ArrayLike) -> Floats:
    """ITU-R P.526-15 §4.1 eq. (31) J(ν) in dB, vectorised (0 dB for ν ≤ −0.78)."""
    nu = np.asarray(v, dtype=np.float64)
    w = nu - 0.1
    with np.errstate(invalid="ignore"):
        loss = 6.9 + 20.0 * np.log10(np.sqrt(w * w + 1.0) + w)
    return np.asarray(np.where(nu > KNIFE_EDGE_MIN_V, loss, 0.0))


@njit(cache=True)
def bilinear(grid: Floats, col: Floats, row: Floats) -> Floats:  # pragma: no cover - compiled
    """Bilinear samples of ``grid`` at fractional pixel positions (pixel centres at i + 0.5).

    NaN where a neighbour is NaN or the position lies outside the grid's pixel centres.
    """
    out = np.empty(col.shape)
    ny, nx = grid.shape
    fc, fr, fo = col.ravel(), row.ravel(), out.ravel()
    for i in range(fc.size):
        x, y = fc[i] - 0.5, fr[i] - 0.5
        x0, y0 = math.floor(x), math.floor(y)
        if x0 < 0 or y0 < 0 or x0 + 1 >= nx or y0 + 1 >= ny:
            # on the outer half-pixel rim: nearest pixel, else nothing
            cx, cy = math.floor(fc[i]), math.floor(fr[i])
            fo[i] = grid[cy, cx] if 0 <= cx < nx and 0 <= cy < ny else np.nan
            continue
        tx, ty = x - x0, y - y0
        top = grid[y0, x0] * (1.0 - tx) + grid[y0, x0 + 1] * tx
        bottom = grid[y0 + 1, x0] * (1.0 - tx) + grid[y0 + 1, x0 + 1] * tx
        fo[i] = top * (1.0 - ty) + bottom * ty
    return out


@njit(cache=True)
def _principal(
    dist: Floats, height: Floats, a: int, za: float, b: int, zb: float, lam: float
) -> tuple[int, float]:  # pragma: no cover
    """Edge of largest ν strictly between profile points a and b, for the ray (a, za)–(b, zb)."""
    best_i, best_v = -1, -np.inf
    da, span = dist[a], dist[b] - dist[a]
    for i in range(a + 1, b):
        d1 = dist[i] - da
        d2 = span - d1
        if d1 <= 0.0 or d2 <= 0.0:
            continue
        h = height[i] - (za + (zb - za) * d1 / span)
        v = h * math.sqrt(2.0 * span / (lam * d1 * d2))
        if v > best_v:
            best_i, best_v = i, v
    return best_i, best_v


@njit(cache=True)
def deygout_loss(
    dist: Floats, height: Floats, j: int, z_tx: float, z_rx: float, lam: float
) -> float:  # pragma: no cover
    """Knife-edge loss (dB) of the path from profile point 0 to j, Deygout with up to 3 edges.

    The principal edge (largest ν) must cut the direct ray (ν > 0); the two sub-paths on either
    side of it add the loss of their own largest-ν edge when ν > −0.78.
    """
    p, vp = _principal(dist, height, 0, z_tx, j, z_rx, lam)
    if p < 0 or not vp > 0.0:
        return 0.0
    loss = knife_edge_j(vp)
    _, vt = _principal(dist, height, 0, z_tx, p, height[p], lam)
    _, vr = _principal(dist, height, p, height[p], j, z_rx, lam)
    return loss + knife_edge_j(vt) + knife_edge_j(vr)


@njit(cache=True)
def covered_radials(
    ground: Floats,
    dist: Floats,
    margin: Floats,
    z_site: float,
    antenna_m: float,
    receiver_m: float,
    earth_radius_m: float,
    wavelength_m: float,
    diffraction: bool,
) -> NDArray[np.bool_]:  # pragma: no cover - compiled
    """Covered samples of a polar grid (radials × distances), by line of sight or diffraction.

    ``ground`` holds the DEM elevation (m, NaN = unknown) at ``dist`` (m, increasing along each
    radial); ``margin`` the link budget left at each sample after the model's path loss (dB;
    ≥ 0 inside the flat-ground reach). A sample is covered when its margin is ≥ 0 and either
    its direct ray clears the terrain, or (``diffraction``) the Deygout loss fits in the margin.
    Samples of unknown elevation are judged on the margin alone and never obstruct.
    """
    n_rad, n = ground.shape
    out = np.zeros((n_rad, n), dtype=np.bool_)
    prof_d = np.empty(n + 1)
    prof_z = np.empty(n + 1)
    z_tx = z_site + antenna_m
    j_min = knife_edge_j(0.0)
    for k in range(n_rad):
        prof_d[0], prof_z[0] = 0.0, z_tx
        max_slope, top = -np.inf, 0
        for j in range(n):
            d, zg = dist[k, j], ground[k, j]
            known = not math.isnan(zg)
            z = zg - d * d / (2.0 * earth_radius_m) if known else -np.inf
            prof_d[j + 1], prof_z[j + 1] = d, z
            m = margin[k, j]
            if m >= 0.0:
                z_rx = z + receiver_m
                if not known or (z_rx - z_tx) / d >= max_slope:
                    out[k, j] = True
                elif (
                    diffraction
                    and m >= j_min
                    and knife_edge_j(_nu(prof_d, prof_z, top, j + 1, z_tx, z_rx, wavelength_m)) <= m
                ):
                    # the edge of steepest elevation bounds the principal edge's loss from below
                    out[k, j] = deygout_loss(prof_d, prof_z, j + 1, z_tx, z_rx, wavelength_m) <= m
            if known and (z - z_tx) / d > max_slope:
                max_slope, top = (z - z_tx) / d, j + 1
    return out


@njit(cache=True)
def _nu(
    dist: Floats, height: Floats, i: int, j: int, z_tx: float, z_rx: float, lam: float
) -> float:  # pragma: no cover
    """Fresnel–Kirchhoff ν of profile point i on the ray from the transmitter to point j."""
    d1, span = dist[i], dist[j]
    d2 = span - d1
    if d1 <= 0.0 or d2 <= 0.0:
        return -np.inf
    h = height[i] - (z_tx + (z_rx - z_tx) * d1 / span)
    return h * math.sqrt(2.0 * span / (lam * d1 * d2))
