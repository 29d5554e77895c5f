"""telecov: exact, fast telecom coverage analysis per commune.

Geodesic footprints of BTS, 5G and fiber sites measured against area boundaries and a
population raster: covered area, population and residential area per area and technology.
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("telecom-coverage")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

logging.getLogger(__name__).addHandler(logging.NullHandler())

from .analyze import Result, analyze, sample_path  # noqa: E402
from .errors import InputError, StrictError, TooLargeError  # noqa: E402

__all__ = ["InputError", "Result", "StrictError", "TooLargeError", "__version__", "analyze", "sample_path"]
