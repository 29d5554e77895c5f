"""OpenCelliD import: cells (one row per sector) grouped into sites (one row per tower).

OpenCelliD exports have the columns ``radio, mcc, net, area, cell, unit, lon, lat, range,
samples, changeable, created, updated, averageSignal`` (with or without a header line). A row is
a *cell*; several cells share one tower. The documented cell ids say which cells share a node:

- LTE ECI = eNB × 256 + local cell (28 bits); NR NCI = gNB × 2^(36 − bits) + local cell;
- UMTS long CID = RNC × 65536 + CI (28 bits); GSM cells have a LAC and a 16-bit CI;
- many operators number GSM/UMTS CIs as 10 × node + sector digit (1–9).

:func:`import_cells` groups by those ids first, then by space (:mod:`.grouping`), refuses
placeholder ids, duplicate cell keys and bad rows with the reason (:mod:`.reading`), and
reports the rule used per operator and radio (:mod:`.summary`). A site sits at the median of its
cells. ``range`` is OpenCelliD's estimate of the extent over which a cell was measured, not a
coverage radius: it becomes ``radius_m`` only with ``use_range``.
"""

from __future__ import annotations

from .codes import (
    DEFAULT_GROUP_DISTANCE_M,
    DEFAULT_NR_GNB_BITS,
    DEFAULT_SECTOR_DIGIT_SHARE,
    DEFAULT_SPLIT_DISTANCE_M,
    OPENCELLID_COLUMNS,
    OPERATORS,
    RADIO_TECHNOLOGY,
    RULES,
    operator_name,
)
from .grouping import SITE_COLUMNS, Grouping, cells_to_sites, group_cells
from .importer import CELL_SITE_COLUMNS, CellImport, import_cells
from .summary import SUMMARY_COLUMNS, TECHNOLOGY_COLUMNS

__all__ = [
    "CELL_SITE_COLUMNS",
    "DEFAULT_GROUP_DISTANCE_M",
    "DEFAULT_NR_GNB_BITS",
    "DEFAULT_SECTOR_DIGIT_SHARE",
    "DEFAULT_SPLIT_DISTANCE_M",
    "OPENCELLID_COLUMNS",
    "OPERATORS",
    "RADIO_TECHNOLOGY",
    "RULES",
    "SITE_COLUMNS",
    "SUMMARY_COLUMNS",
    "TECHNOLOGY_COLUMNS",
    "CellImport",
    "Grouping",
    "cells_to_sites",
    "group_cells",
    "import_cells",
    "operator_name",
]
