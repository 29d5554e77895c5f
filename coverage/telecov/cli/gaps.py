"""``telecov gaps``: communes under a coverage target, and the uncovered residential zones."""

from __future__ import annotations

import contextlib
import math
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from ..errors import InputError
from ..vocabulary import DEFAULT_TARGET_PCT
from ._console import CliState, note, out, state_of
from ._run import check_target, input_paths, open_output_set, run_analysis, write_frame
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
    import pandas as pd
    from rich.table import Table

    from ..analysis import Result
    from ..io.outputs import OutputSet


class Metric(StrEnum):
    """Coverage share compared with the target."""

    population = "population"
    residential = "residential"
    area = "area"


class GapExport(StrEnum):
    """Files of gap zones added to ``--out``."""

    geojson = "geojson"
    gpkg = "gpkg"


TechnologyOpt = Annotated[str, typer.Option("--technology", help="2G, 3G, 4G, 5G, fiber, any_mobile or 4G+.")]
MetricOpt = Annotated[Metric, typer.Option("--metric", help="Share compared with the target.")]
GapExportOpt = Annotated[
    list[GapExport] | None,
    typer.Option("--export", help="Write gap zones gaps.geojson / gaps.gpkg into --out (repeatable)."),
]
MinPeopleOpt = Annotated[
    float, typer.Option("--min-people", help="Drop (and count) gap zones with fewer people.")
]


GAPS_REJECTS = ("gaps_rejected_sites.csv", "gaps_rejected_areas.csv")
"""The refused rows of the run behind the gap zones (not report's ``rejected_*.csv``)."""


def gaps_names(formats: list[GapExport]) -> list[str]:
    """Return the files ``gaps --export`` writes into ``--out`` (its manifest ``gaps.json`` aside)."""
    return sorted({*(f"gaps.{f.value}" for f in formats), *GAPS_REJECTS})


@with_analysis_inputs
def gaps(
    ctx: typer.Context,
    *,
    inputs: AnalysisInputs,
    technology: TechnologyOpt,
    target: TargetOpt = DEFAULT_TARGET_PCT,
    metric: MetricOpt = Metric.population,
    fmt: FormatOpt = Format.table,
    export: GapExportOpt = None,
    min_people: MinPeopleOpt = 0.0,
    out_dir: OutOpt = Path("out"),
    force: ForceOpt = False,
    wait: WaitOpt = 0.0,
) -> None:
    """Communes under the target for one technology, most uncovered people first."""
    from ..distributed import connect
    from ..gaps import gaps as find_gaps
    from ..vocabulary import check_technology, needs_combined

    tech = check_technology(technology)
    check_target(target)
    if not math.isfinite(min_people) or min_people < 0:
        raise InputError(f"--min-people {min_people:g}: must be a non-negative number")
    state = state_of(ctx)
    formats = sorted(set(export or []))
    with contextlib.ExitStack() as stack:
        outset = None
        if formats:
            outset = stack.enter_context(open_output_set(
                out_dir, command="gaps", names=gaps_names(formats), inputs=input_paths(inputs), force=force,
                wait=wait, quiet=state.quiet,
            ))  # fmt: skip
        client = stack.enter_context(connect(
            workers=inputs.workers, scheduler=inputs.scheduler, scheduler_timeout=inputs.scheduler_timeout
        ))  # fmt: skip
        result = run_analysis(
            inputs, out_dir=out_dir, command="gaps", quiet=state.quiet, outputs=outset,
            combined=needs_combined(tech), wait=wait, planned=tuple(gaps_names(formats) if formats else ()),
            client=client,
        )  # fmt: skip
        frame = find_gaps(
            result, technology=tech, target=target, metric=metric.value, by_operator=inputs.by_operator
        )
        if outset is not None:
            options = {
                "technology": tech,
                "target_pct": target,
                "metric": metric.value,
                "min_people": min_people,
            }
            _export(result, tech, formats, outset=outset, min_people=min_people, state=state, options=options,
                    client=client)  # fmt: skip
    left_out = frame.attrs.get("left_out", 0)
    if left_out:
        note(
            f"note: {left_out} communes left out: their {metric.value} is 0, so no share is defined",
            state=state,
        )
    if fmt is Format.table:
        out.print(_table(frame, tech=tech, target=target, metric=metric.value))
    else:
        write_frame(frame, fmt)


def _table(frame: pd.DataFrame, *, tech: str, target: float, metric: str) -> Table:
    from rich.table import Table

    table = Table(title=f"{len(frame)} communes under {target:g} % {metric} for {tech}")
    cols = ["area_id", "area_name", "parent", *(["operator"] if "operator" in frame.columns else []),
            f"{metric} %", "covered people", "uncovered people", "any"]  # fmt: skip
    for col in cols:
        table.add_column(
            col, justify="left" if col in ("area_id", "area_name", "parent", "operator") else "right"
        )
    for row in frame.itertuples(index=False):
        cells = [escape(str(row.area_id)), escape(str(row.area_name)), escape(str(row.parent))]
        if "operator" in frame.columns:
            cells.append(escape(str(row.operator)))
        cells += [f"{row.value:.2f}", f"{row.covered_population:,.0f}", f"{row.uncovered_population:,.0f}",
                  "yes" if row.has_any else "no"]  # fmt: skip
        table.add_row(*cells)
    return table


def _export(
    result: Result,
    tech: str,
    formats: list[GapExport],
    *,
    outset: OutputSet,
    min_people: float,
    state: CliState,
    options: dict[str, object],
    client: Any = None,
) -> None:
    from ..gaps import gap_polygons
    from ..io.formats import csv_text, geojson_text, write_gpkg
    from ..io.refusals import rejects_frame

    zones = gap_polygons(result, technology=tech, min_people=min_people, client=client)
    if GapExport.geojson in formats:
        outset.write_text("gaps.geojson", geojson_text(zones.zones))
    if GapExport.gpkg in formats:
        write_gpkg(outset.path("gaps.gpkg"), {"gaps": zones.zones})
    for kind, name in zip(("sites", "areas"), GAPS_REJECTS, strict=True):
        outset.write_text(name, csv_text(rejects_frame(result.rejected.get(kind))))
    run = result.run.with_options(**options, export=[f.value for f in formats])
    outset.commit({**run.to_json(), "zones": {"kept": len(zones.zones), "dropped": zones.dropped}})
    people = zones.zones["population"].sum()
    note(f"{len(zones.zones)} gap zones ({people:,.0f} people) written to {outset.folder}", state=state)
    if zones.dropped:
        note(
            f"note: {zones.dropped} zones under --min-people {min_people:g} dropped "
            f"({zones.dropped_population:,.0f} people)",
            state=state,
        )
