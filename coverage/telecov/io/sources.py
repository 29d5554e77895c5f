"""Where an input is: a local path or a URL that GDAL opens itself."""

from __future__ import annotations

import re
from pathlib import Path

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(source: object) -> bool:
    """Return whether ``source`` is a URL or GDAL virtual path (``https://…``, ``s3://…``, ``/vsicurl/…``).

    A :class:`~pathlib.Path` is always local: ``Path("https://h/x")`` has already lost a slash.
    """
    if not isinstance(source, str):
        return False
    return bool(_SCHEME.match(source)) or source.startswith("/vsi")


def local_path(source: str | Path | None) -> Path | None:
    """Return ``source`` as a local path, or None for a URL (or no source)."""
    if source is None or is_url(source):
        return None
    return Path(source)
