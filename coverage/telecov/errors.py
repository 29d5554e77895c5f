"""Exceptions raised by telecov; each inherits a builtin so callers can catch broadly."""

from __future__ import annotations

from typing import Any


class InputError(ValueError):
    """A file-level problem with an input: missing, unreadable, no CRS, nothing usable.

    Parameters
    ----------
    message
        What is wrong, naming the file (and field, row) where known.

    """


class TooLargeError(MemoryError):
    """The input would need more memory than this machine has (estimated before allocating)."""


class StrictError(InputError):
    """Rows were refused while ``strict`` was requested; ``rejected`` holds them per input kind."""

    def __init__(self, message: str, rejected: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.rejected = rejected or {}
