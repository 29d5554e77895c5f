"""Footprints: geodesic discs, sectors and polygons from sites, grouped into layers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from numpy.typing import NDArray

from .engine.outlines import disc_rings, ring_polygons, sector_rings
from .engine.partition import Footprints
from .geodesy import LONLAT
from .vocabulary import BASE_TECHNOLOGIES, COMBINED_LAYERS


@dataclass(frozen=True)
class Layer:
    """One coverage layer: a technology (or combined layer) for one operator (or ``all``)."""

    technology: str
    operator: str
    members: NDArray[np.int64]


def footprints_of(
    sites: gpd.GeoDataFrame, *, polygons: Sequence[object] | None = None, scale: float = 1.0
) -> Footprints:
    """Engine footprints of the given sites (every row, counted or not).

    A site's ``azimuth`` is the antenna's boresight: its sector spans ``azimuth ± beamwidth/2``
    of true geodesic azimuth (the engine takes the clockwise start angle and the width).

    Parameters
    ----------
    sites
        Accepted sites (lon/lat points with ``radius_m``, ``azimuth``, ``beamwidth``).
    polygons
        Optional footprint polygon per site row (lon/lat (Multi)Polygon, holes allowed, or
        None): where given, it is the site's footprint instead of its disc or sector.
    scale
        Multiplies every radius (the polygons are taken as given: shape them with the same
        scale, :func:`telecov.radio.shapes.footprint_shapes`).

    Raises
    ------
    ValueError
        ``polygons`` does not have one entry per site.

    """
    sector = sites["azimuth"].notna().to_numpy()
    beam = sites["beamwidth"].to_numpy(dtype=np.float64)
    start = np.mod(sites["azimuth"].to_numpy(dtype=np.float64) - beam / 2.0, 360.0)
    shapes = None
    if polygons is not None:
        given = list(polygons)
        if len(given) != len(sites):
            raise ValueError(f"footprints_of: {len(given)} polygons for {len(sites)} sites")
        shapes = np.empty(len(sites), dtype=object)
        shapes[:] = given
    return Footprints(
        lon=sites.geometry.x.to_numpy(dtype=np.float64),
        lat=sites.geometry.y.to_numpy(dtype=np.float64),
        radius=sites["radius_m"].to_numpy(dtype=np.float64) * scale,
        azimuth=np.where(sector, start, 0.0),
        width=np.where(sector, beam, 360.0),
        polygons=shapes,
    )


def stacked(
    parts: Sequence[Footprints], layers: Sequence[NDArray[np.int64]]
) -> tuple[Footprints, list[NDArray[np.int64]]]:
    """Footprints of several versions of the same sites one after the other, and their layers.

    Version ``v`` of footprint ``i`` is footprint ``v * n + i`` of the result (``n`` sites);
    the layers are ``layers`` over version 0, then over version 1, ... (``len(parts) *
    len(layers)`` layers), so one measuring run gives every version's sums.
    """
    n = len(parts[0])
    if any(len(p) != n for p in parts):
        raise ValueError("stacked: every version must have one footprint per site")
    fields = {
        f: np.concatenate([getattr(p, f) for p in parts])
        for f in ("lon", "lat", "radius", "azimuth", "width")
    }
    polygons = None
    if any(p.polygons is not None for p in parts):
        polygons = np.full(n * len(parts), None, dtype=object)
        for v, p in enumerate(parts):
            if p.polygons is not None:
                polygons[v * n : (v + 1) * n] = p.polygons
    out = [np.asarray(m, dtype=np.int64) + v * n for v in range(len(parts)) for m in layers]
    return Footprints(**fields, polygons=polygons), out


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


def footprint_polygons(
    sites: gpd.GeoDataFrame, *, polygons: Sequence[object] | None = None, vertices: int | None = None
) -> gpd.GeoDataFrame:
    """Footprint polygons of every site, the outlines the engine measures, for maps and exports.

    A disc is its area-corrected geodesic polygon (:mod:`telecov.engine.outlines`; the
    engine measures the disc itself, whose area the polygon has), a sector the very polygon the
    engine measures (geodesic side rays), a given polygon itself.

    Parameters
    ----------
    sites
        Accepted sites (lon/lat points with ``radius_m``, ``azimuth``, ``beamwidth``).
    polygons
        Footprint polygons given per site (see :func:`footprints_of`).
    vertices
        Vertices of every disc's outline, for a quicker coarse outline (still area-corrected);
        None: the engine's own outline, within 0.25 m of the circle.

    """
    fps = footprints_of(sites, polygons=polygons)
    shapes = np.empty(len(fps), dtype=object)
    given = fps.polygon_mask()
    if given.any() and fps.polygons is not None:
        shapes[given] = fps.polygons[given]
    sector = np.flatnonzero(fps.sector_mask())
    shapes[sector] = ring_polygons(
        sector_rings(
            fps.lon[sector],
            fps.lat[sector],
            fps.radius[sector],
            fps.azimuth[sector],
            fps.width[sector],
            sector,
        )
    )
    disc = np.flatnonzero(~given & ~fps.sector_mask())
    shapes[disc] = ring_polygons(
        disc_rings(fps.lon[disc], fps.lat[disc], fps.radius[disc], disc, vertices=vertices)
    )
    frame = sites.drop(columns="geometry").copy()
    return gpd.GeoDataFrame(frame, geometry=list(shapes), crs=LONLAT)
