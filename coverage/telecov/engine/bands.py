"""Bands of pixel rows and their scan strips: the one banding the measure and the gap zones share.

Rows are the population raster's own (:mod:`telecov.engine.grid`): parallels on a lon/lat
raster, rows of constant y in its CRS otherwise. Each pixel row is cut into equal strips no
taller than ``resolution_m`` on the ground (finer in rows holding small areas), split again at
the ends of edges nearly parallel to the lines, at the tips of small discs and at the corners
of polygon footprints in layers having few of them; the scan line of a strip lies at its
midpoint. A band also carries its coarse strips (without the corner splits): footprints whose
corners do not split strips are measured once per coarse strip (:mod:`telecov.engine.lines`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import TooLargeError
from ..geodesy import band_area_per_degree, meridian_radius
from ..io.population import PopulationRaster
from .grid import ScanFootprints, ScanGrid, regions_on_grid, scan_footprints, scan_grid
from .partition import Footprints, Regions
from .pixels import N_CHANNELS, residential_mask
from .splits import few_corner_members, few_corners, few_small_members, footprint_caps

PIXEL_BYTES = 8 * (N_CHANNELS + 6)
"""Bytes a band holds per pixel: prefix sums, values, people, flags, areas, scratch."""
MAX_PIXELS = 4_000_000_000
"""Pixels of population raster over the areas above which a run is refused as too large."""
BAND_BYTES = 256 * 2**20
"""Memory budget of one band of pixel rows (prefix sums and masks)."""

SMALL_AREA_DIVISIONS = 200.0
"""Strips are at most 1/200 of the square root of the smallest area crossing their row."""


@dataclass(frozen=True)
class Band:
    """Everything a kernel needs to scan one band of pixel rows.

    Rows are counted from ``b0`` (the raster row of the band's first row). Strip ``k`` of
    row ``r`` is ``sptr[r] + k``; edges and footprint memberships carry row spans relative
    to the band. Coordinates (``tops``, ``lon0``, edges) are the grid's: degrees on a lon/lat
    raster, the raster's CRS otherwise. ``area_deg`` (each strip's exact area per degree of
    longitude) is only defined on lon/lat grids (NaN otherwise); every kernel takes areas from
    the pixels' true areas ``area`` instead.
    """

    b0: int
    rows: int
    sptr: NDArray[np.int64]
    tops: NDArray[np.float64]
    bottoms: NDArray[np.float64]
    mids: NDArray[np.float64]
    area_deg: NDArray[np.float64]
    weight: NDArray[np.float64]
    lon0: float
    dx: float
    pop: NDArray[np.float64]
    res: NDArray[np.float64]
    area: NDArray[np.float64]
    """True area (m²) of each pixel."""
    edges: tuple[NDArray[Any], ...]
    """x0, y0, x1, y1, owner, first row, last row."""
    members: tuple[NDArray[np.int64], ...]
    """first row, last row, layer, footprint."""
    discs: tuple[NDArray[Any], ...]
    """Every footprint as the kernels take it (:class:`telecov.engine.grid.ScanFootprints`)."""
    coarse: tuple[NDArray[Any], ...]
    """The strips without the corner splits: row pointer, the coarse strip of each strip, tops,
    bottoms; then whether each footprint's corners split strips (1) or not (0)."""

    @property
    def strips(self) -> tuple[NDArray[Any], ...]:
        """The kernels' tuple ``(sptr, mids, tops, bottoms, weight)``."""
        return (self.sptr, self.mids, self.tops, self.bottoms, self.weight)

    @property
    def grid(self) -> tuple[float, float]:
        """The kernels' tuple ``(lon0, dx)``."""
        return (self.lon0, self.dx)

    @property
    def pixels(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """The kernels' tuple ``(pop, res, area)``."""
        return (self.pop, self.res, self.area)


@dataclass(frozen=True)
class _Window:
    """Raster rows ``first..last`` and columns ``col0:col1`` over the areas, read ``step`` rows at a time."""

    first: int
    last: int
    col0: int
    col1: int
    step: int


def _row_span(
    y0: float, dy: float, north: NDArray[np.float64], south: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    first = np.floor((y0 - north) / dy).astype(np.int64)
    last = np.floor((y0 - south) / dy).astype(np.int64)
    return first, last


def _window(regions: Regions, grid: ScanGrid, name: str) -> _Window:
    """Return the raster window over the areas and the band height that fits :data:`BAND_BYTES`."""
    west, south, east, north = regions.bounds
    row_first = math.floor((grid.y0 - north) / grid.dy)
    row_last = math.floor((grid.y0 - south) / grid.dy)
    col0 = math.floor((west - grid.x0) / grid.dx)
    col1 = math.floor((east - grid.x0) / grid.dx) + 1
    ncols = col1 - col0
    nrows = row_last - row_first + 1
    if nrows * ncols > MAX_PIXELS:
        raise TooLargeError(
            f"{name}: {nrows:,} x {ncols:,} pixels over the areas exceed this machine's "
            f"limit of {MAX_PIXELS:,}; use `select` or a coarser raster"
        )
    row_bytes = ncols * PIXEL_BYTES
    if row_bytes > BAND_BYTES:
        raise TooLargeError(f"{name}: a single raster row of {ncols:,} pixels is too large")
    step = max(1, min(nrows, BAND_BYTES // row_bytes, 512))
    return _Window(first=row_first, last=row_last, col0=col0, col1=col1, step=step)


def band_grid(regions: Regions, raster: PopulationRaster, *, on_grid: bool = False) -> tuple[int, int, int]:
    """Return the raster rows ``(first, last, step)`` :func:`bands` cuts into bands of ``step`` rows.

    Raises
    ------
    TooLargeError
        The raster window over the areas is too large for this machine.

    """
    grid = scan_grid(raster)
    window = _window(regions if on_grid else regions_on_grid(regions, grid), grid, raster.name)
    return window.first, window.last, window.step


def strips_per_row(
    regions: Regions, grid: ScanGrid, rows: NDArray[np.int64], resolution_m: float, cols: tuple[int, int]
) -> NDArray[np.int64]:
    """Scan lines per pixel row: ``resolution_m`` spacing, finer in rows holding small areas.

    Midpoint sampling errs by at most half a strip along an edge parallel to the lines, so
    the spacing is tied to the size of the smallest area in each row. ``cols`` is the
    window's column range (a projected pixel's ground height varies along the row).
    """
    spacing = np.full(rows.shape[0], resolution_m, dtype=np.float64)
    small = regions.area_size_m / SMALL_AREA_DIVISIONS < resolution_m
    if small.any():
        first, last = _row_span(
            grid.y0, grid.dy, regions.area_bounds[small, 3], regions.area_bounds[small, 1]
        )
        need = regions.area_size_m[small] / SMALL_AREA_DIVISIONS
        for a, b, h in zip(first, last, need, strict=True):
            sel = (rows >= a) & (rows <= b)
            spacing[sel] = np.minimum(spacing[sel], max(h, 0.05))
    pixel_height_m = grid.row_heights_m(rows, *cols)
    return np.maximum(1, np.ceil(pixel_height_m / spacing - 1e-9)).astype(np.int64)


def _flat_edge_ends(
    regions: Regions,
    emask: NDArray[np.bool_],
    grid: ScanGrid,
    b0: int,
    ns: NDArray[np.int64],
    cols: tuple[int, int],
    resolution_m: float,
) -> NDArray[np.float64]:
    """Y of both ends of the band's edges nearly parallel to its scan lines.

    Judged on the strips of the row of an edge's first end, in the band or not (strips never
    depend on the bands).
    """
    h = ns.shape[0]
    ey0, ey1 = regions.y0[emask], regions.y1[emask]
    ex0, ex1 = regions.x0[emask], regions.x1[emask]
    row = np.floor((grid.y0 - ey0) / grid.dy).astype(np.int64)
    inside = (row >= b0) & (row < b0 + h)
    ns_e = np.empty(row.shape[0], dtype=np.int64)
    ns_e[inside] = ns[row[inside] - b0]
    if not inside.all():
        ns_e[~inside] = strips_per_row(regions, grid, row[~inside], resolution_m, cols)
    if grid.lonlat:
        lat = np.asarray(grid.y0 - (row + 0.5) * grid.dy, dtype=np.float64)
        pixel_m = meridian_radius(lat) * math.radians(grid.dy)
        dy_m = np.abs(ey1 - ey0) * (math.pi / 180.0) * 6.36e6
        dx_m = np.abs(ex1 - ex0) * (math.pi / 180.0) * 6.36e6 * np.cos(np.radians(ey0))
    else:
        unique, at = np.unique(row, return_inverse=True)
        scale = np.array([grid.metres_per_unit(float(r) + 0.5, *cols) for r in unique.tolist()])
        mx, my = scale[at, 0], scale[at, 1]
        pixel_m = my * grid.dy
        dy_m, dx_m = np.abs(ey1 - ey0) * my, np.abs(ex1 - ex0) * mx
    spacing = pixel_m / ns_e
    flat = (dy_m < spacing) & (dx_m > spacing)
    return np.concatenate([ey0[flat], ey1[flat]])


def _strips(
    flat_ends: NDArray[np.float64],
    grid: ScanGrid,
    b0: int,
    ns: NDArray[np.int64],
    events: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Cut each pixel row of a band into ``ns`` strips, split again at the ends of flat edges.

    An edge nearly parallel to the scan lines makes an area's width jump inside a strip, the
    one place where midpoint sampling errs to first order; a strip boundary at each end of
    such an edge (``flat_ends``) makes its contribution exact. ``events`` are further y to
    split at (the tops and bottoms of small discs). Returns (row pointer, tops, bottoms).
    """
    h = ns.shape[0]
    y0, dy = grid.y0, grid.dy
    rows = np.repeat(np.arange(h), ns + 1)
    t = np.arange(rows.shape[0], dtype=np.float64) - np.repeat(np.cumsum(ns + 1) - (ns + 1), ns + 1)
    t = t / np.repeat(ns, ns + 1)
    ys = np.concatenate([flat_ends, events])
    if ys.size:
        pos = (y0 - ys) / dy - b0
        r_ev = np.floor(pos).astype(np.int64)
        t_ev = pos - r_ev
        keep = (r_ev >= 0) & (r_ev < h) & (t_ev > 1e-9) & (t_ev < 1 - 1e-9)
        rows = np.concatenate([rows, r_ev[keep]])
        t = np.concatenate([t, t_ev[keep]])
        order = np.lexsort((t, rows))
        rows, t = rows[order], t[order]
        distinct = np.ones(rows.shape[0], dtype=bool)
        distinct[1:] = (rows[1:] != rows[:-1]) | (t[1:] - t[:-1] > 1e-9)
        rows, t = rows[distinct], t[distinct]
    same = rows[1:] == rows[:-1]
    strip_row = rows[:-1][same]
    tops = y0 - (b0 + strip_row + t[:-1][same]) * dy
    bottoms = y0 - (b0 + strip_row + t[1:][same]) * dy
    sptr = np.searchsorted(strip_row, np.arange(h + 1)).astype(np.int64)
    return sptr, tops, bottoms


def row_spans(
    regions: Regions, scan: ScanFootprints, grid: ScanGrid
) -> tuple[tuple[NDArray[np.int64], NDArray[np.int64]], tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """Raster rows ``(first, last)`` of each edge and each footprint, both on ``grid``."""
    edges = _row_span(
        grid.y0, grid.dy, np.maximum(regions.y0, regions.y1), np.minimum(regions.y0, regions.y1)
    )
    return edges, _row_span(grid.y0, grid.dy, scan.top, scan.bottom)


def _memberships(
    spans: tuple[NDArray[np.int64], NDArray[np.int64]], layers: Sequence[NDArray[np.int64]]
) -> tuple[NDArray[np.int64], ...]:
    """Every (layer, footprint) pair with the raster rows it spans: (first, last, layer, footprint)."""
    n_layers = len(layers)
    member_fp = (
        np.concatenate([np.asarray(ix, dtype=np.int64) for ix in layers])
        if n_layers
        else np.zeros(0, np.int64)
    )
    member_layer = np.repeat(np.arange(n_layers, dtype=np.int64), [len(ix) for ix in layers])
    f_first, f_last = spans
    return f_first[member_fp], f_last[member_fp], member_layer, member_fp


@dataclass(frozen=True)
class _Partition:
    """A partition on the raster's grid: regions, footprints, row spans and the strip events."""

    regions: Regions
    grid: ScanGrid
    footprints: ScanFootprints
    window: _Window
    spans: tuple[NDArray[np.int64], ...]
    caps: NDArray[np.float64]
    """Y of the tips of small discs (:func:`footprint_caps`), strip boundaries."""
    corners: NDArray[np.float64]
    """Y of the corners that split strips (:func:`few_corners`)."""
    splits: NDArray[np.int64]
    """Whether each footprint's corners split strips (1) or not (0)."""


def _pixels(raster: PopulationRaster, grid: ScanGrid, window: _Window, rows: tuple[int, int],
            band: tuple[int, int], *, residential_density: float) -> tuple[NDArray[Any], ...]:  # fmt: skip
    """People, residential flags and true areas (m²) of the pixels of ``rows`` of ``band``.

    A band cut short takes its areas from the whole band (a projected grid computes them
    around the band's middle), as in a run over every row.
    """
    lo, hi = rows
    values = raster.read(lo, hi, window.col0, window.col1)
    if grid.lonlat or rows == band:
        area = grid.pixel_areas(lo, hi, window.col0, window.col1)
    else:
        area = grid.pixel_areas(*band, window.col0, window.col1)[lo - band[0] : hi - band[0]]
    pop = values * (area / 1e6) if raster.unit == "density" else values
    return pop, residential_mask(pop, area / 1e6, residential_density), area


def _band(part: _Partition, raster: PopulationRaster, b0: int, rows: tuple[int, int] | None, *,
          residential_density: float, resolution_m: float) -> Band | None:  # fmt: skip
    """Rows ``b0:b0 + window.step`` (of ``rows``) with their strips, pixels, edges, members; or None."""
    regions, grid, window = part.regions, part.grid, part.window
    e_first, e_last, m_first, m_last, m_layer, m_fp = part.spans
    full = (b0, min(b0 + window.step, window.last + 1))
    b0, b1 = full if rows is None else (max(full[0], rows[0]), min(full[1], rows[1]))
    if b0 >= b1:
        return None
    emask = (e_last >= b0) & (e_first < b1)
    if not emask.any():
        return None
    h = b1 - b0
    mmask = (m_last >= b0) & (m_first < b1)
    pop, res, area = _pixels(raster, grid, window, (b0, b1), full, residential_density=residential_density)
    cols = (window.col0, window.col1)
    ns = strips_per_row(regions, grid, np.arange(b0, b1, dtype=np.int64), resolution_m, cols)
    flat = _flat_edge_ends(regions, emask, grid, b0, ns, cols, resolution_m)
    north, south = grid.y0 - b0 * grid.dy, grid.y0 - b1 * grid.dy
    band_caps = part.caps[(part.caps < north) & (part.caps > south)]
    band_corners = part.corners[(part.corners < north) & (part.corners > south)]
    sptr, tops, bottoms = _strips(flat, grid, b0, ns, np.concatenate([band_caps, band_corners]))
    coarse = (sptr, np.arange(tops.shape[0]), tops, bottoms)
    if band_corners.size:
        csptr, ctops, cbottoms = _strips(flat, grid, b0, ns, band_caps)
        of = np.searchsorted(-ctops, -0.5 * (tops + bottoms), side="right") - 1
        coarse = (csptr, of.astype(np.int64), ctops, cbottoms)
    row_of = np.repeat(np.arange(h), np.diff(sptr))
    if grid.lonlat:
        area_deg = band_area_per_degree(tops, bottoms)
        weight = area_deg / np.add.reduceat(area_deg, sptr[:-1])[row_of]
    else:
        area_deg = np.full(tops.shape[0], np.nan)
        weight = (tops - bottoms) / grid.dy
    return Band(
        b0=b0, rows=h, sptr=sptr, tops=tops, bottoms=bottoms, mids=0.5 * (tops + bottoms),
        area_deg=area_deg, weight=weight, lon0=grid.x0 + window.col0 * grid.dx, dx=grid.dx,
        pop=pop, res=res, area=area,
        edges=(
            regions.x0[emask], regions.y0[emask], regions.x1[emask], regions.y1[emask],
            regions.owner[emask], e_first[emask] - b0, e_last[emask] - b0,
        ),
        members=(m_first[mmask] - b0, m_last[mmask] - b0, m_layer[mmask], m_fp[mmask]),
        discs=part.footprints.discs, coarse=(*coarse, part.splits),
    )  # fmt: skip


def _partition(
    regions: Regions,
    footprints: Footprints,
    layers: Sequence[NDArray[np.int64]],
    raster: PopulationRaster,
    members: tuple[NDArray[np.int64] | None, NDArray[np.int64] | None],
    resolution_m: float,
    on_grid: bool,
) -> _Partition:
    """Put the partition on the raster's grid: regions and footprints in its coordinates, row spans."""
    grid = scan_grid(raster)
    if not on_grid:
        regions = regions_on_grid(regions, grid)
    scan = scan_footprints(footprints, grid)
    window = _window(regions, grid, raster.name)
    edge_spans, footprint_spans = row_spans(regions, scan, grid)
    spans = (*edge_spans, *_memberships(footprint_spans, layers))
    cap_members, corner_members = members
    if corner_members is None:
        corner_members = few_corner_members(scan, layers)
    splits = np.zeros(scan.top.shape[0], dtype=np.int64)
    splits[corner_members] = 1
    caps = np.zeros(0)
    if grid.lonlat:
        if cap_members is None:
            cap_members = few_small_members(footprints, layers)
        caps = footprint_caps(footprints, cap_members, resolution_m=resolution_m)
    return _Partition(
        regions=regions, grid=grid, footprints=scan, window=window, spans=spans, caps=caps,
        corners=few_corners(scan, splits), splits=splits,
    )  # fmt: skip


def bands(
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
) -> Iterator[Band]:
    """Cut the partition into bands of pixel rows, each with its strips and the data crossing it.

    Parameters
    ----------
    regions, footprints, layers, raster, residential_density, resolution_m
        As in :func:`telecov.engine.measure` (lon/lat regions and footprints; on a projected
        raster they are put on its grid here).
    cap_members
        Discs whose tips split strips (default: :func:`few_small_members` of ``layers``);
        pass the same set to get the same strips as another run.
    corner_members
        Footprints whose corners split strips (default: :func:`few_corner_members`), likewise.
    rows, on_grid
        Only raster rows ``rows[0]:rows[1]`` (a partition of a run; None: all), each scanned
        as in a run over all rows; ``regions`` already on the raster's grid (with the run's bounds).
    progress
        Called with (rows done, rows total) after each band.

    Raises
    ------
    TooLargeError
        The raster window over the areas is too large for this machine.

    """
    if regions.x0.shape[0] == 0:
        return
    members = (cap_members, corner_members)
    part = _partition(regions, footprints, layers, raster, members, resolution_m, on_grid)
    window = part.window
    nrows = window.last - window.first + 1
    for b0 in range(window.first, window.last + 1, window.step):
        band = _band(
            part, raster, b0, rows, residential_density=residential_density, resolution_m=resolution_m
        )
        if band is not None:
            yield band
        if progress:
            progress(min(b0 + window.step, window.last + 1) - window.first, nrows)
