"""Vector layers: reading any OGR format or GeoParquet, and the geometry checks readers share."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from numpy.typing import NDArray
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS

from ..errors import InputError
from ..geodesy import LONLAT

POLYGONAL_TYPE_IDS = (3, 6)
"""shapely type ids of ``Polygon`` and ``MultiPolygon``."""


def read_vector(path: Path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector layer with pyogrio (GeoPackage, GeoJSON, Shapefile, GeoParquet, ...).

    Raises
    ------
    InputError
        Missing or unreadable file.

    """
    if not path.exists():
        raise InputError(f"{path}: file not found")
    try:
        if path.suffix.lower() in {".parquet", ".geoparquet"}:
            return gpd.read_parquet(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return pyogrio.read_dataframe(path, layer=layer)
    except (DataSourceError, DataLayerError, ValueError, OSError) as exc:
        raise InputError(f"{path}: not a readable vector file ({exc})") from exc


def has_geometry(frame: object) -> bool:
    """Whether ``frame`` is a GeoDataFrame with its geometry column present."""
    return isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns


def with_crs(frame: gpd.GeoDataFrame, crs: str | None, *, message: str) -> gpd.GeoDataFrame:
    """``frame`` with its own CRS, else ``crs``.

    Raises
    ------
    InputError
        ``message``, when the layer has no CRS and ``crs`` is None.

    """
    if frame.crs is not None:
        return frame
    if crs is None:
        raise InputError(message)
    return frame.set_crs(CRS.from_user_input(crs))


def missing_geometries(geoms: NDArray[np.object_]) -> NDArray[np.bool_]:
    """Where a geometry is missing (None) or empty."""
    return np.asarray(pd.isna(geoms) | shapely.is_empty(geoms), dtype=bool)


def invalid(geoms: NDArray[np.object_], usable: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Where a ``usable`` geometry is not valid (False elsewhere)."""
    bad = np.zeros(len(geoms), dtype=bool)
    bad[usable] = ~shapely.is_valid(geoms[usable])
    return bad


def to_lonlat(geoms: NDArray[np.object_], crs: object) -> NDArray[np.object_]:
    """Geometries in ``crs`` transformed to lon/lat (EPSG:4326)."""
    return np.asarray(gpd.GeoSeries(geoms, crs=crs).to_crs(LONLAT).to_numpy(), dtype=object)
