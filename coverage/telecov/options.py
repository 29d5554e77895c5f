"""The keyword options of :func:`telecov.analyze`, documented and typed in one place.

:class:`AnalyzeOptions` lists every option with its type; :data:`DEFAULTS` gives the value of
an option that is not passed. A command-line flag is the option's name with dashes
(``resolution_m`` → ``--resolution``, see ``telecov.cli.options``).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypedDict

from .errors import InputError
from .vocabulary import DEFAULT_RESIDENTIAL_DENSITY, DEFAULT_RESOLUTION_M, Vocabulary, VocabularySpec

__all__ = ["DEFAULTS", "AnalyzeOptions", "radius_uncertainty", "with_defaults"]


class AnalyzeOptions(TypedDict, total=False):
    """Keyword options of :func:`telecov.analyze`; every one may be left out.

    Attributes
    ----------
    area_id, area_name, parent
        Area fields (id and name detected when None); ``parent`` adds parent rows.
    select
        ``"FIELD=VALUE"`` (or ``{FIELD: VALUE}``) keeping a subset of areas.
    radius
        Default radius (m) per technology for sites without ``radius_m``.
    include_planned, by_operator, combined
        Count planned sites too; add rows per operator; add the combined layers
        ``any_mobile`` and ``4G+``.
    residential_density
        People per km² from which a pixel is residential.
    population_field
        Areas field with official population counts: counts rescaled per area.
    population_band
        The raster band holding the people (1-based); None: its only data band (alpha bands
        are validity masks, not data).
    population_unit
        ``count`` (people per pixel, the default) or ``density`` (people per km², multiplied
        by each pixel's true area).
    sites_crs, areas_crs
        CRS for inputs that lack one (and for ``x``/``y`` site columns).
    resolution_m
        Scan-line spacing in metres (accuracy contract met at the default).
    strict
        Raise :class:`~telecov.errors.StrictError` when any row is refused.
    encoding, decimal
        Text encoding and decimal separator of CSV sites.
    sites_layer, areas_layer
        Layer (sites: or workbook sheet) to read when a file holds several of points / polygons.
    vocabulary
        Spellings added to the built-in ones: ``{"technology": {"4G": ["eLTE"]}, "status": ...}``.
    propagation
        Radius of radio rows (rows with ``frequency_mhz`` or ``band``; docs/radio.md): ``auto``
        (a site's own ``radius_m``, else the link-budget radius of the model its frequency
        calls for), ``fixed`` (the radius table), or ``hata``, ``cost231``, ``38901`` (that
        model for every radio row). ``radius`` overrides the model of its technologies.
    rx_threshold
        Receiver threshold per technology (total channel power, dBm), e.g. ``{"4G": -85}``,
        for radio rows without ``rx_threshold_dbm``.
    rx_height_m
        Receiver height above ground (m).
    environment
        ``auto`` (by the population density around each site: ``urban`` from 1,500 people
        per km², ``suburban`` from 300, else ``rural``), or the class of every radio row that
        does not give its own.
    dem, dem_unit, terrain
        A DEM GeoTIFF in any CRS (footprints lose what terrain shadows), its elevation unit
        (``m`` or ``ft``), and ``auto`` (``diffraction`` for model radii, ``los`` for the
        others), ``los`` or ``diffraction``.
    radius_uncertainty
        Percentage PCT (0 ≤ PCT < 100) by which every footprint's reach is shrunk and grown:
        the table gains ``covered_population_low``/``_high`` and ``population_pct_low``/``_high``
        (discs and wedges by radius, lobes by their reach at every bearing, terrain footprints
        re-derived with the scaled reach over the same ground). None: off.

    """

    area_id: str | None
    area_name: str | None
    parent: str | None
    select: str | Mapping[str, str] | None
    radius: Mapping[str, float] | None
    include_planned: bool
    residential_density: float
    population_field: str | None
    population_band: int | None
    population_unit: str | None
    sites_crs: str | None
    areas_crs: str | None
    by_operator: bool
    combined: bool
    resolution_m: float
    strict: bool
    encoding: str | None
    decimal: str
    sites_layer: str | None
    areas_layer: str | None
    vocabulary: VocabularySpec | Vocabulary | None
    propagation: str
    rx_threshold: Mapping[str, float] | None
    rx_height_m: float
    environment: str
    dem: str | Path | None
    dem_unit: str
    terrain: str
    radius_uncertainty: float | None


DEFAULTS: dict[str, Any] = {
    "area_id": None, "area_name": None, "parent": None, "select": None, "radius": None,
    "include_planned": False, "residential_density": DEFAULT_RESIDENTIAL_DENSITY,
    "population_field": None, "population_band": None, "population_unit": None, "sites_crs": None,
    "areas_crs": None, "by_operator": False,
    "combined": False, "resolution_m": DEFAULT_RESOLUTION_M, "strict": False, "encoding": None,
    "decimal": ".", "sites_layer": None, "areas_layer": None, "vocabulary": None,
    "propagation": "auto", "rx_threshold": None, "rx_height_m": 1.5, "environment": "auto", "dem": None,
    "dem_unit": "m", "terrain": "auto", "radius_uncertainty": None,
}  # fmt: skip
"""The value of each option of :class:`AnalyzeOptions` that is not passed."""
RADIO_OPTIONS: tuple[str, ...] = (
    "propagation", "rx_threshold", "rx_height_m", "environment", "dem", "dem_unit", "terrain",
)  # fmt: skip
"""The options :func:`telecov.radio.reach.radio_options` checks (radio radii and terrain)."""


def with_defaults(options: Mapping[str, Any], *, function: str = "analyze") -> dict[str, Any]:
    """Return every option, the missing ones at their default.

    Raises
    ------
    TypeError
        For a name that is not an option, as Python does for an unknown keyword argument.

    """
    for name in options:
        if name not in DEFAULTS:
            close = difflib.get_close_matches(name, DEFAULTS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TypeError(f"{function}() got an unexpected keyword argument {name!r}{hint}")
    return {**DEFAULTS, **options}


def radius_uncertainty(value: object) -> float | None:
    """Return the checked ``radius_uncertainty`` percentage (None: off).

    Raises
    ------
    InputError
        Not a number from 0 to under 100.

    """
    if value is None:
        return None
    try:
        pct = float(value) if not isinstance(value, bool) else math.nan  # type: ignore[arg-type]
    except (TypeError, ValueError):
        pct = math.nan
    if not math.isfinite(pct) or not 0.0 <= pct < 100.0:
        raise InputError(
            f"`radius_uncertainty` {value!r}: give a percentage from 0 to under 100 by which every "
            "footprint's reach is shrunk and grown, e.g. 10"
        )
    return pct
