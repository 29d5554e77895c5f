"""What :func:`telecov.analyze` returns: the tables, the accepted inputs and the run's metadata."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from .errors import InputError
from .footprints import Layer, footprint_polygons
from .radio.reach import footprint_table

if TYPE_CHECKING:
    from .engine.scan import Measures
    from .io.population import PopulationRaster


@dataclass(frozen=True)
class RunOptions:
    """The analysis options of a run (``run.json``'s ``options``); fields as detected or given."""

    area_id: str | None
    area_name: str | None
    parent: str | None
    select: str | dict[str, str] | None
    include_planned: bool
    residential_density: float
    population_field: str | None
    sites_crs: str | None
    areas_crs: str | None
    by_operator: bool
    combined: bool
    resolution_m: float
    strict: bool
    population_band: int | None = None
    population_unit: str | None = None


@dataclass(frozen=True)
class RasterInfo:
    """The population raster as the engine saw it, and the scan lines it used.

    Attributes
    ----------
    crs
        The raster's CRS (its grid is scanned as it is: ``grid`` is ``lonlat`` or ``native``).
    pixel_size
        Pixel width and height in the CRS's units (degrees on a lon/lat grid).
    pixel_km2
        Mean true (ellipsoidal) area of the pixels read.
    size
        Columns and rows.
    grid
        ``lonlat`` (scan lines are parallels) or ``native`` (rows of the raster's own CRS).
    warped
        Whether a rotated or sheared raster was warped to a north-up grid first.
    band, unit, mask, scale, offset
        The band read, ``count`` or ``density``, where validity came from (``none``,
        ``nodata``, ``per_dataset``, ``alpha``), and the scaling applied.
    scan_lines_per_pixel_row, scan_lines
        Most scan lines in one pixel row, and all of them.

    """

    crs: str
    pixel_size: tuple[float, float]
    pixel_km2: float
    size: tuple[int, int]
    grid: str
    warped: bool
    band: int
    unit: str
    mask: str
    scale: float
    offset: float
    scan_lines_per_pixel_row: int
    scan_lines: int


def raster_info_of(raster: PopulationRaster, measures: Measures) -> RasterInfo:
    """Return the :class:`RasterInfo` of a measured raster."""
    epsg = raster.crs.to_epsg()
    return RasterInfo(
        crs=f"EPSG:{epsg}" if epsg else raster.crs.to_string(),
        pixel_size=(raster.dx, raster.dy), pixel_km2=round(measures.pixel_m2 / 1e6, 9),
        size=(raster.width, raster.height), grid="lonlat" if raster.lonlat else "native",
        warped=raster.warped, band=raster.band.index, unit=raster.unit, mask=raster.band.mask,
        scale=raster.band.scale, offset=raster.band.offset,
        scan_lines_per_pixel_row=measures.sub_rows, scan_lines=measures.lines,
    )  # fmt: skip


@dataclass(frozen=True)
class RunInfo:
    """Inputs, options, radii, counts and timings of a run; :meth:`to_json` is ``run.json``.

    Attributes
    ----------
    version
        telecov's version.
    inputs
        Per input (``sites``, ``areas``, ``population``): path, size and sha256, or the type
        of an in-memory object.
    options
        The analysis options.
    radii_m
        Default radius per technology.
    crs
        CRS of every output.
    raster
        Raster and scan lines.
    counts
        Rows read, used, refused (and counted, repaired) per input kind, and refusals by reason.
    timings_s
        Seconds per step (``read``, ``measure``, ``total``).
    extra_options
        Options of the caller added to ``run.json``'s ``options`` (see :meth:`with_options`).

    """

    version: str
    inputs: dict[str, dict[str, Any]]
    options: RunOptions
    radii_m: dict[str, float]
    crs: str
    raster: RasterInfo
    counts: dict[str, Any]
    timings_s: dict[str, float]
    extra_options: dict[str, Any] = field(default_factory=dict)

    def with_options(self, **options: Any) -> RunInfo:
        """Return a copy whose ``run.json`` options also hold ``options`` (e.g. a command's own)."""
        return replace(self, extra_options={**self.extra_options, **options})

    def to_json(self) -> dict[str, Any]:
        """Return the ``run.json`` document: plain dicts, lists and scalars (a fresh copy)."""
        raster = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self.raster).items()}
        return {
            "version": self.version,
            "inputs": copy.deepcopy(self.inputs),
            "options": {**asdict(self.options), **copy.deepcopy(self.extra_options)},
            "radii_m": dict(self.radii_m),
            "crs": self.crs,
            "raster": raster,
            "counts": copy.deepcopy(self.counts),
            "timings_s": dict(self.timings_s),
        }


@dataclass
class Result:
    """Outcome of :func:`telecov.analyze`.

    Attributes
    ----------
    table
        The output contract's table (``coverage.csv``).
    areas
        Accepted areas (lon/lat) with input attributes and ``<technology>_<metric>`` columns.
    sites
        Accepted sites (lon/lat points); ``counted`` marks those in the footprints.
    rejected
        Refused rows per input kind (``sites``, ``areas``) with ``row``, ``field``, ``reason``.
    run
        Inputs, options, radii, counts and timings (``run.json``).
    layers
        The coverage layers, in the order of the engine's sums.
    shapes
        Footprint polygons of shaped site rows (:func:`telecov.radio.shapes.shaped_footprints`).

    """

    table: pd.DataFrame
    areas: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    rejected: dict[str, pd.DataFrame]
    run: RunInfo
    layers: list[Layer] = field(default_factory=list, repr=False)
    shapes: Any = field(default=None, repr=False)
    """Per row of :attr:`sites`: its footprint polygon where it is not a plain disc or wedge (a
    radio lobe, a terrain-shadowed footprint), else None; None when no row is shaped."""

    def footprints(self, technology: str | None = None) -> gpd.GeoDataFrame:
        """Footprint polygons of the counted sites, optionally of one technology."""
        keep = self.sites["counted"].to_numpy(dtype=bool)
        if technology is not None:
            keep = keep & (self.sites["technology"] == technology).to_numpy()
        shapes = None if self.shapes is None else list(self.shapes[keep])
        return footprint_polygons(self.sites[keep], polygons=shapes)

    def footprint_table(self) -> pd.DataFrame:
        """Return ``footprints.csv``: per accepted site row, its radius and what it assumed.

        Columns: ``row``, ``site_id``, ``technology``, ``azimuth``, ``radius_m``,
        ``radius_source``, ``environment``, ``frequency_mhz``, ``eirp_dbm``,
        ``rx_threshold_dbm``, ``rx_height_m``, ``radius_note``.
        """
        return footprint_table(self.sites)


def population_source(result: Result, population: str | Path | Any | None, *, where: str) -> str | Path | Any:
    """Return the raster to re-measure ``result`` with: ``population``, else the file it read.

    Parameters
    ----------
    result
        Outcome of :func:`telecov.analyze`.
    population
        A raster (path or open dataset) that overrides the result's own, or None.
    where
        The function the caller offers ``population=`` in, named in the error.

    Raises
    ------
    InputError
        The result was made from an in-memory raster and no ``population`` is given.

    """
    if population is not None:
        return population
    path = result.run.inputs.get("population", {}).get("path")
    if not path:
        raise InputError(f"the result was made from an in-memory raster: pass population= to {where}")
    return Path(path)
