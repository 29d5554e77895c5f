"""The zones a plan newly covers, as polygons for maps (the figures come from the engine)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely

from ..footprints import footprint_polygons
from ..geodesy import LONLAT

if TYPE_CHECKING:
    from ..result import Result
    from .core import SitePlan

ZONE_COLUMNS = ("rank", "site_id", "area_id", "area_name", "marginal_people")
"""Attributes of :func:`newly_covered`'s zones."""


def newly_covered(result: Result, plan: SitePlan) -> gpd.GeoDataFrame:
    """Per planned site, the part of the areas its footprint covers first (in the order picked).

    A pick's zone is its footprint minus the existing coverage of the technology and minus the
    earlier picks, within the areas; ``marginal_people`` is the engine's figure for the pick.
    """
    picks = plan.picks
    if picks.empty:
        return gpd.GeoDataFrame({c: [] for c in ZONE_COLUMNS}, geometry=[], crs=LONLAT)
    tech = str(picks["technology"].iloc[0])
    sites = plan.after.sites
    planned = sites[
        (sites["status"] == "planned") & sites["counted"].astype(bool) & (sites["technology"] == tech)
    ]
    shapes = footprint_polygons(planned).dissolve(by="site_id")
    polys = shapes.geometry.reindex(picks["site_id"].astype(str)).to_numpy()
    existing = result.sites[result.sites["counted"].astype(bool) & (result.sites["technology"] == tech)]
    before = _covering(existing, polys)
    areas = result.areas.geometry.to_numpy()
    area_tree = shapely.STRtree(areas)
    zones = []
    earlier = shapely.STRtree(polys)
    for k, poly in enumerate(polys):
        taken = [polys[j] for j in earlier.query(poly) if j < k]
        zone = shapely.difference(poly, shapely.union_all([before, *taken]))
        near = areas[area_tree.query(zone)]
        zones.append(shapely.intersection(zone, shapely.union_all(near)) if near.size else shapely.Polygon())
    frame = picks[list(ZONE_COLUMNS)].reset_index(drop=True)
    return gpd.GeoDataFrame(frame, geometry=np.asarray(zones, dtype=object), crs=LONLAT)


def _covering(existing: gpd.GeoDataFrame, polys: np.ndarray) -> shapely.Geometry:
    """Return the union of the existing footprints that reach the planned ones."""
    if existing.empty:
        return shapely.Polygon()
    reach = shapely.union_all(shapely.envelope(polys)).buffer(float(existing["radius_m"].max()) / 90_000.0)
    nearby = existing[shapely.intersects(reach, existing.geometry.to_numpy())]
    if nearby.empty:
        return shapely.Polygon()
    return shapely.union_all(footprint_polygons(nearby).geometry.to_numpy())
