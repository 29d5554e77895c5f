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
LAYER_KINDS = {"polygons": "Polygon", "points": "Point"}
"""What a reader expects (``polygons``, ``points``) → the word in the OGR geometry type names that match."""
NOT_DATA_LAYERS = frozenset({"layer_styles"})
"""Layers that hold no data (QGIS's styles in a GeoPackage)."""
_GENERIC_TYPES = frozenset({"Unknown", "Geometry", "GeometryCollection"})


def choose_layer(path: Path, *, layer: str | None, expected: str, option: str) -> str | None:
    """Return the layer of ``path`` to read: ``layer``, else the one of the ``expected`` geometry.

    Parameters
    ----------
    path
        A vector file (GeoPackage, zip of shapefiles, ...).
    layer
        The layer asked for, or None.
    expected
        ``polygons`` or ``points`` (:data:`LAYER_KINDS`).
    option
        The parameter naming the layer (``areas_layer``), for messages.

    Returns
    -------
    str or None
        The layer name; None to read the file's only (or first) layer.

    Raises
    ------
    InputError
        ``layer`` is not in the file, or the file holds more than one layer of the expected
        geometry (non-spatial tables and :data:`NOT_DATA_LAYERS` aside).

    """
    if path.suffix.lower() in {".parquet", ".geoparquet"} or not path.exists():
        if layer is not None and path.exists():
            raise InputError(f"{path}: a GeoParquet file has one layer; leave out `{option}`")
        return layer
    try:
        listed = [(str(n), None if t is None else str(t)) for n, t in pyogrio.list_layers(path)]
    except (DataSourceError, DataLayerError, ValueError, OSError):
        return layer  # read_vector says why the file cannot be read
    names = [n for n, _ in listed]
    if layer is not None:
        if layer not in names:
            raise InputError(
                f"{path}: no layer {layer!r} (layers: {', '.join(names)}); choose one with `{option}`"
            )
        return layer
    spatial = [(n, t) for n, t in listed if t is not None and n.lower() not in NOT_DATA_LAYERS]
    word = LAYER_KINDS[expected]
    for group in ([n for n, t in spatial if word in t], [n for n, t in spatial if t in _GENERIC_TYPES]):
        if len(group) > 1:
            raise InputError(
                f"{path} holds {len(group)} layers of {expected} ({', '.join(group)}); "
                f"choose one with `{option}`"
            )
        if group:
            return group[0]
    return None


def read_vector(path: Path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector layer with pyogrio (GeoPackage, GeoJSON, Shapefile, GeoParquet, ...).

    Rings written without their closing point are closed (GeoJSON files written by hand often
    lack it); every other problem of a geometry is left to the reader's checks.

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
            try:  # the Arrow stream is about twice as fast; any file it cannot take reads as before
                return pyogrio.read_dataframe(path, layer=layer, on_invalid="fix", use_arrow=True)
            except (DataSourceError, DataLayerError, ValueError, OSError, TypeError, NotImplementedError):
                pass
            return pyogrio.read_dataframe(path, layer=layer, on_invalid="fix")
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
