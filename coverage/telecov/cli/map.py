"""``telecov map``: the interactive coverage map (and optionally a static PNG)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError
from ..vocabulary import COMBINED_LAYERS, METRICS, normalize_layer
from ._console import note, state_of
from ._run import input_paths, open_output_set, run_analysis
from .options import AnalysisInputs, ForceOpt, OutOpt, WaitOpt, with_analysis_inputs

TechnologyOpt = Annotated[str, typer.Option("--technology", help="Technology shown first.")]
MetricOpt = Annotated[str, typer.Option("--metric", help="Share coloured: population, residential or area.")]
PngOpt = Annotated[bool, typer.Option("--png", help="Also write coverage.png.")]
TilesOpt = Annotated[
    str | None,
    typer.Option("--tiles", help="Basemap: a tile name (OpenStreetMap) or URL template (needs network)."),
]
AttributionOpt = Annotated[
    str | None,
    typer.Option("--attribution", help="Attribution shown for a --tiles URL template (required with one)."),
]


def map_names(*, png: bool) -> list[str]:
    """Return the files ``telecov map`` writes into ``--out`` (its manifest ``map.json`` aside)."""
    return ["coverage.html", *(["coverage.png"] if png else [])]


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
    attribution: AttributionOpt = None,
    force: ForceOpt = False,
    wait: WaitOpt = 0.0,
) -> None:
    """Write the interactive coverage map coverage.html (and coverage.png with --png) into --out."""
    from ..maps.html import check_tiles, coverage_map, save_map
    from ..maps.png import coverage_png

    tech = normalize_layer(technology)
    if tech is None:
        raise InputError(f"--technology {technology!r}: unknown technology")
    if metric not in METRICS:
        raise InputError(f"--metric {metric!r}: expected one of {', '.join(METRICS)}")
    check_tiles(tiles, attribution)
    state = state_of(ctx)
    names = map_names(png=png)
    with open_output_set(
        out_dir, command="map", names=names, inputs=input_paths(inputs), force=force, wait=wait,
        quiet=state.quiet,
    ) as outset:  # fmt: skip
        result = run_analysis(
            inputs, out_dir=out_dir, command="map", quiet=state.quiet, outputs=outset,
            combined=tech in COMBINED_LAYERS, planned=tuple(names),
        )  # fmt: skip
        fmap = coverage_map(result, technology=tech, metric=metric, tiles=tiles, tiles_attr=attribution)
        save_map(fmap, outset.path("coverage.html"))
        if png:
            coverage_png(result, outset.path("coverage.png"), technology=tech, metric=metric)
        run = result.run.with_options(technology=tech, metric=metric, png=png, tiles=tiles)
        outset.commit(run.to_json())
    note(f"map written to {out_dir / 'coverage.html'}", state=state)
