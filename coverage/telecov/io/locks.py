"""A portable lock file that serialises the runs writing into one output folder.

The lock is a plain file, ``<folder>/.telecov.lock``, created with ``O_CREAT | O_EXCL`` (which
works on local disks, FAT/exFAT drives and network shares alike) and holding who took it: process
id, host, command and since when. A second run finds it and either stops, naming the holder, or
waits for it to go. A lock whose process is gone (same host, the pid no longer running, or
running a process started after the lock was taken) is stale: it is broken with a warning.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import InputError, TelecovWarning

LOCK_NAME = ".telecov.lock"
"""File name of the lock inside the output folder."""
EMPTY_LOCK_GRACE_S = 30.0
"""An empty or unreadable lock older than this is a crashed run's, not one being written."""
POLL_S = 0.2
"""Seconds between two looks at a held lock while waiting."""


@dataclass(frozen=True)
class LockHolder:
    """Who holds a lock: what the lock file says."""

    pid: int
    host: str
    command: str
    since: str
    """UTC time the lock was taken, ISO 8601."""
    token: str
    """Unique to one taking of the lock."""
    start: int | None = None
    """Start time of the process (clock ticks since boot; Linux only), to see through reused pids."""

    def describe(self) -> str:
        """``pid 123 on host (telecov report, since 2025-07-01T10:00:00Z)``."""
        return f"pid {self.pid} on {self.host} (telecov {self.command}, since {self.since})"


def _process_start(pid: int) -> int | None:
    """Start time of process ``pid`` in clock ticks since boot (Linux), None when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    try:
        return None if fields[0] == "Z" else int(fields[19])
    except (IndexError, ValueError):
        return None


def _windows_pid_alive(pid: int) -> bool:  # pragma: no cover - Windows only
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return bool(kernel32.GetLastError() == 5)  # access denied: it exists
    code = ctypes.c_ulong()
    try:
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
    finally:
        kernel32.CloseHandle(handle)
    return code.value == 259  # STILL_ACTIVE


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (a zombie counts as gone)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # pragma: no cover - Windows only
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    if Path("/proc").is_dir() and Path(f"/proc/{pid}").exists():
        return _process_start(pid) is not None  # None: a zombie
    return True


def is_stale(holder: LockHolder) -> bool:
    """Whether the lock's process is gone: same host, and not running (or its pid was reused)."""
    if holder.host != socket.gethostname():
        return False  # another machine's process: cannot tell, so it is held
    if holder.pid == os.getpid():
        return False
    if not pid_alive(holder.pid):
        return True
    now = _process_start(holder.pid)
    return holder.start is not None and now is not None and now != holder.start


def read_holder(path: Path) -> LockHolder | None:
    """Return the holder a lock file names; None when the file is empty or not a lock's."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        start = doc.get("start")
        return LockHolder(
            pid=int(doc["pid"]), host=str(doc["host"]), command=str(doc["command"]),
            since=str(doc["since"]), token=str(doc["token"]),
            start=int(start) if start is not None else None,
        )  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


@dataclass
class Lock:
    """A lock taken on an output folder; :meth:`release` removes it."""

    path: Path
    holder: LockHolder

    def release(self) -> None:
        """Remove the lock file if it is still this lock."""
        current = read_holder(self.path)
        if current is not None and current.token == self.holder.token:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


def _try_create(path: Path, holder: LockHolder) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(asdict(holder), ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return True


def _break(path: Path, holder: LockHolder | None) -> None:
    """Remove a stale lock, unless another run replaced it meanwhile."""
    aside = path.with_name(f"{LOCK_NAME}.stale-{uuid.uuid4().hex[:8]}")
    try:
        path.rename(aside)
    except FileNotFoundError:
        return  # someone else broke it first
    moved = read_holder(aside)
    same = (moved.token if moved else None) == (holder.token if holder else None)
    if not same and not path.exists():
        aside.rename(path)  # a fresh lock of another run, taken meanwhile: put it back
        return
    aside.unlink(missing_ok=True)
    who = holder.describe() if holder is not None else "an unreadable lock"
    warnings.warn(
        f"{path}: broke a stale lock of {who}: that run is no longer running", TelecovWarning, stacklevel=4
    )


def _empty_and_old(path: Path) -> bool:
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return False
    return age > EMPTY_LOCK_GRACE_S


def _held_message(folder: Path, path: Path, holder: LockHolder | None, waited: float) -> str:
    who = holder.describe() if holder is not None else "a run that is starting"
    after = f" after waiting {waited:g} s" if waited > 0 else ""
    return (
        f"{folder}: another telecov run is writing into this folder{after}: {who}; wait for it to finish, "
        f"pass `wait` SECONDS, or delete {path} if that run is no longer running"
    )


def acquire(
    folder: str | Path,
    *,
    command: str,
    wait: float = 0.0,
    on_wait: Callable[[LockHolder | None], None] | None = None,
) -> Lock:
    """Take the lock of ``folder`` (created when missing) for ``command``.

    Parameters
    ----------
    folder
        The output folder.
    command
        The command taking the lock (named to a second run).
    wait
        Seconds to wait for a held lock before giving up (0: give up at once).
    on_wait
        Called once, with the holder, when the run starts waiting.

    Raises
    ------
    InputError
        The lock is held by a running process (after ``wait`` seconds).

    Warns
    -----
    TelecovWarning
        A stale lock was broken.

    """
    if wait != wait or wait < 0:
        raise InputError(f"`wait` {wait}: must be a number of seconds, at least 0")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK_NAME
    mine = LockHolder(
        pid=os.getpid(), host=socket.gethostname(), command=command,
        since=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), token=uuid.uuid4().hex,
        start=_process_start(os.getpid()),
    )  # fmt: skip
    t0 = time.monotonic()
    announced = False
    while not _try_create(path, mine):
        holder = read_holder(path)
        if (holder is not None and is_stale(holder)) or (holder is None and _empty_and_old(path)):
            _break(path, holder)
            continue
        waited = time.monotonic() - t0
        if waited >= wait:
            raise InputError(_held_message(out, path, holder, wait))
        if not announced and on_wait is not None:
            on_wait(holder)
        announced = True
        time.sleep(min(POLL_S, max(wait - waited, 0.01)))
    return Lock(path=path, holder=mine)


@contextlib.contextmanager
def locked(
    folder: str | Path,
    *,
    command: str,
    wait: float = 0.0,
    on_wait: Callable[[LockHolder | None], None] | None = None,
) -> Iterator[Lock]:
    """Hold the lock of ``folder`` for the duration of a ``with`` block (see :func:`acquire`)."""
    lock = acquire(folder, command=command, wait=wait, on_wait=on_wait)
    try:
        yield lock
    finally:
        lock.release()
