"""Output files: one file written atomically, or the set of files a command owns in ``--out``.

Every output is a plain file with its contract name (no links: Windows, FAT/exFAT drives and
network shares have none). A set of plain files cannot be swapped in one step, so a command's
set is written like this (:func:`output_set`), holding the folder's lock (:mod:`.locks`)
throughout:

1. the new files are staged in a hidden folder inside ``--out`` (same file system);
2. the command's manifest (:mod:`.manifests`: ``run.json``, ``gaps.json``, ...) is removed;
3. each file is moved into place with an atomic replace;
4. the files of the command's previous set that the new one lacks are removed;
5. the manifest, listing each file's name, size and sha256, is written last.

A run killed at any moment leaves either the previous complete set with its manifest, or a
folder without that manifest, whose files are each complete (one run's or another's) — never a
manifest that describes files it does not match, never a truncated file. A file that cannot be
replaced (read-only, a folder, open in another program) stops the run with every previous file
and manifest as they were. No output ever replaces an input of the run, even with ``force``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from .locks import LockHolder, locked
from .manifests import Manifest, file_entry, manifest_name, read_manifests
from .swap import Journal, forget_links, fsync_dir, remove_file

log = logging.getLogger(__name__)

Writer = Callable[[Path], None]
"""Fills the file at the path it is given."""
InputPath = str | os.PathLike[str] | None
"""An input of the run as given (None and in-memory objects are skipped)."""

STAGING_PREFIX = ".telecov-staging-"
"""Hidden folders inside ``--out`` where a run stages its files."""


def umask_mode() -> int:
    """Permissions of a new file under the process umask (0o644 with the usual umask 022)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_text_file(path: Path, text: str) -> None:
    """Write UTF-8 text, flushed to disk."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def write_file_atomic(path: str | Path, writer: Writer) -> Path:
    """Write one file atomically: ``writer`` fills a temporary sibling that replaces ``path``.

    The file gets the permissions of the umask, like any file a program creates.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        writer(Path(tmp))
        Path(tmp).chmod(umask_mode())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
    return target


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two paths name one file (same resolved path, or the same file on disk)."""
    if os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b)):
        return True
    try:
        return Path(a).samefile(b)
    except OSError:
        return False


def check_not_inputs(targets: Iterable[Path], inputs: Iterable[object], *, option: str) -> None:
    """Refuse outputs that would replace an input of the run (``force`` or not).

    Raises
    ------
    InputError
        Naming the output, the input it would replace and ``option`` (e.g. `` `out_dir` ``).

    """
    given = [Path(i) for i in inputs if isinstance(i, str | os.PathLike)]
    for target in targets:
        for source in given:
            if same_file(target, source):
                raise InputError(
                    f"{target}: this output would overwrite the input file {source}; an input is never "
                    f"replaced, even with `force`: choose another {option} or move the input"
                )


def _check_replaceable(paths: Iterable[Path]) -> None:
    for path in paths:
        if path.is_symlink() or not path.exists():
            continue
        if path.is_dir():
            raise InputError(f"{path}: is a folder, so no file can take its name; move it away")
        if not path.stat().st_mode & stat.S_IWUSR:
            raise InputError(
                f"{path}: is read-only, so it cannot be replaced; make it writable or choose another "
                "folder (nothing was changed)"
            )


def check_output_file(
    path: str | Path, *, force: bool, inputs: Iterable[object] = (), option: str = "`output`"
) -> Path:
    """Check a single output file before any work: not a folder, not an input, new unless ``force``.

    Raises
    ------
    InputError
        Naming the file and ``option``.

    """
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{option} {target}: is a folder; give a file name")
    check_not_inputs([target], inputs, option=option)
    if (target.exists() or target.is_symlink()) and not force:
        raise InputError(f"{option} {target}: already exists; pass `force` to replace it")
    _check_replaceable([target])
    return target


def write_output_file(
    path: str | Path,
    writer: Writer,
    *,
    force: bool,
    inputs: Iterable[object] = (),
    option: str = "`output`",
) -> Path:
    """Write the one output file of a command (``crosswalk``, ``init``, ``import-cells``).

    The rule of every single-file output: an existing file is refused unless ``force``; an
    input of the run is never replaced; the file is written atomically with the umask's
    permissions.

    Parameters
    ----------
    path
        The output file.
    writer
        Fills the (temporary) file at the path it is given.
    force
        Replace an existing file.
    inputs
        The run's input paths (anything else is skipped).
    option
        How the file was given, for messages (`` `output` `` becomes ``--output`` in the CLI).

    Raises
    ------
    InputError
        The file exists (without ``force``), is an input, a folder, read-only, or cannot be written.

    """
    target = check_output_file(path, force=force, inputs=inputs, option=option)
    try:
        return write_file_atomic(target, writer)
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror or exc}") from exc


def _check_name(name: str) -> str:
    if not name or name != Path(name).name or name.startswith(".") or "/" in name or "\\" in name:
        raise ValueError(f"output names are plain file names, not {name!r}")
    return name


def failed_name(command: str, name: str) -> str:
    """Where a failed run of ``command`` leaves the report ``name`` (outside every set)."""
    return f"{command}_failed_{name}"


def _taken(manifests: Mapping[str, Manifest], command: str, names: Iterable[str]) -> dict[str, set[str]]:
    """Per other command, the wanted names its manifest lists (or that are its manifest)."""
    wanted = {*names, manifest_name(command)}
    out: dict[str, set[str]] = {}
    for other, manifest in manifests.items():
        hit = wanted & {*manifest.files, manifest.path.name}
        if other != command and hit:
            out[other] = hit
    return out


def _check_owners(folder: Path, command: str, names: Iterable[str], *, force: bool) -> dict[str, set[str]]:
    """Refuse names another command's manifest lists, unless ``force``; return them per owner."""
    manifests = read_manifests(folder)
    taken = _taken(manifests, command, names)
    for other, hit in sorted(taken.items()):
        manifest = manifests[other]
        if manifest.path.name in hit:
            raise InputError(f"{manifest.path}: the manifest of 'telecov {other}'; choose another `out_dir`")
        if not force:
            name = sorted(hit)[0]
            raise InputError(
                f"{folder / name}: belongs to the output set of 'telecov {other}' (listed in "
                f"{manifest.path}); pass `force` to let 'telecov {command}' replace it, or choose "
                "another `out_dir`"
            )
    return taken


def _json(doc: Mapping[str, Any]) -> str:
    def plain(value: Any) -> Any:
        return value.item() if hasattr(value, "item") else str(value)

    return json.dumps(doc, ensure_ascii=False, allow_nan=False, indent=1, default=plain) + "\n"


@dataclass
class OutputSet:
    """The files a command is writing into ``folder``; :meth:`commit` moves them in.

    Write each file into :meth:`path` (or with :meth:`write_text`); the staging folder lies
    inside ``folder``, so moving a file in is an atomic replace.
    """

    folder: Path
    command: str
    staging: Path
    inputs: tuple[object, ...] = ()
    force: bool = False
    files: list[dict[str, Any]] = field(default_factory=list)
    """What the manifest lists once committed."""
    written: dict[str, tuple[int, int, dict[str, Any]]] = field(default_factory=dict)
    """Name → (size, mtime in ns, manifest entry) of each file :meth:`write_text` wrote."""

    @property
    def manifest(self) -> Path:
        """The command's manifest file in the folder."""
        return self.folder / manifest_name(self.command)

    def path(self, name: str) -> Path:
        """Where to write the file ``name`` of the set."""
        return self.staging / _check_name(name)

    def write_text(self, name: str, text: str) -> Path:
        """Write the text file ``name`` of the set."""
        path = self.path(name)
        write_text_file(path, text)
        data = text.encode("utf-8")  # what was written: its digest without reading the file back
        st = path.stat()
        entry = {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        self.written[name] = (st.st_size, st.st_mtime_ns, entry)
        return path

    def _entry(self, name: str) -> dict[str, Any]:
        """Return the manifest entry of a staged file: as written by :meth:`write_text`, else read."""
        path = self.staging / name
        known = self.written.get(name)
        if known is not None:
            st = path.stat()
            if (st.st_size, st.st_mtime_ns) == known[:2]:
                return dict(known[2])
        return file_entry(path)

    def write_failed(self, files: Mapping[str, str]) -> list[Path]:
        """Write a failed run's reports (``name`` → text) beside the set, which stays untouched."""
        return _write_failed(self.folder, self.command, files, inputs=self.inputs)

    def commit(self, doc: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Move the staged files into the folder and write the manifest (``doc`` plus ``files``) last.

        Returns
        -------
        list of dict
            The manifest's entries: ``name``, ``size``, ``sha256`` of each file.

        Raises
        ------
        InputError
            A file is an input, belongs to another command (without ``force``) or cannot be
            replaced; nothing in the folder was changed.

        """
        names = sorted(p.name for p in self.staging.iterdir() if p.is_file() and not p.name.startswith("."))
        if self.manifest.name in names:
            raise ValueError(f"{self.manifest.name} is the manifest; pass its content as `doc`")
        paths = [self.folder / n for n in [*names, self.manifest.name]]
        check_not_inputs(paths, self.inputs, option="`out_dir`")
        manifests = read_manifests(self.folder)
        taken = _check_owners(self.folder, self.command, names, force=self.force)
        _check_replaceable(paths)
        entries = [self._entry(n) for n in names]
        staged_manifest = self.staging / ".manifest"
        write_text_file(staged_manifest, _json({**(doc or {}), "command": self.command, "files": entries}))
        own = manifests.get(self.command)
        self._swap(names, own=own, taken=[(manifests[o], hit) for o, hit in sorted(taken.items())])
        for name in sorted(set(own.files) - set(names)) if own is not None else []:
            remove_file(self.folder / name)
        for failed in self.folder.glob(failed_name(self.command, "*")):
            remove_file(failed)
        forget_links(self.folder, self.command)
        os.replace(staged_manifest, self.manifest)
        fsync_dir(self.folder)
        self.files = entries
        log.info("wrote %s into %s", ", ".join([*names, self.manifest.name]), self.folder)
        return entries

    def _swap(
        self, names: list[str], *, own: Manifest | None, taken: list[tuple[Manifest, set[str]]]
    ) -> None:
        """Take files from other manifests, remove ours, move the files in (undone on failure)."""
        journal = Journal(self.staging)
        previous = self.staging / ".previous"
        previous.mkdir(exist_ok=True)
        current = self.manifest
        try:
            for other, hit in taken:
                current = other.path
                tmp = self.staging / f".{other.path.name}"
                write_text_file(tmp, _json(other.without(hit)))
                journal.replaced(other.path, other.raw)
                os.replace(tmp, other.path)
            if own is not None:
                current = own.path
                journal.replaced(own.path, own.raw)
                own.path.unlink()
            for name in names:  # per name: the old file aside (kept for an undo), the new one in
                current = self.folder / name
                if current.exists() or current.is_symlink():
                    os.replace(current, previous / name)
                    journal.moved(previous / name, current)
                os.replace(self.staging / name, current)
                journal.moved(current, self.staging / name)
        except OSError as exc:
            journal.undo()
            raise InputError(
                f"{current}: cannot be replaced ({exc.strerror or exc}); is it open in another program or "
                "read-only? The previous files are unchanged"
            ) from exc


def _write_failed(
    folder: Path, command: str, files: Mapping[str, str], *, inputs: Iterable[object]
) -> list[Path]:
    targets = {folder / failed_name(command, _check_name(n)): text for n, text in files.items()}
    check_not_inputs(targets, inputs, option="`out_dir`")
    written = []
    for target, text in targets.items():
        written.append(write_file_atomic(target, functools.partial(_write_into, text=text)))
    return written


def _write_into(path: Path, *, text: str) -> None:
    write_text_file(path, text)


def write_failed(
    out_dir: str | Path,
    *,
    command: str,
    files: Mapping[str, str],
    inputs: Iterable[object] = (),
    wait: float = 0.0,
) -> list[Path]:
    """Write a failed run's reports (e.g. its rejects) into ``out_dir``, holding its lock.

    They are named ``<command>_failed_<name>`` (:func:`failed_name`), so no output set is
    touched; the next successful run of ``command`` removes them.
    """
    with locked(out_dir, command=command, wait=wait):
        return _write_failed(Path(out_dir), command, files, inputs=inputs)


def _remove_stale_staging(folder: Path) -> None:
    for path in folder.glob(STAGING_PREFIX + "*"):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def output_set(
    out_dir: str | Path,
    *,
    command: str,
    names: Iterable[str] = (),
    inputs: Iterable[object] = (),
    force: bool = False,
    wait: float = 0.0,
    on_wait: Callable[[LockHolder | None], None] | None = None,
) -> Iterator[OutputSet]:
    """Hold ``out_dir``'s lock and stage a command's output set; :meth:`OutputSet.commit` writes it.

    Before anything is written (and before the caller's work, when it enters this block
    first), the files the run plans to write (``names``) are checked: none may be an input of
    the run, none may belong to another command's set unless ``force``, none may be
    read-only or a folder.

    Parameters
    ----------
    out_dir
        The ``--out`` folder (created when missing; removed again when a failed run leaves it empty).
    command
        The command writing the set (its manifest is :func:`~.manifests.manifest_name`).
    names
        The files the run plans to write, for the checks made up front.
    inputs
        Input paths of the run, which no output may replace.
    force
        Let this command take files listed in another command's manifest.
    wait
        Seconds to wait for another run's lock (0: exit at once, naming it).
    on_wait
        Called with the lock's holder when the run starts waiting.

    Raises
    ------
    InputError
        ``out_dir`` is a file, a planned file is an input, is another command's, read-only
        or a folder, or another run holds the lock.

    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"`out_dir` {out}: exists and is not a folder")
    planned = sorted({*map(_check_name, names), manifest_name(command)})
    sources = tuple(inputs)
    check_not_inputs([out / n for n in planned], sources, option="`out_dir`")
    created = not out.exists()
    try:
        with locked(out, command=command, wait=wait, on_wait=on_wait):
            _check_owners(out, command, planned, force=force)
            _check_replaceable([out / n for n in planned])
            _remove_stale_staging(out)
            staging = out / f"{STAGING_PREFIX}{command}-{uuid.uuid4().hex[:12]}"
            staging.mkdir()
            try:
                yield OutputSet(folder=out, command=command, staging=staging, inputs=sources, force=force)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    finally:
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()  # only when empty: a failed first run leaves no folder behind
