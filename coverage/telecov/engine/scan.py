"""The coverage engine: exact-in-longitude scan lines over one partition.

Method
------
The partition (areas plus the footprints that can reach them) is swept by scan lines along
the population raster's own rows (parallels on a lon/lat raster, rows of constant y in its
CRS otherwise), ``ns`` per pixel row, placed at the midpoints of equal strips no taller than
``resolution_m``. On each line every commune polygon is an exact set of x intervals; every
footprint (geodesic disc, sector or polygon) is an interval per piece holding its exact area
in the strip; unions are sorted, merged intervals. True areas and people come from prefix
sums of the pixel row, each pixel's true (ellipsoidal) area and people spread uniformly over
it. Only the y direction is sampled (midpoint rule), so the error shrinks with
``resolution_m`` squared and does not depend on the raster's pixel size. Results are sums
over rows, hence independent of how rows are banded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray

from ..io.population import PopulationRaster
from .bands import bands
from .partition import Footprints, Regions, regions_from_geometries
from .scan_kernel import N_BASE, scan_band

BASE_FIELDS = ("area_m2", "population", "residential_m2", "residential_population")
"""The sums of :class:`Measures`, in the order of their last axis."""


@dataclass(frozen=True)
class Measures:
    """Raw sums: ``base[region, k]`` and ``covered[region, layer, k]`` for ``BASE_FIELDS``."""

    base: NDArray[np.float64]
    covered: NDArray[np.float64]
    lines: int
    sub_rows: int
    """Most scan lines in one pixel row."""
    pixel_m2: float = 0.0
    """Mean true area (m²) of the raster pixels scanned."""
    pixels: int = 0
    """Raster pixels scanned."""


def measure(
    regions: Regions,
    footprints: Footprints,
    layers: Sequence[NDArray[np.int64]],
    raster: PopulationRaster,
    *,
    residential_density: float,
    resolution_m: float,
    cap_members: NDArray[np.int64] | None = None,
    corner_members: NDArray[np.int64] | None = None,
    rows: tuple[int, int] | None = None,
    on_grid: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Measures:
    """Measure every region against every layer on one partition.

    Parameters
    ----------
    regions
        Areas, parents and total as boundary edges.
    footprints
        All footprints; ``layers[k]`` lists the footprints whose union is layer ``k``.
    layers
        Footprint indices per layer.
    raster
        Population raster (people per pixel).
    residential_density
        People per km² from which a pixel counts as residential.
    resolution_m
        Maximum scan-line spacing in metres.
    cap_members, corner_members, rows, on_grid
        As in :func:`telecov.engine.bands.bands`: the footprints whose tips and corners split
        strips (default: chosen from ``layers``), the raster rows whose bands are measured,
        and whether ``regions`` are already on the raster's grid.
    progress
        Called with (rows done, rows total) after each band.

    Raises
    ------
    TooLargeError
        The raster window over the areas is too large for this machine.

    """
    n_layers = len(layers)
    base = np.zeros((regions.n_regions, N_BASE), dtype=np.float64)
    covered = np.zeros((regions.n_regions, n_layers, N_BASE), dtype=np.float64)
    n_chunks = max(1, numba.get_num_threads())
    lines = 0
    max_strips = 1
    pixel_sum, pixel_count = 0.0, 0
    for band in bands(
        regions, footprints, layers, raster,
        residential_density=residential_density, resolution_m=resolution_m,
        cap_members=cap_members, corner_members=corner_members, rows=rows, on_grid=on_grid,
        progress=progress,
    ):  # fmt: skip
        scan_band(
            n_chunks, band.rows, band.strips, band.coarse, band.grid, band.pixels, band.edges,
            regions.parent, regions.n_parents, band.discs, band.members, n_layers, base, covered,
        )  # fmt: skip
        lines += int(band.sptr[-1])
        max_strips = max(max_strips, int(np.diff(band.sptr).max()))
        pixel_sum += float(band.area.sum())
        pixel_count += int(band.area.size)
    return Measures(
        base=base, covered=covered, lines=lines, sub_rows=max_strips,
        pixel_m2=pixel_sum / pixel_count if pixel_count else 0.0, pixels=pixel_count,
    )  # fmt: skip


def measure_polygons(
    polygons: Sequence[object] | NDArray[np.object_],
    raster: PopulationRaster,
    *,
    footprints: Footprints | None = None,
    layers: Sequence[NDArray[np.int64]] = (),
    residential_density: float = 0.0,
    resolution_m: float,
    progress: Callable[[int, int], None] | None = None,
) -> Measures:
    """Measure arbitrary lon/lat polygons, and optionally layers of footprints, against a raster.

    Each polygon is measured on its own (overlaps count in each), exactly as :func:`measure`
    measures an area: POI zones, crosswalk pieces.

    Parameters
    ----------
    polygons
        Valid lon/lat (Multi)Polygons.
    raster
        Population raster (people per pixel).
    footprints, layers
        Footprints and the indices of each layer's members (none: base sums only).
    residential_density
        People per km² from which a pixel counts as residential.
    resolution_m
        Maximum scan-line spacing in metres.
    progress
        Called with (rows done, rows total) after each band.

    Returns
    -------
    Measures
        One row per polygon (no parent or total rows): ``base[polygon, k]`` and
        ``covered[polygon, layer, k]`` for :data:`BASE_FIELDS`.

    """
    if layers and footprints is None:
        raise ValueError("measure_polygons: layers need footprints")
    regions = regions_from_geometries(np.asarray(polygons, dtype=object))
    m = measure(
        regions, footprints if footprints is not None else Footprints.empty(), layers, raster,
        residential_density=residential_density, resolution_m=resolution_m, progress=progress,
    )  # fmt: skip
    n = regions.n_areas
    return Measures(
        base=m.base[:n], covered=m.covered[:n], lines=m.lines, sub_rows=m.sub_rows, pixel_m2=m.pixel_m2,
        pixels=m.pixels,
    )  # fmt: skip
