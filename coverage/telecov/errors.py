"""Exceptions and warnings raised by telecov.

Every exception derives from :class:`TelecovError` and from the builtin it stands for, so
callers can catch ``TelecovError``, or ``ValueError``/``MemoryError`` as usual. Data warnings a
user must see (partial raster overlap, repaired geometries, duplicate sites, ...) are issued
with :func:`warnings.warn` as :class:`TelecovWarning`, as geopandas and rasterio do; progress and
diagnostics go to :mod:`logging`.
"""

from __future__ import annotations

from typing import Any


class TelecovError(Exception):
    """Base class of every error telecov raises on purpose."""


class InputError(TelecovError, ValueError):
    """A file-level problem with an input: missing, unreadable, no CRS, nothing usable.

    Parameters
    ----------
    message
        What is wrong, naming the file (and field, row) where known.

    """


class TooLargeError(TelecovError, MemoryError):
    """The input would need more memory than this machine has (estimated before allocating)."""


class StrictError(InputError):
    """Rows were refused while ``strict`` was requested; ``rejected`` holds them per input kind."""

    def __init__(self, message: str, rejected: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.rejected = rejected or {}


class TelecovWarning(UserWarning):
    """Something in the data a user should know about; the run goes on."""
