"""Areas (communes): read any polygon layer, pick id/name fields, repair and refuse geometries.

Features are checked in a fixed order and a refused feature keeps its first problem:
geometry (missing, not a polygon), id (empty, duplicate), official population, and last an
invalid geometry that cannot be repaired. An id field that more than :data:`MAX_REPEATED_IDS`
of the features repeat is not an id, and the whole file is refused. Polygons that cross the
antimeridian are split at ±180° (:mod:`telecov.io.antimeridian`).
"""

from __future__ import annotations

import logging
import unicodedata
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from ..errors import InputError, TelecovWarning
from ..geodesy import LONLAT, is_lonlat
from .antimeridian import split_at_antimeridian
from .refusals import Refusals
from .tables import find_column
from .vectors import (
    POLYGONAL_TYPE_IDS,
    choose_layer,
    has_geometry,
    invalid,
    missing_geometries,
    read_vector,
    to_lonlat,
    with_crs,
)

log = logging.getLogger(__name__)

ID_CANDIDATES = (
    "area_id", "ma_xa", "commune_code", "ma", "code", "id", "adm3_pcode", "gid", "fid",
)  # fmt: skip
NAME_CANDIDATES = ("area_name", "ten_xa", "commune_name", "ten", "name", "adm3_en", "name_en")
DENSIFY_M = 100.0
"""Edge length (source CRS metres) to densify projected polygons to before going to lon/lat."""
MAX_REPEATED_IDS = 0.10
"""Share of features repeating an earlier feature's id above which the id field is refused."""
_ROW = "__row"


@dataclass(frozen=True)
class AreaTable:
    """Accepted areas in lon/lat with ``area_id``, ``area_name``, ``parent`` and refused rows."""

    accepted: gpd.GeoDataFrame
    rejected: pd.DataFrame
    read: int
    repaired: int
    name: str
    id_field: str | None
    name_field: str | None
    layer_bounds: tuple[float, float, float, float] | None = None
    """Lon/lat bounds of every feature of the layer, selected or not (with ``select`` only)."""
    selected_out: int = 0
    """Features left out by ``select`` (read = accepted + refused + selected out)."""


@dataclass(frozen=True)
class _Labels:
    """Per area: id, name and parent as text, and the fields they come from."""

    ids: pd.Series
    names: pd.Series
    parents: pd.Series
    id_field: str | None
    name_field: str | None


def parse_select(select: str | Mapping[str, str] | None) -> dict[str, str]:
    """Turn ``"FIELD=VALUE"`` (or a mapping) into ``{field: value}``."""
    if select is None:
        return {}
    if isinstance(select, Mapping):
        return {str(k): str(v) for k, v in select.items()}
    if "=" not in select:
        raise InputError(f"`select` {select!r}: expected FIELD=VALUE")
    field, value = select.split("=", 1)
    return {field.strip(): value.strip()}


def read_areas(
    source: str | Path | gpd.GeoDataFrame,
    *,
    area_id: str | None = None,
    area_name: str | None = None,
    parent: str | None = None,
    select: str | Mapping[str, str] | None = None,
    crs: str | None = None,
    population_field: str | None = None,
    layer: str | None = None,
) -> AreaTable:
    """Read, select, validate and repair areas; return them in lon/lat.

    Parameters
    ----------
    source
        Polygon layer path or GeoDataFrame in any CRS.
    area_id, area_name
        Fields holding the id and the name; detected among common names when None.
    parent
        Field grouping areas into parents (e.g. a province).
    select
        ``FIELD=VALUE`` keeping a subset.
    crs
        CRS to assume when the layer has none.
    population_field
        Field with an official population count per area.
    layer
        Layer name in a multi-layer file; needed when it holds several polygon layers.

    Raises
    ------
    InputError
        Missing file, no CRS, unknown field, an id field that is not an id (more than
        :data:`MAX_REPEATED_IDS` of the features repeat an id), an ambiguous multi-layer file,
        nothing selected or nothing usable.

    Warns
    -----
    TelecovWarning
        Invalid geometries were repaired; polygons across the antimeridian were split.

    """
    frame, name = _open_areas(source, crs=crs, layer=layer)
    read = len(frame)
    cols = [c for c in frame.columns if c not in (frame.geometry.name, _ROW)]
    _check_fields({"`area_id`": area_id, "`area_name`": area_name, "`parent`": parent,
                   "`population_field`": population_field}, cols=cols, name=name)  # fmt: skip
    layer_bounds = _lonlat_bounds(frame) if select else None
    frame = _selected(frame, parse_select(select), cols=cols, name=name)
    labels = _labels(frame, cols=cols, area_id=area_id, area_name=area_name, parent=parent)
    _check_id_field(labels, frame, cols=cols, name=name)
    log.info("%s: area id field %s, name field %s", name, labels.id_field or "(feature number)",
             labels.name_field or "(id)")  # fmt: skip
    geoms, split = _split(frame.geometry.to_numpy(), frame.crs, lonlat=True)
    refusals = Refusals(len(frame))
    usable = _refuse_geometries(geoms, refusals)
    _refuse_ids(labels.ids, field=labels.id_field or "id", refusals=refusals)
    official = _official_population(frame, population_field, refusals) if population_field else None
    fixed, repaired = _repaired(geoms, usable, refusals)
    if repaired:
        warnings.warn(f"{name}: repaired {repaired} invalid geometries", TelecovWarning, stacklevel=2)
    attrs = pd.DataFrame(frame.drop(columns=[frame.geometry.name, _ROW]))
    rejected = refusals.frame(attrs, rows=frame[_ROW].to_numpy())
    ok = refusals.ok
    if not ok.any():
        raise InputError(f"{name}: no usable area; every feature was refused ({rejected['reason'].iloc[0]})")
    lonlat, split_after = _split(_in_lonlat(fixed[ok], frame.crs), frame.crs, lonlat=False)
    accepted = gpd.GeoDataFrame(attrs.loc[ok].reset_index(drop=True), geometry=list(lonlat), crs=LONLAT)
    _insert_labels(accepted, labels, ok)
    _warn_split(int((split & ok).sum() + split_after.sum()), name=name)
    if official is not None:
        accepted["__official_population"] = official[ok]
    return AreaTable(
        accepted=accepted, rejected=rejected, read=read, repaired=repaired, name=name,
        id_field=labels.id_field, name_field=labels.name_field, layer_bounds=layer_bounds,
        selected_out=read - len(frame),
    )  # fmt: skip


def _open_areas(
    source: str | Path | gpd.GeoDataFrame, *, crs: str | None, layer: str | None
) -> tuple[gpd.GeoDataFrame, str]:
    """Return the layer with a CRS and a ``__row`` feature number, and its display name."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        chosen = choose_layer(path, layer=layer, expected="polygons", option="areas_layer")
        name = str(path) if chosen in (None, path.stem) else f"{path} (layer {chosen!r})"
        frame = read_vector(path, layer=chosen)
    else:
        name = "<areas>"
        frame = source
    if not has_geometry(frame):
        raise InputError(f"{name}: no geometry column; areas must be a polygon layer")
    message = f"{name}: the areas layer has no CRS; pass `areas_crs` (e.g. EPSG:4326)"
    frame = with_crs(frame, crs, message=message)
    if len(frame) == 0:
        raise InputError(f"{name}: the areas layer has no features")
    frame = frame.reset_index(drop=True)
    frame[_ROW] = np.arange(1, len(frame) + 1)
    return frame, name


def _lonlat_bounds(frame: gpd.GeoDataFrame) -> tuple[float, float, float, float] | None:
    """Lon/lat bounds of the layer's geometries (None when it has none)."""
    west, south, east, north = (float(v) for v in frame.total_bounds)
    if not np.isfinite([west, south, east, north]).all():
        return None
    if not is_lonlat(frame.crs):
        tr = Transformer.from_crs(frame.crs, LONLAT, always_xy=True)
        west, south, east, north = tr.transform_bounds(west, south, east, north, densify_pts=21)
    return west, south, east, north


def _check_fields(fields: dict[str, str | None], *, cols: list[str], name: str) -> None:
    """Refuse a field option (``--area-id`` ... → field) naming no field of the layer."""
    for label, field in fields.items():
        if field is not None and field not in cols:
            raise InputError(f"{name}: {label} field '{field}' not found (fields: {', '.join(cols)})")


def _as_text(values: pd.Series) -> pd.Series:
    """Ids and names as text exactly as written (integers without a trailing .0)."""
    out = values.astype(object).map(
        lambda v: (
            ""
            if v is None or (isinstance(v, float) and np.isnan(v))
            else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
        )
    )
    return out.astype(str)


def _selected(
    frame: gpd.GeoDataFrame, select: dict[str, str], *, cols: list[str], name: str
) -> gpd.GeoDataFrame:
    """Keep the areas whose ``select`` fields have the given values."""
    for field, value in select.items():
        if field not in cols:
            raise InputError(f"{name}: `select` field '{field}' not found (fields: {', '.join(cols)})")
        nfc = _as_text(frame[field]).map(lambda v: unicodedata.normalize("NFC", v).strip())
        frame = frame.loc[nfc == unicodedata.normalize("NFC", value).strip()]
        if frame.empty:
            raise InputError(f"{name}: `select` {field}={value} matches no area")
    return frame


def _labels(
    frame: gpd.GeoDataFrame,
    *,
    cols: list[str],
    area_id: str | None,
    area_name: str | None,
    parent: str | None,
) -> _Labels:
    id_field = area_id or find_column(cols, ID_CANDIDATES)
    name_field = area_name or find_column(cols, NAME_CANDIDATES)
    ids = _as_text(frame[id_field]) if id_field else frame[_ROW].astype(str)
    return _Labels(
        ids=ids,
        names=_as_text(frame[name_field]) if name_field else ids,
        parents=_as_text(frame[parent]) if parent else pd.Series("", index=frame.index),
        id_field=id_field,
        name_field=name_field,
    )


def _check_id_field(labels: _Labels, frame: gpd.GeoDataFrame, *, cols: list[str], name: str) -> None:
    """Refuse an id field that more than :data:`MAX_REPEATED_IDS` of the features repeat."""
    ids = labels.ids[labels.ids != ""]
    repeats = int(ids.duplicated(keep="first").sum())
    if labels.id_field is None or repeats <= MAX_REPEATED_IDS * len(labels.ids):
        return
    counts = ids.value_counts()
    example, times = str(counts.index[0]), int(counts.iloc[0])
    ordered = [c for c in ID_CANDIDATES if c in cols] + [c for c in cols if c not in ID_CANDIDATES]
    unique = [c for c in ordered if c != labels.id_field and _is_id(_as_text(frame[c]))]
    found = ", ".join(unique[:8]) + (", …" if len(unique) > 8 else "") if unique else "none"
    raise InputError(
        f"{name}: `area_id` field '{labels.id_field}' is not an id: {repeats} of {len(labels.ids)} areas "
        f"repeat an id of another (e.g. '{example}', {times} times); fields with a different value in "
        f"every area: {found}"
    )


def _is_id(values: pd.Series) -> bool:
    """Whether every value is filled and different from every other."""
    return bool((values != "").all() and not values.duplicated().any())


def _split(
    geoms: NDArray[np.object_], crs: CRS | None, *, lonlat: bool
) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    """Split at ±180°, where lon/lat: before any check (``lonlat``) or after the transform (not)."""
    if is_lonlat(crs) == lonlat:
        return split_at_antimeridian(geoms)
    return geoms, np.zeros(len(geoms), dtype=bool)


def _warn_split(n: int, *, name: str) -> None:
    if n:
        warnings.warn(f"{name}: {n} areas crossing the antimeridian split at ±180°", TelecovWarning,
                      stacklevel=3)  # fmt: skip


def _insert_labels(accepted: gpd.GeoDataFrame, labels: _Labels, ok: NDArray[np.bool_]) -> None:
    """Put ``area_id``, ``area_name`` and ``parent`` of the accepted areas first, in place."""
    accepted.insert(0, "area_id", labels.ids[ok].to_numpy())
    accepted.insert(1, "area_name", labels.names[ok].to_numpy())
    accepted.insert(2, "parent", labels.parents[ok].to_numpy())


def _refuse_geometries(geoms: NDArray[np.object_], refusals: Refusals) -> NDArray[np.bool_]:
    """Refuse missing and non-polygonal geometries; return where the geometry is usable."""
    missing = missing_geometries(geoms)
    polygonal = np.isin(shapely.get_type_id(geoms), POLYGONAL_TYPE_IDS)
    refusals.refuse(missing, "geometry", "missing or empty geometry")
    refusals.refuse(~polygonal & ~missing, "geometry",
                    lambda i: f"expected a polygon, got {geoms[i].geom_type}")  # fmt: skip
    return polygonal & ~missing


def _refuse_ids(ids: pd.Series, *, field: str, refusals: Refusals) -> None:
    """Refuse empty and repeated area ids (the first of a repeated id is kept)."""
    filled = (ids != "").to_numpy()
    refusals.refuse(~filled, field, "empty area id")
    text = ids.to_numpy(dtype=object)
    refusals.refuse(ids.duplicated(keep="first").to_numpy() & filled, field,
                    lambda i: f"duplicate area id {text[i]!r}")  # fmt: skip


def _official_population(frame: gpd.GeoDataFrame, field: str, refusals: Refusals) -> NDArray[np.float64]:
    """Official population per area; values that are not a count ≥ 0 are refused."""
    official: NDArray[np.float64] = pd.to_numeric(frame[field], errors="coerce").to_numpy(dtype=float)
    column = frame[field]
    refusals.refuse(~np.isfinite(official) | (official < 0), field,
                    lambda i: f"not a valid population: {column.iloc[i]!r}")  # fmt: skip
    return official


def _repaired(
    geoms: NDArray[np.object_], usable: NDArray[np.bool_], refusals: Refusals
) -> tuple[NDArray[np.object_], int]:
    """Geometries with the invalid usable ones repaired, and how many were; others refused."""
    fixed = geoms.copy()
    repaired = 0
    for i in map(int, np.flatnonzero(invalid(geoms, usable))):
        geom = _polygonal_part(shapely.make_valid(geoms[i], method="structure", keep_collapsed=False))
        if geom is None or geom.is_empty or geom.area == 0:
            refusals.refuse([i], "geometry", "invalid geometry that cannot be repaired")
        else:
            fixed[i] = geom
            repaired += 1
    return fixed, repaired


def _in_lonlat(geoms: NDArray[np.object_], crs: CRS | None) -> NDArray[np.object_]:
    """Geometries in lon/lat; projected ones densified to :data:`DENSIFY_M` first."""
    if is_lonlat(crs):
        return geoms
    if CRS.from_user_input(crs).is_projected:
        geoms = shapely.segmentize(geoms, DENSIFY_M)
    return to_lonlat(geoms, crs)


def _polygonal_part(geom: shapely.Geometry | None) -> shapely.Geometry | None:
    """Keep only the polygons of a repaired geometry (None when it has none)."""
    if geom is None:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return None
    return shapely.union_all(parts)
