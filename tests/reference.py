"""Independent exact reference computation of telecov's geometry model (tests only).

Written from docs/ARCHITECTURE.md ("Geometry model", "Output contract") without importing telecov, so that
it can judge the library: footprints are explicit polygons (geodesic circles with many vertices,
sectors with several vertices per degree of arc, computed with :meth:`pyproj.Geod.fwd`), unions
and intersections are exact polygon operations in lon/lat (shapely), areas are ellipsoidal
(:meth:`pyproj.Geod.polygon_area_perimeter`) and population sums are exactextract
fraction-weighted sums over the raster and over derived rasters (residential mask × true pixel
area, people × residential mask).

It is deliberately slow and simple: one polygon per footprint, one union per technology, one
intersection per area and technology.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import exactextract
import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Geod, Transformer
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

GEOD = Geod(ellps="WGS84")
WGS84 = CRS.from_epsg(4326)

TECHNOLOGIES: tuple[str, ...] = ("2G", "3G", "4G", "5G", "fiber")
COMBINED: dict[str, tuple[str, ...]] = {
    "any_mobile": ("2G", "3G", "4G", "5G"),
    "4G+": ("4G", "5G"),
}
DEFAULT_RADII: dict[str, float] = {
    "2G": 5000.0,
    "3G": 3000.0,
    "4G": 3000.0,
    "5G": 600.0,
    "fiber": 1000.0,
}
DEFAULT_BEAMWIDTH = 120.0

COLUMNS: tuple[str, ...] = (
    "level",
    "area_id",
    "area_name",
    "parent",
    "technology",
    "area_km2",
    "covered_km2",
    "area_pct",
    "population",
    "covered_population",
    "population_pct",
    "residential_km2",
    "covered_residential_km2",
    "residential_pct",
    "residential_population",
    "covered_residential_population",
    "sites",
)
PCT_COLUMNS: dict[str, tuple[str, str]] = {
    "area_pct": ("covered_km2", "area_km2"),
    "population_pct": ("covered_population", "population"),
    "residential_pct": ("covered_residential_km2", "residential_km2"),
}
"""Percentage column -> (numerator, denominator)."""

TECH_ALIASES: dict[str, str] = {
    "2g": "2G",
    "gsm": "2G",
    "3g": "3G",
    "umts": "3G",
    "wcdma": "3G",
    "4g": "4G",
    "lte": "4G",
    "5g": "5G",
    "nr": "5G",
    "fiber": "fiber",
    "fibre": "fiber",
    "ftth": "fiber",
}


# --------------------------------------------------------------------------- footprints


def geodesic_disc(lon: float, lat: float, radius_m: float, *, n_vertices: int = 1024) -> Polygon:
    """Polygon of the points within ``radius_m`` geodesic metres of (lon, lat).

    The vertices lie exactly on the geodesic circle (``Geod.fwd``); the inscribed polygon's
    area deficit is about ``(2π/n)²/6`` (4e-6 relative at 1024 vertices).
    """
    if n_vertices < 256:
        raise ValueError("a reference disc needs at least 256 vertices")
    az = np.linspace(0.0, 360.0, n_vertices, endpoint=False)
    lons, lats, _ = GEOD.fwd(
        np.full(n_vertices, lon), np.full(n_vertices, lat), az, np.full(n_vertices, radius_m)
    )
    # azimuths run clockwise: reverse to get a counter-clockwise exterior ring
    return Polygon(np.column_stack([lons[::-1], lats[::-1]]))


def geodesic_sector(
    lon: float,
    lat: float,
    radius_m: float,
    azimuth: float,
    beamwidth: float,
    *,
    per_degree: int = 4,
) -> Polygon:
    """Polygon of the points within ``radius_m`` of (lon, lat) and within the azimuth range.

    The range is ``azimuth ± beamwidth/2`` degrees clockwise from true north; a beamwidth of
    360° or more is a full disc.
    """
    if per_degree < 1:
        raise ValueError("a reference sector needs at least one vertex per degree")
    if beamwidth >= 360.0:
        return geodesic_disc(lon, lat, radius_m)
    n = max(2, math.ceil(beamwidth * per_degree) + 1)
    az = np.linspace(azimuth - beamwidth / 2.0, azimuth + beamwidth / 2.0, n)
    lons, lats, _ = GEOD.fwd(np.full(n, lon), np.full(n, lat), az, np.full(n, radius_m))
    ring = np.vstack([[lon, lat], np.column_stack([lons, lats])])
    poly = Polygon(ring)
    return shapely.geometry.polygon.orient(poly, 1.0)


def footprint(
    lon: float, lat: float, radius_m: float, azimuth: float | None, beamwidth: float | None
) -> Polygon:
    """Disc, or sector when ``azimuth`` is set (beamwidth defaults to 120°)."""
    if azimuth is None or not math.isfinite(azimuth):
        return geodesic_disc(lon, lat, radius_m)
    width = DEFAULT_BEAMWIDTH if beamwidth is None or not math.isfinite(beamwidth) else beamwidth
    return geodesic_sector(lon, lat, radius_m, azimuth, width)


# --------------------------------------------------------------------------- areas


def polygonal(geom: BaseGeometry | None) -> BaseGeometry:
    """The polygonal part of ``geom`` (drops points and lines left by intersections)."""
    if geom is None or geom.is_empty:
        return Polygon()
    if isinstance(geom, (Polygon, MultiPolygon)):
        return geom
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, (Polygon, MultiPolygon))]
    if not parts:
        return Polygon()
    return shapely.union_all(parts)


def ellipsoidal_area_km2(geom: BaseGeometry | None) -> float:
    """Area (km²) on the WGS84 ellipsoid of a lon/lat (multi)polygon: shells minus holes."""
    total = 0.0
    for poly in shapely.get_parts(polygonal(geom)):
        if poly.is_empty:
            continue
        lon, lat = poly.exterior.xy
        total += abs(GEOD.polygon_area_perimeter(lon, lat)[0])
        for hole in poly.interiors:
            hlon, hlat = hole.xy
            total -= abs(GEOD.polygon_area_perimeter(hlon, hlat)[0])
    return total / 1e6


# --------------------------------------------------------------------------- population


def _band_area_m2(lat_north: float, lat_south: float, width_deg: float) -> float:
    """Ellipsoidal area of a lon/lat cell, by integrating along its edges with Geod.

    The north and south edges are parallels, not geodesics, so they are densified (the
    residual error is far below a millionth of a 1 km cell).
    """
    n = 64
    west, east = 0.0, width_deg
    top = np.column_stack([np.linspace(east, west, n), np.full(n, lat_north)])
    bottom = np.column_stack([np.linspace(west, east, n), np.full(n, lat_south)])
    ring = np.vstack([bottom, top])
    return abs(GEOD.polygon_area_perimeter(ring[:, 0], ring[:, 1])[0])


@dataclass(frozen=True)
class PopulationGrids:
    """A population raster and the derived grids the reference sums with exactextract."""

    people: NDArray[np.float64]
    """People per pixel, nodata and non-finite set to 0."""
    residential_km2: NDArray[np.float64]
    """True pixel area (km²) where the pixel is residential, else 0."""
    residential_people: NDArray[np.float64]
    """People where the pixel is residential, else 0."""
    pixel_km2: NDArray[np.float64]
    """True area (km²) of each pixel (rows × columns)."""
    extent: tuple[float, float, float, float]
    """(xmin, ymin, xmax, ymax) in the raster's CRS."""
    crs: CRS = WGS84
    """The raster's CRS: EPSG:4326 or a projected CRS measured on its own grid."""


def load_population(path: str | Path, *, residential_density: float) -> PopulationGrids:
    """Read a north-up population GeoTIFF (EPSG:4326 or projected) and derive the residential grids."""
    with rasterio.open(path) as ds:
        if ds.crs is None:
            raise ValueError(f"{path}: the reference needs a raster with a CRS")
        crs = CRS.from_user_input(ds.crs.to_wkt())
        t = ds.transform
        if t.b != 0 or t.d != 0 or t.e >= 0:
            raise ValueError(f"{path}: the reference handles north-up rasters only")
        band = ds.read(1, masked=True).astype(np.float64)
        bounds = ds.bounds
        height, width, dx, dy = ds.height, ds.width, t.a, -t.e
    people = np.where(np.ma.getmaskarray(band), 0.0, np.ma.getdata(band))
    people = np.where(np.isfinite(people), people, 0.0)
    if crs.to_epsg() == 4326:
        crs = WGS84
        lat_edges = bounds.top - dy * np.arange(height + 1)
        per_row = np.array([_band_area_m2(lat_edges[i], lat_edges[i + 1], dx) / 1e6 for i in range(height)])
        pixel_km2 = np.repeat(per_row[:, None], width, axis=1)
    else:
        pixel_km2 = _projected_pixel_km2(crs, bounds.left, bounds.top, dx, dy, height, width)
    density = people / pixel_km2
    residential = (density >= residential_density) & (people > 0)
    return PopulationGrids(
        people=people,
        residential_km2=np.where(residential, pixel_km2, 0.0),
        residential_people=np.where(residential, people, 0.0),
        pixel_km2=pixel_km2,
        extent=(bounds.left, bounds.bottom, bounds.right, bounds.top),
        crs=crs,
    )


EQUAL_AREA = CRS.from_epsg(6933)
"""WGS 84 / NSIDC EASE-Grid 2.0 Global: cylindrical equal-area on the ellipsoid."""


def _projected_pixel_km2(
    crs: CRS, west: float, north: float, dx: float, dy: float, height: int, width: int, k: int = 8
) -> NDArray[np.float64]:
    """True area (km²) of each pixel of a projected grid.

    Each pixel's outline (straight in its CRS, ``k`` points per side) is mapped to the
    ellipsoidal cylindrical equal-area projection EPSG:6933, where the shoelace area is the
    ellipsoidal area.
    """
    to_ea = Transformer.from_crs(crs, EQUAL_AREA, always_xy=True)
    t = np.arange(k) / k
    # pixel outline (unit square, counter-clockwise from the south-west corner), 4k points
    ux = np.concatenate([t, np.ones(k), 1.0 - t, np.zeros(k)])
    uy = np.concatenate([np.zeros(k), t, np.ones(k), 1.0 - t])
    out = np.empty((height, width))
    cols = np.arange(width, dtype=np.float64)
    for r in range(height):
        x = west + (cols[:, None] + ux[None, :]) * dx
        y = north - (r + 1 - uy[None, :]) * dy + 0.0 * x
        ex, ey = to_ea.transform(x, y)
        ex, ey = np.asarray(ex), np.asarray(ey)
        out[r] = (
            0.5 * np.abs(np.sum(ex * np.roll(ey, -1, axis=1) - np.roll(ex, -1, axis=1) * ey, axis=1)) / 1e6
        )
    return out


GRID_DENSIFY_DEG = 0.0005
"""Longest lon/lat edge before a geometry is projected onto a raster's grid (about 50 m)."""


def _to_raster_crs(geoms: Sequence[BaseGeometry], crs: CRS) -> list[BaseGeometry]:
    """Geometries in the raster's CRS, lon/lat edges densified first (their images are curved)."""
    if crs == WGS84:
        return list(geoms)
    to_grid = Transformer.from_crs(WGS84, crs, always_xy=True)

    def project(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = to_grid.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    dense = shapely.segmentize(np.asarray(list(geoms), dtype=object), GRID_DENSIFY_DEG)
    out = shapely.make_valid(shapely.transform(dense, project))
    return [polygonal(g) for g in out]


def raster_sums(grids: PopulationGrids, geoms: Sequence[BaseGeometry]) -> NDArray[np.float64]:
    """Fraction-weighted sums (exactextract) of people, residential km², residential people.

    Returns an array of shape (len(geoms), 3); empty geometries and geometries outside the
    raster give zeros.
    """
    out = np.zeros((len(geoms), 3), dtype=np.float64)
    geoms = _to_raster_crs(geoms, grids.crs)
    xmin, ymin, xmax, ymax = grids.extent
    frame = shapely.box(xmin, ymin, xmax, ymax)
    keep = [i for i, g in enumerate(geoms) if not g.is_empty and g.intersects(frame)]
    if not keep:
        return out
    gdf = gpd.GeoDataFrame(
        {"k": np.arange(len(keep))},
        geometry=[shapely.intersection(geoms[i], frame) for i in keep],
        crs=grids.crs,
    )
    gdf = gdf[~gdf.geometry.is_empty]
    rasters = [
        exactextract.raster.NumPyRasterSource(
            grid, xmin, ymin, xmax, ymax, name=name, srs_wkt=grids.crs.to_wkt()
        )
        for name, grid in (
            ("people", grids.people),
            ("res_km2", grids.residential_km2),
            ("res_people", grids.residential_people),
        )
    ]
    df = exactextract.exact_extract(rasters, gdf, "sum", include_cols=["k"], output="pandas")
    rows = np.asarray(keep)[df["k"].to_numpy()]
    out[rows, 0] = df["people_sum"].to_numpy()
    out[rows, 1] = df["res_km2_sum"].to_numpy()
    out[rows, 2] = df["res_people_sum"].to_numpy()
    return out


# --------------------------------------------------------------------------- inputs


def read_sites(
    sites: str | Path | pd.DataFrame,
    *,
    include_planned: bool = False,
    radius: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Counted sites as a DataFrame: site_id, technology, lon, lat, radius_m, azimuth, beamwidth."""
    df = pd.read_csv(sites, dtype=str) if isinstance(sites, (str, Path)) else sites.copy()
    radii = {**DEFAULT_RADII, **(radius or {})}

    def col(name: str) -> pd.Series:
        if name not in df:
            return pd.Series([None] * len(df), index=df.index, dtype=object)
        return df[name]

    status = col("status").fillna("").astype(str).str.strip().str.lower()
    counted = status.isin(["", "existing"]) | (include_planned & (status == "planned"))
    tech = col("technology").astype(str).str.strip().str.lower().map(TECH_ALIASES)
    out = pd.DataFrame(
        {
            "site_id": col("site_id").astype(str).str.strip(),
            "technology": tech,
            "lon": pd.to_numeric(col("lon")),
            "lat": pd.to_numeric(col("lat")),
            "radius_m": pd.to_numeric(col("radius_m")),
            "azimuth": pd.to_numeric(col("azimuth")),
            "beamwidth": pd.to_numeric(col("beamwidth")),
        }
    )
    out = out[counted & out["technology"].notna()].copy()
    out["radius_m"] = out["radius_m"].fillna(out["technology"].map(radii))
    return out.reset_index(drop=True)


def read_areas(
    areas: str | Path | gpd.GeoDataFrame,
    *,
    area_id: str,
    area_name: str | None = None,
    parent: str | None = None,
) -> gpd.GeoDataFrame:
    """Areas in EPSG:4326 with columns area_id, area_name, parent, geometry (valid)."""
    gdf = gpd.read_file(areas) if isinstance(areas, (str, Path)) else areas.copy()
    gdf = gdf.to_crs(WGS84)
    geoms = [polygonal(g if g.is_valid else shapely.make_valid(g)) for g in gdf.geometry.to_numpy()]
    return gpd.GeoDataFrame(
        {
            "area_id": gdf[area_id].astype(str).to_numpy(),
            "area_name": gdf[area_name].astype(str).to_numpy() if area_name else None,
            "parent": gdf[parent].astype(str).to_numpy() if parent else None,
        },
        geometry=geoms,
        crs=WGS84,
    )


# --------------------------------------------------------------------------- the table


def coverage_layers(sites: pd.DataFrame, *, combined: bool = False) -> dict[str, BaseGeometry]:
    """Union of the footprints of each technology (and combined layers when asked)."""
    polys: dict[str, list[Polygon]] = {t: [] for t in TECHNOLOGIES}
    columns = zip(
        sites["technology"].astype(str).to_numpy(),
        sites["lon"].to_numpy(dtype=np.float64),
        sites["lat"].to_numpy(dtype=np.float64),
        sites["radius_m"].to_numpy(dtype=np.float64),
        sites["azimuth"].to_numpy(dtype=np.float64),
        sites["beamwidth"].to_numpy(dtype=np.float64),
        strict=True,
    )
    for tech, lon, lat, radius, azimuth, beamwidth in columns:
        polys[tech].append(footprint(lon, lat, radius, azimuth, beamwidth))
    layers: dict[str, BaseGeometry] = {t: shapely.union_all(p) if p else Polygon() for t, p in polys.items()}
    if combined:
        for name, members in COMBINED.items():
            layers[name] = shapely.union_all([layers[m] for m in members])
    return layers


def site_points(sites: pd.DataFrame, *, combined: bool = False) -> dict[str, list[tuple[str, Point]]]:
    """(site_id, point) of the counted sites of each technology (and combined layer when asked)."""
    points: dict[str, list[tuple[str, Point]]] = {t: [] for t in TECHNOLOGIES}
    for sid, tech, lon, lat in sites[["site_id", "technology", "lon", "lat"]].itertuples(index=False):
        points[tech].append((sid, Point(lon, lat)))
    if combined:
        for name, members in COMBINED.items():
            points[name] = [p for m in members for p in points[m]]
    return points


def distinct_sites(points: Sequence[tuple[str, Point]], geom: BaseGeometry) -> int:
    """Distinct site ids whose point lies in or on ``geom``."""
    return len({sid for sid, pt in points if geom.intersects(pt)})


def _pct(num: float, den: float) -> float:
    return 100.0 * num / den if den > 0 else math.nan


def _rows(
    level: str,
    ids: Iterable[tuple[str, str | None, str | None]],
    geoms: Sequence[BaseGeometry],
    layers: Mapping[str, BaseGeometry],
    grids: PopulationGrids,
    points: Mapping[str, Sequence[tuple[str, Point]]],
) -> list[dict[str, object]]:
    keys = list(ids)
    base = raster_sums(grids, geoms)
    area_km2 = [ellipsoidal_area_km2(g) for g in geoms]
    rows: list[dict[str, object]] = []
    for tech, layer in layers.items():
        cut = [polygonal(shapely.intersection(g, layer)) for g in geoms]
        cov = raster_sums(grids, cut)
        for i, (aid, name, par) in enumerate(keys):
            covered_km2 = ellipsoidal_area_km2(cut[i])
            rows.append(
                {
                    "level": level,
                    "area_id": aid,
                    "area_name": name,
                    "parent": par,
                    "technology": tech,
                    "area_km2": area_km2[i],
                    "covered_km2": covered_km2,
                    "area_pct": _pct(covered_km2, area_km2[i]),
                    "population": base[i, 0],
                    "covered_population": cov[i, 0],
                    "population_pct": _pct(cov[i, 0], base[i, 0]),
                    "residential_km2": base[i, 1],
                    "covered_residential_km2": cov[i, 1],
                    "residential_pct": _pct(cov[i, 1], base[i, 1]),
                    "residential_population": base[i, 2],
                    "covered_residential_population": cov[i, 2],
                    "sites": distinct_sites(points[tech], geoms[i]),
                }
            )
    return rows


def reference_table(
    sites: str | Path | pd.DataFrame,
    areas: str | Path | gpd.GeoDataFrame,
    population: str | Path,
    *,
    area_id: str,
    area_name: str | None = None,
    parent: str | None = None,
    radius: Mapping[str, float] | None = None,
    include_planned: bool = False,
    residential_density: float = 100.0,
    combined: bool = False,
) -> pd.DataFrame:
    """The coverage table (levels area, parent when asked, and total) computed exactly.

    Areas are measured independently (overlaps count in each); parent and total rows are
    measured on the union of their areas.
    """
    site_df = read_sites(sites, include_planned=include_planned, radius=radius)
    area_df = read_areas(areas, area_id=area_id, area_name=area_name, parent=parent)
    grids = load_population(population, residential_density=residential_density)
    layers = coverage_layers(site_df, combined=combined)
    points = site_points(site_df, combined=combined)

    geoms = list(area_df.geometry.to_numpy())
    rows = _rows(
        "area",
        zip(area_df["area_id"], area_df["area_name"], area_df["parent"], strict=True),
        geoms,
        layers,
        grids,
        points,
    )
    if parent:
        groups = area_df.groupby("parent", sort=True)
        pids = list(groups.groups)
        pgeoms = [shapely.union_all(groups.get_group(p).geometry.to_numpy()) for p in pids]
        rows += _rows("parent", [(p, p, None) for p in pids], pgeoms, layers, grids, points)
    rows += _rows("total", [("ALL", None, None)], [shapely.union_all(geoms)], layers, grids, points)

    table = pd.DataFrame(rows, columns=list(COLUMNS))
    order = {t: i for i, t in enumerate(layers)}
    table["_t"] = table["technology"].map(order)
    table = table.sort_values(["level", "area_id", "_t"], kind="stable").drop(columns="_t")
    return table.reset_index(drop=True)
