"""Exports of a result for GIS tools, spreadsheets and scripts (``--export``).

:func:`write_exports` writes the files of a report into an output set folder and
:func:`export_result` one file, through the format writers of :mod:`telecov.io.formats`. All
geometry is lon/lat (EPSG:4326), declared in each format's own way (GeoPackage SRS, GeoParquet
``geo`` metadata; GeoJSON is WGS84 by RFC 7946).

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

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from .errors import InputError
from .io.formats import write_csv, write_geojson, write_gpkg, write_parquet, write_xlsx
from .io.outputs import check_not_inputs, write_file_atomic
from .io.refusals import rejects_frame

if TYPE_CHECKING:
    from .analysis import Result

EXPORT_FORMATS: tuple[str, ...] = ("geojson", "gpkg", "parquet", "csv", "xlsx")
"""Formats :func:`write_exports` writes (``--export``)."""


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
            f"`formats` {', '.join(unknown)}: unknown format (choose from {', '.join(EXPORT_FORMATS)})"
        )
    return [f for f in EXPORT_FORMATS if f in wanted]


def export_names(formats: Iterable[str] | None, *, gaps: bool = False) -> list[str]:
    """Return the files :func:`write_exports` writes for ``formats`` (with ``gaps``: their files too)."""
    layers = ["coverage", "sites", "footprints", *(["gaps"] if gaps else [])]
    names: list[str] = []
    for fmt in normalize_formats(formats):
        if fmt in ("geojson", "parquet"):
            names += [f"{layer}.{fmt}" for layer in layers]
        elif fmt == "csv":
            names += ["coverage.csv", "areas.csv", "sites.csv"]
        else:
            names.append(f"coverage.{fmt}")
    return names


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

    check_not_inputs([target], [i.get("path") for i in result.run.inputs.values()], option="`path`")
    try:
        return write_file_atomic(target, write)
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror or exc}") from exc
