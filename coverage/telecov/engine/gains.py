"""Marginal gains: what each candidate site would newly cover, measured on the engine's scan lines.

One pass over the partition's bands (:func:`telecov.engine.bands.bands`, the banding and
strips of :func:`telecov.engine.scan.measure`) keeps, on the lines candidates reach, the pieces
of every region that the existing layer leaves uncovered, and measures every candidate on them
at once. Later evaluations subtract the footprints of the sites picked since
(:func:`marginal_gains`), so each gain is exactly what the measure would add: the same strips,
the same intervals, the same prefix sums of the pixel rows.

Gains are kept per *pair* (candidate, region it can reach): area m², people, residential m²
and residential people, like :data:`telecov.engine.scan.BASE_FIELDS`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from ..errors import InputError, TooLargeError
from ..geodesy import degrees_lat_for
from ..io.population import PopulationRaster
from .bands import bands
from .gain_kernel import gains_band, gains_band_serial, residual_band
from .lines import line_table
from .partition import Footprints, Regions
from .pixels import row_prefix_sums

MAX_STORE_BYTES = 3 * 2**30
"""Memory the kept scan-line pieces and pixel prefix sums may take before a run is refused."""

PARALLEL_FROM = 256
"""Candidates from which a band's evaluation is dealt to threads."""

Int = NDArray[np.int64]
Float = NDArray[np.float64]


@dataclass(frozen=True)
class Pairs:
    """The regions each candidate can reach: candidate ``c``'s are ``region[ptr[c]:ptr[c + 1]]``."""

    ptr: Int
    region: Int

    @property
    def candidate(self) -> Int:
        """The candidate of each pair."""
        return np.repeat(np.arange(self.ptr.shape[0] - 1), np.diff(self.ptr)).astype(np.int64)


@dataclass(frozen=True)
class Candidates:
    """Candidate sites, each one or more footprints (a site's sectors).

    Candidate ``c`` is ``footprints[ptr[c]:ptr[c + 1]]``.
    """

    footprints: Footprints
    ptr: Int

    def __len__(self) -> int:
        return int(self.ptr.shape[0] - 1)

    @classmethod
    def single(cls, footprints: Footprints) -> Candidates:
        """One candidate per footprint."""
        return cls(footprints, np.arange(len(footprints) + 1, dtype=np.int64))

    @property
    def owner(self) -> Int:
        """The candidate of each footprint."""
        return np.repeat(np.arange(len(self)), np.diff(self.ptr)).astype(np.int64)

    @functools.cached_property
    def bounds(self) -> tuple[Float, Float, Float, Float]:
        """West, south, east and north reach of each candidate (degrees, with a margin)."""
        fp = self.footprints
        dlat, dlon = _reach(fp)
        starts = self.ptr[:-1]
        if len(fp) == 0:
            return (np.zeros(0),) * 4
        west = np.minimum.reduceat(fp.lon - dlon, starts)
        east = np.maximum.reduceat(fp.lon + dlon, starts)
        south = np.minimum.reduceat(fp.lat - dlat, starts)
        north = np.maximum.reduceat(fp.lat + dlat, starts)
        return west, south, east, north

    def footprints_of(self, which: Int) -> Footprints:
        """Return the footprints of candidates ``which``, in order."""
        parts = [np.arange(self.ptr[c], self.ptr[c + 1]) for c in which]
        ix = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
        fp = self.footprints
        return Footprints(fp.lon[ix], fp.lat[ix], fp.radius[ix], fp.azimuth[ix], fp.width[ix])


@dataclass(frozen=True)
class _Store:
    """One band's lines as the gains kernel reads them, and the candidates crossing it."""

    b0: int
    strips: tuple[NDArray[Any], ...]
    line_k: Float
    grid: tuple[float, float]
    cum: Float
    pieces: tuple[NDArray[Any], ...]
    which: Int

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        arrays = [*self.strips, self.line_k, self.cum, *self.pieces, self.which]
        return int(sum(a.nbytes for a in arrays))


@dataclass(frozen=True)
class GainModel:
    """Candidates, their pairs and the uncovered pieces of the lines they reach.

    Attributes
    ----------
    candidates
        Candidate sites.
    pairs
        Regions each candidate can reach.
    rows
        First and last raster row each candidate spans.
    stores
        Per band crossed by candidates: its lines, pieces and pixel prefix sums.
    discs
        The candidates' footprints as the kernels take them.

    """

    candidates: Candidates
    pairs: Pairs
    rows: tuple[Int, Int]
    stores: list[_Store]
    discs: tuple[Float, ...]
    """The candidates' footprints as the kernels take them."""

    @property
    def nbytes(self) -> int:
        """Bytes held by the kept lines."""
        return sum(s.nbytes for s in self.stores)


def _reach(fp: Footprints) -> tuple[Float, Float]:
    """Half extents (degrees of latitude, of longitude) of footprints, with a margin."""
    dlat = degrees_lat_for(fp.radius, fp.lat)
    far = np.minimum(np.abs(fp.lat) + dlat, 89.9)
    return dlat, dlat / np.cos(np.radians(far)) * 1.01 + 1e-9


def candidate_pairs(regions: Regions, candidates: Candidates) -> Pairs:
    """Regions (areas, their parents, the total) whose bounds the candidates' footprints reach."""
    n = len(candidates)
    boxes = shapely.box(*candidates.bounds)
    b = regions.area_bounds
    tree = shapely.STRtree(shapely.box(b[:, 0], b[:, 1], b[:, 2], b[:, 3]))
    cand, area = tree.query(boxes, predicate="intersects")
    parent = regions.parent[area]
    has_parent = parent >= 0
    total = regions.n_areas + regions.n_parents
    owner = np.concatenate([cand, cand[has_parent], cand])
    region = np.concatenate([area, regions.n_areas + parent[has_parent], np.full(cand.shape[0], total)])
    key = np.unique(owner.astype(np.int64) * (total + 1) + region)
    owner, region = key // (total + 1), key % (total + 1)
    ptr = np.searchsorted(owner, np.arange(n + 1)).astype(np.int64)
    return Pairs(ptr=ptr, region=region.astype(np.int64))


def candidate_rows(candidates: Candidates, raster: PopulationRaster) -> tuple[Int, Int]:
    """First and last raster row of each candidate's footprints (as the bands count rows)."""
    _, south, _, north = candidates.bounds
    first = np.floor((raster.lat0 - north) / raster.dy).astype(np.int64)
    last = np.floor((raster.lat0 - south) / raster.dy).astype(np.int64)
    return first, last


def near_picks(candidates: Candidates, which: Int, picks: Footprints) -> tuple[Int, Int]:
    """For each candidate ``which[i]``, the pick footprints that may overlap it (CSR)."""
    if len(picks) == 0 or which.shape[0] == 0:
        return np.zeros(which.shape[0] + 1, np.int64), np.zeros(0, np.int64)
    west, south, east, north = (b[which] for b in candidates.bounds)
    dlat, dlon = _reach(picks)
    close = (
        (picks.lon[None, :] + dlon[None, :] >= west[:, None])
        & (picks.lon[None, :] - dlon[None, :] <= east[:, None])
        & (picks.lat[None, :] + dlat[None, :] >= south[:, None])
        & (picks.lat[None, :] - dlat[None, :] <= north[:, None])
    )
    row, col = np.nonzero(close)
    ptr = np.searchsorted(row, np.arange(which.shape[0] + 1)).astype(np.int64)
    return ptr, col.astype(np.int64)


def _check_lonlat(raster: PopulationRaster) -> None:
    """Refuse a raster not on a lon/lat grid (the gain kernels scan parallels)."""
    if not raster.lonlat:
        raise InputError(
            f"{raster.name}: planning needs a lon/lat population raster (this one is in "
            f"{raster.crs.name}); reproject it to EPSG:4326 first"
        )


def gain_model(
    regions: Regions,
    footprints: Footprints,
    members: Int,
    candidates: Candidates,
    raster: PopulationRaster,
    *,
    residential_density: float,
    resolution_m: float,
    cap_members: Int | None = None,
    parents: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[GainModel, Float]:
    """Measure every candidate's gain over the existing layer, keeping what later evaluations need.

    Parameters
    ----------
    regions
        Areas, parents and total.
    footprints, members
        Footprints of the analysis and the indices of the existing layer's members.
    candidates
        Candidate sites.
    raster, residential_density, resolution_m, cap_members, progress
        As in :func:`telecov.engine.bands.bands` (pass the report's ``cap_members`` to scan
        the report's own strips).
    parents
        Measure the gains of parent regions too (False leaves them 0: less work and memory).

    Returns
    -------
    (GainModel, numpy.ndarray)
        The model and the gains per pair (pairs × area m², people, residential m², residential
        people).

    Raises
    ------
    InputError
        The population raster is not on a lon/lat grid.
    TooLargeError
        The lines to keep would take more than :data:`MAX_STORE_BYTES`.

    """
    _check_lonlat(raster)
    pairs = candidate_pairs(regions, candidates)
    rows = candidate_rows(candidates, raster)
    gains = np.zeros((pairs.region.shape[0], 4), np.float64)
    stores: list[_Store] = []
    cand_discs = candidates.footprints.discs()
    held = 0
    kinds = np.array([True, parents, True])
    for band in bands(
        regions, footprints, [np.asarray(members, dtype=np.int64)], raster,
        residential_density=residential_density, resolution_m=resolution_m,
        cap_members=cap_members, progress=progress,
    ):  # fmt: skip
        which = np.flatnonzero((rows[1] >= band.b0) & (rows[0] < band.b0 + band.rows)).astype(np.int64)
        if which.shape[0] == 0:
            continue
        wanted = np.zeros(band.rows, dtype=np.bool_)
        for a, b in zip(rows[0][which] - band.b0, rows[1][which] - band.b0, strict=True):
            wanted[max(a, 0) : min(b, band.rows - 1) + 1] = True
        line_k = line_table(band.tops, band.bottoms)
        pieces = residual_band(
            band.rows, band.strips, line_k, band.edges, regions.parent, regions.n_parents, band.discs,
            band.members, wanted, kinds,
        )  # fmt: skip
        store = _Store(band.b0, band.strips, line_k, band.grid, row_prefix_sums(*band.pixels), pieces, which)
        held += store.nbytes
        if held > MAX_STORE_BYTES:
            raise TooLargeError(
                f"{raster.name}: the scan lines the candidates reach need more than "
                f"{MAX_STORE_BYTES / 2**30:.0f} GB; use fewer candidates, `select` or a coarser raster"
            )
        stores.append(store)
    model = GainModel(candidates=candidates, pairs=pairs, rows=rows, stores=stores, discs=cand_discs)
    for store in stores:
        _evaluate(model, store, store.which, Footprints.empty(), gains)
    return model, gains


def marginal_gains(model: GainModel, which: Int, picks: Footprints, gains: Float) -> None:
    """Re-measure candidates ``which`` given the ``picks`` so far, into their rows of ``gains``."""
    which = np.unique(np.asarray(which, dtype=np.int64))
    pptr = model.pairs.ptr
    for c in which:
        gains[pptr[c] : pptr[c + 1]] = 0.0
    first, last = model.rows
    for store in model.stores:
        nrows = store.strips[0].shape[0] - 1
        sub = which[(last[which] >= store.b0) & (first[which] < store.b0 + nrows)]
        if sub.shape[0]:
            _evaluate(model, store, sub, picks, gains)


def _evaluate(model: GainModel, store: _Store, which: Int, picks: Footprints, gains: Float) -> None:
    misses = np.zeros(which.shape[0], np.int64)
    pairs = model.pairs
    cands = (model.candidates.ptr, model.rows[0], model.rows[1], model.discs)
    kernel = gains_band if which.shape[0] >= PARALLEL_FROM else gains_band_serial
    kernel(
        store.b0, store.strips, store.line_k, store.grid, store.cum, store.pieces, which, cands,
        picks.discs(), near_picks(model.candidates, which, picks), (pairs.ptr, pairs.region), gains, misses,
    )  # fmt: skip
    if misses.any():  # pragma: no cover - the pairs are built from conservative bounds
        raise RuntimeError(f"gains: {int(misses.sum())} pieces outside the regions their candidate reaches")
