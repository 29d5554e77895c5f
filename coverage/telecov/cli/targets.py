"""``telecov targets``: check a plan's coverage targets (``plan.toml``) against the inputs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from ..errors import InputError
from ._console import out, state_of
from ._run import EXIT_UNMET, run_analysis, write_frame
from .options import AnalysisInputs, Format, FormatOpt, OutOpt, WaitOpt, with_analysis_inputs

if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table

    from ..analysis import Result
    from ..pois import PoiCoverage
    from ..targets import Plan

PlanArg = Annotated[Path, typer.Argument(help="Plan file (TOML) with [[target]] tables.")]
CheckOpt = Annotated[bool, typer.Option("--check", help="Exit 1 when any target is unmet.")]
PoiOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--poi", help="Points/zones of interest NAME=FILE (repeatable); overrides the plan's [poi]."
    ),
]


@with_analysis_inputs
def targets(
    ctx: typer.Context,
    *,
    inputs: AnalysisInputs,
    plan: PlanArg,
    check: CheckOpt = False,
    poi: PoiOpt = None,
    fmt: FormatOpt = Format.table,
    out_dir: OutOpt = Path("out"),
    wait: WaitOpt = 0.0,
) -> None:
    """Whether each target of the plan is met: achieved value, shortfall and failing communes."""
    from ..io.pois import parse_poi_options
    from ..targets import check_targets, read_plan
    from ..vocabulary import needs_combined

    the_plan = read_plan(plan)
    poi_files = {**the_plan.pois, **parse_poi_options(poi)}
    for t in the_plan.targets:
        if t.poi is not None and t.poi not in poi_files:
            raise InputError(
                f"{plan}:{t.line}: target {t.number} names poi {t.poi!r}, which is neither under [poi] "
                f"in the plan nor given with --poi {t.poi}=FILE"
            )
    result = run_analysis(
        inputs, out_dir=out_dir, command="targets", quiet=state_of(ctx).quiet,
        combined=needs_combined(*the_plan.technologies), wait=wait,
    )  # fmt: skip
    frame = check_targets(result, the_plan, pois=_poi_coverage(result, the_plan, poi_files, inputs.encoding))
    if fmt is Format.table:
        out.print(_table(frame, title=the_plan.name))
    elif fmt is Format.csv:
        write_frame(frame.assign(failing_areas=frame["failing_areas"].map(";".join)), fmt)
    else:
        write_frame(frame, fmt)
    if check and not frame["met"].all():
        raise typer.Exit(EXIT_UNMET)


def _poi_coverage(
    result: Result, plan: Plan, poi_files: dict[str, Path], encoding: str | None
) -> PoiCoverage | None:
    """Coverage of the POI sets the plan's targets name (None when they name none)."""
    from ..pois import poi_coverage

    wanted = {t.poi for t in plan.targets if t.poi is not None}
    if not wanted:
        return None
    return poi_coverage(result, {k: v for k, v in poi_files.items() if k in wanted}, encoding=encoding)


def _table(frame: pd.DataFrame, *, title: str) -> Table:
    from ..io.formats import records

    met = int(frame["met"].sum())
    from rich.table import Table

    table = Table(title=f"{escape(title)}: {met} of {len(frame)} targets met")
    for col in ("#", "target", "achieved %", "at least %", "met", "shortfall", "areas under"):
        table.add_column(col, justify="left" if col in ("target", "met") else "right")
    for row in records(frame):
        ids = [str(i) for i in row["failing_areas"]]
        shown = ", ".join(ids[:5]) + (f", … (+{len(ids) - 5})" if len(ids) > 5 else "")
        achieved = "—" if row["achieved"] is None else f"{row['achieved']:.2f}"
        unit = "km²" if row["unit"] == "km2" else str(row["unit"])
        table.add_row(
            str(row["target"]), escape(str(row["name"])), achieved, f"{row['at_least']:g}",
            "[green]yes[/]" if row["met"] else "[red]no[/]",
            f"{row['shortfall']:,.{2 if unit == 'km²' else 0}f} {unit}" if not row["met"] else "—",
            f"{row['failing']} {escape(shown)}".strip() if row["failing"] else "—",
        )  # fmt: skip
    return table
