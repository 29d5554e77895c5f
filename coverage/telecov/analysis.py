"""``analyze``: read, validate, measure and tabulate — the library's main entry point."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import __version__
from .io.areas import AreaTable, read_areas
from .engine.scan import measure, regions_from_geometries
from .errors import InputError, StrictError
from .footprints import Layer, build_layers, footprint_polygons, footprints_of
from .io.tables import file_info
from .metrics import area_metrics, coverage_table, rescale_official
from .io.population import PopulationRaster, open_population
from .vocabulary import (
    DEFAULT_RADIUS_M,
    DEFAULT_RESIDENTIAL_DENSITY,
    DEFAULT_RESOLUTION_M,
    normalize_technology,
)
from .io.sites import SiteTable, read_sites

log = logging.getLogger(__name__)

SAMPLE_FILES = {"sites": "sites.csv", "areas": "communes.gpkg", "population": "population.tif"}
SAMPLE_FIELDS = {"area_id": "commune_code", "area_name": "commune_name", "parent": "province"}


def sample_path(name: str) -> Path:
    """Path of a file of the bundled sample (``sites.csv``, ``communes.gpkg``, ...)."""
    return Path(str(resources.files("telecov.sample").joinpath(name)))


@dataclass
class Result:
    """Outcome of :func:`analyze`.

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

    """

    table: pd.DataFrame
    areas: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    rejected: dict[str, pd.DataFrame]
    run: dict[str, Any]
    layers: list[Layer] = field(default_factory=list, repr=False)

    def footprints(self, technology: str | None = None) -> gpd.GeoDataFrame:
        """Footprint polygons of the counted sites, optionally of one technology."""
        sites = self.sites[self.sites["counted"]]
        if technology is not None:
            sites = sites[sites["technology"] == technology]
        return footprint_polygons(sites)


def _parse_radius(radius: Mapping[str, float] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in (radius or {}).items():
        tech = normalize_technology(key)
        if tech is None:
            raise InputError(f"--radius {key}={value}: unknown technology {key!r}")
        metres = float(value)
        if not np.isfinite(metres) or metres <= 0:
            raise InputError(f"--radius {key}={value}: the radius must be a positive number of metres")
        out[tech] = metres
    return out


def _check_overlap(areas: AreaTable, raster: PopulationRaster) -> None:
    west, south, east, north = raster.bounds
    box = shapely.box(west, south, east, north)
    geoms = areas.accepted.geometry.to_numpy()
    hits = shapely.intersects(geoms, box)
    if not hits.any():
        raise InputError(
            f"{raster.name}: the population raster ({west:.4f}, {south:.4f}, {east:.4f}, {north:.4f}) "
            f"does not overlap the areas of {areas.name} at all"
        )
    inside = shapely.within(geoms, box)
    if not inside.all():
        log.warning(
            "%s: %d of %d areas lie partly or wholly outside the population raster; "
            "their population figures cover only the part inside (empty when none)",
            raster.name, int((~inside).sum()), len(geoms),
        )  # fmt: skip


def _check_swapped(sites: SiteTable, areas: AreaTable) -> None:
    pts = sites.accepted.geometry
    if len(pts) < 3:
        return
    west, south, east, north = areas.accepted.total_bounds
    pad = 1.0
    x, y = pts.x.to_numpy(), pts.y.to_numpy()
    near = (x > west - pad) & (x < east + pad) & (y > south - pad) & (y < north + pad)
    near_swapped = (y > west - pad) & (y < east + pad) & (x > south - pad) & (x < north + pad)
    if near.mean() < 0.05 and near_swapped.mean() > 0.5:
        raise InputError(
            f"{sites.name}: longitude and latitude look swapped: {near_swapped.mean():.0%} of sites "
            "fall on the areas only when the two columns are exchanged; rename the columns"
        )


def analyze(
    sites: str | Path | pd.DataFrame | None = None,
    areas: str | Path | gpd.GeoDataFrame | None = None,
    population: str | Path | Any | None = None,
    *,
    area_id: str | None = None,
    area_name: str | None = None,
    parent: str | None = None,
    select: str | Mapping[str, str] | None = None,
    radius: Mapping[str, float] | None = None,
    include_planned: bool = False,
    residential_density: float = DEFAULT_RESIDENTIAL_DENSITY,
    population_field: str | None = None,
    sites_crs: str | None = None,
    areas_crs: str | None = None,
    by_operator: bool = False,
    combined: bool = False,
    resolution_m: float = DEFAULT_RESOLUTION_M,
    strict: bool = False,
    encoding: str | None = None,
    decimal: str = ".",
    progress: Callable[[int, int], None] | None = None,
) -> Result:
    """Measure per-area coverage of every technology by area, population and residential area.

    Parameters
    ----------
    sites, areas, population
        Paths or in-memory objects ((Geo)DataFrame, open rasterio dataset). All three None:
        the bundled sample.
    area_id, area_name, parent
        Area fields (id and name detected when None); ``parent`` adds parent rows.
    select
        ``"FIELD=VALUE"`` keeping a subset of areas.
    radius
        Default radius (m) per technology for sites without ``radius_m``.
    include_planned
        Count planned sites too.
    residential_density
        People per km² from which a pixel is residential.
    population_field
        Areas field with official population counts: counts rescaled per area.
    sites_crs, areas_crs
        CRS for inputs that lack one (and for ``x``/``y`` site columns).
    by_operator
        Add rows per operator.
    combined
        Add the combined layers ``any_mobile`` and ``4G+``.
    resolution_m
        Scan-line spacing in metres (accuracy contract met at the default).
    strict
        Raise :class:`StrictError` when any row is refused.
    encoding, decimal
        Text encoding and decimal separator of CSV sites.
    progress
        Callback (done, total) for the measuring step.

    Returns
    -------
    Result

    Raises
    ------
    InputError
        File-level problems (exit 2 in the CLI).
    TooLargeError
        Input too large for this machine (exit 3).

    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if sites is None and areas is None and population is None:
        sites, areas, population = (sample_path(SAMPLE_FILES[k]) for k in ("sites", "areas", "population"))
        area_id = area_id or SAMPLE_FIELDS["area_id"]
        area_name = area_name or SAMPLE_FIELDS["area_name"]
        parent = parent or SAMPLE_FIELDS["parent"]
        log.info("no inputs given: using the bundled synthetic sample")
    missing = [k for k, v in (("sites", sites), ("areas", areas), ("population", population)) if v is None]
    if missing:
        raise InputError(
            f"missing input: {', '.join('--' + m for m in missing)} (give all three, or none for the sample)"
        )
    if resolution_m <= 0:
        raise InputError(f"--resolution {resolution_m}: must be positive")
    assert sites is not None and areas is not None and population is not None
    radii = _parse_radius(radius)
    area_table = read_areas(
        areas, area_id=area_id, area_name=area_name, parent=parent, select=select,
        crs=areas_crs, population_field=population_field,
    )  # fmt: skip
    site_table = read_sites(
        sites, crs=sites_crs, radius=radii, include_planned=include_planned,
        encoding=encoding, decimal=decimal,
    )  # fmt: skip
    if len(site_table.accepted) == 0:
        raise InputError(
            f"{site_table.name}: every one of {site_table.read} site rows was refused "
            f"(first: row {site_table.rejected['row'].iloc[0]}, {site_table.rejected['field'].iloc[0]}: "
            f"{site_table.rejected['reason'].iloc[0]})"
        )
    _check_swapped(site_table, area_table)
    timings["read"] = time.perf_counter() - t0
    rejected = {"sites": site_table.rejected, "areas": area_table.rejected}
    if strict and any(len(r) for r in rejected.values()):
        raise StrictError(
            f"--strict: {len(site_table.rejected)} site rows and {len(area_table.rejected)} areas refused",
            rejected,
        )
    raster = open_population(population)
    try:
        _check_overlap(area_table, raster)
        accepted = area_table.accepted
        parent_values = accepted["parent"].to_numpy(dtype=str)
        parent_names = sorted({p for p in parent_values if p}) if parent else []
        parent_index = {p: i for i, p in enumerate(parent_names)}
        parent_codes = np.array([parent_index.get(p, -1) for p in parent_values], dtype=np.int64)
        regions = regions_from_geometries(accepted.geometry.to_numpy(), parent=parent_codes)
        layers = build_layers(site_table.accepted, combined=combined, by_operator=by_operator)
        t1 = time.perf_counter()
        measures = measure(
            regions, footprints_of(site_table.accepted), [layer.members for layer in layers], raster,
            residential_density=residential_density, resolution_m=resolution_m, progress=progress,
        )  # fmt: skip
        timings["measure"] = time.perf_counter() - t1
        if raster.negative_pixels:
            log.warning("%s: %d negative pixels counted as 0 people", raster.name, raster.negative_pixels)
    finally:
        raster.close()
    base, cov = measures.base, measures.covered
    if population_field:
        base, cov = rescale_official(
            measures, accepted["__official_population"].to_numpy(dtype=float),
            regions.parent, regions.n_parents,
        )  # fmt: skip
    table = coverage_table(
        base, cov,
        area_ids=accepted["area_id"].tolist(), area_names=accepted["area_name"].tolist(),
        area_parents=accepted["parent"].tolist(), parent_names=parent_names,
        layers=layers, by_operator=by_operator,
    )  # fmt: skip
    wide = area_metrics(table)
    out_areas = accepted.drop(columns=[c for c in accepted.columns if c.startswith("__")])
    collide = [c for c in wide.columns if c in out_areas.columns]
    if collide:
        log.warning("input columns renamed to avoid metric names: %s", ", ".join(f"src_{c}" for c in collide))
        out_areas = out_areas.rename(columns={c: f"src_{c}" for c in collide})
    out_areas = out_areas.join(wide, on="area_id")
    out_areas = out_areas[[c for c in out_areas.columns if c != "geometry"] + ["geometry"]]
    timings["total"] = time.perf_counter() - t0
    run = {
        "version": __version__,
        "inputs": {
            "sites": _describe(sites),
            "areas": _describe(areas),
            "population": _describe(population),
        },
        "options": {
            "area_id": area_table.id_field, "area_name": area_table.name_field, "parent": parent,
            "select": select if not isinstance(select, Mapping) else dict(select),
            "include_planned": include_planned, "residential_density": residential_density,
            "population_field": population_field, "sites_crs": sites_crs, "areas_crs": areas_crs,
            "by_operator": by_operator, "combined": combined, "resolution_m": resolution_m,
            "strict": strict,
        },
        "radii_m": {**DEFAULT_RADIUS_M, **radii},
        "crs": "EPSG:4326",
        "raster": {
            "pixel_deg": [raster.dx, raster.dy], "size": [raster.width, raster.height],
            "warped": raster.warped, "scan_lines_per_pixel_row": measures.sub_rows,
            "scan_lines": measures.lines,
        },
        "counts": {
            "sites": {"read": site_table.read, "used": len(site_table.accepted),
                      "refused": len(site_table.rejected),
                      "counted": int(site_table.accepted["counted"].sum())},
            "areas": {"read": area_table.read, "used": len(accepted),
                      "refused": len(area_table.rejected), "repaired": area_table.repaired},
            "refusals_by_reason": _reasons(rejected),
        },
        "timings_s": {k: round(v, 4) for k, v in timings.items()},
    }  # fmt: skip
    return Result(
        table=table, areas=out_areas, sites=site_table.accepted, rejected=rejected, run=run,
        layers=layers,
    )  # fmt: skip


def _describe(source: object) -> dict[str, Any]:
    if isinstance(source, (str, Path)) and Path(source).is_file():
        return file_info(source)
    return {"path": None, "object": type(source).__name__}


def _reasons(rejected: dict[str, pd.DataFrame]) -> dict[str, dict[str, int]]:
    out = {}
    for kind, frame in rejected.items():
        if len(frame):
            key = (
                frame["field"].astype(str)
                + ": "
                + frame["reason"].astype(str).str.replace(r"[-+]?\d[\d.,eE+-]*|'[^']*'", "…", regex=True)
            )
            out[kind] = {str(k): int(v) for k, v in key.value_counts().items()}
    return out
