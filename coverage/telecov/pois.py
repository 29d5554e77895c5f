"""Points and zones of interest: villages, industrial parks, agencies reached by each layer.

A point is covered by a layer when it lies inside one of the layer's footprints (geodesic
distance to a counted site at most its radius and, for a sector, a bearing within
``azimuth ± beamwidth / 2``). A polygon (e.g. an industrial park) is measured by the engine
like an area: covered area and covered population; it counts as covered when its covered
area share reaches ``zone_share``. Rows per commune, parent and total: count, covered count and
share per technology — the table behind ``poi_coverage.csv``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from .engine.scan import measure_polygons
from .errors import TelecovWarning
from .footprints import footprints_of
from .geodesy import GEOD
from .io.pois import PoiSet, read_pois
from .io.population import open_population
from .io.refusals import REJECT_COLUMNS
from .metrics import LEVEL_ORDER, TECH_ORDER
from .result import population_source

if TYPE_CHECKING:
    from .result import Result

POI_COLUMNS = (
    "level", "area_id", "area_name", "parent", "poi", "technology", "count", "covered", "share_pct",
    "area_km2", "covered_km2", "area_pct", "population", "covered_population", "population_pct",
)  # fmt: skip
"""Columns of ``poi_coverage.csv``; the last six are empty for point sets."""

DEFAULT_ZONE_SHARE = 50.0
"""Covered area share (%) from which a polygon of interest counts as covered."""

Layers = list[tuple[str, NDArray[np.int64]]]
"""Technology and member sites of each all-operator layer of a result."""
_ZONE_MEASURES = 4  # area m², covered m², population, covered population


@dataclass(frozen=True)
class PoiCoverage:
    """Outcome of :func:`poi_coverage`.

    Attributes
    ----------
    table
        :data:`POI_COLUMNS`, one row per area / parent / total × POI set × technology.
    features
        Per POI set: its features with ``area_ids`` (communes containing it) and, per
        technology, ``<technology>_covered`` (and for polygons ``<technology>_area_pct``,
        ``<technology>_population_pct``).
    rejected
        Refused rows of every set: ``poi`` (set name), original columns, ``row``, ``field``,
        ``reason`` (``rejected_pois.csv``).

    """

    table: pd.DataFrame
    features: dict[str, gpd.GeoDataFrame] = field(repr=False)
    rejected: pd.DataFrame = field(repr=False)


@dataclass(frozen=True)
class _Regions:
    """The rows of the table: each area, each parent, then the total."""

    areas: gpd.GeoDataFrame
    parents: NDArray[np.str_]
    parent_names: list[str]
    tree: shapely.STRtree

    @property
    def n_areas(self) -> int:
        return len(self.areas)

    @property
    def size(self) -> int:
        return self.n_areas + len(self.parent_names) + 1


@dataclass(frozen=True)
class _Membership:
    """Which areas contain each feature, and the (feature, region) pairs it counts in."""

    area_ids: list[str]
    outside: int
    feature: NDArray[np.int64]
    region: NDArray[np.int64]


def points_covered(
    sites: gpd.GeoDataFrame, lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> pd.DataFrame:
    """Pairs (point, site) where the site's footprint contains the point.

    Uses exact WGS84 geodesic distance and forward azimuth (pyproj ``Geod.inv``) on the
    candidate pairs found by a bounding-box search. Returns columns ``point`` and ``site``
    (row positions).
    """
    if len(sites) == 0 or lon.shape[0] == 0:
        return pd.DataFrame({"point": np.zeros(0, np.int64), "site": np.zeros(0, np.int64)})
    slon = sites.geometry.x.to_numpy(dtype=float)
    slat = sites.geometry.y.to_numpy(dtype=float)
    radius = sites["radius_m"].to_numpy(dtype=float)
    dlat = radius / 110_000.0 * 1.01 + 1e-7
    dlon = dlat / np.maximum(np.cos(np.radians(np.minimum(np.abs(slat) + dlat, 89.9))), 1e-6)
    boxes = shapely.box(slon - dlon, slat - dlat, slon + dlon, slat + dlat)
    tree = shapely.STRtree(shapely.points(lon, lat))
    site_i, point_i = tree.query(boxes)
    if site_i.size == 0:
        return pd.DataFrame({"point": np.zeros(0, np.int64), "site": np.zeros(0, np.int64)})
    az, _, dist = GEOD.inv(slon[site_i], slat[site_i], lon[point_i], lat[point_i])
    az = np.asarray(az, dtype=float)
    dist = np.asarray(dist, dtype=float)
    inside = dist <= radius[site_i]
    boresight = sites["azimuth"].to_numpy(dtype=float)[site_i]
    beam = sites["beamwidth"].to_numpy(dtype=float)[site_i]
    sector = np.isfinite(boresight)
    off = np.abs(np.mod(az - np.nan_to_num(boresight) + 180.0, 360.0) - 180.0)
    inside &= ~sector | (off <= beam / 2.0 + 1e-9) | (dist == 0.0)
    return pd.DataFrame({"point": point_i[inside].astype(np.int64), "site": site_i[inside].astype(np.int64)})


def _layers(result: Result) -> Layers:
    return [
        (layer.technology, np.asarray(layer.members, dtype=np.int64))
        for layer in result.layers
        if layer.operator == "all"
    ]


def poi_coverage(
    result: Result,
    pois: Mapping[str, str | Path | gpd.GeoDataFrame],
    *,
    population: str | Path | Any | None = None,
    zone_share: float = DEFAULT_ZONE_SHARE,
    crs: str | None = None,
    encoding: str | None = None,
) -> PoiCoverage:
    """Coverage of points and zones of interest per commune, parent and total, per technology.

    Parameters
    ----------
    result
        Outcome of :func:`telecov.analyze` (its counted sites, layers and areas are used).
    pois
        ``{name: file or GeoDataFrame}``: CSV with ``lon``/``lat`` or any point/polygon layer.
    population
        Population raster for polygons, when the result was made from an in-memory one.
    zone_share
        Covered area share (%) from which a polygon counts as covered.
    crs
        CRS to assume for a vector layer without one.
    encoding
        Text encoding of CSV files.

    Returns
    -------
    PoiCoverage

    Raises
    ------
    InputError
        A POI file with no geometry or no CRS, or nothing usable in it.

    Warns
    -----
    TelecovWarning
        Rows of a POI file were refused, or features lie in no area.

    """
    sets = [read_pois(src, name=name, crs=crs, encoding=encoding) for name, src in pois.items()]
    areas = result.areas
    parents = areas["parent"].to_numpy(dtype=str)
    regions = _Regions(
        areas=areas, parents=parents, parent_names=sorted({p for p in parents if p}),
        tree=shapely.STRtree(areas.geometry.to_numpy()),
    )  # fmt: skip
    layers = _layers(result)
    frames: list[pd.DataFrame] = []
    features: dict[str, gpd.GeoDataFrame] = {}
    for poi in sets:
        feats, rows = _set_coverage(
            poi, result, regions, layers, population=population, zone_share=zone_share
        )
        features[poi.name] = feats
        frames.extend(rows)
    return PoiCoverage(table=_table(frames, regions), features=features, rejected=_rejected(sets))


def _set_coverage(
    poi: PoiSet,
    result: Result,
    regions: _Regions,
    layers: Layers,
    *,
    population: str | Path | Any | None,
    zone_share: float,
) -> tuple[gpd.GeoDataFrame, list[pd.DataFrame]]:
    """One POI set: its features with coverage columns, and its rows per layer."""
    feats = poi.features.copy()
    geoms = feats.geometry.to_numpy()
    is_point = shapely.get_type_id(geoms) == 0
    member = _membership(geoms, is_point, regions)
    if member.outside:
        warnings.warn(f"`pois` {poi.name}: {member.outside} of {len(geoms)} features lie in no area "
                      "(left out of the rows)", TelecovWarning, stacklevel=3)  # fmt: skip
    feats["area_ids"] = member.area_ids
    covered = np.zeros((len(geoms), len(layers)), dtype=bool)
    pidx = np.flatnonzero(is_point)
    if pidx.size:
        covered[pidx] = _points_in_layers(result.sites, geoms[pidx], layers, shapes=result.shapes)
    zone = np.full((len(geoms), len(layers), _ZONE_MEASURES), np.nan)
    qidx = np.flatnonzero(~is_point)
    if qidx.size:
        zone[qidx] = _measure_zones(result, geoms[qidx], layers, population)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(zone[qidx, :, 0] > 0, 100.0 * zone[qidx, :, 1] / zone[qidx, :, 0], 0.0)
        covered[qidx] = share >= zone_share
    for li, (tech, _) in enumerate(layers):
        feats[f"{tech}_covered"] = covered[:, li]
        if qidx.size:
            with np.errstate(divide="ignore", invalid="ignore"):
                feats[f"{tech}_area_pct"] = 100.0 * zone[:, li, 1] / zone[:, li, 0]
                feats[f"{tech}_population_pct"] = 100.0 * zone[:, li, 3] / zone[:, li, 2]
    rows = [
        _layer_rows(
            poi.name, tech, covered[:, li], zone[:, li], member, regions.size, any_zone=bool(qidx.size)
        )
        for li, (tech, _) in enumerate(layers)
    ]
    return feats, rows


def _membership(geoms: NDArray[np.object_], is_point: NDArray[np.bool_], regions: _Regions) -> _Membership:
    """Areas containing each feature (a polygon by a point on its surface) and region pairs."""
    anchor = np.where(is_point, geoms, shapely.point_on_surface(geoms))
    pt_i, area_i = regions.tree.query(anchor, predicate="intersects") if len(geoms) else (
        np.zeros(0, np.int64), np.zeros(0, np.int64))  # fmt: skip
    ids = regions.areas["area_id"].to_numpy(dtype=object)
    area_ids = [";".join(ids[area_i[pt_i == k]].tolist()) for k in range(len(geoms))]
    # region pairs: each feature once per area, parent and total containing it
    parent_code = {p: i for i, p in enumerate(regions.parent_names)}
    par = np.array([parent_code.get(p, -1) for p in regions.parents[area_i]], dtype=np.int64)
    pairs = np.concatenate([
        np.column_stack([pt_i, area_i]),
        np.column_stack([pt_i[par >= 0], regions.n_areas + par[par >= 0]]),
        np.column_stack([pt_i, np.full(pt_i.shape[0], regions.size - 1)]),
    ]) if pt_i.size else np.zeros((0, 2), np.int64)  # fmt: skip
    pairs = np.unique(pairs, axis=0)
    return _Membership(
        area_ids=area_ids,
        outside=len(geoms) - np.unique(pt_i).shape[0],
        feature=pairs[:, 0],
        region=pairs[:, 1],
    )


def _points_in_layers(
    sites: gpd.GeoDataFrame, points: NDArray[np.object_], layers: Layers, *, shapes: Any = None
) -> NDArray[np.bool_]:
    """Per point and layer: whether a footprint of the layer contains the point.

    ``shapes`` (:attr:`telecov.Result.shapes`): a shaped site row covers the points its polygon
    covers, not those of its disc or wedge.
    """
    covered = np.zeros((len(points), len(layers)), dtype=bool)
    hits = points_covered(sites, shapely.get_x(points).astype(float), shapely.get_y(points).astype(float))
    if shapes is not None:
        shaped = np.flatnonzero([s is not None for s in shapes])
        hits = hits[~np.isin(hits["site"].to_numpy(), shaped)]
        tree = shapely.STRtree(np.asarray(shapes, dtype=object)[shaped])
        point, poly = tree.query(points, predicate="covered_by")
        hits = pd.concat([hits, pd.DataFrame({"point": point, "site": shaped[poly]})], ignore_index=True)
    for li, (_, members) in enumerate(layers):
        in_layer = np.zeros(len(sites), dtype=bool)
        in_layer[members] = True
        sel = hits["point"].to_numpy()[in_layer[hits["site"].to_numpy()]]
        covered[sel, li] = True
    return covered


def _layer_rows(
    poi: str,
    tech: str,
    covered: NDArray[np.bool_],
    zone: NDArray[np.float64],
    member: _Membership,
    n_regions: int,
    *,
    any_zone: bool,
) -> pd.DataFrame:
    """One layer's rows for every region: counts, covered counts and the zones' measures."""
    p_feat, p_reg = member.feature, member.region
    count = np.bincount(p_reg, minlength=n_regions).astype(float)
    cov = np.bincount(p_reg, weights=covered[p_feat].astype(float), minlength=n_regions)
    row: dict[str, Any] = {"poi": poi, "technology": tech, "count": count.astype(np.int64),
                           "covered": cov.astype(np.int64)}  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        row["share_pct"] = np.where(count > 0, 100.0 * cov / count, np.nan)
        sums = [
            np.bincount(p_reg, weights=np.nan_to_num(zone[p_feat, k]), minlength=n_regions)
            for k in range(_ZONE_MEASURES)
        ]
        nan = np.full(n_regions, np.nan)
        row["area_km2"] = sums[0] / 1e6 if any_zone else nan
        row["covered_km2"] = sums[1] / 1e6 if any_zone else nan
        row["area_pct"] = np.where(sums[0] > 0, 100.0 * sums[1] / sums[0], np.nan)
        row["population"] = sums[2] if any_zone else nan
        row["covered_population"] = sums[3] if any_zone else nan
        row["population_pct"] = np.where(sums[2] > 0, 100.0 * sums[3] / sums[2], np.nan)
    return pd.DataFrame(row)


def _table(frames: list[pd.DataFrame], regions: _Regions) -> pd.DataFrame:
    """Join the rows of every set and layer to their region keys, in the contract's order."""
    if not frames:
        return pd.DataFrame(columns=list(POI_COLUMNS))
    areas, names = regions.areas, regions.parent_names
    keys = pd.DataFrame(
        {
            "level": ["area"] * regions.n_areas + ["parent"] * len(names) + ["total"],
            "area_id": [*areas["area_id"].astype(str), *names, "ALL"],
            "area_name": [*areas["area_name"].astype(str), *names, "All areas"],
            "parent": [*regions.parents, *([""] * len(names)), ""],
        }
    )
    table = pd.concat([pd.concat([keys, f], axis=1) for f in frames], ignore_index=True)
    table = table.assign(
        _l=table["level"].map(LEVEL_ORDER), _t=table["technology"].map(TECH_ORDER)
    ).sort_values(["_l", "area_id", "poi", "_t"], kind="stable")
    return table[list(POI_COLUMNS)].reset_index(drop=True)


def _rejected(sets: list[PoiSet]) -> pd.DataFrame:
    """Refused rows of every set: ``poi``, original columns, ``row``, ``field``, ``reason``."""
    rejected = [p.rejected for p in sets if len(p.rejected)]
    rej = (
        pd.concat(rejected, ignore_index=True) if rejected else pd.DataFrame(columns=["poi", *REJECT_COLUMNS])
    )
    return rej[[c for c in rej.columns if c not in REJECT_COLUMNS] + list(REJECT_COLUMNS)]


def _measure_zones(
    result: Result,
    geoms: NDArray[np.object_],
    layers: list[tuple[str, NDArray[np.int64]]],
    population: str | Path | Any | None,
) -> NDArray[np.float64]:
    """Engine measures of polygons: per polygon and layer (area, covered area, pop, covered pop)."""
    options = result.run.options
    source = population_source(result, population, where="poi_coverage")
    with open_population(source) as raster:
        m = measure_polygons(
            geoms, raster, footprints=footprints_of(result.sites, polygons=result.shapes),
            layers=[mb for _, mb in layers],
            residential_density=options.residential_density, resolution_m=options.resolution_m,
        )  # fmt: skip
    out = np.empty((len(geoms), len(layers), 4))
    out[:, :, 0] = m.base[:, None, 0]
    out[:, :, 1] = m.covered[:, :, 0]
    out[:, :, 2] = m.base[:, None, 1]
    out[:, :, 3] = m.covered[:, :, 1]
    return out
