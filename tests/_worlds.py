"""Small hand-made worlds written to disk as real files (GeoTIFF, GeoPackage, CSV) for tests."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from affine import Affine
from numpy.typing import NDArray
from pyproj import Geod
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

GEOD = Geod(ellps="WGS84")
PIXEL_DEG = 1.0 / 120.0
"""About 1 km: the WorldPop 30 arc-second grid."""
NODATA = -99999.0
SITE_COLUMNS = (
    "site_id",
    "operator",
    "technology",
    "lon",
    "lat",
    "radius_m",
    "azimuth",
    "beamwidth",
    "status",
)


@dataclass(frozen=True)
class Grid:
    """A north-up lon/lat raster grid."""

    west: float
    north: float
    ncols: int
    nrows: int
    res: float = PIXEL_DEG

    @property
    def east(self) -> float:
        return self.west + self.ncols * self.res

    @property
    def south(self) -> float:
        return self.north - self.nrows * self.res

    def lon(self, col: float) -> float:
        """Longitude of a (fractional) column edge."""
        return self.west + col * self.res

    def lat(self, row: float) -> float:
        """Latitude of a (fractional) row edge."""
        return self.north - row * self.res

    def pixel_km2(self) -> NDArray[np.float64]:
        """True ellipsoidal area (km²) of a pixel in each row (densified parallels)."""
        out = np.empty(self.nrows)
        n = 32
        for r in range(self.nrows):
            top, bottom = self.lat(r), self.lat(r + 1)
            lons = np.concatenate([np.linspace(0, self.res, n), np.linspace(self.res, 0, n)])
            lats = np.concatenate([np.full(n, bottom), np.full(n, top)])
            out[r] = abs(GEOD.polygon_area_perimeter(lons, lats)[0]) / 1e6
        return out

    def uniform(self, density: float) -> NDArray[np.float64]:
        """People per pixel for a uniform density (people/km²)."""
        return np.repeat((density * self.pixel_km2())[:, None], self.ncols, axis=1)


def write_raster(path: Path, grid: Grid, values: NDArray[np.floating], *, nodata: float = NODATA) -> Path:
    """Write people per pixel as a float32 EPSG:4326 GeoTIFF; NaN cells become nodata."""
    data = np.where(np.isnan(values), nodata, values).astype(np.float32)
    assert data.shape == (grid.nrows, grid.ncols)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=grid.ncols,
        height=grid.nrows,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=Affine(grid.res, 0.0, grid.west, 0.0, -grid.res, grid.north),
        nodata=nodata,
    ) as dst:
        dst.write(data, 1)
    return path


def write_areas(
    path: Path,
    areas: Sequence[tuple[str, str, BaseGeometry]],
    *,
    parents: Sequence[str] | None = None,
) -> Path:
    """Write areas (id, name, geometry) as a GeoPackage layer with fields ``id``, ``name``."""
    data: dict[str, list[str]] = {"id": [a[0] for a in areas], "name": [a[1] for a in areas]}
    if parents is not None:
        data["province"] = list(parents)
    gdf = gpd.GeoDataFrame(data, geometry=[a[2] for a in areas], crs="EPSG:4326")
    gdf.to_file(path, driver="GPKG", engine="pyogrio")
    return path


def write_sites(path: Path, sites: Iterable[Mapping[str, object]]) -> Path:
    """Write a sites CSV with the standard columns (missing values left empty)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(SITE_COLUMNS))
        writer.writeheader()
        for i, site in enumerate(sites):
            row: dict[str, object] = {"site_id": f"S{i:05d}", "operator": "op", "status": "existing"}
            row.update({k: v for k, v in site.items() if v is not None})
            writer.writerow({k: row.get(k, "") for k in SITE_COLUMNS})
    return path


def site(
    technology: str,
    lon: float,
    lat: float,
    radius_m: float | None = None,
    azimuth: float | None = None,
    beamwidth: float | None = None,
    **extra: object,
) -> dict[str, object]:
    """One site row."""
    return {
        "technology": technology,
        "lon": repr(float(lon)),
        "lat": repr(float(lat)),
        "radius_m": radius_m,
        "azimuth": azimuth,
        "beamwidth": beamwidth,
        **extra,
    }


def box_km(
    lon: float, lat: float, west_km: float, south_km: float, east_km: float, north_km: float
) -> Polygon:
    """A lon/lat rectangle given by ground offsets (km) from (lon, lat) along axes."""
    lon_w = GEOD.fwd(lon, lat, 270.0, west_km * 1000.0)[0] if west_km > 0 else lon
    lon_e = GEOD.fwd(lon, lat, 90.0, east_km * 1000.0)[0] if east_km > 0 else lon
    lat_s = GEOD.fwd(lon, lat, 180.0, south_km * 1000.0)[1] if south_km > 0 else lat
    lat_n = GEOD.fwd(lon, lat, 0.0, north_km * 1000.0)[1] if north_km > 0 else lat
    return Polygon([(lon_w, lat_s), (lon_e, lat_s), (lon_e, lat_n), (lon_w, lat_n)])


@dataclass(frozen=True)
class World:
    """Paths of one world's files and the options to analyze it."""

    sites: Path
    areas: Path
    population: Path
    area_id: str = "id"
    area_name: str = "name"
    parent: str | None = None


def write_world(
    directory: Path,
    *,
    grid: Grid,
    values: NDArray[np.floating],
    areas: Sequence[tuple[str, str, BaseGeometry]],
    sites: Iterable[Mapping[str, object]],
    parents: Sequence[str] | None = None,
) -> World:
    """Write a complete world (raster, areas, sites) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    return World(
        sites=write_sites(directory / "sites.csv", sites),
        areas=write_areas(directory / "areas.gpkg", areas, parents=parents),
        population=write_raster(directory / "population.tif", grid, values),
        parent="province" if parents is not None else None,
    )
