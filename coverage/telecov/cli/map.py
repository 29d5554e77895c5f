"""``telecov map``: the interactive coverage map (and optionally a static PNG)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import (
    AreaIdOpt,
    AreaNameOpt,
    AreasCrsOpt,
    AreasOpt,
    ByOpt,
    DecimalOpt,
    EncodingOpt,
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
    err,
    guard,
    run_analysis,
)
from ..errors import InputError
from ..vocabulary import COMBINED_LAYERS, DEFAULT_RESIDENTIAL_DENSITY, METRICS, normalize_layer


@app.command("map")
@guard
def map_command(
    sites: SitesOpt = None,
    areas: AreasOpt = None,
    population: PopulationOpt = None,
    out_dir: OutOpt = Path("out"),
    technology: Annotated[str, typer.Option("--technology", help="Technology shown first.")] = "4G",
    metric: Annotated[
        str, typer.Option("--metric", help="Share coloured: population, residential or area.")
    ] = "population",
    png: Annotated[bool, typer.Option("--png", help="Also write coverage.png.")] = False,
    tiles: Annotated[
        str | None, typer.Option("--tiles", help="Basemap tiles, e.g. OpenStreetMap (needs network).")
    ] = None,
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
    """Write the interactive coverage map coverage.html (and coverage.png with --png) into --out."""
    tech = normalize_layer(technology)
    if tech is None:
        raise InputError(f"--technology {technology!r}: unknown technology")
    if metric not in METRICS:
        raise InputError(f"--metric {metric!r}: expected one of {', '.join(METRICS)}")
    result = run_analysis(
        out_dir=out_dir, command="map",
        sites=sites, areas=areas, population=population, area_id=area_id, area_name=area_name,
        parent=parent, select=select, radius=radius, residential_density=residential_density,
        population_field=population_field, include_planned=include_planned, sites_crs=sites_crs,
        areas_crs=areas_crs, by=by, combined=tech in COMBINED_LAYERS, resolution=resolution,
        strict=strict, encoding=encoding, decimal=decimal,
    )  # fmt: skip
    from ..io.outputs import output_set
    from ..maps.html import coverage_map, coverage_png, save_map

    with output_set(out_dir, name="map") as gen:
        save_map(coverage_map(result, technology=tech, metric=metric, tiles=tiles), gen / "coverage.html")
        if png:
            coverage_png(result, gen / "coverage.png", technology=tech, metric=metric)
    err.print(f"map written to {out_dir / 'coverage.html'}", highlight=False)
