"""Run helpers shared by the commands that analyse: checks, the progress bar, the analysis."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ..errors import InputError, StrictError
from ._console import err
from .options import AnalysisInputs, Format

if TYPE_CHECKING:
    import pandas as pd

    from ..analysis import Result

EXIT_OK, EXIT_UNMET, EXIT_INPUT, EXIT_TOO_LARGE, EXIT_INTERNAL = 0, 1, 2, 3, 70
"""Exit codes: success, a target unmet (``--check``), bad input, input too large, a bug."""


def check_target(target: float) -> None:
    """Refuse a target outside 0–100 %."""
    if not 0 <= target <= 100:
        raise InputError(f"--target {target:g}: must be between 0 and 100")


def parse_radius(values: list[str] | None) -> dict[str, float]:
    """Turn ``--radius 4G=3000`` items into ``{"4G": 3000.0}``."""
    radius: dict[str, float] = {}
    for item in values or []:
        tech, sep, metres = item.partition("=")
        try:
            radius[tech.strip()] = float(metres)
        except ValueError:
            sep = ""
        if not sep:
            raise InputError(f"--radius {item!r}: expected TECHNOLOGY=METRES, e.g. --radius 4G=3000")
    return radius


def progress_bar(*, quiet: bool) -> tuple[Progress, Callable[[int, int], None]]:
    """Return a transient progress bar on stderr and the callback that advances it."""
    progress = Progress(
        TextColumn("measuring"), BarColumn(), TextColumn("{task.completed}/{task.total} rows"),
        TimeElapsedColumn(), console=err, transient=True, disable=quiet,
    )  # fmt: skip
    task = progress.add_task("measure", total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return progress, update


def run_analysis(
    inputs: AnalysisInputs,
    *,
    out_dir: Path,
    command: str,
    quiet: bool,
    combined: bool = False,
    excel_safe: bool = False,
) -> Result:
    """Run :func:`telecov.analyze` on the input options, with a progress bar.

    ``combined`` adds the combined layers the command needs (as ``--combined`` does). With
    ``--strict`` and refused rows, the rejects are written into ``out_dir`` (as the
    ``command``'s output set) before the error propagates.
    """
    from ..analysis import analyze
    from ..io.formats import csv_text
    from ..io.outputs import output_set, write_text_file
    from ..io.refusals import rejects_frame

    progress, update = progress_bar(quiet=quiet)
    with progress:
        try:
            return analyze(
                inputs.sites, inputs.areas, inputs.population, area_id=inputs.area_id,
                area_name=inputs.area_name, parent=inputs.parent, select=inputs.select,
                radius=parse_radius(inputs.radius), include_planned=inputs.include_planned,
                residential_density=inputs.residential_density,
                population_field=inputs.population_field, population_band=inputs.population_band,
                population_unit=inputs.population_unit, sites_crs=inputs.sites_crs,
                areas_crs=inputs.areas_crs, by_operator=inputs.by_operator,
                combined=inputs.combined or combined, resolution_m=inputs.resolution,
                strict=inputs.strict, encoding=inputs.encoding, decimal=inputs.decimal,
                progress=update,
            )  # fmt: skip
        except StrictError as exc:
            with output_set(out_dir, name=command) as gen:
                for kind, frame in exc.rejected.items():
                    text = csv_text(rejects_frame(frame), excel_safe=excel_safe)
                    write_text_file(gen / f"rejected_{kind}.csv", text)
            raise


def write_frame(frame: pd.DataFrame, fmt: Format, *, excel_safe: bool = False) -> None:
    """Write a table on stdout as ``--format csv`` or ``--format json`` asks."""
    from ..io.formats import csv_text, json_text, records

    if fmt is Format.json:
        sys.stdout.write(json_text(records(frame)))
    else:
        sys.stdout.write(csv_text(frame, excel_safe=excel_safe))
