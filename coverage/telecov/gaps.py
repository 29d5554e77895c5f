"""Gaps: the communes under a coverage target, and where exactly their uncovered people live.

:func:`gaps` reads the report's table (coverage is never computed a second way).
:func:`gap_polygons` re-runs the engine's scan lines for one layer and keeps the uncovered
residential pieces of each line, so the people in a commune's gap zones add up to its
``residential_population − covered_residential_population``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from .engine.scan import bands, few_small_members, regions_from_geometries
from .errors import InputError
from .footprints import footprints_of
from .engine.gap_kernels import gap_band, merge_and_node, rings
from .geodesy import LONLAT
from .io.population import PopulationRaster, open_population
from .vocabulary import COMBINED_LAYERS, DEFAULT_TARGET_PCT, METRICS, normalize_layer

if TYPE_CHECKING:
    from .analysis import Result
    from .engine.scan import Footprints, Regions

log = logging.getLogger(__name__)

GAP_COLUMNS = (
    "area_id", "area_name", "parent", "technology", "metric", "value",
    "covered_population", "uncovered_population", "has_any",
)  # fmt: skip
"""Columns of :func:`gaps`' table (``operator`` follows ``technology`` per operator)."""

ZONE_COLUMNS = ("rank", "area_id", "area_name", "parent", "technology", "population", "area_km2")
"""Attribute columns of the gap zones (``gaps.geojson`` / ``gaps.gpkg``)."""

PCT_COLUMN = {"population": "population_pct", "residential": "residential_pct", "area": "area_pct"}


def check_metric(metric: str, *, where: str = "--metric") -> str:
    """Return ``metric`` if it is one of ``population``, ``residential``, ``area``.

    Raises
    ------
    InputError
        Unknown metric, naming ``where`` it came from.

    """
    if metric not in METRICS:
        raise InputError(f"{where} {metric!r}: unknown metric (expected one of {', '.join(METRICS)})")
    return metric


def check_technology(technology: str, *, where: str = "--technology") -> str:
    """Canonical name of a base technology or combined layer (``any_mobile``, ``4G+``).

    Raises
    ------
    InputError
        Unknown technology, naming ``where`` it came from.

    """
    name = normalize_layer(technology) if isinstance(technology, str) else None
    if name is None:
        known = ", ".join(["2G", "3G", "4G", "5G", "fiber", *COMBINED_LAYERS])
        raise InputError(f"{where} {technology!r}: unknown technology (expected one of {known})")
    return name


def check_pct(value: float, *, where: str = "--target") -> float:
    """Return ``value`` as a float if it is a percentage between 0 and 100."""
    pct = float(value)
    if not math.isfinite(pct) or not 0 <= pct <= 100:
        raise InputError(f"{where} {value:g}: must be between 0 and 100")
    return pct


def needs_combined(*technologies: str) -> bool:
    """Whether any of the (canonical) technologies is a combined layer."""
    return any(t in COMBINED_LAYERS for t in technologies)


def layer_rows(result: Result, technology: str, *, operator: str | None = "all") -> pd.DataFrame:
    """Return the table's rows of one technology (and operator; None keeps every operator).

    Raises
    ------
    InputError
        The technology is unknown, or a combined layer the result was not analyzed with.

    """
    tech = check_technology(technology)
    table = result.table
    if tech not in set(table["technology"]):
        raise InputError(
            f"technology {tech!r} is a combined layer not in this result; analyze with combined=True"
            " (the CLI does this by itself)"
        )
    rows = table[table["technology"] == tech]
    if operator is not None and "operator" in rows.columns:
        rows = rows[rows["operator"] == operator]
    return rows


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


def _population_source(result: Result, population: str | Path | Any | None) -> str | Path | Any:
    if population is not None:
        return population
    path = result.run.get("inputs", {}).get("population", {}).get("path")
    if not path:
        raise InputError("the result was made from an in-memory raster: pass population= to gap_polygons")
    return Path(path)


def gap_polygons(
    result: Result,
    *,
    technology: str = "5G",
    min_people: float = 0.0,
    population: str | Path | Any | None = None,
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
        raise InputError(f"--min-people {min_people:g}: must be a non-negative number")
    options = result.run["options"]
    areas = result.areas
    regions = regions_from_geometries(areas.geometry.to_numpy())
    fps = footprints_of(result.sites)
    all_members = few_small_members(fps, [np.asarray(la.members, dtype=np.int64) for la in result.layers])
    raster = open_population(_population_source(result, population))
    try:
        rects, strips_y, base = _rectangles(
            regions, fps, np.asarray(result.layers[index].members, dtype=np.int64), all_members, raster,
            residential_density=float(options["residential_density"]),
            resolution_m=float(options["resolution_m"]),
        )  # fmt: skip
    finally:
        raster.close()
    n_areas = len(areas)
    factor = np.ones(n_areas)
    if options.get("population_field"):
        rows = layer_rows(result, tech)
        official = rows[rows["level"] == "area"].set_index("area_id")["population"]
        counts = official.reindex(areas["area_id"]).to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(base[:, 0] > 0, counts / base[:, 0], 0.0)
    zones, people_by_area = _zones(rects, strips_y, n_areas)
    zones["population"] = zones["population"] * factor[zones["area"].to_numpy(dtype=np.int64)]
    people_by_area = people_by_area * factor
    keep = zones["population"] >= min_people
    dropped = zones[~keep]
    zones = zones[keep]
    ids = areas["area_id"].to_numpy(dtype=object)
    frame = pd.DataFrame(
        {
            "area_id": ids[zones["area"].to_numpy(dtype=np.int64)],
            "area_name": areas["area_name"].to_numpy(dtype=object)[zones["area"].to_numpy(dtype=np.int64)],
            "parent": areas["parent"].to_numpy(dtype=object)[zones["area"].to_numpy(dtype=np.int64)],
            "technology": tech,
            "population": zones["population"].to_numpy(dtype=float),
            "area_km2": zones["area_m2"].to_numpy(dtype=float) / 1e6,
        }
    )
    order = np.lexsort((frame["area_id"].to_numpy(dtype=str), -frame["population"].to_numpy()))
    frame = frame.iloc[order].reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1, dtype=np.int64))
    geoms = zones["geometry"].to_numpy()[order]
    out = gpd.GeoDataFrame(frame[list(ZONE_COLUMNS)], geometry=list(geoms), crs=LONLAT)
    return GapZones(
        zones=out,
        dropped=len(dropped),
        dropped_population=float(dropped["population"].sum()),
        uncovered_population=pd.Series(people_by_area, index=pd.Index(ids, name="area_id")),
    )


def _rectangles(
    regions: Regions,
    footprints: Footprints,
    members: NDArray[np.int64],
    all_members: NDArray[np.int64],
    raster: PopulationRaster,
    *,
    residential_density: float,
    resolution_m: float,
) -> tuple[dict[str, NDArray[Any]], tuple[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]:
    """Uncovered residential rectangles on the engine's strips (a copy of its banding)."""
    n_areas = regions.n_areas
    base = np.zeros((n_areas, 2))
    empty: dict[str, NDArray[Any]] = {
        k: np.zeros(0, dtype=np.int64 if k in ("c", "s") else np.float64)
        for k in ("c", "s", "lo", "hi", "people", "area")
    }
    parts: list[tuple[NDArray[Any], ...]] = []
    tops_all: list[NDArray[np.float64]] = []
    bottoms_all: list[NDArray[np.float64]] = []
    strip0 = 0
    for band in bands(
        regions, footprints, [members], raster, residential_density=residential_density,
        resolution_m=resolution_m, cap_members=all_members,
    ):  # fmt: skip
        ex0, ey0, ex1, ey1, owner, e_first, e_last = band.edges
        m_first, m_last, _, m_fp = band.members
        *arrays, count = gap_band(
            band.rows, band.sptr, band.mids, band.area_deg, band.weight, band.lon0, band.dx,
            band.pop, band.res, ex0, ey0, ex1, ey1, owner, e_first, e_last,
            footprints.lon, footprints.lat, band.m0, footprints.radius, footprints.azimuth,
            footprints.width, m_first, m_last, m_fp, strip0, base,
        )  # fmt: skip
        parts.append(tuple(a[:count] for a in arrays))
        tops_all.append(band.tops)
        bottoms_all.append(band.bottoms)
        strip0 += band.tops.shape[0]
    if not parts:
        return empty, (np.zeros(0), np.zeros(0)), base
    rects = {
        k: np.concatenate([p[i] for p in parts])
        for i, k in enumerate(("c", "s", "lo", "hi", "people", "area"))
    }
    return rects, (np.concatenate(tops_all), np.concatenate(bottoms_all)), base


def _zones(
    rects: dict[str, NDArray[Any]],
    strips_y: tuple[NDArray[np.float64], NDArray[np.float64]],
    n_areas: int,
) -> tuple[pd.DataFrame, NDArray[np.float64]]:
    """Dissolve rectangles into connected zones: area index, people, m² and polygon."""
    people_by_area = np.bincount(rects["c"], weights=rects["people"], minlength=n_areas).astype(float)
    if rects["c"].shape[0] == 0:
        return pd.DataFrame(
            {"area": np.zeros(0, np.int64), "population": [], "area_m2": [], "geometry": []}
        ), people_by_area
    order = np.lexsort((rects["lo"], rects["c"], rects["s"]))
    r = {k: v[order] for k, v in rects.items()}
    tops, bottoms = strips_y
    mc, ms0, ms1, mlo, mhi, mpp, mar, comp, nd_r, nd_e, nd_x = merge_and_node(
        r["c"], r["s"], r["lo"], r["hi"], r["people"], r["area"], tops, bottoms
    )
    node_order = np.lexsort((nd_x, nd_e, nd_r))
    xy, ring_of = rings(
        mlo, mhi, bottoms[ms1], tops[ms0], nd_r[node_order], nd_e[node_order], nd_x[node_order]
    )
    polys = shapely.polygons(shapely.linearrings(xy, indices=ring_of))
    labels, inverse = np.unique(comp, return_inverse=True)
    by_zone = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[by_zone], np.arange(labels.shape[0] + 1))
    geoms = np.empty(labels.shape[0], dtype=object)
    for z in range(labels.shape[0]):
        members = by_zone[bounds[z] : bounds[z + 1]]
        if members.shape[0] == 1:
            geoms[z] = polys[members[0]]
        else:
            geoms[z] = shapely.coverage_union_all(polys[members])
    geoms = shapely.simplify(geoms, 0.0, preserve_topology=False)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    zones = pd.DataFrame(
        {
            "area": mc[labels],
            "population": np.bincount(inverse, weights=mpp, minlength=labels.shape[0]),
            "area_m2": np.bincount(inverse, weights=mar, minlength=labels.shape[0]),
            "geometry": geoms,
        }
    )
    return zones, people_by_area
