"""Self-contained, offline Leaflet HTML map of the coverage per area.

The map inlines Leaflet and Leaflet.markercluster (vendored from the npm registry with their
licences under ``vendor/``) and its own ``static/`` code, so it renders with no network;
folium's default CDN links (jQuery, Bootstrap, awesome-markers, ...) are left out. Every name
and attribute is HTML-escaped before it reaches the page, and data travel as JSON in
``<script type="application/json">`` blocks, never as code.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np

from ..errors import InputError
from ..io.outputs import write_file_atomic
from ..vocabulary import BASE_TECHNOLOGIES
from .elements import Box, Communes, Header, TechLayer, stable_names
from .formatting import escape
from .geometry import COORD_DECIMALS, DEFAULT_TOLERANCE_DEG, to_lonlat
from .overlays import SiteSample, add_overlays, sample_sites
from .payload import MetricSpec, ResultLike, check_options, commune_payload, technologies, totals
from .shapes import fit_outlines, site_shapes
from .styles import (
    CLASS_COLORS,
    CLASS_LABELS,
    NO_DATA_COLOR,
    NO_DATA_LABEL,
    TECHNOLOGY_COLORS,
    dot_html,
    technology_color,
)

log = logging.getLogger(__name__)

__all__ = ["check_tiles", "coverage_map", "save_map"]

_DEFAULT_BOUNDS = np.array([102.0, 8.0, 110.0, 23.5])
"""West, south, east, north of a map without areas."""
MAP_BYTES = 9_500_000
"""What a map may weigh: site markers are sampled to stay within it (under 10 MB in all)."""
PAGE_BYTES = 600_000
"""The inlined libraries, styles and panels of every map."""


def coverage_map(
    result: ResultLike,
    *,
    technology: str = "4G",
    metric: str = "population",
    tiles: str | None = None,
    tiles_attr: str | None = None,
    gaps: gpd.GeoDataFrame | None = None,
    pois: gpd.GeoDataFrame | None = None,
    footprints: bool = True,
    tolerance: float = DEFAULT_TOLERANCE_DEG,
    title: str | None = None,
) -> folium.Map:
    """Interactive, self-contained map of the coverage of every area.

    Layers: a choropleth of the areas for each technology (radio buttons; ``technology``
    shown), the sites of each technology as clustered markers (``technology`` shown), the
    footprints of each technology's counted sites (hidden; one hatched canvas path: discs,
    wedges, and shaped sites as their measured polygons, :mod:`telecov.maps.shapes`), gaps and
    points of interest. Classes: ``< 50``, ``50–90``, ``90–99``, ``≥ 99 %`` and no data.

    Parameters
    ----------
    result
        An analysis result (:func:`telecov.analyze`): ``areas``, ``sites`` and ``table``.
    technology
        Technology shown on opening (``2G``, ``3G``, ``4G``, ``5G``, ``fiber``; ``4G+`` or
        ``any_mobile`` when computed).
    metric
        ``population``, ``residential`` or ``area``: which percentage colours the areas.
    tiles
        Basemap (a folium tile name such as ``"OpenStreetMap"`` or a URL template); None: no
        basemap and no network access at all.
    tiles_attr
        Attribution of a custom tile URL.
    gaps
        Gap polygons to draw (any CRS), attributes shown in their tooltips.
    pois
        Points of interest (any CRS); a boolean ``<technology>_covered`` or ``covered``
        column colours them.
    footprints
        Add the (hidden) footprint layers.
    tolerance
        Border simplification in degrees (0 keeps every vertex).
    title
        Page and panel title (default: "<technology> coverage", following the layer shown).

    Returns
    -------
    folium.Map
        Save it with :func:`save_map`.

    Raises
    ------
    InputError
        Unknown technology or metric, or areas without the metric's columns.

    """
    t0 = time.perf_counter()
    tech, spec = check_options(result, technology, metric)
    areas = to_lonlat(result.areas)
    west, south, east, north = areas.total_bounds if len(areas) else _DEFAULT_BOUNDS
    page_title = title if title is not None else f"{tech} coverage"
    fmap = _base_map(
        [(south + north) / 2, (west + east) / 2], title=page_title, tiles=tiles, tiles_attr=tiles_attr
    )
    communes = _add_areas(fmap, result, areas, tech=tech, spec=spec, tolerance=tolerance, title=title)
    room = MAP_BYTES - PAGE_BYTES - len(communes.json.encode("utf-8"))
    outlines = fit_outlines(site_shapes(result), max_bytes=room / 2) if footprints else None
    markers = sample_sites(result.sites, max_bytes=room - (0 if outlines is None else outlines.nbytes))
    legend = _legend_html(markers, spec, gaps=gaps is not None and len(gaps) > 0, pois=pois, tech=tech)
    fmap.add_child(Box("bottomright", "tc-legend", legend))
    add_overlays(fmap, markers, tech, gaps=gaps, pois=pois, footprints=footprints, tolerance=tolerance,
                 outlines=outlines)  # fmt: skip
    fmap.fit_bounds([[float(south), float(west)], [float(north), float(east)]])
    folium.LayerControl(collapsed=len(areas) > 5000, position="topright").add_to(fmap)
    stable_names(fmap)
    log.info("coverage map: %d areas, %d sites in %.2f s", len(areas), len(result.sites),
             time.perf_counter() - t0)  # fmt: skip
    return fmap


def check_tiles(tiles: str | None, tiles_attr: str | None) -> None:
    """Refuse a basemap that folium cannot show: a URL template (or unknown name) without attribution.

    Raises
    ------
    InputError
        ``tiles`` is not a tile name folium knows and ``tiles_attr`` is empty.

    """
    if tiles is None or (tiles_attr and tiles_attr.strip()):
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a provider's note about API keys
            folium.TileLayer(tiles)
    except ValueError as exc:
        raise InputError(
            f"`tiles` {tiles!r}: not a tile name folium knows (such as OpenStreetMap), so it is a URL "
            "template and needs `tiles_attr`, the attribution its provider asks for (e.g. "
            "'© OpenStreetMap contributors')"
        ) from exc


def _base_map(location: list[float], *, title: str, tiles: str | None, tiles_attr: str | None) -> folium.Map:
    """Make an empty map with the page title, the inlined libraries and the basemap if any."""
    fmap = folium.Map(
        location=location, zoom_start=8, tiles=None, control_scale=False, zoom_snap=0.25, zoom_delta=0.5
    )
    fmap.options["max_zoom"] = 18
    fmap.options["min_zoom"] = 3
    fmap.default_js = []
    fmap.default_css = []
    root = fmap.get_root()
    root.title = escape(title)  # type: ignore[attr-defined]
    fmap.add_child(Header())
    check_tiles(tiles, tiles_attr)
    if tiles:
        folium.TileLayer(
            tiles, attr=tiles_attr, name=f"Basemap: {escape(tiles)}", overlay=True, control=True
        ).add_to(fmap)
    return fmap


def _add_areas(
    fmap: folium.Map,
    result: ResultLike,
    areas: gpd.GeoDataFrame,
    *,
    tech: str,
    spec: MetricSpec,
    tolerance: float,
    title: str | None,
) -> Communes:
    """Add the choropleth data, the title panel and one base layer per technology."""
    techs = technologies(areas, spec)
    payload = commune_payload(areas, techs, spec, tolerance=tolerance, decimals=COORD_DECIMALS)
    config = {
        "techs": [escape(t) for t in techs],
        "techColors": [technology_color(t) for t in techs],
        "colors": list(CLASS_COLORS),
        "nodata": NO_DATA_COLOR,
        "weight": 1.0 if len(areas) <= 300 else 0.5,
        "metric": spec.word,
        "extra": escape(spec.extra_label or ""),
        "heads": [f"{escape(t)} coverage: share {escape(spec.phrase)}" for t in techs],
        "titles": [f"{escape(t)} coverage" for t in techs],
        "totals": totals(result, techs, spec),
    }
    communes = Communes(payload, config)
    fmap.add_child(communes)
    fmap.add_child(Box("topleft", "tc-info", _info_html(title)))
    chosen = techs.index(tech)
    for i, t in enumerate(techs):
        fmap.add_child(TechLayer(f"{escape(t)} coverage", communes, i, show=i == chosen))
    return communes


def _info_html(title: str | None) -> str:
    if title is None:
        return '<div class="tc-title tc-auto-title"></div><div class="tc-sub tc-totals"></div>'
    return f'<div class="tc-title">{escape(title)}</div><div class="tc-sub tc-totals"></div>'


def _legend_html(
    markers: SiteSample, spec: MetricSpec, *, gaps: bool, pois: gpd.GeoDataFrame | None, tech: str
) -> str:
    rows = ['<div class="tc-head tc-legend-head"></div>']
    for color, label in zip(reversed(CLASS_COLORS), reversed(CLASS_LABELS), strict=True):
        rows.append(f'<div><i class="tc-swatch" style="background:{color}"></i>{escape(label)}</div>')
    rows.append(
        f'<div><i class="tc-swatch tc-nodata" style="background:{NO_DATA_COLOR}"></i>'
        f"{NO_DATA_LABEL} ({spec.no_data})</div>"
    )
    sites = markers.sites
    present = set(sites["technology"].astype(str)) if "technology" in sites.columns else set()
    techs = [t for t in BASE_TECHNOLOGIES if t in present]
    if techs:
        dots = " ".join(f"{dot_html(TECHNOLOGY_COLORS[t])}{escape(t)}" for t in techs)
        rows.append(f'<div class="tc-sites">Sites: {dots}<br>hollow = planned</div>')
    if markers.sampled:
        rows.append(f'<div class="tc-sites tc-sample">{escape(markers.note())}</div>')
    extra = []
    if gaps:
        extra.append('<i class="tc-swatch tc-nodata" style="background:#7f7f7f"></i>coverage gaps')
    if pois is not None and len(pois):
        if any(c in pois.columns for c in (f"{tech}_covered", "covered")):
            extra.append(
                f"Points of interest: {dot_html(CLASS_COLORS[-1])}covered {dot_html(CLASS_COLORS[0])}not"
                f" covered by {escape(tech)}"
            )
        else:
            extra.append(f"{dot_html('#444')}points of interest")
    if extra:
        rows.append(f'<div class="tc-sites">{"<br>".join(extra)}</div>')
    return "".join(rows)


def save_map(fmap: folium.Map, path: str | os.PathLike[str]) -> Path:
    """Write the map as one self-contained HTML file, atomically (temp file + rename).

    Parameters
    ----------
    fmap
        A map from :func:`coverage_map` (or any folium map).
    path
        Destination; its folder is created when missing.

    Returns
    -------
    pathlib.Path
        The written file.

    """
    text = fmap.get_root().render()

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    out = write_file_atomic(Path(path), write)
    log.info("wrote %s (%.2f MB)", out, len(text.encode("utf-8")) / 1e6)
    return out
