"""Turn the engine's raw sums into the output contract's table and per-area columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from .engine.scan import Measures
from .errors import InputError
from .footprints import Layer
from .vocabulary import BASE_TECHNOLOGIES, COMBINED_LAYERS, check_technology

if TYPE_CHECKING:
    from .io.population import PopulationRaster
    from .result import Result

VALUE_COLUMNS = (
    "area_km2", "covered_km2", "area_pct",
    "population", "covered_population", "population_pct",
    "residential_km2", "covered_residential_km2", "residential_pct",
    "residential_population", "covered_residential_population", "sites",
)  # fmt: skip
"""Metric columns of ``coverage.csv``, in order (``sites``: distinct counted sites located in the area)."""

RANGE_COLUMNS = (
    "covered_population_low", "covered_population_high", "population_pct_low", "population_pct_high",
)  # fmt: skip
"""Columns added after :data:`VALUE_COLUMNS` with ``radius_uncertainty``: the covered people and
their share with every footprint's reach shrunk (``low``) and grown (``high``) by that percentage."""

DENSITY_SUSPECT_PIXEL_KM2 = 0.25
"""Pixels smaller than this (km²) whose values read as counts look like densities when ..."""
DENSITY_SUSPECT_PER_KM2 = 50_000.0
"""... they imply more people per km² than this over all the areas together."""

TECH_ORDER = {t: i for i, t in enumerate((*BASE_TECHNOLOGIES, *COMBINED_LAYERS))}
LEVEL_ORDER = {"area": 0, "parent": 1, "total": 2}
PCT_COLUMN = {"population": "population_pct", "residential": "residential_pct", "area": "area_pct"}
"""The share column of each metric."""


def table_columns(*, by_operator: bool, ranged: bool = False) -> list[str]:
    """Column names of ``coverage.csv`` (``ranged``: with :data:`RANGE_COLUMNS`)."""
    keys = ["level", "area_id", "area_name", "parent", "technology"]
    return [*keys, *(["operator"] if by_operator else []), *VALUE_COLUMNS, *(RANGE_COLUMNS if ranged else ())]


def _pct(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(den > 0, 100.0 * num / den, np.nan)
    return np.clip(pct, 0.0, 100.0)


def rescale_official(
    measures: Measures,
    official: NDArray[np.float64],
    parent: NDArray[np.int64],
    n_parents: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Rescale population sums so each area's total equals its official count.

    Percentages within an area are unchanged; parent and total rows become sums of their
    areas' rescaled counts. Returns (base, covered) arrays like ``measures``.
    """
    base = measures.base.copy()
    cov = measures.covered.copy()
    n = official.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(base[:n, 1] > 0, official / base[:n, 1], np.nan)
    base[:n, 3] = base[:n, 3] * factor
    base[:n, 1] = official
    cov[:n, :, 1] = cov[:n, :, 1] * factor[:, None]
    cov[:n, :, 3] = cov[:n, :, 3] * factor[:, None]
    for k in (1, 3):
        for p in range(n_parents):
            members = parent == p
            base[n + p, k] = np.nansum(base[:n, k][members])
            cov[n + p, :, k] = np.nansum(cov[:n, :, k][members], axis=0)
        base[-1, k] = np.nansum(base[:n, k])
        cov[-1, :, k] = np.nansum(cov[:n, :, k], axis=0)
    return base, cov


def coverage_table(
    base: NDArray[np.float64],
    covered: NDArray[np.float64],
    *,
    area_ids: Sequence[str],
    area_names: Sequence[str],
    area_parents: Sequence[str],
    parent_names: Sequence[str],
    layers: Sequence[Layer],
    by_operator: bool,
    sites: NDArray[np.int64] | None = None,
    population_range: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
) -> pd.DataFrame:
    """Build the contract's table: one row per region × layer, sorted by level, area_id, technology.

    Parameters
    ----------
    base, covered
        Sums per region (and layer) in m² and people: area, population, residential area,
        residential population.
    area_ids, area_names, area_parents
        Per area, in engine order.
    parent_names
        Per parent group, in engine order.
    layers
        The layers of ``covered``'s second axis.
    by_operator
        Whether to include the ``operator`` column.
    sites
        Distinct counted sites per region and layer (:func:`site_counts`); zeros when None.
    population_range
        Covered people per region and layer with the footprints shrunk and grown (low, high):
        adds :data:`RANGE_COLUMNS`; None: no such columns.

    """
    n_areas = len(area_ids)
    level = ["area"] * n_areas + ["parent"] * len(parent_names) + ["total"]
    ids = [*area_ids, *parent_names, "ALL"]
    names = [*area_names, *parent_names, "All areas"]
    parents = [*area_parents, *([""] * len(parent_names)), ""]
    n_regions = len(ids)
    if sites is None:
        sites = np.zeros((n_regions, len(layers)), dtype=np.int64)
    frames = []
    for li, layer in enumerate(layers):
        b = base
        c = covered[:, li, :]
        frame = pd.DataFrame(
            {
                "level": level, "area_id": ids, "area_name": names, "parent": parents,
                "technology": layer.technology, "operator": layer.operator,
                "area_km2": b[:, 0] / 1e6, "covered_km2": c[:, 0] / 1e6, "area_pct": _pct(c[:, 0], b[:, 0]),
                "population": b[:, 1], "covered_population": c[:, 1],
                "population_pct": _pct(c[:, 1], b[:, 1]), "residential_km2": b[:, 2] / 1e6,
                "covered_residential_km2": c[:, 2] / 1e6, "residential_pct": _pct(c[:, 2], b[:, 2]),
                "residential_population": b[:, 3], "covered_residential_population": c[:, 3],
                "sites": sites[:, li],
            },
            index=pd.RangeIndex(n_regions),
        )  # fmt: skip
        if population_range is not None:
            frame = frame.assign(**_range_columns(population_range, li, c[:, 1], b[:, 1]))
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    # covered never exceeds its whole (float sums can overshoot by an ulp)
    for part, whole in (("covered_km2", "area_km2"), ("covered_population", "population"),
                        ("covered_residential_km2", "residential_km2"),
                        ("covered_residential_population", "residential_population")):  # fmt: skip
        table[part] = np.minimum(table[part], table[whole])
    table = table.assign(
        _l=table["level"].map(LEVEL_ORDER),
        _t=table["technology"].map(TECH_ORDER),
        _o=(table["operator"] != "all").astype(int),
    ).sort_values(["_l", "area_id", "_t", "_o", "operator"], kind="stable")
    columns = table_columns(by_operator=by_operator, ranged=population_range is not None)
    return table[columns].reset_index(drop=True)


def _range_columns(
    population_range: tuple[NDArray[np.float64], NDArray[np.float64]],
    layer: int,
    covered: NDArray[np.float64],
    people: NDArray[np.float64],
) -> dict[str, NDArray[np.float64]]:
    """Return the :data:`RANGE_COLUMNS` of one layer: low and high covered people and their shares.

    The shrunk footprints lie in the central ones and those in the grown ones, so low ≤ covered
    ≤ high; the low and high figures come from their own engine run, whose scan strips differ,
    so where the three agree (an area covered whole at every scale) sampling can put them a
    few millionths of the people apart: the range is widened to hold ``covered``.
    """
    mid = np.minimum(covered, people)
    low, high = (np.minimum(r[:, layer], people) for r in population_range)
    low, high = np.minimum(low, mid), np.maximum(high, mid)
    return {
        "covered_population_low": low, "covered_population_high": high,
        "population_pct_low": _pct(low, people), "population_pct_high": _pct(high, people),
    }  # fmt: skip


def site_counts(
    sites: pd.DataFrame,
    layers: Sequence[Layer],
    areas: NDArray[np.object_],
    parent: NDArray[np.int64],
    n_parents: int,
) -> NDArray[np.int64]:
    """Distinct counted ``site_id``s of each layer located in each region (area, parent, total).

    A site lies in every area whose polygon contains or touches its point; sectors of one site
    (rows sharing a ``site_id``) count once, and once in a parent or the total however many of
    its areas hold it. Returns an array (areas + parents + 1, layers).
    """
    n_areas = len(areas)
    out = np.zeros((n_areas + n_parents + 1, len(layers)), dtype=np.int64)
    if len(sites) == 0 or n_areas == 0 or not layers:
        return out
    # each area queries a tree of the points (a prepared polygon against many points is fast)
    area, point = shapely.STRtree(sites.geometry.to_numpy()).query(areas, predicate="intersects")
    sid, uniques = pd.factorize(sites["site_id"].astype(str))
    n_sid = max(len(uniques), 1)
    for li, layer in enumerate(layers):
        member = np.zeros(len(sites), dtype=bool)
        member[np.asarray(layer.members, dtype=np.int64)] = True
        keep = member[point]
        a, s = area[keep], sid[point[keep]]
        out[:n_areas, li] = np.bincount(np.unique(a * n_sid + s) // n_sid, minlength=n_areas)
        g = parent[a]
        sel = g >= 0
        if n_parents:
            pairs = np.unique(g[sel] * n_sid + s[sel])
            out[n_areas : n_areas + n_parents, li] = np.bincount(pairs // n_sid, minlength=n_parents)
        out[-1, li] = np.unique(s).shape[0]
    return out


def density_suspicion(raster: PopulationRaster, measures: Measures, n_areas: int) -> str | None:
    """Return a warning when a raster read as counts looks like a density grid, else None.

    Said when the unit was not given, the pixels are much smaller than 1 km²
    (:data:`DENSITY_SUSPECT_PIXEL_KM2`) and their values, read as people per pixel, would put
    more than :data:`DENSITY_SUSPECT_PER_KM2` people per km² over all the areas together.
    """
    if raster.unit_given or raster.unit != "count" or n_areas == 0:
        return None
    pixel_km2 = measures.pixel_m2 / 1e6
    area_km2 = float(measures.base[:n_areas, 0].sum()) / 1e6
    people = float(measures.base[:n_areas, 1].sum())
    if not (0.0 < pixel_km2 < DENSITY_SUSPECT_PIXEL_KM2) or area_km2 <= 0.0:
        return None
    density = people / area_km2
    if density <= DENSITY_SUSPECT_PER_KM2:
        return None
    return (
        f"{raster.name}: read as people per pixel, its {pixel_km2:.4g} km² pixels put {density:,.0f} people "
        f"per km² over the areas; if it holds people per km², say so with `population_unit`=density "
        "(or `population_unit`=count to keep counts and silence this)"
    )


def area_metrics(table: pd.DataFrame) -> pd.DataFrame:
    """Wide per-area metrics ``<technology>_<metric>`` (operator ``all``), indexed by area_id."""
    rows = table[table["level"] == "area"]
    if "operator" in rows.columns:
        rows = rows[rows["operator"] == "all"]
    values = [*VALUE_COLUMNS, *(c for c in RANGE_COLUMNS if c in rows.columns)]
    wide = rows.pivot(index="area_id", columns="technology", values=values)
    order = sorted(wide.columns, key=lambda c: (TECH_ORDER.get(c[1], 99), values.index(c[0])))
    wide = wide[order]
    wide.columns = [f"{col[1]}_{col[0]}" for col in wide.columns]
    return wide


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
