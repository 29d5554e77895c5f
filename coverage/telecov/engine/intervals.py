"""Numba primitives on sorted longitude intervals and per-row CSR indexes.

An interval list is two arrays of starts and ends plus a count; a union is start-sorted and
disjoint. These are shared by the measure kernel and the gap-zone kernels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from numba import njit

_F = TypeVar("_F", bound=Callable[..., Any])


def kernel(**options: Any) -> Callable[[_F], Any]:
    """Numba's ``njit`` with telecov's kernel options and ``options`` (``nogil``, ``inline``, ...).

    Every kernel is cached on disk; uses numpy's error model (a division by zero gives inf or
    nan rather than raising, so no exception paths are compiled: the kernels never divide by
    zero); and gets no C callback wrapper (never used, and compiling it costs).
    """
    opts: dict[str, Any] = {"cache": True, "error_model": "numpy", "no_cfunc_wrapper": True, **options}
    decorate: Callable[[_F], Any] = njit(**opts)  # a dispatcher, called with numba's int64 too
    return decorate


KERNEL = kernel()
"""A kernel called from Python."""
INNER = kernel(no_cpython_wrapper=True)
"""A kernel only called from other kernels: no Python entry point is compiled for it."""
INLINE = kernel(inline="always")
"""A small kernel of the hot loops, inlined into its callers (as numba IR)."""


@INNER
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


@INLINE
def insertion_sort(x: np.ndarray, lo: int, hi: int) -> None:
    """Sort ``x[lo:hi]`` in place (short or nearly sorted runs)."""
    for i in range(lo + 1, hi):
        v = x[i]
        j = i - 1
        while j >= lo and x[j] > v:
            x[j + 1] = x[j]
            j -= 1
        x[j + 1] = v


@INLINE
def insertion_sort_pairs(a: np.ndarray, b: np.ndarray, lo: int, hi: int) -> None:
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


@INNER
def union_two(
    a1: np.ndarray,
    b1: np.ndarray,
    n1: int,
    a2: np.ndarray,
    b2: np.ndarray,
    n2: int,
    out_a: np.ndarray,
    out_b: np.ndarray,
) -> int:
    """Union of two start-sorted interval lists into ``out_a``/``out_b``; returns the count."""
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


@INNER
def merge_sorted(
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


@INNER
def grow(x: np.ndarray, n: int) -> np.ndarray:
    """``x`` itself while index ``n`` fits, else a copy at least twice as long (any dtype)."""
    if n < x.shape[0]:
        return x
    out = np.empty(max(16, 2 * x.shape[0], n + 1), x.dtype)
    out[: x.shape[0]] = x
    return out
