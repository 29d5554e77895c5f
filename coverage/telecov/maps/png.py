"""Static PNG of the coverage per area, with the classes and legend of the HTML map.

matplotlib is imported when a figure is drawn, not with this module.
"""

from __future__ import annotations

import html
import logging
import math
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from ..io.outputs import write_file_atomic
from .geometry import DEFAULT_TOLERANCE_DEG, simplify_areas, to_lonlat
from .payload import MetricSpec, ResultLike, check_options, column, totals
from .shapes import technology_footprints
from .styles import CLASS_COLORS, CLASS_LABELS, NO_DATA_COLOR, coverage_classes, technology_color

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

__all__ = ["coverage_png"]

MAX_PNG_FOOTPRINTS = 20_000
"""Most footprints the figure draws (their union); beyond, only the site dots (logged)."""
_WIDTH_IN = 9.0
"""Width of the map in inches; its height follows the areas' extent (4 to 14 inches)."""


def coverage_png(
    result: ResultLike,
    path: str | os.PathLike[str],
    *,
    technology: str = "4G",
    metric: str = "population",
    tolerance: float = DEFAULT_TOLERANCE_DEG,
    sites: bool = True,
    footprints: bool = True,
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
        As in :func:`telecov.maps.html.coverage_map`.
    tolerance
        Border simplification in degrees.
    sites
        Draw the counted sites of ``technology`` as small dots.
    footprints
        Draw the union of the footprints of the counted sites of ``technology``, outlined: the
        polygons :meth:`telecov.Result.footprints` gives (discs, wedges, radio lobes, terrain
        shadows with their holes), unsimplified; skipped above :data:`MAX_PNG_FOOTPRINTS` sites.
    dpi
        Resolution of the image.
    title
        Figure title (default: "<technology> coverage: share of the ... covered").

    Returns
    -------
    pathlib.Path
        The written file.

    """
    from matplotlib.patches import Patch

    tech, spec = check_options(result, technology, metric)
    areas = to_lonlat(result.areas)
    fig, ax, aspect = _figure(areas, dpi=dpi)
    _draw_areas(ax, areas, tech, spec, tolerance=tolerance)
    handles: list[Any] = [
        Patch(facecolor=c, edgecolor="#666", label=label)
        for c, label in zip(reversed(CLASS_COLORS), reversed(CLASS_LABELS), strict=True)
    ]
    handles.append(Patch(facecolor=NO_DATA_COLOR, edgecolor="#666", linestyle="--", label="no data"))
    if footprints and result.sites is not None and len(result.sites):
        handles += _draw_footprints(ax, result, tech)
    if sites and result.sites is not None and len(result.sites):
        handles += _draw_sites(ax, result.sites, tech)
    ax.set_aspect(aspect)
    ax.set_axis_off()
    ax.legend(handles=handles, loc="lower right", title=f"{tech} · {metric} covered",
              fontsize=8, title_fontsize=9, framealpha=0.92)  # fmt: skip
    heading = title if title is not None else f"{tech} coverage: share {spec.phrase}"
    fig.text(0.02, 0.965, heading, fontsize=13, fontweight="bold", va="top")
    line = totals(result, [tech], spec)[0]
    if line:
        plain = html.unescape(re.sub(r"<br>", " · ", re.sub(r"</?b>", "", line)))
        fig.text(0.02, 0.925, plain, fontsize=9, va="top", color="#333")

    def write(tmp: Path) -> None:
        fig.savefig(tmp, format="png", dpi=dpi, facecolor="white")

    out = write_file_atomic(Path(path), write)
    log.info("wrote %s", out)
    return out


def _figure(areas: gpd.GeoDataFrame, *, dpi: int) -> tuple[Figure, Axes, float]:
    """Make a figure sized to the areas' extent: the figure, its map axes and their aspect."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    west, south, east, north = areas.total_bounds if len(areas) else (0.0, 0.0, 1.0, 1.0)
    aspect = 1.0 / max(math.cos(math.radians((south + north) / 2)), 0.1)
    height_in = min(max(_WIDTH_IN * aspect * (north - south) / max(east - west, 1e-9), 4.0), 14.0)
    fig = Figure(figsize=(_WIDTH_IN, height_in + 0.8), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.86))
    return fig, ax, aspect


def _area_colors(areas: gpd.GeoDataFrame, tech: str, spec: MetricSpec) -> NDArray[np.object_]:
    classes = coverage_classes(column(areas, f"{tech}_{spec.pct}"))
    palette = np.array([*CLASS_COLORS, NO_DATA_COLOR], dtype=object)
    colors: NDArray[np.object_] = palette[np.where(classes < 0, len(CLASS_COLORS), classes)]
    return colors


def _draw_areas(ax: Axes, areas: gpd.GeoDataFrame, tech: str, spec: MetricSpec, *, tolerance: float) -> None:
    geoms = simplify_areas(areas.geometry.to_numpy(), tolerance=tolerance)
    frame = gpd.GeoDataFrame({"c": _area_colors(areas, tech, spec)}, geometry=geoms, crs="EPSG:4326")
    frame.plot(ax=ax, color=frame["c"].tolist(), edgecolor="#4a4a4a",
               linewidth=0.5 if len(frame) <= 300 else 0.15)  # fmt: skip


def _draw_sites(ax: Axes, sites: gpd.GeoDataFrame, tech: str) -> list[Any]:
    """Dots of the counted sites of ``tech``; their legend handle (none without such sites)."""
    from matplotlib.lines import Line2D

    pts = to_lonlat(sites)
    mask = pts["technology"].astype(str).eq(tech)
    if "counted" in pts.columns:
        mask &= pts["counted"].fillna(True).astype(bool)
    pts = pts[mask]
    if not len(pts):
        return []
    color = technology_color(tech)
    size = 7.0 if len(pts) <= 2000 else 1.5
    ax.scatter(pts.geometry.x, pts.geometry.y, s=size, c=color, linewidths=0,
               alpha=0.7, zorder=3)  # fmt: skip
    return [
        Line2D([], [], marker="o", linestyle="", markersize=4, color=color,
               label=f"{tech} sites ({len(pts):,})")
    ]  # fmt: skip


def _draw_footprints(ax: Axes, result: ResultLike, tech: str) -> list[Any]:
    """Draw the union of the technology's counted footprints, hatched; return its legend handle."""
    from matplotlib.patches import Patch

    shapes = technology_footprints(result, tech, max_sites=MAX_PNG_FOOTPRINTS)
    if shapes is None:
        log.info("more than %d %s footprints: not drawn on the PNG", MAX_PNG_FOOTPRINTS, tech)
        return []
    if not len(shapes):
        return []
    union = shapely.union_all(shapes.geometry.to_numpy())
    color = technology_color(tech)
    frame = gpd.GeoDataFrame(geometry=[union], crs="EPSG:4326")
    # hatched like the HTML map's footprint layer, so the area colours stay readable below
    frame.plot(ax=ax, facecolor="none", edgecolor=color, hatch="/////", linewidth=0, alpha=0.55, zorder=2)
    frame.boundary.plot(ax=ax, color=color, linewidth=0.7, zorder=2)
    return [Patch(facecolor="white", edgecolor=color, hatch="/////", label=f"{tech} footprints")]
