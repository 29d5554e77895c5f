"""Each site's radius: its own, a link-budget radius for radio rows, or the default table.

:func:`site_radii` applies ``--propagation`` to the accepted sites (with the radio columns of
:mod:`telecov.radio.columns`) and says, per row, what was assumed: the radius, its source
(``site``, ``model:<label>`` or ``default``), the environment, frequency, EIRP, threshold and
receiver height used, and ``radius_note = extrapolated`` where the model was used outside its
validity range. :func:`density_around` gives the population density ``environment = auto``
classes sites by.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import InputError, TelecovWarning
from ..geodesy import band_area_per_degree
from ..io.population import PopulationRaster
from ..io.sites import SiteTable
from ..vocabulary import normalize_technology
from .budget import (
    MOBILE_HEIGHT_M,
    PROPAGATIONS,
    TECHNOLOGY_DEFAULTS,
    classify_environment,
    link_budget_radius,
)
from .dem import UNITS as DEM_UNITS
from .models import ENVIRONMENTS
from .shapes import TERRAIN_CHOICES
from .validation import THRESHOLD_RANGE_DBM

Floats = NDArray[np.float64]

ENVIRONMENT_CHOICES: tuple[str, ...] = ("auto", *ENVIRONMENTS)
"""``--environment`` choices: ``auto`` classes each site by the population density around it."""
DENSITY_BOX_M = 1000.0
"""Side of the square around a site whose pixels give its density (the Degree of Urbanisation's
1 km² cell)."""
FOOTPRINT_COLUMNS: tuple[str, ...] = (
    "row", "site_id", "technology", "azimuth", "radius_m", "radius_source", "environment",
    "frequency_mhz", "eirp_dbm", "rx_threshold_dbm", "rx_height_m", "radius_note",
)  # fmt: skip
"""Columns of ``footprints.csv``: what each accepted site row's footprint assumed."""
_M_PER_DEG = 111_320.0


@dataclass(frozen=True)
class RadioOptions:
    """How radii are found: ``--propagation``, ``--rx-threshold``, ``--rx-height``, ``--environment``.

    Attributes
    ----------
    propagation
        ``fixed`` (the radius table), ``auto`` (a site's own radius, else the model by
        frequency for radio rows), or ``hata``/``cost231``/``38901`` for every radio row.
    rx_threshold_dbm
        Receiver threshold (total channel power, dBm) per technology, over the defaults.
    rx_height_m
        Receiver height above ground (m).
    environment
        ``auto`` (by density) or the class of every radio row that does not give its own.
    dem, dem_unit, terrain
        A DEM GeoTIFF (None: flat ground), its elevation unit (``m`` or ``ft``) and the terrain
        mode (``auto``: ``diffraction`` for model radii, ``los`` for the others; ``los``;
        ``diffraction``), see :func:`telecov.radio.shapes.shaped_footprints`.

    """

    propagation: str = "auto"
    rx_threshold_dbm: Mapping[str, float] = field(default_factory=dict)
    rx_height_m: float = MOBILE_HEIGHT_M
    environment: str = "auto"
    dem: str | None = None
    dem_unit: str = "m"
    terrain: str = "auto"

    def terrain_options(self) -> dict[str, Any]:
        """Return the keywords of :func:`telecov.radio.shapes.footprint_shapes`."""
        return {"dem": self.dem, "dem_unit": self.dem_unit, "terrain": self.terrain}

    def to_json(self) -> dict[str, Any]:
        """Return the options as ``run.json`` records them."""
        return {
            "propagation": self.propagation,
            "rx_threshold_dbm": dict(self.rx_threshold_dbm),
            "rx_height_m": self.rx_height_m,
            "environment": self.environment,
            "dem": self.dem,
            "dem_unit": self.dem_unit,
            "terrain": self.terrain,
            "radio_defaults": {
                tech: {
                    "eirp_dbm": d.eirp_dbm,
                    "height_m": d.height_m,
                    "rx_threshold_dbm": d.rx_threshold_dbm,
                    "environment": d.environment,
                }
                for tech, d in TECHNOLOGY_DEFAULTS.items()
            },
        }


def radio_options(
    *,
    propagation: str = "auto",
    rx_threshold: Mapping[str, float] | None = None,
    rx_height_m: float = MOBILE_HEIGHT_M,
    environment: str = "auto",
    dem: str | Path | None = None,
    dem_unit: str = "m",
    terrain: str = "auto",
) -> RadioOptions:
    """Check the radio options of :func:`telecov.analyze` and return them (``InputError`` if bad)."""
    if dem is not None and not Path(dem).is_file():
        raise InputError(f"`dem` {str(dem)!r}: no such file (a GeoTIFF elevation model)")
    if dem_unit not in DEM_UNITS:
        raise InputError(f"`dem_unit` {dem_unit!r}: use m or ft")
    if terrain not in TERRAIN_CHOICES:
        raise InputError(f"`terrain` {terrain!r}: use one of {', '.join(TERRAIN_CHOICES)}")
    if propagation not in PROPAGATIONS:
        raise InputError(f"`propagation` {propagation!r}: use one of {', '.join(PROPAGATIONS)}")
    if environment not in ENVIRONMENT_CHOICES:
        raise InputError(f"`environment` {environment!r}: use one of {', '.join(ENVIRONMENT_CHOICES)}")
    if not (math.isfinite(rx_height_m) and 0.0 < rx_height_m <= 100.0):
        raise InputError(f"`rx_height_m` {rx_height_m!r}: the receiver height must be in (0, 100] m")
    thresholds: dict[str, float] = {}
    lo, hi = THRESHOLD_RANGE_DBM
    for key, value in (rx_threshold or {}).items():
        tech = normalize_technology(key)
        if tech not in TECHNOLOGY_DEFAULTS:
            raise InputError(f"`rx_threshold` {key}={value}: not a radio technology (use 2G, 3G, 4G or 5G)")
        dbm = float(value)
        if not (math.isfinite(dbm) and lo <= dbm <= hi):
            raise InputError(
                f"`rx_threshold` {key}={value}: the threshold must be {lo:g}…{hi:g} dBm (total channel power)"
            )
        thresholds[tech] = dbm
    return RadioOptions(
        propagation,
        thresholds,
        float(rx_height_m),
        environment,
        None if dem is None else str(dem),
        dem_unit,
        terrain,
    )


def density_around(
    raster: PopulationRaster, lon: Floats, lat: Floats, *, box_m: float = DENSITY_BOX_M
) -> Floats:
    """People per km² in the pixels whose centres lie in a ``box_m`` square around each point.

    At least the pixel holding the point counts; points off the raster get NaN. Pixel areas
    are ellipsoidal. The rows the sites span are read at once, or in strips of at most
    :data:`STRIP_PIXELS` pixels, so memory stays bounded.
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    out = np.full(lon.shape, np.nan)
    if lon.size == 0:
        return out
    half_lat = box_m / 2.0 / _M_PER_DEG
    half_lon = half_lat / np.maximum(np.cos(np.radians(lat)), 1e-6)
    row = np.floor((raster.lat0 - lat) / raster.dy).astype(np.int64)
    col = np.floor((lon - raster.lon0) / raster.dx).astype(np.int64)
    r0 = np.minimum(np.ceil((raster.lat0 - lat - half_lat) / raster.dy - 0.5).astype(np.int64), row)
    r1 = np.maximum(np.floor((raster.lat0 - lat + half_lat) / raster.dy - 0.5).astype(np.int64), row)
    c0 = np.minimum(np.ceil((lon - half_lon - raster.lon0) / raster.dx - 0.5).astype(np.int64), col)
    c1 = np.maximum(np.floor((lon + half_lon - raster.lon0) / raster.dx - 0.5).astype(np.int64), col)
    on = (row >= 0) & (row < raster.height) & (col >= 0) & (col < raster.width)
    boxes = (np.maximum(r0, 0), np.minimum(r1 + 1, raster.height), np.maximum(c0, 0),
             np.minimum(c1 + 1, raster.width))  # fmt: skip
    order = np.argsort(row, kind="stable")
    # one read of every row the sites span (halved while larger than STRIP_PIXELS): a raster in
    # strips of rows is decompressed once, not once per group of sites
    _densities(raster, order[on[order]], boxes, out)
    return out


STRIP_PIXELS = 4_000_000
"""Most pixels read at once by :func:`density_around` (32 MB of float64)."""


def _densities(raster: PopulationRaster, idx: NDArray[np.intp], boxes: tuple[Any, ...], out: Floats) -> None:
    """Fill ``out[idx]`` from one read of the rows and columns the boxes span (halved while too many)."""
    if idx.size == 0:
        return
    r0, r1, c0, c1 = (b[idx] for b in boxes)
    top, bottom, left, right = int(r0.min()), int(r1.max()), int(c0.min()), int(c1.max())
    if idx.size > 1 and (bottom - top) * (right - left) > STRIP_PIXELS:
        half = idx.size // 2
        _densities(raster, idx[:half], boxes, out)
        _densities(raster, idx[half:], boxes, out)
        return
    people = np.zeros((bottom - top + 1, right - left + 1))
    people[1:, 1:] = raster.read(top, bottom, left, right).cumsum(0).cumsum(1)
    a, b, c, d = r0 - top, r1 - top, c0 - left, c1 - left
    total = people[b, d] - people[a, d] - people[b, c] + people[a, c]
    out[idx] = total / _box_km2(raster, r0, r1, c0, c1)


def _box_km2(raster: PopulationRaster, r0: Any, r1: Any, c0: Any, c1: Any) -> Any:
    """Exact ellipsoidal area (km²) of the pixel boxes rows ``r0:r1``, columns ``c0:c1``."""
    top = raster.lat0 - np.asarray(r0) * raster.dy
    bottom = raster.lat0 - np.asarray(r1) * raster.dy
    return band_area_per_degree(top, bottom) * (np.asarray(c1) - c0) * raster.dx / 1e6


@dataclass(frozen=True)
class SiteRadii:
    """Per accepted site row: the radius and what it assumed (columns of :data:`FOOTPRINT_COLUMNS`)."""

    table: pd.DataFrame
    extrapolated: int


def site_radii(
    sites: pd.DataFrame,
    *,
    options: RadioOptions,
    radius: Mapping[str, float] | None = None,
    density_per_km2: Floats | None = None,
) -> SiteRadii:
    """Radius of every accepted site row under ``options``, with what each assumed.

    Parameters
    ----------
    sites
        Accepted sites: ``technology``, ``radius_m`` and ``radius_source`` (``site`` for a row's
        own radius) and the radio columns (:data:`telecov.radio.columns.RADIO_COLUMNS`).
    options
        The radio options.
    radius
        ``--radius`` per technology (normalized names): overrides the model for radio rows of
        that technology.
    density_per_km2
        People per km² around each site, for ``environment = auto`` (None: the default class).

    Returns
    -------
    SiteRadii
        ``table`` with :data:`FOOTPRINT_COLUMNS` (``row`` … ``radius_note``) and the count of
        extrapolated radii.

    """
    n = len(sites)
    tech = sites["technology"].to_numpy(dtype=object)
    own = sites["radius_source"].to_numpy(dtype=object) == "site"
    radius_m = sites["radius_m"].to_numpy(dtype=np.float64).copy()
    source = np.where(own, "site", "default").astype(object)
    freq = _column(sites, "frequency_mhz", n)
    radio = np.isfinite(freq) & _isin(tech, TECHNOLOGY_DEFAULTS)
    overridden = _isin(tech, radius or {})
    if options.propagation == "fixed":
        modelled = np.zeros(n, dtype=bool)
    elif options.propagation == "auto":
        modelled = radio & ~own & ~overridden
    else:
        modelled = radio & ~overridden
    budget = _budget(sites, tech, radio, options, density_per_km2)
    note = np.full(n, "", dtype=object)
    if modelled.any():
        solved = link_budget_radius(
            freq[modelled],
            eirp_dbm=budget["eirp_dbm"][modelled],
            rx_threshold_dbm=budget["rx_threshold_dbm"][modelled],
            base_height_m=budget["height_m"][modelled],
            mobile_height_m=options.rx_height_m,
            environment=budget["environment"][modelled],
            propagation="auto" if options.propagation == "auto" else options.propagation,
        )
        radius_m[modelled] = solved.radius_m
        source[modelled] = solved.source
        note[modelled] = np.where(solved.extrapolated, "extrapolated", "")
    table = pd.DataFrame(
        {
            "row": sites["row"].to_numpy(),
            "site_id": sites["site_id"].to_numpy(),
            "technology": tech,
            "azimuth": sites["azimuth"].to_numpy(dtype=np.float64),
            "radius_m": radius_m,
            "radius_source": source,
            "environment": np.where(radio, budget["environment"], ""),
            "frequency_mhz": np.where(radio, freq, np.nan),
            "eirp_dbm": np.where(radio, budget["eirp_dbm"], np.nan),
            "rx_threshold_dbm": np.where(radio, budget["rx_threshold_dbm"], np.nan),
            "rx_height_m": np.where(radio, options.rx_height_m, np.nan),
            "radius_note": note,
            "height_m": np.where(radio, budget["height_m"], _column(sites, "height_m", n)),
        },
        index=sites.index,
    )
    return SiteRadii(table=table, extrapolated=int((note == "extrapolated").sum()))


def _column(sites: pd.DataFrame, name: str, n: int) -> Floats:
    if name not in sites.columns:
        return np.full(n, np.nan)
    return sites[name].to_numpy(dtype=np.float64)


def _defaults(tech: NDArray[np.object_], radio: NDArray[np.bool_], attr: str) -> Floats:
    values = {t: float(getattr(d, attr)) for t, d in TECHNOLOGY_DEFAULTS.items()}
    return np.where(radio, _mapped(tech, values, np.nan), np.nan).astype(np.float64)


def _isin(values: NDArray[np.object_], names: Iterable[str]) -> NDArray[np.bool_]:
    """Where ``values`` is one of ``names`` (hashed, not sorted: fast on text)."""
    return np.asarray(pd.Series(values, dtype=object).isin(list(names)).to_numpy(), dtype=bool)


def _mapped(values: NDArray[np.object_], table: Mapping[str, Any], missing: Any) -> NDArray[Any]:
    """``table[v]`` for every value (``missing`` where absent)."""
    out = pd.Series(values, dtype=object).map(table)
    return np.asarray(out.where(out.notna(), missing).to_numpy())


def _budget(
    sites: pd.DataFrame,
    tech: NDArray[np.object_],
    radio: NDArray[np.bool_],
    options: RadioOptions,
    density: Floats | None,
) -> dict[str, Any]:
    """EIRP, height, threshold and environment of each radio row: its own, else the defaults."""
    n = len(sites)
    if not radio.any():  # nothing to fill: every value below would be masked out
        empty = np.full(n, np.nan)
        return {"eirp_dbm": empty, "height_m": empty, "rx_threshold_dbm": empty,
                "environment": np.full(n, "", dtype=object)}  # fmt: skip

    def filled(name: str, attr: str) -> Floats:
        own = _column(sites, name, n)
        return np.where(np.isfinite(own), own, _defaults(tech, radio, attr))

    parts = [_column(sites, c, n) for c in ("tx_power_dbm", "antenna_gain_dbi", "feeder_loss_db")]
    from_parts = (
        filled("tx_power_dbm", "tx_power_dbm")
        + filled("antenna_gain_dbi", "antenna_gain_dbi")
        - filled("feeder_loss_db", "feeder_loss_db")
    )
    eirp = _column(sites, "eirp_dbm", n)
    any_part = np.isfinite(parts[0]) | np.isfinite(parts[1]) | np.isfinite(parts[2])
    fallback_eirp = np.where(any_part, from_parts, _defaults(tech, radio, "eirp_dbm"))
    eirp = np.where(np.isfinite(eirp), eirp, fallback_eirp)
    threshold = _column(sites, "rx_threshold_dbm", n)
    chosen = {**{t: d.rx_threshold_dbm for t, d in TECHNOLOGY_DEFAULTS.items()}, **options.rx_threshold_dbm}
    fallback = _mapped(tech, chosen, np.nan).astype(np.float64)
    return {
        "eirp_dbm": eirp,
        "height_m": filled("height_m", "height_m"),
        "rx_threshold_dbm": np.where(np.isfinite(threshold), threshold, fallback),
        "environment": _environments(sites, tech, radio, options.environment, density),
    }


def _environments(
    sites: pd.DataFrame,
    tech: NDArray[np.object_],
    radio: NDArray[np.bool_],
    choice: str,
    density: Floats | None,
) -> NDArray[np.object_]:
    """Return each row's own environment, else ``choice``; ``auto`` by density (else the default)."""
    n = len(sites)
    own = sites["environment"].to_numpy(dtype=object) if "environment" in sites.columns else np.full(n, "")
    classes = {t: d.environment for t, d in TECHNOLOGY_DEFAULTS.items()}
    default = np.where(radio, _mapped(tech, classes, ""), "").astype(object)
    wanted = np.where(_isin(own, [*ENVIRONMENTS, "auto"]), own, choice)
    auto = radio & (wanted == "auto")
    if auto.any():
        dens = np.full(n, np.nan) if density is None else np.asarray(density, dtype=np.float64)
        classed = classify_environment(dens[auto], default="suburban")
        wanted = wanted.copy()
        wanted[auto] = np.where(pd.isna(dens[auto]), default[auto], classed)
    return np.where(radio, wanted, "").astype(object)


def warn_extrapolated(radii: SiteRadii, *, name: str) -> None:
    """Warn (counted, never silent) when some radio radii lie outside their model's validity."""
    if radii.extrapolated:
        warnings.warn(
            f"{name}: {radii.extrapolated} radio site rows have radii extrapolated beyond their model's "
            "validity range (frequency, antenna heights or distance); they are marked "
            "radius_note = extrapolated in footprints.csv",
            TelecovWarning,
            stacklevel=3,
        )


def with_radii(
    site_table: SiteTable,
    raster: PopulationRaster,
    *,
    options: RadioOptions,
    radius: Mapping[str, float] | None = None,
) -> SiteTable:
    """Return the sites with their radii under ``options`` and the :data:`FOOTPRINT_COLUMNS` filled in.

    The density around the sites is read from ``raster`` only when some radio row's
    environment is ``auto``. Warns (:func:`warn_extrapolated`) when radii were extrapolated.
    """
    accepted = site_table.accepted
    density = None
    if options.propagation != "fixed" and "frequency_mhz" in accepted.columns:
        radio = accepted["frequency_mhz"].notna().to_numpy()
        own = accepted["environment"].to_numpy(dtype=object) if "environment" in accepted.columns else None
        needs = radio if own is None else radio & ~_isin(own, ENVIRONMENTS)
        if options.environment == "auto" and needs.any():
            density = np.full(len(accepted), np.nan)
            density[needs] = density_around(
                raster, accepted.geometry.x.to_numpy()[needs], accepted.geometry.y.to_numpy()[needs]
            )
    radii = site_radii(accepted, options=options, radius=radius, density_per_km2=density)
    warn_extrapolated(radii, name=site_table.name)
    out = accepted.copy()
    for name in (*FOOTPRINT_COLUMNS[4:], "height_m"):
        out[name] = radii.table[name].to_numpy()
    out = out[[c for c in out.columns if c != "geometry"] + ["geometry"]]
    return replace(site_table, accepted=out)


def footprint_table(sites: pd.DataFrame) -> pd.DataFrame:
    """``footprints.csv``: one row per accepted site row with what its footprint assumed.

    Columns :data:`FOOTPRINT_COLUMNS`; sites analysed without radio columns get empty ones.
    """
    out = pd.DataFrame(index=sites.index)
    for name in FOOTPRINT_COLUMNS:
        out[name] = sites[name].to_numpy() if name in sites.columns else ""
    return out.reset_index(drop=True)
