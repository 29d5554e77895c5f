"""telecov: exact, fast telecom coverage analysis per commune.

Geodesic footprints of BTS, 5G and fiber sites measured against area boundaries and a
population raster: covered area, population and residential area per area and technology.
"""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("telecom-coverage")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

logging.getLogger(__name__).addHandler(logging.NullHandler())

_LAZY = {
    "analyze": "analysis",
    "Result": "analysis",
    "sample_path": "analysis",
    "InputError": "errors",
    "StrictError": "errors",
    "TooLargeError": "errors",
}

if TYPE_CHECKING:
    from .analysis import Result, analyze, sample_path
    from .errors import InputError, StrictError, TooLargeError

__all__ = ["InputError", "Result", "StrictError", "TooLargeError", "__version__", "analyze", "sample_path"]


def __getattr__(name: str) -> Any:
    """Import the heavy parts (geopandas, numba) only when they are first used."""
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
