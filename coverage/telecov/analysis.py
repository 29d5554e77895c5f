"""``analyze``: read, validate, measure and tabulate — the library's main entry point."""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any, Unpack

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from pyproj.exceptions import CRSError

from . import __version__
from .checks import check_sites_reach
from .engine.budget import estimate_run
from .engine.partition import Regions, regions_from_geometries
from .engine.scan import Measures
from .engine.tasks import measure_with
from .errors import InputError, StrictError, TelecovWarning
from .footprints import Layer, build_layers, footprints_of
from .io.areas import AreaTable, read_areas
from .io.population import PopulationRaster, open_population
from .io.refusals import refusals_by_reason
from .io.resources import check_budget
from .io.sites import SiteTable, read_sites
from .io.sources import is_url
from .io.tables import file_info
from .metrics import area_metrics, coverage_table, density_suspicion, rescale_official, site_counts
from .options import RADIO_OPTIONS, AnalyzeOptions, with_defaults
from .radio.columns import radio_columns
from .radio.reach import RadioOptions, radio_options, with_radii
from .radio.shapes import footprint_shapes
from .result import Result, RunInfo, RunOptions, raster_info_of
from .vocabulary import (
    DEFAULT_RADIUS_M,
    MAX_RADIUS_M,
    Vocabulary,
    VocabularySpec,
    normalize_technology,
)

__all__ = ["Result", "analyze", "sample_path"]

log = logging.getLogger(__name__)

SAMPLE_FILES = {"sites": "sites.csv", "areas": "communes.gpkg", "population": "population.tif"}
SAMPLE_FIELDS = {"area_id": "commune_code", "area_name": "commune_name", "parent": "province"}


def sample_path(name: str) -> Path:
    """Path of a file of the bundled sample (``sites.csv``, ``communes.gpkg``, ...)."""
    return Path(str(resources.files("telecov.sample").joinpath(name)))


@dataclass(frozen=True)
class _Sources:
    """The three inputs as given: paths or in-memory objects."""

    sites: Any
    areas: Any
    population: Any


@dataclass(frozen=True)
class _Reading:
    """How the inputs are read: text encoding, decimal separator, layers and vocabulary."""

    encoding: str | None
    decimal: str
    sites_layer: str | None
    areas_layer: str | None
    vocabulary: VocabularySpec | Vocabulary | None
    radio: RadioOptions = field(default_factory=RadioOptions)

    def options(self) -> dict[str, Any]:
        """Return the layers and the added vocabulary, for ``run.json``'s options."""
        words = self.vocabulary
        added = None
        if words is not None and not isinstance(words, Vocabulary):
            added = {kind: {k: list(v) if not isinstance(v, str) else [v] for k, v in table.items()}
                     for kind, table in words.items() if table} or None  # fmt: skip
        return {"sites_layer": self.sites_layer, "areas_layer": self.areas_layer, "vocabulary": added,
                **self.radio.to_json()}  # fmt: skip


@dataclass(frozen=True)
class _Partition:
    """The areas as engine regions, the layers and the parent names (in engine order)."""

    regions: Regions
    layers: list[Layer]
    parent_names: list[str]


def analyze(
    sites: str | Path | pd.DataFrame | None = None,
    areas: str | Path | gpd.GeoDataFrame | None = None,
    population: str | Path | Any | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    outputs: Collection[str] = (),
    client: Any = None,
    **options: Unpack[AnalyzeOptions],
) -> Result:
    """Measure per-area coverage of every technology by area, population and residential area.

    Parameters
    ----------
    sites, areas, population
        Paths or in-memory objects ((Geo)DataFrame, open rasterio dataset). All three None:
        the bundled sample.
    progress
        Callback (done, total) for the measuring step.
    outputs
        Files the caller will write (``coverage.gpkg``, ...), for the estimate made before measuring.
    client
        A ``distributed.Client`` (``pip install "telecom-coverage[dask]"``): the measuring runs
        as partition tasks on its workers, which open ``population`` themselves (a path or URL
        they can reach); the table is the same as in one process. None: in this process.
    **options
        The keyword options of :class:`~telecov.options.AnalyzeOptions` (``area_id``,
        ``radius``, ``resolution_m``, ``strict``, ...), each documented there.

    Raises
    ------
    InputError
        File-level problems (exit 2 in the CLI).
    TooLargeError
        The estimated peak memory exceeds what this process may use (exit 3); a
        ``TelecovWarning`` when it is over half of that, 1 GB of outputs or 10 minutes.
    TypeError
        A keyword that is not an option.

    """
    given = with_defaults(options)
    select = given["select"]
    given["select"] = dict(select) if isinstance(select, Mapping) else select
    run_options = RunOptions(**{f.name: given[f.name] for f in fields(RunOptions)})
    radio = radio_options(**{name: given[name] for name in RADIO_OPTIONS})
    reading = _Reading(**{f.name: given[f.name] for f in fields(_Reading) if f.name != "radio"}, radio=radio)
    sources = _Sources(sites=sites, areas=areas, population=population)
    return _analyze(
        sources, run_options, radius=given["radius"], reading=reading, progress=progress, outputs=outputs,
        client=client,
    )  # fmt: skip


def _analyze(
    sources: _Sources,
    options: RunOptions,
    *,
    radius: Mapping[str, float] | None,
    reading: _Reading,
    progress: Callable[[int, int], None] | None,
    outputs: Collection[str] = (),
    client: Any = None,
) -> Result:
    """Run the steps of :func:`analyze`: read, check, partition, measure, tabulate, describe."""
    t0 = time.perf_counter()
    sources, options = _with_sample(sources, options)
    _check_options(options, decimal=reading.decimal)
    radii = _parse_radius(radius)
    area_table, site_table = _read_inputs(sources, options, radii=radii, reading=reading)
    timings = {"read": time.perf_counter() - t0}
    rejected = {"sites": site_table.rejected, "areas": area_table.rejected}
    if options.strict and any(len(r) for r in rejected.values()):
        raise StrictError(
            f"`strict`: {len(site_table.rejected)} site rows and {len(area_table.rejected)} areas refused",
            rejected,
        )
    with open_population(
        sources.population, band=options.population_band, unit=options.population_unit
    ) as raster:
        _check_overlap(area_table, raster)
        site_table = with_radii(site_table, raster, options=reading.radio, radius=radii)
        partition = _partition(area_table, site_table, options)
        shapes = footprint_shapes(site_table.accepted, **reading.radio.terrain_options())
        footprints = footprints_of(site_table.accepted, polygons=None if shapes is None else list(shapes))
        check_budget(estimate_run(
            partition.regions, footprints, [la.members for la in partition.layers], raster,
            resolution_m=options.resolution_m, sites=len(site_table.accepted), outputs=outputs,
        ))  # fmt: skip
        t1 = time.perf_counter()
        measures = measure_with(
            client, partition.regions, footprints, [la.members for la in partition.layers], raster,
            population=sources.population, residential_density=options.residential_density,
            resolution_m=options.resolution_m, area_names=area_table.accepted["area_id"].tolist(),
            progress=progress,
        )  # fmt: skip
        timings["measure"] = time.perf_counter() - t1
        _raster_warnings(raster, measures, partition.regions.n_areas)
        raster_info = raster_info_of(raster, measures)
    options = replace(options, population_unit=raster.unit)
    sites = site_counts(
        site_table.accepted, partition.layers, area_table.accepted.geometry.to_numpy(),
        partition.regions.parent, partition.regions.n_parents,
    )  # fmt: skip
    table, out_areas = _tabulate(measures, partition, area_table.accepted, options, sites=sites)
    timings["total"] = time.perf_counter() - t0
    options = replace(options, area_id=area_table.id_field, area_name=area_table.name_field)
    run = RunInfo(
        version=__version__,
        inputs={k: _describe(getattr(sources, k)) for k in ("sites", "areas", "population")},
        options=options, radii_m={**DEFAULT_RADIUS_M, **radii}, crs="EPSG:4326", raster=raster_info,
        counts=_counts(site_table, area_table, rejected),
        timings_s={k: round(v, 4) for k, v in timings.items()},
    ).with_options(**reading.options())  # fmt: skip
    return Result(
        table=table, areas=out_areas, sites=site_table.accepted, rejected=rejected, run=run,
        layers=partition.layers, shapes=shapes,
    )  # fmt: skip


def _with_sample(sources: _Sources, options: RunOptions) -> tuple[_Sources, RunOptions]:
    """Use the bundled sample when no input is given; otherwise check that every input is."""
    if sources.sites is None and sources.areas is None and sources.population is None:
        sources = _Sources(**{k: sample_path(SAMPLE_FILES[k]) for k in ("sites", "areas", "population")})
        options = replace(
            options,
            area_id=options.area_id or SAMPLE_FIELDS["area_id"],
            area_name=options.area_name or SAMPLE_FIELDS["area_name"],
            parent=options.parent or SAMPLE_FIELDS["parent"],
        )
        log.info("no inputs given: using the bundled synthetic sample")
    missing = [k for k in ("sites", "areas", "population") if getattr(sources, k) is None]
    if missing:
        raise InputError(
            f"missing input: {', '.join('--' + m for m in missing)} (give all three, or none for the sample)"
        )
    return sources, options


def _check_options(options: RunOptions, *, decimal: str) -> None:
    """Refuse option values no run can use, before anything is read."""
    if not math.isfinite(options.resolution_m) or options.resolution_m <= 0:
        raise InputError(f"`resolution_m` {options.resolution_m}: must be a positive number of metres")
    density = options.residential_density
    if not math.isfinite(density) or density < 0:
        raise InputError(f"`residential_density` {density}: must be a number of people per km², at least 0")
    if decimal not in (".", ","):
        raise InputError(f"`decimal` {decimal!r}: the decimal separator must be '.' or ','")
    for name, crs in (("sites_crs", options.sites_crs), ("areas_crs", options.areas_crs)):
        try:
            CRS.from_user_input(crs) if crs is not None else None
        except CRSError as exc:
            why = " ".join(str(exc).split())[:160]
            raise InputError(
                f"`{name}` {crs!r}: not a CRS ({why}); give an EPSG code, e.g. EPSG:32648 for UTM zone 48N"
            ) from exc


def _parse_radius(radius: Mapping[str, float] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in (radius or {}).items():
        tech = normalize_technology(key)
        if tech is None:
            raise InputError(f"`radius` {key}={value}: unknown technology {key!r}")
        metres = float(value)
        if not np.isfinite(metres) or metres <= 0:
            raise InputError(f"`radius` {key}={value}: the radius must be a positive number of metres")
        if metres > MAX_RADIUS_M:  # the rule a site row's radius_m follows
            raise InputError(f"`radius` {key}={value}: radius {metres:g} m is larger than {MAX_RADIUS_M:g} m")
        out[tech] = metres
    return out


def _read_inputs(
    sources: _Sources, options: RunOptions, *, radii: dict[str, float], reading: _Reading
) -> tuple[AreaTable, SiteTable]:
    """Read areas and sites; refuse a run whose sites are all refused, look swapped or reach no area."""
    area_table = read_areas(
        sources.areas, area_id=options.area_id, area_name=options.area_name, parent=options.parent,
        select=options.select, crs=options.areas_crs, population_field=options.population_field,
        layer=reading.areas_layer,
    )  # fmt: skip
    site_table = read_sites(
        sources.sites, crs=options.sites_crs, radius=radii, include_planned=options.include_planned,
        encoding=reading.encoding, decimal=reading.decimal, layer=reading.sites_layer,
        vocabulary=reading.vocabulary, columns=radio_columns,
    )  # fmt: skip
    if len(site_table.accepted) == 0:
        refused = site_table.rejected
        raise InputError(
            f"{site_table.name}: every one of {site_table.read} site rows was refused "
            f"(first: row {refused['row'].iloc[0]}, {refused['field'].iloc[0]}: {refused['reason'].iloc[0]})"
        )
    _check_swapped(site_table, area_table)
    check_sites_reach(site_table, area_table, selected=bool(options.select))
    return area_table, site_table


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


def _check_overlap(areas: AreaTable, raster: PopulationRaster) -> None:
    """Refuse areas wholly off the raster; warn when some lie partly or wholly outside it."""
    box = raster.outline_lonlat()
    west, south, east, north = box.bounds
    geoms = areas.accepted.geometry.to_numpy()
    hits = shapely.intersects(geoms, box)
    if not hits.any():
        raise InputError(
            f"{raster.name}: the population raster (lon/lat {west:.4f}, {south:.4f}, {east:.4f}, "
            f"{north:.4f}) does not overlap the areas of {areas.name} at all"
        )
    inside = shapely.within(geoms, box)
    if not inside.all():
        warnings.warn(
            f"{raster.name}: {int((~inside).sum())} of {len(geoms)} areas lie partly or wholly outside the "
            "population raster; their population figures cover only the part inside (empty when none)",
            TelecovWarning, stacklevel=4,
        )  # fmt: skip


def _partition(area_table: AreaTable, site_table: SiteTable, options: RunOptions) -> _Partition:
    """Engine regions of the accepted areas (with parents when a parent field is set) and the layers."""
    accepted = area_table.accepted
    parent_values = accepted["parent"].to_numpy(dtype=str)
    parent_names = sorted({p for p in parent_values if p}) if options.parent else []
    parent_index = {p: i for i, p in enumerate(parent_names)}
    parent_codes = np.array([parent_index.get(p, -1) for p in parent_values], dtype=np.int64)
    return _Partition(
        regions=regions_from_geometries(accepted.geometry.to_numpy(), parent=parent_codes),
        layers=build_layers(site_table.accepted, combined=options.combined, by_operator=options.by_operator),
        parent_names=parent_names,
    )


def _raster_warnings(raster: PopulationRaster, measures: Measures, n_areas: int) -> None:
    """Warn about negative pixels, and about a count raster whose values look like densities."""
    if raster.negative_pixels:
        warnings.warn(
            f"{raster.name}: {raster.negative_pixels} negative pixels counted as 0 people",
            TelecovWarning, stacklevel=4,
        )  # fmt: skip
    message = density_suspicion(raster, measures, n_areas)
    if message:
        warnings.warn(message, TelecovWarning, stacklevel=4)


def _tabulate(
    measures: Measures,
    partition: _Partition,
    accepted: gpd.GeoDataFrame,
    options: RunOptions,
    *,
    sites: NDArray[np.int64],
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Return the contract's table and the accepted areas with their metric columns."""
    base, cov = measures.base, measures.covered
    if options.population_field:
        base, cov = rescale_official(
            measures, accepted["__official_population"].to_numpy(dtype=float),
            partition.regions.parent, partition.regions.n_parents,
        )  # fmt: skip
    table = coverage_table(
        base, cov,
        area_ids=accepted["area_id"].tolist(), area_names=accepted["area_name"].tolist(),
        area_parents=accepted["parent"].tolist(), parent_names=partition.parent_names,
        layers=partition.layers, by_operator=options.by_operator, sites=sites,
    )  # fmt: skip
    wide = area_metrics(table)
    out_areas = accepted.drop(columns=[c for c in accepted.columns if c.startswith("__")])
    collide = [c for c in wide.columns if c in out_areas.columns]
    if collide:
        warnings.warn(
            f"input columns renamed to avoid metric names: {', '.join(f'src_{c}' for c in collide)}",
            TelecovWarning, stacklevel=4,
        )  # fmt: skip
        out_areas = out_areas.rename(columns={c: f"src_{c}" for c in collide})
    out_areas = out_areas.join(wide, on="area_id")
    return table, out_areas[[c for c in out_areas.columns if c != "geometry"] + ["geometry"]]


def _counts(
    site_table: SiteTable, area_table: AreaTable, rejected: dict[str, pd.DataFrame]
) -> dict[str, Any]:
    sites = site_table.accepted
    return {
        "sites": {"read": site_table.read, "used": len(sites), "refused": len(site_table.rejected),
                  "counted": int(sites["counted"].sum())},
        "areas": {"read": area_table.read, "used": len(area_table.accepted),
                  "refused": len(area_table.rejected), "repaired": area_table.repaired,
                  "selected_out": area_table.selected_out},
        "refusals_by_reason": refusals_by_reason(rejected),
    }  # fmt: skip


def _describe(source: object) -> dict[str, Any]:
    if is_url(source):
        return {"path": source, "url": True}
    if isinstance(source, (str, Path)) and Path(source).is_file():
        return file_info(source)
    return {"path": None, "object": type(source).__name__}
