"""Candidate gains on a dask cluster: the kept lines live on the workers, the greedy stays here.

The candidates' scan lines are cut like the measure's partitions (:mod:`telecov.engine.tasks`)
into runs of raster rows, here whole blocks of :data:`~telecov.engine.gains.GAIN_BLOCK_ROWS`
rows, each with the boundary edges, existing footprints and candidates that reach it. A task
per run builds its :class:`~telecov.engine.gains.GainPart` on a worker, which keeps it (a
dask future) for the whole plan; the first evaluation and every re-measure of the lazy greedy
are small tasks on those parts, sent only to the parts the candidates cross. Each part
returns its sums block by block and the blocks are added in row order, as in one process: the
gains are the same, bit for bit, and so are the picks.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..io.population import PopulationRaster
from .bands import band_grid, strips_per_row
from .gains import (
    GAIN_BLOCK_ROWS,
    BlockSums,
    Candidates,
    GainModel,
    GainPart,
    Pairs,
    add_blocks,
    candidate_pairs,
    candidate_rows,
    check_lonlat,
    gain_model,
    gain_part,
    near_picks,
    subset,
)
from .partition import Footprints, Regions
from .tasks import (
    EDGE_WORK,
    MAX_PARTITION_PIXELS,
    TASKS_PER_WORKER,
    PartitionError,
    Spans,
    on_worker_raster,
    partition_label,
    per_row,
    population_source,
    row_groups,
    spans_of,
    subset_footprints,
    worker_name,
)

Int = NDArray[np.int64]
Float = NDArray[np.float64]

MAX_PART_PIXELS = MAX_PARTITION_PIXELS // 4
"""Pixels of raster window per part at most: a part keeps its rows' prefix sums for the whole plan."""


@dataclass(frozen=True)
class GainTask:
    """Everything one worker needs to keep the lines of raster rows ``rows[0]:rows[1]``."""

    index: int
    rows: tuple[int, int]
    grid: tuple[int, int, int]
    label: str
    regions: Regions
    """The edges crossing these rows, on the raster's grid (with the whole run's bounds)."""
    footprints: Footprints
    members: Int
    cap_members: Int
    corner_members: Int
    candidates: Candidates
    pairs: Pairs
    ids: Int
    pair_ids: Int
    parents: bool
    population: str
    band: int
    unit: str
    residential_density: float
    resolution_m: float


def _block_work(spans: Spans, cand_rows: tuple[Int, Int], *, resolution_m: float) -> Float:
    """Estimated work of each block of rows: candidates times scan lines, plus the pixels read."""
    nrows = spans.last - spans.first + 1
    rows = np.arange(spans.first, spans.last + 1, dtype=np.int64)
    ns = strips_per_row(spans.regions, spans.grid, rows, resolution_m, spans.cols).astype(np.float64)
    edges = per_row(*spans.edges, spans.first, nrows)
    cands = per_row(*cand_rows, spans.first, nrows)
    work = (spans.cols[1] - spans.cols[0]) + EDGE_WORK * ns * (edges + cands)
    work[(edges == 0) | (cands == 0)] = 0.0
    block = rows // GAIN_BLOCK_ROWS
    return np.bincount(block - block[0], weights=work).astype(np.float64)


def plan_gain_tasks(
    regions: Regions,
    footprints: Footprints,
    members: Int,
    candidates: Candidates,
    pairs: Pairs,
    raster: PopulationRaster,
    *,
    population: str,
    residential_density: float,
    resolution_m: float,
    cap_members: Int,
    parents: bool,
    count: int,
    area_names: Sequence[str] | None = None,
) -> list[GainTask]:
    """Cut the candidates' lines into about ``count`` tasks of whole blocks of rows (see the module)."""
    if regions.x0.shape[0] == 0 or len(candidates) == 0:
        return []
    layers = [np.asarray(members, dtype=np.int64)]
    spans = spans_of(regions, footprints, layers, raster)
    cand_rows = candidate_rows(candidates, raster)
    work = _block_work(spans, cand_rows, resolution_m=resolution_m)
    max_work = float(MAX_PART_PIXELS) * (1.0 + EDGE_WORK)
    block0 = spans.first // GAIN_BLOCK_ROWS
    on_grid = spans.regions
    tasks: list[GainTask] = []
    for i, j in row_groups(work, count=count, max_work=max_work):
        r0 = max(spans.first, (block0 + i) * GAIN_BLOCK_ROWS)
        r1 = min(spans.last + 1, (block0 + j) * GAIN_BLOCK_ROWS)
        e_in = (spans.edges[1] >= r0) & (spans.edges[0] < r1)
        f_in = (spans.footprints[1] >= r0 - 1) & (spans.footprints[0] < r1 + 1)
        sub_fp, (sub_members,), (sub_caps, sub_corners) = subset_footprints(
            footprints, f_in, layers, (cap_members, spans.corner_members)
        )
        ids = np.flatnonzero((cand_rows[1] >= r0) & (cand_rows[0] < r1)).astype(np.int64)
        local, local_pairs, pair_ids = subset(candidates, pairs, ids)
        sub = replace(
            on_grid, x0=on_grid.x0[e_in], y0=on_grid.y0[e_in], x1=on_grid.x1[e_in], y1=on_grid.y1[e_in],
            owner=on_grid.owner[e_in],
        )  # fmt: skip
        label = "candidate gains on " + partition_label(on_grid, sub.owner, (r0, r1), spans.grid, area_names)
        tasks.append(GainTask(
            index=len(tasks), rows=(r0, r1), grid=(spans.first, spans.last, spans.step), label=label,
            regions=sub, footprints=sub_fp, members=sub_members, cap_members=sub_caps,
            corner_members=sub_corners, candidates=local, pairs=local_pairs, ids=ids, pair_ids=pair_ids,
            parents=parents, population=population, band=raster.band.index, unit=raster.unit,
            residential_density=residential_density, resolution_m=resolution_m,
        ))  # fmt: skip
    return tasks


def _build_opened(task: GainTask, raster: PopulationRaster) -> GainPart:
    with raster:
        grid = band_grid(task.regions, raster, on_grid=True)
        if grid != task.grid:
            raise PartitionError(
                f"the worker's engine cuts bands {grid}, the client's {task.grid}: "
                "install the same telecov version on the client and the workers"
            )
        part = gain_part(
            task.regions, task.footprints, task.members, task.candidates, task.pairs, raster,
            ids=task.ids, pair_ids=task.pair_ids, residential_density=task.residential_density,
            resolution_m=task.resolution_m, cap_members=task.cap_members, corner_members=task.corner_members,
            parents=task.parents, rows=task.rows, on_grid=True,
        )  # fmt: skip
    part.label = task.label
    return part


def build_gain_part(task: GainTask) -> GainPart:
    """Keep one task's lines where this runs (the worker opens the raster and reads its rows).

    Raises
    ------
    InputError
        The worker cannot open the raster (the message names the file and the worker), or
        the task's inputs are bad (named by its rows and areas).
    TooLargeError, PartitionError
        The task failed (the message names its rows, areas and worker).

    """
    return on_worker_raster(task.population, task.band, task.unit, task.label,
                            lambda raster: _build_opened(task, raster))  # fmt: skip


def evaluate_gain_part(part: GainPart, which: Int | None, picks: Footprints) -> list[BlockSums]:
    """Measure candidates ``which`` (run indices; None: all) of a kept part, given ``picks``.

    Raises
    ------
    PartitionError
        The evaluation failed (the message names the part's rows, areas and worker).

    """
    try:
        return part.evaluate(which, picks)
    except Exception as exc:
        raise PartitionError(
            f"{part.label} failed on worker {worker_name()}: {type(exc).__name__}: {exc}"
        ) from None


def _picks_near(candidates: Candidates, which: Int, picks: Footprints) -> Footprints:
    """Return the picks (in order) that may overlap any candidate of ``which``."""
    if len(picks) == 0:
        return picks
    _, col = near_picks(candidates, which, picks)
    keep = np.zeros(len(picks), dtype=bool)
    keep[col] = True
    polygons = picks.polygons[keep] if picks.polygons is not None else None
    return Footprints(picks.lon[keep], picks.lat[keep], picks.radius[keep], picks.azimuth[keep],
                      picks.width[keep], polygons=polygons)  # fmt: skip


@dataclass
class RemoteGains:
    """The parts kept on the workers, and how often and how long the greedy asked them."""

    client: Any
    tasks: list[GainTask]
    candidates: Candidates
    parts: list[Any] = field(default_factory=list)
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    calls: int = 0
    seconds: list[float] = field(default_factory=list)

    def start(self) -> None:
        """Send the tasks and keep their parts on the workers (a part lost with its worker is rebuilt)."""
        keys = [f"telecov-gains-part-{self.run}-{t.index}" for t in self.tasks]
        self.parts = list(self.client.map(build_gain_part, self.tasks, key=keys, pure=False))

    def __call__(self, which: Int | None, picks: Footprints) -> list[BlockSums]:
        """Measure ``which`` on the parts they cross (one round trip), block sums of every part."""
        t0 = time.perf_counter()
        sent: list[tuple[Int | None, Footprints]]
        if which is None:
            targets = list(range(len(self.tasks)))
            sent = [(None, picks) for _ in targets]
        else:
            which = np.asarray(which, dtype=np.int64)
            near = _picks_near(self.candidates, which, picks)
            inside = [np.isin(which, t.ids) for t in self.tasks]
            targets = [k for k, m in enumerate(inside) if m.any()]
            sent = [(which[inside[k]], near) for k in targets]
        keys = [f"telecov-gains-{self.run}-{self.calls}-{k}" for k in targets]
        futures = [
            self.client.submit(evaluate_gain_part, self.parts[k], w, p, pure=False, key=key)
            for k, (w, p), key in zip(targets, sent, keys, strict=True)
        ]
        self.calls += 1
        try:
            results = self.client.gather(futures)
        finally:
            self.client.cancel([f for f in futures if not f.done()])
        self.seconds.append(time.perf_counter() - t0)
        return [b for blocks in results for b in blocks]

    def close(self) -> None:
        """Let the workers drop the parts."""
        self.client.cancel(self.parts)

    @property
    def stats(self) -> dict[str, float]:
        """Parts, round trips, their seconds: all, the first (parts built), the later ones' median."""
        later = sorted(self.seconds[1:])
        return {
            "parts": len(self.tasks), "round_trips": self.calls, "seconds": round(sum(self.seconds), 3),
            "first_s": round(self.seconds[0], 3) if self.seconds else 0.0,
            "remeasure_median_s": round(later[len(later) // 2], 4) if later else 0.0,
        }  # fmt: skip


@contextlib.contextmanager
def gain_model_on(
    client: Any,
    regions: Regions,
    footprints: Footprints,
    members: Int,
    candidates: Candidates,
    raster: PopulationRaster,
    *,
    population: Any,
    residential_density: float,
    resolution_m: float,
    cap_members: Int,
    parents: bool = True,
    area_names: Sequence[str] | None = None,
) -> Iterator[tuple[GainModel, Float]]:
    """Yield :func:`~telecov.engine.gains.gain_model`'s model and gains, here or on a cluster.

    With ``client`` None, in this process; with a ``distributed.Client``, the kept lines live on
    its workers (about :data:`~telecov.engine.tasks.TASKS_PER_WORKER` parts per worker thread)
    until the block ends. ``population`` is the raster as given (path or URL, opened by each
    worker); the other parameters are :func:`~telecov.engine.gains.gain_model`'s. On a
    cluster the model's ``evaluate`` is a :class:`RemoteGains` (its ``stats``: parts, round
    trips, seconds).
    """
    if client is None:
        model, gains = gain_model(
            regions, footprints, members, candidates, raster, residential_density=residential_density,
            resolution_m=resolution_m, cap_members=cap_members, parents=parents,
        )  # fmt: skip
        yield model, gains
        return
    check_lonlat(raster)
    pairs = candidate_pairs(regions, candidates)
    threads = max(1, sum(client.nthreads().values()))
    tasks = plan_gain_tasks(
        regions, footprints, members, candidates, pairs, raster, population=population_source(population),
        residential_density=residential_density, resolution_m=resolution_m, cap_members=cap_members,
        parents=parents, count=TASKS_PER_WORKER * threads, area_names=area_names,
    )  # fmt: skip
    remote = RemoteGains(client, tasks, candidates)
    try:
        remote.start()
        gains = np.zeros((pairs.region.shape[0], 4), np.float64)
        add_blocks(gains, remote(None, Footprints.empty()))
        yield GainModel(candidates, pairs, candidate_rows(candidates, raster), remote), gains
    finally:
        remote.close()
