"""``import_cells``: an OpenCelliD export read, checked and grouped into sites."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io.refusals import Refusals
from ..io.resources import Estimate, check_budget
from .codes import (
    DEFAULT_GROUP_DISTANCE_M,
    DEFAULT_NR_GNB_BITS,
    DEFAULT_SECTOR_DIGIT_SHARE,
    DEFAULT_SPLIT_DISTANCE_M,
)
from .grouping import group_cells
from .reading import (
    Box,
    accepted_cells,
    cell_values,
    read_table,
    refuse_duplicates,
    refuse_ids,
    refuse_unselected,
    refuse_widths,
)
from .summary import by_technology, summarize

log = logging.getLogger(__name__)

CELL_SITE_COLUMNS: tuple[str, ...] = ("radio", "mcc", "net", "area", "cell", "site_id")
"""Columns of ``cell_sites.csv``: one row per accepted cell (``radio`` as written in the input)."""


@dataclass(frozen=True)
class CellImport:
    """Outcome of :func:`import_cells`.

    Attributes
    ----------
    sites
        One row per site, columns :data:`~telecov.opencellid.SITE_COLUMNS` (text ids, numbers
        as numbers), sorted by ``site_id``.
    rejected
        Refused cells: the original columns, then ``row`` (1-based data row), ``field``,
        ``reason``.
    read
        Data rows read; ``used + len(rejected) == read``.
    used
        Cells that went into a site (``== len(cell_sites) == sites["cells"].sum()``).
    summary
        One row per operator and radio: the rule used, cells, sites, cells per site and the
        spread of the sites' cells (columns :data:`~telecov.opencellid.SUMMARY_COLUMNS`).
    cell_sites
        One row per accepted cell: ``radio, mcc, net, area, cell, site_id``, sorted by
        ``site_id`` then input row.

    """

    sites: pd.DataFrame
    rejected: pd.DataFrame
    read: int
    used: int
    summary: pd.DataFrame = field(repr=False)
    cell_sites: pd.DataFrame = field(repr=False)

    @property
    def by_technology(self) -> pd.DataFrame:
        """Cells, sites and cells per site per technology."""
        return by_technology(self.summary)


def import_cells(
    source: str | Path,
    *,
    mcc: Sequence[int] | int | None = None,
    bbox: Sequence[float] | None = None,
    use_range: bool = False,
    split_distance_m: float = DEFAULT_SPLIT_DISTANCE_M,
    group_distance_m: float = DEFAULT_GROUP_DISTANCE_M,
    sector_digit_share: float = DEFAULT_SECTOR_DIGIT_SHARE,
    nr_gnb_bits: int = DEFAULT_NR_GNB_BITS,
    encoding: str | None = None,
) -> CellImport:
    """Read an OpenCelliD cell export and group its cells into sites.

    Cells are grouped by what their ids say, then by space (:mod:`telecov.opencellid.grouping`):
    LTE by eNB, NR by gNB, UMTS by RNC and GSM by LAC, then by node = CI // 10 where the
    operator numbers its CIs by sector digit; the cells of a node are split into several sites
    when farther apart than ``split_distance_m``, and GSM/UMTS cells without sector-digit ids
    are clustered at ``group_distance_m``. A site sits at the median of its cells.

    Parameters
    ----------
    source
        OpenCelliD CSV, plain or gzip-compressed, with or without the header line.
    mcc
        Keep only cells of these mobile country codes (others are refused with a reason).
    bbox
        ``(west, south, east, north)`` in degrees: cells outside are refused.
    use_range
        Use the largest ``range`` of a site's cells as its ``radius_m`` (else left empty: the
        report's default radius per technology applies).
    split_distance_m
        Cells of one eNB, gNB or sector-digit node farther apart than this (single linkage,
        metres) become separate sites.
    group_distance_m
        GSM/UMTS cells of one operator and LAC/RNC without sector-digit ids: cells within this
        distance of each other (single linkage, metres) form one site.
    sector_digit_share
        An operator's GSM or UMTS cells are grouped by CI // 10 when at least this share of
        its CIs have CI mod 10 in 1–9.
    nr_gnb_bits
        Length of the gNB id in the 36-bit NR cell identity (22–32).
    encoding
        Text encoding (default UTF-8).

    Returns
    -------
    CellImport

    Raises
    ------
    InputError
        Missing or unreadable file, missing columns, bad options, or no usable cell.
    TooLargeError
        The file would need more memory than the process may use (estimated before reading).

    """
    box = _check_options(
        nr_gnb_bits=nr_gnb_bits, bbox=bbox, sector_digit_share=sector_digit_share,
        distances={"split_distance_m": split_distance_m, "group_distance_m": group_distance_m},
    )  # fmt: skip
    mccs = None if mcc is None else {int(mcc)} if isinstance(mcc, int) else {int(m) for m in mcc}
    path = Path(source)
    if path.exists():
        check_budget(estimate_import(path))
    cells, rejected, n = _checked_cells(path, encoding=encoding, mccs=mccs, box=box)
    grouping = group_cells(
        cells, split_distance_m=split_distance_m, group_distance_m=group_distance_m,
        sector_digit_share=sector_digit_share, nr_gnb_bits=nr_gnb_bits, use_range=use_range,
    )  # fmt: skip
    log.info("%s: %d cells read, %d used, %d refused, %d sites", path, n, len(cells), len(rejected),
             len(grouping.sites))  # fmt: skip
    return CellImport(
        sites=grouping.sites, rejected=rejected, read=n, used=len(cells),
        summary=summarize(grouping), cell_sites=_cell_sites(cells, grouping.site_of_cell),
    )  # fmt: skip


PEAK_PER_TEXT_BYTE = 8.5
"""Resident memory per byte of (uncompressed) cell text: 1.17 GB for 155 MB, 2,000,000 cells."""
RESERVED_PER_TEXT_BYTE = 5.0
"""Address space per byte of cell text on top of the resident memory (allocator arenas): 1.96 GB
of address space in all for the same file."""
OUTPUT_PER_TEXT_BYTE = 0.6
"""Bytes written (sites, cell_sites.csv, rejects) per byte of cell text, at most."""
SECONDS_PER_TEXT_BYTE = 2e-7
"""Duration per byte of cell text on a 2-core machine."""


def estimate_import(path: Path) -> Estimate:
    """Estimate what importing ``path`` will need, from its size (a gzip file's uncompressed size)."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        if fh.read(2) == b"\x1f\x8b" and size >= 18:
            fh.seek(-4, 2)
            size = max(size, int.from_bytes(fh.read(4), "little"))  # ISIZE: the size modulo 4 GiB
    return Estimate(
        peak_bytes=int(PEAK_PER_TEXT_BYTE * size), reserved_bytes=int(RESERVED_PER_TEXT_BYTE * size),
        output_bytes=int(OUTPUT_PER_TEXT_BYTE * size),
        seconds=SECONDS_PER_TEXT_BYTE * size, parts={"cells": int(PEAK_PER_TEXT_BYTE * size)},
        details={"cells": f"{size / 1e6:,.0f} MB of cell text"},
    )  # fmt: skip


def _checked_cells(
    path: Path, *, encoding: str | None, mccs: set[int] | None, box: Box | None
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Return the accepted cells, the rejects and the number of rows read."""
    header, table, fields = read_table(path, encoding=encoding)
    n = len(table)
    refusals = Refusals(n)
    refuse_widths(fields, header, refusals)
    values = cell_values(table, refusals)
    refuse_ids(values, refusals)
    refuse_unselected(values, mccs=mccs, box=box, refusals=refusals)
    refuse_duplicates(values, refusals)
    rejected = refusals.frame(table)
    if not refusals.ok.any():
        first = rejected.iloc[0]
        raise InputError(
            f"{path}: every one of {n} cell rows was refused "
            f"(first: row {first['row']}, {first['field']}: {first['reason']})"
        )
    return accepted_cells(values, refusals.ok), rejected, n


def _cell_sites(cells: pd.DataFrame, site_of_cell: np.ndarray) -> pd.DataFrame:
    """``radio, mcc, net, area, cell, site_id`` of each cell, by site then input row."""
    out = pd.DataFrame(
        {
            "radio": cells["radio"].to_numpy(dtype=object),
            "mcc": cells["mcc"].to_numpy(),
            "net": cells["mnc"].to_numpy(),
            "area": cells["area"].to_numpy(),
            "cell": cells["cell"].to_numpy(),
            "site_id": site_of_cell,
            "row": cells["row"].to_numpy(),
        }
    )
    out = out.sort_values(["site_id", "row"], kind="stable").reset_index(drop=True)
    return out[list(CELL_SITE_COLUMNS)]


def _check_options(
    *,
    nr_gnb_bits: int,
    bbox: Sequence[float] | None,
    sector_digit_share: float,
    distances: dict[str, float],
) -> Box | None:
    """Refuse bad options; return the bounding box as ``(west, south, east, north)``."""
    if not 22 <= nr_gnb_bits <= 32:
        raise InputError(f"`nr_gnb_bits` {nr_gnb_bits}: must be between 22 and 32")
    for name, value in distances.items():
        if not (math.isfinite(value) and value >= 0):
            raise InputError(f"`{name}` {value}: must be a distance in metres ≥ 0")
    if not (math.isfinite(sector_digit_share) and 0 <= sector_digit_share <= 1):
        raise InputError(f"`sector_digit_share` {sector_digit_share}: must be a share between 0 and 1")
    if bbox is None:
        return None
    if len(bbox) != 4:
        raise InputError(f"`bbox` {bbox}: expected WEST,SOUTH,EAST,NORTH")
    west, south, east, north = (float(v) for v in bbox)
    if not (west < east and south < north):
        raise InputError(f"`bbox` {bbox}: expected WEST,SOUTH,EAST,NORTH with west < east, south < north")
    return west, south, east, north
