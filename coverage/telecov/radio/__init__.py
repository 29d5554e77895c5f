"""Radio physics for footprints: bands, path-loss models, link budgets, sector patterns, terrain.

Below the engine: it imports :mod:`telecov.errors`, :mod:`telecov.vocabulary`,
:mod:`telecov.geodesy` and, for reading site columns and population densities, :mod:`telecov.io`
(plus numpy, pandas, pyproj, shapely, rasterio and numba). See ``docs/radio.md`` for the
models, tables, defaults and validity ranges.
"""

from __future__ import annotations

from .bands import BANDS, Band, band_frequencies_mhz, band_frequency_mhz, band_info, canonical_band
from .budget import (
    MOBILE_HEIGHT_M,
    PROPAGATIONS,
    TECHNOLOGY_DEFAULTS,
    RadioDefaults,
    RadioRadius,
    channel_to_rsrp_dbm,
    choose_model,
    classify_environment,
    link_budget_radius,
    rsrp_to_channel_dbm,
    solve_radius,
)
from .columns import RADIO_COLUMNS, radio_columns
from .dem import DemWindow, open_dem, read_dem_window
from .kernels import knife_edge_loss_db
from .models import ENVIRONMENTS, MODELS, VALIDITY, path_loss_db, within_validity
from .pattern import DEFAULT_BEAMWIDTH_DEG, lobe_bearings, lobe_polygon, lobe_reach, pattern_loss_db
from .reach import FOOTPRINT_COLUMNS, RadioOptions, density_around, footprint_table, site_radii, with_radii
from .terrain import TERRAIN_MODES, PolarGrid, polar_grid, terrain_footprint
from .validation import Problem, check_radio_row

__all__ = [
    "BANDS",
    "DEFAULT_BEAMWIDTH_DEG",
    "ENVIRONMENTS",
    "FOOTPRINT_COLUMNS",
    "MOBILE_HEIGHT_M",
    "MODELS",
    "PROPAGATIONS",
    "RADIO_COLUMNS",
    "TECHNOLOGY_DEFAULTS",
    "TERRAIN_MODES",
    "VALIDITY",
    "Band",
    "DemWindow",
    "PolarGrid",
    "Problem",
    "RadioDefaults",
    "RadioOptions",
    "RadioRadius",
    "band_frequencies_mhz",
    "band_frequency_mhz",
    "band_info",
    "canonical_band",
    "channel_to_rsrp_dbm",
    "check_radio_row",
    "choose_model",
    "classify_environment",
    "density_around",
    "footprint_table",
    "knife_edge_loss_db",
    "link_budget_radius",
    "lobe_bearings",
    "lobe_polygon",
    "lobe_reach",
    "open_dem",
    "path_loss_db",
    "pattern_loss_db",
    "polar_grid",
    "radio_columns",
    "read_dem_window",
    "rsrp_to_channel_dbm",
    "site_radii",
    "solve_radius",
    "terrain_footprint",
    "with_radii",
    "within_validity",
]
