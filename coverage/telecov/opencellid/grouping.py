"""Cells → sites: first by what the cell ids say, then by space.

- **LTE** by ``(mcc, mnc, eNB)``, eNB = ECI // 256; **NR** by ``(mcc, mnc, gNB)``,
  gNB = NCI >> (36 − ``nr_gnb_bits``). The cells of one eNB/gNB are then split into clusters by
  single linkage at ``split_distance_m`` (eNB ids are reused across a country).
- **UMTS** by ``(mcc, mnc, RNC)``, RNC = long CID // 65536, CI = long CID mod 65536; **GSM** by
  ``(mcc, mnc, LAC)``. When an operator numbers its CIs by sector digit (at least
  ``sector_digit_share`` of its CIs of that radio have CI mod 10 in 1–9), the cells are grouped
  by node = CI // 10 within the RNC/LAC and split at ``split_distance_m``; otherwise the RNC/LAC's
  cells are clustered by single linkage at ``group_distance_m``.

Each cluster is a site at the median longitude and median latitude of its cells; its
``spread_m`` is the largest geodesic distance from the site to one of its cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..geodesy import GEOD
from .codes import (
    DEFAULT_GROUP_DISTANCE_M,
    DEFAULT_NR_GNB_BITS,
    DEFAULT_SECTOR_DIGIT_SHARE,
    DEFAULT_SPLIT_DISTANCE_M,
    LTE_CELLS_PER_ENB,
    SECTOR_DIGITS,
    TECHNOLOGY_RADIO,
    UMTS_CELLS_PER_RNC,
    operator_name,
)
from .linkage import single_linkage

SITE_COLUMNS: tuple[str, ...] = (
    "site_id", "operator", "technology", "lon", "lat", "radius_m", "azimuth", "beamwidth",
    "status", "mcc", "mnc", "area", "node_id", "rule", "cells", "spread_m", "cell_range_m", "samples",
)  # fmt: skip
"""Columns of the sites file written by :func:`~telecov.opencellid.import_cells` (a valid
``--sites`` input)."""
OPERATOR_KEYS = ["technology", "mcc", "mnc"]


@dataclass(frozen=True)
class Grouping:
    """Sites made of cells.

    Attributes
    ----------
    sites
        One row per site, columns :data:`SITE_COLUMNS`, sorted by ``site_id``.
    site_of_cell
        The ``site_id`` of each cell, in the order of the cells given.
    operators
        Per technology, mcc and mnc: ``rule``, ``distance_m`` (the linkage distance used),
        ``sector_digit_share`` (GSM/UMTS; NaN for LTE/NR) and ``groups`` (groups the ids make).

    """

    sites: pd.DataFrame
    site_of_cell: NDArray[np.object_]
    operators: pd.DataFrame


def operator_rules(
    cells: pd.DataFrame, *, sector_digit_share: float, split_distance_m: float, group_distance_m: float
) -> pd.DataFrame:
    """Rule of each operator and radio, with the share of CIs that end in a sector digit."""
    ci = _ci(cells)
    frame = cells[OPERATOR_KEYS].assign(digit=np.where(ci >= 0, ci % SECTOR_DIGITS != 0, np.nan))
    ops = frame.groupby(OPERATOR_KEYS, sort=True)["digit"].mean().rename("sector_digit_share").reset_index()
    tech = ops["technology"].to_numpy(dtype=object)
    share = ops["sector_digit_share"].to_numpy(dtype=np.float64)
    by_digit = np.where(share >= sector_digit_share, "sector-digit", "proximity")
    ops["rule"] = np.select([tech == "4G", tech == "5G"], ["enb", "gnb"], by_digit)
    ops["distance_m"] = np.where(ops["rule"] == "proximity", group_distance_m, split_distance_m)
    return ops


def _ci(cells: pd.DataFrame) -> NDArray[np.int64]:
    """CI of GSM (the cell id) and UMTS (long CID mod 65536) cells; -1 for LTE/NR."""
    tech = cells["technology"].to_numpy(dtype=object)
    cell = cells["cell"].to_numpy(dtype=np.int64)
    return np.select([tech == "2G", tech == "3G"], [cell, cell % UMTS_CELLS_PER_RNC], -1)


def _group_keys(cells: pd.DataFrame, rule: NDArray[np.object_], *, nr_gnb_bits: int) -> pd.DataFrame:
    """Zone (RNC or LAC; -1 for LTE/NR) and node (eNB, gNB, CI // 10; -1 without) of each cell."""
    tech = cells["technology"].to_numpy(dtype=object)
    cell = cells["cell"].to_numpy(dtype=np.int64)
    ci = _ci(cells)
    zone = np.select([tech == "2G", tech == "3G"], [cells["area"].to_numpy(), cell // UMTS_CELLS_PER_RNC], -1)
    node = np.select(
        [tech == "4G", tech == "5G", rule == "sector-digit"],
        [cell // LTE_CELLS_PER_ENB, cell >> (36 - nr_gnb_bits), ci // SECTOR_DIGITS],
        -1,
    )
    return pd.DataFrame({"zone": zone.astype(np.int64), "node": node.astype(np.int64), "ci": ci})


def group_cells(
    cells: pd.DataFrame,
    *,
    split_distance_m: float = DEFAULT_SPLIT_DISTANCE_M,
    group_distance_m: float = DEFAULT_GROUP_DISTANCE_M,
    sector_digit_share: float = DEFAULT_SECTOR_DIGIT_SHARE,
    nr_gnb_bits: int = DEFAULT_NR_GNB_BITS,
    use_range: bool = False,
) -> Grouping:
    """Group validated cells into sites (see the module docstring for the rules).

    Parameters
    ----------
    cells
        Columns ``technology`` (2G/3G/4G/5G), ``mcc``, ``mnc``, ``area``, ``cell`` (integers),
        ``lon``, ``lat``, ``range`` (m, NaN when unknown) and ``samples``; optionally ``row``.
    split_distance_m, group_distance_m, sector_digit_share, nr_gnb_bits, use_range
        As in :func:`~telecov.opencellid.import_cells`.

    Returns
    -------
    Grouping

    """
    ops = operator_rules(
        cells, sector_digit_share=sector_digit_share,
        split_distance_m=split_distance_m, group_distance_m=group_distance_m,
    )  # fmt: skip
    frame = cells.reset_index(drop=True).merge(ops, on=OPERATOR_KEYS, how="left", validate="many_to_one")
    keys = _group_keys(frame, frame["rule"].to_numpy(dtype=object), nr_gnb_bits=nr_gnb_bits)
    frame = pd.concat([frame, keys], axis=1)
    if "row" not in frame.columns:
        frame["row"] = np.arange(1, len(frame) + 1)
    group: NDArray[np.int64] = np.asarray(
        frame.groupby([*OPERATOR_KEYS, "zone", "node"], sort=False).ngroup(), dtype=np.int64
    )
    frame["cluster"] = single_linkage(
        group, frame["lon"].to_numpy(), frame["lat"].to_numpy(), frame["distance_m"].to_numpy()
    )
    groups = pd.Series(group).groupby([frame[k] for k in OPERATOR_KEYS]).nunique().rename("groups")
    ops = ops.merge(groups.reset_index(), on=OPERATOR_KEYS, how="left")
    sites, site_of = _sites(frame, use_range=use_range)
    return Grouping(sites=sites, site_of_cell=site_of, operators=ops)


def cells_to_sites(cells: pd.DataFrame, **options: Any) -> pd.DataFrame:
    """Return the sites of :func:`group_cells` alone (same options)."""
    return group_cells(cells, **options).sites


def _sites(frame: pd.DataFrame, *, use_range: bool) -> tuple[pd.DataFrame, NDArray[np.object_]]:
    """One site per cluster (median position) and the site id of each cell."""
    frame = frame.assign(lon=_unwrapped(frame["lon"].to_numpy(), frame["cluster"].to_numpy()))
    agg = frame.groupby("cluster", sort=False).agg(
        technology=("technology", "first"), mcc=("mcc", "first"), mnc=("mnc", "first"),
        zone=("zone", "first"), node=("node", "first"), rule=("rule", "first"),
        lon=("lon", "median"), lat=("lat", "median"), cells=("cell", "size"),
        areas=("area", "nunique"), area=("area", "first"), first_ci=("ci", "min"),
        first_cell=("cell", "min"), first_row=("row", "min"),
        cell_range_m=("range", "max"), samples=("samples", "sum"),
    )  # fmt: skip
    agg["lon"] = (agg["lon"] + 180.0) % 360.0 - 180.0
    pos = agg.index.get_indexer(pd.Index(frame["cluster"]))
    _, _, dist = GEOD.inv(
        frame["lon"].to_numpy(),
        frame["lat"].to_numpy(),
        agg["lon"].to_numpy()[pos],
        agg["lat"].to_numpy()[pos],
    )
    agg["spread_m"] = pd.Series(np.asarray(dist), index=frame.index).groupby(pos).max().to_numpy().round(1)
    agg["site_id"] = _site_ids(agg)
    site_of = agg["site_id"].to_numpy(dtype=object)[pos]
    mnc_text = agg["mnc"].map(lambda v: f"{v:02d}")
    by_id = agg["node"].to_numpy() >= 0
    zone_text = np.where(agg["zone"].to_numpy() >= 0, agg["zone"].astype(str) + ".", "")
    node_text = zone_text + agg["node"].astype(str)
    out = pd.DataFrame(
        {
            "site_id": agg["site_id"],
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
            "area": np.where(agg["areas"].to_numpy() == 1, agg["area"].astype(str), ""),
            "node_id": np.where(by_id, node_text, ""),
            "rule": agg["rule"],
            "cells": agg["cells"].astype(np.int64),
            "spread_m": agg["spread_m"],
            "cell_range_m": agg["cell_range_m"],
            "samples": agg["samples"],
        }
    )
    return out.sort_values("site_id", kind="stable").reset_index(drop=True)[list(SITE_COLUMNS)], site_of


def _unwrapped(lon: NDArray[np.float64], cluster: NDArray[np.int64]) -> NDArray[np.float64]:
    """Longitudes within 180° of one cell of their cluster (for a site across the antimeridian)."""
    ref = lon[cluster]
    return np.asarray(ref + ((lon - ref + 180.0) % 360.0 - 180.0), dtype=np.float64)


def _site_ids(agg: pd.DataFrame) -> pd.Series:
    """``mcc-mnc-RADIO-`` + eNB/gNB, ``zone.node`` or ``zone.c<first CI>``; ``/k`` when shared.

    Clusters that share a name (the cells of one eNB split by distance, say) are told apart by
    ``/1``, ``/2``, … in the order of their smallest cell id.
    """
    zone, node = agg["zone"].astype(str), agg["node"].astype(str)
    part = np.where(
        agg["zone"].to_numpy() < 0,
        node,
        zone + "." + np.where(agg["node"].to_numpy() >= 0, node, "c" + agg["first_ci"].astype(str)),
    )
    radio = agg["technology"].map(TECHNOLOGY_RADIO)
    base: pd.Series = (
        agg["mcc"].astype(str) + "-" + agg["mnc"].map(lambda v: f"{v:02d}") + "-" + radio + "-" + part
    )
    order = agg.assign(base=base.to_numpy()).sort_values(["base", "first_cell", "first_row"], kind="stable")
    rank = order.groupby("base", sort=False).cumcount() + 1
    shared = order.groupby("base", sort=False)["base"].transform("size") > 1
    named = order["base"].where(~shared, order["base"] + "/" + rank.astype(str))
    return named.reindex(agg.index)
