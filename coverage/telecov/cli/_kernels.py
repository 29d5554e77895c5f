"""Whether numba's cache holds telecov's kernels for this machine: the first run's status line.

numba compiles the kernels on their first use and caches the machine code (``cache=True``,
next to the modules or under ``NUMBA_CACHE_DIR``); a cache index that is missing, written by
another numba version or for an older copy of the source holds nothing, and then the first
call compiles. Reading the index (a small pickle) is cheap; it is read with numba's own
loader, so that its rules (version, source stamp) are the ones applied.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

MEASURING_KERNELS: tuple[tuple[str, str], ...] = (("telecov.engine.scan_kernel", "_scan_rows"),)
"""The kernel that measures (module, name), the heaviest to compile: when it is cached, so are
the ones it calls."""

FIRST_COMPILE_SECONDS = 20
"""What a first run takes on a 2-core machine, its helper process compiling the measuring kernel
beside it: about 17 s of CPU in the helper, 11 s in the run before it needs the kernel
(``scripts/profile_compile.py``, ``scripts/bench.py --cases first-run``)."""

COMPILING = "compiling telecov's kernels for this machine (first run only, about {seconds} s)"
"""The status line shown on stderr before a run that will compile."""


def cold_kernels(kernels: Iterable[tuple[str, str]] = MEASURING_KERNELS) -> list[str]:
    """Return the kernels (``module.name``) of which numba's cache holds no compiled version.

    A kernel that is not a caching numba dispatcher (the JIT disabled, say), or whose cache
    cannot be read, is not listed: the status line is only shown when the cache is known cold.
    """
    cold = []
    for module, name in kernels:
        dispatcher = getattr(importlib.import_module(module), name, None)
        cache_file = getattr(getattr(dispatcher, "_cache", None), "_cache_file", None)
        load_index = getattr(cache_file, "_load_index", None)
        if load_index is None:
            continue
        try:
            overloads = load_index()
        except Exception:  # an unreadable index: numba recompiles and rewrites it
            overloads = None
        if overloads == {}:
            cold.append(f"{module}.{name}")
    return cold


def compiling_notice(kernels: Iterable[tuple[str, str]] = MEASURING_KERNELS) -> str | None:
    """Return the status line when the kernels will be compiled by this run, else None."""
    return COMPILING.format(seconds=FIRST_COMPILE_SECONDS) if cold_kernels(kernels) else None


def start_compiling() -> bool:
    """Compile the measuring kernel in a helper process while this run reads its inputs.

    Called when :func:`compiling_notice` says the kernels are cold; returns whether a helper
    was started (:func:`telecov.engine.warm.start`: not on a single core).
    """
    from ..engine.warm import start

    return start()
