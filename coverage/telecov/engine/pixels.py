"""Numba kernels on pixel rows: residential flags and prefix sums of people along a row.

Each pixel's people are spread uniformly over its area, so the people between two longitudes
of a row are a difference of two interpolated prefix sums.
"""

from __future__ import annotations

import numpy as np
from numba import njit


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


@njit(cache=True)
def row_prefix_sums(pop: np.ndarray, res: np.ndarray) -> np.ndarray:
    """Per pixel row, integrals from the left edge to each pixel edge (see :func:`integral_at`).

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


@njit(cache=True, inline="always")
def integral_at(cum: np.ndarray, row: int, u: float, n: int, j: int) -> float:
    """Integral ``j`` of :func:`row_prefix_sums` from the row's left edge to pixel coordinate ``u``."""
    if u <= 0.0:
        return 0.0
    if u >= n:
        return cum[row, n, j]
    k = int(u)
    f = u - k
    return cum[row, k, j] * (1.0 - f) + cum[row, k + 1, j] * f


@njit(cache=True, inline="always")
def accumulate(
    cum: np.ndarray, row: int, ua: float, ub: float, out: np.ndarray, g: int, wt: float, res_w: float
) -> None:
    """Add the integrals of one pixel row between pixel coordinates ``ua`` and ``ub``.

    ``out[g, 1:4]`` receive population (weighted by ``wt``), residential area (``res_w``)
    and residential population (``wt``); values are linear inside a pixel.
    """
    n = cum.shape[1] - 1
    for j in range(3):
        w = res_w if j == 1 else wt
        out[g, j + 1] += (integral_at(cum, row, ub, n, j) - integral_at(cum, row, ua, n, j)) * w
