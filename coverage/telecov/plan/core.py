"""``plan_sites``: where to build next — new sites or upgrades picked to reach a coverage target.

The plan is made on the report's engine: candidates are measured on the report's own scan
lines (:mod:`telecov.engine.gains`), picked by a lazy greedy (:mod:`telecov.plan.greedy`), and
the coverage after the plan is a report run on the existing and the picked sites.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..engine.gain_tasks import gain_model_on
from ..engine.gains import Candidates, GainModel, Pairs
from ..engine.partition import Footprints, regions_from_geometries
from ..engine.splits import few_small_members
from ..errors import InputError, TelecovWarning
from ..footprints import footprints_of
from ..geodesy import LONLAT
from ..io.population import open_population
from ..metrics import VALUE_COLUMNS, layer_rows
from ..result import population_source
from ..vocabulary import BASE_TECHNOLOGIES, DEFAULT_TARGET_PCT, check_pct, check_technology
from .candidates import CandidateSet, gather_candidates
from .greedy import TOLERANCE_PCT, Goal, LazyGreedy, Outcome
from .radio import after_options, candidate_shapes, existing_shapes, radio_record, report_rows

if TYPE_CHECKING:
    from ..result import Result

log = logging.getLogger(__name__)

SCOPES = ("total", "parent", "area")
PLAN_METRICS = ("population", "residential")
STOP_REASONS = ("target", "budget", "min_gain", "candidates")
"""Why a plan stops: the target is met, the budget is spent, the next site would add fewer
than ``min_gain`` people, or no candidate adds anything more."""
FIELDS = {"population": (1, 1), "residential": (2, 3)}
"""Per metric: the index of its covered quantity (people, residential m²) and of its people."""
PICK_KEYS = (
    "rank", "site_id", "source", "lon", "lat", "technology", "radius_m", "sectors", "azimuth", "beamwidth",
    "cost", "area_id", "area_name", "parent", "marginal_people", "cumulative_people",
)  # fmt: skip
"""The first columns of :attr:`SitePlan.picks`; the metric's share columns follow."""


def pick_columns(metric: str) -> list[str]:
    """Columns of ``planned_sites.csv`` for ``metric``."""
    extra = ["marginal_residential_km2"] if metric == "residential" else []
    return [*PICK_KEYS, *extra, f"cumulative_{metric}_pct", f"commune_{metric}_pct"]


@dataclass(frozen=True)
class SitePlan:
    """Outcome of :func:`plan_sites`.

    Attributes
    ----------
    picks
        One row per planned site in the order picked (:func:`pick_columns`).
    after
        The report's :class:`~telecov.Result` on the existing and the planned sites.
    stop_reason
        One of :data:`STOP_REASONS`.
    message
        What happened, in a sentence (target reached, nothing to add, how far it got).
    reached
        Whether the target is met after the plan.
    candidates
        The candidates used and refused (``rejected``: source, columns, row, field, reason).
    summary
        Options, shares before and after, counts and timings (``plan.json``).

    """

    picks: pd.DataFrame
    after: Result
    stop_reason: str
    message: str
    reached: bool
    candidates: CandidateSet
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Setup:
    """The checked options of a plan."""

    technology: str
    metric: str
    goal: Goal


def check_plan(
    *,
    technology: str,
    target: float = DEFAULT_TARGET_PCT,
    metric: str = "population",
    scope: str = "total",
    budget: int | None = None,
    budget_cost: float | None = None,
    min_gain: float = 1.0,
    min_spacing: float | None = None,
    grid: float | None = None,
) -> Goal:
    """Check a plan's options before any work (every problem names its parameter).

    Raises
    ------
    InputError
        An option out of range: e.g. `budget` 0 or negative, an unknown scope or metric.

    """
    tech = check_technology(technology)
    if tech not in BASE_TECHNOLOGIES:
        raise InputError(
            f"`technology` {technology}: plan a base technology ({', '.join(BASE_TECHNOLOGIES)})"
        )
    if metric not in PLAN_METRICS:
        raise InputError(f"`metric` {metric!r}: plans use one of {', '.join(PLAN_METRICS)}")
    if scope not in SCOPES:
        raise InputError(f"`scope` {scope!r}: expected one of {', '.join(SCOPES)}")
    if budget is not None and (isinstance(budget, bool) or int(budget) != budget or budget < 1):
        raise InputError(f"`budget` {budget}: must be a whole number of sites, at least 1")
    for name, value in (("budget_cost", budget_cost), ("grid", grid)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise InputError(f"`{name}` {value:g}: must be a positive number")
    if not (math.isfinite(min_gain) and min_gain >= 0):
        raise InputError(f"`min_gain` {min_gain:g}: must be a non-negative number of people")
    if min_spacing is not None and not (math.isfinite(min_spacing) and min_spacing >= 0):
        raise InputError(f"`min_spacing` {min_spacing:g}: must be a non-negative number of metres")
    field_, people = FIELDS[metric]
    return Goal(
        scope=scope, target=check_pct(target), field=field_, people=people, min_gain=float(min_gain),
        budget=None if budget is None else int(budget), budget_cost=budget_cost, min_spacing=min_spacing,
    )  # fmt: skip


def _setup(result: Result, *, technology: str, **options: Any) -> _Setup:
    """Check the options, and those the result must allow."""
    goal = check_plan(technology=technology, **options)
    if goal.scope == "parent" and not result.run.options.parent:
        raise InputError("`scope` parent: the result has no `parent` field")
    if result.run.options.population_field:
        raise InputError(
            "`population_field`: plans are made on the raster's people; analyze without `population_field`"
        )
    metric = next(m for m, (f, _) in FIELDS.items() if f == goal.field)
    return _Setup(technology=check_technology(technology), metric=metric, goal=goal)


def plan_sites(
    result: Result,
    *,
    technology: str,
    candidates: str | Path | pd.DataFrame | None = None,
    upgrade_from: str | None = None,
    grid: float | None = None,
    target: float = DEFAULT_TARGET_PCT,
    metric: str = "population",
    scope: str = "total",
    budget: int | None = None,
    budget_cost: float | None = None,
    min_gain: float = 1.0,
    min_spacing: float | None = None,
    exclude: str | Path | gpd.GeoDataFrame | None = None,
    population: str | Path | Any | None = None,
    encoding: str | None = None,
    decimal: str = ".",
    client: Any = None,
) -> SitePlan:
    """Pick new sites (or upgrades) that bring ``technology`` to ``target`` % at ``scope``.

    Parameters
    ----------
    result
        Outcome of :func:`telecov.analyze` on the existing sites.
    technology
        The base technology to plan (``5G``, ``4G``, ``fiber``, ...).
    candidates
        A sites file (or frame) of candidate sites of ``technology``; an optional ``cost``
        column (default 1).
    upgrade_from
        A technology whose counted sites become candidates (e.g. ``4G`` masts for 5G), at the
        default radius of ``technology``.
    grid
        Candidates every ``grid`` metres over the residential area ``technology`` leaves
        uncovered (the three sources combine).
    target
        Target share in percent.
    metric
        ``population`` (people) or ``residential`` (residential area, as the report's
        ``residential_pct``).
    scope
        ``total``: the whole area's share; ``parent``/``area``: every parent / every commune
        (the objective is the sum of what each pick adds where a region is still short).
    budget, budget_cost
        Most sites to add; most total cost (candidates' ``cost``).
    min_gain
        Stop when the next site adds fewer people (residential people with ``residential``).
    min_spacing
        No pick closer than this (metres) to an existing or picked site of ``technology``.
    exclude
        Polygons where no site may stand.
    population
        The population raster, when the result was made from an in-memory one.
    encoding, decimal
        Text encoding and decimal separator of a CSV candidates file.
    client
        A ``distributed.Client``: the candidates' gains (the first measure and every
        re-measure of the greedy) and the report after the plan run on its workers, which open
        the population raster themselves; the picks are the same as in this process.

    Returns
    -------
    SitePlan
        The picks, the coverage after them, why the plan stopped, refused candidates.

    Raises
    ------
    InputError
        Bad options or candidates files (refused candidates are no error).

    """
    setup = _setup(
        result, technology=technology, target=target, metric=metric, scope=scope, budget=budget,
        budget_cost=budget_cost, min_gain=min_gain, min_spacing=min_spacing, grid=grid,
    )  # fmt: skip
    sources = {"candidates": candidates, "upgrade_from": upgrade_from, "grid": grid, "exclude": exclude,
               "min_spacing": min_spacing, "encoding": encoding, "decimal": decimal}  # fmt: skip
    return _plan(result, setup, sources, population=population, client=client)


def _plan(
    result: Result,
    setup: _Setup,
    sources: dict[str, Any],
    *,
    population: str | Path | Any | None,
    client: Any,
) -> SitePlan:
    """Gather the candidates, pick, and measure the coverage after the picks."""
    t0 = time.perf_counter()
    cands = gather_candidates(
        result, technology=setup.technology, population=population, client=client, **sources
    )
    t1 = time.perf_counter()
    outcome, base = _greedy(result, cands, setup, population=population, client=client)
    t2 = time.perf_counter()
    plan = _finish(result, cands, outcome, base, setup, population=population, client=client)
    t3 = time.perf_counter()
    plan.summary["timings_s"] = {"candidates": t1 - t0, "greedy": t2 - t1, "after": t3 - t2}
    log.info("%s", plan.message)
    return plan


def _finish(
    result: Result,
    cands: CandidateSet,
    outcome: Outcome,
    base: tuple[NDArray[np.float64], NDArray[np.float64]],
    setup: _Setup,
    *,
    population: str | Path | Any | None,
    client: Any,
) -> SitePlan:
    """Tabulate the picks and measure the coverage after them."""
    rank = pd.Series(np.arange(len(outcome.picks)), index=outcome.picks)
    rows = cands.sites[cands.sites["candidate"].isin(outcome.picks)]
    rows = rows.assign(rank=rank.reindex(rows["candidate"]).to_numpy()).sort_values(["rank", "candidate"])
    rows = rows.reset_index(drop=True)
    after = _after(result, rows, population=population, client=client) if len(rows) else result
    summary: dict[str, Any] = {"technology": setup.technology, "metric": setup.metric,
                               "reevaluated": outcome.reevaluated,
                               "footprints": radio_record(result)}  # fmt: skip
    if outcome.cluster:
        summary["cluster"] = outcome.cluster
    return SitePlan(
        picks=_picks_table(result, rows, outcome, base, setup), after=after, stop_reason=outcome.stop,
        message=_message(outcome, base, setup, n_areas=len(result.areas)), reached=outcome.stop == "target",
        candidates=cands, summary=summary,
    )  # fmt: skip


def region_table(result: Result, technology: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Whole and covered sums per region (areas in result order, parents sorted, total) from the table.

    Columns: area m², people, residential m², residential people.
    """
    rows = layer_rows(result, technology)
    areas = rows[rows["level"] == "area"].set_index("area_id").reindex(result.areas["area_id"])
    parents = rows[rows["level"] == "parent"].sort_values("area_id")
    total = rows[rows["level"] == "total"]
    frame = pd.concat([areas.reset_index(), parents, total], ignore_index=True)
    whole = frame[["area_km2", "population", "residential_km2", "residential_population"]].to_numpy(
        dtype=float
    )
    part = frame[["covered_km2", "covered_population", "covered_residential_km2",
                  "covered_residential_population"]].to_numpy(dtype=float)  # fmt: skip
    scale = np.array([1e6, 1.0, 1e6, 1.0])
    return whole * scale, part * scale


def _greedy(
    result: Result, cands: CandidateSet, setup: _Setup, *, population: str | Path | Any | None, client: Any
) -> tuple[Outcome, tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Run the lazy greedy on the candidates; returns the outcome and the regions' (whole, covered)."""
    whole, covered = region_table(result, setup.technology)
    areas = result.areas
    parents = areas["parent"].to_numpy(dtype=str)
    names = sorted({p for p in parents if p}) if result.run.options.parent else []
    index = {p: i for i, p in enumerate(names)}
    codes = np.array([index.get(p, -1) for p in parents], dtype=np.int64)
    sites = cands.sites
    group = sites["candidate"].to_numpy(dtype=np.int64)
    n_groups = int(group.max()) + 1 if len(group) else 0
    ptr = np.searchsorted(group, np.arange(n_groups + 1)).astype(np.int64)
    cost = sites["cost"].to_numpy(dtype=np.float64)[ptr[:-1]]
    area_of = sites["area"].to_numpy(dtype=np.int64)[ptr[:-1]]
    shapes = candidate_shapes(sites, result) if len(sites) else None
    candidates = Candidates(footprints_of(sites, polygons=None if shapes is None else list(shapes)), ptr)
    fps = footprints_of(result.sites, polygons=existing_shapes(result))
    layers = [np.asarray(la.members, dtype=np.int64) for la in result.layers]
    members = next(
        np.asarray(la.members, dtype=np.int64)
        for la in result.layers
        if la.technology == setup.technology and la.operator == "all"
    )
    goal = setup.goal
    kw = {"base": whole, "covered": covered, "goal": goal, "cost": cost, "area_of": area_of,
          "n_parents": len(names)}  # fmt: skip
    if len(candidates) == 0:
        return LazyGreedy(_no_model(), np.zeros((0, 4)), **kw).run(), (whole, covered)
    regions = regions_from_geometries(areas.geometry.to_numpy(), parent=codes)
    opts = result.run.options
    source = population_source(result, population, where="plan_sites")
    with (
        open_population(source) as raster,
        gain_model_on(
            client, regions, fps, members, candidates, raster, population=source,
            residential_density=float(opts.residential_density), resolution_m=float(opts.resolution_m),
            cap_members=few_small_members(fps, layers), parents=goal.scope == "parent",
            area_names=areas["area_id"].astype(str).tolist(),
        ) as (model, gains),
    ):  # fmt: skip
        outcome = LazyGreedy(model, gains, **kw).run()
        stats = getattr(model.evaluate, "stats", None)
        if stats is not None:
            outcome.cluster = dict(stats)
    return outcome, (whole, covered)


def _no_model() -> GainModel:
    empty = np.zeros(0, np.int64)
    nothing = Candidates(Footprints.empty(), np.zeros(1, np.int64))
    return GainModel(nothing, Pairs(np.zeros(1, np.int64), empty), (empty, empty), lambda which, picks: [])


def _after(
    result: Result, picked: gpd.GeoDataFrame, *, population: str | Path | Any | None, client: Any
) -> Result:
    """Run the report on the existing sites and the picks (counted, shown as planned)."""
    from ..analysis import analyze

    cols = ["site_id", "technology", "operator", "azimuth", "status"]
    new = pd.DataFrame(picked[cols[:-1]]).assign(status="existing").join(report_rows(picked))
    old = pd.DataFrame(result.sites[cols]).join(report_rows(result.sites))
    both = gpd.GeoDataFrame(
        pd.concat([old, new], ignore_index=True),
        geometry=[*result.sites.geometry.to_numpy(), *picked.geometry.to_numpy()],
        crs=LONLAT,
    )
    opts = result.run.options
    metric_cols = {f"{t}_{c}" for t in set(result.table["technology"]) for c in VALUE_COLUMNS}
    areas = result.areas[[c for c in result.areas.columns if c not in metric_cols]].rename(
        columns={"area_id": "__plan_area_id", "area_name": "__plan_area_name", "parent": "__plan_parent"}
    )
    with warnings.catch_warnings():  # the report before the plan has already said them
        warnings.simplefilter("ignore", TelecovWarning)
        after = analyze(
            both, areas, population_source(result, population, where="plan_sites"),
            area_id="__plan_area_id", area_name="__plan_area_name",
            parent="__plan_parent" if opts.parent else None, include_planned=opts.include_planned,
            residential_density=opts.residential_density, by_operator=opts.by_operator,
            combined=opts.combined, resolution_m=opts.resolution_m, client=client, **after_options(result),
        )  # fmt: skip
    planned = np.arange(len(both)) >= len(result.sites)
    after.sites.loc[planned, "status"] = "planned"
    after.sites.loc[planned, "counted"] = True
    counts = {**after.run.counts, "sites": {**result.run.counts["sites"], "planned": int(planned.sum())}}
    run = replace(after.run, inputs=result.run.inputs, options=opts, counts=counts)
    return replace(after, run=run, rejected=result.rejected)


def _share(part: NDArray[np.float64], whole: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(whole > 0, np.clip(100.0 * part / whole, 0.0, 100.0), np.nan)


def _picks_table(
    result: Result,
    picked: gpd.GeoDataFrame,
    outcome: Outcome,
    base: tuple[NDArray[np.float64], NDArray[np.float64]],
    setup: _Setup,
) -> pd.DataFrame:
    """Tabulate the planned sites, what each adds and the shares after it (:func:`pick_columns`)."""
    whole, _ = base
    sectors = picked.groupby("rank", sort=True).size().to_numpy()
    picked = picked.drop_duplicates("rank").reset_index(drop=True)
    multi = sectors > 1
    n = len(picked)
    f = setup.goal.field
    gain = np.asarray(outcome.gain).reshape(n, 4)
    total_after = np.asarray(outcome.total_after).reshape(n, 4)
    commune_after = np.asarray(outcome.commune_after).reshape(n, 4)
    area = picked["area"].to_numpy(dtype=np.int64)
    areas = result.areas
    frame = pd.DataFrame(
        {
            "rank": np.arange(1, n + 1, dtype=np.int64), "site_id": picked["site_id"].astype(str).to_numpy(),
            "source": picked["source"].to_numpy(dtype=object), "lon": picked.geometry.x.to_numpy(),
            "lat": picked.geometry.y.to_numpy(), "technology": picked["technology"].to_numpy(dtype=object),
            "radius_m": picked["radius_m"].to_numpy(dtype=float), "sectors": sectors.astype(np.int64),
            "azimuth": np.where(multi, np.nan, picked["azimuth"].to_numpy(dtype=float)),
            "beamwidth": np.where(multi, np.nan, picked["beamwidth"].to_numpy(dtype=float)),
            "cost": picked["cost"].to_numpy(dtype=float),
            "area_id": areas["area_id"].to_numpy(dtype=object)[area],
            "area_name": areas["area_name"].to_numpy(dtype=object)[area],
            "parent": areas["parent"].to_numpy(dtype=object)[area],
            "marginal_people": gain[:, 1], "cumulative_people": np.cumsum(gain[:, 1]),
            "marginal_residential_km2": gain[:, 2] / 1e6,
            f"cumulative_{setup.metric}_pct": _share(total_after[:, f], np.full(n, whole[-1, f])),
            f"commune_{setup.metric}_pct": _share(commune_after[:, f], whole[area, f]),
        }
    )  # fmt: skip
    return frame[pick_columns(setup.metric)]


def achieved(
    covered: NDArray[np.float64], whole: NDArray[np.float64], goal: Goal, n_areas: int
) -> tuple[float, int]:
    """Return the scope's share (the minimum over its regions) and how many regions are short."""
    scope = {"total": slice(-1, None), "parent": slice(n_areas, -1), "area": slice(0, n_areas)}[goal.scope]
    share = _share(covered[scope, goal.field], whole[scope, goal.field])
    defined = share[np.isfinite(share)]
    if defined.size == 0:
        return float("nan"), 0
    return float(defined.min()), int((defined < goal.target - TOLERANCE_PCT).sum())


def _message(
    outcome: Outcome, base: tuple[NDArray[np.float64], NDArray[np.float64]], setup: _Setup, *, n_areas: int
) -> str:
    """One sentence: what the plan reached and why it stopped."""
    goal = setup.goal
    whole, _ = base
    n = len(outcome.picks)
    what = f"{setup.technology} {setup.metric} ≥ {goal.target:g} % ({goal.scope})"
    share, short = achieved(outcome.covered, whole, goal, n_areas)
    unit = {"area": "commune", "parent": "parent"}.get(goal.scope)
    where = f"{share:.2f} %" + (f" in the lowest {unit}, {short} {unit}s still under" if unit else "")
    if outcome.stop == "target":
        if n == 0:
            return f"nothing to add: {what} is already met ({where})"
        return f"target reached with {n} new sites: {what}, now {where}"
    people = "person" if goal.min_gain == 1 else "people"
    why = {
        "budget": "the budget is spent",
        "min_gain": f"no candidate adds at least {goal.min_gain:g} {people}",
        "candidates": "no candidate adds anything more",
    }[outcome.stop]
    return f"target not reached: {what}; {n} new sites reach {where}; stopped because {why}"
