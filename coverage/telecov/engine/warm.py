"""The measuring kernel compiled in a second process while a first run reads its inputs.

numba compiles a kernel on its first call, one kernel after another under a per-process
compiler lock, so a first run on a cold cache compiles on one core. :func:`start` launches a
helper process (:data:`HELPER`) that compiles the measuring kernel
(:func:`telecov.engine.scan_kernel.compile_measuring`, with the argument types
:func:`telecov.engine.scan_kernel.scan_band` always passes) into numba's on-disk cache, while
the run reads its inputs and compiles the other kernels on the other core. Before its first
band the run waits for the helper (:func:`wait`) and loads the kernel from the cache. The
machine code is the same whoever compiled it; if the helper fails, the run compiles the
kernel itself.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import time

HELPER = "from telecov.engine.warm import main; main()"
"""The helper's program (``python -c``)."""
WAIT_SECONDS = 600.0
"""Longest wait for the helper; past it the helper is stopped and the run compiles itself."""

_helper: list[subprocess.Popen[bytes]] = []


def cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def start() -> bool:
    """Start compiling the measuring kernel in a helper process; whether one was started.

    Nothing is started on a single core (the helper would only take turns with the run) or
    when one is already running.
    """
    if _helper or cores() < 2:
        return False
    flags = ["-P"] if sys.version_info >= (3, 11) else []  # no module shadowing from the cwd
    try:
        proc = subprocess.Popen(
            [sys.executable, *flags, "-c", HELPER],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    except OSError:
        return False
    _helper.append(proc)
    atexit.register(_stop)
    return True


def wait(timeout: float = WAIT_SECONDS) -> float:
    """Wait for a started helper to finish; returns the seconds waited (0 without a helper)."""
    if not _helper:
        return 0.0
    proc = _helper[0]
    t0 = time.perf_counter()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop()
    _helper.clear()
    return time.perf_counter() - t0


def _stop() -> None:
    """Stop a helper still running (the run ended before it needed the kernel)."""
    for proc in _helper:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
    _helper.clear()


def main() -> None:
    """Compile the measuring kernel into numba's cache (the helper process)."""
    from .scan_kernel import compile_measuring

    compile_measuring()
