"""Points and zones of interest: villages, industrial parks, agencies reached by each layer.

A point is covered by a layer when it lies inside one of the layer's footprints (geodesic
distance to a counted site at most its radius and, for a sector, a bearing within
``azimuth ± beamwidth / 2``). A polygon (e.g. an industrial park) is measured by the engine
like an area: covered area and covered population; it counts as covered when its covered
area share reaches ``zone_share``. Rows per commune, parent and total: count, covered count and
share per technology — the table behind ``poi_coverage.csv``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS

from .engine.scan import measure, regions_from_geometries
from .errors import InputError
from .footprints import footprints_of
from .geodesy import GEOD, LONLAT, is_lonlat
from .io.tables import TABLE_SUFFIXES, find_column, read_csv_text, read_vector
from .metrics import LEVEL_ORDER, TECH_ORDER
from .io.population import open_population
from .io.sites import LAT_NAMES, LON_NAMES

if TYPE_CHECKING:
    from .analysis import Result

log = logging.getLogger(__name__)

POI_COLUMNS = (
    "level", "area_id", "area_name", "parent", "poi", "technology", "count", "covered", "share_pct",
    "area_km2", "covered_km2", "area_pct", "population", "covered_population", "population_pct",
)  # fmt: skip
"""Columns of ``poi_coverage.csv``; the last six are empty for point sets."""

DEFAULT_ZONE_SHARE = 50.0
"""Covered area share (%) from which a polygon of interest counts as covered."""

ID_CANDIDATES = ("poi_id", "id", "code", "village_id", "ma")
NAME_CANDIDATES = ("poi_name", "name", "ten", "village_name")


@dataclass(frozen=True)
class PoiSet:
    """One file of points or zones of interest, in lon/lat, and its refused rows."""

    name: str
    features: gpd.GeoDataFrame
    rejected: pd.DataFrame
    read: int
    source: str


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


def parse_poi_options(values: Sequence[str] | None) -> dict[str, Path]:
    """Turn ``NAME=FILE`` strings (``--poi``) into ``{name: path}``.

    Raises
    ------
    InputError
        A value without ``=``, an empty name, or a name given twice.

    """
    out: dict[str, Path] = {}
    for item in values or []:
        name, sep, path = item.partition("=")
        name = name.strip()
        if not sep or not name or not path.strip():
            raise InputError(f"--poi {item!r}: expected NAME=FILE, e.g. --poi villages=villages.gpkg")
        if name in out:
            raise InputError(f"--poi {item!r}: the name {name!r} is given twice")
        out[name] = Path(path.strip())
    return out


def read_pois(
    source: str | Path | gpd.GeoDataFrame,
    *,
    name: str,
    crs: str | None = None,
    encoding: str | None = None,
) -> PoiSet:
    """Read points or polygons of interest from a CSV (``lon``/``lat``) or a vector layer.

    Parameters
    ----------
    source
        CSV with ``lon``/``lat`` columns (WGS84), any vector file, or a GeoDataFrame.
    name
        Name of the set (``villages``, ``parks``, ...).
    crs
        CRS to assume when a vector layer has none.
    encoding
        Text encoding of a CSV file.

    Raises
    ------
    InputError
        Missing file, no geometry (no coordinate columns), no CRS, or no usable feature.

    """
    label = f"--poi {name}={source}" if isinstance(source, (str, Path)) else f"--poi {name}"
    reasons: dict[int, tuple[str, str]] = {}
    if isinstance(source, (str, Path)) and Path(source).suffix.lower() in TABLE_SUFFIXES:
        table = read_csv_text(Path(source), encoding=encoding)
        cols = list(table.columns)
        xname, yname = find_column(cols, LON_NAMES), find_column(cols, LAT_NAMES)
        if not (xname and yname):
            raise InputError(f"{label}: no geometry: expected lon/lat columns (columns: {', '.join(cols)})")
        lon = pd.to_numeric(table[xname].str.strip(), errors="coerce").to_numpy(dtype=float)
        lat = pd.to_numeric(table[yname].str.strip(), errors="coerce").to_numpy(dtype=float)
        for i in map(int, np.flatnonzero(~np.isfinite(lon))):
            reasons[i] = (xname, f"not a longitude: {table[xname].iloc[i]!r}")
        for i in map(int, np.flatnonzero(~np.isfinite(lat))):
            reasons.setdefault(i, (yname, f"not a latitude: {table[yname].iloc[i]!r}"))
        out_of_range = np.isfinite(lon) & np.isfinite(lat) & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
        for i in map(int, np.flatnonzero(out_of_range)):
            reasons.setdefault(i, (yname, f"coordinates {lon[i]:g}, {lat[i]:g} out of range"))
        geoms = np.asarray(shapely.points(np.nan_to_num(lon), np.nan_to_num(lat)), dtype=object)
        attrs = table
    else:
        frame = read_vector(Path(source)) if isinstance(source, (str, Path)) else source
        if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
            raise InputError(f"{label}: no geometry column; give points or polygons, or a CSV with lon/lat")
        if frame.crs is None:
            if crs is None:
                raise InputError(f"{label}: the layer has no CRS; set one (e.g. EPSG:4326) in the file")
            frame = frame.set_crs(CRS.from_user_input(crs))
        geoms = frame.geometry.to_numpy().copy()
        attrs = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        missing = pd.isna(geoms) | shapely.is_empty(geoms)
        for i in map(int, np.flatnonzero(missing)):
            reasons[i] = ("geometry", "missing or empty geometry")
        kind = shapely.get_type_id(geoms)
        usable = np.isin(kind, [0, 3, 6]) & ~missing
        for i in map(int, np.flatnonzero(~usable & ~missing)):
            reasons[i] = ("geometry", f"expected a point or polygon, got {shapely.get_type_id(geoms[i])}")
        polys = usable & (kind != 0)
        bad = polys.copy()
        bad[polys] = ~shapely.is_valid(geoms[polys])
        for i in map(int, np.flatnonzero(bad)):
            fixed = shapely.make_valid(geoms[i])
            parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
            if parts:
                geoms[i] = shapely.union_all(parts)
            else:
                reasons[i] = ("geometry", "invalid polygon that cannot be repaired")
        if not is_lonlat(frame.crs):
            ok_idx = np.array([i for i in range(len(geoms)) if i not in reasons], dtype=np.int64)
            if ok_idx.size:
                geoms[ok_idx] = gpd.GeoSeries(geoms[ok_idx], crs=frame.crs).to_crs(LONLAT).to_numpy()
    read = len(attrs)
    ok = np.array([i not in reasons for i in range(read)], dtype=bool)
    attrs = attrs.reset_index(drop=True)
    cols = [str(c) for c in attrs.columns]
    id_col = find_column(cols, ID_CANDIDATES)
    name_col = find_column(cols, NAME_CANDIDATES)
    ids = attrs[id_col].astype(str) if id_col else pd.Series(np.arange(1, read + 1).astype(str))
    names = attrs[name_col].astype(str) if name_col else ids
    features = gpd.GeoDataFrame(attrs.loc[ok].reset_index(drop=True), geometry=list(geoms[ok]), crs=LONLAT)
    features.insert(0, "poi_id", ids[ok].to_numpy())
    features.insert(1, "poi_name", names[ok].to_numpy())
    bad_idx = [i for i in range(read) if i in reasons]
    rejected = pd.DataFrame(attrs.iloc[bad_idx]).reset_index(drop=True)
    rejected.insert(0, "poi", name)
    rejected["row"] = np.asarray(bad_idx, dtype=np.int64) + 1
    rejected["field"] = [reasons[i][0] for i in bad_idx]
    rejected["reason"] = [reasons[i][1] for i in bad_idx]
    if read and not ok.any():
        raise InputError(f"{label}: no usable feature; every row was refused ({rejected['reason'].iloc[0]})")
    if bad_idx:
        log.warning("%s: %d of %d rows refused (see rejected_pois.csv)", label, len(bad_idx), read)
    return PoiSet(name=name, features=features, rejected=rejected, read=read, source=str(source))


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


def _layers(result: Result) -> list[tuple[str, NDArray[np.int64]]]:
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

    """
    sets = [read_pois(src, name=name, crs=crs, encoding=encoding) for name, src in pois.items()]
    areas = result.areas
    n_areas = len(areas)
    parents = areas["parent"].to_numpy(dtype=str)
    parent_names = sorted({p for p in parents if p})
    parent_code = {p: i for i, p in enumerate(parent_names)}
    n_regions = n_areas + len(parent_names) + 1
    area_tree = shapely.STRtree(areas.geometry.to_numpy())
    layers = _layers(result)
    sites = result.sites
    frames: list[pd.DataFrame] = []
    features: dict[str, gpd.GeoDataFrame] = {}
    for poi in sets:
        feats = poi.features.copy()
        geoms = feats.geometry.to_numpy()
        is_point = shapely.get_type_id(geoms) == 0
        anchor = np.where(is_point, geoms, shapely.point_on_surface(geoms))
        pt_i, area_i = area_tree.query(anchor, predicate="intersects") if len(geoms) else (
            np.zeros(0, np.int64), np.zeros(0, np.int64))  # fmt: skip
        outside = len(geoms) - np.unique(pt_i).shape[0]
        if outside:
            log.warning("--poi %s: %d of %d features lie in no area (left out of the rows)",
                        poi.name, outside, len(geoms))  # fmt: skip
        ids = areas["area_id"].to_numpy(dtype=object)
        feats["area_ids"] = [";".join(ids[area_i[pt_i == k]].tolist()) for k in range(len(geoms))]
        # region pairs: each feature once per area, parent and total containing it
        par = np.array([parent_code.get(p, -1) for p in parents[area_i]], dtype=np.int64)
        pairs = np.concatenate([
            np.column_stack([pt_i, area_i]),
            np.column_stack([pt_i[par >= 0], n_areas + par[par >= 0]]),
            np.column_stack([pt_i, np.full(pt_i.shape[0], n_regions - 1)]),
        ]) if pt_i.size else np.zeros((0, 2), np.int64)  # fmt: skip
        pairs = np.unique(pairs, axis=0)
        p_feat, p_reg = pairs[:, 0], pairs[:, 1]
        covered = np.zeros((len(geoms), len(layers)), dtype=bool)
        pidx = np.flatnonzero(is_point)
        if pidx.size:
            hits = points_covered(
                sites, shapely.get_x(geoms[pidx]).astype(float), shapely.get_y(geoms[pidx]).astype(float)
            )
            for li, (_, members) in enumerate(layers):
                in_layer = np.zeros(len(sites), dtype=bool)
                in_layer[members] = True
                sel = hits["point"].to_numpy()[in_layer[hits["site"].to_numpy()]]
                covered[pidx[sel], li] = True
        zone = np.full((len(geoms), len(layers), 4), np.nan)  # area m², cov m², pop, cov pop
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
        features[poi.name] = feats
        count = np.bincount(p_reg, minlength=n_regions).astype(float)
        any_zone = bool(qidx.size)
        for li, (tech, _) in enumerate(layers):
            cov = np.bincount(p_reg, weights=covered[p_feat, li].astype(float), minlength=n_regions)
            row: dict[str, Any] = {"poi": poi.name, "technology": tech, "count": count.astype(np.int64),
                                   "covered": cov.astype(np.int64)}  # fmt: skip
            with np.errstate(divide="ignore", invalid="ignore"):
                row["share_pct"] = np.where(count > 0, 100.0 * cov / count, np.nan)
                sums = [
                    np.bincount(p_reg, weights=np.nan_to_num(zone[p_feat, li, k]), minlength=n_regions)
                    for k in range(4)
                ]
                nan = np.full(n_regions, np.nan)
                row["area_km2"] = sums[0] / 1e6 if any_zone else nan
                row["covered_km2"] = sums[1] / 1e6 if any_zone else nan
                row["area_pct"] = np.where(sums[0] > 0, 100.0 * sums[1] / sums[0], np.nan)
                row["population"] = sums[2] if any_zone else nan
                row["covered_population"] = sums[3] if any_zone else nan
                row["population_pct"] = np.where(sums[2] > 0, 100.0 * sums[3] / sums[2], np.nan)
            frames.append(pd.DataFrame(row))
    level = ["area"] * n_areas + ["parent"] * len(parent_names) + ["total"]
    keys = pd.DataFrame(
        {
            "level": level,
            "area_id": [*areas["area_id"].astype(str), *parent_names, "ALL"],
            "area_name": [*areas["area_name"].astype(str), *parent_names, "All areas"],
            "parent": [*parents, *([""] * len(parent_names)), ""],
        }
    )
    if frames:
        table = pd.concat([pd.concat([keys, f], axis=1) for f in frames], ignore_index=True)
        table = table.assign(
            _l=table["level"].map(LEVEL_ORDER), _t=table["technology"].map(TECH_ORDER)
        ).sort_values(["_l", "area_id", "poi", "_t"], kind="stable")
        table = table[list(POI_COLUMNS)].reset_index(drop=True)
    else:
        table = pd.DataFrame(columns=list(POI_COLUMNS))
    rejected = [p.rejected for p in sets if len(p.rejected)]
    rej = (
        pd.concat(rejected, ignore_index=True)
        if rejected
        else pd.DataFrame(columns=["poi", "row", "field", "reason"])
    )
    rej = rej[[c for c in rej.columns if c not in ("row", "field", "reason")] + ["row", "field", "reason"]]
    return PoiCoverage(table=table, features=features, rejected=rej)


def _measure_zones(
    result: Result,
    geoms: NDArray[np.object_],
    layers: list[tuple[str, NDArray[np.int64]]],
    population: str | Path | Any | None,
) -> NDArray[np.float64]:
    """Engine measures of polygons: per polygon and layer (area, covered area, pop, covered pop)."""
    from .gaps import _population_source

    options = result.run["options"]
    regions = regions_from_geometries(geoms)
    raster = open_population(_population_source(result, population))
    try:
        m = measure(
            regions, footprints_of(result.sites), [members for _, members in layers], raster,
            residential_density=float(options["residential_density"]),
            resolution_m=float(options["resolution_m"]),
        )  # fmt: skip
    finally:
        raster.close()
    n = len(geoms)
    out = np.empty((n, len(layers), 4))
    out[:, :, 0] = m.base[:n, None, 0]
    out[:, :, 1] = m.covered[:n, :, 0]
    out[:, :, 2] = m.base[:n, None, 1]
    out[:, :, 3] = m.covered[:n, :, 1]
    return out
