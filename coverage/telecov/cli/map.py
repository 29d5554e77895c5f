"""``telecov map``: the interactive coverage map (and optionally a static PNG)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError
from ..vocabulary import COMBINED_LAYERS, METRICS, normalize_layer
from ._console import err, state_of
from ._run import run_analysis
from .options import AnalysisInputs, OutOpt, with_analysis_inputs

TechnologyOpt = Annotated[str, typer.Option("--technology", help="Technology shown first.")]
MetricOpt = Annotated[str, typer.Option("--metric", help="Share coloured: population, residential or area.")]
PngOpt = Annotated[bool, typer.Option("--png", help="Also write coverage.png.")]
TilesOpt = Annotated[
    str | None, typer.Option("--tiles", help="Basemap tiles, e.g. OpenStreetMap (needs network).")
]


@with_analysis_inputs
def map_command(
    ctx: typer.Context,
    *,
    inputs: AnalysisInputs,
    out_dir: OutOpt = Path("out"),
    technology: TechnologyOpt = "4G",
    metric: MetricOpt = "population",
    png: PngOpt = False,
    tiles: TilesOpt = None,
) -> None:
    """Write the interactive coverage map coverage.html (and coverage.png with --png) into --out."""
    tech = normalize_layer(technology)
    if tech is None:
        raise InputError(f"--technology {technology!r}: unknown technology")
    if metric not in METRICS:
        raise InputError(f"--metric {metric!r}: expected one of {', '.join(METRICS)}")
    result = run_analysis(
        inputs, out_dir=out_dir, command="map", quiet=state_of(ctx).quiet, combined=tech in COMBINED_LAYERS
    )
    from ..io.outputs import output_set
    from ..maps.html import coverage_map, save_map
    from ..maps.png import coverage_png

    with output_set(out_dir, name="map") as gen:
        save_map(coverage_map(result, technology=tech, metric=metric, tiles=tiles), gen / "coverage.html")
        if png:
            coverage_png(result, gen / "coverage.png", technology=tech, metric=metric)
    err.print(f"map written to {out_dir / 'coverage.html'}", highlight=False)
