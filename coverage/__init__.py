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
    "gaps": "uncovered",
    "gap_polygons": "uncovered",
    "poi_coverage": "pois",
    "read_plan": "targets",
    "check_targets": "targets",
    "import_cells": "opencellid",
    "crosswalk": "boundaries",
    "reaggregate": "boundaries",
    "export_result": "exports",
    "coverage_map": "maps",
    "save_map": "maps",
    "coverage_png": "maps",
    "InputError": "errors",
    "StrictError": "errors",
    "TooLargeError": "errors",
}

if TYPE_CHECKING:
    from .analysis import Result, analyze, sample_path
    from .boundaries import crosswalk, reaggregate
    from .errors import InputError, StrictError, TooLargeError
    from .exports import export_result
    from .maps import coverage_map, coverage_png, save_map
    from .opencellid import import_cells
    from .pois import poi_coverage
    from .targets import check_targets, read_plan
    from .uncovered import gap_polygons, gaps

__all__ = [
    "InputError",
    "Result",
    "StrictError",
    "TooLargeError",
    "__version__",
    "analyze",
    "check_targets",
    "coverage_map",
    "coverage_png",
    "crosswalk",
    "export_result",
    "gap_polygons",
    "gaps",
    "import_cells",
    "poi_coverage",
    "read_plan",
    "reaggregate",
    "sample_path",
    "save_map",
]


def __getattr__(name: str) -> Any:
    """Import the heavy parts (geopandas, numba) only when they are first used."""
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
