"""Points and zones of interest: read a CSV of lon/lat points or any point/polygon layer.

A CSV or workbook row is refused for a malformed line (more fields than the header), a
longitude, then a latitude that is not a number, then coordinates out of range; a layer feature
for a missing geometry, a geometry that is neither a point (a one-point MultiPoint is a point)
nor a polygon, or an invalid polygon that cannot be repaired.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from ..errors import InputError, TelecovWarning
from ..geodesy import LONLAT, is_lonlat
from .refusals import Refusals
from .sheets import is_workbook, read_sheet
from .sites import LAT_NAMES, LON_NAMES
from .tables import TABLE_SUFFIXES, find_column, read_csv_table
from .vectors import (
    POLYGONAL_TYPE_IDS,
    has_geometry,
    invalid,
    missing_geometries,
    read_vector,
    to_lonlat,
    with_crs,
)

ID_CANDIDATES = ("poi_id", "id", "code", "village_id", "ma")
NAME_CANDIDATES = ("poi_name", "name", "ten", "village_name")
_POINT_TYPE_ID = 0
_MULTIPOINT_TYPE_ID = 4

Geometries = NDArray[np.object_]


@dataclass(frozen=True)
class PoiSet:
    """One file of points or zones of interest, in lon/lat, and its refused rows."""

    name: str
    features: gpd.GeoDataFrame
    rejected: pd.DataFrame
    read: int
    source: str


def parse_poi_options(values: Sequence[str] | None) -> dict[str, Path]:
    """Turn ``NAME=FILE`` strings (``--poi``) into ``{name: path}``.

    Raises
    ------
    InputError
        A value without ``=``, an empty name, or a name given twice.

    """
    out: dict[str, Path] = {}
    for item in values or []:
        name, sep, path = item.partition("=")
        name = name.strip()
        if not sep or not name or not path.strip():
            raise InputError(f"`pois` {item!r}: expected NAME=FILE, e.g. `pois` villages=villages.gpkg")
        if name in out:
            raise InputError(f"`pois` {item!r}: the name {name!r} is given twice")
        out[name] = Path(path.strip())
    return out


def read_pois(
    source: str | Path | gpd.GeoDataFrame,
    *,
    name: str,
    crs: str | None = None,
    encoding: str | None = None,
) -> PoiSet:
    """Read points or polygons of interest from a CSV (``lon``/``lat``) or a vector layer.

    Parameters
    ----------
    source
        CSV or workbook (``.xlsx``, the one sheet with ``lon``/``lat`` columns) with
        ``lon``/``lat`` columns (WGS84), any vector file, or a GeoDataFrame.
    name
        Name of the set (``villages``, ``parks``, ...).
    crs
        CRS to assume when a vector layer has none.
    encoding
        Text encoding of a CSV file.

    Returns
    -------
    PoiSet
        Features with ``poi_id`` and ``poi_name`` first; rejects with ``poi`` (the set's name)
        first, then the original columns, ``row``, ``field`` and ``reason``.

    Raises
    ------
    InputError
        Missing file, no geometry (no coordinate columns), no CRS, or no usable feature.

    Warns
    -----
    TelecovWarning
        Some rows were refused.

    """
    label = f"`pois` {name}={source}" if isinstance(source, (str, Path)) else f"`pois` {name}"
    if isinstance(source, (str, Path)) and Path(source).suffix.lower() in TABLE_SUFFIXES:
        csv = read_csv_table(Path(source), encoding=encoding)
        attrs, geoms, refusals = _table_points(csv.frame, csv.malformed, label=label)
    elif isinstance(source, (str, Path)) and is_workbook(Path(source)):
        sheet = read_sheet(Path(source), sheet=None, wanted=_has_lonlat, option=None, what="points")
        attrs, geoms, refusals = _table_points(sheet.frame, sheet.malformed, label=label)
    else:
        attrs, geoms, refusals = _layer_features(source, label=label, crs=crs)
    read = len(attrs)
    attrs = attrs.reset_index(drop=True)
    ok = refusals.ok
    features = gpd.GeoDataFrame(attrs.loc[ok].reset_index(drop=True), geometry=list(geoms[ok]), crs=LONLAT)
    ids, names = _labels(attrs)
    features.insert(0, "poi_id", ids[ok].to_numpy())
    features.insert(1, "poi_name", names[ok].to_numpy())
    rejected = refusals.frame(attrs)
    rejected.insert(0, "poi", name)
    if read and not ok.any():
        raise InputError(f"{label}: no usable feature; every row was refused ({rejected['reason'].iloc[0]})")
    if len(refusals):
        warnings.warn(
            f"{label}: {len(refusals)} of {read} rows refused (see rejected_pois.csv)",
            TelecovWarning,
            stacklevel=2,
        )
    return PoiSet(name=name, features=features, rejected=rejected, read=read, source=str(source))


def _has_lonlat(columns: list[str]) -> bool:
    return bool(find_column(columns, LON_NAMES) and find_column(columns, LAT_NAMES))


def _table_points(
    table: pd.DataFrame, malformed: dict[int, str], *, label: str
) -> tuple[pd.DataFrame, Geometries, Refusals]:
    """Rows, their points and refusals of a table with longitude and latitude columns."""
    cols = list(table.columns)
    xname, yname = find_column(cols, LON_NAMES), find_column(cols, LAT_NAMES)
    if not (xname and yname):
        raise InputError(f"{label}: no geometry: expected lon/lat columns (columns: {', '.join(cols)})")
    lon = pd.to_numeric(table[xname].str.strip(), errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(table[yname].str.strip(), errors="coerce").to_numpy(dtype=float)
    xs, ys = table[xname].to_numpy(dtype=object), table[yname].to_numpy(dtype=object)
    refusals = Refusals(len(table))
    refusals.refuse(list(malformed), "row", lambda i: malformed[i])
    refusals.refuse(~np.isfinite(lon), xname, lambda i: f"not a longitude: {xs[i]!r}")
    refusals.refuse(~np.isfinite(lat), yname, lambda i: f"not a latitude: {ys[i]!r}")
    out_of_range = np.isfinite(lon) & np.isfinite(lat) & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
    refusals.refuse(out_of_range, yname, lambda i: f"coordinates {lon[i]:g}, {lat[i]:g} out of range")
    geoms = np.asarray(shapely.points(np.nan_to_num(lon), np.nan_to_num(lat)), dtype=object)
    return table, geoms, refusals


def _layer_features(
    source: str | Path | gpd.GeoDataFrame, *, label: str, crs: str | None
) -> tuple[pd.DataFrame, Geometries, Refusals]:
    """Attributes, geometries in lon/lat (polygons repaired) and refusals of a vector layer."""
    frame = read_vector(Path(source)) if isinstance(source, (str, Path)) else source
    if not has_geometry(frame):
        raise InputError(f"{label}: no geometry column; give points or polygons, or a CSV with lon/lat")
    message = f"{label}: the layer has no CRS; set one (e.g. EPSG:4326) in the file"
    frame = with_crs(frame, crs, message=message)
    geoms = frame.geometry.to_numpy().copy()
    refusals = Refusals(len(geoms))
    missing = missing_geometries(geoms)
    kind = shapely.get_type_id(geoms)
    single = (kind == _MULTIPOINT_TYPE_ID) & ~missing & (shapely.get_num_geometries(geoms) == 1)
    geoms[single] = shapely.get_geometry(geoms[single], 0)
    kind[single] = _POINT_TYPE_ID
    usable = np.isin(kind, [_POINT_TYPE_ID, *POLYGONAL_TYPE_IDS]) & ~missing
    refusals.refuse(missing, "geometry", "missing or empty geometry")
    refusals.refuse(
        ~usable & ~missing, "geometry", lambda i: f"expected a point or polygon, got {geoms[i].geom_type}"
    )
    _repair_polygons(geoms, usable & (kind != _POINT_TYPE_ID), refusals)
    if not is_lonlat(frame.crs):
        ok_idx = np.flatnonzero(refusals.ok)
        if ok_idx.size:
            geoms[ok_idx] = to_lonlat(geoms[ok_idx], frame.crs)
    return pd.DataFrame(frame.drop(columns=frame.geometry.name)), geoms, refusals


def _repair_polygons(geoms: Geometries, polygons: NDArray[np.bool_], refusals: Refusals) -> None:
    """Replace invalid ``polygons`` by their repaired polygonal parts, in place; refuse the rest."""
    for i in map(int, np.flatnonzero(invalid(geoms, polygons))):
        fixed = shapely.make_valid(geoms[i])
        parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
        if parts:
            geoms[i] = shapely.union_all(parts)
        else:
            refusals.refuse([i], "geometry", "invalid polygon that cannot be repaired")


def _labels(attrs: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Id and name of each feature (row numbers when the file has no id column)."""
    cols = [str(c) for c in attrs.columns]
    id_col = find_column(cols, ID_CANDIDATES)
    name_col = find_column(cols, NAME_CANDIDATES)
    ids = attrs[id_col].astype(str) if id_col else pd.Series(np.arange(1, len(attrs) + 1).astype(str))
    names = attrs[name_col].astype(str) if name_col else ids
    return ids, names
