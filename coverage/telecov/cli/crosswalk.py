"""``telecov crosswalk``: old → new boundary crosswalk with area and population weights."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..vocabulary import DEFAULT_MIN_SHARE
from ._console import out
from .options import (
    ForceOpt,
    Format,
    FormatOpt,
    PopulationOpt,
    SchedulerOpt,
    SchedulerTimeoutOpt,
    WorkersOpt,
)


def crosswalk_command(
    ctx: typer.Context,
    from_: Annotated[Path, typer.Option("--from", help="Old boundaries (polygon layer).")],
    to: Annotated[Path, typer.Option("--to", help="New boundaries (polygon layer).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Crosswalk CSV to write.")] = Path(
        "crosswalk.csv"
    ),
    population: PopulationOpt = None,
    from_id: Annotated[str | None, typer.Option("--from-id", help="Id field of the old areas.")] = None,
    to_id: Annotated[str | None, typer.Option("--to-id", help="Id field of the new areas.")] = None,
    from_name: Annotated[str | None, typer.Option("--from-name", help="Name field of the old areas.")] = None,
    to_name: Annotated[str | None, typer.Option("--to-name", help="Name field of the new areas.")] = None,
    from_select: Annotated[
        str | None, typer.Option("--from-select", help="Keep old areas with FIELD=VALUE.")
    ] = None,
    to_select: Annotated[
        str | None, typer.Option("--to-select", help="Keep new areas with FIELD=VALUE.")
    ] = None,
    min_share: Annotated[
        float, typer.Option("--min-share", help="Drop pieces below this share of the old area (slivers).")
    ] = DEFAULT_MIN_SHARE,
    fmt: FormatOpt = Format.table,
    force: ForceOpt = False,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    scheduler_timeout: SchedulerTimeoutOpt = 10.0,
) -> None:
    """Which share of each old area (area and people) lies in each new area."""
    from ..crosswalk import crosswalk
    from ..distributed import connect
    from ..io.formats import csv_text
    from ..io.outputs import check_output_file, write_output_file, write_text_file
    from ..io.sources import local_path

    sources = [from_, to, local_path(population)]  # a URL is not a file an output could replace
    check_output_file(output, force=force, inputs=sources)  # before any work
    with connect(workers=workers, scheduler=scheduler, scheduler_timeout=scheduler_timeout) as client:
        result = crosswalk(
            from_, to, population=population, from_id=from_id, to_id=to_id, from_name=from_name,
            to_name=to_name, from_select=from_select, to_select=to_select, min_share=min_share,
            client=client,
        )  # fmt: skip
    table = (
        result.table
        if population is not None
        else result.table.drop(columns=["population", "population_weight"])
    )
    write_output_file(output, lambda p: write_text_file(p, csv_text(table)), force=force, inputs=sources)
    s = result.summary
    if fmt is Format.json:
        typer.echo(json.dumps({**s, "output": str(output)}, ensure_ascii=False, indent=1))
        return
    if fmt is Format.csv:
        typer.echo(csv_text(table), nl=False)
        return
    out.print(
        f"{s['from']['used']:,} old areas → {s['to']['used']:,} new areas: {s['rows']:,} rows, "
        f"{s['split']:,} old areas split, {s['slivers_dropped']:,} slivers dropped, "
        f"{s['nearest']:,} matched to the nearest"
    )
    if s.get("population") is not None:
        out.print(f"population in the pieces: {s['population']:,.0f}")
    out.print(f"wrote {output}")
