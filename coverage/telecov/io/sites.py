"""Sites: read a CSV or point layer, validate every row, normalize technologies and radii.

Rows are checked in a fixed order and a refused row keeps its first problem: coordinates,
their range, technology, radius, azimuth, beamwidth, status.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from ..errors import InputError, TelecovWarning
from ..geodesy import LONLAT
from ..vocabulary import (
    DEFAULT_BEAMWIDTH_DEG,
    DEFAULT_RADIUS_M,
    EXISTING_STATUSES,
    MAX_RADIUS_M,
    PLANNED_STATUSES,
    normalize_technology,
)
from .refusals import Refusals
from .tables import (
    TABLE_SUFFIXES,
    check_decimal_commas,
    find_column,
    parse_numbers,
    read_csv_text,
    use_decimal,
)
from .vectors import has_geometry, read_vector

LON_NAMES = ("lon", "longitude", "lng", "long")
LAT_NAMES = ("lat", "latitude")
SITE_COLUMNS = (
    "site_id", "technology", "operator", "radius_m", "azimuth", "beamwidth", "status",
    "counted", "row", "geometry",
)  # fmt: skip
"""Columns of :attr:`SiteTable.accepted`."""
_TECHNOLOGY_NAMES = ("technology", "tech", "radio", "rat", "type")
_PROJECTED_NAMES = (("x", "easting"), ("y", "northing"))
_RADIUS_NAMES = ("radius_m", "radius", "range_m")
_AZIMUTH_NAMES = ("azimuth", "azimuth_deg", "bearing")
_BEAMWIDTH_NAMES = ("beamwidth", "beamwidth_deg", "beam_width", "hbw")
_STATUS_NAMES = ("status", "state")
_ID_NAMES = ("site_id", "id", "site", "site_code", "cell_id")
_OPERATOR_NAMES = ("operator", "carrier", "network", "mno")

Floats = NDArray[np.float64]
Mask = NDArray[np.bool_]


@dataclass(frozen=True)
class SiteTable:
    """Accepted sites (lon/lat points) and refused rows."""

    accepted: gpd.GeoDataFrame
    rejected: pd.DataFrame
    read: int
    name: str


@dataclass(frozen=True)
class _LayerPoints:
    """Positions of a point layer's features in lon/lat and each feature's geometry type."""

    lon: Floats
    lat: Floats
    kind: NDArray[np.object_]  # "Point", another type name, or "empty"


def read_sites(
    source: str | Path | pd.DataFrame,
    *,
    crs: str | None = None,
    radius: Mapping[str, float] | None = None,
    include_planned: bool = False,
    encoding: str | None = None,
    decimal: str = ".",
) -> SiteTable:
    """Read and validate sites.

    Parameters
    ----------
    source
        CSV path (``lon``/``lat`` columns, or ``x``/``y`` with ``crs``), a point layer path,
        or a (Geo)DataFrame.
    crs
        CRS of ``x``/``y`` columns or of a layer without one.
    radius
        Radius (m) per technology overriding the defaults for sites without ``radius_m``.
    include_planned
        Count planned sites as well as existing ones.
    encoding
        Text encoding of a CSV (default UTF-8, with or without BOM).
    decimal
        Decimal separator of numbers in a CSV.

    Returns
    -------
    SiteTable
        Accepted sites in lon/lat and refused rows with ``row``, ``field``, ``reason``.

    Raises
    ------
    InputError
        File-level problems: missing file, no coordinate or technology column, no CRS.

    Warns
    -----
    TelecovWarning
        Rows sharing a site id, technology and azimuth (they are kept).

    """
    table, points, name, tech_col = _open_sites(source, crs=crs, encoding=encoding, decimal=decimal)
    n = len(table)
    refusals = Refusals(n)
    if points is not None:
        lon, lat = _layer_coordinates(points, refusals)
    else:
        lon, lat = _column_coordinates(
            table, crs=crs, check_commas=decimal == ".", name=name, refusals=refusals
        )
    tech = _technologies(table[tech_col], field=tech_col, refusals=refusals)
    radius_m = _radii(table, tech, overrides=radius, refusals=refusals)
    azimuth, beam = _sectors(table, refusals=refusals)
    planned = _planned(table, refusals=refusals)
    id_col = find_column(list(table.columns), _ID_NAMES)
    ok = refusals.ok
    accepted = gpd.GeoDataFrame(
        {
            "site_id": _site_ids(table, id_col)[ok],
            "technology": tech[ok],
            "operator": _operators(table)[ok],
            "radius_m": radius_m[ok],
            "azimuth": azimuth[ok],
            "beamwidth": beam[ok],
            "status": np.where(planned, "planned", "existing")[ok],
            "counted": (~planned[ok]) | include_planned,
            "row": np.arange(1, n + 1)[ok],
        },
        geometry=gpd.points_from_xy(lon[ok], lat[ok]),
        crs=LONLAT,
    )
    if id_col:
        _warn_duplicates(accepted, name=name)
    return SiteTable(accepted=accepted, rejected=refusals.frame(table), read=n, name=name)


def _open_sites(
    source: str | Path | pd.DataFrame, *, crs: str | None, encoding: str | None, decimal: str
) -> tuple[pd.DataFrame, _LayerPoints | None, str, str]:
    """Return :func:`_raw_sites` with ``.`` decimals, and the technology column."""
    table, points, name = _raw_sites(source, crs=crs, encoding=encoding)
    if len(table) == 0:
        raise InputError(f"{name}: no site rows (the file has a header only or no features)")
    tech_col = find_column(list(table.columns), _TECHNOLOGY_NAMES)
    if tech_col is None:
        raise InputError(f"{name}: no 'technology' column (columns: {', '.join(table.columns)})")
    use_decimal(table, list(table.columns), decimal)
    return table, points, name, tech_col


def _raw_sites(
    source: str | Path | pd.DataFrame, *, crs: str | None, encoding: str | None
) -> tuple[pd.DataFrame, _LayerPoints | None, str]:
    """Return the raw table (text), the layer's points (None for a table) and a name."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        suffixes = {s.lower() for s in path.suffixes}
        if path.suffix.lower() in TABLE_SUFFIXES or ".csv" in suffixes:
            return read_csv_text(path, encoding=encoding), None, str(path)
        frame: pd.DataFrame = read_vector(path)
        name = str(path)
    else:
        frame, name = source, "<sites>"
    if not has_geometry(frame):
        return _text(pd.DataFrame(frame)), None, name
    layer = cast(gpd.GeoDataFrame, frame)
    points = _layer_points(layer, crs=crs, name=name)
    return _text(pd.DataFrame(layer.drop(columns=layer.geometry.name))), points, name


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    table = frame.astype(object)
    return table.where(table.notna(), "").astype(str)


def _layer_points(layer: gpd.GeoDataFrame, *, crs: str | None, name: str) -> _LayerPoints:
    layer_crs = layer.crs or (CRS.from_user_input(crs) if crs else None)
    if layer_crs is None:
        raise InputError(f"{name}: the sites layer has no CRS; pass `sites_crs` (e.g. EPSG:4326)")
    geoms = layer.geometry
    points = geoms.notna() & ~geoms.is_empty & (geoms.geom_type == "Point")
    xs = np.full(len(layer), np.nan)
    ys = np.full(len(layer), np.nan)
    pts = gpd.GeoSeries(geoms[points].values, crs=layer_crs)
    if len(pts):
        pts = pts.to_crs(LONLAT)
        xs[points.to_numpy()] = pts.x.to_numpy()
        ys[points.to_numpy()] = pts.y.to_numpy()
    kind = np.where(geoms.isna() | geoms.is_empty, "empty", geoms.geom_type.fillna("empty").astype(str))
    return _LayerPoints(lon=xs, lat=ys, kind=kind.astype(object))


def _layer_coordinates(points: _LayerPoints, refusals: Refusals) -> tuple[Floats, Floats]:
    """Lon/lat of a point layer's features; other geometries and bad positions refused."""
    kind = points.kind
    refusals.refuse(kind == "empty", "geometry", "missing or empty geometry")
    refusals.refuse((kind != "empty") & (kind != "Point"), "geometry",
                    lambda i: f"expected a Point, got {kind[i]}")  # fmt: skip
    _refuse_out_of_range(points.lon, points.lat, xname="geometry", yname="geometry", refusals=refusals)
    return points.lon, points.lat


def _coordinate_columns(cols: list[str], *, crs: str | None, name: str) -> tuple[str, str, bool]:
    """Return the x and y columns and whether they are projected (``x``/``y``)."""
    xname, yname = find_column(cols, LON_NAMES), find_column(cols, LAT_NAMES)
    if xname and yname:
        return xname, yname, False
    xname, yname = (find_column(cols, names) for names in _PROJECTED_NAMES)
    if not (xname and yname):
        raise InputError(
            f"{name}: no coordinate columns; expected lon/lat (or longitude/latitude, "
            f"lng), or x/y with `sites_crs` (columns: {', '.join(cols)})"
        )
    if crs is None:
        raise InputError(f"{name}: columns '{xname}'/'{yname}' need `sites_crs` (e.g. EPSG:32648)")
    return xname, yname, True


def _column_coordinates(
    table: pd.DataFrame, *, crs: str | None, check_commas: bool, name: str, refusals: Refusals
) -> tuple[Floats, Floats]:
    """Lon/lat from coordinate columns (projected ones transformed); bad values refused."""
    xname, yname, projected = _coordinate_columns(list(table.columns), crs=crs, name=name)
    if check_commas:
        check_decimal_commas(table, [xname, yname], name=name)
    lon, bad_x = parse_numbers(table[xname])
    lat, bad_y = parse_numbers(table[yname])
    _refuse_text(table[xname], bad_x, field=xname, refusals=refusals)
    _refuse_text(table[yname], bad_y, field=yname, refusals=refusals)
    refusals.refuse(np.isnan(lon) & ~bad_x, xname, "missing coordinate")
    refusals.refuse(np.isnan(lat) & ~bad_y, yname, "missing coordinate")
    if projected or (crs is not None and not CRS.from_user_input(crs).is_geographic):
        tr = Transformer.from_crs(CRS.from_user_input(crs), LONLAT, always_xy=True)
        lon, lat = tr.transform(lon, lat)
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
    _refuse_out_of_range(lon, lat, xname=xname, yname=yname, refusals=refusals)
    return lon, lat


def _refuse_text(column: pd.Series, bad: Mask, *, field: str, refusals: Refusals) -> None:
    """Refuse the rows of ``column`` whose text is not a number."""
    text = column.to_numpy(dtype=object)
    refusals.refuse(bad, field, lambda i: f"not a number: {text[i]!r}")


def _refuse_out_of_range(lon: Floats, lat: Floats, *, xname: str, yname: str, refusals: Refusals) -> None:
    finite = np.isfinite(lon) & np.isfinite(lat)
    swapped = finite & (np.abs(lat) > 90) & (np.abs(lon) <= 90)
    refusals.refuse(swapped, yname, lambda i: f"latitude {lat[i]:g} out of range (lon/lat swapped?)")
    refusals.refuse(finite & (np.abs(lat) > 90), yname, lambda i: f"latitude {lat[i]:g} out of range")
    refusals.refuse(finite & (np.abs(lon) > 180), xname, lambda i: f"longitude {lon[i]:g} out of range")


def _technologies(column: pd.Series, *, field: str, refusals: Refusals) -> NDArray[np.object_]:
    """Technologies normalized to telecov's names (empty where unknown, and refused)."""
    raw = column.astype(str)
    names = {t: normalize_technology(t) or "" for t in raw.unique()}
    tech = raw.map(names).to_numpy(dtype=object)
    text = raw.to_numpy(dtype=object)
    refusals.refuse(tech == "", field, lambda i: f"unknown technology {text[i]!r}")
    return tech


def _radii(
    table: pd.DataFrame,
    tech: NDArray[np.object_],
    *,
    overrides: Mapping[str, float] | None,
    refusals: Refusals,
) -> Floats:
    """Radius of each row: its own, else the (overridden) default of its technology."""
    defaults = {**DEFAULT_RADIUS_M, **{k: float(v) for k, v in (overrides or {}).items()}}
    col = find_column(list(table.columns), _RADIUS_NAMES)
    given = _given_radii(table[col], field=col, refusals=refusals) if col else np.full(len(table), np.nan)
    default = pd.Series(tech).map(defaults).to_numpy(dtype=np.float64)
    return np.where(np.isnan(given), default, given)


def _given_radii(column: pd.Series, *, field: str, refusals: Refusals) -> Floats:
    """Radii written in the file (NaN where empty); bad values are refused."""
    rad, bad = parse_numbers(column)
    _refuse_text(column, bad, field=field, refusals=refusals)
    given = (column.astype(str).str.strip().str.lower() != "").to_numpy()
    finite = given & np.isfinite(rad)
    refusals.refuse(given & ~bad & ~np.isfinite(rad), field, "radius is NaN or infinite")
    refusals.refuse(finite & (rad <= 0), field, lambda i: f"radius {rad[i]:g} m is not positive")
    refusals.refuse(finite & (rad > MAX_RADIUS_M), field,
                    lambda i: f"radius {rad[i]:g} m is larger than {MAX_RADIUS_M:g} m")  # fmt: skip
    return np.where(given, rad, np.nan)


def _sectors(table: pd.DataFrame, *, refusals: Refusals) -> tuple[Floats, Floats]:
    """Azimuth and beamwidth of sector rows (NaN for omnidirectional ones)."""
    cols = list(table.columns)
    az_col, bw_col = find_column(cols, _AZIMUTH_NAMES), find_column(cols, _BEAMWIDTH_NAMES)
    n = len(table)
    azimuth = _azimuths(table[az_col], field=az_col, refusals=refusals) if az_col else np.full(n, np.nan)
    beam = _beamwidths(table[bw_col], field=bw_col, refusals=refusals) if bw_col else np.full(n, np.nan)
    sector = np.isfinite(azimuth) & ~(np.isfinite(beam) & (beam >= 360))
    beam = np.where(sector, np.where(np.isfinite(beam), beam, DEFAULT_BEAMWIDTH_DEG), np.nan)
    return np.where(sector, azimuth, np.nan), beam


def _azimuths(column: pd.Series, *, field: str, refusals: Refusals) -> Floats:
    azimuth, bad = parse_numbers(column)
    _refuse_text(column, bad, field=field, refusals=refusals)
    refusals.refuse(np.isinf(azimuth), field, "azimuth is infinite")
    return np.where(np.isfinite(azimuth), np.mod(azimuth, 360.0), np.nan)


def _beamwidths(column: pd.Series, *, field: str, refusals: Refusals) -> Floats:
    beam, bad = parse_numbers(column)
    _refuse_text(column, bad, field=field, refusals=refusals)
    refusals.refuse(np.isfinite(beam) & ((beam <= 0) | (beam > 360)), field,
                    lambda i: f"beamwidth {beam[i]:g} not in (0, 360]")  # fmt: skip
    refusals.refuse(np.isinf(beam), field, "beamwidth is infinite")
    return beam


def _planned(table: pd.DataFrame, *, refusals: Refusals) -> Mask:
    """Where a row's status is planned; unknown statuses are refused."""
    col = find_column(list(table.columns), _STATUS_NAMES)
    status = (
        table[col].astype(str).str.strip().str.lower().to_numpy()
        if col
        else np.full(len(table), "", dtype=object)
    )
    known = np.isin(status, list(EXISTING_STATUSES | PLANNED_STATUSES))
    refusals.refuse(~known, col or "status", lambda i: f"unknown status {status[i]!r}")
    return np.isin(status, list(PLANNED_STATUSES))


def _site_ids(table: pd.DataFrame, col: str | None) -> NDArray[np.object_]:
    if col:
        return table[col].astype(str).str.strip().to_numpy()
    return np.array([str(i + 1) for i in range(len(table))], dtype=object)


def _operators(table: pd.DataFrame) -> NDArray[np.object_]:
    col = find_column(list(table.columns), _OPERATOR_NAMES)
    if col:
        return table[col].astype(str).str.strip().replace("", "unknown").to_numpy()
    return np.full(len(table), "unknown", dtype=object)


def _warn_duplicates(accepted: gpd.GeoDataFrame, *, name: str) -> None:
    dup = accepted.duplicated(["site_id", "technology", "azimuth"], keep=False)
    if dup.any():
        warnings.warn(
            f"{name}: {int(dup.sum())} rows share (site_id, technology, azimuth) with another row, "
            f"e.g. site {accepted.loc[dup, 'site_id'].iloc[0]}; kept",
            TelecovWarning,
            stacklevel=3,
        )
