"""The estimate of a run's memory, output size and duration, made from its inputs before measuring.

It follows the engine's own banding (:mod:`.bands`): the raster window over the areas is read
in bands of pixel rows, each cut into scan strips (``ns`` per pixel row, finer at small
``resolution_m``); every band allocates its pixels, its strips, a row index of the layer
members and per-thread sums of every region and layer; the kernel's time grows with the scan
lines, the boundary edges and footprints crossing them and the number of layers. The constants
below were calibrated on measured runs (``scripts/measure_estimates.py``) and err on the large
side.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray

from ..geodesy import degrees_lat_for
from ..io.population import PopulationRaster
from ..io.resources import Estimate
from .bands import BAND_BYTES, strips_per_row
from .bands import PIXEL_BYTES as BAND_PIXEL_BYTES
from .grid import ScanGrid, regions_on_grid, scan_grid
from .partition import Footprints, Regions

PIXEL_BYTES = BAND_PIXEL_BYTES
"""Per pixel of a band: the read block, people, residential flags, true areas and their prefix sums."""
STRIP_BYTES = 90
"""Per scan strip of a band: its limits, midpoint, areas, weights, line constants and temporaries."""
REGION_LAYER_BYTES = 32
"""Per region and layer of the sums (four float64), for the result and each thread's copy."""
TABLE_ROW_BYTES = 1300
"""Per row of coverage.csv while it is built, sorted, turned into text and written."""
SITE_BYTES = 600
"""Per accepted site: its row in the tables, its point and the copies made along the way."""
VERTEX_BYTES = 120
"""Per vertex of the areas: geometries, edges, their simplified copies for the map."""
FOOTPRINT_BYTES = 24_000
"""Per footprint polygon exported: 128 vertices as shapely geometry and as GeoJSON text."""
TOUCHED_BYTES = 8192
"""Of each layer's scratch row per thread (sized for the most footprints of any layer in a row),
the part a layer of few footprints actually writes: two pages."""
FIXED_BYTES = 80 * 2**20
"""Working memory of any run beyond the above (pandas and shapely temporaries)."""

SECONDS: dict[str, float] = {
    "lines": 1.2e-6, "edge_lines": 1.0e-8, "member_lines": 2.0e-8, "layer_lines": 1.0e-8,
    "rows": 6.0e-5, "footprints": 2.0e-4, "sites": 5.0e-6,
}  # fmt: skip
"""Seconds per unit of each driver of the duration (the kernel's on this 2-core machine class).

``lines``: scan lines of rows holding boundary edges; ``edge_lines`` and ``member_lines``: edges
and footprints crossing them; ``layer_lines``: layers visited on them; ``rows``: rows of
coverage.csv tabulated and written; ``footprints``: footprint polygons exported.
"""
KERNEL_DRIVERS = frozenset({"lines", "edge_lines", "member_lines", "layer_lines"})
"""Drivers of the parallel kernel, whose time is shared among the threads (calibrated on 2)."""
CALIBRATION_THREADS = 2
FIXED_SECONDS = 2.0
"""Start-up, reading and the ordinary outputs."""

OUTPUT_BYTES: dict[str, tuple[str, float]] = {
    "coverage.csv": ("rows", 220.0), "coverage_reaggregated.csv": ("rows", 220.0),
    "coverage.xlsx": ("rows", 80.0), "areas.csv": ("area_layers", 160.0),
    "coverage.geojson": ("geojson", 1.0), "coverage.parquet": ("vertices", 17.0),
    "coverage.gpkg": ("gpkg", 1.0), "sites.csv": ("sites", 120.0), "sites.geojson": ("sites", 320.0),
    "sites.parquet": ("sites", 60.0), "footprints.geojson": ("footprints", 3500.0),
    "footprints.parquet": ("footprints", 2200.0), "coverage.html": ("map", 1.0),
    "coverage.png": ("fixed", 400_000.0),
}  # fmt: skip
"""Size model of each output: (what it grows with, bytes per unit)."""
FOOTPRINT_FILES = frozenset({"footprints.geojson", "footprints.parquet", "coverage.gpkg"})
MAP_BYTES = 10 * 2**20
"""The map's size is capped (markers sampled beyond a budget)."""


def _row_counts(first: NDArray[np.int64], last: NDArray[np.int64], r0: int, nrows: int) -> NDArray[np.int64]:
    """How many spans ``first..last`` (raster rows) cover each row ``r0 .. r0 + nrows - 1``."""
    a = np.clip(first - r0, 0, nrows)
    b = np.clip(last - r0 + 1, 0, nrows)
    keep = b > a
    diff = np.zeros(nrows + 1, dtype=np.int64)
    np.add.at(diff, a[keep], 1)
    np.add.at(diff, b[keep], -1)
    return np.cumsum(diff[:-1])


def _member_rows(
    footprints: Footprints, layers: Sequence[NDArray[np.int64]], grid: ScanGrid, r0: int, n: int
) -> tuple[NDArray[np.int64], int]:
    """Layer members crossing each row, and the most members of one layer in one row (at least 1)."""
    if not len(footprints) or not layers:
        return np.zeros(n, dtype=np.int64), 1
    dlat = degrees_lat_for(footprints.radius, footprints.lat)
    top, bottom = footprints.lat + dlat, footprints.lat - dlat
    if not grid.lonlat:  # the footprint's northmost and southmost points on the grid
        top = np.asarray(grid.to_grid.transform(footprints.lon, top)[1], dtype=np.float64)
        bottom = np.asarray(grid.to_grid.transform(footprints.lon, bottom)[1], dtype=np.float64)
    first = np.floor((grid.y0 - top) / grid.dy).astype(np.int64)
    last = np.floor((grid.y0 - bottom) / grid.dy).astype(np.int64)
    members = np.concatenate([np.asarray(ix, dtype=np.int64) for ix in layers])
    per_row = _row_counts(first[members], last[members], r0, n)
    biggest = max(len(ix) for ix in layers)
    return per_row, int(max(1, min(biggest, int(per_row.max(initial=0)))))


@dataclass(frozen=True)
class ScanProfile:
    """What the engine will scan, row by row of the raster window over the areas."""

    ns: NDArray[np.float64]
    """Scan lines per pixel row (0 in rows without boundary edges, which are skipped)."""
    edges: NDArray[np.float64]
    """Boundary edges crossing each row."""
    members: NDArray[np.float64]
    """Layer members (footprints) crossing each row."""
    max_fp: int
    """Most footprints of one layer in one row (the kernel's scratch rows are this long)."""
    step: int
    """Pixel rows per band."""
    ncols: int
    """Pixels per row."""

    @property
    def band_strips(self) -> float:
        """Scan strips of the largest band."""
        pad = (-self.ns.shape[0]) % self.step
        return float(np.pad(self.ns, (0, pad)).reshape(-1, self.step).sum(axis=1).max(initial=0.0))


def scan_profile(
    regions: Regions,
    footprints: Footprints,
    layers: Sequence[NDArray[np.int64]],
    raster: PopulationRaster,
    *,
    resolution_m: float,
) -> ScanProfile:
    """Profile the bands, strips, edges and footprints the engine will scan (as :mod:`.bands` cuts them)."""
    grid = scan_grid(raster)
    regions = regions_on_grid(regions, grid)
    west, south, east, north = regions.bounds if regions.x0.shape[0] else (0.0, 0.0, 0.0, 0.0)
    r0 = math.floor((grid.y0 - north) / grid.dy)
    nrows = max(math.floor((grid.y0 - south) / grid.dy) - r0 + 1, 1)
    col0 = math.floor((west - grid.x0) / grid.dx)
    ncols = max(math.floor((east - grid.x0) / grid.dx) - col0 + 1, 1)
    rows = np.arange(r0, r0 + nrows, dtype=np.int64)
    y_top, y_bottom = np.maximum(regions.y0, regions.y1), np.minimum(regions.y0, regions.y1)
    e_first = np.floor((grid.y0 - y_top) / grid.dy).astype(np.int64)
    e_last = np.floor((grid.y0 - y_bottom) / grid.dy).astype(np.int64)
    edges = _row_counts(e_first, e_last, r0, nrows).astype(np.float64)
    members, max_fp = _member_rows(footprints, layers, grid, r0, nrows)
    cols = (col0, col0 + ncols)
    ns = strips_per_row(regions, grid, rows, resolution_m, cols).astype(np.float64) * (edges > 0)
    return ScanProfile(
        ns=ns, edges=edges, members=members.astype(np.float64), max_fp=max_fp,
        step=max(1, min(nrows, BAND_BYTES // (ncols * PIXEL_BYTES), 512)), ncols=ncols,
    )  # fmt: skip


def _sizes(names: list[str], regions: Regions, *, n_layers: int, sites: int, n_fp: int) -> dict[str, int]:
    """Size of each output file, from :data:`OUTPUT_BYTES`."""
    vertices = float(regions.x0.shape[0])
    props = regions.n_areas * 320.0 * min(n_layers, 7)  # a GeoJSON feature's metric properties
    counts = {
        "rows": float(regions.n_regions) * n_layers, "area_layers": float(regions.n_areas * n_layers),
        "vertices": vertices, "sites": float(sites), "footprints": float(n_fp),
        "geojson": vertices * 30.0 + props, "fixed": 1.0,
        "map": min(float(MAP_BYTES), 600_000.0 + vertices * 8.0 + sites * 45.0),
        "gpkg": vertices * 30.0 + props + sites * 320.0 + n_fp * 4300.0,
    }  # fmt: skip
    out = {}
    for name in names:
        unit, per = OUTPUT_BYTES.get(name, ("fixed", 100_000.0))
        out[name] = int(per * counts[unit])
    return out


def estimate_run(
    regions: Regions,
    footprints: Footprints,
    layers: Sequence[NDArray[np.int64]],
    raster: PopulationRaster,
    *,
    resolution_m: float,
    sites: int,
    outputs: Iterable[str] = (),
) -> Estimate:
    """Estimate the memory, output size and duration of measuring and writing one partition.

    Parameters
    ----------
    regions, footprints, layers, raster, resolution_m
        What :func:`telecov.engine.measure` will be given.
    sites
        Accepted sites (their tables are copied into the outputs).
    outputs
        Names of the files the caller will write.

    """
    names = sorted(set(outputs))
    scan = scan_profile(regions, footprints, layers, raster, resolution_m=resolution_m)
    n_layers, n_regions = max(len(layers), 1), regions.n_regions
    threads = max(1, numba.get_num_threads())
    table_rows = float(n_regions) * n_layers
    n_fp = len(footprints) if FOOTPRINT_FILES & set(names) else 0
    scratch = threads * 3 * n_layers * scan.max_fp * 8  # per thread, per layer: the longest row
    parts = {
        "scan strips": int(scan.band_strips * STRIP_BYTES),
        "raster window": int(scan.step * scan.ncols * PIXEL_BYTES),
        "layers": int(n_regions * n_layers * REGION_LAYER_BYTES * (threads + 1)
                      + min(scratch, threads * 3 * n_layers * TOUCHED_BYTES) + scan.step * n_layers * 16),
        "table": int(table_rows * TABLE_ROW_BYTES),
        "sites": int(sites * SITE_BYTES),
        "areas": int(regions.x0.shape[0] * VERTEX_BYTES),
        "footprints": int(n_fp * FOOTPRINT_BYTES),
    }  # fmt: skip
    lines = float(scan.ns.sum())
    drivers = {
        "lines": lines, "edge_lines": float((scan.ns * scan.edges).sum()),
        "member_lines": float((scan.ns * scan.members).sum()), "layer_lines": lines * n_layers,
        "rows": table_rows, "footprints": float(n_fp), "sites": float(sites),
    }  # fmt: skip
    speed = CALIBRATION_THREADS / threads
    seconds = FIXED_SECONDS + sum(
        SECONDS[k] * v * (speed if k in KERNEL_DRIVERS else 1.0) for k, v in drivers.items()
    )
    sizes = _sizes(names, regions, n_layers=n_layers, sites=sites, n_fp=len(footprints))
    details = {
        "scan strips": f"{scan.band_strips:,.0f} strips in one band at `resolution_m` {resolution_m:g}",
        "raster window": f"{scan.step:,} rows of {scan.ncols:,} pixels",
        "layers": f"{n_regions:,} regions × {n_layers:,} layers",
        "table": f"{table_rows:,.0f} rows",
        "footprints": f"{n_fp:,} footprint polygons",
    }
    return Estimate(
        peak_bytes=FIXED_BYTES + sum(parts.values()), output_bytes=sum(sizes.values()), seconds=seconds,
        reserved_bytes=max(scratch - threads * 3 * n_layers * TOUCHED_BYTES, 0), parts=parts, outputs=sizes,
        details=details, drivers=drivers,
    )  # fmt: skip
