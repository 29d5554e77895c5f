"""What an import found: per operator and radio, the rule used, cells per site and their spread."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .codes import TECHNOLOGY_RADIO, operator_name
from .grouping import Grouping

SUMMARY_COLUMNS: tuple[str, ...] = (
    "technology", "radio", "mcc", "mnc", "operator", "rule", "distance_m", "sector_digit_share",
    "cells", "groups", "sites", "cells_per_site", "spread_median_m", "spread_p90_m", "spread_max_m",
)  # fmt: skip
"""Columns of :attr:`~telecov.opencellid.CellImport.summary` (one row per operator and radio).

``rule``: ``enb``, ``gnb``, ``sector-digit`` (by what the ids say, then split at ``distance_m``)
or ``proximity`` (single linkage at ``distance_m``); ``sector_digit_share``: the share of the
operator's CIs with CI mod 10 in 1–9 (GSM/UMTS); ``groups``: groups the ids make before the
spatial step (eNBs, gNBs, nodes; RNCs or LACs for ``proximity``); ``spread_*``: median, 90th
percentile and largest ``spread_m`` of the sites with two or more cells (empty when none).
"""
TECHNOLOGY_COLUMNS: tuple[str, ...] = ("technology", "cells", "sites", "cells_per_site")


def summarize(grouping: Grouping) -> pd.DataFrame:
    """One row per operator and radio, columns :data:`SUMMARY_COLUMNS`, sorted by technology."""
    sites = grouping.sites.assign(
        mcc=grouping.sites["mcc"].astype(np.int64), mnc=grouping.sites["mnc"].astype(np.int64)
    )
    keys = ["technology", "mcc", "mnc"]
    multi = sites["spread_m"].where(sites["cells"] >= 2)
    stats = (
        sites.assign(multi=multi)
        .groupby(keys, sort=True)
        .agg(
            cells=("cells", "sum"),
            sites=("site_id", "size"),
            spread_median_m=("multi", "median"),
            spread_p90_m=("multi", lambda s: s.quantile(0.9)),
            spread_max_m=("multi", "max"),
        )
    )
    out = grouping.operators.merge(stats.reset_index(), on=keys, how="left", validate="one_to_one")
    out["radio"] = out["technology"].map(TECHNOLOGY_RADIO)
    out["operator"] = [operator_name(a, b) for a, b in zip(out["mcc"], out["mnc"], strict=True)]
    out["cells_per_site"] = (out["cells"] / out["sites"]).round(3)
    out["sector_digit_share"] = out["sector_digit_share"].round(4)
    for col in ("spread_median_m", "spread_p90_m", "spread_max_m"):
        out[col] = out[col].round(1)
    out["mcc"] = out["mcc"].astype(str)
    out["mnc"] = out["mnc"].map(lambda v: f"{v:02d}")
    return out[list(SUMMARY_COLUMNS)].reset_index(drop=True)


def by_technology(summary: pd.DataFrame) -> pd.DataFrame:
    """Cells, sites and cells per site per technology, columns :data:`TECHNOLOGY_COLUMNS`."""
    totals = summary.groupby("technology", sort=True)[["cells", "sites"]].sum().reset_index()
    totals["cells_per_site"] = (totals["cells"] / totals["sites"]).round(3)
    return totals[list(TECHNOLOGY_COLUMNS)]
