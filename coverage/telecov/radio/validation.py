"""Per-row checks of radio columns: impossible values are refused with the field and reason."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .bands import canonical_band
from .models import ENVIRONMENTS

MAX_FREQUENCY_MHZ = 100_000.0
"""Highest carrier accepted (the top of TR 38.901's range)."""
MAX_EIRP_DBM = 90.0
"""EIRP above this (1 MW) is refused as absurd; real macro cells radiate up to ~80 dBm."""
MIN_EIRP_DBM = -10.0
MAX_HEIGHT_M = 1000.0
"""Antenna heights above ground beyond this are refused (the tallest masts are ~600 m)."""
THRESHOLD_RANGE_DBM = (-150.0, -20.0)
"""Receiver thresholds (total channel power) outside this range are refused."""


@dataclass(frozen=True)
class Problem:
    """One refused value: the column and why."""

    field: str
    reason: str


def _number(value: object) -> float | None:
    """Return the value as a float: None when missing (None, NaN, empty text); NaN when not a number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return None if math.isnan(number) and not isinstance(value, str) else number


def _check_range(field: str, value: object, lo: float, hi: float, unit: str) -> list[Problem]:
    number = _number(value)
    if number is None:
        return []
    if not math.isfinite(number):
        return [Problem(field, f"{value!r} is not a number")]
    if not lo <= number <= hi:
        return [Problem(field, f"{number:g} {unit} is outside {lo:g}–{hi:g} {unit}")]
    return []


def _check_frequency(frequency_mhz: object, band: object) -> list[Problem]:
    problems = []
    number = _number(frequency_mhz)
    if number is not None and not (math.isfinite(number) and 0.0 < number <= MAX_FREQUENCY_MHZ):
        problems.append(
            Problem(
                "frequency_mhz",
                f"{frequency_mhz!r} MHz is not a carrier frequency (0 < f ≤ {MAX_FREQUENCY_MHZ:g} MHz)",
            )
        )
    missing = band is None or (isinstance(band, float) and math.isnan(band)) or not str(band).strip()
    if not missing and canonical_band(band) is None:
        problems.append(Problem("band", f"unknown band {band!r} (use e.g. B3, n78, L1800, G900)"))
    return problems


def _check_height(height_m: object) -> list[Problem]:
    number = _number(height_m)
    if number is None:
        return []
    if not math.isfinite(number):
        return [Problem("height_m", f"{height_m!r} is not a number")]
    if number <= 0.0:
        return [Problem("height_m", f"antenna height {number:g} m must be above ground (> 0 m)")]
    if number > MAX_HEIGHT_M:
        return [Problem("height_m", f"antenna height {number:g} m is above {MAX_HEIGHT_M:g} m")]
    return []


def check_radio_row(
    *,
    frequency_mhz: object = None,
    band: object = None,
    height_m: object = None,
    eirp_dbm: object = None,
    tx_power_dbm: object = None,
    antenna_gain_dbi: object = None,
    feeder_loss_db: object = None,
    environment: object = None,
    rx_threshold_dbm: object = None,
    beamwidth: object = None,
) -> list[Problem]:
    """Every impossible radio value of one site row (empty list: the row is fine).

    Missing values (None, NaN, empty text) are not problems: defaults fill them later.
    """
    problems = _check_frequency(frequency_mhz, band) + _check_height(height_m)
    problems += _check_range("eirp_dbm", eirp_dbm, MIN_EIRP_DBM, MAX_EIRP_DBM, "dBm")
    problems += _check_range("tx_power_dbm", tx_power_dbm, -10.0, 80.0, "dBm")
    problems += _check_range("antenna_gain_dbi", antenna_gain_dbi, -10.0, 40.0, "dBi")
    problems += _check_range("feeder_loss_db", feeder_loss_db, 0.0, 30.0, "dB")
    problems += _check_range("rx_threshold_dbm", rx_threshold_dbm, *THRESHOLD_RANGE_DBM, "dBm")
    problems += _check_range("beamwidth", beamwidth, 1e-9, 360.0, "°")
    if isinstance(environment, str) and environment.strip():
        if environment.strip().lower() not in (*ENVIRONMENTS, "auto"):
            problems.append(
                Problem(
                    "environment",
                    f"unknown environment {environment!r} (use {', '.join(ENVIRONMENTS)} or auto)",
                )
            )
    elif environment is not None and _number(environment) is not None:
        problems.append(Problem("environment", f"{environment!r} is not an environment"))
    return problems
