"""Gap zones in two steps that a dask cluster can share out: rectangles by rows, zones by areas.

:func:`gap_rectangles` scans the layer's uncovered residential rectangles band by band
(:func:`telecov.engine.gap_kernels.gap_band`); on a cluster, partitions of raster rows cut like
the measure's (:mod:`telecov.engine.tasks`) are scanned by the workers and their rectangles
joined in row order, which is the order of one process. :func:`gap_zones` turns rectangles
into connected zones (:mod:`telecov.engine.zone_kernels`, then ``shapely``); zones never join
two areas, so on a cluster groups of areas are traced apart and the zones put back in the
order one process makes them (by their first rectangle: strip, area, west). Zones, their
people and areas are then the same as in one process.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from ..io.population import PopulationRaster
from .bands import band_grid, bands
from .gap_kernels import gap_band
from .partition import Footprints, Regions
from .tasks import (
    TASKS_PER_WORKER,
    PartitionError,
    on_worker_raster,
    plan_partitions,
    population_source,
    worker_name,
)
from .zone_kernels import merge_and_node, rings

RECT_FIELDS = ("c", "s", "lo", "hi", "people", "area")
"""Gap rectangles: area index, global strip, west, east, people, m²."""
ZONE_FIELDS = ("area", "population", "area_m2", "geometry")
"""Gap zones: area index, people, m², polygon (in the raster grid's coordinates)."""

Rects = dict[str, NDArray[Any]]
Strips = tuple[NDArray[np.float64], NDArray[np.float64]]


@dataclass(frozen=True)
class GapRects:
    """Rectangles (:data:`RECT_FIELDS`, strips counted from 0 here), the strips' tops and bottoms, base."""

    index: int
    rects: Rects
    strips: Strips
    base: NDArray[np.float64]
    seconds: float = 0.0


def _no_rects() -> Rects:
    return {k: np.zeros(0, dtype=np.int64 if k in ("c", "s") else np.float64) for k in RECT_FIELDS}


def _scan(
    regions: Regions, footprints: Footprints, members: NDArray[np.int64], raster: PopulationRaster, **kw: Any
) -> tuple[Rects, Strips, NDArray[np.float64]]:
    """Rectangles of the bands of ``regions`` (``kw``: :func:`telecov.engine.bands.bands`' options)."""
    base = np.zeros((regions.n_areas, 2))
    parts = [tuple(_no_rects().values())]
    tops: list[NDArray[np.float64]] = [np.zeros(0)]
    bottoms: list[NDArray[np.float64]] = [np.zeros(0)]
    strip0 = 0
    for band in bands(regions, footprints, [members], raster, **kw):
        *arrays, count = gap_band(
            band.rows, band.strips, band.grid, band.pixels, band.edges, band.discs, band.members, strip0, base
        )
        parts.append(tuple(x[:count] for x in arrays))
        tops.append(band.tops)
        bottoms.append(band.bottoms)
        strip0 += band.tops.shape[0]
    rects = {k: np.concatenate([p[i] for p in parts]) for i, k in enumerate(RECT_FIELDS)}
    return rects, (np.concatenate(tops), np.concatenate(bottoms)), base


def scan_gap_partition(task: Any) -> GapRects:
    """Scan one partition's rectangles where this runs.

    ``task`` is a :class:`~telecov.engine.tasks.PartitionTask` whose first layer is the gap's.

    Raises
    ------
    InputError, TooLargeError, PartitionError
        As :func:`telecov.engine.tasks.measure_partition` (the message names the rows, areas and
        worker).

    """
    t0 = time.perf_counter()

    def scan(raster: PopulationRaster) -> tuple[Rects, Strips, NDArray[np.float64]]:
        with raster:
            if band_grid(task.regions, raster, on_grid=True) != task.grid:
                raise PartitionError("install the same telecov version on the client and the workers")
            return _scan(
                task.regions, task.footprints, task.layers[0], raster,
                residential_density=task.residential_density, resolution_m=task.resolution_m,
                cap_members=task.cap_members, corner_members=task.corner_members, rows=task.rows,
                on_grid=True,
            )  # fmt: skip

    rects, strips, base = on_worker_raster(
        task.population, task.band, task.unit, f"gap rectangles of {task.label}", scan
    )
    return GapRects(task.index, rects, strips, base, time.perf_counter() - t0)


def gap_rectangles(
    client: Any,
    regions: Regions,
    footprints: Footprints,
    members: NDArray[np.int64],
    all_members: NDArray[np.int64],
    raster: PopulationRaster,
    *,
    population: Any,
    residential_density: float,
    resolution_m: float,
    area_names: Sequence[str] | None = None,
) -> tuple[Rects, Strips, NDArray[np.float64]]:
    """Uncovered residential rectangles of one layer, in this process or on a ``distributed.Client``.

    ``members``: the layer's footprints; ``all_members``: the report's small discs (the
    report's strips); ``population``: the raster as given, opened by each worker. Returns the
    rectangles (:data:`RECT_FIELDS`, in row order), the strips' (tops, bottoms) and per area
    the engine's population and residential population.
    """
    kw = {"residential_density": residential_density, "resolution_m": resolution_m}
    if client is None:
        return _scan(regions, footprints, members, raster, cap_members=all_members, **kw)
    threads = max(1, sum(client.nthreads().values()))
    tasks = plan_partitions(
        regions, footprints, [members], raster, population=population_source(population),
        count=TASKS_PER_WORKER * threads, area_names=area_names, cap_members=all_members, **kw,
    )  # fmt: skip
    parts = _run(client, scan_gap_partition, tasks, "gap-rects")
    base = np.zeros((regions.n_areas, 2))
    rects, tops, bottoms = [_no_rects()], [np.zeros(0)], [np.zeros(0)]
    strip0 = 0
    for part in parts:
        rects.append({**part.rects, "s": part.rects["s"] + strip0})
        tops.append(part.strips[0])
        bottoms.append(part.strips[1])
        strip0 += part.strips[0].shape[0]
        base += part.base
    joined = {k: np.concatenate([r[k] for r in rects]) for k in RECT_FIELDS}
    return joined, (np.concatenate(tops), np.concatenate(bottoms)), base


def _run(client: Any, fn: Any, tasks: Sequence[Any], name: str, *more: Sequence[Any]) -> list[Any]:
    """Run ``fn`` on each task and ``more`` on the cluster; results in order, the first failure raised."""
    run = uuid.uuid4().hex[:8]
    keys = [f"telecov-{name}-{run}-{k}" for k in range(len(tasks))]
    futures = client.map(fn, list(tasks), *more, key=keys, pure=False)
    try:
        return list(client.gather(futures))
    finally:
        client.cancel([f for f in futures if not f.done()])


@dataclass(frozen=True)
class ZoneTask:
    """Rectangles of some areas (sorted by strip, area, west) to trace into zones."""

    label: str
    rects: Rects
    strips: Strips


def trace_zones(rects: Rects, strips: Strips) -> dict[str, NDArray[Any]]:
    """Trace rectangles sorted by (strip, area, west) into zones: :data:`ZONE_FIELDS` and keys.

    ``key`` (strip, area, west of each zone's first rectangle) orders zones as one process does.
    """
    if rects["c"].shape[0] == 0:
        empty: dict[str, NDArray[Any]] = {
            "area": np.zeros(0, np.int64),
            "geometry": np.zeros(0, dtype=object),
        }
        for name in ("population", "area_m2", "key_w"):
            empty[name] = np.zeros(0)
        return {**empty, "key_s": np.zeros(0, np.int64)}
    tops, bottoms = strips
    mi, mf, comp, nd_r, nd_e, nd_x = merge_and_node(tuple(rects[k] for k in RECT_FIELDS), tops, bottoms)
    o = np.lexsort((nd_x, nd_e, nd_r))
    xy, ring_of = rings(
        np.ascontiguousarray(mf[:, 0]), np.ascontiguousarray(mf[:, 1]), bottoms[mi[:, 2]], tops[mi[:, 1]],
        nd_r[o], nd_e[o], nd_x[o],
    )  # fmt: skip
    labels, inverse = np.unique(comp, return_inverse=True)
    polys = shapely.polygons(shapely.linearrings(xy, indices=ring_of))
    return {
        "area": mi[labels, 0],
        "population": np.bincount(inverse, weights=mf[:, 2], minlength=labels.shape[0]),
        "area_m2": np.bincount(inverse, weights=mf[:, 3], minlength=labels.shape[0]),
        "geometry": _dissolve(polys, inverse, labels.shape[0]),
        "key_s": mi[labels, 1],
        "key_w": mf[labels, 0],
    }


def trace_zone_task(task: ZoneTask, strips: Strips | None = None) -> dict[str, NDArray[Any]]:
    """:func:`trace_zones` of one task where this runs (failures name its areas and the worker).

    ``strips``: the run's strips when the task does not carry them (sent once to every worker).

    Raises
    ------
    PartitionError
        The tracing failed.

    """
    try:
        return trace_zones(task.rects, task.strips if strips is None else strips)
    except Exception as exc:
        raise PartitionError(
            f"{task.label} failed on worker {worker_name()}: {type(exc).__name__}: {exc}"
        ) from None


def _dissolve(polys: NDArray[np.object_], inverse: NDArray[np.int64], n_zones: int) -> NDArray[np.object_]:
    """Union of the rectangles of each zone (``inverse``: zone per rectangle), valid and simplified."""
    by_zone = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[by_zone], np.arange(n_zones + 1))
    geoms = np.empty(n_zones, dtype=object)
    for z in range(n_zones):
        members = by_zone[bounds[z] : bounds[z + 1]]
        if members.shape[0] == 1:
            geoms[z] = polys[members[0]]
        else:
            geoms[z] = shapely.coverage_union_all(polys[members])
    geoms = shapely.simplify(geoms, 0.0, preserve_topology=False)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    return np.asarray(geoms, dtype=object)


def _zone_groups(rects: Rects, count: int, area_names: Sequence[str] | None) -> list[ZoneTask]:
    """Cut sorted rectangles into about ``count`` tasks of whole areas, alike in rectangles."""
    c = rects["c"]
    n_areas = int(c.max()) + 1
    per_area = np.bincount(c, minlength=n_areas)
    cuts = np.searchsorted(np.cumsum(per_area), np.linspace(0, c.shape[0], count + 1)[1:-1], side="right")
    edges = np.unique(np.concatenate([[0], cuts, [n_areas]]))
    tasks = []
    for a, b in itertools.pairwise(edges):
        keep = (c >= a) & (c < b)
        if not keep.any():
            continue
        ids = np.unique(c[keep])
        names = [str(area_names[i]) if area_names is not None else str(i) for i in ids[:5]]
        more = ", …" if ids.shape[0] > 5 else ""
        label = f"gap zones of {ids.shape[0]} areas ({', '.join(names)}{more})"
        tasks.append(ZoneTask(label, {k: v[keep] for k, v in rects.items()}, (np.zeros(0), np.zeros(0))))
    return tasks


def gap_zones(
    client: Any, rects: Rects, strips: Strips, *, area_names: Sequence[str] | None = None
) -> dict[str, NDArray[Any]]:
    """Trace the rectangles into connected zones (:data:`ZONE_FIELDS`), here or on a cluster.

    Zones come in the order of one process (their first rectangle's strip, area and west).
    """
    order = np.lexsort((rects["lo"], rects["c"], rects["s"]))
    ordered = {k: v[order] for k, v in rects.items()}
    if client is None or ordered["c"].shape[0] == 0:
        out = trace_zones(ordered, strips)
    else:
        threads = max(1, sum(client.nthreads().values()))
        groups = _zone_groups(ordered, TASKS_PER_WORKER * threads, area_names)
        # rectangles and strips go to the workers directly, the strips once to each
        sent, shared = (
            client.scatter(groups, hash=False),
            client.scatter([strips], broadcast=True, hash=False),
        )
        pieces = _run(client, trace_zone_task, sent, "gap-zones", shared * len(groups))
        client.cancel([*sent, *shared])
        out = {k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]}
        by_first = np.lexsort((out["key_w"], out["area"], out["key_s"]))
        out = {k: v[by_first] for k, v in out.items()}
    return {k: out[k] for k in ZONE_FIELDS}
