"""File formats: CSV, JSON and GeoJSON text, and GeoPackage, GeoParquet and Excel files.

The text functions return what a contract file holds (UTF-8, ``.`` decimals, no NaN in JSON,
RFC 7946 GeoJSON); the ``write_*`` functions write one complete file from a table. All
geometry is written in lon/lat (EPSG:4326), declared in each format's own way (GeoPackage SRS,
GeoParquet ``geo`` metadata; GeoJSON is WGS84 by RFC 7946).
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import InputError, TelecovWarning
from .outputs import write_text_file

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Starts of text a spreadsheet would run as a formula."""
XLSX_MAX_ROWS = 1_048_576
"""Rows of one Excel worksheet, header included."""
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a single quote."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_PREFIXES) else v
            )
    return out


def csv_text(frame: pd.DataFrame, *, excel_safe: bool = False) -> str:
    """CSV text (UTF-8, empty cells for missing values, ``.`` decimals, full precision)."""
    if excel_safe:
        frame = neutralize_formulas(frame)
    return str(frame.to_csv(index=False, na_rep="", lineterminator="\n"))


def _clean(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: NaN and inf become None, numpy scalars become Python ones."""
    cols = list(frame.columns)
    return [
        {c: _clean(v) for c, v in zip(cols, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def json_text(obj: Any) -> str:
    """Strict JSON (no NaN) as UTF-8 text."""
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, indent=1, default=_clean) + "\n"


def geojson_text(frame: gpd.GeoDataFrame, *, precision: int = 7) -> str:
    """RFC 7946 FeatureCollection: lon/lat, no ``crs`` member, counter-clockwise exteriors.

    Coordinates are rounded to ``precision`` decimals (7 ≈ 1 cm); NaN and inf become ``null``.
    """
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    geoms = shapely.orient_polygons(frame.geometry.to_numpy(), exterior_cw=False)
    geoms = shapely.transform(geoms, lambda c: np.round(c, precision))
    geom_text = shapely.to_geojson(geoms)
    props = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    floats = props.select_dtypes("number").columns
    props[floats] = props[floats].replace([np.inf, -np.inf], np.nan)
    text = props.to_json(
        orient="records", lines=True, force_ascii=False, double_precision=15, date_format="iso"
    )
    # one record per "\n" (str.splitlines would also split at U+2028, U+0085... inside names)
    lines = [line for line in text.split("\n") if line]
    parts = []
    for prop, geom in zip(lines, geom_text, strict=True):
        g = "null" if geom is None else geom
        parts.append('{"type":"Feature","properties":' + prop + ',"geometry":' + g + "}")
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(parts) + "\n]}\n"


def _lonlat(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise InputError("cannot export a layer without a CRS")
    if frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    return frame


def _plain_columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns as types every format stores: object columns of mixed values become text."""
    out = frame.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        if out[col].dtype == object:
            values = out[col]
            if not values.map(lambda v: v is None or isinstance(v, str)).all():
                out[col] = values.map(lambda v: None if v is None or v is pd.NA else str(v))
    return out


def _without_geometry(frame: pd.DataFrame) -> pd.DataFrame:
    if isinstance(frame, gpd.GeoDataFrame):
        return pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return frame


def write_geojson(path: str | Path, frame: gpd.GeoDataFrame) -> Path:
    """RFC 7946 GeoJSON (lon/lat, no ``crs`` member, counter-clockwise exterior rings)."""
    target = Path(path)
    write_text_file(target, geojson_text(_lonlat(frame)))
    return target


def write_gpkg(path: str | Path, layers: Mapping[str, gpd.GeoDataFrame]) -> Path:
    """GeoPackage with one layer per entry of ``layers`` (EPSG:4326), replacing ``path``.

    Parameters
    ----------
    path
        The ``.gpkg`` file.
    layers
        Layer name → GeoDataFrame; empty frames become empty layers.

    """
    import pyogrio

    target = Path(path)
    target.unlink(missing_ok=True)
    for name, frame in layers.items():
        data = _plain_columns(_lonlat(frame))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pyogrio.write_dataframe(data, target, layer=name, driver="GPKG", append=target.exists())
    return target


def write_parquet(path: str | Path, frame: gpd.GeoDataFrame) -> Path:
    """GeoParquet (``geo`` metadata with the CRS, WKB geometry) via :meth:`GeoDataFrame.to_parquet`."""
    target = Path(path)
    _plain_columns(_lonlat(frame)).to_parquet(target, index=False)
    return target


def write_csv(path: str | Path, frame: pd.DataFrame, *, excel_safe: bool = False) -> Path:
    """UTF-8 CSV, empty cells for missing values; geometry columns are dropped."""
    target = Path(path)
    write_text_file(target, csv_text(_without_geometry(frame), excel_safe=excel_safe))
    return target


def _sheet_name(name: str, used: set[str]) -> str:
    base = _SHEET_BAD.sub("_", name)[:31] or "sheet"
    out, k = base, 2
    while out.lower() in used:
        suffix = f" ({k})"
        out, k = base[: 31 - len(suffix)] + suffix, k + 1
    used.add(out.lower())
    return out


def _cell(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, str):
        return _ILLEGAL_XML.sub("", value)
    if isinstance(value, int | float | bool):
        return value
    return str(value)


def write_xlsx(
    path: str | Path,
    sheets: Mapping[str, pd.DataFrame],
    *,
    max_rows: int = XLSX_MAX_ROWS,
    split: bool = True,
) -> Path:
    """Excel workbook, one sheet per table; formula-like text (``= + - @``) is neutralized.

    Parameters
    ----------
    path
        The ``.xlsx`` file.
    sheets
        Sheet name → table (a geometry column is dropped).
    max_rows
        Rows per sheet, header included (Excel's limit by default).
    split
        Continue a longer table on sheets ``name (2)``, ``name (3)``, ... (header repeated);
        when False such a table raises :class:`InputError`.

    Raises
    ------
    InputError
        A table does not fit in one sheet and ``split`` is False.

    Warns
    -----
    TelecovWarning
        A table was split over several sheets.

    """
    from openpyxl import Workbook

    if max_rows < 2:
        raise ValueError("max_rows must leave room for a header and a row")
    per_sheet = max_rows - 1
    for name, frame in sheets.items():
        if len(frame) > per_sheet and not split:
            raise InputError(
                f"{path}: table {name!r} has {len(frame):,} rows, more than an Excel sheet holds "
                f"({per_sheet:,} plus the header); use `formats` csv or parquet"
            )
    wb = Workbook(write_only=True)
    used: set[str] = set()
    for name, frame in sheets.items():
        safe = neutralize_formulas(_without_geometry(frame))
        header = [_cell(str(c)) for c in safe.columns]
        header = ["'" + h if isinstance(h, str) and h.startswith(("=", "+", "-", "@")) else h for h in header]
        chunks = max(1, -(-len(safe) // per_sheet))
        if chunks > 1:
            warnings.warn(
                f"{path}: table {name!r} has {len(safe)} rows: split over {chunks} sheets",
                TelecovWarning,
                stacklevel=2,
            )
        for k in range(chunks):
            ws = wb.create_sheet(_sheet_name(name if k == 0 else f"{name} ({k + 1})", used))
            ws.append(header)
            for row in safe.iloc[k * per_sheet : (k + 1) * per_sheet].itertuples(index=False, name=None):
                ws.append([_cell(v) for v in row])
    target = Path(path)
    wb.save(target)
    return target
