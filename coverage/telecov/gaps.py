"""Gaps: the communes under a coverage target, and where exactly their uncovered people live.

:func:`gaps` reads the report's table (coverage is never computed a second way).
:func:`gap_polygons` re-runs the engine's scan lines for one layer and keeps the uncovered
residential pieces of each line, so the people in a commune's gap zones add up to its
``residential_population − covered_residential_population``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .engine.gap_tasks import gap_rectangles, gap_zones
from .engine.grid import lonlat_geometries
from .engine.partition import regions_from_geometries
from .engine.splits import few_small_members
from .errors import InputError
from .footprints import footprints_of
from .geodesy import LONLAT
from .io.population import open_population
from .metrics import PCT_COLUMN, layer_rows
from .result import population_source
from .vocabulary import DEFAULT_TARGET_PCT, check_metric, check_pct, check_technology

if TYPE_CHECKING:
    from .result import Result

__all__ = ["GAP_COLUMNS", "ZONE_COLUMNS", "GapZones", "gap_polygons", "gaps"]

GAP_COLUMNS = (
    "area_id", "area_name", "parent", "technology", "metric", "value",
    "covered_population", "uncovered_population", "has_any",
)  # fmt: skip
"""Columns of :func:`gaps`' table (``operator`` follows ``technology`` per operator)."""

ZONE_COLUMNS = ("rank", "area_id", "area_name", "parent", "technology", "population", "area_km2")
"""Attribute columns of the gap zones (``gaps.geojson`` / ``gaps.gpkg``)."""


def gaps(
    result: Result,
    *,
    technology: str = "5G",
    target: float = DEFAULT_TARGET_PCT,
    metric: str = "population",
    by_operator: bool = False,
) -> pd.DataFrame:
    """Communes whose coverage share of ``metric`` is under ``target``, most uncovered people first.

    Parameters
    ----------
    result
        Outcome of :func:`telecov.analyze` (with ``combined=True`` for ``any_mobile``/``4G+``).
    technology
        A base technology (``2G`` … ``fiber``, aliases accepted) or a combined layer.
    target
        Target share in percent (0–100).
    metric
        ``population``, ``residential`` or ``area``.
    by_operator
        One row per operator too (needs a result analyzed with ``by_operator=True``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GAP_COLUMNS` (plus ``operator`` with ``by_operator``), sorted by
        ``uncovered_population`` descending then ``area_id``. ``value`` is the share in
        percent; ``has_any`` is False when the commune has no coverage of that layer at all.
        ``attrs["left_out"]`` counts communes whose denominator is 0 (no share defined).

    Raises
    ------
    InputError
        Unknown technology or metric, target outside 0–100.

    """
    tech = check_technology(technology)
    check_metric(metric)
    target = check_pct(target)
    if by_operator and "operator" not in result.table.columns:
        raise InputError("by_operator=True needs a result analyzed with by_operator=True")
    rows = layer_rows(result, tech, operator=None if by_operator else "all")
    rows = rows[rows["level"] == "area"]
    value = rows[PCT_COLUMN[metric]]
    undefined = value.isna()
    left_out = int(rows.loc[undefined, "area_id"].nunique())
    rows = rows[~undefined & (value < target)]
    frame = pd.DataFrame(
        {
            "area_id": rows["area_id"].astype(str),
            "area_name": rows["area_name"].astype(str),
            "parent": rows["parent"].astype(str),
            "technology": tech,
            **({"operator": rows["operator"].astype(str)} if by_operator else {}),
            "metric": metric,
            "value": rows[PCT_COLUMN[metric]].astype(float),
            "covered_population": rows["covered_population"].astype(float),
            "uncovered_population": (rows["population"] - rows["covered_population"]).clip(lower=0.0),
            "has_any": rows["covered_km2"] > 0,
        }
    )
    keys = ["uncovered_population", "area_id"] + (["operator"] if by_operator else [])
    frame = frame.sort_values(keys, ascending=[False, True, *([True] if by_operator else [])], kind="stable")
    frame = frame.reset_index(drop=True)
    frame.attrs["left_out"] = left_out
    return frame


@dataclass(frozen=True)
class GapZones:
    """Uncovered residential zones of one layer (see :func:`gap_polygons`).

    Attributes
    ----------
    zones
        One feature per connected zone: :data:`ZONE_COLUMNS` and a lon/lat polygon (holes kept).
    dropped
        Zones under ``min_people`` left out.
    dropped_population
        People in the dropped zones.
    uncovered_population
        Per area id, the people in all its zones (kept and dropped).

    """

    zones: gpd.GeoDataFrame
    dropped: int
    dropped_population: float
    uncovered_population: pd.Series


def gap_polygons(
    result: Result,
    *,
    technology: str = "5G",
    min_people: float = 0.0,
    population: str | Path | Any | None = None,
    client: Any = None,
) -> GapZones:
    """Uncovered residential zones of a layer, dissolved per commune, ranked by population.

    On each of the engine's scan lines, the part of a commune's interval outside the layer's
    footprints and on residential pixels is a rectangle one strip tall; its people come from the
    same prefix sums as the report. The rectangles of a commune are dissolved into connected
    zones (``shapely.coverage_union_all`` of exactly noded rectangles; holes kept).

    Parameters
    ----------
    result
        Outcome of :func:`telecov.analyze`.
    technology
        Base technology or combined layer (the result must contain it).
    min_people
        Zones with fewer people are dropped and counted.
    population
        The population raster, when the result was made from an in-memory one.
    client
        A ``distributed.Client``: the rectangles are scanned by its workers (partitions of
        raster rows, each worker opening the raster) and the zones traced there (groups of
        areas); the zones are the same as in this process.

    Returns
    -------
    GapZones
        Zones ranked by population (rank 1 has the most people), ties by area id.

    """
    tech = check_technology(technology)
    layer_rows(result, tech)  # validates that the layer exists
    index = next(
        i for i, layer in enumerate(result.layers) if layer.technology == tech and layer.operator == "all"
    )
    if min_people < 0 or not math.isfinite(min_people):
        raise InputError(f"`min_people` {min_people:g}: must be a non-negative number")
    areas = result.areas
    fps = footprints_of(result.sites, polygons=result.shapes)
    all_members = few_small_members(fps, [np.asarray(la.members, dtype=np.int64) for la in result.layers])
    source = population_source(result, population, where="gap_polygons")
    names = areas["area_id"].astype(str).tolist()
    with open_population(source) as raster:
        rects, strips_y, base = gap_rectangles(
            client, regions_from_geometries(areas.geometry.to_numpy()), fps,
            np.asarray(result.layers[index].members, dtype=np.int64), all_members, raster, population=source,
            residential_density=float(result.run.options.residential_density),
            resolution_m=float(result.run.options.resolution_m), area_names=names,
        )  # fmt: skip
    factor = _official_factor(result, tech, base)
    people_by_area = np.bincount(rects["c"], weights=rects["people"], minlength=len(areas)).astype(float)
    zones = pd.DataFrame(gap_zones(client, rects, strips_y, area_names=names))
    zones["geometry"] = lonlat_geometries(zones["geometry"].to_numpy(), raster)
    zones["population"] = zones["population"] * factor[zones["area"].to_numpy(dtype=np.int64)]
    keep = zones["population"] >= min_people
    dropped = zones[~keep]
    ids = areas["area_id"].to_numpy(dtype=object)
    return GapZones(
        zones=_ranked(zones[keep], areas, tech),
        dropped=len(dropped),
        dropped_population=float(dropped["population"].sum()),
        uncovered_population=pd.Series(people_by_area * factor, index=pd.Index(ids, name="area_id")),
    )


def _official_factor(result: Result, technology: str, base: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per area, the factor from the raster's people to the official count (1 without one)."""
    if not result.run.options.population_field:
        return np.ones(len(result.areas))
    rows = layer_rows(result, technology)
    official = rows[rows["level"] == "area"].set_index("area_id")["population"]
    counts = official.reindex(result.areas["area_id"]).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(base[:, 0] > 0, counts / base[:, 0], 0.0)


def _ranked(zones: pd.DataFrame, areas: gpd.GeoDataFrame, technology: str) -> gpd.GeoDataFrame:
    """Zones as features with :data:`ZONE_COLUMNS`, most people first (ties by area id)."""
    area = zones["area"].to_numpy(dtype=np.int64)
    frame = pd.DataFrame(
        {
            "area_id": areas["area_id"].to_numpy(dtype=object)[area],
            "area_name": areas["area_name"].to_numpy(dtype=object)[area],
            "parent": areas["parent"].to_numpy(dtype=object)[area],
            "technology": technology,
            "population": zones["population"].to_numpy(dtype=float),
            "area_km2": zones["area_m2"].to_numpy(dtype=float) / 1e6,
        }
    )
    order = np.lexsort((frame["area_id"].to_numpy(dtype=str), -frame["population"].to_numpy()))
    frame = frame.iloc[order].reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1, dtype=np.int64))
    geoms = zones["geometry"].to_numpy()[order]
    return gpd.GeoDataFrame(frame[list(ZONE_COLUMNS)], geometry=list(geoms), crs=LONLAT)
