"""``telecov plan``: which sites to build or upgrade, in what order, to reach a coverage target."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ..vocabulary import DEFAULT_TARGET_PCT
from ._console import note, out, state_of
from ._run import EXIT_UNMET, check_target, input_paths, open_output_set, run_analysis, write_frame
from .options import (
    AnalysisInputs,
    ForceOpt,
    Format,
    FormatOpt,
    OutOpt,
    TargetOpt,
    WaitOpt,
    with_analysis_inputs,
)

if TYPE_CHECKING:
    from ..io.outputs import OutputSet
    from ..plan import SitePlan
    from ..result import Result


class PlanMetric(StrEnum):
    """The share a plan brings to the target."""

    population = "population"
    residential = "residential"


class Scope(StrEnum):
    """Where the target must hold."""

    total = "total"
    parent = "parent"
    area = "area"


TechnologyOpt = Annotated[
    str, typer.Option("--technology", help="Technology to plan: 2G, 3G, 4G, 5G or fiber.")
]
MetricOpt = Annotated[PlanMetric, typer.Option("--metric", help="Share brought to the target.")]
ScopeOpt = Annotated[
    Scope, typer.Option("--scope", help="total: the whole area; parent / area: every parent / commune.")
]
BudgetOpt = Annotated[int | None, typer.Option("--budget", help="Most sites to add (default: no limit).")]
BudgetCostOpt = Annotated[
    float | None, typer.Option("--budget-cost", help="Most total cost (candidates' cost column, default 1).")
]
MinGainOpt = Annotated[float, typer.Option("--min-gain", help="Stop when the next site adds fewer people.")]
MinSpacingOpt = Annotated[
    float | None, typer.Option("--min-spacing", help="No pick closer (m) to an existing or picked site.")
]
ExcludeOpt = Annotated[Path | None, typer.Option("--exclude", help="Polygons where no site may stand.")]
CandidatesOpt = Annotated[
    Path | None,
    typer.Option("--candidates", help="Candidate sites (sites file format; optional cost column)."),
]
UpgradeOpt = Annotated[
    str | None, typer.Option("--upgrade-from", help="Existing sites of this technology become candidates.")
]
GridOpt = Annotated[
    float | None, typer.Option("--grid", help="Candidates every M metres over uncovered residential area.")
]
CheckOpt = Annotated[bool, typer.Option("--check", help="Exit 1 when the target is not reached.")]
NoMapOpt = Annotated[bool, typer.Option("--no-map", help="Do not write plan.html.")]

PLAN_FILES = (
    "planned_sites.csv", "planned_sites.geojson", "coverage_after.csv", "rejected_candidates.csv",
    "plan_rejected_sites.csv", "plan_rejected_areas.csv",
)  # fmt: skip
"""Files of every plan set, besides its manifest ``plan.json`` (rejects apart from report's)."""


def plan_names(*, map_: bool) -> list[str]:
    """Return the files ``telecov plan`` writes into ``--out`` (its manifest ``plan.json`` aside)."""
    return sorted({*PLAN_FILES, *(["plan.html"] if map_ else [])})


@with_analysis_inputs
def plan(
    ctx: typer.Context,
    *,
    inputs: AnalysisInputs,
    technology: TechnologyOpt,
    target: TargetOpt = DEFAULT_TARGET_PCT,
    metric: MetricOpt = PlanMetric.population,
    scope: ScopeOpt = Scope.total,
    budget: BudgetOpt = None,
    budget_cost: BudgetCostOpt = None,
    min_gain: MinGainOpt = 1.0,
    min_spacing: MinSpacingOpt = None,
    exclude: ExcludeOpt = None,
    candidates: CandidatesOpt = None,
    upgrade_from: UpgradeOpt = None,
    grid: GridOpt = None,
    check: CheckOpt = False,
    no_map: NoMapOpt = False,
    fmt: FormatOpt = Format.table,
    out_dir: OutOpt = Path("out"),
    force: ForceOpt = False,
    wait: WaitOpt = 0.0,
) -> None:
    """Pick new sites (or upgrades) that bring a technology to the target; planned_sites.csv and more."""
    from ..distributed import connect
    from ..errors import InputError
    from ..plan import check_plan, plan_sites

    check_target(target)
    options: dict[str, Any] = {
        "technology": technology, "target": target, "metric": metric.value, "scope": scope.value,
        "budget": budget, "budget_cost": budget_cost, "min_gain": min_gain, "min_spacing": min_spacing,
        "grid": grid,
    }  # fmt: skip
    check_plan(**options)
    if candidates is None and upgrade_from is None and grid is None:
        raise InputError(
            "no candidates: give --candidates FILE, --upgrade-from T or --grid M (they may be combined)"
        )
    state = state_of(ctx)
    names = plan_names(map_=not no_map)
    sources = input_paths(inputs, candidates, exclude)
    with (
        open_output_set(
            out_dir, command="plan", names=names, inputs=sources, force=force, wait=wait, quiet=state.quiet
        ) as outset,
        connect(
            workers=inputs.workers, scheduler=inputs.scheduler, scheduler_timeout=inputs.scheduler_timeout
        ) as client,
    ):  # fmt: skip
        result = run_analysis(
            inputs, out_dir=out_dir, command="plan", quiet=state.quiet, outputs=outset, wait=wait,
            planned=tuple(names), client=client,
        )  # fmt: skip
        the_plan = plan_sites(
            result, candidates=candidates, upgrade_from=upgrade_from, exclude=exclude,
            encoding=inputs.encoding, decimal=inputs.decimal, client=client, **options,
        )  # fmt: skip
        files = {"candidates": candidates, "exclude": exclude}
        write_plan(result, the_plan, outset, options={**options, "upgrade_from": upgrade_from}, files=files,
                   map_=not no_map)  # fmt: skip
    if fmt is Format.table:
        out.print(_table(the_plan))
    else:
        write_frame(the_plan.picks, fmt)
    note(the_plan.message, state=state)
    refused = len(the_plan.candidates.rejected)
    if refused:
        note(f"{refused} candidates refused: see {out_dir / 'rejected_candidates.csv'}", state=state)
    if check and not the_plan.reached:
        raise typer.Exit(EXIT_UNMET)


def _table(the_plan: SitePlan) -> Table:
    picks = the_plan.picks
    metric = "residential" if "cumulative_residential_pct" in picks.columns else "population"
    table = Table(title=f"{len(picks)} planned sites")
    cols = ("rank", "site_id", "source", "commune", "new people", f"total {metric} %", f"commune {metric} %")
    for col in cols:
        table.add_column(col, justify="left" if col in ("site_id", "source", "commune") else "right")
    shown = picks.head(50)
    for d in shown.to_dict("records"):
        table.add_row(
            str(d["rank"]), escape(str(d["site_id"])), str(d["source"]),
            escape(f"{d['area_id']} {d['area_name']}"), f"{d['marginal_people']:,.0f}",
            f"{d[f'cumulative_{metric}_pct']:.2f}", f"{d[f'commune_{metric}_pct']:.2f}",
        )  # fmt: skip
    if len(picks) > len(shown):
        table.caption = f"… and {len(picks) - len(shown)} more in planned_sites.csv"
    return table


def write_plan(
    result: Result,
    the_plan: SitePlan,
    outset: OutputSet,
    *,
    options: dict[str, Any],
    files: dict[str, Path | None],
    map_: bool,
) -> None:
    """Write the plan's set into ``outset`` and commit it, with ``plan.json`` as its manifest.

    The set: planned sites (CSV, GeoJSON), the coverage after, the refused candidates, sites and
    areas, and ``plan.html``; ``plan.json`` holds the options, inputs, why the plan stopped, the
    run, and each file's name, size and sha256.
    """
    import geopandas as gpd

    from ..geodesy import LONLAT
    from ..io.formats import csv_text, geojson_text
    from ..io.refusals import rejects_frame
    from ..io.tables import file_info

    picks = the_plan.picks
    points = gpd.GeoDataFrame(picks, geometry=gpd.points_from_xy(picks["lon"], picks["lat"]), crs=LONLAT)
    outset.write_text("planned_sites.csv", csv_text(picks))
    # (geojson_text does not take an empty frame)
    no_points = '{"type":"FeatureCollection","features":[\n\n]}\n'
    outset.write_text("planned_sites.geojson", geojson_text(points) if len(points) else no_points)
    outset.write_text("coverage_after.csv", csv_text(the_plan.after.table))
    outset.write_text("rejected_candidates.csv", csv_text(the_plan.candidates.rejected))
    for kind in ("sites", "areas"):
        outset.write_text(f"plan_rejected_{kind}.csv", csv_text(rejects_frame(result.rejected.get(kind))))
    if map_:
        plan_map(result, the_plan, outset.path("plan.html"))
    inputs = {k: file_info(v) for k, v in files.items() if v is not None and Path(v).is_file()}
    outset.commit(plan_document(result, the_plan, options=options, inputs=inputs))


def plan_document(
    result: Result,
    the_plan: SitePlan,
    *,
    options: dict[str, Any],
    inputs: dict[str, Any],
) -> dict[str, Any]:
    """Return ``plan.json`` without its ``files``: options, inputs, why it stopped, shares, run."""
    from ..io.refusals import refusals_by_reason

    tech = the_plan.summary.get("technology", options["technology"])
    pct = "population_pct" if options["metric"] == "population" else "residential_pct"

    def share(r: Result) -> float | None:
        row = r.table[(r.table["level"] == "total") & (r.table["technology"] == tech)]
        if "operator" in row.columns:
            row = row[row["operator"] == "all"]
        value = float(row[pct].iloc[0]) if len(row) else float("nan")
        return value if value == value else None

    cands = the_plan.candidates
    return {
        "plan": {**options, "technology": tech, "footprints": the_plan.summary.get("footprints", {})},
        "inputs": {**result.run.inputs, **inputs},
        "stop_reason": the_plan.stop_reason,
        "message": the_plan.message,
        "reached": the_plan.reached,
        "picks": len(the_plan.picks),
        "people_added": float(the_plan.picks["marginal_people"].sum()),
        f"total_{pct}": {"before": share(result), "after": share(the_plan.after)},
        "candidates": {
            **cands.counts,
            "refusals_by_reason": refusals_by_reason({"candidates": cands.rejected}),
        },
        "timings_s": {k: round(v, 4) for k, v in the_plan.summary.get("timings_s", {}).items()},
        "gains_remeasured": the_plan.summary.get("reevaluated", 0),
        **({"gains_on_cluster": the_plan.summary["cluster"]} if "cluster" in the_plan.summary else {}),
        "run": result.run.to_json(),
    }


def plan_map(result: Result, the_plan: SitePlan, path: Path) -> None:
    """Write ``plan.html``: coverage after the plan, the planned sites and the zones they newly cover."""
    from ..maps.html import coverage_map, save_map
    from ..plan.zones import newly_covered
    from .compare import add_zones

    picks = the_plan.picks
    tech = str(picks["technology"].iloc[0]) if len(picks) else "4G"
    metric = "residential" if "cumulative_residential_pct" in picks.columns else "population"
    title = f"{tech} plan: {len(picks)} new sites"
    fmap = coverage_map(the_plan.after, technology=tech, metric=metric, title=title)
    zones = newly_covered(result, the_plan)
    add_zones(fmap, zones, label=f"Newly covered by the plan ({len(zones):,})", heading="Newly covered",
              color="#1a9850")  # fmt: skip
    save_map(fmap, path)
