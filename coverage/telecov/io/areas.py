"""Areas (communes): read any polygon layer, pick id/name fields, repair and refuse geometries."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ..errors import InputError
from ..geodesy import LONLAT, is_lonlat
from .tables import find_column, read_vector

log = logging.getLogger(__name__)

ID_CANDIDATES = (
    "area_id", "ma_xa", "commune_code", "ma", "code", "id", "adm3_pcode", "gid", "fid",
)  # fmt: skip
NAME_CANDIDATES = ("area_name", "ten_xa", "commune_name", "ten", "name", "adm3_en", "name_en")
DENSIFY_M = 100.0
"""Edge length (source CRS metres) to densify projected polygons to before going to lon/lat."""


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


def parse_select(select: str | Mapping[str, str] | None) -> dict[str, str]:
    """Turn ``"FIELD=VALUE"`` (or a mapping) into ``{field: value}``."""
    if select is None:
        return {}
    if isinstance(select, Mapping):
        return {str(k): str(v) for k, v in select.items()}
    if "=" not in select:
        raise InputError(f"--select {select!r}: expected FIELD=VALUE")
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
        Layer name in a multi-layer file.

    Raises
    ------
    InputError
        Missing file, no CRS, unknown field, nothing selected or nothing usable.

    """
    if isinstance(source, (str, Path)):
        name = str(source)
        frame = read_vector(Path(source), layer=layer)
    else:
        name = "<areas>"
        frame = source
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise InputError(f"{name}: no geometry column; areas must be a polygon layer")
    if frame.crs is None:
        if crs is None:
            raise InputError(f"{name}: the areas layer has no CRS; pass --areas-crs (e.g. EPSG:4326)")
        frame = frame.set_crs(CRS.from_user_input(crs))
    read = len(frame)
    if read == 0:
        raise InputError(f"{name}: the areas layer has no features")
    frame = frame.reset_index(drop=True)
    frame["__row"] = np.arange(1, read + 1)
    cols = [c for c in frame.columns if c not in (frame.geometry.name, "__row")]
    for label, field in (("--area-id", area_id), ("--area-name", area_name), ("--parent", parent),
                         ("--population-field", population_field)):  # fmt: skip
        if field is not None and field not in cols:
            raise InputError(f"{name}: {label} field '{field}' not found (fields: {', '.join(cols)})")
    for field, value in parse_select(select).items():
        if field not in cols:
            raise InputError(f"{name}: --select field '{field}' not found (fields: {', '.join(cols)})")
        frame = frame.loc[_as_text(frame[field]) == value]
        if frame.empty:
            raise InputError(f"{name}: --select {field}={value} matches no area")
    id_field = area_id or find_column(cols, ID_CANDIDATES)
    name_field = area_name or find_column(cols, NAME_CANDIDATES)
    log.info("%s: area id field %s, name field %s", name, id_field or "(feature number)",
             name_field or "(id)")  # fmt: skip
    ids = _as_text(frame[id_field]) if id_field else frame["__row"].astype(str)
    names = _as_text(frame[name_field]) if name_field else ids
    parents = _as_text(frame[parent]) if parent else pd.Series("", index=frame.index)

    reasons: dict[int, tuple[str, str]] = {}
    geoms = frame.geometry.to_numpy()
    missing = pd.isna(geoms) | shapely.is_empty(geoms)
    for i in map(int, np.flatnonzero(missing)):
        reasons[i] = ("geometry", "missing or empty geometry")
    kinds = shapely.get_type_id(geoms)
    polygonal = np.isin(kinds, [3, 6])
    for i in map(int, np.flatnonzero(~polygonal & ~missing)):
        reasons[i] = ("geometry", f"expected a polygon, got {geoms[i].geom_type}")
    for i in map(int, np.flatnonzero((ids == "").to_numpy())):
        reasons.setdefault(i, (id_field or "id", "empty area id"))
    dup = ids.duplicated(keep="first").to_numpy() & (ids != "").to_numpy()
    for i in map(int, np.flatnonzero(dup)):
        reasons.setdefault(i, (id_field or "id", f"duplicate area id {ids.iloc[i]!r}"))
    official = None
    if population_field:
        official = pd.to_numeric(frame[population_field], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(official) | (official < 0)
        for i in map(int, np.flatnonzero(bad)):
            reasons.setdefault(
                i, (population_field, f"not a valid population: {frame[population_field].iloc[i]!r}")
            )
    usable = polygonal & ~missing
    valid = np.ones(len(geoms), dtype=bool)
    valid[usable] = shapely.is_valid(geoms[usable])
    repaired = 0
    fixed = geoms.copy()
    for i in map(int, np.flatnonzero(usable & ~valid)):
        geom = shapely.make_valid(geoms[i], method="structure", keep_collapsed=False)
        geom = _polygonal_part(geom)
        if geom is None or geom.is_empty or geom.area == 0:
            reasons.setdefault(i, ("geometry", "invalid geometry that cannot be repaired"))
        else:
            fixed[i] = geom
            repaired += 1
    if repaired:
        log.warning("%s: repaired %d invalid geometries", name, repaired)

    source_crs = frame.crs
    ok = np.array([i not in reasons for i in range(len(frame))], dtype=bool)
    accepted_geoms = fixed[ok]
    if not is_lonlat(source_crs):
        if CRS.from_user_input(source_crs).is_projected:
            accepted_geoms = shapely.segmentize(accepted_geoms, DENSIFY_M)
        accepted_geoms = gpd.GeoSeries(accepted_geoms, crs=source_crs).to_crs(LONLAT).to_numpy()
    attrs = pd.DataFrame(frame.drop(columns=[frame.geometry.name, "__row"]))
    accepted = gpd.GeoDataFrame(
        attrs.loc[ok].reset_index(drop=True), geometry=list(accepted_geoms), crs=LONLAT
    )
    accepted.insert(0, "area_id", ids[ok].to_numpy())
    accepted.insert(1, "area_name", names[ok].to_numpy())
    accepted.insert(2, "parent", parents[ok].to_numpy())
    if official is not None:
        accepted["__official_population"] = official[ok]
    rows = frame["__row"].to_numpy()
    bad_idx = [i for i in range(len(frame)) if i in reasons]
    rejected = pd.DataFrame(attrs.iloc[bad_idx]).reset_index(drop=True)
    rejected["row"] = rows[bad_idx] if bad_idx else np.zeros(0, dtype=np.int64)
    rejected["field"] = [reasons[i][0] for i in bad_idx]
    rejected["reason"] = [reasons[i][1] for i in bad_idx]
    if not ok.any():
        raise InputError(f"{name}: no usable area; every feature was refused ({rejected['reason'].iloc[0]})")
    return AreaTable(
        accepted=accepted,
        rejected=rejected,
        read=read,
        repaired=repaired,
        name=name,
        id_field=id_field,
        name_field=name_field,
    )


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry | None:
    """Keep only the polygons of a repaired geometry."""
    if geom is None:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return None
    return shapely.union_all(parts)
