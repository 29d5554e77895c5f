"""Radio physics for footprints: bands, path-loss models, link budgets, sector patterns, terrain.

Self-contained below the engine: it imports only :mod:`telecov.errors`,
:mod:`telecov.vocabulary` and :mod:`telecov.geodesy` (plus numpy, pyproj, shapely, rasterio and
numba). See ``docs/radio.md`` for the models, tables, defaults and validity ranges.
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
from .dem import DemWindow, open_dem, read_dem_window
from .kernels import knife_edge_loss_db
from .models import ENVIRONMENTS, MODELS, VALIDITY, path_loss_db, within_validity
from .pattern import DEFAULT_BEAMWIDTH_DEG, lobe_bearings, lobe_polygon, lobe_reach, pattern_loss_db
from .terrain import TERRAIN_MODES, PolarGrid, polar_grid, terrain_footprint
from .validation import Problem, check_radio_row

__all__ = [
    "BANDS",
    "DEFAULT_BEAMWIDTH_DEG",
    "ENVIRONMENTS",
    "MOBILE_HEIGHT_M",
    "MODELS",
    "PROPAGATIONS",
    "TECHNOLOGY_DEFAULTS",
    "TERRAIN_MODES",
    "VALIDITY",
    "Band",
    "DemWindow",
    "PolarGrid",
    "Problem",
    "RadioDefaults",
    "RadioRadius",
    "band_frequencies_mhz",
    "band_frequency_mhz",
    "band_info",
    "canonical_band",
    "channel_to_rsrp_dbm",
    "check_radio_row",
    "choose_model",
    "classify_environment",
    "knife_edge_loss_db",
    "link_budget_radius",
    "lobe_bearings",
    "lobe_polygon",
    "lobe_reach",
    "open_dem",
    "path_loss_db",
    "pattern_loss_db",
    "polar_grid",
    "read_dem_window",
    "rsrp_to_channel_dbm",
    "solve_radius",
    "terrain_footprint",
    "within_validity",
]
