"""Sites: read a CSV or point layer, validate every row, normalize technologies and radii."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from ..errors import InputError
from ..geodesy import LONLAT
from .tables import TABLE_SUFFIXES, find_column, read_csv_text, read_vector
from ..vocabulary import (
    DEFAULT_BEAMWIDTH_DEG,
    DEFAULT_RADIUS_M,
    EXISTING_STATUSES,
    MAX_RADIUS_M,
    PLANNED_STATUSES,
    normalize_technology,
)

log = logging.getLogger(__name__)

LON_NAMES = ("lon", "longitude", "lng", "long")
LAT_NAMES = ("lat", "latitude")
SITE_COLUMNS = (
    "site_id", "technology", "operator", "radius_m", "azimuth", "beamwidth", "status",
    "counted", "row", "geometry",
)  # fmt: skip
DECIMAL_SAMPLE = 2000
"""Rows looked at to recognise decimal commas (a file uses one convention throughout)."""
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$")


@dataclass(frozen=True)
class SiteTable:
    """Accepted sites (lon/lat points) and refused rows."""

    accepted: gpd.GeoDataFrame
    rejected: pd.DataFrame
    read: int
    name: str


def _raw_sites(
    source: str | Path | pd.DataFrame,
    *,
    crs: str | None,
    encoding: str | None,
) -> tuple[pd.DataFrame, np.ndarray | None, np.ndarray | None, str]:
    """Return the raw table (strings), x/y arrays (from geometry, or None) and a display name."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = str(path)
        suffixes = {s.lower() for s in path.suffixes}
        if path.suffix.lower() in TABLE_SUFFIXES or ".csv" in suffixes:
            return read_csv_text(path, encoding=encoding), None, None, name
        source = read_vector(path)
    else:
        name = "<sites>"
    frame = source
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        layer_crs = frame.crs or (CRS.from_user_input(crs) if crs else None)
        if layer_crs is None:
            raise InputError(f"{name}: the sites layer has no CRS; pass --sites-crs (e.g. EPSG:4326)")
        geoms = frame.geometry
        points = geoms.notna() & ~geoms.is_empty & (geoms.geom_type == "Point")
        xs = np.full(len(frame), np.nan)
        ys = np.full(len(frame), np.nan)
        pts = gpd.GeoSeries(geoms[points].values, crs=layer_crs)
        if len(pts):
            pts = pts.to_crs(LONLAT)
            xs[points.to_numpy()] = pts.x.to_numpy()
            ys[points.to_numpy()] = pts.y.to_numpy()
        table = pd.DataFrame(frame.drop(columns=frame.geometry.name)).astype(object)
        table = table.where(table.notna(), "").astype(str)
        table["__geom_kind"] = np.where(
            geoms.isna() | geoms.is_empty, "empty", geoms.geom_type.fillna("empty").astype(str)
        )
        return table, xs, ys, name
    table = pd.DataFrame(cast(pd.DataFrame, frame)).astype(object)
    return table.where(table.notna(), "").astype(str), None, None, name


def _at(values: pd.Series | np.ndarray, i: int) -> object:
    return values.iloc[i] if isinstance(values, pd.Series) else values[i]


def _numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse text to float; returns (values, is_text_that_is_not_a_number)."""
    text = values.astype(str).str.strip()
    parsed = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(parsed) & (text != "").to_numpy() & ~text.str.lower().isin(["nan"]).to_numpy()
    return parsed, bad


def _check_decimal_commas(table: pd.DataFrame, columns: list[str], name: str) -> None:
    for col in columns:
        text = table[col].astype(str).head(DECIMAL_SAMPLE)
        filled = text[text.str.strip() != ""]
        if len(filled) and filled.str.match(_DECIMAL_COMMA).mean() > 0.5:
            raise InputError(
                f"{name}: column '{col}' uses decimal commas (e.g. '{filled.iloc[0]}'); "
                "pass --decimal , to read them"
            )


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

    """
    table, gx, gy, name = _raw_sites(source, crs=crs, encoding=encoding)
    n = len(table)
    if n == 0:
        raise InputError(f"{name}: no site rows (the file has a header only or no features)")
    cols = [c for c in table.columns if c != "__geom_kind"]
    tech_col = find_column(cols, ("technology", "tech", "radio", "rat", "type"))
    if tech_col is None:
        raise InputError(f"{name}: no 'technology' column (columns: {', '.join(cols)})")
    if decimal != ".":
        for col in cols:
            table[col] = table[col].str.replace(decimal, ".", regex=False)
    reasons: dict[int, tuple[str, str]] = {}  # row index -> (field, reason): the first problem

    def refuse(mask: np.ndarray, field: str, reason: str | Callable[[int], str]) -> None:
        for i in map(int, np.flatnonzero(mask)):
            if i not in reasons:
                reasons[i] = (field, reason if isinstance(reason, str) else reason(i))

    if gx is not None and gy is not None:
        lon, lat = gx, gy
        kinds = table["__geom_kind"].to_numpy()
        refuse(kinds == "empty", "geometry", "missing or empty geometry")
        refuse((kinds != "empty") & (kinds != "Point"), "geometry",
               lambda i: f"expected a Point, got {_at(kinds, i)}")  # fmt: skip
        table = table.drop(columns="__geom_kind")
        xname, yname = "geometry", "geometry"
    else:
        xname = find_column(cols, LON_NAMES) or ""
        yname = find_column(cols, LAT_NAMES) or ""
        projected = False
        if not (xname and yname):
            xname = find_column(cols, ("x", "easting")) or ""
            yname = find_column(cols, ("y", "northing")) or ""
            if not (xname and yname):
                raise InputError(
                    f"{name}: no coordinate columns; expected lon/lat (or longitude/latitude, "
                    f"lng), or x/y with --sites-crs (columns: {', '.join(cols)})"
                )
            if crs is None:
                raise InputError(f"{name}: columns '{xname}'/'{yname}' need --sites-crs (e.g. EPSG:32648)")
            projected = True
        if decimal == ".":
            _check_decimal_commas(table, [xname, yname], name)
        lon, bad_x = _numbers(table[xname])
        lat, bad_y = _numbers(table[yname])
        refuse(bad_x, xname, lambda i: f"not a number: {_at(table[xname], i)!r}")
        refuse(bad_y, yname, lambda i: f"not a number: {_at(table[yname], i)!r}")
        refuse(np.isnan(lon) & ~bad_x, xname, "missing coordinate")
        refuse(np.isnan(lat) & ~bad_y, yname, "missing coordinate")
        if projected or (crs is not None and not CRS.from_user_input(crs).is_geographic):
            from pyproj import Transformer

            tr = Transformer.from_crs(CRS.from_user_input(crs), LONLAT, always_xy=True)
            lon, lat = tr.transform(lon, lat)
            lon = np.asarray(lon, dtype=np.float64)
            lat = np.asarray(lat, dtype=np.float64)
    finite = np.isfinite(lon) & np.isfinite(lat)
    swapped = finite & (np.abs(lat) > 90) & (np.abs(lon) <= 90)
    refuse(swapped, yname, lambda i: f"latitude {_at(lat, i):g} out of range (lon/lat swapped?)")
    refuse(finite & (np.abs(lat) > 90), yname, lambda i: f"latitude {_at(lat, i):g} out of range")
    refuse(finite & (np.abs(lon) > 180), xname, lambda i: f"longitude {_at(lon, i):g} out of range")

    tech_raw = table[tech_col].astype(str)
    names = {t: normalize_technology(t) or "" for t in tech_raw.unique()}
    tech = tech_raw.map(names).to_numpy(dtype=object)
    refuse(tech == "", tech_col, lambda i: f"unknown technology {_at(tech_raw, i)!r}")

    overrides = {**DEFAULT_RADIUS_M, **{k: float(v) for k, v in (radius or {}).items()}}
    rad_col = find_column(cols, ("radius_m", "radius", "range_m"))
    if rad_col:
        rad, bad_r = _numbers(table[rad_col])
        refuse(bad_r, rad_col, lambda i: f"not a number: {_at(table[rad_col], i)!r}")
        text = table[rad_col].astype(str).str.strip().str.lower()
        given = (text != "").to_numpy()
        refuse(given & ~bad_r & ~np.isfinite(rad), rad_col, "radius is NaN or infinite")
        refuse(given & np.isfinite(rad) & (rad <= 0), rad_col,
               lambda i: f"radius {_at(rad, i):g} m is not positive")  # fmt: skip
        refuse(given & np.isfinite(rad) & (rad > MAX_RADIUS_M), rad_col,
               lambda i: f"radius {_at(rad, i):g} m is larger than {MAX_RADIUS_M:g} m")  # fmt: skip
        rad = np.where(given, rad, np.nan)
    else:
        rad = np.full(n, np.nan)
    default = pd.Series(tech).map(overrides).to_numpy(dtype=np.float64)
    radius_m = np.where(np.isnan(rad), default, rad)

    az_col = find_column(cols, ("azimuth", "azimuth_deg", "bearing"))
    bw_col = find_column(cols, ("beamwidth", "beamwidth_deg", "beam_width", "hbw"))
    azimuth = np.full(n, np.nan)
    beam = np.full(n, np.nan)
    if az_col:
        azimuth, bad_a = _numbers(table[az_col])
        refuse(bad_a, az_col, lambda i: f"not a number: {_at(table[az_col], i)!r}")
        refuse(np.isinf(azimuth), az_col, "azimuth is infinite")
        azimuth = np.where(np.isfinite(azimuth), np.mod(azimuth, 360.0), np.nan)
    if bw_col:
        beam, bad_b = _numbers(table[bw_col])
        refuse(bad_b, bw_col, lambda i: f"not a number: {_at(table[bw_col], i)!r}")
        refuse(np.isfinite(beam) & ((beam <= 0) | (beam > 360)), bw_col,
               lambda i: f"beamwidth {_at(beam, i):g} not in (0, 360]")  # fmt: skip
        refuse(np.isinf(beam), bw_col, "beamwidth is infinite")
    sector = np.isfinite(azimuth) & ~(np.isfinite(beam) & (beam >= 360))
    beam = np.where(sector, np.where(np.isfinite(beam), beam, DEFAULT_BEAMWIDTH_DEG), np.nan)
    azimuth = np.where(sector, azimuth, np.nan)

    st_col = find_column(cols, ("status", "state"))
    status = (
        table[st_col].astype(str).str.strip().str.lower().to_numpy()
        if st_col
        else np.full(n, "", dtype=object)
    )
    known = np.isin(status, list(EXISTING_STATUSES | PLANNED_STATUSES))
    refuse(~known, st_col or "status", lambda i: f"unknown status {_at(status, i)!r}")
    planned = np.isin(status, list(PLANNED_STATUSES))
    status_norm = np.where(planned, "planned", "existing")

    id_col = find_column(cols, ("site_id", "id", "site", "site_code", "cell_id"))
    site_id = (
        table[id_col].astype(str).str.strip().to_numpy()
        if id_col
        else np.array([str(i + 1) for i in range(n)], dtype=object)
    )
    op_col = find_column(cols, ("operator", "carrier", "network", "mno"))
    operator = (
        table[op_col].astype(str).str.strip().replace("", "unknown").to_numpy()
        if op_col
        else np.full(n, "unknown", dtype=object)
    )

    refused = np.zeros(n, dtype=bool)
    refused[list(reasons)] = True
    row = np.arange(1, n + 1)
    rejected = table.loc[refused].copy()
    rejected["row"] = row[refused]
    rejected["field"] = [reasons[i][0] for i in map(int, np.flatnonzero(refused))]
    rejected["reason"] = [reasons[i][1] for i in map(int, np.flatnonzero(refused))]
    ok = ~refused
    accepted = gpd.GeoDataFrame(
        {
            "site_id": site_id[ok],
            "technology": tech[ok],
            "operator": operator[ok],
            "radius_m": radius_m[ok],
            "azimuth": azimuth[ok],
            "beamwidth": beam[ok],
            "status": status_norm[ok],
            "counted": (~planned[ok]) | include_planned,
            "row": row[ok],
        },
        geometry=gpd.points_from_xy(lon[ok], lat[ok]),
        crs=LONLAT,
    )
    dup = accepted.duplicated(["site_id", "technology", "azimuth"], keep=False)
    if id_col and dup.any():
        log.warning(
            "%s: %d rows share (site_id, technology, azimuth) with another row, e.g. site %s; kept",
            name, int(dup.sum()), accepted.loc[dup, "site_id"].iloc[0],
        )  # fmt: skip
    return SiteTable(accepted=accepted, rejected=rejected.reset_index(drop=True), read=n, name=name)
