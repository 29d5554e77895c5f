"""Run helpers shared by the commands that analyse: checks, the progress bar, the analysis."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError, StrictError
from ..io.sources import local_path
from ._console import CliState, err, note
from .options import AnalysisInputs, Format

if TYPE_CHECKING:
    import pandas as pd
    from rich.progress import Progress

    from ..analysis import Result
    from ..io.locks import LockHolder
    from ..io.outputs import OutputSet

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


def parse_thresholds(values: list[str] | None) -> dict[str, float]:
    """Turn ``--rx-threshold 4G=-85`` items into ``{"4G": -85.0}``."""
    out: dict[str, float] = {}
    for item in values or []:
        tech, sep, dbm = item.partition("=")
        try:
            out[tech.strip()] = float(dbm)
        except ValueError:
            sep = ""
        if not sep:
            raise InputError(f"--rx-threshold {item!r}: expected TECHNOLOGY=DBM, e.g. --rx-threshold 4G=-85")
    return out


def progress_bar(*, quiet: bool, compiling: bool = False) -> tuple[Progress, Callable[[int, int], None]]:
    """Return a transient progress bar on stderr and the callback that advances it.

    Until measuring reports its first rows the bar says what comes first (reading and
    preparing the inputs, and with ``compiling`` the kernels' compilation); then it counts the
    pixel rows measured out of the real total.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[rows]}"),
        TimeElapsedColumn(), console=err, transient=True, disable=quiet or not err.is_terminal,
    )  # fmt: skip
    first = "preparing the inputs" + (" and compiling the kernels (first run only)" if compiling else "")
    task = progress.add_task(first, total=None, rows="")

    def update(done: int, total: int) -> None:
        if done > 0:
            progress.update(task, description="measuring", completed=done, total=total,
                            rows=f"{done:,}/{total:,} pixel rows")  # fmt: skip

    return progress, update


def input_paths(inputs: AnalysisInputs, *more: Path | None) -> list[Path]:
    """Return the input files of a run (no output may replace them)."""
    given = (inputs.sites, inputs.areas, local_path(inputs.population), inputs.dem, *more)
    return [p for p in given if p is not None]


@contextlib.contextmanager
def open_output_set(
    out_dir: Path,
    *,
    command: str,
    names: Iterable[str],
    inputs: Iterable[Path],
    force: bool,
    wait: float,
    quiet: bool,
) -> Iterator[OutputSet]:
    """Lock ``out_dir`` and stage ``command``'s set, saying so when it waits for another run."""
    from ..io.outputs import output_set

    def waiting(holder: LockHolder | None) -> None:
        who = holder.describe() if holder is not None else "another run"
        note(
            f"waiting up to {wait:g} s for {who} to finish writing into {out_dir}",
            state=CliState(quiet=quiet),
        )

    with output_set(
        out_dir, command=command, names=names, inputs=inputs, force=force, wait=wait, on_wait=waiting
    ) as outset:
        yield outset


def run_analysis(
    inputs: AnalysisInputs,
    *,
    out_dir: Path,
    command: str,
    quiet: bool,
    outputs: OutputSet | None = None,
    combined: bool = False,
    excel_safe: bool = False,
    wait: float = 0.0,
    planned: tuple[str, ...] = (),
    client: Any = None,
    radius_uncertainty: float | None = None,
) -> Result:
    """Run :func:`telecov.analyze` on the input options, with a progress bar.

    ``combined`` adds the combined layers the command needs (as ``--combined`` does);
    ``planned`` names what the command will write, for the resource estimate. With ``--strict``
    and refused rows, the rejects are written beside the previous output set of ``command``
    (``<command>_failed_rejected_<kind>.csv``), which stays untouched, and the error names the
    first refused rows. ``client``: a cluster the command has already connected to (else
    ``--workers`` / ``--scheduler`` are connected to for this run alone).
    ``radius_uncertainty``: as in :func:`telecov.analyze` (``report``).
    """
    from ..analysis import analyze
    from ..distributed import connect
    from ._kernels import compiling_notice, start_compiling

    notice = compiling_notice()
    if notice is not None:
        start_compiling()
        note(notice, state=CliState(quiet=quiet))
    progress, update = progress_bar(quiet=quiet, compiling=notice is not None)
    cluster = (
        contextlib.nullcontext(client)
        if client is not None
        else connect(
            workers=inputs.workers, scheduler=inputs.scheduler, scheduler_timeout=inputs.scheduler_timeout
        )
    )
    with cluster as client, progress:
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
                sites_layer=inputs.sites_layer, areas_layer=inputs.areas_layer,
                vocabulary=inputs.vocabulary, propagation=inputs.propagation.value,
                rx_threshold=parse_thresholds(inputs.rx_threshold), rx_height_m=inputs.rx_height,
                environment=inputs.environment.value, dem=inputs.dem, dem_unit=inputs.dem_unit.value,
                terrain=inputs.terrain.value, progress=update, outputs=planned, client=client,
                radius_uncertainty=radius_uncertainty,
            )  # fmt: skip
        except StrictError as exc:
            raise _strict_failure(exc, inputs, out_dir=out_dir, command=command, outputs=outputs,
                                  excel_safe=excel_safe, wait=wait) from exc  # fmt: skip


def _strict_failure(
    exc: StrictError,
    inputs: AnalysisInputs,
    *,
    out_dir: Path,
    command: str,
    outputs: OutputSet | None,
    excel_safe: bool,
    wait: float,
) -> StrictError:
    """Write the refused rows beside the previous set; the error naming the first of them."""
    from ..io.formats import csv_text
    from ..io.outputs import write_failed
    from ..io.refusals import rejects_frame

    files = {
        f"rejected_{kind}.csv": csv_text(rejects_frame(frame), excel_safe=excel_safe)
        for kind, frame in exc.rejected.items()
    }
    sources = {"sites": inputs.sites, "areas": inputs.areas}
    first = []
    for kind, frame in exc.rejected.items():
        for row, field, reason in frame[["row", "field", "reason"]].head(3).itertuples(index=False):
            first.append(f"{sources.get(kind) or kind} row {row}, {field}: {reason}")
    if outputs is not None:
        written = outputs.write_failed(files)
    else:
        written = write_failed(out_dir, command=command, files=files, inputs=input_paths(inputs), wait=wait)
    message = (
        f"{exc}; first refused: {'; '.join(first)}; every refused row is in "
        f"{', '.join(str(p) for p in written)}; the previous outputs in {out_dir} are unchanged"
    )
    return StrictError(message, exc.rejected)


def write_frame(frame: pd.DataFrame, fmt: Format, *, excel_safe: bool = False) -> None:
    """Write a table on stdout as ``--format csv`` or ``--format json`` asks."""
    from ..io.formats import csv_text, json_text, records

    if fmt is Format.json:
        sys.stdout.write(json_text(records(frame)))
    else:
        sys.stdout.write(csv_text(frame, excel_safe=excel_safe))
