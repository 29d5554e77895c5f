"""``compare``: what changes between two reports, row by row (e.g. before and after a plan).

Both sides are the report's own table (a :class:`~telecov.Result` or a ``coverage.csv``
read by :func:`read_coverage_table`); nothing is measured again.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from .errors import InputError, TelecovWarning
from .metrics import LEVEL_ORDER, PCT_COLUMN, TECH_ORDER, VALUE_COLUMNS
from .vocabulary import DEFAULT_TARGET_PCT, check_metric, check_pct

if TYPE_CHECKING:
    from .result import Result

__all__ = ["COMPARED", "compare", "comparison_columns", "read_coverage_table", "read_report"]

COMPARED = ("population_pct", "residential_pct", "area_pct", "covered_population")
"""The report's columns compared: each gets ``_before``, ``_after`` and ``_delta``."""
KEYS = ("level", "area_id", "area_name", "parent", "technology")
TEXT_COLUMNS = (*KEYS, "operator")


def comparison_columns(*, by_operator: bool = False) -> list[str]:
    """Columns of ``comparison.csv``."""
    values = [f"{m}_{side}" for m in COMPARED for side in ("before", "after", "delta")]
    return [*KEYS, *(["operator"] if by_operator else []), *values, "crossed_target"]


def _table(side: Result | pd.DataFrame) -> pd.DataFrame:
    table = side if isinstance(side, pd.DataFrame) else side.table
    missing = [c for c in (*KEYS, *COMPARED) if c not in table.columns]
    if missing:
        raise InputError(f"a coverage table lacks the column(s) {', '.join(missing)}")
    return table


def compare(
    before: Result | pd.DataFrame,
    after: Result | pd.DataFrame,
    *,
    target: float = DEFAULT_TARGET_PCT,
    metric: str = "population",
) -> pd.DataFrame:
    """Compare two reports row by row: shares and covered people before, after and the change.

    Parameters
    ----------
    before, after
        Results of :func:`telecov.analyze` or their ``coverage.csv`` tables.
    target
        Target share in percent for ``crossed_target``.
    metric
        ``population``, ``residential`` or ``area``: the share ``crossed_target`` reads.

    Returns
    -------
    pandas.DataFrame
        :func:`comparison_columns`, one row per level × area × technology (× operator) of
        either side, sorted as ``coverage.csv``; ``crossed_target`` is True where the share
        went from under ``target`` to at or above it. A row only one side has keeps empty
        values on the other (and a warning says how many).

    Raises
    ------
    InputError
        A table without the report's columns, an unknown metric or a target outside 0–100.

    Warns
    -----
    TelecovWarning
        The two sides do not hold the same rows (other areas or technologies).

    """
    target = check_pct(target)
    pct = PCT_COLUMN[check_metric(metric)]
    a, b = _table(before), _table(after)
    by_operator = "operator" in a.columns and "operator" in b.columns
    on = ["level", "area_id", "technology", *(["operator"] if by_operator else [])]
    keep = [*on, "area_name", "parent", *COMPARED]
    merged = a[keep].merge(b[keep], on=on, how="outer", suffixes=("_before", "_after"), indicator=True)
    lonely = merged["_merge"] != "both"
    if lonely.any():
        warnings.warn(
            f"compare: {int((merged['_merge'] == 'left_only').sum())} rows only before and "
            f"{int((merged['_merge'] == 'right_only').sum())} only after (other areas or technologies)",
            TelecovWarning,
            stacklevel=2,
        )
    for col in ("area_name", "parent"):
        merged[col] = merged[f"{col}_after"].where(merged["_merge"] != "left_only", merged[f"{col}_before"])
    for m in COMPARED:
        merged[f"{m}_delta"] = merged[f"{m}_after"] - merged[f"{m}_before"]
    with np.errstate(invalid="ignore"):
        under = merged[f"{pct}_before"].to_numpy(dtype=float) < target - 1e-9
        reached = merged[f"{pct}_after"].to_numpy(dtype=float) >= target - 1e-9
    merged["crossed_target"] = under & reached
    merged = merged.assign(
        _l=merged["level"].map(LEVEL_ORDER), _t=merged["technology"].map(TECH_ORDER).fillna(99)
    ).sort_values(["_l", "area_id", "_t", *(["operator"] if by_operator else [])], kind="stable")
    return merged[comparison_columns(by_operator=by_operator)].reset_index(drop=True)


def read_coverage_table(path: str | Path) -> pd.DataFrame:
    """Read a ``coverage.csv`` (ids and names as text, empty shares as NaN).

    Raises
    ------
    InputError
        Missing file or not the report's table.

    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such coverage table")
    numeric = {c: [""] for c in VALUE_COLUMNS}
    try:
        table = pd.read_csv(
            path,
            dtype={c: str for c in TEXT_COLUMNS},
            keep_default_na=False,
            na_values=numeric,
            encoding="utf-8",
        )
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: not a readable coverage table ({exc})") from exc
    missing = [c for c in (*KEYS, *COMPARED) if c not in table.columns]
    if missing:
        raise InputError(f"{path}: not a coverage table (no column {', '.join(missing)})")
    return table


def read_report(folder: str | Path) -> tuple[pd.DataFrame, gpd.GeoDataFrame | None]:
    """Read a report's output folder: its ``coverage.csv`` and (when present) ``coverage.geojson``.

    Raises
    ------
    InputError
        The folder does not exist or holds no ``coverage.csv``.

    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a report folder (no such folder)")
    if not (folder / "coverage.csv").is_file():
        raise InputError(
            f"{folder}: not a report folder (no coverage.csv; run telecov report --out {folder})"
        )
    table = read_coverage_table(folder / "coverage.csv")
    geojson = folder / "coverage.geojson"
    areas = None
    if geojson.is_file():
        import pyogrio

        areas = pyogrio.read_dataframe(geojson)
        if "area_id" in areas.columns:
            areas["area_id"] = areas["area_id"].astype(str)
    return table, areas
