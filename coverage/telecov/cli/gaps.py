"""``telecov gaps``: communes under a coverage target, and the uncovered residential zones."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from .app import (
    AreaIdOpt,
    AreaNameOpt,
    AreasCrsOpt,
    AreasOpt,
    By,
    ByOpt,
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
    TargetOpt,
    app,
    check_target,
    err,
    guard,
    out,
    run_analysis,
    state,
)
from ..vocabulary import DEFAULT_RESIDENTIAL_DENSITY, DEFAULT_TARGET_PCT

if TYPE_CHECKING:
    import pandas as pd

    from ..analysis import Result


class Metric(StrEnum):
    """Coverage share compared with the target."""

    population = "population"
    residential = "residential"
    area = "area"


class GapExport(StrEnum):
    """Files of gap zones added to ``--out``."""

    geojson = "geojson"
    gpkg = "gpkg"


def note(message: str) -> None:
    """Print a note on stderr (not with ``-q``)."""
    if not state.get("quiet"):
        err.print(message, highlight=False)


@app.command()
@guard
def gaps(
    technology: Annotated[
        str, typer.Option("--technology", help="2G, 3G, 4G, 5G, fiber, any_mobile or 4G+.")
    ],
    target: TargetOpt = DEFAULT_TARGET_PCT,
    metric: Annotated[Metric, typer.Option("--metric", help="Share compared with the target.")] = (
        Metric.population
    ),
    fmt: FormatOpt = Format.table,
    export: Annotated[
        list[GapExport] | None,
        typer.Option("--export", help="Write gap zones gaps.geojson / gaps.gpkg into --out (repeatable)."),
    ] = None,
    min_people: Annotated[
        float, typer.Option("--min-people", help="Drop (and count) gap zones with fewer people.")
    ] = 0.0,
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
    by: ByOpt = None,
    resolution: ResolutionOpt = 10.0,
    strict: StrictOpt = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
) -> None:
    """Communes under the target for one technology, most uncovered people first."""
    from ..io.outputs import csv_text, json_text, records
    from ..gaps import check_technology, needs_combined
    from ..gaps import gaps as find_gaps

    tech = check_technology(technology)
    check_target(target)
    if min_people < 0:
        from ..errors import InputError

        raise InputError(f"--min-people {min_people:g}: must be a non-negative number")
    result = run_analysis(
        out_dir=out_dir, command="gaps",
        sites=sites, areas=areas, population=population, area_id=area_id, area_name=area_name,
        parent=parent, select=select, radius=radius, residential_density=residential_density,
        population_field=population_field, include_planned=include_planned, sites_crs=sites_crs,
        areas_crs=areas_crs, by=by, combined=needs_combined(tech), resolution=resolution,
        strict=strict, encoding=encoding, decimal=decimal,
    )  # fmt: skip
    frame = find_gaps(
        result, technology=tech, target=target, metric=metric.value, by_operator=by is By.operator
    )
    left_out = frame.attrs.get("left_out", 0)
    if left_out:
        note(f"note: {left_out} communes left out: their {metric.value} is 0, so no share is defined")
    if export:
        _export(result, tech, sorted(set(export)), out_dir=out_dir, min_people=min_people)
    if fmt is Format.csv:
        sys.stdout.write(csv_text(frame))
    elif fmt is Format.json:
        sys.stdout.write(json_text(records(frame)))
    else:
        out.print(_table(frame, tech=tech, target=target, metric=metric.value))


def _table(frame: pd.DataFrame, *, tech: str, target: float, metric: str) -> Table:
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


def _export(result: Result, tech: str, formats: list[GapExport], *, out_dir: Path, min_people: float) -> None:
    import pyogrio

    from ..io.outputs import csv_text, geojson_text, output_set, rejects_frame, write_text_file
    from ..gaps import gap_polygons

    zones = gap_polygons(result, technology=tech, min_people=min_people)
    with output_set(out_dir, name="gaps") as gen:
        if GapExport.geojson in formats:
            write_text_file(gen / "gaps.geojson", geojson_text(zones.zones))
        if GapExport.gpkg in formats:
            pyogrio.write_dataframe(zones.zones, gen / "gaps.gpkg", layer="gaps", driver="GPKG")
        for kind in ("sites", "areas"):
            write_text_file(gen / f"rejected_{kind}.csv", csv_text(rejects_frame(result.rejected.get(kind))))
    people = zones.zones["population"].sum()
    note(f"{len(zones.zones)} gap zones ({people:,.0f} people) written to {out_dir}")
    if zones.dropped:
        note(
            f"note: {zones.dropped} zones under --min-people {min_people:g} dropped "
            f"({zones.dropped_population:,.0f} people)"
        )
