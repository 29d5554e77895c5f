"""What OpenCelliD's columns and cell ids mean: radios, id layouts, placeholders, operators, rules."""

from __future__ import annotations

# the defaults live in the vocabulary so that the CLI shows them without importing the importer
from ..vocabulary import DEFAULT_GROUP_DISTANCE_M as DEFAULT_GROUP_DISTANCE_M
from ..vocabulary import DEFAULT_NR_GNB_BITS as DEFAULT_NR_GNB_BITS
from ..vocabulary import DEFAULT_SECTOR_DIGIT_SHARE as DEFAULT_SECTOR_DIGIT_SHARE
from ..vocabulary import DEFAULT_SPLIT_DISTANCE_M as DEFAULT_SPLIT_DISTANCE_M

OPENCELLID_COLUMNS: tuple[str, ...] = (
    "radio", "mcc", "net", "area", "cell", "unit", "lon", "lat", "range", "samples",
    "changeable", "created", "updated", "averageSignal",
)  # fmt: skip
"""The standard OpenCelliD column order (used when a file has no header)."""
REQUIRED_COLUMNS: tuple[str, ...] = ("radio", "mcc", "net", "area", "cell", "lon", "lat")
KEY_COLUMNS: tuple[str, ...] = ("radio", "mcc", "net", "area", "cell")
"""The columns that identify a cell in an OpenCelliD export (its key)."""

RADIO_TECHNOLOGY: dict[str, str] = {"GSM": "2G", "UMTS": "3G", "LTE": "4G", "NR": "5G"}
"""OpenCelliD ``radio`` → telecov technology. CDMA and anything else is refused."""
TECHNOLOGY_RADIO: dict[str, str] = {v: k for k, v in RADIO_TECHNOLOGY.items()}

CELL_BITS: dict[str, int] = {"2G": 16, "3G": 28, "4G": 28, "5G": 36}
"""Bits of the cell id: GSM CI 16; UMTS long CID (RNC 12 + CI 16) 28; LTE ECI 28; NR NCI 36."""
AREA_BITS: dict[str, int] = {"2G": 16, "3G": 16, "4G": 16, "5G": 24}
"""Bits of the area code: LAC 16 (GSM, UMTS), TAC 16 (LTE), 24 (NR)."""
PLACEHOLDER_CELLS: dict[str, frozenset[int]] = {
    "2G": frozenset({0, 65535}),
    "3G": frozenset({268435455}),
}
"""Cell ids that stand for "unknown" rather than a cell (GSM CI 0 and 65535; UMTS 2²⁸ − 1)."""
PLACEHOLDER_AREAS: dict[str, frozenset[int]] = {
    "2G": frozenset({0, 65534, 65535}),
    "3G": frozenset({0, 65534, 65535}),
}
"""Location area codes that are not a location area (LAC 0, 65534 and 65535 are reserved)."""

LTE_CELLS_PER_ENB = 256
"""LTE ECI = eNB id × 256 + local cell id."""
UMTS_CELLS_PER_RNC = 65536
"""UMTS long cell id = RNC id × 65536 + CI."""
SECTOR_DIGITS = 10
"""Sector-digit numbering: CI = 10 × NodeB (or BTS) + sector digit 1–9."""


RULES: dict[str, str] = {
    "enb": "eNB = ECI // 256, split by distance",
    "gnb": "gNB = NCI >> (36 - gNB bits), split by distance",
    "sector-digit": "node = CI // 10 (CI mod 10 is the sector), split by distance",
    "proximity": "single linkage by distance",
}
"""How the cells of a site were found: by what the ids say (then split by space), or by space."""

OPERATORS: dict[tuple[int, int], str] = {
    # Vietnam (MCC 452); 03 S-Fone and 06 EVNTelecom (E-Mobile) no longer operate.
    (452, 1): "MobiFone",
    (452, 2): "VinaPhone",
    (452, 4): "Viettel",
    (452, 5): "Vietnamobile",
    (452, 7): "Gmobile",
    (452, 8): "Viettel",  # EVNTelecom's 3G code, network taken over by Viettel in 2011
    # Uruguay (MCC 748)
    (748, 0): "Antel",
    (748, 1): "Antel",
    (748, 3): "Antel",
    (748, 7): "Movistar",
    (748, 10): "Claro",
}
"""Operator names by (MCC, MNC); codes not listed are written as ``"mcc-mnc"`` (e.g. ``452-09``)."""


def operator_name(mcc: int, mnc: int) -> str:
    """Operator name from the built-in table, else ``"mcc-mnc"`` with a two-digit MNC."""
    return OPERATORS.get((int(mcc), int(mnc)), f"{int(mcc):03d}-{int(mnc):02d}")
