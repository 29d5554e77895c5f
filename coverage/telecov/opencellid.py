"""OpenCelliD import: cells (one row per sector) grouped into sites (one row per tower).

OpenCelliD exports have the columns ``radio, mcc, net, area, cell, unit, lon, lat, range,
samples, changeable, created, updated, averageSignal`` (with or without a header line). A row is
a *cell*; several cells share one tower. Cells become sites as follows:

- **LTE**: by eNodeB, ``(mcc, net, cell // 256)`` — the 28-bit E-UTRAN cell identity is a 20-bit
  eNodeB id followed by an 8-bit local cell id.
- **NR**: by gNB, ``(mcc, net, nci >> (36 - nr_gnb_bits))`` — the 36-bit NR cell identity is a
  gNB id of 22 to 32 bits followed by the local cell id; operators choose the split, the default
  24 bits is common (option ``nr_gnb_bits``).
- **GSM/UMTS**: by proximity: cells of the same ``(mcc, net, area, radio)`` whose positions are
  within ``group_distance_m`` of each other (single linkage) form one site.

A site's position is the mean of its cells' positions; its ``cell_range_m`` is the largest
``range`` of its cells. ``range`` is OpenCelliD's estimate of the extent over which the cell was
measured, not a coverage radius: it becomes ``radius_m`` only with ``use_range``.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .errors import InputError
from .io.refusals import Refusals
from .io.tables import read_text

log = logging.getLogger(__name__)

OPENCELLID_COLUMNS: tuple[str, ...] = (
    "radio", "mcc", "net", "area", "cell", "unit", "lon", "lat", "range", "samples",
    "changeable", "created", "updated", "averageSignal",
)  # fmt: skip
"""The standard OpenCelliD column order (used when a file has no header)."""
REQUIRED_COLUMNS: tuple[str, ...] = ("radio", "mcc", "net", "area", "cell", "lon", "lat")

RADIO_TECHNOLOGY: dict[str, str] = {"GSM": "2G", "UMTS": "3G", "LTE": "4G", "NR": "5G"}
"""OpenCelliD ``radio`` → telecov technology. CDMA and anything else is refused."""

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

SITE_COLUMNS: tuple[str, ...] = (
    "site_id", "operator", "technology", "lon", "lat", "radius_m", "azimuth", "beamwidth",
    "status", "mcc", "mnc", "area", "node_id", "cells", "cell_range_m", "samples",
)  # fmt: skip
"""Columns of the sites file written by :func:`import_cells` (a valid ``--sites`` input)."""

DEFAULT_GROUP_DISTANCE_M = 50.0
DEFAULT_NR_GNB_BITS = 24
LTE_CELLS_PER_ENB = 256


def operator_name(mcc: int, mnc: int) -> str:
    """Operator name from the built-in table, else ``"mcc-mnc"`` with a two-digit MNC."""
    return OPERATORS.get((int(mcc), int(mnc)), f"{int(mcc):03d}-{int(mnc):02d}")


@dataclass(frozen=True)
class CellImport:
    """Outcome of :func:`import_cells`.

    Attributes
    ----------
    sites
        One row per site, columns :data:`SITE_COLUMNS` (text ids, numbers as numbers).
    rejected
        Refused cells: the original columns, then ``row`` (1-based data row), ``field``,
        ``reason``.
    read
        Data rows read; ``used + len(rejected) == read``.
    used
        Cells that went into a site.
    summary
        Per technology: ``cells`` and ``sites``.

    """

    sites: pd.DataFrame
    rejected: pd.DataFrame
    read: int
    used: int
    summary: pd.DataFrame = field(repr=False)


def _read_rows(path: Path, *, encoding: str | None) -> tuple[list[str], list[list[str]]]:
    """Return the header (given or the standard one) and the non-blank rows of a file."""
    text = read_text(path, encoding=encoding)
    rows = [r for r in csv.reader(io.StringIO(text.lstrip("\ufeff"))) if r and any(c.strip() for c in r)]
    if not rows:
        raise InputError(f"{path}: file is empty")
    first = [c.strip() for c in rows[0]]
    if "radio" in {c.lower() for c in first}:
        header, rows = _given_header(first, name=str(path)), rows[1:]
    else:
        if len(first) < len(REQUIRED_COLUMNS) or not first[0].strip().isalpha():
            raise InputError(
                f"{path}: line 1 is neither an OpenCelliD header nor a cell row "
                f"(expected {', '.join(OPENCELLID_COLUMNS)})"
            )
        width = max(len(r) for r in rows)
        header = list(OPENCELLID_COLUMNS[:width]) + [
            f"extra_{i}" for i in range(len(OPENCELLID_COLUMNS), width)
        ]
    if not rows:
        raise InputError(f"{path}: no cell rows (the file has a header only)")
    return header, rows


def _given_header(header: list[str], *, name: str) -> list[str]:
    """Return a file's own header with its OpenCelliD names spelled as the standard ones."""
    lowered = {c.lower(): c for c in header}
    missing = [c for c in REQUIRED_COLUMNS if c.lower() not in lowered]
    if missing:
        raise InputError(
            f"{name}: missing column(s) {', '.join(missing)} (columns: {', '.join(header)}); "
            f"an OpenCelliD file has {', '.join(OPENCELLID_COLUMNS)}"
        )
    canon = {c.lower(): c for c in OPENCELLID_COLUMNS}
    return [canon.get(c.lower(), c) for c in header]


def _integers(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse whole numbers; returns (values as float, is_bad)."""
    s = text.str.strip()
    ok = s.str.fullmatch(r"[+-]?\d+").to_numpy(dtype=bool)
    values = np.full(len(s), np.nan)
    values[ok] = s[ok].astype("int64").to_numpy(dtype=np.float64)
    return values, ~ok


def _floats(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    values = pd.to_numeric(text.str.strip(), errors="coerce").to_numpy(dtype=np.float64)
    return values, ~np.isfinite(values)


def _proximity_groups(lon: np.ndarray, lat: np.ndarray, distance_m: float) -> np.ndarray:
    """Single-linkage clusters of points closer than ``distance_m`` (local equirectangular metres)."""
    n = len(lon)
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    if n > 1 and distance_m > 0:
        lat0 = math.radians(float(np.mean(lat)))
        x = np.radians(lon) * 6371008.8 * math.cos(lat0)
        y = np.radians(lat) * 6371008.8
        gx = np.floor(x / distance_m).astype(np.int64)
        gy = np.floor(y / distance_m).astype(np.int64)
        buckets: dict[tuple[int, int], list[int]] = {}
        for i, key in enumerate(zip(gx.tolist(), gy.tolist(), strict=True)):
            buckets.setdefault(key, []).append(i)
        d2 = distance_m * distance_m
        for (bx, by), members in buckets.items():
            near = [j for dx in (-1, 0, 1) for dy in (-1, 0, 1) for j in buckets.get((bx + dx, by + dy), ())]
            for i in members:
                for j in near:
                    if j > i and (x[i] - x[j]) ** 2 + (y[i] - y[j]) ** 2 <= d2:
                        ri, rj = find(i), find(j)
                        if ri != rj:
                            parent[max(ri, rj)] = min(ri, rj)
    return np.array([find(i) for i in range(n)], dtype=np.int64)


def import_cells(
    source: str | Path,
    *,
    mcc: Sequence[int] | int | None = None,
    bbox: Sequence[float] | None = None,
    use_range: bool = False,
    group_distance_m: float = DEFAULT_GROUP_DISTANCE_M,
    nr_gnb_bits: int = DEFAULT_NR_GNB_BITS,
    encoding: str | None = None,
) -> CellImport:
    """Read an OpenCelliD cell export and group its cells into sites.

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
    group_distance_m
        GSM/UMTS cells of one operator and area code closer than this form one site.
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

    """
    box = _check_options(nr_gnb_bits=nr_gnb_bits, group_distance_m=group_distance_m, bbox=bbox)
    mccs = None if mcc is None else {int(mcc)} if isinstance(mcc, int) else {int(m) for m in mcc}
    path = Path(source)
    header, rows = _read_rows(path, encoding=encoding)
    n = len(rows)
    width = len(header)
    table = pd.DataFrame([(r + [""] * width)[:width] for r in rows], columns=header, dtype=str)
    refusals = Refusals(n)
    _refuse_widths(np.array([len(r) for r in rows]), header, refusals)
    values = _cell_values(table, refusals)
    _refuse_unselected(values, mccs=mccs, box=box, refusals=refusals)
    rejected = refusals.frame(table)
    ok = refusals.ok
    if not ok.any():
        first = rejected.iloc[0]
        raise InputError(
            f"{path}: every one of {n} cell rows was refused "
            f"(first: row {first['row']}, {first['field']}: {first['reason']})"
        )
    cells = _cells(values, ok)
    sites = cells_to_sites(
        cells, use_range=use_range, group_distance_m=group_distance_m, nr_gnb_bits=nr_gnb_bits
    )
    log.info(
        "%s: %d cells read, %d used, %d refused, %d sites", path, n, int(ok.sum()), len(rejected), len(sites)
    )
    return CellImport(
        sites=sites, rejected=rejected, read=n, used=int(ok.sum()), summary=_summary(cells, sites)
    )


def _check_options(
    *, nr_gnb_bits: int, group_distance_m: float, bbox: Sequence[float] | None
) -> tuple[float, float, float, float] | None:
    """Refuse bad options; return the bounding box as ``(west, south, east, north)``."""
    if not 22 <= nr_gnb_bits <= 32:
        raise InputError(f"`nr_gnb_bits` {nr_gnb_bits}: must be between 22 and 32")
    if not (math.isfinite(group_distance_m) and group_distance_m >= 0):
        raise InputError(f"`group_distance_m` {group_distance_m}: must be a distance in metres ≥ 0")
    if bbox is None:
        return None
    if len(bbox) != 4:
        raise InputError(f"`bbox` {bbox}: expected WEST,SOUTH,EAST,NORTH")
    west, south, east, north = (float(v) for v in bbox)
    if not (west < east and south < north):
        raise InputError(f"`bbox` {bbox}: expected WEST,SOUTH,EAST,NORTH with west < east, south < north")
    return west, south, east, north


def _refuse_widths(fields: NDArray[np.int64], header: list[str], refusals: Refusals) -> None:
    """Refuse rows with fewer fields than the required columns need, or more than the header."""
    needed = max(header.index(c) for c in REQUIRED_COLUMNS) + 1
    refusals.refuse(fields < needed, "row", f"only some fields: expected at least {needed}")
    refusals.refuse(fields > len(header), "row", f"more fields than the {len(header)} columns")


def _cell_values(table: pd.DataFrame, refusals: Refusals) -> dict[str, NDArray[Any]]:
    """Technology, integers, position, range and samples of every row; bad values refused."""
    radio = table["radio"].str.strip()
    technology = radio.str.upper().map(RADIO_TECHNOLOGY).fillna("").to_numpy(dtype=object)
    refusals.refuse(technology == "", "radio", _quoted("unknown or unsupported radio ", radio))
    values: dict[str, NDArray[Any]] = {"technology": technology}
    for col in ("mcc", "net", "area", "cell"):
        values[col], bad = _integers(table[col])
        refusals.refuse(bad, col, _quoted("not a whole number: ", table[col]))
    lon, bad_lon = _floats(table["lon"])
    lat, bad_lat = _floats(table["lat"])
    refusals.refuse(bad_lon, "lon", _quoted("not a number: ", table["lon"]))
    refusals.refuse(bad_lat, "lat", _quoted("not a number: ", table["lat"]))
    refusals.refuse((lon == 0) & (lat == 0), "lon", "position 0,0 (no position)")
    refusals.refuse(np.abs(lon) > 180, "lon", lambda i: f"longitude {lon[i]:g} out of range")
    refusals.refuse(np.abs(lat) > 90, "lat", lambda i: f"latitude {lat[i]:g} out of range")
    rng = _optional_numbers(table, "range")
    values.update(lon=lon, lat=lat, range=np.where(np.isfinite(rng) & (rng > 0), rng, np.nan))
    values["samples"] = _optional_numbers(table, "samples")
    return values


def _quoted(prefix: str, column: pd.Series) -> Callable[[int], str]:
    """Return a reason naming the row's value: ``prefix``, then the value quoted."""
    text = column.to_numpy(dtype=object)
    return lambda i: f"{prefix}{text[i]!r}"


def _optional_numbers(table: pd.DataFrame, col: str) -> NDArray[np.float64]:
    """Numbers of an optional column (NaN where missing or not a number)."""
    if col not in table.columns:
        return np.full(len(table), np.nan)
    return pd.to_numeric(table[col].str.strip(), errors="coerce").to_numpy(dtype=np.float64)


def _refuse_unselected(
    values: dict[str, NDArray[Any]],
    *,
    mccs: set[int] | None,
    box: tuple[float, float, float, float] | None,
    refusals: Refusals,
) -> None:
    """Refuse cells of other country codes than ``mccs`` and cells outside ``box``."""
    if mccs is not None:
        sel = ", ".join(map(str, sorted(mccs)))
        codes = values["mcc"]
        refusals.refuse(~np.isin(codes, list(mccs)), "mcc",
                        lambda i: f"MCC {codes[i]:.0f} not among the selected codes {sel}")  # fmt: skip
    if box is not None:
        west, south, east, north = box
        lon, lat = values["lon"], values["lat"]
        outside = ~((lon >= west) & (lon <= east) & (lat >= south) & (lat <= north))
        refusals.refuse(outside, "lon", f"outside the bounding box {west:g},{south:g},{east:g},{north:g}")


def _cells(values: dict[str, NDArray[Any]], ok: NDArray[np.bool_]) -> pd.DataFrame:
    """Return the accepted cells in the columns :func:`cells_to_sites` takes."""
    return pd.DataFrame(
        {
            "technology": values["technology"][ok],
            "mcc": values["mcc"][ok].astype(np.int64),
            "mnc": values["net"][ok].astype(np.int64),
            "area": values["area"][ok].astype(np.int64),
            "cell": values["cell"][ok].astype(np.int64),
            "lon": values["lon"][ok],
            "lat": values["lat"][ok],
            "range": values["range"][ok],
            "samples": values["samples"][ok],
        }
    )


def _summary(cells: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    """Cells and sites per technology (technologies with neither left out)."""
    order = ["2G", "3G", "4G", "5G"]
    summary = pd.DataFrame(
        {
            "cells": cells["technology"].value_counts().reindex(order, fill_value=0),
            "sites": sites["technology"].value_counts().reindex(order, fill_value=0),
        }
    )
    return summary[(summary["cells"] > 0) | (summary["sites"] > 0)].rename_axis("technology").reset_index()


def cells_to_sites(
    cells: pd.DataFrame,
    *,
    use_range: bool = False,
    group_distance_m: float = DEFAULT_GROUP_DISTANCE_M,
    nr_gnb_bits: int = DEFAULT_NR_GNB_BITS,
) -> pd.DataFrame:
    """Group validated cells into sites (see the module docstring for the rules).

    Parameters
    ----------
    cells
        Columns ``technology`` (2G/3G/4G/5G), ``mcc``, ``mnc``, ``area``, ``cell`` (integers),
        ``lon``, ``lat``, ``range`` (m, NaN when unknown) and ``samples``.
    use_range, group_distance_m, nr_gnb_bits
        As in :func:`import_cells`.

    Returns
    -------
    pandas.DataFrame
        One row per site, columns :data:`SITE_COLUMNS`, sorted by site id.

    """
    tech = cells["technology"].to_numpy(dtype=object)
    cell = cells["cell"].to_numpy(dtype=np.int64)
    node = np.full(len(cells), -1, dtype=np.int64)
    node[tech == "4G"] = cell[tech == "4G"] // LTE_CELLS_PER_ENB
    node[tech == "5G"] = cell[tech == "5G"] >> (36 - nr_gnb_bits)
    frame = cells.assign(node_id=node, group=-1)
    frame["area_key"] = np.where(np.isin(tech, ["2G", "3G"]), cells["area"].to_numpy(), -1)
    prox = np.flatnonzero(np.isin(tech, ["2G", "3G"]))
    if len(prox):
        sub = frame.iloc[prox]
        groups = np.empty(len(prox), dtype=np.int64)
        for _, idx in sub.groupby(["technology", "mcc", "mnc", "area"], sort=False).indices.items():
            labels = _proximity_groups(
                sub["lon"].to_numpy()[idx], sub["lat"].to_numpy()[idx], group_distance_m
            )
            groups[idx] = labels
        frame.loc[frame.index[prox], "group"] = groups
    keys = ["technology", "mcc", "mnc", "area_key", "node_id", "group"]
    agg = frame.groupby(keys, sort=True).agg(
        lon=("lon", "mean"),
        lat=("lat", "mean"),
        cells=("cell", "size"),
        cell_range_m=("range", "max"),
        samples=("samples", "sum"),
        first_cell=("cell", "min"),
    )
    agg = agg.reset_index()
    is_node = agg["node_id"].to_numpy() >= 0
    ident = np.where(
        is_node,
        agg["node_id"].astype(str),
        agg["area_key"].astype(str) + "-" + agg["first_cell"].astype(str),
    )
    radio = agg["technology"].map({v: k for k, v in RADIO_TECHNOLOGY.items()})
    mnc_text = agg["mnc"].map(lambda v: f"{v:02d}")
    site_id: pd.Series = agg["mcc"].astype(str) + "-" + mnc_text + "-" + radio + "-" + ident
    out = pd.DataFrame(
        {
            "site_id": site_id,
            "operator": [operator_name(a, b) for a, b in zip(agg["mcc"], agg["mnc"], strict=True)],
            "technology": agg["technology"],
            "lon": agg["lon"].round(7),
            "lat": agg["lat"].round(7),
            "radius_m": agg["cell_range_m"] if use_range else np.nan,
            "azimuth": np.nan,
            "beamwidth": np.nan,
            "status": "existing",
            "mcc": agg["mcc"].astype(str),
            "mnc": mnc_text,
            "area": np.where(is_node, "", agg["area_key"].astype(str)),
            "node_id": np.where(is_node, agg["node_id"].astype(str), ""),
            "cells": agg["cells"].astype(np.int64),
            "cell_range_m": agg["cell_range_m"],
            "samples": agg["samples"],
        }
    )
    return out.sort_values("site_id", kind="stable").reset_index(drop=True)[list(SITE_COLUMNS)]
