"""Text of the map: HTML escaping and numbers formatted for reading."""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

from .styles import NO_DATA_LABEL

__all__ = ["escape", "finite", "format_count", "format_km2", "format_pct", "format_value"]


def escape(value: object) -> str:
    """HTML-escape any value for text (and attribute) context; missing values become ''."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return html.escape(str(value), quote=True)


def finite(value: object) -> float | None:
    """``value`` as a finite float, or None."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def format_count(value: object) -> str:
    """Whole number with thousands separators: ``12,345``; missing: ``–``."""
    number = finite(value)
    return "–" if number is None else f"{round(number):,}"


def format_pct(value: object) -> str:
    """Percentage rounded down to 0.1 so that 98.96 never reads as the 99 % target."""
    number = finite(value)
    if number is None:
        return NO_DATA_LABEL
    return f"{math.floor(max(number, 0.0) * 10 + 1e-6) / 10:.1f} %"


def format_km2(value: object) -> str:
    """Area in km² with two decimals (one from 100 km²); missing: ``–``."""
    number = finite(value)
    if number is None:
        return "–"
    return f"{number:,.2f} km²" if abs(number) < 100 else f"{number:,.1f} km²"


def format_value(value: object) -> str:
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
