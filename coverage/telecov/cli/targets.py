"""``telecov targets``: check a plan's coverage targets (``plan.toml``) against the inputs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from .app import (
    EXIT_UNMET,
    AreaIdOpt,
    AreaNameOpt,
    AreasCrsOpt,
    AreasOpt,
    DecimalOpt,
    EncodingOpt,
    Format,
    FormatOpt,
    OutOpt,
    ParentOpt,
    PlannedOpt,
    PopulationFieldOpt,
    PopulationOpt,
    RadiusOpt,
    ResidentialOpt,
    ResolutionOpt,
    SelectOpt,
    SitesCrsOpt,
    SitesOpt,
    StrictOpt,
    app,
    guard,
    out,
    run_analysis,
)
from ..vocabulary import DEFAULT_RESIDENTIAL_DENSITY

if TYPE_CHECKING:
    import pandas as pd

PoiOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--poi", help="Points/zones of interest NAME=FILE (repeatable); overrides the plan's [poi]."
    ),
]


@app.command()
@guard
def targets(
    plan: Annotated[Path, typer.Argument(help="Plan file (TOML) with [[target]] tables.")],
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when any target is unmet.")] = False,
    poi: PoiOpt = None,
    fmt: FormatOpt = Format.table,
    out_dir: OutOpt = Path("out"),
    sites: SitesOpt = None,
    areas: AreasOpt = None,
    population: PopulationOpt = None,
    area_id: AreaIdOpt = None,
    area_name: AreaNameOpt = None,
    parent: ParentOpt = None,
    select: SelectOpt = None,
    radius: RadiusOpt = None,
    residential_density: ResidentialOpt = DEFAULT_RESIDENTIAL_DENSITY,
    population_field: PopulationFieldOpt = None,
    include_planned: PlannedOpt = False,
    sites_crs: SitesCrsOpt = None,
    areas_crs: AreasCrsOpt = None,
    resolution: ResolutionOpt = 10.0,
    strict: StrictOpt = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
) -> None:
    """Whether each target of the plan is met: achieved value, shortfall and failing communes."""
    from ..errors import InputError
    from ..io.outputs import csv_text, json_text, records
    from ..pois import parse_poi_options, poi_coverage
    from ..targets import check_targets, read_plan
    from ..gaps import needs_combined

    the_plan = read_plan(plan)
    poi_files = {**the_plan.pois, **parse_poi_options(poi)}
    wanted = {t.poi for t in the_plan.targets if t.poi is not None}
    for t in the_plan.targets:
        if t.poi is not None and t.poi not in poi_files:
            raise InputError(
                f"{plan}:{t.line}: target {t.number} names poi {t.poi!r}, which is neither under [poi] "
                f"in the plan nor given with --poi {t.poi}=FILE"
            )
    result = run_analysis(
        out_dir=out_dir, command="targets",
        sites=sites, areas=areas, population=population, area_id=area_id, area_name=area_name,
        parent=parent, select=select, radius=radius, residential_density=residential_density,
        population_field=population_field, include_planned=include_planned, sites_crs=sites_crs,
        areas_crs=areas_crs, combined=needs_combined(*the_plan.technologies), resolution=resolution,
        strict=strict, encoding=encoding, decimal=decimal,
    )  # fmt: skip
    pois = (
        poi_coverage(result, {k: v for k, v in poi_files.items() if k in wanted}, encoding=encoding)
        if wanted
        else None
    )
    frame = check_targets(result, the_plan, pois=pois)
    if fmt is Format.csv:
        flat = frame.assign(failing_areas=frame["failing_areas"].map(";".join))
        sys.stdout.write(csv_text(flat))
    elif fmt is Format.json:
        sys.stdout.write(json_text(records(frame)))
    else:
        out.print(_table(frame, title=the_plan.name))
    if check and not frame["met"].all():
        raise typer.Exit(EXIT_UNMET)


def _table(frame: pd.DataFrame, *, title: str) -> Table:
    from ..io.outputs import records

    met = int(frame["met"].sum())
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
