"""Manifests: which files of an output folder each command owns, with their size and sha256.

Every command that writes into ``--out`` keeps one manifest there: ``run.json`` for ``report``,
``<command>.json`` for the others (``gaps.json``, ``map.json``, ``plan.json``,
``compare.json``). A manifest is a JSON object with at least ``"command"`` and ``"files"`` (a
list of ``{"name", "size", "sha256"}``); it is written last and removed first, so when present
it describes files that are complete and unchanged. Manifests are found by reading the
folder's ``*.json`` files, so a new command needs no registration beyond its name.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_NAMES: dict[str, str] = {"report": "run.json"}
"""Manifest file of the commands whose manifest is not ``<command>.json``."""
MAX_MANIFEST_BYTES = 16 * 2**20
"""JSON files larger than this are never taken for a manifest (nor read to find out)."""
HASH_CHUNK = 2**20


def manifest_name(command: str) -> str:
    """Return the manifest file of ``command``: ``run.json`` for report, else ``<command>.json``."""
    return MANIFEST_NAMES.get(command, f"{command}.json")


def file_entry(path: Path, *, name: str | None = None) -> dict[str, Any]:
    """``{"name", "size", "sha256"}`` of one file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
    return {"name": name or path.name, "size": path.stat().st_size, "sha256": digest.hexdigest()}


@dataclass(frozen=True)
class Manifest:
    """A command's manifest as found in an output folder."""

    command: str
    path: Path
    files: dict[str, dict[str, Any]]
    """File name → its entry (``name``, ``size``, ``sha256``)."""
    doc: dict[str, Any] = field(repr=False)
    raw: bytes = field(repr=False)
    """The manifest file's bytes, to put it back exactly."""

    def without(self, names: set[str]) -> dict[str, Any]:
        """Return the manifest document with the entries of ``names`` left out."""
        return {**self.doc, "files": [e for e in self.doc["files"] if e.get("name") not in names]}


def _manifest(path: Path) -> Manifest | None:
    try:
        if not path.is_file() or path.stat().st_size > MAX_MANIFEST_BYTES:
            return None
        raw = path.read_bytes()
        doc = json.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(doc, dict):
        return None
    command, files = doc.get("command"), doc.get("files")
    if not isinstance(command, str) or not isinstance(files, list) or manifest_name(command) != path.name:
        return None
    entries = {str(e["name"]): e for e in files if isinstance(e, dict) and isinstance(e.get("name"), str)}
    return Manifest(command=command, path=path, files=entries, doc=doc, raw=raw)


def read_manifests(folder: Path) -> dict[str, Manifest]:
    """Every command's manifest in ``folder``, by command."""
    found: dict[str, Manifest] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.json")):
        manifest = _manifest(path)
        if manifest is not None:
            found[manifest.command] = manifest
    return found


def owners(folder: Path) -> dict[str, str]:
    """File name → the command whose manifest lists it (manifests themselves included)."""
    out: dict[str, str] = {}
    for command, manifest in read_manifests(folder).items():
        out[manifest.path.name] = command
        for name in manifest.files:
            out.setdefault(name, command)
    return out


def verify(folder: Path, command: str) -> list[str]:
    """Problems of ``command``'s manifest in ``folder``: files missing or not matching (none: [])."""
    manifest = read_manifests(folder).get(command)
    if manifest is None:
        return [f"{folder / manifest_name(command)}: no manifest"]
    problems = []
    for name, entry in manifest.files.items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{path}: listed but missing")
            continue
        actual = file_entry(path)
        if actual["size"] != entry.get("size") or actual["sha256"] != entry.get("sha256"):
            problems.append(f"{path}: does not match its manifest entry")
    return problems
