"""Steps of moving staged files into a folder: undo journal, folder sync, old-layout clean-up."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries to disk (where the system allows it)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass
class Journal:
    """Undo steps of a swap in progress, run in reverse when a step fails."""

    staging: Path
    steps: list[tuple[str, Path, Path | bytes]] = field(default_factory=list)

    def moved(self, now: Path, back_to: Path) -> None:
        """Record that a file now at ``now`` goes back to ``back_to`` on undo."""
        self.steps.append(("move", now, back_to))

    def replaced(self, path: Path, raw: bytes) -> None:
        """Record that ``path`` gets the bytes ``raw`` back on undo."""
        self.steps.append(("bytes", path, raw))

    def undo(self) -> None:
        """Run the recorded steps backwards (each as far as it goes)."""
        for kind, path, what in reversed(self.steps):
            with contextlib.suppress(OSError):
                if kind == "move" and isinstance(what, Path):
                    os.replace(path, what)
                elif isinstance(what, bytes):
                    tmp = self.staging / f".undo-{uuid.uuid4().hex[:8]}"
                    tmp.write_bytes(what)
                    os.replace(tmp, path)


def remove_file(path: Path) -> None:
    """Remove a file or link (never a folder); gone already is fine."""
    if path.is_symlink() or path.is_file():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def forget_links(folder: Path, command: str) -> None:
    """Remove what older versions left: links into ``.telecov/<command>/`` and that folder."""
    legacy = folder / ".telecov" / command
    if not legacy.is_dir():
        return
    prefix = os.path.join(".telecov", command, "")
    for path in folder.iterdir():
        if path.is_symlink() and os.readlink(path).startswith(prefix):
            path.unlink()
    shutil.rmtree(legacy, ignore_errors=True)
    with contextlib.suppress(OSError):
        (folder / ".telecov").rmdir()
