"""Boundary versions: an old → new area crosswalk with area and population weights.

Vietnam merged its communes on 1 July 2025 (about 10,000 → 3,321). A crosswalk row says which
share of an old commune lies in a new one:

- ``intersection_km2``: ellipsoidal area (pyproj ``Geod``) of old ∩ new;
- ``area_share``: that area over the old commune's area (sums to the share of the old commune
  covered by the new boundaries: below 1 where generalized boundaries leave slivers);
- ``area_weight``: ``area_share`` renormalized over the kept pieces, so it sums to 1 per old
  commune (pieces below ``min_share`` of the old commune are dropped as slivers, the largest
  piece is always kept; an old commune overlapping no new one goes whole to the nearest);
- with a population raster, ``population`` (people in the piece, measured by telecov's own
  engine: each pixel's people spread over its true area, partial pixels by fraction) and
  ``population_weight`` (sums to 1 per old commune; equal to ``area_weight`` when the old
  commune has no people in the raster).

:func:`reaggregate` moves figures known on old boundaries onto new ones with these weights.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .engine.partition import Footprints, regions_from_geometries
from .engine.scan import BASE_FIELDS, measure_polygons
from .engine.tasks import measure_with
from .errors import InputError, TelecovWarning
from .geodesy import geodesic_area_km2
from .io.areas import read_areas
from .io.population import open_population
from .io.tables import read_csv_text
from .vocabulary import DEFAULT_MIN_SHARE

CROSSWALK_COLUMNS = (
    "from_id", "from_name", "to_id", "to_name", "match", "intersection_km2", "area_share",
    "area_weight", "population", "population_weight",
)  # fmt: skip
AREA_COLUMNS = ("area_km2", "covered_km2", "residential_km2", "covered_residential_km2")
PEOPLE_COLUMNS = (
    "population", "covered_population", "residential_population", "covered_residential_population",
)  # fmt: skip


@dataclass(frozen=True)
class Crosswalk:
    """Outcome of :func:`crosswalk`: the table (``CROSSWALK_COLUMNS``) and counts."""

    table: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep the polygonal parts of intersection results (lines and points dropped)."""
    out = np.empty(len(geoms), dtype=object)
    for i, g in enumerate(geoms):
        if g is None or g.is_empty:
            out[i] = None
        elif g.geom_type in ("Polygon", "MultiPolygon"):
            out[i] = g
        else:
            parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
            out[i] = shapely.union_all(parts) if parts else None
    return out


def _read(
    source: str | Path | gpd.GeoDataFrame,
    *,
    id_field: str | None,
    name_field: str | None,
    select: str | None,
    role: str,
) -> Any:
    table = read_areas(source, area_id=id_field, area_name=name_field, select=select)
    if len(table.accepted) == 0:
        raise InputError(f"{table.name}: no usable {role} areas")
    dup = table.accepted["area_id"].duplicated()
    if dup.any():
        raise InputError(
            f"{table.name}: {role} area id {table.accepted['area_id'][dup].iloc[0]!r} is not unique; "
            f"pass --{role}-id with a unique field"
        )
    return table


def _piece_population(
    pieces: np.ndarray, population: Any, *, resolution_m: float, client: Any = None
) -> np.ndarray:
    """People in each piece, measured by the engine (by a dask cluster's workers with a ``client``)."""
    with open_population(population) as raster:
        if client is None:
            measures = measure_polygons(pieces, raster, resolution_m=resolution_m)
        else:
            regions = regions_from_geometries(np.asarray(pieces, dtype=object))
            measures = measure_with(
                client, regions, Footprints.empty(), [], raster, population=population,
                residential_density=0.0, resolution_m=resolution_m,
            )  # fmt: skip
    n = len(pieces)
    return np.asarray(measures.base[:n, BASE_FIELDS.index("population")], dtype=np.float64)


def crosswalk(
    old: str | Path | gpd.GeoDataFrame,
    new: str | Path | gpd.GeoDataFrame,
    *,
    population: str | Path | Any | None = None,
    from_id: str | None = None,
    to_id: str | None = None,
    from_name: str | None = None,
    to_name: str | None = None,
    from_select: str | None = None,
    to_select: str | None = None,
    min_share: float = DEFAULT_MIN_SHARE,
    resolution_m: float = 50.0,
    client: Any = None,
) -> Crosswalk:
    """Build the old → new crosswalk with area (and population) weights.

    Parameters
    ----------
    old, new
        Polygon layers (paths or GeoDataFrames) of the old and new boundaries.
    population
        Population raster (path or open dataset) for population weights.
    from_id, to_id, from_name, to_name
        Id and name fields of the old and new layers (detected when None).
    from_select, to_select
        ``"FIELD=VALUE"`` keeping a subset of the old / new areas (e.g. one province).
    min_share
        Pieces below this share of the old area are dropped as slivers (0 keeps all).
    resolution_m
        Scan-line spacing of the population measure (metres).
    client
        A ``distributed.Client``: the pieces' people are measured by its workers, which open
        ``population`` themselves (see :func:`telecov.analyze`). None: in this process.

    Returns
    -------
    Crosswalk

    Raises
    ------
    InputError
        Unreadable layers, ids that are not unique, bad options.

    """
    if not 0 <= min_share < 1:
        raise InputError(f"`min_share` {min_share}: must be in [0, 1)")
    olds = _read(old, id_field=from_id, name_field=from_name, select=from_select, role="from")
    news = _read(new, id_field=to_id, name_field=to_name, select=to_select, role="to")
    og = olds.accepted.geometry.to_numpy()
    frame, pieces, dropped, nearest = _overlaps(og, news.accepted.geometry.to_numpy(), min_share=min_share)
    frame["area_weight"] = _area_weights(frame)
    if population is not None:
        frame["population"] = _piece_population(pieces, population, resolution_m=resolution_m, client=client)
        psum = frame.groupby("i")["population"].transform("sum").to_numpy()
        frame["population_weight"] = np.where(
            psum > 0, frame["population"] / np.where(psum > 0, psum, 1.0), frame["area_weight"]
        )
    else:
        frame["population"] = np.nan
        frame["population_weight"] = np.nan
    table = _table(frame, olds.accepted, news.accepted)
    covered = table.groupby("from_id")["area_share"].sum()
    summary = {
        "from": {"read": olds.read, "used": len(olds.accepted), "refused": len(olds.rejected)},
        "to": {"read": news.read, "used": len(news.accepted), "refused": len(news.rejected)},
        "rows": len(table),
        "slivers_dropped": dropped,
        "nearest": nearest,
        "split": int((table.groupby("from_id").size() > 1).sum()),
        "from_area_covered_min": float(covered.min()) if len(covered) else float("nan"),
        "population": float(np.nansum(table["population"])) if population is not None else None,
    }
    return Crosswalk(table=table, summary=summary)


def _overlaps(
    og: np.ndarray, ng: np.ndarray, *, min_share: float
) -> tuple[pd.DataFrame, np.ndarray, int, int]:
    """Pieces old ∩ new (slivers dropped) and, for old areas overlapping none, the nearest new one.

    Returns the frame (``i`` old, ``j`` new, ``km2``, ``share``, ``match``), the piece
    geometries (a nearest match's piece is the whole old area), the slivers dropped and the
    old areas matched to the nearest new one.
    """
    tree = shapely.STRtree(ng)
    left, right = tree.query(og, predicate="intersects")
    pieces = _polygonal(shapely.intersection(og[left], ng[right]))
    keep = np.array([p is not None for p in pieces], dtype=bool)
    left, right, pieces = left[keep], right[keep], pieces[keep]
    piece_km2 = geodesic_area_km2(pieces)
    old_km2 = geodesic_area_km2(og)
    share = np.divide(piece_km2, old_km2[left], out=np.zeros_like(piece_km2), where=old_km2[left] > 0)
    frame = pd.DataFrame({"i": left, "j": right, "km2": piece_km2, "share": share})
    largest = frame.groupby("i")["km2"].transform("max") == frame["km2"]
    kept = ((frame["share"] >= min_share) | largest).to_numpy()
    frame = frame[kept].reset_index(drop=True)
    pieces = pieces[kept]
    frame["match"] = "overlap"
    missing = np.setdiff1d(np.arange(len(og)), frame["i"].to_numpy())
    if len(missing):
        near = tree.query_nearest(og[missing], all_matches=False)
        extra = pd.DataFrame(
            {"i": missing[near[0]], "j": near[1], "km2": 0.0, "share": 0.0, "match": "nearest"}
        )
        warnings.warn(
            f"{len(missing)} old areas overlap no new area; each goes whole to the nearest new area "
            "(match = nearest)",
            TelecovWarning, stacklevel=3,
        )  # fmt: skip
        frame = pd.concat([frame, extra], ignore_index=True)
        pieces = np.concatenate([pieces, og[extra["i"].to_numpy()]])
    return frame, pieces, int((~kept).sum()), len(missing)


def _area_weights(frame: pd.DataFrame) -> np.ndarray:
    """Each piece's share of its old area's kept pieces (split evenly among zero-area pieces)."""
    total = frame.groupby("i")["km2"].transform("sum").to_numpy()
    weight = np.where(total > 0, frame["km2"] / np.where(total > 0, total, 1.0), 1.0)
    n_per_old = frame.groupby("i")["i"].transform("size").to_numpy()
    even = (total == 0) & (n_per_old > 1)
    weight[even] = 1.0 / n_per_old[even]
    return weight


def _table(frame: pd.DataFrame, oa: gpd.GeoDataFrame, na: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the crosswalk table (:data:`CROSSWALK_COLUMNS`), sorted by old then new id."""
    table = pd.DataFrame(
        {
            "from_id": oa["area_id"].to_numpy()[frame["i"]],
            "from_name": oa["area_name"].to_numpy()[frame["i"]],
            "to_id": na["area_id"].to_numpy()[frame["j"]],
            "to_name": na["area_name"].to_numpy()[frame["j"]],
            "match": frame["match"].to_numpy(),
            "intersection_km2": frame["km2"].to_numpy(),
            "area_share": frame["share"].to_numpy(),
            "area_weight": frame["area_weight"].to_numpy(),
            "population": frame["population"].to_numpy(),
            "population_weight": frame["population_weight"].to_numpy(),
        }
    )
    return table.sort_values(["from_id", "to_id"], kind="stable").reset_index(drop=True)


def reaggregate(
    values: pd.DataFrame | pd.Series,
    crosswalk: pd.DataFrame | Crosswalk,
    *,
    id_column: str | None = None,
    columns: Sequence[str] | None = None,
    weight: str | None = None,
) -> pd.DataFrame:
    """Move counts known per old area onto new areas with the crosswalk's weights.

    Parameters
    ----------
    values
        Either a telecov coverage table (``level``, ``area_id``, ``technology``, ... — its
        ``area`` rows are re-aggregated per technology (and operator), km² columns with
        ``area_weight``, people columns with ``population_weight``, and the percentages
        recomputed), or any table of counts with an id column, or a Series indexed by old id.
    crosswalk
        A :class:`Crosswalk` or its table (``from_id``, ``to_id``, weights).
    id_column
        Old-id column of a plain table (default ``area_id`` or ``from_id`` if present, else
        the first column).
    columns
        Count columns of a plain table (default: every numeric column).
    weight
        Weight column for a plain table (default ``population_weight`` when filled, else
        ``area_weight``).

    Returns
    -------
    pandas.DataFrame
        One row per new area (per technology/operator for a coverage table). Shares are
        additive only for counts; a coverage table's covered figures assume coverage spread
        evenly within each old area — re-run the report on the new boundaries when you can.

    """
    cw = crosswalk.table if isinstance(crosswalk, Crosswalk) else crosswalk
    cw = cw.assign(from_id=cw["from_id"].astype(str), to_id=cw["to_id"].astype(str))
    has_pop = bool("population_weight" in cw and cw["population_weight"].notna().all())
    if isinstance(values, pd.Series):
        values = values.rename("value").rename_axis("__id").reset_index()
        id_column = "__id"
    if {"level", "area_id", "technology"} <= set(values.columns):
        return _reaggregate_table(values, cw, has_pop=has_pop)
    if id_column is None:
        id_column = next((c for c in ("area_id", "from_id") if c in values.columns), values.columns[0])
    cols = (
        list(columns)
        if columns is not None
        else [c for c in values.columns if c != id_column and pd.api.types.is_numeric_dtype(values[c])]
    )
    w = weight or ("population_weight" if has_pop else "area_weight")
    merged = values.assign(**{id_column: values[id_column].astype(str)}).merge(
        cw[["from_id", "to_id", w]], left_on=id_column, right_on="from_id", how="inner"
    )
    lost = set(values[id_column].astype(str)) - set(cw["from_id"])
    if lost:
        warnings.warn(
            f"{len(lost)} ids are not in the crosswalk and are left out, e.g. {sorted(lost)[0]}",
            TelecovWarning, stacklevel=2,
        )  # fmt: skip
    out = merged[cols].multiply(merged[w], axis=0).assign(to_id=merged["to_id"])
    return out.groupby("to_id", sort=True)[cols].sum().reset_index()


def _reaggregate_table(table: pd.DataFrame, cw: pd.DataFrame, *, has_pop: bool) -> pd.DataFrame:
    rows = table[table["level"] == "area"].copy()
    rows["area_id"] = rows["area_id"].astype(str)
    keys = ["technology", *(["operator"] if "operator" in rows.columns else [])]
    pw = "population_weight" if has_pop else "area_weight"
    merged = rows.merge(cw[["from_id", "to_id", "to_name", "area_weight", pw]].drop_duplicates(),
                        left_on="area_id", right_on="from_id", how="inner")  # fmt: skip
    area_cols = [c for c in AREA_COLUMNS if c in merged.columns]
    people_cols = [c for c in PEOPLE_COLUMNS if c in merged.columns]
    merged[area_cols] = merged[area_cols].multiply(merged["area_weight"], axis=0)
    merged[people_cols] = merged[people_cols].multiply(merged[pw], axis=0)
    out = merged.groupby(["to_id", "to_name", *keys], sort=True)[area_cols + people_cols].sum(min_count=1)
    out = out.reset_index().rename(columns={"to_id": "area_id", "to_name": "area_name"})

    def pct(num: str, den: str) -> pd.Series:
        if num not in out or den not in out:
            return pd.Series(np.nan, index=out.index)
        return (100.0 * out[num] / out[den].where(out[den] > 0)).clip(upper=100.0)

    out["area_pct"] = pct("covered_km2", "area_km2")
    out["population_pct"] = pct("covered_population", "population")
    out["residential_pct"] = pct("covered_residential_km2", "residential_km2")
    out.insert(0, "level", "area")
    out.insert(3, "parent", "")
    ordered = [c for c in table.columns if c in out.columns]
    return out[ordered].reset_index(drop=True)


def read_crosswalk(path: str | Path) -> pd.DataFrame:
    """Read a crosswalk CSV written by ``telecov crosswalk`` (ids kept as text).

    Raises
    ------
    InputError
        Missing file, or no ``from_id``/``to_id``/weight columns.

    """
    table = read_csv_text(Path(path))
    missing = [c for c in ("from_id", "to_id") if c not in table.columns]
    if missing or not {"area_weight", "population_weight"} & set(table.columns):
        raise InputError(
            f"{path}: not a crosswalk: needs from_id, to_id and area_weight or population_weight "
            f"(columns: {', '.join(table.columns)})"
        )
    for col in ("area_weight", "population_weight", "intersection_km2", "area_share", "population"):
        if col in table.columns:
            table[col] = pd.to_numeric(table[col].replace("", np.nan), errors="coerce")
    return table
