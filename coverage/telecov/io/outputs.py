"""Output sets: files written atomically, one at a time or as a whole set of a command."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

log = logging.getLogger(__name__)

Writer = Callable[[Path], None]
"""Fills the file at the path it is given."""


def write_text_file(path: Path, text: str) -> None:
    """Write UTF-8 text, flushed to disk."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def write_file_atomic(path: str | Path, writer: Writer) -> Path:
    """Write one file atomically: ``writer`` fills a temporary sibling that replaces ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        writer(Path(tmp))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
    return target


@contextlib.contextmanager
def output_set(out_dir: str | Path, *, name: str) -> Iterator[Path]:
    """Build a set of output files and swap it into ``out_dir`` in one atomic step.

    Files are written into a fresh generation folder ``out_dir/.telecov/<name>/<id>``; on
    success the link ``out_dir/.telecov/<name>/current`` is replaced atomically and each fixed
    name in ``out_dir`` is a link through it. A run killed before the swap leaves the previous
    complete set (or none); a failed run removes its partial folder.

    Parameters
    ----------
    out_dir
        The ``--out`` folder.
    name
        The command writing the set (sets of different commands live side by side).

    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"`out_dir` {out}: exists and is not a folder")
    base = out / ".telecov" / name
    base.mkdir(parents=True, exist_ok=True)
    gen = base / f"gen-{uuid.uuid4().hex[:12]}"
    gen.mkdir()
    try:
        yield gen
    except BaseException:
        shutil.rmtree(gen, ignore_errors=True)
        raise
    files = sorted(p.name for p in gen.iterdir() if p.is_file())
    _link_names(out, files, name=name, gen=gen)
    current = base / "current"
    tmp_link = base / f".current-{gen.name}"
    os.symlink(gen.name, tmp_link)
    os.replace(tmp_link, current)  # the atomic switch of the whole set
    _remove_previous(out, base, name=name, gen=gen)
    log.info("wrote %s into %s", ", ".join(files), out)


def _link_names(out: Path, files: list[str], *, name: str, gen: Path) -> None:
    """Make each fixed name in ``out`` a link through the set's ``current`` link.

    Made before the switch, a link dangles (a new name) or shows the previous set until
    ``current`` moves, so every file changes at the same instant.
    """
    for fname in files:
        link = out / fname
        rel = os.path.join(".telecov", name, "current", fname)
        if link.is_symlink() and os.readlink(link) == rel:
            continue
        tmp = out / f".{fname}.{gen.name}.lnk"
        os.symlink(rel, tmp)
        os.replace(tmp, link)


def _remove_previous(out: Path, base: Path, *, name: str, gen: Path) -> None:
    """Remove the links to files the previous set had and this one does not, and old sets."""
    prefix = os.path.join(".telecov", name, "current", "")
    for link in out.iterdir():
        if link.is_symlink() and os.readlink(link).startswith(prefix) and not link.exists():
            link.unlink()
    for old in base.iterdir():
        if old.is_dir() and not old.is_symlink() and old.name.startswith("gen-") and old != gen:
            shutil.rmtree(old, ignore_errors=True)
