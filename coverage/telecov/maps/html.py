"""Maps: self-contained, offline Leaflet HTML maps and a static PNG of the coverage per area.

The HTML map inlines Leaflet and Leaflet.markercluster (vendored from the npm registry with
their licences under ``vendor/``), so it renders with no network; folium's default CDN links
(jQuery, Bootstrap, awesome-markers, ...) are left out. Every name and attribute is
HTML-escaped before it reaches the page, and data travel as JSON in ``<script
type="application/json">`` blocks, never as code.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import math
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.map import Layer
from folium.template import Template
from numpy.typing import ArrayLike, NDArray

from ..errors import InputError
from ..vocabulary import BASE_TECHNOLOGIES, COMBINED_LAYERS, METRICS, normalize_layer

log = logging.getLogger(__name__)

__all__ = [
    "CLASS_BREAKS",
    "CLASS_COLORS",
    "CLASS_LABELS",
    "NO_DATA_COLOR",
    "TECHNOLOGY_COLORS",
    "coverage_classes",
    "coverage_map",
    "coverage_png",
    "save_map",
    "simplify_areas",
]

CLASS_BREAKS: tuple[float, ...] = (50.0, 90.0, 99.0)
"""Lower bounds (%) of the coverage classes after the first; a value on a bound goes up."""

CLASS_LABELS: tuple[str, ...] = ("< 50 %", "50–90 %", "90–99 %", "≥ 99 %")
CLASS_COLORS: tuple[str, ...] = ("#b2182b", "#ef8a62", "#92c5de", "#2166ac")
"""Red (far from target) to blue (target met): ColorBrewer RdBu, readable with colour blindness."""

NO_DATA_COLOR = "#d9d9d9"
NO_DATA_LABEL = "no data"

TECHNOLOGY_COLORS: dict[str, str] = {
    "2G": "#8c510a",
    "3G": "#7b3294",
    "4G": "#008837",
    "5G": "#e7298a",
    "fiber": "#252525",
    "any_mobile": "#525252",
    "4G+": "#1b9e77",
}
"""Marker and footprint colour of each technology (distinct from the class colours)."""

OTHER_COLOR = "#666666"
DEFAULT_TOLERANCE_DEG = 0.0005
"""Simplification of area borders in degrees (√ of the smallest triangle kept, ~50 m)."""
CLEAN_MAX_VERTICES = 200_000
"""Above this many vertices, :func:`simplify_areas` does not clean overlaps by default."""
COORD_DECIMALS = 5
"""Decimals kept in map coordinates (1e-5° ≈ 1 m)."""

_VENDOR = {
    "leaflet": ("leaflet/leaflet.js", "leaflet/leaflet.css", "leaflet/LICENSE", "1.9.4"),
    "leaflet.markercluster": (
        "leaflet.markercluster/leaflet.markercluster.js",
        "leaflet.markercluster/MarkerCluster.css",
        "leaflet.markercluster/MIT-LICENCE.txt",
        "1.5.3",
    ),
}


class ResultLike(Protocol):
    """What the map functions read from an analysis result (:class:`telecov.Result`)."""

    @property
    def areas(self) -> gpd.GeoDataFrame: ...

    @property
    def sites(self) -> gpd.GeoDataFrame: ...

    @property
    def table(self) -> pd.DataFrame: ...


@dataclass(frozen=True)
class _Metric:
    pct: str  # column suffix of the percentage
    whole: str  # suffix of the denominator
    covered: str  # suffix of the covered part
    phrase: str  # "of the population covered"
    unit: str  # "people" or "km2"
    extra_label: str | None  # label of the uncovered quantity in the metric's unit


_METRICS: dict[str, _Metric] = {
    "population": _Metric(
        "population_pct", "population", "covered_population",
        "of the population covered", "people", None,
    ),
    "residential": _Metric(
        "residential_pct", "residential_km2", "covered_residential_km2",
        "of the residential area covered", "km2", "Uncovered residential area",
    ),
    "area": _Metric(
        "area_pct", "area_km2", "covered_km2", "of the area covered", "km2", "Uncovered area",
    ),
}  # fmt: skip


# --------------------------------------------------------------------------- formatting


def _esc(value: object) -> str:
    """HTML-escape any value for text (and attribute) context; missing values become ''."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return html.escape(str(value), quote=True)


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _fmt_count(value: object) -> str:
    """Whole number with thousands separators: ``12,345``; missing: ``–``."""
    number = _finite(value)
    return "–" if number is None else f"{round(number):,}"


def _fmt_pct(value: object) -> str:
    """Percentage rounded down to 0.1 so that 98.96 never reads as the 99 % target."""
    number = _finite(value)
    if number is None:
        return NO_DATA_LABEL
    return f"{math.floor(max(number, 0.0) * 10 + 1e-6) / 10:.1f} %"


def _fmt_km2(value: object) -> str:
    number = _finite(value)
    if number is None:
        return "–"
    return f"{number:,.2f} km²" if abs(number) < 100 else f"{number:,.1f} km²"


def _fmt_value(value: object) -> str:
    """Readable text for an arbitrary attribute value (numbers with separators)."""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, np.floating):
        value = float(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.4g}"
    return "" if value is None or value is pd.NA else str(value)


def coverage_classes(pct: ArrayLike) -> NDArray[np.int8]:
    """Class index of each percentage: 0 ``< 50``, 1 ``50–90``, 2 ``90–99``, 3 ``≥ 99``, -1 no data.

    Parameters
    ----------
    pct
        Percentages in 0..100; NaN (denominator 0) means no data.

    """
    values = np.asarray(pct, dtype=np.float64)
    classes = np.searchsorted(np.asarray(CLASS_BREAKS), values, side="right").astype(np.int8)
    classes[~np.isfinite(values)] = -1
    return classes


# --------------------------------------------------------------------------- geometry


def simplify_areas(
    geometries: ArrayLike,
    *,
    tolerance: float = DEFAULT_TOLERANCE_DEG,
    decimals: int = COORD_DECIMALS,
    clean: bool | None = None,
) -> NDArray[np.object_]:
    """Simplify area polygons together so that shared borders stay shared, then round them.

    Overlaps, mismatched edges and gaps narrower than ``tolerance`` are cleaned first
    (``shapely.coverage_clean``, shapely ≥ 2.2); borders are simplified as a coverage
    (``shapely.coverage_simplify``) and snapped to ``10**-decimals`` degrees. A geometry that
    comes out invalid or empty falls back to its own topology-preserving simplification, then
    to the rounded input.

    Parameters
    ----------
    geometries
        Polygons or multipolygons in degrees.
    tolerance
        Simplification tolerance in degrees (0 keeps every vertex).
    decimals
        Decimals kept in the coordinates.
    clean
        Clean an invalid coverage first; None: only up to ``CLEAN_MAX_VERTICES`` vertices
        (cleaning all 3,321 communes of Vietnam takes ~8 s and adds vertices).

    Returns
    -------
    numpy.ndarray
        One geometry per input, in order.

    """
    geoms = np.asarray(geometries, dtype=object).copy()
    grid = 10.0**-decimals
    out = geoms
    if tolerance > 0 and len(geoms):
        if clean is None:
            clean = int(shapely.get_num_coordinates(geoms).sum()) <= CLEAN_MAX_VERTICES
        try:
            source = geoms
            if clean and hasattr(shapely, "coverage_clean") and not shapely.coverage_is_valid(geoms):
                source = shapely.coverage_clean(geoms, gap_width=tolerance)
            out = shapely.coverage_simplify(source, tolerance)
        except (shapely.errors.GEOSException, TypeError, ValueError) as exc:
            log.info("coverage simplification failed (%s); simplifying each area on its own", exc)
            out = shapely.simplify(geoms, tolerance, preserve_topology=True)
    out = _snap(np.asarray(out, dtype=object), grid)
    bad = shapely.is_missing(out) | shapely.is_empty(out) | ~shapely.is_valid(out)
    bad &= ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if bad.any():
        retry = _snap(shapely.simplify(geoms[bad], tolerance, preserve_topology=True), grid)
        still = shapely.is_empty(retry) | ~shapely.is_valid(retry)
        retry[still] = geoms[bad][still]
        out[bad] = retry
        log.debug("%d areas simplified on their own after the coverage step", int(bad.sum()))
    return out


def _snap(geoms: NDArray[np.object_], grid: float) -> NDArray[np.object_]:
    """Snap to a grid keeping validity (``set_precision``); fall back to plain rounding."""
    try:
        return np.asarray(shapely.set_precision(geoms, grid), dtype=object)
    except shapely.errors.GEOSException:
        return _round(geoms, grid)


def _round(geoms: NDArray[np.object_], grid: float) -> NDArray[np.object_]:
    decimals = round(-math.log10(grid))
    return np.asarray(shapely.transform(geoms, lambda c: np.round(c, decimals)), dtype=object)


def _encode_polygons(geoms: NDArray[np.object_], decimals: int) -> list[list[list[list[int]]]]:
    """Polygons as rings of integer deltas: ``[x0, y0, dx1, dy1, ...]`` in ``10**-decimals`` degrees.

    One list of polygons (each a list of rings, exterior first) per geometry; empty when the
    geometry has no polygon. The closing vertex is dropped (Leaflet closes rings). About a
    third of the size of GeoJSON.
    """
    multi = np.array([_as_multipolygon(g) for g in geoms], dtype=object)
    if not len(multi):
        return []
    _, coords, (ring_off, poly_off, geom_off) = shapely.to_ragged_array(multi)
    ints = np.rint(coords[:, :2] * 10.0**decimals).astype(np.int64)
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), np.int64))
    deltas[ring_off[:-1]] = ints[ring_off[:-1]]
    flat = deltas.ravel()
    out = []
    for g in range(len(multi)):
        polygons = []
        for p in range(geom_off[g], geom_off[g + 1]):
            rings = []
            for r in range(poly_off[p], poly_off[p + 1]):
                start, end = ring_off[r], ring_off[r + 1] - 1  # without the closing vertex
                if end - start >= 3:
                    rings.append(flat[2 * start : 2 * end].tolist())
                elif r == poly_off[p]:
                    break  # degenerate exterior: drop the polygon
            if rings:
                polygons.append(rings)
        out.append(polygons)
    return out


def _as_multipolygon(geom: shapely.Geometry | None) -> shapely.MultiPolygon:
    if geom is None or geom.is_empty:
        return shapely.MultiPolygon()
    if geom.geom_type == "MultiPolygon":
        return geom
    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    parts = [p for p in shapely.get_parts(geom, recursive=True) if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(parts)


def _to_lonlat(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        return frame.to_crs("EPSG:4326")
    return frame


def _geometry_json(geom: shapely.Geometry | None, decimals: int) -> dict[str, Any] | None:
    if geom is None or geom.is_empty:
        return None
    geom = _round(np.asarray([geom], dtype=object), 10.0**-decimals)[0]
    mapped: dict[str, Any] = shapely.geometry.mapping(geom)
    return mapped


# --------------------------------------------------------------------------- vendored files


@cache
def _vendor_text(relative: str) -> str:
    return resources.files(__package__).joinpath("vendor", relative).read_text(encoding="utf-8")


@cache
def _vendor_bytes(relative: str) -> bytes:
    return resources.files(__package__).joinpath("vendor", relative).read_bytes()


_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=.*$", re.MULTILINE)
_CSS_URL = re.compile(r"url\((['\"]?)(images/[A-Za-z0-9_.-]+\.png)\1\)")


def _script_text(text: str) -> str:
    """JavaScript safe to inline: no source-map fetch, no premature ``</script>``."""
    return _SOURCE_MAP.sub("", text).replace("</script", "<\\/script")


def _css_text(text: str, folder: str) -> str:
    """CSS with its image URLs replaced by ``data:`` URIs (no file or network fetch)."""

    def inline(match: re.Match[str]) -> str:
        data = base64.b64encode(_vendor_bytes(f"{folder}/{match.group(2)}")).decode("ascii")
        return f'url("data:image/png;base64,{data}")'

    return _CSS_URL.sub(inline, text).replace("</style", "<\\/style")


@lru_cache(maxsize=1)
def _vendor_header() -> str:
    """``<style>`` and ``<script>`` blocks with every vendored file, plus their licences."""
    notices = []
    blocks = []
    for package, (js, css, licence, version) in _VENDOR.items():
        folder = js.split("/")[0]
        text = _vendor_text(licence).replace("*/", "* /")
        notices.append(f"{package} {version} (npm registry):\n\n{text}")
        blocks.append(f"<style>\n{_css_text(_vendor_text(css), folder)}\n</style>")
        blocks.append(f"<script>\n{_script_text(_vendor_text(js))}\n</script>")
    licences = "\n\n".join(notices)
    return (
        f"<script>/*! Third-party software inlined in this page.\n\n{licences}\n*/</script>\n"
        + "\n".join(blocks)
        + f"\n<style>{_CSS}</style>\n<script>{_RUNTIME_JS}</script>\n"
    )


# --------------------------------------------------------------------------- page code

_CSS = """
.leaflet-container{background:#eef0f2;font:13px/1.4 system-ui,-apple-system,"Segoe UI",
 Roboto,"Noto Sans","Helvetica Neue",Arial,sans-serif}
.tc-box{background:rgba(255,255,255,.94);padding:8px 10px;border-radius:6px;color:#222;
 box-shadow:0 1px 5px rgba(0,0,0,.35);max-width:320px}
.tc-box .tc-title{font-size:15px;font-weight:600;margin:0 0 2px}
.tc-box .tc-sub{color:#444}
.tc-legend div{margin:2px 0;white-space:nowrap}
.tc-legend i.tc-swatch{display:inline-block;width:18px;height:12px;margin-right:6px;vertical-align:-1px;
 border:1px solid #666}
.tc-legend i.tc-nodata{border-style:dashed}
.tc-legend .tc-head{font-weight:600;margin-bottom:4px;white-space:normal}
.tc-legend .tc-sites{margin-top:6px;border-top:1px solid #ddd;padding-top:4px}
.tc-dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin:0 5px 0 1px;
 border:1px solid #fff;box-shadow:0 0 0 1px #333;vertical-align:-1px}
.tc-sq{border-radius:2px;box-shadow:none;border:1px solid #666;
 background-image:repeating-linear-gradient(135deg,transparent 0 2px,#fff 2px 4px)!important}
.tc-site i{display:block;width:8px;height:8px;border-radius:50%;border:2px solid #fff;
 box-shadow:0 0 0 1px #222}
.tc-site.tc-planned i{background:#fff!important;border-width:3px;width:6px;height:6px}
.tc-cluster div{width:100%;height:100%;box-sizing:border-box;border-radius:50%;display:flex;
 align-items:center;justify-content:center;font-weight:600;font-size:11px;opacity:.85;
 border:2px solid rgba(255,255,255,.85);box-shadow:0 0 0 1px rgba(0,0,0,.35)}
.tc-tip .tc-name{font-weight:600;font-size:14px}
.tc-tip .tc-parent{color:#555;margin-bottom:3px}
.tc-tip table{border-collapse:collapse}
.tc-tip th{text-align:left;font-weight:normal;color:#444;padding:1px 12px 1px 0}
.tc-tip td{text-align:right;font-variant-numeric:tabular-nums;padding:1px 0 1px 8px}
.tc-tip thead th{font-weight:600;color:#222;border-bottom:1px solid #ccc}
.leaflet-control-layers{font-size:13px}
.leaflet-control-layers-list .tc-group{font-weight:600;margin:4px 0 2px}
"""

_RUNTIME_JS = """
(function () {
  "use strict";
  var TC = window.telecov = {instances: []};
  var cache = {};
  TC.data = function (id) {
    if (!(id in cache)) { cache[id] = JSON.parse(document.getElementById(id).textContent); }
    return cache[id];
  };
  TC.num = function (x) { return Math.round(x).toLocaleString("en-US"); };

  /* Area outlines arrive as rings of integer deltas (telecov.maps._encode_geometry). */
  TC.latlngs = function (polygons, q) {
    return polygons.map(function (rings) {
      return rings.map(function (a) {
        var out = new Array(a.length / 2), x = 0, y = 0;
        for (var i = 0, j = 0; i < a.length; i += 2, j++) {
          x += a[i]; y += a[i + 1]; out[j] = new L.LatLng(y / q, x / q);
        }
        return out;
      });
    });
  };

  /* A layer built on first display (keeps big, hidden layers cheap). */
  TC.Lazy = L.Layer.extend({
    initialize: function (build) { this._build = build; this._inner = null; },
    onAdd: function (map) {
      if (!this._inner) { this._inner = this._build(map); }
      map.addLayer(this._inner);
    },
    onRemove: function (map) { if (this._inner) { map.removeLayer(this._inner); } },
    inner: function () { return this._inner; }
  });

  /* Areas: one GeoJSON layer, restyled by whichever technology layer is on. */
  TC.Communes = L.Class.extend({
    initialize: function (map, cfg, data) {
      this.map = map; this.cfg = cfg; this.dataId = data;
      this.current = 0; this.active = -1; this.geo = null;
      TC.instances.push(this);
    },
    style: function (f) {
      var m = f.p.m[this.current], k = m ? m[0] : -1, c = this.cfg;
      return {fillColor: k < 0 ? c.nodata : c.colors[k], fillOpacity: k < 0 ? 0.55 : 0.75,
              color: "#4a4a4a", weight: c.weight, opacity: 0.85, dashArray: k < 0 ? "3 3" : null};
    },
    tooltip: function (p) {
      var c = this.cfg, m = p.m[this.current], t = c.techs[this.current];
      var h = '<div class="tc-tip"><div class="tc-name">' + p.n + '</div>';
      if (p.p) { h += '<div class="tc-parent">' + p.p + '</div>'; }
      h += '<table><tr><th>Population</th><td>' + p.v + '</td></tr>';
      h += '<tr><th>' + t + ' coverage (' + c.metric + ')</th><td>' + m[1] + '</td></tr>';
      h += '<tr><th>Uncovered people</th><td>' + m[2] + '</td></tr>';
      if (m.length > 3) { h += '<tr><th>' + c.extra + '</th><td>' + m[3] + '</td></tr>'; }
      return h + '</table></div>';
    },
    popup: function (p) {
      var c = this.cfg;
      var h = '<div class="tc-tip"><div class="tc-name">' + p.n + '</div><div class="tc-parent">';
      h += (p.p ? p.p + ' · ' : '') + 'code ' + p.id + ' · population ' + p.v + '</div>';
      h += '<table><thead><tr><th>Technology</th><th>Covered (' + c.metric + ')</th>';
      h += '<th>Uncovered people</th></tr></thead>';
      for (var i = 0; i < c.techs.length; i++) {
        var m = p.m[i];
        h += '<tr><th><i class="tc-dot" style="background:' + c.techColors[i] + '"></i>';
        h += c.techs[i] + '</th><td>' + m[1] + '</td><td>' + m[2] + '</td></tr>';
      }
      return h + '</table></div>';
    },
    _build: function () {
      var self = this, c = this.cfg, data = TC.data(this.dataId), layers = [];
      data.features.forEach(function (f, k) {
        if (!f.g.length) { return; }
        var layer = L.polygon(TC.latlngs(f.g, data.scale), self.style(f));
        layer.feature = f;
        layer.tcIndex = k;
        layer.bindTooltip(function () { return self.tooltip(f.p); },
                          {sticky: true, className: "tc-tooltip"});
        layer.bindPopup(function () { return self.popup(f.p); }, {maxWidth: 420});
        layer.on("mouseover", function () {
          layer.setStyle({weight: Math.max(2.5, 3 * c.weight), color: "#111", opacity: 1});
          layer.bringToFront();
        });
        layer.on("mouseout", function () { layer.setStyle(self.style(f)); });
        layers.push(layer);
      });
      this.geo = L.featureGroup(layers);
    },
    show: function (i) {
      var self = this, c = this.cfg;
      this.current = i; this.active = i;
      if (!this.geo) { this._build(); }
      if (this.map.hasLayer(this.geo)) {
        this.geo.eachLayer(function (layer) { layer.setStyle(self.style(layer.feature)); });
      } else {
        this.map.addLayer(this.geo);
      }
      var box = this.map.getContainer();
      var head = box.querySelector(".tc-legend-head"), info = box.querySelector(".tc-totals");
      var title = box.querySelector(".tc-auto-title");
      if (head) { head.innerHTML = c.heads[i]; }
      if (title) { title.innerHTML = c.titles[i]; }
      if (info) { info.innerHTML = c.totals[i]; }
    },
    hide: function (i) {
      var self = this;
      if (this.active !== i) { return; }
      this.active = -1;
      setTimeout(function () {
        if (self.active < 0 && self.geo && self.map.hasLayer(self.geo)) {
          self.map.removeLayer(self.geo);
        }
      }, 0);
    }
  });

  TC.TechLayer = L.Layer.extend({
    initialize: function (communes, i) { this._c = communes; this._i = i; },
    onAdd: function () { this._c.show(this._i); },
    onRemove: function () { this._c.hide(this._i); }
  });

  TC.sitePopup = function (r, c) {
    var h = '<div class="tc-tip"><div class="tc-name">Site ' + r[2] + '</div><table>';
    h += '<tr><th>Operator</th><td>' + c.ops[r[3]] + '</td></tr>';
    h += '<tr><th>Technology</th><td>' + c.tech + '</td></tr>';
    h += '<tr><th>Radius</th><td>' + TC.num(r[4]) + ' m</td></tr>';
    if (r.length > 6) {
      h += '<tr><th>Sector</th><td>azimuth ' + r[6] + '°, width ' + r[7] + '°</td></tr>';
    }
    h += '<tr><th>Status</th><td>' + c.status[r[5]] + '</td></tr>';
    return h + '</table></div>';
  };

  /* Sites of one technology: compact rows -> clustered div-icon markers, one shared popup. */
  TC.sites = function (map, c, data) {
    return new TC.Lazy(function () {
      var rows = TC.data(data);
      var group = L.markerClusterGroup({
        chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 35,
        iconCreateFunction: function (cl) {
          var n = cl.getChildCount(), s = n < 10 ? 22 : n < 100 ? 27 : n < 1000 ? 32 : 38;
          return L.divIcon({
            html: '<div style="background:' + c.color + ';color:' + c.text + '">' + n + '</div>',
            className: "tc-cluster", iconSize: L.point(s, s)});
        }
      });
      var dot = '<i style="background:' + c.color + '"></i>';
      var ring = '<i style="border-color:' + c.color + '"></i>';
      var icon = L.divIcon({className: "tc-site", html: dot, iconSize: [12, 12]});
      var hollow = L.divIcon({className: "tc-site tc-planned", html: ring, iconSize: [12, 12]});
      var markers = new Array(rows.length);
      for (var i = 0; i < rows.length; i++) {
        var r = rows[i];
        var mk = L.marker([r[0], r[1]], {icon: r[5] ? hollow : icon, keyboard: false});
        mk.tcRow = r;
        markers[i] = mk;
      }
      group.on("click", function (e) {
        var r = e.layer && e.layer.tcRow;
        if (!r) { return; }
        L.popup({offset: [0, -4]}).setLatLng(e.layer.getLatLng())
          .setContent(TC.sitePopup(r, c)).openOn(map);
      });
      /* add once on the map: then markercluster takes the chunked path (off the map it
         checks every marker against every other one) */
      group.once("add", function () { group.addLayers(markers); });
      return group;
    });
  };

  /* Footprints of many sites as one canvas path: discs and sectors filled with the nonzero
     rule, so that overlaps show as their union. Rows as in TC.sites; a sector spans
     azimuth ± width / 2 (azimuth: the boresight, clockwise from north, as telecov.footprints). */
  TC.Discs = L.Path.extend({
    options: {stroke: false, fill: true, fillRule: "nonzero", interactive: false},
    initialize: function (rows, options) { L.setOptions(this, options); this._rows = rows; },
    _project: function () {
      var map = this._map, rows = this._rows, n = rows.length, pts = new Float64Array(3 * n);
      var perMetre = map.options.crs.scale(map.getZoom()) / 40075016.686;
      var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (var i = 0; i < n; i++) {
        var r = rows[i], p = map.latLngToLayerPoint([r[0], r[1]]);
        var rad = r[4] * perMetre / Math.cos(r[0] * Math.PI / 180);
        pts[3 * i] = p.x; pts[3 * i + 1] = p.y; pts[3 * i + 2] = rad;
        x0 = Math.min(x0, p.x - rad); y0 = Math.min(y0, p.y - rad);
        x1 = Math.max(x1, p.x + rad); y1 = Math.max(y1, p.y + rad);
      }
      this._pts = pts;
      this._pxBounds = n ? L.bounds([x0, y0], [x1, y1]) : null;
    },
    _update: function () { if (this._map) { this._updatePath(); } },
    _updatePath: function () {
      var rd = this._renderer;
      if (!rd._drawing || !this._pts) { return; }
      var ctx = rd._ctx, pts = this._pts, rows = this._rows, b = rd._bounds, d = Math.PI / 180;
      ctx.beginPath();
      for (var i = 0; i < rows.length; i++) {
        var x = pts[3 * i], y = pts[3 * i + 1], rad = Math.max(pts[3 * i + 2], 0.6), r = rows[i];
        if (b && (x + rad < b.min.x || x - rad > b.max.x || y + rad < b.min.y || y - rad > b.max.y)) {
          continue;
        }
        if (r.length > 6 && r[7] < 360) {
          var a0 = (r[6] - r[7] / 2 - 90) * d;
          ctx.moveTo(x, y);
          ctx.arc(x, y, rad, a0, a0 + r[7] * d, false);
          ctx.closePath();
        } else {
          ctx.moveTo(x + rad, y);
          ctx.arc(x, y, rad, 0, 2 * Math.PI, false);
        }
      }
      ctx.globalAlpha = this.options.fillOpacity;
      ctx.fillStyle = TC.hatch(ctx, this.options.fillColor);
      ctx.fill("nonzero");
    },
    _containsPoint: function () { return false; }
  });

  /* Diagonal hatching in a technology's colour: the area colours stay readable below. */
  TC.hatch = function (ctx, color) {
    var tile = document.createElement("canvas"), t;
    tile.width = tile.height = 8;
    t = tile.getContext("2d");
    t.strokeStyle = color; t.lineWidth = 2.2; t.lineCap = "square";
    t.beginPath(); t.moveTo(0, 8); t.lineTo(8, 0); t.moveTo(-2, 2); t.lineTo(2, -2);
    t.moveTo(6, 10); t.lineTo(10, 6); t.stroke();
    return ctx.createPattern(tile, "repeat");
  };

  TC.footprints = function (map, c, data) {
    return new TC.Lazy(function () {
      var rows = TC.data(data).filter(function (r) { return r[5] === 0 || r[5] === 2; });
      TC.renderer = TC.renderer || L.canvas({pane: "tcFootprints", padding: 0.3});
      return new TC.Discs(rows, {renderer: TC.renderer, pane: "tcFootprints", fillColor: c.color,
                                 fillOpacity: 0.75});
    });
  };

  /* Polygons or points from GeoJSON: gaps, points of interest. */
  TC.geo = function (map, c, data) {
    return new TC.Lazy(function () {
      return L.geoJSON(TC.data(data), {
        pane: c.pane, interactive: !!c.interactive,
        style: function (f) { return L.extend({}, c.style, (f.properties || {}).s); },
        pointToLayer: function (f, ll) {
          return L.circleMarker(ll, L.extend({pane: c.pane, interactive: !!c.interactive},
                                             c.style, (f.properties || {}).s));
        },
        onEachFeature: function (f, layer) {
          var t = f.properties && f.properties.t;
          if (c.interactive && t) {
            layer.bindTooltip(t, {sticky: true, className: "tc-tooltip"});
            layer.bindPopup(t);
          }
        }
      });
    });
  };

  TC.box = function (map, position, cls, html) {
    var ctl = L.control({position: position});
    ctl.onAdd = function () {
      var d = L.DomUtil.create("div", "tc-box " + cls);
      d.innerHTML = html;
      L.DomEvent.disableClickPropagation(d);
      L.DomEvent.disableScrollPropagation(d);
      return d;
    };
    return ctl.addTo(map);
  };

  TC.setup = function (map) {
    L.control.scale({imperial: false}).addTo(map);
    var z = {tcFootprints: 405, tcGaps: 420, tcPois: 450};
    Object.keys(z).forEach(function (name) {
      var p = map.createPane(name);
      p.style.zIndex = z[name];
      if (name === "tcFootprints") { p.style.pointerEvents = "none"; }
    });
  };
})();
"""


# --------------------------------------------------------------------------- elements


def _json_text(payload: object) -> str:
    """JSON for a ``<script type="application/json">`` block: ``<`` escaped, cannot close it."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


class _Header(MacroElement):
    """Inline vendored libraries, licences, the page CSS and the telecov runtime."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}{{ this.text }}{% endmacro %}
        {% macro script(this, kwargs) %}telecov.setup({{ this._parent.get_name() }});{% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "TelecovHeader"
        self.text = _vendor_header()


class _Communes(MacroElement):
    """Shared choropleth data and the object that draws it."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}<script type="application/json" id="{{ this.get_name() }}_data">
        {{- this.json }}</script>{% endmacro %}
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = new telecov.Communes({{ this._parent.get_name() }},
            {{ this.config|tojson }}, {{ (this.get_name() ~ "_data")|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, payload: object, config: dict[str, Any]) -> None:
        super().__init__()
        self._name = "TelecovCommunes"
        self.config = config
        self.json = _json_text(payload)


class _TechLayer(Layer):
    """Base layer: the choropleth of one technology (radio button)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = new telecov.TechLayer({{ this.communes.get_name() }}, {{ this.index }});
        {% endmacro %}
        """
    )

    def __init__(self, name: str, communes: _Communes, index: int, *, show: bool) -> None:
        super().__init__(name=name, overlay=False, control=True, show=show)
        self._name = "TelecovTechLayer"
        self.communes = communes
        self.index = index


class _DataLayer(Layer):
    """Overlay built in the page from a JSON block (``kind``: ``sites`` or ``geo``)."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}<script type="application/json" id="{{ this.get_name() }}_data">
        {{- this.json }}</script>{% endmacro %}
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = telecov.{{ this.kind }}({{ this._parent.get_name() }},
            {{ this.config|tojson }}, {{ (this.get_name() ~ "_data")|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, name: str, kind: str, payload: object, config: dict[str, Any], *, show: bool) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "TelecovLayer"
        self.kind = kind
        self.config = config
        self.payload: Any = payload
        self.json = _json_text(payload)


class _FootprintLayer(Layer):
    """Overlay drawing the footprints of a sites layer's counted sites (no data of its own)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = telecov.footprints({{ this._parent.get_name() }},
            {{ this.config|tojson }}, {{ (this.source.get_name() ~ "_data")|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, name: str, source: _DataLayer, config: dict[str, Any]) -> None:
        super().__init__(name=name, overlay=True, control=True, show=False)
        self._name = "TelecovFootprints"
        self.source = source
        self.config = config


class _Box(MacroElement):
    """A fixed panel (title, legend) with static, already escaped HTML."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        telecov.box({{ this._parent.get_name() }}, {{ this.position|tojson }},
            {{ this.css_class|tojson }}, {{ this.content|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, position: str, css_class: str, content: str) -> None:
        super().__init__()
        self._name = "TelecovBox"
        self.position = position
        self.css_class = css_class
        self.content = content


# --------------------------------------------------------------------------- map


def _technologies(areas: pd.DataFrame, metric: _Metric) -> list[str]:
    extra = [t for t in COMBINED_LAYERS if f"{t}_{metric.pct}" in areas.columns]
    return [*BASE_TECHNOLOGIES, *extra]


def _column(frame: pd.DataFrame, name: str) -> NDArray[np.float64]:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)


def _text_column(frame: pd.DataFrame, name: str) -> list[str]:
    """Escaped text of a column (each distinct value escaped once)."""
    if name not in frame.columns:
        return [""] * len(frame)
    codes, uniques = pd.factorize(frame[name].to_numpy(dtype=object), use_na_sentinel=True)
    escaped = np.array([_esc(v) for v in uniques] + [""], dtype=object)
    return escaped[codes].tolist()


def _check_options(result: ResultLike, technology: str, metric: str) -> tuple[str, _Metric]:
    if metric not in _METRICS:
        raise InputError(f"unknown metric {metric!r}: use one of {', '.join(METRICS)}")
    spec = _METRICS[metric]
    tech = normalize_layer(technology) if isinstance(technology, str) else None
    available = _technologies(result.areas, spec)
    if tech is None or tech not in available:
        raise InputError(f"unknown technology {technology!r}: use one of {', '.join(available)}")
    missing = [c for c in ("geometry", f"{tech}_{spec.pct}") if c not in result.areas.columns]
    if missing:
        raise InputError(f"the result's areas lack the column(s) {', '.join(missing)}")
    return tech, spec


def _commune_payload(
    areas: gpd.GeoDataFrame, techs: list[str], spec: _Metric, *, tolerance: float, decimals: int
) -> dict[str, Any]:
    geoms = simplify_areas(areas.geometry.to_numpy(), tolerance=tolerance, decimals=decimals)
    ids = _text_column(areas, "area_id")
    names = _text_column(areas, "area_name")
    parents = _text_column(areas, "parent")
    population = _column(areas, f"{techs[0]}_population")
    per_tech = []
    for tech in techs:
        pct = _column(areas, f"{tech}_{spec.pct}")
        classes = coverage_classes(pct).tolist()
        pop = _column(areas, f"{tech}_population")
        uncovered = np.clip(pop - _column(areas, f"{tech}_covered_population"), 0, None)
        extra = None
        if spec.extra_label:
            extra = np.clip(
                _column(areas, f"{tech}_{spec.whole}") - _column(areas, f"{tech}_{spec.covered}"),
                0, None,
            )  # fmt: skip
        per_tech.append((classes, pct, uncovered, extra))
    encoded = _encode_polygons(geoms, decimals)
    features = []
    for i in range(len(geoms)):
        cells: list[list[Any]] = []
        for classes, pct, uncovered, extra in per_tech:
            cell: list[Any] = [classes[i], _fmt_pct(pct[i]), _fmt_count(uncovered[i])]
            if extra is not None:
                cell.append(_fmt_km2(extra[i]))
            cells.append(cell)
        props = {
            "id": ids[i],
            "n": names[i] or ids[i],
            "p": parents[i],
            "v": _fmt_count(population[i]),
            "m": cells,
        }
        features.append({"g": encoded[i], "p": props})
    return {"scale": 10**decimals, "features": features}


def _totals(result: ResultLike, techs: list[str], spec: _Metric) -> list[str]:
    table = getattr(result, "table", None)
    out = []
    for tech in techs:
        text = ""
        if isinstance(table, pd.DataFrame) and {"level", "technology"} <= set(table.columns):
            rows = table[(table["level"] == "total") & (table["technology"] == tech)]
            if "operator" in rows.columns:
                rows = rows[rows["operator"] == "all"]
            if len(rows):
                row = rows.iloc[0]
                pct = _fmt_pct(row.get(spec.pct))
                people = _finite(row.get("population"))
                covered = _finite(row.get("covered_population"))
                text = f"All areas: <b>{_esc(pct)}</b> {_esc(spec.phrase)} by {_esc(tech)}"
                if people is not None and covered is not None:
                    text += (
                        f"<br>{_fmt_count(max(people - covered, 0))} of {_fmt_count(people)} people uncovered"
                    )
                if spec.extra_label:
                    whole, part = _finite(row.get(spec.whole)), _finite(row.get(spec.covered))
                    if whole is not None and part is not None:
                        text += f"<br>{_esc(spec.extra_label)}: {_fmt_km2(max(whole - part, 0))}"
        out.append(text)
    return out


def _site_rows(sites: pd.DataFrame, operators: dict[str, int]) -> list[list[Any]]:
    lon = np.round(sites.geometry.x.to_numpy(dtype=np.float64), COORD_DECIMALS)
    lat = np.round(sites.geometry.y.to_numpy(dtype=np.float64), COORD_DECIMALS)
    ids = _text_column(sites, "site_id")
    ops = [operators[o] for o in _text_column(sites, "operator")]
    radius = np.nan_to_num(_column(sites, "radius_m"), nan=0.0)
    azimuth = _column(sites, "azimuth")
    width = _column(sites, "beamwidth")
    planned = (
        sites["status"].astype(str).str.lower().eq("planned").to_numpy()
        if "status" in sites.columns
        else np.zeros(len(sites), dtype=bool)
    )
    counted = (
        sites["counted"].fillna(True).astype(bool).to_numpy()
        if "counted" in sites.columns
        else np.ones(len(sites), dtype=bool)
    )
    status = np.where(planned, np.where(counted, 2, 1), np.where(counted, 0, 3))
    rows: list[list[Any]] = [
        list(row)
        for row in zip(
            lat.tolist(), lon.tolist(), ids, ops, np.rint(radius).astype(np.int64).tolist(),
            status.tolist(), strict=True,
        )
    ]  # fmt: skip
    sector = np.flatnonzero(np.isfinite(azimuth))
    width = np.where(np.isfinite(width), width, 360.0)
    for i, az, bw in zip(
        sector.tolist(), np.round(azimuth[sector], 1).tolist(), np.round(width[sector], 1).tolist(),
        strict=True,
    ):  # fmt: skip
        rows[i] += [az, bw]
    return rows


_NO_DATA_REASON = {"population": "no people", "residential": "no residential area", "area": "no area"}
_SITE_STATUS = ["existing", "planned (not counted)", "planned (counted)", "not counted"]


def _dot(color: str, *, square: bool = False) -> str:
    cls = "tc-dot tc-sq" if square else "tc-dot"
    return f'<i class="{cls}" style="background:{color}"></i>'


def _text_color(color: str) -> str:
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return "#111" if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else "#fff"


def _attribute_html(
    frame: pd.DataFrame, *, heading: str, first: Sequence[str] = (), skip: Sequence[str] = (), limit: int = 8
) -> list[str]:
    """Escaped ``<table>`` of a few attributes per row, for tooltips of gaps and POIs.

    Columns in ``first`` come first; names ending with a suffix in ``skip`` are left out.
    """
    rest = [c for c in frame.columns if c != frame.geometry.name and c not in first]
    rest = [c for c in rest if not str(c).endswith(tuple(skip))]
    columns = [*(c for c in first if c in frame.columns), *rest][:limit]
    values = {c: frame[c].tolist() for c in columns}
    out = []
    for i in range(len(frame)):
        cells = "".join(
            f"<tr><th>{_esc(c)}</th><td>{_esc(_fmt_value(values[c][i]))}</td></tr>" for c in columns
        )
        out.append(f'<div class="tc-tip"><div class="tc-name">{_esc(heading)}</div>'
                   f"<table>{cells}</table></div>")  # fmt: skip
    return out


def _feature_collection(
    geoms: Iterable[shapely.Geometry | None],
    props: Iterable[dict[str, Any]],
    decimals: int,
) -> dict[str, Any]:
    features = [
        {"type": "Feature", "geometry": _geometry_json(g, decimals), "properties": p}
        for g, p in zip(geoms, props, strict=True)
    ]
    return {"type": "FeatureCollection", "features": [f for f in features if f["geometry"]]}


def _poi_style(pois: gpd.GeoDataFrame, tech: str) -> list[dict[str, str]]:
    for column in (f"{tech}_covered", "covered"):
        if column in pois.columns:
            flags = pois[column].astype("boolean").tolist()
            return [
                {"fillColor": CLASS_COLORS[-1] if f else CLASS_COLORS[0]}
                if f is not pd.NA
                else {"fillColor": NO_DATA_COLOR}
                for f in flags
            ]
    return [{} for _ in range(len(pois))]


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
    footprints of each technology's counted sites (hidden; drawn in the page from the site
    rows as one hatched canvas path, so they cost no bytes), and gaps and points of interest
    when given. Classes: ``< 50``, ``50–90``, ``90–99``, ``≥ 99 %`` and no data.

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
    tech, spec = _check_options(result, technology, metric)
    areas = _to_lonlat(result.areas)
    techs = _technologies(areas, spec)
    chosen = techs.index(tech)
    n_areas = len(areas)
    west, south, east, north = areas.total_bounds if n_areas else np.array([102.0, 8.0, 110.0, 23.5])
    fmap = folium.Map(
        location=[(south + north) / 2, (west + east) / 2], zoom_start=8, tiles=None,
        control_scale=False, zoom_snap=0.25, zoom_delta=0.5,
    )  # fmt: skip
    fmap.options["max_zoom"] = 18
    fmap.options["min_zoom"] = 3
    fmap.default_js = []
    fmap.default_css = []
    title_text = title if title is not None else f"{tech} coverage"
    root = fmap.get_root()
    root.title = _esc(title_text)  # type: ignore[attr-defined]
    fmap.add_child(_Header())
    if tiles:
        folium.TileLayer(
            tiles, attr=tiles_attr, name=f"Basemap: {_esc(tiles)}", overlay=True, control=True
        ).add_to(fmap)

    weight = 1.0 if n_areas <= 300 else 0.5
    payload = _commune_payload(areas, techs, spec, tolerance=tolerance, decimals=COORD_DECIMALS)
    metric_word = {"population": "population", "residential": "residential area", "area": "area"}
    heads = [f"{_esc(t)} coverage: share {_esc(spec.phrase)}" for t in techs]
    communes = _Communes(
        payload,
        {
            "techs": [_esc(t) for t in techs],
            "techColors": [TECHNOLOGY_COLORS.get(t, OTHER_COLOR) for t in techs],
            "colors": list(CLASS_COLORS),
            "nodata": NO_DATA_COLOR,
            "weight": weight,
            "metric": metric_word[metric],
            "extra": _esc(spec.extra_label or ""),
            "heads": heads,
            "titles": [f"{_esc(t)} coverage" for t in techs],
            "totals": _totals(result, techs, spec),
        },
    )
    fmap.add_child(communes)
    fmap.add_child(_Box("topleft", "tc-info", _info_html(title)))
    fmap.add_child(
        _Box(
            "bottomright",
            "tc-legend",
            _legend_html(
                result.sites,
                metric,
                gaps=gaps is not None and len(gaps) > 0,
                pois=pois,
                tech=tech,
            ),
        )
    )
    for i, t in enumerate(techs):
        fmap.add_child(_TechLayer(f"{_esc(t)} coverage", communes, i, show=i == chosen))

    site_layers = _add_sites(fmap, result.sites, tech)
    if footprints:
        _add_footprints(fmap, site_layers)
    if gaps is not None and len(gaps):
        _add_gaps(fmap, gaps, tolerance=tolerance)
    if pois is not None and len(pois):
        _add_pois(fmap, pois, tech)

    fmap.fit_bounds([[float(south), float(west)], [float(north), float(east)]])
    folium.LayerControl(collapsed=n_areas > 5000, position="topright").add_to(fmap)
    _stable_names(fmap)
    log.info("coverage map: %d areas, %d sites in %.2f s", n_areas, len(result.sites),
             time.perf_counter() - t0)  # fmt: skip
    return fmap


def _info_html(title: str | None) -> str:
    if title is None:
        return '<div class="tc-title tc-auto-title"></div><div class="tc-sub tc-totals"></div>'
    return f'<div class="tc-title">{_esc(title)}</div><div class="tc-sub tc-totals"></div>'


def _legend_html(
    sites: pd.DataFrame, metric: str, *, gaps: bool, pois: gpd.GeoDataFrame | None, tech: str
) -> str:
    rows = ['<div class="tc-head tc-legend-head"></div>']
    for color, label in zip(reversed(CLASS_COLORS), reversed(CLASS_LABELS), strict=True):
        rows.append(f'<div><i class="tc-swatch" style="background:{color}"></i>{_esc(label)}</div>')
    rows.append(
        f'<div><i class="tc-swatch tc-nodata" style="background:{NO_DATA_COLOR}"></i>'
        f"{NO_DATA_LABEL} ({_NO_DATA_REASON[metric]})</div>"
    )
    present = set(sites["technology"].astype(str)) if "technology" in sites.columns else set()
    techs = [t for t in BASE_TECHNOLOGIES if t in present]
    if techs:
        dots = " ".join(f"{_dot(TECHNOLOGY_COLORS[t])}{_esc(t)}" for t in techs)
        rows.append(f'<div class="tc-sites">Sites: {dots}<br>hollow = planned</div>')
    extra = []
    if gaps:
        extra.append('<i class="tc-swatch tc-nodata" style="background:#7f7f7f"></i>coverage gaps')
    if pois is not None and len(pois):
        if any(c in pois.columns for c in (f"{tech}_covered", "covered")):
            extra.append(
                f"Points of interest: {_dot(CLASS_COLORS[-1])}covered {_dot(CLASS_COLORS[0])}not"
                f" covered by {_esc(tech)}"
            )
        else:
            extra.append(f"{_dot('#444')}points of interest")
    if extra:
        rows.append(f'<div class="tc-sites">{"<br>".join(extra)}</div>')
    return "".join(rows)


def _add_sites(fmap: folium.Map, sites: gpd.GeoDataFrame, chosen: str) -> dict[str, _DataLayer]:
    layers: dict[str, _DataLayer] = {}
    if sites is None or not len(sites):
        return layers
    sites = _to_lonlat(sites)
    sites = sites[~(sites.geometry.is_empty | sites.geometry.isna())]
    tech_col = sites["technology"].astype(str)
    order = [t for t in (*BASE_TECHNOLOGIES, *sorted(set(tech_col) - set(BASE_TECHNOLOGIES)))]
    for tech in order:
        subset = sites[tech_col == tech]
        if not len(subset):
            continue
        names = sorted(set(_text_column(subset, "operator")))
        operators = {name: i for i, name in enumerate(names)}
        color = TECHNOLOGY_COLORS.get(tech, OTHER_COLOR)
        config = {
            "tech": _esc(tech),
            "color": color,
            "text": _text_color(color),
            "ops": [n or "–" for n in names],
            "status": _SITE_STATUS,
        }
        label = f"{_dot(color)}{_esc(tech)} sites ({len(subset):,})"
        layer = _DataLayer(label, "sites", _site_rows(subset, operators), config, show=tech == chosen)
        fmap.add_child(layer)
        layers[tech] = layer
    return layers


def _add_footprints(fmap: folium.Map, site_layers: dict[str, _DataLayer]) -> None:
    for tech, source in site_layers.items():
        counted = sum(row[5] in (0, 2) for row in source.payload)
        if not counted:
            continue
        color = TECHNOLOGY_COLORS.get(tech, OTHER_COLOR)
        config = {"color": color}
        label = f"{_dot(color, square=True)}{_esc(tech)} footprints ({counted:,})"
        fmap.add_child(_FootprintLayer(label, source, config))


def _add_gaps(fmap: folium.Map, gaps: gpd.GeoDataFrame, *, tolerance: float) -> None:
    gaps = _to_lonlat(gaps)
    geoms = np.asarray(gaps.geometry.to_numpy(), dtype=object)
    if tolerance > 0:
        geoms = shapely.simplify(geoms, tolerance, preserve_topology=True)
    tips = _attribute_html(gaps, heading="Coverage gap")
    payload = _feature_collection(geoms, [{"t": t} for t in tips], COORD_DECIMALS)
    config = {
        "pane": "tcGaps",
        "interactive": True,
        "style": {"color": "#000", "weight": 1.5, "dashArray": "4 3", "fillColor": "#000",
                  "fillOpacity": 0.25},
    }  # fmt: skip
    label = f"{_dot('#000', square=True)}Coverage gaps ({len(payload['features']):,})"
    fmap.add_child(_DataLayer(label, "geo", payload, config, show=True))


def _add_pois(fmap: folium.Map, pois: gpd.GeoDataFrame, tech: str) -> None:
    pois = _to_lonlat(pois)
    geoms = pois.geometry.to_numpy()
    points = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))
    # other technologies' columns (``5G_covered``, ``5G_area_pct``...) would crowd the tooltip
    tips = _attribute_html(
        pois, heading="Point of interest", first=[f"{tech}_covered", f"{tech}_population_pct"],
        skip=["_covered", "_pct"],
    )  # fmt: skip
    styles = _poi_style(pois, tech)
    props = [{"t": t, "s": s} for t, s in zip(tips, styles, strict=True)]
    payload = _feature_collection(points, props, COORD_DECIMALS)
    config = {
        "pane": "tcPois",
        "interactive": True,
        "style": {"radius": 5, "color": "#fff", "weight": 1.5, "fillColor": "#444",
                  "fillOpacity": 0.95},
    }  # fmt: skip
    label = f"{_dot('#444')}Points of interest ({len(payload['features']):,})"
    fmap.add_child(_DataLayer(label, "geo", payload, config, show=True))


def _stable_names(fmap: folium.Map) -> None:
    """Deterministic element ids, so that the same inputs give the same HTML."""
    counter = 0

    def walk(element: Element) -> None:
        nonlocal counter
        element._id = f"{counter:04d}"
        counter += 1
        for child in list(element._children.values()):
            walk(child)

    walk(fmap)


# --------------------------------------------------------------------------- output


def _atomic_write(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        Path(tmp).chmod(0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


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

    out = _atomic_write(path, write)
    log.info("wrote %s (%.2f MB)", out, len(text.encode("utf-8")) / 1e6)
    return out


def coverage_png(
    result: ResultLike,
    path: str | os.PathLike[str],
    *,
    technology: str = "4G",
    metric: str = "population",
    tolerance: float = DEFAULT_TOLERANCE_DEG,
    sites: bool = True,
    dpi: int = 150,
    title: str | None = None,
) -> Path:
    """Draw the map as a static figure (same classes and legend), e.g. ``coverage.png``.

    Parameters
    ----------
    result
        An analysis result (:func:`telecov.analyze`).
    path
        Destination PNG, written atomically.
    technology, metric
        As in :func:`coverage_map`.
    tolerance
        Border simplification in degrees.
    sites
        Draw the counted sites of ``technology`` as small dots.
    dpi
        Resolution of the image.
    title
        Figure title (default: "<technology> coverage: share of the ... covered").

    Returns
    -------
    pathlib.Path
        The written file.

    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    tech, spec = _check_options(result, technology, metric)
    areas = _to_lonlat(result.areas)
    geoms = simplify_areas(areas.geometry.to_numpy(), tolerance=tolerance)
    classes = coverage_classes(_column(areas, f"{tech}_{spec.pct}"))
    palette = np.array([*CLASS_COLORS, NO_DATA_COLOR], dtype=object)
    colors = palette[np.where(classes < 0, len(CLASS_COLORS), classes)]

    west, south, east, north = areas.total_bounds if len(areas) else (0.0, 0.0, 1.0, 1.0)
    aspect = 1.0 / max(math.cos(math.radians((south + north) / 2)), 0.1)
    width_in = 9.0
    height_in = min(max(width_in * aspect * (north - south) / max(east - west, 1e-9), 4.0), 14.0)
    fig = Figure(figsize=(width_in, height_in + 0.8), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.86))
    frame = gpd.GeoDataFrame({"c": colors}, geometry=geoms, crs="EPSG:4326")
    frame.plot(ax=ax, color=frame["c"].tolist(), edgecolor="#4a4a4a",
               linewidth=0.5 if len(frame) <= 300 else 0.15)  # fmt: skip
    handles: list[Any] = [
        Patch(facecolor=c, edgecolor="#666", label=label)
        for c, label in zip(reversed(CLASS_COLORS), reversed(CLASS_LABELS), strict=True)
    ]
    handles.append(Patch(facecolor=NO_DATA_COLOR, edgecolor="#666", linestyle="--", label="no data"))
    if sites and result.sites is not None and len(result.sites):
        pts = _to_lonlat(result.sites)
        mask = pts["technology"].astype(str).eq(tech)
        if "counted" in pts.columns:
            mask &= pts["counted"].fillna(True).astype(bool)
        pts = pts[mask]
        if len(pts):
            color = TECHNOLOGY_COLORS.get(tech, OTHER_COLOR)
            size = 7.0 if len(pts) <= 2000 else 1.5
            ax.scatter(pts.geometry.x, pts.geometry.y, s=size, c=color, linewidths=0,
                       alpha=0.7, zorder=3)  # fmt: skip
            handles.append(
                Line2D([], [], marker="o", linestyle="", markersize=4, color=color,
                       label=f"{tech} sites ({len(pts):,})")
            )  # fmt: skip
    ax.set_aspect(aspect)
    ax.set_axis_off()
    ax.legend(handles=handles, loc="lower right", title=f"{tech} · {metric} covered",
              fontsize=8, title_fontsize=9, framealpha=0.92)  # fmt: skip
    heading = title if title is not None else f"{tech} coverage: share {spec.phrase}"
    fig.text(0.02, 0.965, heading, fontsize=13, fontweight="bold", va="top")
    totals = _totals(result, [tech], spec)[0]
    if totals:
        plain = html.unescape(re.sub(r"<br>", " · ", re.sub(r"</?b>", "", totals)))
        fig.text(0.02, 0.925, plain, fontsize=9, va="top", color="#333")

    def write(tmp: Path) -> None:
        fig.savefig(tmp, format="png", dpi=dpi, facecolor="white")

    out = _atomic_write(path, write)
    log.info("wrote %s", out)
    return out
