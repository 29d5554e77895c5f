"""Checks of the inputs against each other, before anything is measured.

Sites that reach no area give 0 % everywhere, which looks like an answer: another country's
sites, x/y given the wrong way round, lon/lat columns read with a projected `sites_crs`. A site
*reaches* an area when its footprint (disc or sector) intersects the area. No site reaching
any area is an error; without `select`, fewer than :data:`FEW_REACHING` of the sites reaching
one is a warning. With `select` a national sites file reaches a selected province only in part,
as it should, and a selected commune may have no site near it at all: then the run stops only
when no site reaches even the bounds of the whole areas layer.

The check stops as soon as its answer is known: sites are taken in a fixed shuffled order and
counted until :data:`FEW_REACHING` of them (one with `select`) are found to reach an area. A
site inside an area reaches it, which is cheap to test and true of most sites, so a normal run
looks at little more than a tenth of its sites' positions; only when those do not suffice are
the sites outside every area looked at again: such a site reaches an area when its footprint
polygon (:data:`FOOTPRINT_VERTICES` vertices) intersects an area near it.
"""

from __future__ import annotations

import logging
import math
import warnings

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from .errors import InputError, TelecovWarning
from .footprints import footprint_polygons
from .io.areas import AreaTable
from .io.sites import SiteTable

log = logging.getLogger(__name__)

FEW_REACHING = 0.10
"""Share of sites reaching an area below which (without `select`) a warning is given."""
CHUNK = 4096
"""Sites checked at a time (at least; the first look takes as many as are still needed, and 10 % more)."""
FOOTPRINT_VERTICES = 256
"""Vertices of the footprint polygons of sites near (not inside) an area."""
_M_PER_DEG_LAT = 110_000.0  # less than the shortest degree of latitude (110.57 km at the equator)


def check_sites_reach(sites: SiteTable, areas: AreaTable, *, selected: bool) -> None:
    """Refuse sites that reach no area; warn when few do (without ``selected``).

    Parameters
    ----------
    sites, areas
        The accepted sites and areas, in lon/lat.
    selected
        Whether the areas were selected out of a larger file (`select`).

    Raises
    ------
    InputError
        No site's footprint reaches any area (with ``selected``: nor the bounds of the whole
        areas layer); the message gives both extents and the likely causes.

    Warns
    -----
    TelecovWarning
        Without ``selected``, fewer than :data:`FEW_REACHING` of the sites reach an area (the
        count is given).

    """
    accepted = sites.accepted
    n = len(accepted)
    if n == 0:
        return
    need = 1 if selected else math.ceil(FEW_REACHING * n)
    geoms = areas.accepted.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    order = np.random.default_rng(0).permutation(n)
    points = accepted.geometry.to_numpy()
    reached, outside, start = 0, [], 0
    while start < n:  # first the sites inside an area: cheap, and most of them
        rows = order[start : start + max(CHUNK, math.ceil(1.1 * (need - reached)))]
        start += rows.size
        inside = np.zeros(rows.size, dtype=bool)
        inside[tree.query(points[rows], predicate="intersects")[0]] = True
        reached += int(inside.sum())
        if reached >= need:
            return
        outside.append(rows[~inside])
    rest = np.concatenate(outside)
    for start in range(0, rest.size, CHUNK):  # then the footprints of the others, near an area
        reached += int(_reaching_from_outside(accepted.iloc[rest[start : start + CHUNK]], tree, geoms).sum())
        if reached >= need:
            return
    if reached == 0 and not (selected and _near_layer(accepted, areas.layer_bounds)):
        raise InputError(_nowhere(sites, areas))
    if selected:
        log.info("%s: no site reaches the selected areas of %s", sites.name, areas.name)
        return
    warnings.warn(
        f"{sites.name}: only {reached} of {n} sites ({100 * reached / n:.1f} %) reach an area of "
        f"{areas.name}; the others cover nothing here. That is expected of a sites file of a larger region "
        "(with `select` it is not warned about); otherwise check `sites_crs` and the coordinate columns",
        TelecovWarning,
        stacklevel=4,
    )


def _reaching_from_outside(
    sites: gpd.GeoDataFrame, tree: shapely.STRtree, geoms: NDArray[np.object_]
) -> NDArray[np.bool_]:
    """Where the footprint of a site outside every area intersects an area."""
    reach = np.zeros(len(sites), dtype=bool)
    box_index, area_index = tree.query(_bounding_boxes(sites), predicate="intersects")
    candidates = np.unique(box_index)
    if candidates.size == 0:
        return reach
    polygons = footprint_polygons(sites.iloc[candidates], vertices=FOOTPRINT_VERTICES)
    position = np.full(len(sites), -1, dtype=np.int64)
    position[candidates] = np.arange(candidates.size)
    hits = shapely.intersects(polygons.geometry.to_numpy()[position[box_index]], geoms[area_index])
    reach[box_index[hits]] = True
    return reach


def _near_layer(sites: gpd.GeoDataFrame, bounds: tuple[float, float, float, float] | None) -> bool:
    """Whether a site's footprint may reach the bounds of the whole areas layer."""
    if bounds is None:
        return False
    return bool(shapely.intersects(_bounding_boxes(sites), shapely.box(*bounds)).any())


def _bounding_boxes(sites: gpd.GeoDataFrame) -> NDArray[np.object_]:
    """Lon/lat boxes holding each site's whole footprint (a little larger, never smaller)."""
    lon = sites.geometry.x.to_numpy()
    lat = sites.geometry.y.to_numpy()
    dlat = sites["radius_m"].to_numpy(dtype=np.float64) / _M_PER_DEG_LAT
    far = np.minimum(np.abs(lat) + dlat, 89.999)
    dlon = np.minimum(dlat / np.cos(np.radians(far)), 360.0)
    return np.asarray(shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat), dtype=object)


def _extent(bounds: NDArray[np.float64]) -> str:
    west, south, east, north = (float(v) for v in bounds)
    return f"lon {west:.4f} to {east:.4f}, lat {south:.4f} to {north:.4f}"


def _nowhere(sites: SiteTable, areas: AreaTable) -> str:
    """Return the message for sites none of which reaches an area."""
    return (
        f"{sites.name}: none of the {len(sites.accepted)} sites reaches an area of {areas.name} "
        f"(sites: {_extent(sites.accepted.total_bounds)}; areas: {_extent(areas.accepted.total_bounds)}). "
        "Likely causes: the sites' CRS (x/y columns in another CRS than `sites_crs`, or lon/lat columns "
        "read with a projected `sites_crs`); x and y, or easting and northing, given the wrong way round; "
        "or a sites file of another region (the wrong file)"
    )
