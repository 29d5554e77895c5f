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

GAIN_BLOCK_ROWS = 64
"""Raster rows whose gains are summed apart and then added in row order: the same sums, bit for
bit, whether the rows are measured in one process or shared out among workers."""
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
        polygons = fp.polygons[ix] if fp.polygons is not None else None
        return Footprints(
            fp.lon[ix], fp.lat[ix], fp.radius[ix], fp.azimuth[ix], fp.width[ix], polygons=polygons
        )


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
class BlockSums:
    """What the candidates crossing one block of :data:`GAIN_BLOCK_ROWS` raster rows add there.

    ``sums[k]`` belongs to pair ``pairs[k]`` (indices into the run's :class:`Pairs`).
    """

    block: int
    pairs: Int
    sums: Float


Evaluator = Callable[[Int | None, Footprints], list[BlockSums]]
"""Measure candidates (None: all) given the picks so far, block by block."""


@dataclass(frozen=True)
class GainModel:
    """Candidates, their pairs and where the uncovered pieces of the lines they reach are kept.

    Attributes
    ----------
    candidates
        Candidate sites.
    pairs
        Regions each candidate can reach.
    rows
        First and last raster row each candidate spans.
    evaluate
        Measures candidates on the kept lines, in this process (:class:`GainPart`) or on the
        workers holding them (:mod:`telecov.engine.gain_tasks`).
    nbytes
        Bytes held by the kept lines (in this process or on the workers).

    """

    candidates: Candidates
    pairs: Pairs
    rows: tuple[Int, Int]
    evaluate: Evaluator
    nbytes: int = 0


@dataclass
class GainPart:
    """The kept lines of some raster rows and the candidates crossing them (numbered locally).

    ``ids[i]`` is the run's index of local candidate ``i``; ``pair_ids[k]`` the run's index of
    local pair ``k``. :meth:`evaluate` sums each block of :data:`GAIN_BLOCK_ROWS` rows apart,
    so the sums do not depend on how the rows are shared out among parts.
    """

    ids: Int
    candidates: Candidates
    pairs: Pairs
    pair_ids: Int
    rows: tuple[Int, Int]
    stores: list[_Store]
    discs: tuple[Float, ...]
    scratch: Float
    label: str = ""
    """Which rows and areas it holds (for error messages)."""

    @property
    def nbytes(self) -> int:
        """Bytes held by the kept lines."""
        return sum(s.nbytes for s in self.stores)

    def evaluate(self, which: Int | None, picks: Footprints) -> list[BlockSums]:
        """Measure candidates ``which`` (run indices; None: all of this part) given ``picks``."""
        if which is None:
            local = np.arange(self.ids.shape[0], dtype=np.int64)
        else:
            at = np.searchsorted(self.ids, which)
            inside = at < self.ids.shape[0]
            local = at[inside][self.ids[at[inside]] == np.asarray(which)[inside]]
        if local.shape[0] == 0 or not self.stores:
            return []
        first, last = self.rows
        lo_row = self.stores[0].b0
        hi_row = max(s.b0 + s.strips[0].shape[0] - 1 for s in self.stores)
        out = []
        for block in range(lo_row // GAIN_BLOCK_ROWS, (hi_row - 1) // GAIN_BLOCK_ROWS + 1):
            lo, hi = block * GAIN_BLOCK_ROWS, (block + 1) * GAIN_BLOCK_ROWS
            sub = local[(last[local] >= lo) & (first[local] < hi)]
            if sub.shape[0] == 0:
                continue
            clipped = (np.maximum(first, lo), np.minimum(last, hi - 1))
            for store in self.stores:
                nrows = store.strips[0].shape[0] - 1
                if store.b0 < hi and store.b0 + nrows > lo:
                    _evaluate(self, store, sub, picks, clipped)
            ix = _pair_rows(self.pairs.ptr, sub)
            out.append(BlockSums(block, self.pair_ids[ix], self.scratch[ix].copy()))
            self.scratch[ix] = 0.0
        return out


def add_blocks(gains: Float, blocks: list[BlockSums]) -> None:
    """Add block sums into ``gains`` in the order of their blocks (the same order however cut)."""
    for b in sorted(blocks, key=lambda b: b.block):
        gains[b.pairs] += b.sums


def _pair_rows(ptr: Int, which: Int) -> Int:
    """Return the pair indices of candidates ``which`` (CSR ``ptr``), candidate by candidate."""
    counts = ptr[which + 1] - ptr[which]
    if counts.sum() == 0:
        return np.zeros(0, np.int64)
    starts = np.repeat(ptr[which] - np.cumsum(counts) + counts, counts)
    return (starts + np.arange(int(counts.sum()))).astype(np.int64)


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


def check_lonlat(raster: PopulationRaster) -> None:
    """Refuse a raster not on a lon/lat grid (the gain kernels scan parallels)."""
    if not raster.lonlat:
        raise InputError(
            f"{raster.name}: planning needs a lon/lat population raster (this one is in "
            f"{raster.crs.name}); reproject it to EPSG:4326 first"
        )


def subset(candidates: Candidates, pairs: Pairs, which: Int) -> tuple[Candidates, Pairs, Int]:
    """Candidates ``which`` (sorted run indices) renumbered 0.., their pairs, and the pairs' run indices."""
    fp_ix = _pair_rows(candidates.ptr, which)
    fp = candidates.footprints
    polygons = fp.polygons[fp_ix] if fp.polygons is not None else None
    sub_fp = Footprints(fp.lon[fp_ix], fp.lat[fp_ix], fp.radius[fp_ix], fp.azimuth[fp_ix], fp.width[fp_ix],
                        polygons=polygons)  # fmt: skip
    counts = candidates.ptr[which + 1] - candidates.ptr[which]
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    pair_ids = _pair_rows(pairs.ptr, which)
    pcounts = pairs.ptr[which + 1] - pairs.ptr[which]
    pptr = np.concatenate([[0], np.cumsum(pcounts)]).astype(np.int64)
    return Candidates(sub_fp, ptr), Pairs(ptr=pptr, region=pairs.region[pair_ids]), pair_ids


def gain_part(
    regions: Regions,
    footprints: Footprints,
    members: Int,
    candidates: Candidates,
    pairs: Pairs,
    raster: PopulationRaster,
    *,
    ids: Int,
    pair_ids: Int,
    residential_density: float,
    resolution_m: float,
    cap_members: Int | None = None,
    corner_members: Int | None = None,
    parents: bool = True,
    rows: tuple[int, int] | None = None,
    on_grid: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> GainPart:
    """Keep the uncovered pieces of the lines ``candidates`` reach (raster ``rows``; None: all).

    ``regions``, ``footprints``, ``members``, ``cap_members``, ``corner_members``, ``rows``
    and ``on_grid`` as in :func:`telecov.engine.bands.bands`; ``candidates`` and ``pairs``
    numbered locally, ``ids`` and ``pair_ids`` their run indices.

    Raises
    ------
    TooLargeError
        The lines to keep would take more than :data:`MAX_STORE_BYTES`.

    """
    cand_rows = candidate_rows(candidates, raster)
    stores: list[_Store] = []
    held = 0
    kinds = np.array([True, parents, True])
    for band in bands(
        regions, footprints, [np.asarray(members, dtype=np.int64)], raster,
        residential_density=residential_density, resolution_m=resolution_m,
        cap_members=cap_members, corner_members=corner_members, rows=rows, on_grid=on_grid,
        progress=progress,
    ):  # fmt: skip
        crossing = (cand_rows[1] >= band.b0) & (cand_rows[0] < band.b0 + band.rows)
        which = np.flatnonzero(crossing).astype(np.int64)
        if which.shape[0] == 0:
            continue
        wanted = np.zeros(band.rows, dtype=np.bool_)
        for a, b in zip(cand_rows[0][which] - band.b0, cand_rows[1][which] - band.b0, strict=True):
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
    return GainPart(
        ids=np.asarray(ids, dtype=np.int64), candidates=candidates, pairs=pairs,
        pair_ids=np.asarray(pair_ids, dtype=np.int64), rows=cand_rows, stores=stores,
        discs=candidates.footprints.discs(), scratch=np.zeros((pairs.region.shape[0], 4), np.float64),
    )  # fmt: skip


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
    check_lonlat(raster)
    pairs = candidate_pairs(regions, candidates)
    part = gain_part(
        regions, footprints, members, candidates, pairs, raster,
        ids=np.arange(len(candidates), dtype=np.int64), pair_ids=np.arange(pairs.region.shape[0]),
        residential_density=residential_density, resolution_m=resolution_m, cap_members=cap_members,
        parents=parents, progress=progress,
    )  # fmt: skip
    model = GainModel(candidates, pairs, part.rows, part.evaluate, nbytes=part.nbytes)
    gains = np.zeros((pairs.region.shape[0], 4), np.float64)
    add_blocks(gains, model.evaluate(None, Footprints.empty()))
    return model, gains


def marginal_gains(model: GainModel, which: Int, picks: Footprints, gains: Float) -> None:
    """Re-measure candidates ``which`` given the ``picks`` so far, into their rows of ``gains``."""
    which = np.unique(np.asarray(which, dtype=np.int64))
    gains[_pair_rows(model.pairs.ptr, which)] = 0.0
    add_blocks(gains, model.evaluate(which, picks))


def _evaluate(part: GainPart, store: _Store, which: Int, picks: Footprints, rows: tuple[Int, Int]) -> None:
    """Add what candidates ``which`` add on ``store``'s lines of their ``rows`` into the part's scratch."""
    misses = np.zeros(which.shape[0], np.int64)
    pairs = part.pairs
    cands = (part.candidates.ptr, rows[0], rows[1], part.discs)
    kernel = gains_band if which.shape[0] >= PARALLEL_FROM else gains_band_serial
    kernel(
        store.b0, store.strips, store.line_k, store.grid, store.cum, store.pieces, which, cands,
        picks.discs(), near_picks(part.candidates, which, picks), (pairs.ptr, pairs.region), part.scratch,
        misses,
    )  # fmt: skip
    if misses.any():  # pragma: no cover - the pairs are built from conservative bounds
        raise RuntimeError(f"gains: {int(misses.sum())} pieces outside the regions their candidate reaches")
