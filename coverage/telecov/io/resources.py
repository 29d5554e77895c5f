"""What this machine lets a run use, and the check of a run's estimate against it.

The memory available to the process is the least of three figures, each where the system
reports it: the RAM available (``MemAvailable``), the room left under the process's cgroup
limit (containers, systemd units, batch jobs) and the room left under its address-space limit
(``RLIMIT_AS``, ``ulimit -v``). :func:`check_budget` compares an :class:`Estimate` made before
the work with it: a run that would need more stops with :class:`~telecov.TooLargeError` (exit
3) before allocating; one that would need over half of it, write over 1 GB or likely run over
10 minutes goes on with a warning giving the estimate.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import TelecovWarning, TooLargeError

log = logging.getLogger(__name__)

UNLIMITED = 2**60
"""Limits at or above this many bytes mean no limit."""
WARN_SHARE = 0.5
"""Warn when the estimated peak is over this share of the memory available."""
WARN_OUTPUT_BYTES = 10**9
"""Warn when the outputs will be larger than this (1 GB)."""
WARN_SECONDS = 600.0
"""Warn when the run will likely take longer than this (10 minutes)."""

ADVICE: dict[str, str] = {
    "scan strips": "use a coarser `resolution_m`",
    "raster window": "use `select` or a coarser raster",
    "layers": "use fewer layers (`by_operator` multiplies them by the operators)",
    "table": "use fewer layers (`by_operator` multiplies the rows by the operators)",
    "footprints": "export fewer files (footprints are written by the geojson, gpkg and parquet exports)",
    "sites": "use fewer sites",
    "areas": "use `select` or simplified boundaries",
    "cells": "split the cells file (e.g. one file per MCC) or use a machine with more memory",
}
"""What to change, by the name of the largest part of an estimate."""


def gib(n: float) -> str:
    """Bytes as ``1.2 GB``, ``340 MB`` or ``12 kB``."""
    if n >= 1e9:
        return f"{n / 1e9:.1f} GB"
    return f"{n / 1e6:.0f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


@dataclass(frozen=True)
class Estimate:
    """What a run will need, estimated from its inputs before the work starts.

    Attributes
    ----------
    peak_bytes
        Memory the run will need at its peak on top of what the process holds now.
    reserved_bytes
        Address space it will reserve on top of that without touching most of it (scratch
        buffers sized for the worst row), which only an address-space limit counts.
    output_bytes
        Total size of the files it will write.
    seconds
        Likely duration of the work.
    parts
        The peak's parts by name (``scan strips``, ``table``, ...), in bytes.
    outputs
        Size of each file, by name.
    details
        Per part, what drives it (e.g. ``1.2e9 scan lines``), for messages.
    drivers
        The quantities the estimate grows with (scan lines, table rows, ...), for calibration.

    """

    peak_bytes: int
    output_bytes: int
    seconds: float
    reserved_bytes: int = 0
    parts: Mapping[str, int] = field(default_factory=dict)
    outputs: Mapping[str, int] = field(default_factory=dict)
    details: Mapping[str, str] = field(default_factory=dict)
    drivers: Mapping[str, float] = field(default_factory=dict)

    def largest(self) -> str | None:
        """Name of the largest part of the peak."""
        return max(self.parts, key=lambda k: self.parts[k]) if self.parts else None

    def describe(self) -> str:
        """``about 12.3 GB of memory (scan strips 11.9 GB: ...), outputs 40 MB, about 2 min``."""
        name = self.largest()
        part = ""
        if name is not None:
            detail = f": {self.details[name]}" if name in self.details else ""
            part = f" ({name} {gib(self.parts[name])}{detail})"
        reserved = f" and {gib(self.reserved_bytes)} of address space reserved" if self.reserved_bytes else ""
        return (
            f"about {gib(self.peak_bytes)} of memory{part}{reserved}, {gib(self.output_bytes)} of outputs, "
            f"{_duration(self.seconds)}"
        )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"about {seconds:.0f} s"
    if seconds < 7200:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.0f} h"


@dataclass(frozen=True)
class Memory:
    """Memory this process may still use, in bytes, by source (None: no such limit known)."""

    ram: int | None = None
    cgroup: int | None = None
    address_space: int | None = None

    @property
    def available(self) -> int | None:
        """The least of the known figures."""
        known = [v for v in (self.ram, self.cgroup, self.address_space) if v is not None]
        return min(known) if known else None

    def share(self, estimate: Estimate) -> tuple[float, int | None]:
        """Return the largest share of a limit the estimate needs, and that limit (None: no limit).

        Resident memory counts against available RAM and the cgroup room; resident and reserved
        memory against the address-space room.
        """
        needs = [(estimate.peak_bytes, v) for v in (self.ram, self.cgroup) if v is not None]
        if self.address_space is not None:
            needs.append((estimate.peak_bytes + estimate.reserved_bytes, self.address_space))
        if not needs:
            return 0.0, None
        need, room = max(needs, key=lambda nr: nr[0] / max(nr[1], 1))
        return need / max(room, 1), room

    def describe(self) -> str:
        """``available RAM 21.3 GB, address-space limit 2.0 GB left``."""
        parts = []
        if self.ram is not None:
            parts.append(f"available RAM {gib(self.ram)}")
        if self.cgroup is not None:
            parts.append(f"cgroup limit {gib(self.cgroup)} left")
        if self.address_space is not None:
            parts.append(f"address-space limit (RLIMIT_AS) {gib(self.address_space)} left")
        return ", ".join(parts) or "no limit known"


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if text == "max":
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    return None if value >= UNLIMITED else value


def _meminfo(key: str) -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def available_ram() -> int | None:
    """RAM available for new allocations without swapping (``MemAvailable``), when known."""
    value = _meminfo("MemAvailable")
    if value is not None:
        return value
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def _inactive_file(stat: Path) -> int:
    try:
        for line in stat.read_text(encoding="ascii").splitlines():
            key, _, value = line.partition(" ")
            if key in ("inactive_file", "total_inactive_file"):
                return int(value)
    except (OSError, ValueError):
        return 0
    return 0


def cgroup_room(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Bytes left under this process's cgroup memory limit (v2 or v1), when there is one."""
    rel = ""
    try:
        for line in Path("/proc/self/cgroup").read_text(encoding="ascii").splitlines():
            if line.startswith("0::"):
                rel = line[3:].strip().lstrip("/")
    except OSError:
        rel = ""
    for folder in dict.fromkeys([root / rel, root]):  # v2: the process's own cgroup, else the mount
        limit = _read_int(folder / "memory.max")
        if limit is not None:
            used = (_read_int(folder / "memory.current") or 0) - _inactive_file(folder / "memory.stat")
            return max(limit - max(used, 0), 0)
    v1 = root / "memory"
    limit = _read_int(v1 / "memory.limit_in_bytes")
    if limit is None:
        return None
    used = (_read_int(v1 / "memory.usage_in_bytes") or 0) - _inactive_file(v1 / "memory.stat")
    return max(limit - max(used, 0), 0)


def address_space_room() -> int | None:
    """Bytes left under ``RLIMIT_AS`` (the soft limit minus the process's size), when limited."""
    if sys.platform == "win32":  # pragma: no cover - no such limit on Windows
        return None
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft >= UNLIMITED:
        return None
    try:
        pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[0])
        size = pages * int(os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, IndexError):
        size = 0
    return max(int(soft) - size, 0)


def resident_bytes() -> int | None:
    """Memory the process holds now (resident set), when known."""
    try:
        pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
        return pages * int(os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def available_memory() -> Memory:
    """Memory this process may still use: RAM, cgroup and address-space room."""
    return Memory(ram=available_ram(), cgroup=cgroup_room(), address_space=address_space_room())


def check_budget(estimate: Estimate, *, memory: Memory | None = None) -> None:
    """Stop a run that would not fit; warn about one that is large, slow or writes a lot.

    Parameters
    ----------
    estimate
        The run's needs, estimated before the work.
    memory
        What the process may use (default: :func:`available_memory` now).

    Raises
    ------
    TooLargeError
        The estimated peak exceeds the memory available.

    Warns
    -----
    TelecovWarning
        The peak is over half the memory available, the outputs over 1 GB, or the run likely
        over 10 minutes.

    """
    memory = memory if memory is not None else available_memory()
    share, room = memory.share(estimate)
    log.debug(
        "resource estimate: peak_bytes=%d output_bytes=%d seconds=%.2f resident_bytes=%s available=%s"
        " parts=%s drivers=%s",
        estimate.peak_bytes, estimate.output_bytes, estimate.seconds, resident_bytes(), room,
        ",".join(f"{k}:{v}" for k, v in estimate.parts.items()),
        ",".join(f"{k}:{v:.6g}" for k, v in estimate.drivers.items()),
    )  # fmt: skip
    name = estimate.largest()
    advice = f"; {ADVICE[name]}" if name in ADVICE else ""
    if room is not None and share > 1:
        raise TooLargeError(
            f"this run would need {estimate.describe()}, more than the {gib(room)} this process may use "
            f"({memory.describe()}){advice}"
        )
    reasons = []
    if room is not None and share > WARN_SHARE:
        reasons.append(f"over half the {gib(room)} of memory available")
    if estimate.output_bytes > WARN_OUTPUT_BYTES:
        big = max(estimate.outputs, key=lambda k: estimate.outputs[k]) if estimate.outputs else None
        largest = f" ({big} {gib(estimate.outputs[big])})" if big else ""
        reasons.append(f"outputs over {gib(WARN_OUTPUT_BYTES)}{largest}")
    if estimate.seconds > WARN_SECONDS:
        reasons.append(f"likely over {WARN_SECONDS / 60:.0f} minutes")
    if reasons:
        warnings.warn(
            f"a large run: {estimate.describe()} ({'; '.join(reasons)}){advice}", TelecovWarning, stacklevel=3
        )
