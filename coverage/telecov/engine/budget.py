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

import numba
import numpy as np
from numpy.typing import NDArray

from ..geodesy import degrees_lat_for
from ..io.population import PopulationRaster
from ..io.resources import Estimate
from .bands import BAND_BYTES, strips_per_row
from .partition import Footprints, Regions

PIXEL_BYTES = 64
"""Per pixel of a band: the read block, people, residential flags and their prefix sums."""
STRIP_BYTES = 240
"""Per scan strip of a band: its limits, midpoint, areas, weights, line constants and temporaries."""
REGION_LAYER_BYTES = 32
"""Per region and layer of the sums (four float64), for the result and each thread's copy."""
TABLE_ROW_BYTES = 1500
"""Per row of coverage.csv while it is built, sorted, turned into text and written."""
SITE_BYTES = 2500
"""Per accepted site: its row in the tables, its point and the copies made along the way."""
VERTEX_BYTES = 120
"""Per vertex of the areas: geometries, edges, their simplified copies for the map."""
FOOTPRINT_BYTES = 9000
"""Per footprint polygon exported: 128 vertices as shapely geometry and as GeoJSON text."""
FIXED_BYTES = 150 * 2**20
"""Working memory of any run beyond the above (pandas and shapely temporaries)."""

LINE_SECONDS = 2.0e-7
"""Kernel time per scan line of a row holding edges."""
EDGE_SECONDS = 6.0e-9
"""Kernel time per boundary edge crossing a scan line."""
MEMBER_SECONDS = 1.2e-8
"""Kernel time per footprint crossing a scan line."""
LAYER_SECONDS = 4.0e-9
"""Kernel time per layer on a scan line (every layer is visited on every line)."""
ROW_SECONDS = 2.0e-9
"""Tabulating, per row of coverage.csv."""
FOOTPRINT_SECONDS = 1.5e-4
"""Building and writing one exported footprint polygon."""
FIXED_SECONDS = 2.0
"""Reading, partitioning and writing the ordinary outputs."""

OUTPUT_BYTES: dict[str, tuple[str, float]] = {
    "coverage.csv": ("rows", 190.0), "coverage_reaggregated.csv": ("rows", 190.0),
    "coverage.xlsx": ("rows", 80.0), "areas.csv": ("area_layers", 160.0),
    "coverage.geojson": ("vertices", 24.0), "coverage.parquet": ("vertices", 17.0),
    "coverage.gpkg": ("gpkg", 1.0), "sites.csv": ("sites", 120.0), "sites.geojson": ("sites", 260.0),
    "sites.parquet": ("sites", 60.0), "footprints.geojson": ("footprints", 3300.0),
    "footprints.parquet": ("footprints", 2150.0), "coverage.html": ("map", 1.0),
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
    footprints: Footprints, layers: Sequence[NDArray[np.int64]], raster: PopulationRaster, r0: int, n: int
) -> tuple[NDArray[np.int64], int]:
    """Layer members crossing each row, and the most members of one layer in one row (at least 1)."""
    if not len(footprints) or not layers:
        return np.zeros(n, dtype=np.int64), 1
    dlat = degrees_lat_for(footprints.radius, footprints.lat)
    first = np.floor((raster.lat0 - (footprints.lat + dlat)) / raster.dy).astype(np.int64)
    last = np.floor((raster.lat0 - (footprints.lat - dlat)) / raster.dy).astype(np.int64)
    members = np.concatenate([np.asarray(ix, dtype=np.int64) for ix in layers])
    per_row = _row_counts(first[members], last[members], r0, n)
    biggest = max(len(ix) for ix in layers)
    return per_row, int(max(1, min(biggest, int(per_row.max(initial=0)))))


def _outputs(names: Iterable[str], counts: dict[str, float]) -> dict[str, int]:
    sizes = {}
    for name in names:
        unit, per = OUTPUT_BYTES.get(name, ("rows", 0.0) if not name.endswith(".csv") else ("fixed", 1e5))
        sizes[name] = int(per * counts.get(unit, 1.0))
    return sizes


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
    west, south, east, north = regions.bounds if regions.x0.shape[0] else (0.0, 0.0, 0.0, 0.0)
    r0 = math.floor((raster.lat0 - north) / raster.dy)
    nrows = max(math.floor((raster.lat0 - south) / raster.dy) - r0 + 1, 1)
    col0 = math.floor((west - raster.lon0) / raster.dx)
    ncols = max(math.floor((east - raster.lon0) / raster.dx) - col0 + 1, 1)
    step = max(1, min(nrows, BAND_BYTES // (ncols * PIXEL_BYTES), 512))
    rows = np.arange(r0, r0 + nrows, dtype=np.int64)
    ns = strips_per_row(regions, raster, rows, resolution_m).astype(np.float64)
    y_top, y_bottom = np.maximum(regions.y0, regions.y1), np.minimum(regions.y0, regions.y1)
    e_first = np.floor((raster.lat0 - y_top) / raster.dy).astype(np.int64)
    e_last = np.floor((raster.lat0 - y_bottom) / raster.dy).astype(np.int64)
    edges = _row_counts(e_first, e_last, r0, nrows).astype(np.float64)
    members, max_fp = _member_rows(footprints, layers, raster, r0, nrows)
    n_layers, n_regions = max(len(layers), 1), regions.n_regions
    scanned = edges > 0
    pad = (-nrows) % step
    band_strips = float(np.pad(ns * scanned, (0, pad)).reshape(-1, step).sum(axis=1).max())
    threads = max(1, numba.get_num_threads())
    table_rows = float(n_regions) * n_layers
    n_fp = len(footprints) if FOOTPRINT_FILES & set(names) else 0
    vertices = float(regions.x0.shape[0])
    parts = {
        "scan strips": int(band_strips * STRIP_BYTES),
        "raster window": int(step * ncols * PIXEL_BYTES),
        "layers": int(n_regions * n_layers * REGION_LAYER_BYTES * (threads + 1)
                      + threads * 3 * n_layers * max_fp * 8 + step * n_layers * 16),
        "table": int(table_rows * TABLE_ROW_BYTES),
        "sites": int(sites * SITE_BYTES),
        "areas": int(vertices * VERTEX_BYTES),
        "footprints": int(n_fp * FOOTPRINT_BYTES),
    }  # fmt: skip
    lines = float((ns * scanned).sum())
    work = (ns * scanned) * (LINE_SECONDS + EDGE_SECONDS * edges + MEMBER_SECONDS * members)
    seconds = (
        FIXED_SECONDS + float(work.sum()) / threads + LAYER_SECONDS * lines * n_layers / threads
        + ROW_SECONDS * table_rows * 10 + FOOTPRINT_SECONDS * n_fp
    )  # fmt: skip
    counts = {
        "rows": table_rows, "area_layers": float(regions.n_areas * n_layers), "vertices": vertices,
        "sites": float(sites), "footprints": float(len(footprints)), "map": float(MAP_BYTES),
        "gpkg": vertices * 24.0 + sites * 200.0 + len(footprints) * 2150.0, "fixed": 1.0,
    }  # fmt: skip
    sizes = _outputs(names, counts)
    details = {
        "scan strips": f"{band_strips:,.0f} strips in one band at `resolution_m` {resolution_m:g}",
        "raster window": f"{step:,} rows of {ncols:,} pixels",
        "layers": f"{n_regions:,} regions × {n_layers:,} layers",
        "table": f"{table_rows:,.0f} rows",
        "footprints": f"{n_fp:,} footprint polygons",
    }
    return Estimate(
        peak_bytes=FIXED_BYTES + sum(parts.values()), output_bytes=sum(sizes.values()), seconds=seconds,
        parts=parts, outputs=sizes, details=details,
    )  # fmt: skip
