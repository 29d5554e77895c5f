"""Radio columns of a sites table: found, parsed and checked, impossible values refused.

:func:`radio_columns` is the sites reader's hook (``read_sites(..., columns=radio_columns)``):
it reads the optional link-budget columns of the raw text table, refuses rows whose values
are impossible (:func:`telecov.radio.validation.check_radio_row`: the field and the reason)
and returns the parsed values, NaN or empty text where a row does not say.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..io.refusals import Refusals
from ..io.tables import find_column, parse_numbers
from .bands import band_frequency_mhz, canonical_band
from .models import ENVIRONMENTS
from .validation import (
    MAX_EIRP_DBM,
    MAX_FREQUENCY_MHZ,
    MAX_HEIGHT_M,
    MIN_EIRP_DBM,
    THRESHOLD_RANGE_DBM,
    check_radio_row,
)

NUMBER_COLUMNS: dict[str, tuple[str, ...]] = {
    "frequency_mhz": ("frequency_mhz", "frequency", "freq_mhz", "freq"),
    "height_m": ("height_m", "antenna_height_m", "antenna_height", "height"),
    "eirp_dbm": ("eirp_dbm", "eirp"),
    "tx_power_dbm": ("tx_power_dbm", "tx_power", "power_dbm"),
    "antenna_gain_dbi": ("antenna_gain_dbi", "antenna_gain", "gain_dbi"),
    "feeder_loss_db": ("feeder_loss_db", "feeder_loss", "cable_loss_db"),
    "rx_threshold_dbm": ("rx_threshold_dbm", "rx_threshold", "threshold_dbm"),
}
"""Numeric radio columns and the spellings a header may use for each (case-insensitive)."""
TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    "band": ("band", "frequency_band"),
    "environment": ("environment", "env", "clutter"),
}
"""Text radio columns and their spellings."""
RADIO_COLUMNS: tuple[str, ...] = (
    "frequency_mhz", "band", *list(NUMBER_COLUMNS)[1:], "environment", "pattern_beamwidth",
)  # fmt: skip
"""Columns :func:`radio_columns` adds to the accepted sites (``pattern_beamwidth``: the row's own
``beamwidth``, NaN when it gives none: a radio lobe then takes the pattern's 65°)."""
BEAMWIDTH_NAMES = ("beamwidth", "beamwidth_deg", "beam_width", "hbw")
"""Spellings of the beamwidth column (the sites reader checks its values)."""

_RANGES: dict[str, tuple[float, float]] = {
    "frequency_mhz": (np.nextafter(0.0, 1.0), MAX_FREQUENCY_MHZ),
    "height_m": (np.nextafter(0.0, 1.0), MAX_HEIGHT_M),
    "eirp_dbm": (MIN_EIRP_DBM, MAX_EIRP_DBM),
    "tx_power_dbm": (-10.0, 80.0),
    "antenna_gain_dbi": (-10.0, 40.0),
    "feeder_loss_db": (0.0, 30.0),
    "rx_threshold_dbm": THRESHOLD_RANGE_DBM,
}
"""The ranges :func:`check_radio_row` accepts, to find the rows it must look at (vectorised)."""

Column = NDArray[np.float64] | NDArray[np.object_]


def radio_columns(table: pd.DataFrame, refusals: Refusals) -> dict[str, Column]:
    """Parse and check the radio columns of a raw sites table (every cell text).

    Parameters
    ----------
    table
        The sites as read (text cells, original column names).
    refusals
        The reader's refusals: rows with an impossible radio value are refused there, with
        the file's column name as the field and :func:`check_radio_row`'s reason.

    Returns
    -------
    dict
        :data:`RADIO_COLUMNS`: numbers NaN where missing; ``frequency_mhz`` from the band when
        only a band is given; ``band`` canonical (``B3``, ``n78``) or ``""``; ``environment``
        lower-case or ``""``.

    """
    cols = list(table.columns)
    n = len(table)
    found = {k: find_column(cols, names) for k, names in {**NUMBER_COLUMNS, **TEXT_COLUMNS}.items()}
    numbers: dict[str, NDArray[np.float64]] = {}
    flagged = np.zeros(n, dtype=bool)
    for key, (lo, hi) in _RANGES.items():
        col = found[key]
        if col is None:
            numbers[key] = np.full(n, np.nan)
            continue
        values, bad = parse_numbers(table[col])
        outside = np.isfinite(values) & ~((values >= lo) & (values <= hi))
        flagged |= bad | np.isinf(values) | outside
        numbers[key] = np.where(bad, np.nan, values)
    band = _texts(table, found["band"], n)
    canonical = {b: canonical_band(b) for b in set(band.tolist()) if b}
    unknown = [b for b, c in canonical.items() if c is None]
    if unknown:
        flagged |= pd.Series(band, dtype=object).isin(unknown).to_numpy(dtype=bool)
    environment = _texts(table, found["environment"], n)
    if found["environment"] is not None:
        environment = np.array([e.lower() for e in environment], dtype=object)
    flagged |= (environment != "") & ~np.isin(environment, [*ENVIRONMENTS, "auto"])
    _refuse(table, np.flatnonzero(flagged), found, refusals)
    freq = numbers["frequency_mhz"]
    from_band = np.isnan(freq) & (band != "")
    known = {b: band_frequency_mhz(c) for b, c in canonical.items() if c is not None}
    freq = np.where(from_band, [known.get(b, np.nan) for b in band], freq) if from_band.any() else freq
    out: dict[str, Column] = {key: numbers[key] for key in NUMBER_COLUMNS}
    out["frequency_mhz"] = np.asarray(freq, dtype=np.float64)
    out["band"] = np.array([canonical.get(b) or "" for b in band], dtype=object) if canonical else band
    out["environment"] = environment
    beam = find_column(cols, BEAMWIDTH_NAMES)
    out["pattern_beamwidth"] = parse_numbers(table[beam])[0] if beam else np.full(n, np.nan)
    return {key: out[key] for key in RADIO_COLUMNS}


def _texts(table: pd.DataFrame, col: str | None, n: int) -> NDArray[np.object_]:
    if col is None:
        return np.full(n, "", dtype=object)
    return table[col].astype(str).str.strip().to_numpy(dtype=object)


def _cell(table: pd.DataFrame, col: str | None, i: int) -> object:
    """Return the text of one cell; None when the column is absent or the cell empty (or ``nan``)."""
    if col is None:
        return None
    text = str(table[col].iloc[i]).strip()
    return None if text.lower() in ("", "nan") else text


def _refuse(
    table: pd.DataFrame, rows: NDArray[np.intp], found: dict[str, str | None], refusals: Refusals
) -> None:
    """Refuse each of ``rows`` for its first radio problem, naming the file's column."""
    for i in map(int, rows):
        values = {key: _cell(table, col, i) for key, col in found.items()}
        problems = check_radio_row(**values)
        if problems:
            first = problems[0]
            refusals.refuse([i], found.get(first.field) or first.field, first.reason)
