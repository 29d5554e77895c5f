"""Data the map page draws: areas with their figures per technology, sites, tooltips, totals.

Every text that reaches the page is HTML-escaped here; numbers arrive already formatted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import InputError
from ..vocabulary import BASE_TECHNOLOGIES, COMBINED_LAYERS, METRICS, normalize_layer
from .formatting import escape, finite, format_count, format_km2, format_pct, format_value
from .geometry import COORD_DECIMALS, encode_polygons, simplify_areas
from .styles import CLASS_COLORS, NO_DATA_COLOR, coverage_classes

__all__ = [
    "METRIC_SPECS",
    "MetricSpec",
    "ResultLike",
    "attribute_html",
    "check_options",
    "column",
    "commune_payload",
    "poi_styles",
    "site_rows",
    "technologies",
    "text_column",
    "totals",
]


class ResultLike(Protocol):
    """What the map functions read from an analysis result (:class:`telecov.Result`)."""

    @property
    def areas(self) -> gpd.GeoDataFrame:
        """Areas in any CRS with the ``<technology>_<metric>`` columns."""
        ...

    @property
    def sites(self) -> gpd.GeoDataFrame:
        """Sites as points, with ``technology`` (and ``counted``, ``status``, ...)."""
        ...

    @property
    def table(self) -> pd.DataFrame:
        """The coverage table, whose ``total`` rows give the headline figures."""
        ...


@dataclass(frozen=True)
class MetricSpec:
    """Columns and wording of one metric (``population``, ``residential`` or ``area``)."""

    pct: str  # column suffix of the percentage
    whole: str  # suffix of the denominator
    covered: str  # suffix of the covered part
    phrase: str  # "of the population covered"
    unit: str  # "people" or "km2"
    extra_label: str | None  # label of the uncovered quantity in the metric's unit
    word: str  # the metric in a sentence: "residential area"
    no_data: str  # why an area has no data: "no people"


METRIC_SPECS: dict[str, MetricSpec] = {
    "population": MetricSpec(
        "population_pct", "population", "covered_population",
        "of the population covered", "people", None, "population", "no people",
    ),
    "residential": MetricSpec(
        "residential_pct", "residential_km2", "covered_residential_km2",
        "of the residential area covered", "km2", "Uncovered residential area",
        "residential area", "no residential area",
    ),
    "area": MetricSpec(
        "area_pct", "area_km2", "covered_km2", "of the area covered", "km2", "Uncovered area",
        "area", "no area",
    ),
}  # fmt: skip


def technologies(areas: pd.DataFrame, spec: MetricSpec) -> list[str]:
    """List the base technologies, then the combined layers the areas have figures for."""
    extra = [t for t in COMBINED_LAYERS if f"{t}_{spec.pct}" in areas.columns]
    return [*BASE_TECHNOLOGIES, *extra]


def check_options(result: ResultLike, technology: str, metric: str) -> tuple[str, MetricSpec]:
    """Check a technology and metric: the normalized technology and the metric's spec."""
    if metric not in METRIC_SPECS:
        raise InputError(f"unknown metric {metric!r}: use one of {', '.join(METRICS)}")
    spec = METRIC_SPECS[metric]
    tech = normalize_layer(technology) if isinstance(technology, str) else None
    available = technologies(result.areas, spec)
    if tech is None or tech not in available:
        raise InputError(f"unknown technology {technology!r}: use one of {', '.join(available)}")
    missing = [c for c in ("geometry", f"{tech}_{spec.pct}") if c not in result.areas.columns]
    if missing:
        raise InputError(f"the result's areas lack the column(s) {', '.join(missing)}")
    return tech, spec


def column(frame: pd.DataFrame, name: str) -> NDArray[np.float64]:
    """Read a numeric column as floats (NaN where missing or not a number; all NaN when absent)."""
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)


def text_column(frame: pd.DataFrame, name: str) -> list[str]:
    """Escaped text of a column (each distinct value escaped once)."""
    if name not in frame.columns:
        return [""] * len(frame)
    codes, uniques = pd.factorize(frame[name].to_numpy(dtype=object), use_na_sentinel=True)
    escaped = np.array([escape(v) for v in uniques] + [""], dtype=object)
    return [str(v) for v in escaped[codes]]


def _uncovered(areas: pd.DataFrame, tech: str, whole: str, covered: str) -> NDArray[np.float64]:
    return np.clip(column(areas, f"{tech}_{whole}") - column(areas, f"{tech}_{covered}"), 0, None)


def _figures(areas: pd.DataFrame, tech: str, spec: MetricSpec) -> list[list[Any]]:
    """Per area: class, share, uncovered people (and the uncovered quantity) of one technology."""
    pct = column(areas, f"{tech}_{spec.pct}")
    classes = coverage_classes(pct).tolist()
    people = _uncovered(areas, tech, "population", "covered_population")
    extra = _uncovered(areas, tech, spec.whole, spec.covered) if spec.extra_label else None
    cells: list[list[Any]] = []
    for i in range(len(areas)):
        cell: list[Any] = [classes[i], format_pct(pct[i]), format_count(people[i])]
        if extra is not None:
            cell.append(format_km2(extra[i]))
        cells.append(cell)
    return cells


def commune_payload(
    areas: gpd.GeoDataFrame, techs: list[str], spec: MetricSpec, *, tolerance: float, decimals: int
) -> dict[str, Any]:
    """Encode the areas' outlines and, per technology, their class and formatted figures."""
    geoms = simplify_areas(areas.geometry.to_numpy(), tolerance=tolerance, decimals=decimals)
    ids = text_column(areas, "area_id")
    names = text_column(areas, "area_name")
    parents = text_column(areas, "parent")
    population = column(areas, f"{techs[0]}_population")
    per_tech = [_figures(areas, tech, spec) for tech in techs]
    encoded = encode_polygons(geoms, decimals)
    features = []
    for i in range(len(geoms)):
        props = {
            "id": ids[i],
            "n": names[i] or ids[i],
            "p": parents[i],
            "v": format_count(population[i]),
            "m": [cells[i] for cells in per_tech],
        }
        features.append({"g": encoded[i], "p": props})
    return {"scale": 10**decimals, "features": features}


def _total_row(table: object, tech: str) -> pd.Series | None:
    """Find the ``total`` row of a technology (all operators) in a result's table, if any."""
    if not isinstance(table, pd.DataFrame) or not {"level", "technology"} <= set(table.columns):
        return None
    rows = table[(table["level"] == "total") & (table["technology"] == tech)]
    if "operator" in rows.columns:
        rows = rows[rows["operator"] == "all"]
    return rows.iloc[0] if len(rows) else None


def _total_text(row: pd.Series, tech: str, spec: MetricSpec) -> str:
    pct = format_pct(row.get(spec.pct))
    people = finite(row.get("population"))
    covered = finite(row.get("covered_population"))
    text = f"All areas: <b>{escape(pct)}</b> {escape(spec.phrase)} by {escape(tech)}"
    if people is not None and covered is not None:
        text += f"<br>{format_count(max(people - covered, 0))} of {format_count(people)} people uncovered"
    if spec.extra_label:
        whole, part = finite(row.get(spec.whole)), finite(row.get(spec.covered))
        if whole is not None and part is not None:
            text += f"<br>{escape(spec.extra_label)}: {format_km2(max(whole - part, 0))}"
    return text


def totals(result: ResultLike, techs: list[str], spec: MetricSpec) -> list[str]:
    """HTML line of the whole-result figures of each technology ('' without a total row)."""
    table = getattr(result, "table", None)
    out = []
    for tech in techs:
        row = _total_row(table, tech)
        out.append("" if row is None else _total_text(row, tech, spec))
    return out


def site_rows(sites: pd.DataFrame, operators: dict[str, int]) -> list[list[Any]]:
    """Compact rows ``[lat, lon, id, operator, radius, status(, azimuth, width)]`` of sites.

    Status: 0 existing, 1 planned and not counted, 2 planned and counted, 3 not counted.
    """
    lon = np.round(sites.geometry.x.to_numpy(dtype=np.float64), COORD_DECIMALS)
    lat = np.round(sites.geometry.y.to_numpy(dtype=np.float64), COORD_DECIMALS)
    ids = text_column(sites, "site_id")
    ops = [operators[o] for o in text_column(sites, "operator")]
    radius = np.nan_to_num(column(sites, "radius_m"), nan=0.0)
    azimuth = column(sites, "azimuth")
    width = column(sites, "beamwidth")
    # a radio lobe without beamwidth: its pattern's 3 dB width
    width = np.where(np.isfinite(width), width, column(sites, "pattern_beamwidth"))
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


def attribute_html(
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
            f"<tr><th>{escape(c)}</th><td>{escape(format_value(values[c][i]))}</td></tr>" for c in columns
        )
        out.append(f'<div class="tc-tip"><div class="tc-name">{escape(heading)}</div>'
                   f"<table>{cells}</table></div>")  # fmt: skip
    return out


def poi_styles(pois: gpd.GeoDataFrame, tech: str) -> list[dict[str, str]]:
    """Fill colour of each point of interest: covered by ``tech``, not covered, or no data."""
    for name in (f"{tech}_covered", "covered"):
        if name in pois.columns:
            flags = pois[name].astype("boolean").tolist()
            return [
                {"fillColor": CLASS_COLORS[-1] if f else CLASS_COLORS[0]}
                if f is not pd.NA
                else {"fillColor": NO_DATA_COLOR}
                for f in flags
            ]
    return [{} for _ in range(len(pois))]
