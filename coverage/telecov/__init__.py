"""telecov: exact, fast telecom coverage analysis per commune.

Geodesic footprints of BTS, 5G and fiber sites measured against area boundaries and a
population raster: covered area, population and residential area per area and technology.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

logging.getLogger(__name__).addHandler(logging.NullHandler())


def _unshadow_coverage() -> None:
    """Keep the source folder ``coverage/`` from passing for coverage.py.

    From the root of a source checkout without coverage.py installed, ``import coverage``
    finds the source folder (a namespace package), and numba's optional coverage support
    then fails on it; make that import fail as it does anywhere else.
    """
    if "coverage" in sys.modules:
        return
    spec = importlib.util.find_spec("coverage")
    locations = spec.submodule_search_locations if spec is not None and spec.origin is None else None
    if locations and Path(__file__).resolve().parents[1] in {Path(p).resolve() for p in locations}:
        sys.modules["coverage"] = None  # type: ignore[assignment]


_unshadow_coverage()

_LAZY = {
    "analyze": "analysis",
    "Result": "result",
    "sample_path": "analysis",
    "gaps": "gaps",
    "gap_polygons": "gaps",
    "poi_coverage": "pois",
    "read_plan": "targets",
    "check_targets": "targets",
    "plan_sites": "plan",
    "SitePlan": "plan",
    "compare": "compare",
    "import_cells": "opencellid",
    "crosswalk": "crosswalk",
    "reaggregate": "crosswalk",
    "export_result": "exports",
    "coverage_map": "maps.html",
    "save_map": "maps.html",
    "coverage_png": "maps.png",
    "InputError": "errors",
    "StrictError": "errors",
    "TooLargeError": "errors",
    "TelecovError": "errors",
    "TelecovWarning": "errors",
}

if TYPE_CHECKING:
    __version__: str
    from .analysis import analyze, sample_path
    from .compare import compare
    from .crosswalk import crosswalk, reaggregate
    from .errors import InputError, StrictError, TelecovError, TelecovWarning, TooLargeError
    from .exports import export_result
    from .gaps import gap_polygons, gaps
    from .maps.html import coverage_map, save_map
    from .maps.png import coverage_png
    from .opencellid import import_cells
    from .plan import SitePlan, plan_sites
    from .pois import poi_coverage
    from .result import Result
    from .targets import check_targets, read_plan

__all__ = [
    "InputError",
    "Result",
    "SitePlan",
    "StrictError",
    "TelecovError",
    "TelecovWarning",
    "TooLargeError",
    "__version__",
    "analyze",
    "check_targets",
    "compare",
    "coverage_map",
    "coverage_png",
    "crosswalk",
    "export_result",
    "gap_polygons",
    "gaps",
    "import_cells",
    "plan_sites",
    "poi_coverage",
    "read_plan",
    "reaggregate",
    "sample_path",
    "save_map",
]


def _package_version() -> str:
    """Return the installed distribution's version (importlib.metadata is read on demand)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("telecom-coverage")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def __getattr__(name: str) -> Any:
    """Import the heavy parts (geopandas, numba) only when they are first used."""
    if name == "__version__":
        value = _package_version()
        globals()["__version__"] = value
        return value
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _verb(name: str) -> property:
    """``telecov.<name>``: the function of the same-named module, whatever was imported before."""

    def get(_package: ModuleType) -> Any:
        return getattr(importlib.import_module(f".{name}", __name__), name)

    def keep(_package: ModuleType, _module: Any) -> None:
        """Ignore the submodule that importing it sets on its package: the function stays."""

    return property(get, keep)


class _Package(ModuleType):
    """The package's own module type: ``gaps``, ``crosswalk``, ``compare`` are functions and modules alike."""

    gaps = _verb("gaps")
    crosswalk = _verb("crosswalk")
    compare = _verb("compare")


sys.modules[__name__].__class__ = _Package
