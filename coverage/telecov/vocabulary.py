"""Defaults and vocabulary shared by every step: technologies, radii, thresholds, and their checks."""

from __future__ import annotations

import math

from .errors import InputError

BASE_TECHNOLOGIES: tuple[str, ...] = ("2G", "3G", "4G", "5G", "fiber")
"""Technologies every report row set contains, in output order."""

COMBINED_LAYERS: dict[str, tuple[str, ...]] = {
    "any_mobile": ("2G", "3G", "4G", "5G"),
    "4G+": ("4G", "5G"),
}
"""Combined layers: the union of the footprints of their member technologies."""

DEFAULT_RADIUS_M: dict[str, float] = {
    "2G": 5000.0,
    "3G": 3000.0,
    "4G": 3000.0,
    "5G": 600.0,
    "fiber": 1000.0,
}
"""Coverage radius (geodesic metres) of a site without ``radius_m`` (documented assumptions)."""

TECHNOLOGY_ALIASES: dict[str, str] = {
    "2g": "2G",
    "gsm": "2G",
    "gprs": "2G",
    "edge": "2G",
    "3g": "3G",
    "umts": "3G",
    "wcdma": "3G",
    "hspa": "3G",
    "hspa+": "3G",
    "hsdpa": "3G",
    "4g": "4G",
    "lte": "4G",
    "lte-a": "4G",
    "4g lte": "4G",
    "5g": "5G",
    "nr": "5G",
    "5g nr": "5G",
    "5gnr": "5G",
    "fiber": "fiber",
    "fibre": "fiber",
    "ftth": "fiber",
    "gpon": "fiber",
    "xgs-pon": "fiber",
    "olt": "fiber",
}
"""Case-insensitive names accepted for each technology."""

DEFAULT_BEAMWIDTH_DEG = 120.0
"""Sector width used when a site has an ``azimuth`` but no ``beamwidth``."""

DEFAULT_RESIDENTIAL_DENSITY = 100.0
"""People per km² from which a population pixel counts as residential area."""

DEFAULT_TARGET_PCT = 99.0
"""Default coverage target in percent (provincial plans use 99 %)."""

DEFAULT_RESOLUTION_M = 10.0
"""Default spacing of the engine's scan lines in metres (see the accuracy contract)."""

MAX_RADIUS_M = 100_000.0
"""Radii above this are refused as absurd."""

METRICS: tuple[str, ...] = ("population", "residential", "area")
"""Metric names used in every command."""

EXISTING_STATUSES = frozenset({"", "existing", "active", "on air", "on-air", "operational", "live"})
PLANNED_STATUSES = frozenset({"planned", "proposed", "under construction", "construction"})


def normalize_technology(name: object) -> str | None:
    """Return the canonical base technology name, or None when the name is unknown.

    Parameters
    ----------
    name
        A technology as written in an input file (e.g. ``"LTE"``, ``"fibre"``).

    """
    if not isinstance(name, str):
        return None
    return TECHNOLOGY_ALIASES.get(" ".join(name.strip().lower().split()))


def normalize_layer(name: str) -> str | None:
    """Return the canonical name of a base technology or combined layer, or None."""
    combined = {k.lower(): k for k in COMBINED_LAYERS}
    key = " ".join(name.strip().lower().split())
    return combined.get(key) or normalize_technology(name)


def check_technology(technology: str, *, where: str = "`technology`") -> str:
    """Canonical name of a base technology or combined layer (``any_mobile``, ``4G+``).

    Raises
    ------
    InputError
        Unknown technology, naming ``where`` it came from.

    """
    name = normalize_layer(technology) if isinstance(technology, str) else None
    if name is None:
        known = ", ".join([*BASE_TECHNOLOGIES, *COMBINED_LAYERS])
        raise InputError(f"{where} {technology!r}: unknown technology (expected one of {known})")
    return name


def check_metric(metric: str, *, where: str = "`metric`") -> str:
    """Return ``metric`` if it is one of ``population``, ``residential``, ``area``.

    Raises
    ------
    InputError
        Unknown metric, naming ``where`` it came from.

    """
    if metric not in METRICS:
        raise InputError(f"{where} {metric!r}: unknown metric (expected one of {', '.join(METRICS)})")
    return metric


def check_pct(value: float, *, where: str = "`target`") -> float:
    """Return ``value`` as a float if it is a percentage between 0 and 100.

    Raises
    ------
    InputError
        Not a number between 0 and 100, naming ``where`` it came from.

    """
    pct = float(value)
    if not math.isfinite(pct) or not 0 <= pct <= 100:
        raise InputError(f"{where} {value:g}: must be between 0 and 100")
    return pct


def needs_combined(*technologies: str) -> bool:
    """Whether any of the (canonical) technologies is a combined layer."""
    return any(t in COMBINED_LAYERS for t in technologies)
