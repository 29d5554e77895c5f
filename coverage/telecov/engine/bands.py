"""Bands of pixel rows and their scan strips: the one banding the measure and the gap zones share.

Each pixel row is cut into equal latitude strips no taller than ``resolution_m`` (finer in rows
holding small areas), split again at the ends of edges nearly parallel to the lines and at the
tips of small footprints; the scan line of a strip lies at its midpoint.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import TooLargeError
from ..geodesy import band_area_per_degree, degrees_lat_for, meridian_radius
from ..io.population import PopulationRaster
from .partition import Footprints, Regions
from .pixels import residential_mask

MAX_PIXELS = 4_000_000_000
"""Pixels of population raster over the areas above which a run is refused as too large."""
BAND_BYTES = 256 * 2**20
"""Memory budget of one band of pixel rows (prefix sums and masks)."""

SMALL_AREA_DIVISIONS = 200.0
"""Strips are at most 1/200 of the square root of the smallest area crossing their row."""

CAP_RADIUS_M = 2000.0
"""Footprints up to this radius get scan-strip boundaries at their extreme latitudes."""
CAP_MAX_PER_LAYER = 256
"""Layers with at least this many small footprints get no tip splits (their errors average out)."""
CAP_STEPS = (0.0, 1 / 64, 1 / 16, 1 / 4, 1 / 2, 1.0)
"""Strip boundaries inside each cap, as fractions of the scan-line spacing from its tip."""


@dataclass(frozen=True)
class Band:
    """Everything a kernel needs to scan one band of pixel rows.

    Rows are counted from ``b0`` (the raster row of the band's first row). Strip ``k`` of
    row ``r`` is ``sptr[r] + k``; edges and footprint memberships carry row spans relative
    to the band.
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
    edges: tuple[NDArray[Any], ...]
    """x0, y0, x1, y1, owner, first row, last row."""
    members: tuple[NDArray[np.int64], ...]
    """first row, last row, layer, footprint."""

    @property
    def strips(self) -> tuple[NDArray[Any], ...]:
        """The kernels' tuple ``(sptr, mids, area_deg, weight)``."""
        return (self.sptr, self.mids, self.area_deg, self.weight)

    @property
    def grid(self) -> tuple[float, float]:
        """The kernels' tuple ``(lon0, dx)``."""
        return (self.lon0, self.dx)

    @property
    def pixels(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The kernels' tuple ``(pop, res)``."""
        return (self.pop, self.res)


@dataclass(frozen=True)
class _Window:
    """Raster rows ``first..last`` and columns ``col0:col1`` over the areas, read ``step`` rows at a time."""

    first: int
    last: int
    col0: int
    col1: int
    step: int


def _row_span(
    lat0: float, dy: float, north: NDArray[np.float64], south: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    first = np.floor((lat0 - north) / dy).astype(np.int64)
    last = np.floor((lat0 - south) / dy).astype(np.int64)
    return first, last


def _window(regions: Regions, raster: PopulationRaster) -> _Window:
    """Return the raster window over the areas and the band height that fits :data:`BAND_BYTES`."""
    west, south, east, north = regions.bounds
    row_first = math.floor((raster.lat0 - north) / raster.dy)
    row_last = math.floor((raster.lat0 - south) / raster.dy)
    col0 = math.floor((west - raster.lon0) / raster.dx)
    col1 = math.floor((east - raster.lon0) / raster.dx) + 1
    ncols = col1 - col0
    nrows = row_last - row_first + 1
    if nrows * ncols > MAX_PIXELS:
        raise TooLargeError(
            f"{raster.name}: {nrows:,} x {ncols:,} pixels over the areas exceed this machine's "
            f"limit of {MAX_PIXELS:,}; use `select` or a coarser raster"
        )
    row_bytes = ncols * 8 * 8
    if row_bytes > BAND_BYTES:
        raise TooLargeError(f"{raster.name}: a single raster row of {ncols:,} pixels is too large")
    step = max(1, min(nrows, BAND_BYTES // row_bytes, 512))
    return _Window(first=row_first, last=row_last, col0=col0, col1=col1, step=step)


def band_grid(regions: Regions, raster: PopulationRaster) -> tuple[int, int, int]:
    """Return the raster rows ``(first, last, step)`` :func:`bands` cuts into bands of ``step`` rows.

    Raises
    ------
    TooLargeError
        The raster window over the areas is too large for this machine.

    """
    window = _window(regions, raster)
    return window.first, window.last, window.step


def strips_per_row(
    regions: Regions, raster: PopulationRaster, rows: NDArray[np.int64], resolution_m: float
) -> NDArray[np.int64]:
    """Scan lines per pixel row: ``resolution_m`` spacing, finer in rows holding small areas.

    Midpoint sampling errs by at most half a strip along an edge parallel to the lines, so
    the spacing is tied to the size of the smallest area in each row.
    """
    spacing = np.full(rows.shape[0], resolution_m, dtype=np.float64)
    small = regions.area_size_m / SMALL_AREA_DIVISIONS < resolution_m
    if small.any():
        first, last = _row_span(
            raster.lat0, raster.dy, regions.area_bounds[small, 3], regions.area_bounds[small, 1]
        )
        need = regions.area_size_m[small] / SMALL_AREA_DIVISIONS
        for a, b, h in zip(first, last, need, strict=True):
            sel = (rows >= a) & (rows <= b)
            spacing[sel] = np.minimum(spacing[sel], max(h, 0.05))
    lat = raster.lat0 - (rows + 0.5) * raster.dy
    pixel_height_m = meridian_radius(np.asarray(lat, dtype=np.float64)) * math.radians(raster.dy)
    return np.maximum(1, np.ceil(pixel_height_m / spacing - 1e-9)).astype(np.int64)


def _flat_edge_ends(
    regions: Regions,
    emask: NDArray[np.bool_],
    raster: PopulationRaster,
    b0: int,
    ns: NDArray[np.int64],
    resolution_m: float,
) -> NDArray[np.float64]:
    """Latitudes of both ends of the band's edges that are nearly parallel to its scan lines.

    An edge is judged on the strips of the row of its first end, inside the band or not, so
    the strips of a row never depend on where bands are cut.
    """
    h = ns.shape[0]
    lat0, dy = raster.lat0, raster.dy
    y0, y1 = regions.y0[emask], regions.y1[emask]
    x0, x1 = regions.x0[emask], regions.x1[emask]
    row_e = np.floor((lat0 - y0) / dy).astype(np.int64) - b0
    inside = (row_e >= 0) & (row_e < h)
    ns_e = np.empty(y0.shape[0], dtype=np.int64)
    ns_e[inside] = ns[row_e[inside]]
    if not inside.all():
        ns_e[~inside] = strips_per_row(regions, raster, row_e[~inside] + b0, resolution_m)
    pixel_m = meridian_radius(np.asarray(lat0 - (b0 + row_e + 0.5) * dy, dtype=np.float64)) * math.radians(dy)
    spacing = pixel_m / ns_e
    dy_m = np.abs(y1 - y0) * (math.pi / 180.0) * 6.36e6
    dx_m = np.abs(x1 - x0) * (math.pi / 180.0) * 6.36e6 * np.cos(np.radians(y0))
    flat = (dy_m < spacing) & (dx_m > spacing)
    return np.concatenate([y0[flat], y1[flat]])


def _strips(
    regions: Regions,
    emask: NDArray[np.bool_],
    raster: PopulationRaster,
    b0: int,
    ns: NDArray[np.int64],
    events: NDArray[np.float64],
    resolution_m: float,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Cut each pixel row of a band into ``ns`` strips, split again at the ends of flat edges.

    An edge nearly parallel to the scan lines makes an area's width jump inside a strip, the
    one place where midpoint sampling errs to first order; a strip boundary at each end of
    such an edge makes its contribution exact. ``events`` are further latitudes to split at
    (the tops and bottoms of small footprints). Returns (row pointer, tops, bottoms).
    """
    h = ns.shape[0]
    lat0, dy = raster.lat0, raster.dy
    rows = np.repeat(np.arange(h), ns + 1)
    t = np.arange(rows.shape[0], dtype=np.float64) - np.repeat(np.cumsum(ns + 1) - (ns + 1), ns + 1)
    t = t / np.repeat(ns, ns + 1)
    ys = np.concatenate([_flat_edge_ends(regions, emask, raster, b0, ns, resolution_m), events])
    if ys.size:
        pos = (lat0 - ys) / dy - b0
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
    tops = lat0 - (b0 + strip_row + t[:-1][same]) * dy
    bottoms = lat0 - (b0 + strip_row + t[1:][same]) * dy
    sptr = np.searchsorted(strip_row, np.arange(h + 1)).astype(np.int64)
    return sptr, tops, bottoms


def few_small_members(footprints: Footprints, layers: Sequence[NDArray[np.int64]]) -> NDArray[np.int64]:
    """Footprints whose tips split strips: the small ones of layers that have few of them.

    Midpoint sampling of a randomly placed disc is unbiased, so over many discs the cap errors
    average out (0.01 % of covered people with 400 sites on Hà Tĩnh); only a layer with a few
    small footprints (a first 5G roll-out) needs its tips resolved exactly.
    """
    fields = np.column_stack(
        [footprints.lon, footprints.lat, footprints.radius, footprints.azimuth, footprints.width]
    )
    chosen = []
    for ix in layers:
        small = np.asarray(ix, dtype=np.int64)[footprints.radius[ix] <= CAP_RADIUS_M]
        distinct = np.unique(fields[small], axis=0).shape[0]  # duplicates decide nothing
        if 0 < distinct < CAP_MAX_PER_LAYER:
            chosen.append(small)
    return np.unique(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def footprint_caps(
    footprints: Footprints, which: NDArray[np.int64], *, resolution_m: float
) -> NDArray[np.float64]:
    """Northmost and southmost latitudes of small footprints (and the apex of sectors).

    A disc's width changes fastest at its top and bottom; strip boundaries at the tip and at
    :data:`CAP_STEPS` inside it remove most of the error of sampling the cap at a strip's
    midpoint, which matters for a lone small disc over a dense pixel. Each latitude solves
    the kernel's own distance formula ``r = (M(φ0) + M(φ)) / 2 · |φ − φ0|``.
    """
    small = which[footprints.radius[which] <= CAP_RADIUS_M]
    if small.size == 0:
        return np.zeros(0)
    lat0 = footprints.lat[small]
    r = footprints.radius[small]
    m0 = meridian_radius(lat0)
    out = []
    for sign in (1.0, -1.0):
        for step in CAP_STEPS:
            reach = np.maximum(r - step * resolution_m, 0.0)
            d = reach / m0
            for _ in range(3):
                d = reach / (0.5 * (m0 + meridian_radius(lat0 + sign * np.degrees(d))))
            out.append(lat0 + sign * np.degrees(d))
    sectors = small[footprints.width[small] < 360.0]
    out.append(footprints.lat[sectors])
    return np.unique(np.concatenate(out))


def row_spans(
    regions: Regions, footprints: Footprints, raster: PopulationRaster
) -> tuple[tuple[NDArray[np.int64], NDArray[np.int64]], tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """Raster rows ``(first, last)`` of each boundary edge and of each footprint's reach.

    What :func:`bands` gives each band: the edges and footprints whose rows cross it (a
    partition of a run holds those of its rows, :mod:`telecov.engine.tasks`).
    """
    edges = _row_span(
        raster.lat0, raster.dy, np.maximum(regions.y0, regions.y1), np.minimum(regions.y0, regions.y1)
    )
    dlat = degrees_lat_for(footprints.radius, footprints.lat) if len(footprints) else np.zeros(0)
    return edges, _row_span(raster.lat0, raster.dy, footprints.lat + dlat, footprints.lat - dlat)


def _memberships(
    footprints: Footprints, layers: Sequence[NDArray[np.int64]], spans: tuple[NDArray[np.int64], ...]
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


def _band(
    regions: Regions,
    raster: PopulationRaster,
    window: _Window,
    b0: int,
    spans: tuple[NDArray[np.int64], ...],
    caps: NDArray[np.float64],
    *,
    residential_density: float,
    resolution_m: float,
) -> Band | None:
    """Rows ``b0:b0 + window.step`` with their strips, pixels, edges and members; None without edges."""
    e_first, e_last, m_first, m_last, m_layer, m_fp = spans
    b1 = min(b0 + window.step, window.last + 1)
    emask = (e_last >= b0) & (e_first < b1)
    if not emask.any():
        return None
    h = b1 - b0
    lat0, dy, dx = raster.lat0, raster.dy, raster.dx
    mmask = (m_last >= b0) & (m_first < b1)
    pop = raster.read(b0, b1, window.col0, window.col1)
    ns = strips_per_row(regions, raster, np.arange(b0, b1, dtype=np.int64), resolution_m)
    band_caps = caps[(caps < lat0 - b0 * dy) & (caps > lat0 - b1 * dy)]
    sptr, tops, bottoms = _strips(regions, emask, raster, b0, ns, band_caps, resolution_m)
    row_of = np.repeat(np.arange(h), np.diff(sptr))
    area_deg = band_area_per_degree(tops, bottoms)
    row_area_deg = np.add.reduceat(area_deg, sptr[:-1])
    res = residential_mask(pop, row_area_deg * dx / 1e6, residential_density)
    return Band(
        b0=b0, rows=h, sptr=sptr, tops=tops, bottoms=bottoms, mids=0.5 * (tops + bottoms),
        area_deg=area_deg, weight=area_deg / row_area_deg[row_of],
        lon0=raster.lon0 + window.col0 * dx, dx=dx, pop=pop, res=res,
        edges=(
            regions.x0[emask], regions.y0[emask], regions.x1[emask], regions.y1[emask],
            regions.owner[emask], e_first[emask] - b0, e_last[emask] - b0,
        ),
        members=(m_first[mmask] - b0, m_last[mmask] - b0, m_layer[mmask], m_fp[mmask]),
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
    rows: tuple[int, int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[Band]:
    """Cut the partition into bands of pixel rows, each with its strips and the data crossing it.

    Parameters
    ----------
    regions, footprints, layers, raster, residential_density, resolution_m
        As in :func:`telecov.engine.measure`.
    cap_members
        Footprints whose tips split strips (default: :func:`few_small_members` of ``layers``);
        pass the same set to get the same strips as another run.
    rows
        Only raster rows ``rows[0]:rows[1]`` (one partition of a run); None: every row. The
        bands keep the cuts of :func:`band_grid`, shortened to these rows, and every row is
        scanned exactly as in a run over all rows.
    progress
        Called with (rows done, rows total) after each band.

    Raises
    ------
    TooLargeError
        The raster window over the areas is too large for this machine.

    """
    if regions.x0.shape[0] == 0:
        return
    window = _window(regions, raster)
    edge_spans, footprint_spans = row_spans(regions, footprints, raster)
    spans = (*edge_spans, *_memberships(footprints, layers, footprint_spans))
    if cap_members is None:
        cap_members = few_small_members(footprints, layers)
    caps = footprint_caps(footprints, cap_members, resolution_m=resolution_m)
    nrows = window.last - window.first + 1
    for b0 in range(window.first, window.last + 1, window.step):
        lo, hi = b0, min(b0 + window.step, window.last + 1)
        if rows is not None:  # strips depend on rows alone: a band cut short scans as it would whole
            lo, hi = max(lo, rows[0]), min(hi, rows[1])
            if lo >= hi:
                continue
        band = _band(
            regions, raster, replace(window, last=hi - 1), lo, spans, caps,
            residential_density=residential_density, resolution_m=resolution_m,
        )  # fmt: skip
        if band is not None:
            yield band
        if progress:
            progress(min(b0 + window.step, window.last + 1) - window.first, nrows)
