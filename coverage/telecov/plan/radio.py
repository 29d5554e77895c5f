"""The report's radio footprints in a plan: its options, candidates' radii, and the rows to re-measure.

A plan measures footprints exactly as the report it starts from: the existing sites keep the
report's shapes (:attr:`telecov.Result.shapes`), candidates with radio columns get link-budget
radii, lobes and terrain under the report's own ``propagation``, ``rx_threshold``,
``rx_height_m``, ``environment``, ``dem``, ``dem_unit`` and ``terrain``, and the report after the
plan is run with those options on rows that give back the same radii.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..io.population import PopulationRaster, open_population
from ..io.sites import SiteTable
from ..radio.budget import TECHNOLOGY_DEFAULTS
from ..radio.reach import RadioOptions, radio_options, with_radii
from ..radio.shapes import footprint_shapes
from ..result import population_source
from ..vocabulary import DEFAULT_RADIUS_M

if TYPE_CHECKING:
    from ..result import Result

RADIO_KEYS: tuple[str, ...] = (
    "propagation", "rx_threshold_dbm", "rx_height_m", "environment", "dem", "dem_unit", "terrain",
)  # fmt: skip
"""The options of the report that shape footprints, as ``run.json`` and ``plan.json`` record them."""
RADIO_SITE_COLUMNS: dict[str, float | str] = {
    "radius_source": "default", "frequency_mhz": np.nan, "band": "", "height_m": np.nan, "eirp_dbm": np.nan,
    "rx_threshold_dbm": np.nan, "rx_height_m": np.nan, "environment": "", "pattern_beamwidth": np.nan,
    "radius_note": "",
}  # fmt: skip
"""Radio columns a candidate carries, with their value when its source gives none."""
_ROW_INPUTS = ("frequency_mhz", "height_m", "eirp_dbm", "rx_threshold_dbm", "environment")
"""Resolved radio columns that, given back to the sites reader, give the same radius and shape."""


def radio_of(result: Result) -> RadioOptions:
    """Return the radio options the report ``result`` was made with (defaults where it recorded none)."""
    recorded = result.run.extra_options
    return radio_options(
        propagation=str(recorded.get("propagation", "auto")),
        rx_threshold=dict(recorded.get("rx_threshold_dbm") or {}),
        rx_height_m=float(recorded.get("rx_height_m", 1.5)),
        environment=str(recorded.get("environment", "auto")),
        dem=recorded.get("dem"),
        dem_unit=str(recorded.get("dem_unit", "m")),
        terrain=str(recorded.get("terrain", "auto")),
    )


def radio_record(result: Result) -> dict[str, Any]:
    """Return the report's footprint options as ``plan.json`` records them (:data:`RADIO_KEYS`)."""
    full = radio_of(result).to_json()
    return {key: full[key] for key in RADIO_KEYS}


def radius_overrides(result: Result) -> dict[str, float]:
    """``radius`` per technology that overrode the model in the report (the radio rows it left at the table).

    A technology counts as overridden when its radius differs from the built-in table or when
    one of its radio rows kept the table's radius under a propagation model.
    """
    radii = result.run.radii_m
    out = {t: float(r) for t, r in radii.items() if DEFAULT_RADIUS_M.get(t) != r}
    sites = result.sites
    if radio_of(result).propagation != "fixed" and "frequency_mhz" in sites.columns:
        radio = sites["frequency_mhz"].notna().to_numpy() & sites["technology"].isin(TECHNOLOGY_DEFAULTS)
        kept = radio.to_numpy() & (sites["radius_source"] == "default").to_numpy()
        for tech in set(sites["technology"][kept].astype(str)):
            out[tech] = float(radii[tech])
    return out


@contextlib.contextmanager
def _raster_if(needed: bool, result: Result, population: Any) -> Iterator[PopulationRaster | None]:
    if not needed:
        yield None
        return
    with open_population(population_source(result, population, where="plan_sites")) as raster:
        yield raster


def candidate_radii(table: SiteTable, result: Result, *, population: Any) -> SiteTable:
    """Return candidates read with the radio columns, with their radii under the report's options.

    The population raster (``population``, else the report's own) is read only when a radio
    row's environment is ``auto`` (density around the site).
    """
    radio = radio_of(result)
    accepted = table.accepted
    needs = (
        radio.propagation != "fixed"
        and radio.environment == "auto"
        and bool(accepted["frequency_mhz"].notna().any())
    )
    with _raster_if(needs, result, population) as raster:
        # without a raster, no row needs the density around it (with_radii reads none)
        return with_radii(
            table, cast("PopulationRaster", raster), options=radio, radius=radius_overrides(result)
        )


def with_radio_columns(sites: pd.DataFrame) -> pd.DataFrame:
    """Return ``sites`` with every column of :data:`RADIO_SITE_COLUMNS` (their defaults where absent)."""
    out = sites.copy()
    for name, default in RADIO_SITE_COLUMNS.items():
        if name not in out.columns:
            out[name] = default
    return out


def candidate_shapes(sites: pd.DataFrame, result: Result) -> NDArray[np.object_] | None:
    """Footprint polygons of the candidates under the report's terrain options (None: none shaped)."""
    return footprint_shapes(with_radio_columns(sites), **radio_of(result).terrain_options())


def existing_shapes(result: Result) -> list[object] | None:
    """Return the report's footprint polygon of each existing site row (None: all discs or wedges)."""
    return None if result.shapes is None else list(result.shapes)


def report_rows(sites: pd.DataFrame) -> pd.DataFrame:
    """Site rows that the sites reader reads back to the same radii and shapes under the same options.

    A model radius is left for the model to find again (``radius_m`` empty); the antenna pattern's
    beamwidth is the row's own (``pattern_beamwidth``); the radio values resolved by the
    report (frequency, height, EIRP, threshold, environment) are given as the row's own.
    """
    out = pd.DataFrame(index=sites.index)
    source = sites["radius_source"].astype(str) if "radius_source" in sites.columns else None
    model = (
        source.str.startswith("model:").to_numpy() if source is not None else np.zeros(len(sites), dtype=bool)
    )
    out["radius_m"] = np.where(model, np.nan, sites["radius_m"].to_numpy(dtype=np.float64))
    beam = sites["beamwidth"].to_numpy(dtype=np.float64)
    if "pattern_beamwidth" in sites.columns:
        own = sites["pattern_beamwidth"].to_numpy(dtype=np.float64)
        beam = np.where(model, own, beam)
    out["beamwidth"] = beam
    for name in _ROW_INPUTS:
        if name in sites.columns:
            out[name] = sites[name].to_numpy()
    return out


def after_options(result: Result) -> dict[str, Any]:
    """Keywords of :func:`telecov.analyze` that give the report after the plan the report's footprints."""
    radio = radio_of(result)
    options: Mapping[str, Any] = {
        "propagation": radio.propagation, "rx_threshold": dict(radio.rx_threshold_dbm),
        "rx_height_m": radio.rx_height_m, "environment": radio.environment,
        "dem": None if radio.dem is None else Path(radio.dem), "dem_unit": radio.dem_unit,
        "terrain": radio.terrain, "radius": radius_overrides(result) or None,
    }  # fmt: skip
    return dict(options)
