"""Shaped footprints of site rows: sector lobes from the antenna pattern, terrain shadows from a DEM.

:func:`shaped_footprints` gives, per accepted site row, either a lon/lat polygon (its footprint
when it is not a plain disc or wedge) or None (the disc or wedge of ``radius_m``):

- a radio row with ``azimuth`` whose radius comes from a model (``radius_source`` ``model:…``)
  is a *lobe*: the reach at bearing φ is the link budget less the TR 38.901 pattern loss A(φ)
  (:mod:`telecov.radio.pattern`), with the row's ``beamwidth`` as φ3dB (65° when it gives none);
- with a DEM, every row's footprint is cut by terrain (:mod:`telecov.radio.terrain`): ``los``
  keeps the points whose direct ray clears the ground; ``diffraction`` (radio rows with a model
  radius only: it needs a link budget) also those whose knife-edge loss fits in the budget left.
  ``terrain="auto"`` is ``diffraction`` for model-radius rows and ``los`` for the others.

The DEM is read by windows: the sites are grouped in tiles of :data:`TILE_DEG` and one window
covering the reach of a tile's sites is read at a time.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from ..errors import InputError, TelecovWarning
from ..geodesy import GEOD, LONLAT, degrees_lat_for
from .dem import DemWindow, open_dem, read_dem_window
from .models import path_loss_db
from .pattern import DEFAULT_BEAMWIDTH_DEG, lobe_bearings, lobe_reach, outline_polygon, pattern_loss_db
from .terrain import Margins, PolarGrid, polar_grid, terrain_footprint

Floats = NDArray[np.float64]

TERRAIN_CHOICES: tuple[str, ...] = ("auto", "los", "diffraction")
"""``--terrain`` choices (with ``--dem``): ``auto`` = diffraction for model radii, else los."""
TILE_DEG = 0.25
"""Sites are grouped in tiles of this many degrees; one DEM window is read per tile."""
_ROW_COLUMNS = (
    "radius_m", "radius_source", "azimuth", "beamwidth", "pattern_beamwidth", "frequency_mhz", "eirp_dbm",
    "rx_threshold_dbm", "height_m", "rx_height_m", "environment",
)  # fmt: skip
Row = Mapping[str, Any]
"""One site row: column name → value."""
_PROPAGATION_OF = {"hata": "hata", "cost231": "cost231", "38901-uma": "38901", "38901-rma": "38901"}


@dataclass(frozen=True)
class RowBudget:
    """The link budget of one radio row, as :func:`telecov.radio.reach.site_radii` resolved it."""

    model: str
    frequency_mhz: float
    eirp_dbm: float
    rx_threshold_dbm: float
    height_m: float
    rx_height_m: float
    environment: str

    def keywords(self) -> dict[str, Any]:
        """Return :func:`telecov.radio.pattern.lobe_reach`'s link-budget keywords."""
        return {
            "frequency_mhz": self.frequency_mhz,
            "eirp_dbm": self.eirp_dbm,
            "rx_threshold_dbm": self.rx_threshold_dbm,
            "base_height_m": self.height_m,
            "mobile_height_m": self.rx_height_m,
            "environment": self.environment,
            "propagation": _PROPAGATION_OF[self.model],
        }

    def path_loss(self, distance_m: Floats) -> Floats:
        """Return the model's path loss (dB) at ``distance_m``."""
        params: dict[str, Any] = {
            "frequency_mhz": self.frequency_mhz,
            "base_height_m": self.height_m,
            "mobile_height_m": self.rx_height_m,
        }
        if not self.model.startswith("38901"):
            params["environment"] = self.environment
        return path_loss_db(self.model, distance_m, **params)


def row_budget(row: Row) -> RowBudget | None:
    """Return the budget of a row whose radius comes from a model (``model:<label>``), else None."""
    source = str(row.get("radius_source", ""))
    if not source.startswith("model:"):
        return None
    return RowBudget(
        model=source.removeprefix("model:"),
        frequency_mhz=float(row["frequency_mhz"]),
        eirp_dbm=float(row["eirp_dbm"]),
        rx_threshold_dbm=float(row["rx_threshold_dbm"]),
        height_m=float(row["height_m"]),
        rx_height_m=float(row["rx_height_m"]),
        environment=str(row["environment"]),
    )


def _beamwidth(row: Row) -> float:
    given = row.get("pattern_beamwidth", math.nan)
    return float(given) if given is not None and np.isfinite(given) else DEFAULT_BEAMWIDTH_DEG


def _azimuth(row: Row) -> float | None:
    az = row.get("azimuth", math.nan)
    return float(az) if az is not None and np.isfinite(az) else None


def lobe_of(row: Row, lon: float, lat: float, *, scale: float = 1.0) -> shapely.Polygon | None:
    """Return the lobe polygon of a radio sector row with a model radius (None for other rows).

    The outline is :func:`telecov.radio.pattern.lobe_polygon`'s; rows with the same budget and
    beamwidth share one reach curve (computed once, turned to each row's azimuth). ``scale``
    multiplies the reach at every bearing.
    """
    budget, azimuth = row_budget(row), _azimuth(row)
    if budget is None or azimuth is None:
        return None
    offsets, reach = _lobe_curve(budget, _beamwidth(row))
    return outline_polygon(lon, lat, azimuth + offsets, reach * scale)


LOBE_CHUNK = 200_000
"""Outline vertices per geodesic call of :func:`lobes_of` (the calls run on Python threads)."""


def lobes_of(rows: list[Row], lon: Floats, lat: Floats, *, scale: float = 1.0) -> NDArray[np.object_]:
    """:func:`lobe_of` of many rows at once: one array of outline vertices, computed on threads.

    The vertices are those of :func:`lobe_of` (the same geodesic points, the same rings); the
    geodesic problems are solved in chunks of :data:`LOBE_CHUNK` on ``numba.get_num_threads()``
    Python threads (pyproj releases the GIL), and the polygons made in one vectorized call.
    """
    out = np.full(len(rows), None, dtype=object)
    parts: list[tuple[int, Floats, Floats]] = []
    for k, row in enumerate(rows):
        budget, azimuth = row_budget(row), _azimuth(row)
        if budget is not None and azimuth is not None:
            offsets, reach = _lobe_curve(budget, _beamwidth(row))
            parts.append((k, azimuth + offsets, reach * scale))
    if not parts:
        return out
    sizes = np.array([b.size for _, b, _ in parts])
    which = np.repeat(np.array([k for k, _, _ in parts]), sizes)
    bearings = np.concatenate([b for _, b, _ in parts])
    reach = np.concatenate([r for _, _, r in parts])
    x, y = np.empty(bearings.size), np.empty(bearings.size)

    def solve(a: int, b: int) -> None:
        x[a:b], y[a:b], _ = GEOD.fwd(lon[which[a:b]], lat[which[a:b]], bearings[a:b], reach[a:b])

    bounds = [*range(0, bearings.size, LOBE_CHUNK), bearings.size]
    threads = max(1, numba.get_num_threads())
    if threads == 1 or len(bounds) <= 2:
        solve(0, bearings.size)
    else:
        for job in [_pool(threads).submit(solve, a, b) for a, b in itertools.pairwise(bounds)]:
            job.result()
    # each ring reversed, as outline_polygon does (counter-clockwise)
    ring = np.repeat(np.arange(len(parts)), sizes)
    order = np.lexsort((-np.arange(bearings.size), ring))
    rings = shapely.linearrings(np.column_stack([x[order], y[order]]), indices=ring[order])
    out[[k for k, _, _ in parts]] = shapely.polygons(rings)
    return out


@lru_cache(maxsize=4096)
def _lobe_curve(budget: RowBudget, beamwidth: float) -> tuple[Floats, Floats]:
    """Bearing offsets from the boresight (increasing, −180° to 180°) and the lobe's reach there."""
    bearings = lobe_bearings(azimuth_deg=180.0, beamwidth_deg=beamwidth)
    reach = lobe_reach(bearings, azimuth_deg=180.0, beamwidth_deg=beamwidth, **budget.keywords()).radius_m
    return bearings - 180.0, reach


@lru_cache(maxsize=256)
def _budget_grid(
    budget: RowBudget, beam: float, *, sector: bool, max_reach_m: float, pixel_m: float, scale: float
) -> tuple[PolarGrid, Floats]:
    """Return the polar grid of a budget's footprint (a sector's aimed at 0°) and its pattern loss.

    The pattern's loss (dB) is given at each column; rows with the same budget share both,
    a sector's grid turned to its azimuth.
    """
    azimuth = 0.0 if sector else None
    keywords = budget.keywords()

    def reach(bearings: Floats) -> Floats:
        return lobe_reach(bearings, azimuth_deg=azimuth, beamwidth_deg=beam, **keywords).radius_m * scale

    grid = polar_grid(
        reach, azimuth_deg=azimuth, beamwidth_deg=beam, max_reach_m=max_reach_m, pixel_m=pixel_m
    )
    loss = np.zeros(grid.centre_deg.shape)
    if sector:
        loss = pattern_loss_db(grid.centre_deg, azimuth_deg=0.0, beamwidth_deg=beam)
    for a in (grid.edges_deg, grid.edge_reach_m, grid.centre_deg, grid.centre_reach_m, loss):
        a.flags.writeable = False  # shared by every row of this budget
    return grid, loss


def terrain_of(
    row: Row, lon: float, lat: float, dem: DemWindow, *, terrain: str, threads: int | None = None,
    scale: float = 1.0,
) -> Any:  # fmt: skip
    """Return the footprint of one row over ``dem``: its disc, wedge or lobe less the terrain's shadows.

    ``scale`` multiplies the flat-ground reach (the radius; for a link budget, the path-loss
    curve is stretched along distance, PL(d / scale)); the terrain stays where it is.
    """
    budget, azimuth = row_budget(row), _azimuth(row)
    height = float(row["height_m"]) if np.isfinite(row.get("height_m", math.nan)) else 30.0
    if budget is None:
        radius = float(row["radius_m"]) * scale
        beam = float(row["beamwidth"]) if azimuth is not None else 360.0
        grid = polar_grid(
            lambda b: np.full(np.shape(b), radius), azimuth_deg=azimuth, beamwidth_deg=beam,
            max_reach_m=radius, pixel_m=dem.pixel_m, wedge=azimuth is not None,
        )  # fmt: skip
        return terrain_footprint(lon, lat, dem=dem, grid=grid, antenna_m=height, mode="los", threads=threads)
    beam = _beamwidth(row)
    grid, loss = _budget_grid(
        budget, beam, sector=azimuth is not None, max_reach_m=float(row["radius_m"]) * scale,
        pixel_m=dem.pixel_m, scale=scale,
    )  # fmt: skip
    if azimuth is not None:
        grid = grid.turned(azimuth)

    def path_loss(distances: Floats) -> Floats:
        return budget.path_loss(distances / scale)

    margins = Margins.of_model(grid, budget.eirp_dbm - budget.rx_threshold_dbm - loss, path_loss)
    mode = "diffraction" if terrain in ("auto", "diffraction") else "los"
    return terrain_footprint(
        lon, lat, dem=dem, grid=grid, antenna_m=budget.height_m, mode=mode, margins=margins,
        frequency_mhz=budget.frequency_mhz, receiver_m=budget.rx_height_m, threads=threads,
    )  # fmt: skip


def shaped_footprints(
    sites: pd.DataFrame,
    *,
    dem: str | Path | None = None,
    dem_unit: str = "m",
    terrain: str = "auto",
    lon: Floats | None = None,
    lat: Floats | None = None,
    scale: float = 1.0,
) -> NDArray[np.object_]:
    """Polygon footprint of each site row, or None where it is the plain disc or wedge of ``radius_m``.

    Parameters
    ----------
    sites
        Accepted sites with the columns of :func:`telecov.radio.reach.with_radii` (lon/lat points).
    dem, dem_unit
        A DEM GeoTIFF (any CRS) and its elevation unit (``m`` or ``ft``); None: no terrain.
    terrain
        ``auto``, ``los`` or ``diffraction`` (:data:`TERRAIN_CHOICES`), with a DEM.
    lon, lat
        The sites' positions (default: their point geometries).
    scale
        Multiplies every row's flat-ground reach (``radius_m``, a lobe's reach at every
        bearing, a budget's path-loss distance); terrain shadows stay where the ground puts them.

    Raises
    ------
    InputError
        An unknown ``terrain``; a DEM without CRS, unreadable, not overlapping the sites, or in
        feet without ``dem_unit`` ft (:mod:`telecov.radio.dem`).

    """
    if terrain not in TERRAIN_CHOICES:
        raise InputError(f"`terrain` {terrain!r}: use one of {', '.join(TERRAIN_CHOICES)}")
    lon = sites.geometry.x.to_numpy() if lon is None else np.asarray(lon)
    lat = sites.geometry.y.to_numpy() if lat is None else np.asarray(lat)
    out = np.full(len(sites), None, dtype=object)
    counted = (
        sites["counted"].to_numpy(dtype=bool) if "counted" in sites.columns else np.ones(len(sites), bool)
    )
    if dem is None:
        model = sites["radius_source"].astype(str).str.startswith("model:").to_numpy()
        idx = np.flatnonzero(counted & model & sites["azimuth"].notna().to_numpy())
        out[idx] = lobes_of(_records(sites, idx), lon[idx], lat[idx], scale=scale)
        return out
    idx = np.flatnonzero(counted)
    radius = sites["radius_m"].to_numpy(dtype=np.float64)[idx] * scale
    rows = _records(sites, idx)
    with open_dem(dem) as src:
        _check_overlap(src, _reach_boxes(lon[idx], lat[idx], radius), name=str(dem))
        for part, box in _tiles(lon[idx], lat[idx], radius):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TelecovWarning)  # partial cover: said once, above
                window = read_dem_window(src, box, unit=dem_unit)
            _shape_tile(
                out, idx[part], [rows[k] for k in part], lon, lat, window, terrain=terrain, scale=scale
            )
    return out


@lru_cache(maxsize=1)
def _pool(n_threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="telecov-shapes")


def _shape_tile(
    out: NDArray[np.object_], idx: NDArray[np.intp], rows: list[Row], lon: Floats, lat: Floats,
    window: DemWindow, *, terrain: str, scale: float = 1.0,
) -> None:  # fmt: skip
    """Fill ``out[idx]`` with the terrain footprints of one tile's sites, on Python threads.

    The compiled radials and shapely's operations run without the GIL; the largest reaches
    start first so that no thread is left with a long footprint at the end.
    """
    order = np.argsort([-float(r["radius_m"]) for r in rows], kind="stable")
    threads = max(1, numba.get_num_threads())
    if threads == 1 or len(rows) == 1:
        for k in order:
            out[idx[k]] = terrain_of(
                rows[k], float(lon[idx[k]]), float(lat[idx[k]]), window, terrain=terrain, scale=scale
            )
        return
    jobs = {
        int(k): _pool(threads).submit(
            terrain_of,
            rows[k],
            float(lon[idx[k]]),
            float(lat[idx[k]]),
            window,
            terrain=terrain,
            threads=1,
            scale=scale,
        )
        for k in order
    }
    for k, job in jobs.items():
        out[idx[k]] = job.result()


def needs_shapes(sites: pd.DataFrame, *, dem: object) -> bool:
    """Whether :func:`shaped_footprints` would shape any row: a DEM, or a radio sector with a model radius."""
    if dem is not None:
        return True
    if "radius_source" not in sites.columns:
        return False
    model = sites["radius_source"].astype(str).str.startswith("model:").to_numpy()
    return bool((model & sites["azimuth"].notna().to_numpy()).any())


def _records(sites: pd.DataFrame, idx: NDArray[np.intp]) -> list[Row]:
    cols = [c for c in _ROW_COLUMNS if c in sites.columns]
    return [{str(k): v for k, v in r.items()} for r in sites.iloc[idx][cols].to_dict("records")]


def _reach_boxes(lon: Floats, lat: Floats, radius: Floats) -> Floats:
    """(west, south, east, north) of each site's reach, a little larger (columns of an array)."""
    dlat = degrees_lat_for(radius, lat)
    dlon = np.minimum(dlat / np.cos(np.radians(np.minimum(np.abs(lat) + dlat, 89.9))), 180.0)
    return np.column_stack([lon - dlon, lat - dlat, lon + dlon, lat + dlat])


Box = tuple[float, float, float, float]


def _tiles(lon: Floats, lat: Floats, radius: Floats) -> list[tuple[NDArray[np.intp], Box]]:
    """Return the groups of sites in :data:`TILE_DEG` tiles, with the lon/lat box of their reaches."""
    boxes = _reach_boxes(lon, lat, radius)
    keys = np.floor(lon / TILE_DEG).astype(np.int64) * 100_000 + np.floor(lat / TILE_DEG).astype(np.int64)
    out: list[tuple[NDArray[np.intp], Box]] = []
    for key in np.unique(keys):
        idx = np.flatnonzero(keys == key)
        b = boxes[idx]
        box = (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))
        out.append((idx, box))
    return out


def _check_overlap(src: Any, boxes: Floats, *, name: str) -> None:
    """Refuse a DEM the sites' reach does not overlap at all; warn once when it covers part of it."""
    to_lonlat = Transformer.from_crs(src.crs, LONLAT, always_xy=True)
    west, south, east, north = to_lonlat.transform_bounds(*src.bounds)
    reach = (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max())
    inside = (boxes[:, 0] >= west) & (boxes[:, 2] <= east) & (boxes[:, 1] >= south) & (boxes[:, 3] <= north)
    touching = (boxes[:, 2] > west) & (boxes[:, 0] < east) & (boxes[:, 3] > south) & (boxes[:, 1] < north)
    extent = f"({west:.4f}, {south:.4f}, {east:.4f}, {north:.4f})"
    if not touching.any():
        raise InputError(
            f"{name}: the DEM {extent} (lon/lat) does not overlap the sites' footprints "
            f"({reach[0]:.4f}, {reach[1]:.4f}, {reach[2]:.4f}, {reach[3]:.4f}): give a DEM of this area"
        )
    if not inside.all():
        warnings.warn(
            f"{name}: the DEM {extent} covers only part of the footprints of {int((~inside).sum())} of "
            f"{len(boxes)} sites; beyond it they follow the propagation model alone",
            TelecovWarning,
            stacklevel=3,
        )


def footprint_shapes(
    sites: pd.DataFrame,
    *,
    dem: str | Path | None,
    dem_unit: str = "m",
    terrain: str = "auto",
    scale: float = 1.0,
) -> NDArray[np.object_] | None:
    """Return :func:`shaped_footprints` of the sites, or None when no row is shaped (fast path)."""
    if not needs_shapes(sites, dem=dem):
        return None
    return shaped_footprints(sites, dem=dem, dem_unit=dem_unit, terrain=terrain, scale=scale)
