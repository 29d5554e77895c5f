"""Numba kernels on pixel rows: residential flags and prefix sums of the pixels' measures.

Each pixel's true area and its people are spread uniformly over the pixel, so what lies
between two x positions of a row is a difference of two interpolated prefix sums. The sums
are, in the order of :data:`telecov.engine.scan.BASE_FIELDS`: true area (m²), people,
residential area (m²) and residential people.
"""

from __future__ import annotations

import numpy as np
from numba import njit

N_CHANNELS = 4
"""Prefix-summed measures per pixel: area, people, residential area, residential people."""


@njit(cache=True, nogil=True)
def residential_mask(pop: np.ndarray, pixel_km2: np.ndarray, density: float) -> np.ndarray:
    """1.0 where a pixel's density reaches ``density`` people per km² (and it has people).

    ``pixel_km2`` holds each pixel's true area (km²), with the shape of ``pop``.
    """
    res = np.zeros(pop.shape, np.float64)
    for r in range(pop.shape[0]):
        for c in range(pop.shape[1]):
            v = pop[r, c]
            if v > 0.0 and v >= density * pixel_km2[r, c]:
                res[r, c] = 1.0
    return res


@njit(cache=True)
def row_prefix_sums(pop: np.ndarray, res: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Per pixel row, the measures from the row's left edge to each pixel edge.

    ``cum[r, k, j]`` holds channel ``j`` (:data:`N_CHANNELS`) summed over the first ``k`` pixels.
    """
    nrows, ncols = pop.shape
    cum = np.zeros((nrows, ncols + 1, N_CHANNELS), np.float64)
    for r in range(nrows):
        acc_a = 0.0
        acc_p = 0.0
        acc_r = 0.0
        acc_rp = 0.0
        for c in range(ncols):
            acc_a += area[r, c]
            acc_p += pop[r, c]
            acc_r += area[r, c] * res[r, c]
            acc_rp += pop[r, c] * res[r, c]
            cum[r, c + 1, 0] = acc_a
            cum[r, c + 1, 1] = acc_p
            cum[r, c + 1, 2] = acc_r
            cum[r, c + 1, 3] = acc_rp
    return cum


@njit(cache=True, inline="always")
def integral_at(cum: np.ndarray, row: int, u: float, n: int, j: int) -> float:
    """Channel ``j`` of :func:`row_prefix_sums` from the row's left edge to pixel coordinate ``u``."""
    if u <= 0.0:
        return 0.0
    if u >= n:
        return cum[row, n, j]
    k = int(u)
    f = u - k
    return cum[row, k, j] * (1.0 - f) + cum[row, k + 1, j] * f


@njit(cache=True, inline="always")
def _locate(u: float, n: int) -> tuple[int, float]:
    """Pixel index and fraction of pixel coordinate ``u``, clamped to the row."""
    if u <= 0.0:
        return 0, 0.0
    if u >= n:
        return n - 1, 1.0
    k = int(u)
    return k, u - k


@njit(cache=True, inline="always")
def accumulate(cum: np.ndarray, row: int, ua: float, ub: float, out: np.ndarray, g: int, wt: float) -> None:
    """Add every channel of one pixel row between pixel coordinates ``ua`` and ``ub``, times ``wt``.

    ``out[g, j]`` receives channel ``j``; ``wt`` is the strip's share of the row's pixels.
    """
    n = cum.shape[1] - 1
    ka, fa = _locate(ua, n)
    kb, fb = _locate(ub, n)
    for j in range(N_CHANNELS):
        va = cum[row, ka, j] * (1.0 - fa) + cum[row, ka + 1, j] * fa
        vb = cum[row, kb, j] * (1.0 - fb) + cum[row, kb + 1, j] * fb
        out[g, j] += (vb - va) * wt
