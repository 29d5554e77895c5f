"""Partitions of a run as pure tasks: cut along raster rows, measured anywhere, summed back.

A partition is a run of consecutive raster rows of the window over the areas, holding only
the boundary edges and the footprints that reach those rows (the halo of each footprint's
reach). Its task is small: the edges, the footprints, the layers' member indices and the
*path* of the population raster; the worker that measures it opens the raster and reads its
own windows (bands of at most :data:`~telecov.engine.bands.BAND_BYTES`, so a worker's memory
does not grow with the raster). The output is the partial sums per region × layer. The
engine's strips depend on rows alone, so every row is scanned exactly as in one process and
the sums of the partitions equal the single-process run up to floating-point summation
order, whatever the partitioning.
"""

from __future__ import annotations

import math
import os
import resource
import socket
import time
import uuid
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from ..errors import InputError, TelecovError, TelecovWarning, TooLargeError
from ..io.population import PopulationRaster, open_population
from .bands import band_grid, row_spans, strips_per_row
from .grid import ScanGrid, regions_on_grid, scan_footprints, scan_grid
from .partition import Footprints, Regions
from .scan import Measures, measure
from .scan_kernel import N_BASE
from .splits import few_corner_members, few_small_members

TASKS_PER_WORKER = 4
"""Partitions aimed at per worker (more than one, so a lost or slow worker costs a share)."""
MAX_PARTITION_PIXELS = 64_000_000
"""Pixels of raster window per partition at most (unless a single band holds more)."""
EDGE_WORK = 8.0
"""Work of one edge or footprint crossing one scan line, in pixels (for the balance only)."""


class PartitionError(TelecovError, RuntimeError):
    """A partition failed on a worker for a reason other than its inputs; the message names it."""


@dataclass(frozen=True)
class PartitionTask:
    """Everything one worker needs to measure raster rows ``rows[0]:rows[1]``."""

    index: int
    rows: tuple[int, int]
    grid: tuple[int, int, int]
    """The run's :func:`~telecov.engine.bands.band_grid`, checked on the worker."""
    work: float
    """This partition's share of the run's estimated work (0–1)."""
    label: str
    regions: Regions
    """The edges crossing these rows, on the raster's grid (with the whole run's bounds)."""
    footprints: Footprints
    """The footprints reaching these rows (lon/lat; polygons with them)."""
    layers: tuple[NDArray[np.int64], ...]
    cap_members: NDArray[np.int64]
    corner_members: NDArray[np.int64]
    population: str
    band: int
    """The raster band read as people (1-based)."""
    unit: str
    residential_density: float
    resolution_m: float


@dataclass(frozen=True)
class PartialSums:
    """One partition's sums (as :class:`Measures`) and where and how it ran."""

    index: int
    base: NDArray[np.float64]
    covered: NDArray[np.float64]
    lines: int
    sub_rows: int
    negative_pixels: int
    pixel_m2: float
    pixels: int
    seconds: float
    worker: str
    peak_rss_mb: float


def population_source(source: Any) -> str:
    """Return the path or URL of a population raster that workers can open themselves.

    Raises
    ------
    InputError
        ``source`` is an object without a file name (an in-memory array).

    """
    if isinstance(source, (str, Path)):
        text = str(source)
        return text if "://" in text or text.startswith("/vsi") else str(Path(text).resolve())
    name = getattr(source, "name", None)
    if isinstance(name, str) and name:
        return name if "://" in name or name.startswith("/vsi") else str(Path(name).resolve())
    raise InputError(
        "`client`: the population raster must be a file path or URL the workers can open, "
        f"not an in-memory {type(source).__name__}"
    )


def per_row(first: NDArray[np.int64], last: NDArray[np.int64], row0: int, nrows: int) -> NDArray[np.float64]:
    """How many of the spans ``first..last`` cross each of ``nrows`` rows from ``row0``."""
    diff = np.zeros(nrows + 1, dtype=np.float64)
    a = np.clip(first - row0, 0, nrows)
    b = np.clip(last - row0 + 1, 0, nrows)
    keep = b > a
    np.add.at(diff, a[keep], 1.0)
    np.add.at(diff, b[keep], -1.0)
    return np.cumsum(diff[:-1])


@dataclass(frozen=True)
class Spans:
    """The run on the raster's grid: regions, row spans of edges and footprints, band grid."""

    grid: ScanGrid
    regions: Regions
    edges: tuple[NDArray[np.int64], NDArray[np.int64]]
    footprints: tuple[NDArray[np.int64], NDArray[np.int64]]
    corner_members: NDArray[np.int64]
    first: int
    last: int
    step: int
    cols: tuple[int, int]


def spans_of(
    regions: Regions, footprints: Footprints, layers: Sequence[NDArray[np.int64]], raster: PopulationRaster
) -> Spans:
    """Put a run on the raster's grid: its regions, the row spans of edges and footprints, its bands."""
    grid = scan_grid(raster)
    on_grid = regions_on_grid(regions, grid)
    scan = scan_footprints(footprints, grid)
    first, last, step = band_grid(on_grid, raster, on_grid=True)
    edges, fps = row_spans(on_grid, scan, grid)
    west, _, east, _ = on_grid.bounds
    cols = (math.floor((west - grid.x0) / grid.dx), math.floor((east - grid.x0) / grid.dx) + 1)
    return Spans(
        grid=grid, regions=on_grid, edges=edges, footprints=fps,
        corner_members=few_corner_members(scan, layers), first=first, last=last, step=step, cols=cols,
    )  # fmt: skip


def _row_work(regions: Regions, spans: Spans, *, resolution_m: float) -> NDArray[np.float64]:
    """Estimated work of each row of the window: its pixels plus the edges and footprints on its lines.

    Rows without an edge are skipped by the engine (no work).
    """
    nrows = spans.last - spans.first + 1
    if nrows <= 0:
        return np.zeros(0)
    rows = np.arange(spans.first, spans.last + 1, dtype=np.int64)
    ns = strips_per_row(regions, spans.grid, rows, resolution_m, spans.cols).astype(np.float64)
    edges = per_row(*spans.edges, spans.first, nrows)
    crossing = edges + per_row(*spans.footprints, spans.first, nrows)
    work = (spans.cols[1] - spans.cols[0]) + EDGE_WORK * ns * crossing
    work[edges == 0] = 0.0
    return work


def row_groups(work: NDArray[np.float64], *, count: int, max_work: float) -> list[tuple[int, int]]:
    """Consecutive rows (``[i, j)``) in groups of about ``1/count`` of the work, none above ``max_work``.

    A group closes before a row that would take it over its share, so no group holds more
    than its share, unless a single row does; rows without work (no area there) close a group
    and open none, so areas far apart in latitude (countries) never share a partition.
    """
    share = min(float(work.sum()) / max(count, 1), max_work)
    groups: list[tuple[int, int]] = []
    start, acc = 0, 0.0
    for i, w in enumerate(work.tolist()):
        if w == 0.0:  # rows without areas: a gap (between countries, islands) ends a group
            if acc > 0.0:
                groups.append((start, i))
            start, acc = i + 1, 0.0
            continue
        if acc > 0.0 and acc + w > share:
            groups.append((start, i))
            start, acc = i, 0.0
        acc += w
    if acc > 0.0:
        groups.append((start, len(work)))
    return groups


def partition_label(regions: Regions, owners: NDArray[np.int64], rows: tuple[int, int], grid: ScanGrid,
           area_names: Sequence[str] | None) -> str:  # fmt: skip
    """Say which rows, latitudes (or y) and areas a partition holds, for its error messages."""
    north, south = grid.y0 - rows[0] * grid.dy, grid.y0 - rows[1] * grid.dy
    where = f"latitudes {north:.4f}° to {south:.4f}°" if grid.lonlat else f"y {north:.1f} to {south:.1f}"
    areas = np.unique(owners[owners < regions.n_areas])
    names = [str(area_names[i]) if area_names is not None else str(i) for i in areas[:5]]
    more = ", …" if areas.shape[0] > 5 else ""
    return (
        f"partition of raster rows {rows[0]}–{rows[1] - 1} ({where}; "
        f"{areas.shape[0]} areas: {', '.join(names)}{more})"
    )


def subset_footprints(
    footprints: Footprints,
    keep: NDArray[np.bool_],
    layers: Sequence[NDArray[np.int64]],
    caps: Sequence[NDArray[np.int64]],
) -> tuple[Footprints, tuple[NDArray[np.int64], ...], tuple[NDArray[np.int64], ...]]:
    """Return the kept footprints, renumbered, with the layers and the caps' members among them."""
    new = np.full(keep.shape[0], -1, dtype=np.int64)
    new[keep] = np.arange(int(keep.sum()), dtype=np.int64)
    fields = {f: getattr(footprints, f)[keep] for f in ("lon", "lat", "radius", "azimuth", "width")}

    def renumber(ix: NDArray[np.int64]) -> NDArray[np.int64]:
        ix = np.asarray(ix, dtype=np.int64)
        return new[ix[keep[ix]]] if ix.size else ix

    polygons = footprints.polygons[keep] if footprints.polygons is not None else None
    kept = Footprints(**fields, polygons=polygons)
    return kept, tuple(renumber(ix) for ix in layers), tuple(renumber(ix) for ix in caps)


def plan_partitions(
    regions: Regions,
    footprints: Footprints,
    layers: Sequence[NDArray[np.int64]],
    raster: PopulationRaster,
    *,
    population: str,
    residential_density: float,
    resolution_m: float,
    count: int,
    area_names: Sequence[str] | None = None,
    cap_members: NDArray[np.int64] | None = None,
) -> list[PartitionTask]:
    """Cut a run into partition tasks of consecutive rows, about ``1/count`` of the work each.

    Parameters
    ----------
    regions, footprints, layers, raster, residential_density, resolution_m
        As in :func:`telecov.engine.measure` (``raster`` on the client: only its grid is used).
    population
        Path or URL of the raster, opened by the worker of each task.
    count
        Partitions aimed at; none holds more than ``1/count`` of the estimated work, or
        :data:`MAX_PARTITION_PIXELS`, unless one row alone does.
    area_names
        Area ids, to name the areas of a partition in its errors.
    cap_members
        Discs whose tips split strips (default: the small ones of ``layers``), as in
        :func:`telecov.engine.bands.bands`.

    """
    if regions.x0.shape[0] == 0:
        return []
    spans = spans_of(regions, footprints, layers, raster)
    on_grid = spans.regions
    work = _row_work(on_grid, spans, resolution_m=resolution_m)
    groups = row_groups(work, count=count, max_work=float(MAX_PARTITION_PIXELS))
    caps = few_small_members(footprints, layers) if cap_members is None else cap_members
    tasks = []
    for index, (i, j) in enumerate(groups):
        r0, r1 = spans.first + i, spans.first + j
        e_in = (spans.edges[1] >= r0) & (spans.edges[0] < r1)
        f_in = (spans.footprints[1] >= r0 - 1) & (spans.footprints[0] < r1 + 1)
        sub_fp, sub_layers, (sub_caps, sub_corners) = subset_footprints(
            footprints, f_in, layers, (caps, spans.corner_members)
        )
        sub = replace(
            on_grid, x0=on_grid.x0[e_in], y0=on_grid.y0[e_in], x1=on_grid.x1[e_in], y1=on_grid.y1[e_in],
            owner=on_grid.owner[e_in],
        )  # fmt: skip
        label = partition_label(on_grid, sub.owner, (r0, r1), spans.grid, area_names)
        tasks.append(PartitionTask(
            index=index, rows=(r0, r1), grid=(spans.first, spans.last, spans.step),
            work=float(work[i:j].sum() / max(work.sum(), 1e-300)), label=label,
            regions=sub, footprints=sub_fp, layers=sub_layers, cap_members=sub_caps,
            corner_members=sub_corners, population=population, band=raster.band.index, unit=raster.unit,
            residential_density=residential_density, resolution_m=resolution_m,
        ))  # fmt: skip
    return tasks


def worker_name() -> str:
    """Name the dask worker running this code (its address), with host and process id."""
    where = f"{socket.gethostname()} pid {os.getpid()}"
    try:
        from distributed import get_worker

        return f"{get_worker().address} ({where})"
    except (ImportError, ValueError):
        return where


def open_on_worker(source: str, band: int, unit: str) -> PopulationRaster:
    """Open the raster of a task (a local path or a URL), naming this worker if it cannot.

    Raises
    ------
    InputError
        The worker cannot open ``source``; the message names the file and the worker.

    """
    try:
        return open_population(source, band=band, unit=unit)
    except InputError as exc:
        why = str(exc).removeprefix(f"{source}: ")
    # raised outside the handler: no chained context to pickle back to the client
    raise InputError(f"{source}: worker {worker_name()} cannot open the population raster: {why}")


T = TypeVar("T")


def on_worker_raster(
    source: str, band: int, unit: str, label: str, work: Callable[[PopulationRaster], T]
) -> T:
    """Return ``work(raster)`` on the raster opened where this runs, failures named by ``label``.

    Warnings are not said again (the client has said them). Errors are raised without their
    chain of causes (which may not travel back to the client), their message naming ``label``,
    this worker and what the cause was.

    Raises
    ------
    InputError
        The worker cannot open the raster (named with the worker), or ``work`` found bad inputs.
    TooLargeError, PartitionError
        ``work`` failed.

    """
    failure: TelecovError | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TelecovWarning)
        try:
            raster = open_on_worker(source, band, unit)
        except InputError as exc:
            failure = exc
        else:
            try:
                return work(raster)
            except (InputError, TooLargeError, PartitionError) as exc:
                failure = type(exc)(f"{label} on worker {worker_name()}: {exc}")
            except Exception as exc:
                kind = type(exc).__name__
                failure = PartitionError(f"{label} failed on worker {worker_name()}: {kind}: {exc}")
    raise failure


def _measure_opened(task: PartitionTask, raster: PopulationRaster) -> tuple[Measures, int]:
    with raster:
        grid = band_grid(task.regions, raster, on_grid=True)
        if grid != task.grid:
            raise PartitionError(
                f"the worker's engine cuts bands {grid}, the client's {task.grid}: "
                "install the same telecov version on the client and the workers"
            )
        m = measure(
            task.regions, task.footprints, task.layers, raster,
            residential_density=task.residential_density, resolution_m=task.resolution_m,
            cap_members=task.cap_members, corner_members=task.corner_members, rows=task.rows, on_grid=True,
        )  # fmt: skip
        return m, raster.negative_pixels


def measure_partition(task: PartitionTask) -> PartialSums:
    """Measure one partition where this runs: open the raster, read its windows, scan its bands.

    Errors are raised without their chain of causes (which may not travel back to the
    client), their message saying what the cause was.

    Raises
    ------
    InputError
        The worker cannot open the raster (the message names the file and the worker), or
        the partition's inputs are bad (named by its rows and areas).
    TooLargeError, PartitionError
        The partition failed (the message names its rows, areas and worker).

    """
    t0 = time.perf_counter()
    m, negatives = on_worker_raster(task.population, task.band, task.unit, task.label,
                                    lambda raster: _measure_opened(task, raster))  # fmt: skip
    return PartialSums(
        index=task.index, base=m.base, covered=m.covered, lines=m.lines, sub_rows=m.sub_rows,
        negative_pixels=negatives, pixel_m2=m.pixel_m2, pixels=m.pixels,
        seconds=time.perf_counter() - t0, worker=worker_name(),
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    )  # fmt: skip


def run_tasks(
    client: Any, tasks: Sequence[PartitionTask], *, progress: Callable[[int, int], None] | None = None
) -> list[PartialSums]:
    """Measure ``tasks`` on a ``distributed.Client``; the first failure cancels the rest and is raised.

    A task lost with its worker is run again by the scheduler (dask's own recovery).
    """
    from distributed import as_completed

    run = uuid.uuid4().hex[:8]
    keys = [f"telecov-partition-{run}-{t.index}" for t in tasks]
    futures = client.map(measure_partition, list(tasks), key=keys, pure=False)
    total = sum(t.rows[1] - t.rows[0] for t in tasks)
    rows = {t.index: t.rows[1] - t.rows[0] for t in tasks}
    done, out = 0, []
    try:
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            part: PartialSums = future.result()
            out.append(part)
            done += rows[part.index]
            if progress:
                progress(done, total)
    finally:
        client.cancel([f for f in futures if not f.done()])
    return sorted(out, key=lambda p: p.index)


def merge(parts: Sequence[PartialSums], *, n_regions: int, n_layers: int, n_fields: int) -> Measures:
    """Sum the partial sums of a run's partitions (in partition order) into its :class:`Measures`."""
    base = np.zeros((n_regions, n_fields), dtype=np.float64)
    covered = np.zeros((n_regions, n_layers, n_fields), dtype=np.float64)
    for part in parts:
        base += part.base
        covered += part.covered
    pixels = sum(p.pixels for p in parts)
    return Measures(
        base=base, covered=covered, lines=sum(p.lines for p in parts),
        sub_rows=max((p.sub_rows for p in parts), default=1),
        pixel_m2=sum(p.pixel_m2 * p.pixels for p in parts) / pixels if pixels else 0.0, pixels=pixels,
    )  # fmt: skip


def measure_with(
    client: Any,
    regions: Regions,
    footprints: Footprints,
    layers: Sequence[NDArray[np.int64]],
    raster: PopulationRaster,
    *,
    population: Any,
    residential_density: float,
    resolution_m: float,
    area_names: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Measures:
    """Measure in this process (``client`` None) or as partition tasks on a ``distributed.Client``.

    Parameters
    ----------
    client
        None, or a ``distributed.Client``: the run is cut into about
        :data:`TASKS_PER_WORKER` partitions per worker thread, measured by the workers.
    regions, footprints, layers, raster, residential_density, resolution_m, progress
        As in :func:`telecov.engine.measure`; with a client, ``raster``'s negative pixel count
        grows by the workers' counts.
    population
        The raster as given (path, URL or a dataset with a file name), opened by each worker.
    area_names
        Area ids, to name the areas of a failing partition.

    """
    if client is None:
        return measure(
            regions, footprints, layers, raster,
            residential_density=residential_density, resolution_m=resolution_m, progress=progress,
        )  # fmt: skip
    threads = max(1, sum(client.nthreads().values()))
    tasks = plan_partitions(
        regions, footprints, layers, raster, population=population_source(population),
        residential_density=residential_density, resolution_m=resolution_m,
        count=TASKS_PER_WORKER * threads, area_names=area_names,
    )  # fmt: skip
    parts = run_tasks(client, tasks, progress=progress)
    raster.negative_pixels += sum(p.negative_pixels for p in parts)
    return merge(parts, n_regions=regions.n_regions, n_layers=len(layers), n_fields=N_BASE)
