"""Sites: read a CSV or point layer, validate every row, normalize technologies and radii.

Rows are checked in a fixed order and a refused row keeps its first problem: a malformed line
(more fields than the header), coordinates, their range, technology, radius, azimuth,
beamwidth, status, then the caller's own columns (``columns``: the radio columns of
:func:`telecov.radio.columns.radio_columns`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from ..errors import InputError, TelecovWarning
from ..geodesy import LONLAT
from ..vocabulary import (
    DEFAULT_BEAMWIDTH_DEG,
    DEFAULT_RADIUS_M,
    MAX_RADIUS_M,
    Vocabulary,
    VocabularySpec,
    vocabulary_of,
)
from .refusals import Refusals
from .sheets import is_workbook, read_sheet
from .tables import (
    TABLE_SUFFIXES,
    check_decimal_commas,
    find_column,
    parse_numbers,
    read_csv_table,
    use_decimal,
)
from .vectors import choose_layer, has_geometry, read_vector

LON_NAMES = ("lon", "longitude", "lng", "long")
LAT_NAMES = ("lat", "latitude")
SITE_COLUMNS = (
    "site_id", "technology", "operator", "radius_m", "radius_source", "azimuth", "beamwidth", "status",
    "counted", "row", "geometry",
)  # fmt: skip
"""Columns of :attr:`SiteTable.accepted` (the ``columns`` hook's columns come before ``geometry``);
``radius_source`` is ``site`` for a row's own ``radius_m``, else ``default``."""
_TECHNOLOGY_NAMES = ("technology", "tech", "radio", "rat", "type")
_PROJECTED_NAMES = (("x", "easting"), ("y", "northing"))
_RADIUS_NAMES = ("radius_m", "radius", "range_m")
_AZIMUTH_NAMES = ("azimuth", "azimuth_deg", "bearing")
_BEAMWIDTH_NAMES = ("beamwidth", "beamwidth_deg", "beam_width", "hbw")
_STATUS_NAMES = ("status", "state")
_ID_NAMES = ("site_id", "id", "site", "site_code", "cell_id")
_OPERATOR_NAMES = ("operator", "carrier", "network", "mno")
_KIND_NAMES = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
               5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}  # fmt: skip

Floats = NDArray[np.float64]
Mask = NDArray[np.bool_]
ColumnReader = Callable[[pd.DataFrame, Refusals], Mapping[str, NDArray[np.float64] | NDArray[np.object_]]]
"""A hook reading more columns of the raw text table: it refuses rows and returns one array per column."""


@dataclass(frozen=True)
class SiteTable:
    """Accepted sites (lon/lat points) and refused rows."""

    accepted: gpd.GeoDataFrame
    rejected: pd.DataFrame
    read: int
    name: str


@dataclass(frozen=True)
class _Raw:
    """A sites input as a text table, its layer's points (None for a table) and malformed rows."""

    table: pd.DataFrame
    points: _LayerPoints | None
    name: str
    malformed: dict[int, str]


@dataclass(frozen=True)
class _LayerPoints:
    """Positions of a point layer's features in lon/lat and each feature's geometry type."""

    lon: Floats
    lat: Floats
    kind: NDArray[np.object_]  # "Point", another type name, "MultiPoint of N points", or "empty"


def read_sites(
    source: str | Path | pd.DataFrame,
    *,
    crs: str | None = None,
    radius: Mapping[str, float] | None = None,
    include_planned: bool = False,
    encoding: str | None = None,
    decimal: str = ".",
    layer: str | None = None,
    vocabulary: VocabularySpec | Vocabulary | None = None,
    columns: ColumnReader | None = None,
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
    encoding, decimal
        Text encoding (default UTF-8, with or without BOM) and decimal separator of a CSV.
    layer
        Layer of a multi-layer file, or sheet of a workbook, when several hold sites.
    vocabulary
        Spellings to add to the built-in ones (:func:`telecov.vocabulary.vocabulary_of`).
    columns
        Reads more columns, checked last (:func:`telecov.radio.columns.radio_columns`).

    Returns
    -------
    SiteTable
        Accepted sites in lon/lat and refused rows with ``row``, ``field``, ``reason``.

    Raises
    ------
    InputError
        File-level problems: missing file, no coordinate or technology column, no CRS, an
        ambiguous multi-layer file or workbook.

    Warns
    -----
    TelecovWarning
        Rows sharing a site id, technology and azimuth (they are kept).

    """
    words = vocabulary_of(vocabulary)
    raw = _raw_sites(source, crs=crs, encoding=encoding, layer=layer)
    table, name = raw.table, raw.name
    tech_col = _prepared(table, name=name, decimal=decimal)
    n = len(table)
    refusals = Refusals(n)
    refusals.refuse(list(raw.malformed), "row", lambda i: raw.malformed[i])
    if raw.points is not None:
        lon, lat = _layer_coordinates(raw.points, refusals)
    else:
        lon, lat = _column_coordinates(table, crs=crs, check_commas=decimal == ".", name=name,
                                       refusals=refusals)  # fmt: skip
    tech = _technologies(table[tech_col], field=tech_col, vocabulary=words, refusals=refusals)
    radius_m, own = _radii(table, tech, overrides=radius, refusals=refusals)
    azimuth, beam = _sectors(table, refusals=refusals)
    status = _statuses(table, vocabulary=words, refusals=refusals)
    id_col = find_column(list(table.columns), _ID_NAMES)
    values = {"site_id": _site_ids(table, id_col), "technology": tech, "operator": _operators(table),
              "radius_m": radius_m, "radius_source": np.where(own, "site", "default").astype(object),
              "azimuth": azimuth, "beamwidth": beam, "status": status,
              "counted": (status == "existing") | ((status == "planned") & include_planned),
              "row": np.arange(1, n + 1), **(columns(table, refusals) if columns else {})}  # fmt: skip
    ok = refusals.ok
    accepted = gpd.GeoDataFrame(
        {k: v[ok] for k, v in values.items()}, geometry=gpd.points_from_xy(lon[ok], lat[ok]), crs=LONLAT
    )
    if id_col:
        _warn_duplicates(accepted, name=name)
    return SiteTable(accepted=accepted, rejected=refusals.frame(table), read=n, name=name)


def _prepared(table: pd.DataFrame, *, name: str, decimal: str) -> str:
    """Rewrite ``decimal`` as ``.`` in place; return the technology column."""
    if len(table) == 0:
        raise InputError(f"{name}: no site rows (the file has a header only or no features)")
    tech_col = find_column(list(table.columns), _TECHNOLOGY_NAMES)
    if tech_col is None:
        raise InputError(f"{name}: no 'technology' column (columns: {', '.join(table.columns)})")
    use_decimal(table, list(table.columns), decimal)
    return tech_col


def _is_sites_table(columns: list[str]) -> bool:
    """Whether a header has a technology column and coordinate columns."""
    coords = any(find_column(columns, xs) and find_column(columns, ys)
                 for xs, ys in ((LON_NAMES, LAT_NAMES), _PROJECTED_NAMES))  # fmt: skip
    return coords and find_column(columns, _TECHNOLOGY_NAMES) is not None


def _raw_sites(source: str | Path | pd.DataFrame, *, crs: str | None, encoding: str | None,
               layer: str | None) -> _Raw:  # fmt: skip
    """Return the raw table (text), the layer's points (None for a table), a name and malformed rows."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        suffixes = {s.lower() for s in path.suffixes}
        if path.suffix.lower() in TABLE_SUFFIXES or ".csv" in suffixes:
            if layer is not None:
                raise InputError(f"{path}: a CSV file has no layers; leave out `sites_layer`")
            csv = read_csv_table(path, encoding=encoding)
            return _Raw(csv.frame, None, str(path), csv.malformed)
        if is_workbook(path):
            sheet = read_sheet(path, sheet=layer, wanted=_is_sites_table, option="sites_layer", what="sites")
            return _Raw(sheet.frame, None, f"{path} (sheet {sheet.sheet!r})", sheet.malformed)
        chosen = choose_layer(path, layer=layer, expected="points", option="sites_layer")
        frame: pd.DataFrame = read_vector(path, layer=chosen)
        name = str(path) if chosen in (None, path.stem) else f"{path} (layer {chosen!r})"
    else:
        frame, name = source, "<sites>"
    if not has_geometry(frame):
        return _Raw(_text(pd.DataFrame(frame)), None, name, {})
    points_layer = cast(gpd.GeoDataFrame, frame)
    points = _layer_points(points_layer, crs=crs, name=name)
    return _Raw(_text(pd.DataFrame(points_layer.drop(columns=points_layer.geometry.name))), points, name, {})


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    table = frame.astype(object)
    return table.where(table.notna(), "").astype(str)


def _layer_points(layer: gpd.GeoDataFrame, *, crs: str | None, name: str) -> _LayerPoints:
    layer_crs = layer.crs or (CRS.from_user_input(crs) if crs else None)
    if layer_crs is None:
        raise InputError(f"{name}: the sites layer has no CRS; pass `sites_crs` (e.g. EPSG:4326)")
    geoms = layer.geometry.to_numpy()
    empty = np.asarray(pd.isna(geoms) | shapely.is_empty(geoms), dtype=bool)
    type_ids = shapely.get_type_id(geoms)
    kind = np.array(["empty" if e else _KIND_NAMES[int(t)] for e, t in zip(empty, type_ids, strict=True)],
                    dtype=object)  # fmt: skip
    parts = np.zeros(len(geoms), dtype=np.int64)
    multi = kind == "MultiPoint"
    parts[multi] = shapely.get_num_geometries(geoms[multi])
    single = multi & (parts == 1)
    geoms = geoms.copy()
    geoms[single] = shapely.get_geometry(geoms[single], 0)
    kind[single] = "Point"
    kind[multi & (parts > 1)] = [f"MultiPoint of {p} points" for p in parts[multi & (parts > 1)]]
    points = kind == "Point"
    xs = np.full(len(layer), np.nan)
    ys = np.full(len(layer), np.nan)
    pts = gpd.GeoSeries(geoms[points], crs=layer_crs)
    if len(pts):
        pts = pts.to_crs(LONLAT)
        xs[points] = pts.x.to_numpy()
        ys[points] = pts.y.to_numpy()
    return _LayerPoints(lon=xs, lat=ys, kind=kind)


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


def _technologies(
    column: pd.Series, *, field: str, vocabulary: Vocabulary, refusals: Refusals
) -> NDArray[np.object_]:
    """Technologies normalized to telecov's names (empty where unknown, and refused)."""
    raw = column.astype(str)
    names = {t: vocabulary.technology_of(t) or "" for t in raw.unique()}
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
) -> tuple[Floats, Mask]:
    """Radius of each row: its own, else the (overridden) default of its technology; and where own."""
    defaults = {**DEFAULT_RADIUS_M, **{k: float(v) for k, v in (overrides or {}).items()}}
    col = find_column(list(table.columns), _RADIUS_NAMES)
    given = _given_radii(table[col], field=col, refusals=refusals) if col else np.full(len(table), np.nan)
    default = pd.Series(tech).map(defaults).to_numpy(dtype=np.float64)
    own = ~np.isnan(given)
    return np.where(own, given, default), own


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


def _statuses(table: pd.DataFrame, *, vocabulary: Vocabulary, refusals: Refusals) -> NDArray[np.object_]:
    """Each row's status (``existing``, ``planned`` or ``inactive``); unknown statuses are refused."""
    col = find_column(list(table.columns), _STATUS_NAMES)
    if col is None:
        return np.full(len(table), "existing", dtype=object)
    raw = table[col].astype(str)
    names = {s: vocabulary.status_of(s) or "" for s in raw.unique()}
    status = raw.map(names).to_numpy(dtype=object)
    text = raw.str.strip().to_numpy(dtype=object)
    refusals.refuse(status == "", col, lambda i: f"unknown status {text[i]!r}")
    return status


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
