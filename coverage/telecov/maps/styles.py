"""Coverage classes and colours shared by the HTML map and the PNG."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "CLASS_BREAKS",
    "CLASS_COLORS",
    "CLASS_LABELS",
    "NO_DATA_COLOR",
    "NO_DATA_LABEL",
    "OTHER_COLOR",
    "TECHNOLOGY_COLORS",
    "coverage_classes",
    "dot_html",
    "technology_color",
    "text_color",
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
"""Colour of a technology without its own."""


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


def technology_color(technology: str) -> str:
    """Colour of a technology's sites and footprints."""
    return TECHNOLOGY_COLORS.get(technology, OTHER_COLOR)


def text_color(color: str) -> str:
    """Dark or white text, whichever reads better on the ``#rrggbb`` background ``color``."""
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return "#111" if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else "#fff"


def dot_html(color: str, *, square: bool = False) -> str:
    """Return a small round (or hatched square) swatch of ``color`` for legends and layer names."""
    cls = "tc-dot tc-sq" if square else "tc-dot"
    return f'<i class="{cls}" style="background:{color}"></i>'
