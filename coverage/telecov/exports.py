"""Extra export formats for GIS tools, spreadsheets and scripts (``--export``).

Every writer takes a target path and writes one complete file; :func:`write_exports` writes the
files of a report into an output set folder. All geometry is lon/lat (EPSG:4326), declared in
each format's own way (GeoPackage SRS, GeoParquet ``geo`` metadata; GeoJSON is WGS84 by RFC 7946).

========  ==================================================================================
format    files
========  ==================================================================================
geojson   ``coverage.geojson`` (areas), ``sites.geojson``, ``footprints.geojson``,
          ``gaps.geojson`` when gaps are given
gpkg      ``coverage.gpkg`` with layers ``areas``, ``sites``, ``footprints`` (and ``gaps``)
parquet   GeoParquet ``coverage.parquet`` (areas), ``sites.parquet``, ``footprints.parquet``
          (and ``gaps.parquet``)
csv       ``coverage.csv`` (the contract table), ``areas.csv`` (one row per area, no geometry),
          ``sites.csv`` (accepted sites with lon/lat)
xlsx      ``coverage.xlsx``: sheets ``coverage``, ``areas``, ``sites``, ``gaps``, and the
          rejects; formula-like text neutralized; tables longer than a sheet are split
========  ==================================================================================
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .errors import InputError
from .io.outputs import csv_text, geojson_text, neutralize_formulas, rejects_frame, write_text_file

if TYPE_CHECKING:
    from .analysis import Result

log = logging.getLogger(__name__)

EXPORT_FORMATS: tuple[str, ...] = ("geojson", "gpkg", "parquet", "csv", "xlsx")
XLSX_MAX_ROWS = 1_048_576
"""Rows of one Excel worksheet, header included."""
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


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
    if isinstance(frame, gpd.GeoDataFrame):
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    write_text_file(target, csv_text(frame, excel_safe=excel_safe))
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

    """
    from openpyxl import Workbook

    if max_rows < 2:
        raise ValueError("max_rows must leave room for a header and a row")
    per_sheet = max_rows - 1
    for name, frame in sheets.items():
        if len(frame) > per_sheet and not split:
            raise InputError(
                f"{path}: table {name!r} has {len(frame):,} rows, more than an Excel sheet holds "
                f"({per_sheet:,} plus the header); use --export csv or parquet"
            )
    wb = Workbook(write_only=True)
    used: set[str] = set()
    for name, frame in sheets.items():
        if isinstance(frame, gpd.GeoDataFrame):
            frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        safe = neutralize_formulas(frame)
        header = [_cell(str(c)) for c in safe.columns]
        header = ["'" + h if isinstance(h, str) and h.startswith(("=", "+", "-", "@")) else h for h in header]
        chunks = max(1, -(-len(safe) // per_sheet))
        if chunks > 1:
            log.warning("%s: table %r has %d rows: split over %d sheets", path, name, len(safe), chunks)
        for k in range(chunks):
            ws = wb.create_sheet(_sheet_name(name if k == 0 else f"{name} ({k + 1})", used))
            ws.append(header)
            for row in safe.iloc[k * per_sheet : (k + 1) * per_sheet].itertuples(index=False, name=None):
                ws.append([_cell(v) for v in row])
    target = Path(path)
    wb.save(target)
    return target


def _sites_frame(result: Result) -> gpd.GeoDataFrame:
    sites = result.sites.copy()
    sites.insert(len(sites.columns) - 1, "lon", sites.geometry.x)
    sites.insert(len(sites.columns) - 1, "lat", sites.geometry.y)
    return sites


def normalize_formats(formats: Iterable[str] | None) -> list[str]:
    """Return unique, validated export format names in :data:`EXPORT_FORMATS` order."""
    wanted = {str(getattr(f, "value", f)).strip().lower() for f in formats or []}
    unknown = sorted(wanted - set(EXPORT_FORMATS))
    if unknown:
        raise InputError(
            f"--export {', '.join(unknown)}: unknown format (choose from {', '.join(EXPORT_FORMATS)})"
        )
    return [f for f in EXPORT_FORMATS if f in wanted]


def write_exports(
    result: Result,
    folder: str | Path,
    formats: Iterable[str] | None,
    *,
    gaps: gpd.GeoDataFrame | None = None,
    excel_safe: bool = False,
) -> list[Path]:
    """Write the export files of ``result`` for each format into ``folder``.

    Parameters
    ----------
    result
        An :func:`telecov.analyze` result.
    folder
        Existing folder (a report's output set generation folder).
    formats
        Any of :data:`EXPORT_FORMATS`.
    gaps
        Gap polygons, exported too when given.
    excel_safe
        Neutralize formula-like text in the CSV exports too.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    InputError
        An unknown format, or a file that cannot be written.

    """
    out = Path(folder)
    chosen = normalize_formats(formats)
    if not chosen:
        return []
    layers: dict[str, gpd.GeoDataFrame] = {"areas": result.areas, "sites": _sites_frame(result)}
    if {"geojson", "gpkg", "parquet"} & set(chosen):
        layers["footprints"] = result.footprints()
    if gaps is not None:
        layers["gaps"] = gaps
    written: list[Path] = []
    try:
        if "geojson" in chosen:
            for name, frame in layers.items():
                fname = "coverage.geojson" if name == "areas" else f"{name}.geojson"
                written.append(write_geojson(out / fname, frame))
        if "gpkg" in chosen:
            written.append(write_gpkg(out / "coverage.gpkg", layers))
        if "parquet" in chosen:
            for name, frame in layers.items():
                fname = "coverage.parquet" if name == "areas" else f"{name}.parquet"
                written.append(write_parquet(out / fname, frame))
        if "csv" in chosen:
            written.append(write_csv(out / "coverage.csv", result.table, excel_safe=excel_safe))
            written.append(write_csv(out / "areas.csv", result.areas, excel_safe=excel_safe))
            written.append(write_csv(out / "sites.csv", layers["sites"], excel_safe=excel_safe))
        if "xlsx" in chosen:
            sheets: dict[str, pd.DataFrame] = {
                "coverage": result.table,
                "areas": result.areas,
                "sites": layers["sites"],
            }
            if gaps is not None:
                sheets["gaps"] = gaps
            for kind, frame in result.rejected.items():
                sheets[f"rejected_{kind}"] = rejects_frame(frame)
            written.append(write_xlsx(out / "coverage.xlsx", sheets))
    except OSError as exc:
        raise InputError(f"cannot write {exc.filename or out}: {exc.strerror or exc}") from exc
    return written


def export_result(result: Result, path: str | Path, *, gaps: gpd.GeoDataFrame | None = None) -> Path:
    """Write one export file atomically, its format chosen by the suffix.

    Suffixes: ``.gpkg``, ``.parquet``, ``.xlsx``, ``.geojson``, ``.csv``. ``.geojson`` and
    ``.parquet`` hold the areas with metrics, ``.csv`` the contract table; a GeoPackage holds
    every layer, a workbook every table.
    """
    from .io.outputs import write_file_atomic

    target = Path(path)
    suffix = target.suffix.lower()
    layers: dict[str, gpd.GeoDataFrame] = {
        "areas": result.areas, "sites": _sites_frame(result), "footprints": result.footprints(),
    }  # fmt: skip
    if gaps is not None:
        layers["gaps"] = gaps
    writers: dict[str, Callable[[Path], Any]] = {
        ".gpkg": lambda p: write_gpkg(p, layers),
        ".parquet": lambda p: write_parquet(p, result.areas),
        ".geojson": lambda p: write_geojson(p, result.areas),
        ".csv": lambda p: write_csv(p, result.table),
        ".xlsx": lambda p: write_xlsx(
            p, {"coverage": result.table, "areas": result.areas, "sites": layers["sites"]}
        ),
    }
    if suffix not in writers:
        raise InputError(f"{target}: unknown export suffix {suffix!r} (use {', '.join(writers)})")

    def write(tmp: Path) -> None:
        writers[suffix](tmp)

    try:
        return write_file_atomic(target, write)
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror or exc}") from exc
