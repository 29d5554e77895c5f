"""Footprints: geodesic discs and sectors from sites, grouped into layers."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from .engine.partition import Footprints
from .geodesy import GEOD, LONLAT
from .vocabulary import BASE_TECHNOLOGIES, COMBINED_LAYERS


@dataclass(frozen=True)
class Layer:
    """One coverage layer: a technology (or combined layer) for one operator (or ``all``)."""

    technology: str
    operator: str
    members: NDArray[np.int64]


def footprints_of(sites: gpd.GeoDataFrame) -> Footprints:
    """Engine footprints of the given sites (every row, counted or not).

    A site's ``azimuth`` is the antenna's boresight: its sector spans ``azimuth ± beamwidth/2``
    (the engine takes the clockwise start angle and the width).
    """
    sector = sites["azimuth"].notna().to_numpy()
    beam = sites["beamwidth"].to_numpy(dtype=np.float64)
    start = np.mod(sites["azimuth"].to_numpy(dtype=np.float64) - beam / 2.0, 360.0)
    return Footprints(
        lon=sites.geometry.x.to_numpy(dtype=np.float64),
        lat=sites.geometry.y.to_numpy(dtype=np.float64),
        radius=sites["radius_m"].to_numpy(dtype=np.float64),
        azimuth=np.where(sector, start, 0.0),
        width=np.where(sector, beam, 360.0),
    )


def build_layers(
    sites: gpd.GeoDataFrame, *, combined: bool = False, by_operator: bool = False
) -> list[Layer]:
    """Layers over the counted sites: every base technology, optionally combined and per operator.

    Parameters
    ----------
    sites
        Accepted sites with ``technology``, ``operator`` and ``counted`` columns.
    combined
        Add ``any_mobile`` and ``4G+``.
    by_operator
        Add one layer per operator for each technology.

    """
    counted = sites["counted"].to_numpy(dtype=bool)
    tech = sites["technology"].to_numpy()
    oper = sites["operator"].to_numpy()
    names: list[tuple[str, tuple[str, ...]]] = [(t, (t,)) for t in BASE_TECHNOLOGIES]
    if combined:
        names += list(COMBINED_LAYERS.items())
    operators = ["all"] + (sorted(set(oper[counted].tolist())) if by_operator else [])
    layers = []
    for name, members in names:
        in_tech = counted & np.isin(tech, members)
        for op in operators:
            mask = in_tech if op == "all" else in_tech & (oper == op)
            layers.append(Layer(name, op, np.flatnonzero(mask).astype(np.int64)))
    return layers


def footprint_polygons(sites: gpd.GeoDataFrame, *, vertices: int = 128) -> gpd.GeoDataFrame:
    """Footprint polygons (geodesic circle or sector) of every site, for maps and exports.

    Parameters
    ----------
    sites
        Accepted sites (lon/lat points with ``radius_m``, ``azimuth``, ``beamwidth``).
    vertices
        Vertices of a full circle; sectors get at least one vertex per degree.

    """
    polys = []
    lons = sites.geometry.x.to_numpy()
    lats = sites.geometry.y.to_numpy()
    for lon, lat, r, az, bw in zip(
        lons, lats, sites["radius_m"], sites["azimuth"], sites["beamwidth"], strict=True
    ):
        if np.isnan(az):
            angles = np.linspace(0.0, 360.0, vertices, endpoint=False)
            x, y, _ = GEOD.fwd(np.full(vertices, lon), np.full(vertices, lat), angles,
                               np.full(vertices, r))  # fmt: skip
            ring = np.column_stack([x, y])[::-1]  # counter-clockwise
        else:
            n = max(int(np.ceil(bw)) + 1, 3)
            angles = np.linspace(az - bw / 2.0, az + bw / 2.0, n)
            x, y, _ = GEOD.fwd(np.full(n, lon), np.full(n, lat), angles, np.full(n, r))
            ring = np.vstack([[lon, lat], np.column_stack([x, y])[::-1]])
        polys.append(shapely.Polygon(ring))
    frame = sites.drop(columns="geometry").copy()
    return gpd.GeoDataFrame(frame, geometry=polys, crs=LONLAT)
