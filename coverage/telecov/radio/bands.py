"""Operator band names → downlink centre frequency (MHz).

The table holds the downlink (base station transmit) range of each band as specified by 3GPP:
LTE E-UTRA operating bands in TS 36.101 Table 5.5-1, NR operating bands in TS 38.104
Table 5.2-1 (FR1) and 5.2-2 (FR2), UTRA bands in TS 25.101 Table 5.0 and GSM bands in
TS 45.005 §2. A footprint is predicted at the centre of the downlink range: the base station
transmits there and a coverage threshold is a downlink level.

Spellings accepted (case, spaces, ``-`` and ``_`` ignored):

- 3GPP band numbers: ``B3`` / ``Band 3`` / ``E-UTRA 3`` (LTE), ``n78`` / ``NR78`` (NR);
- operator shorthand ``<letter><MHz>``: ``G900`` (GSM), ``U2100`` (UMTS), ``L1800`` (LTE),
  ``N3500`` (NR), and the spelled-out forms ``GSM900``, ``UMTS2100``, ``LTE1800``, ``NR3500``;
- GSM names ``GSM850``, ``E-GSM``, ``P-GSM``, ``DCS1800``, ``PCS1900``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..errors import InputError


@dataclass(frozen=True)
class Band:
    """One operating band: its downlink range and the technology family it belongs to."""

    name: str
    downlink_low_mhz: float
    downlink_high_mhz: float
    technology: str
    source: str

    @property
    def centre_mhz(self) -> float:
        """Centre of the downlink range (MHz)."""
        return (self.downlink_low_mhz + self.downlink_high_mhz) / 2.0


_LTE = "3GPP TS 36.101 Table 5.5-1"
_NR1 = "3GPP TS 38.104 Table 5.2-1"
_NR2 = "3GPP TS 38.104 Table 5.2-2"
_UTRA = "3GPP TS 25.101 Table 5.0"
_GSM = "3GPP TS 45.005 §2"

_LTE_BANDS: dict[int, tuple[float, float]] = {
    1: (2110, 2170), 2: (1930, 1990), 3: (1805, 1880), 4: (2110, 2155), 5: (869, 894),
    7: (2620, 2690), 8: (925, 960), 12: (729, 746), 13: (746, 756), 14: (758, 768),
    17: (734, 746), 18: (860, 875), 19: (875, 890), 20: (791, 821), 25: (1930, 1995),
    26: (859, 894), 28: (758, 803), 31: (462.5, 467.5), 32: (1452, 1496), 34: (2010, 2025),
    38: (2570, 2620), 39: (1880, 1920), 40: (2300, 2400), 41: (2496, 2690), 42: (3400, 3600),
    43: (3600, 3800), 46: (5150, 5925), 48: (3550, 3700), 66: (2110, 2200), 71: (617, 652),
}  # fmt: skip
_NR_BANDS: dict[int, tuple[float, float]] = {
    1: (2110, 2170), 2: (1930, 1990), 3: (1805, 1880), 5: (869, 894), 7: (2620, 2690),
    8: (925, 960), 20: (791, 821), 25: (1930, 1995), 28: (758, 803), 38: (2570, 2620),
    40: (2300, 2400), 41: (2496, 2690), 48: (3550, 3700), 66: (2110, 2200), 71: (617, 652),
    77: (3300, 4200), 78: (3300, 3800), 79: (4400, 5000),
    257: (26500, 29500), 258: (24250, 27500), 260: (37000, 40000), 261: (27500, 28350),
}  # fmt: skip
_UTRA_BANDS: dict[int, tuple[float, float]] = {
    1: (2110, 2170), 2: (1930, 1990), 5: (869, 894), 8: (925, 960),
}  # fmt: skip

# Operator shorthand: technology letter + nominal MHz → the band it names ("G900" is the
# extended GSM 900 band, the same spectrum as B8, as operators use it today).
_SHORTHAND: dict[str, dict[int, str]] = {
    "G": {850: "GSM850", 900: "E-GSM", 1800: "DCS1800", 1900: "PCS1900"},
    "U": {850: "B5", 900: "B8", 1900: "B2", 2100: "B1"},
    "L": {700: "B28", 800: "B20", 850: "B5", 900: "B8", 1800: "B3", 1900: "B2", 2100: "B1",
          2300: "B40", 2600: "B7"},
    "N": {700: "n28", 2600: "n41", 3500: "n78", 3700: "n77", 4700: "n79", 26000: "n258",
          28000: "n257"},
}  # fmt: skip
_FAMILY = {"G": "2G", "U": "3G", "L": "4G", "N": "5G"}
_WORDS = {"GSM": "G", "UMTS": "U", "WCDMA": "U", "LTE": "L", "NR": "N", "5GNR": "N"}


def _table() -> dict[str, Band]:
    table: dict[str, Band] = {}
    for number, (lo, hi) in _LTE_BANDS.items():
        table[f"B{number}"] = Band(f"B{number}", lo, hi, "4G", _LTE)
    for number, (lo, hi) in _NR_BANDS.items():
        table[f"n{number}"] = Band(f"n{number}", lo, hi, "5G", _NR2 if number > 256 else _NR1)
    for number, (lo, hi) in _UTRA_BANDS.items():
        table[f"UTRA{number}"] = Band(f"UTRA{number}", lo, hi, "3G", _UTRA)
    gsm = {"GSM850": (869, 894), "P-GSM": (935, 960), "E-GSM": (925, 960)}
    gsm |= {"DCS1800": (1805, 1880), "PCS1900": (1930, 1990)}
    for name, (lo, hi) in gsm.items():
        table[name] = Band(name, lo, hi, "2G", _GSM)
    for letter, bands in _SHORTHAND.items():
        for mhz, target in bands.items():
            ref = table[target]
            name = f"{letter}{mhz}"
            table[name] = Band(name, ref.downlink_low_mhz, ref.downlink_high_mhz, _FAMILY[letter], ref.source)
    return table


BANDS: dict[str, Band] = _table()
"""Every band by canonical name (``B3``, ``n78``, ``L1800``, ``DCS1800`` …)."""

_BAND_NUMBER = re.compile(r"^(?:B|BAND|EUTRA|LTEB|LTEBAND)(\d+)$")
_NR_NUMBER = re.compile(r"^(?:N|NR|NRBAND)(\d+)$")
_SHORT = re.compile(r"^(GSM|UMTS|WCDMA|LTE|5GNR|NR|[GULN])(\d+)$")


def canonical_band(name: object) -> str | None:
    """Canonical table name of an operator's band spelling, or None when it is unknown.

    Parameters
    ----------
    name
        A band as written in a site list (``"B3"``, ``"band 28"``, ``"L1800"``, ``"n78"``).

    """
    if not isinstance(name, str):
        return None
    key = re.sub(r"[\s_\-]", "", name).upper()
    aliases = {"EGSM": "E-GSM", "PGSM": "P-GSM", "GSM": "E-GSM", "DCS": "DCS1800", "PCS": "PCS1900"}
    aliases |= {"GSM1800": "DCS1800", "GSM1900": "PCS1900", "DCS1800": "DCS1800"}
    aliases |= {"PCS1900": "PCS1900", "GSM850": "GSM850"}
    if key in aliases:
        return aliases[key]
    # "N3500" is operator shorthand (MHz); "N78" a band number: band numbers are below 300.
    if (short := _SHORT.match(key)) is not None and int(short.group(2)) >= 300:
        letter = _WORDS.get(short.group(1), short.group(1))
        candidate = f"{letter}{int(short.group(2))}"
        return candidate if candidate in BANDS else None
    if (nr := _NR_NUMBER.match(key)) is not None:
        candidate = f"n{int(nr.group(1))}"
        return candidate if candidate in BANDS else None
    if (lte := _BAND_NUMBER.match(key)) is not None:
        candidate = f"B{int(lte.group(1))}"
        return candidate if candidate in BANDS else None
    return None


def band_info(name: object) -> Band:
    """Return the :class:`Band` an operator's spelling names.

    Raises
    ------
    InputError
        When the spelling is not in the table (the site reader refuses such a row).

    """
    canonical = canonical_band(name)
    if canonical is None:
        raise InputError(f"unknown band {name!r}: use a 3GPP band (B3, n78) or e.g. L1800, G900")
    return BANDS[canonical]


def band_frequency_mhz(name: object) -> float:
    """Downlink centre frequency (MHz) of a band spelling; :class:`InputError` when unknown."""
    return band_info(name).centre_mhz


def band_frequencies_mhz(names: object) -> NDArray[np.float64]:
    """Downlink centre frequency of each band spelling; NaN where the spelling is unknown."""
    out = []
    for name in np.asarray(names, dtype=object).ravel():
        canonical = canonical_band(name)
        out.append(np.nan if canonical is None else BANDS[canonical].centre_mhz)
    return np.asarray(out, dtype=np.float64)
