"""Overlays of the HTML map: sites, their footprints, coverage gaps and points of interest."""

from __future__ import annotations

from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..vocabulary import BASE_TECHNOLOGIES
from .elements import DataLayer, FootprintLayer, json_text
from .formatting import escape
from .geometry import COORD_DECIMALS, feature_collection, to_lonlat
from .payload import attribute_html, poi_styles, site_rows, text_column
from .shapes import Outlines, outline_payload
from .styles import dot_html, technology_color, text_color

__all__ = ["MAX_MARKERS", "MIN_MARKERS", "SiteSample", "add_overlays", "sample_sites"]

SITE_STATUS = ["existing", "planned (not counted)", "planned (counted)", "not counted"]
"""Popup text of each site status code (see :func:`telecov.maps.payload.site_rows`)."""
MAX_MARKERS = 100_000
"""Most site markers on one map: clustered, they still open in a browser within seconds."""
MIN_MARKERS = 2_000
"""Markers a map keeps whatever its other layers weigh."""
PROBE_ROWS = 2_000
"""Sites encoded to measure the bytes of one marker."""


@dataclass(frozen=True)
class SiteSample:
    """The sites a map shows as markers: all of them, or a seeded random sample when too many."""

    sites: gpd.GeoDataFrame
    total: int

    @property
    def sampled(self) -> bool:
        """Whether only a sample is shown."""
        return len(self.sites) < self.total

    def note(self) -> str:
        """Legend text saying that the markers are a sample (empty when they are all the sites)."""
        if not self.sampled:
            return ""
        return (
            f"Markers: a random sample of {len(self.sites):,} of the {self.total:,} sites, to keep the map "
            "light; every site counts in the figures"
        )


def sample_sites(sites: gpd.GeoDataFrame | None, *, max_bytes: float, seed: int = 0) -> SiteSample:
    """Choose the sites drawn as markers so that their data stay within ``max_bytes``.

    The bytes of one marker are measured on the first sites; beyond what fits (at least
    :data:`MIN_MARKERS`, at most :data:`MAX_MARKERS`) a seeded uniform sample is drawn, in the
    sites' order, so that every technology keeps its share.
    """
    if sites is None or not len(sites):
        return SiteSample(sites=sites if sites is not None else gpd.GeoDataFrame(), total=0)
    sites = to_lonlat(sites)
    sites = sites[~(sites.geometry.is_empty | sites.geometry.isna())]
    probe = sites.iloc[:PROBE_ROWS]
    per_site = max(len(json_text(site_rows(probe, {o: 0 for o in text_column(probe, "operator")}))), 2) / max(
        len(probe), 1
    )
    keep = int(min(MAX_MARKERS, max(MIN_MARKERS, max_bytes / per_site)))
    if len(sites) <= keep:
        return SiteSample(sites=sites, total=len(sites))
    chosen = np.sort(np.random.default_rng(seed).choice(len(sites), size=keep, replace=False))
    return SiteSample(sites=sites.iloc[chosen], total=len(sites))


def add_overlays(
    fmap: folium.Map,
    sites: SiteSample,
    technology: str,
    *,
    gaps: gpd.GeoDataFrame | None,
    pois: gpd.GeoDataFrame | None,
    footprints: bool,
    tolerance: float,
    outlines: Outlines | None = None,
) -> None:
    """Add the sites (``technology`` shown), their footprints, the gaps and the POIs, in this order.

    ``outlines``: the measured polygons of shaped sites (lobes, terrain), drawn instead of discs.
    """
    site_layers = _add_sites(fmap, sites, technology)
    if footprints:
        _add_footprints(fmap, site_layers, sampled=sites.sampled, outlines=outlines)
    if gaps is not None and len(gaps):
        _add_gaps(fmap, gaps, tolerance=tolerance)
    if pois is not None and len(pois):
        _add_pois(fmap, pois, technology)


def _add_sites(fmap: folium.Map, sample: SiteSample, chosen: str) -> dict[str, tuple[DataLayer, pd.Index]]:
    """One clustered marker layer per technology (``chosen`` shown); the layers and their sites' index."""
    layers: dict[str, tuple[DataLayer, pd.Index]] = {}
    sites = sample.sites
    if not len(sites):
        return layers
    tech_col = sites["technology"].astype(str)
    order = [*BASE_TECHNOLOGIES, *sorted(set(tech_col) - set(BASE_TECHNOLOGIES))]
    for tech in order:
        subset = sites[tech_col == tech]
        if not len(subset):
            continue
        names = sorted(set(text_column(subset, "operator")))
        operators = {name: i for i, name in enumerate(names)}
        color = technology_color(tech)
        config = {
            "tech": escape(tech),
            "color": color,
            "text": text_color(color),
            "ops": [n or "–" for n in names],
            "status": SITE_STATUS,
        }
        shown = f"{len(subset):,} sampled" if sample.sampled else f"{len(subset):,}"
        label = f"{dot_html(color)}{escape(tech)} sites ({shown})"
        layer = DataLayer(label, "sites", site_rows(subset, operators), config, show=tech == chosen)
        fmap.add_child(layer)
        layers[tech] = (layer, subset.index)
    return layers


def _add_footprints(
    fmap: folium.Map, site_layers: dict[str, tuple[DataLayer, pd.Index]], *, sampled: bool,
    outlines: Outlines | None,
) -> None:  # fmt: skip
    """Add a hidden footprint layer per sites layer with counted sites.

    Discs and wedges are drawn from its rows, shaped sites from their measured outlines.
    """
    for tech, (source, index) in site_layers.items():
        counted = sum(row[5] in (0, 2) for row in source.payload)
        if not counted:
            continue
        color = technology_color(tech)
        config = {"color": color}
        of = " of sampled sites" if sampled else ""
        label = f"{dot_html(color, square=True)}{escape(tech)} footprints ({counted:,}{of})"
        fmap.add_child(FootprintLayer(label, source, config, outline_payload(outlines, index)))


def _add_gaps(fmap: folium.Map, gaps: gpd.GeoDataFrame, *, tolerance: float) -> None:
    """Gap polygons, simplified by ``tolerance`` degrees, with their attributes as tooltips."""
    gaps = to_lonlat(gaps)
    geoms = np.asarray(gaps.geometry.to_numpy(), dtype=object)
    if tolerance > 0:
        geoms = shapely.simplify(geoms, tolerance, preserve_topology=True)
    tips = attribute_html(gaps, heading="Coverage gap")
    payload = feature_collection(geoms, [{"t": t} for t in tips], COORD_DECIMALS)
    config = {
        "pane": "tcGaps",
        "interactive": True,
        "style": {"color": "#000", "weight": 1.5, "dashArray": "4 3", "fillColor": "#000",
                  "fillOpacity": 0.25},
    }  # fmt: skip
    label = f"{dot_html('#000', square=True)}Coverage gaps ({len(payload['features']):,})"
    fmap.add_child(DataLayer(label, "geo", payload, config, show=True))


def _add_pois(fmap: folium.Map, pois: gpd.GeoDataFrame, tech: str) -> None:
    """Points of interest (polygons at a point on their surface), coloured by ``tech`` coverage."""
    pois = to_lonlat(pois)
    geoms = pois.geometry.to_numpy()
    points = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))
    # other technologies' columns (``5G_covered``, ``5G_area_pct``...) would crowd the tooltip
    tips = attribute_html(
        pois, heading="Point of interest", first=[f"{tech}_covered", f"{tech}_population_pct"],
        skip=["_covered", "_pct"],
    )  # fmt: skip
    styles = poi_styles(pois, tech)
    props = [{"t": t, "s": s} for t, s in zip(tips, styles, strict=True)]
    payload = feature_collection(points, props, COORD_DECIMALS)
    config = {
        "pane": "tcPois",
        "interactive": True,
        "style": {"radius": 5, "color": "#fff", "weight": 1.5, "fillColor": "#444",
                  "fillOpacity": 0.95},
    }  # fmt: skip
    label = f"{dot_html('#444')}Points of interest ({len(payload['features']):,})"
    fmap.add_child(DataLayer(label, "geo", payload, config, show=True))
