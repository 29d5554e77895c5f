"""Writing outputs: contract CSV/GeoJSON/JSON, rejects, and atomic output sets."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

log = logging.getLogger(__name__)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
REJECT_COLUMNS = ("row", "field", "reason")


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
    lines = props.to_json(
        orient="records", lines=True, force_ascii=False, double_precision=15, date_format="iso"
    ).splitlines()
    parts = []
    for prop, geom in zip(lines, geom_text, strict=True):
        g = "null" if geom is None else geom
        parts.append('{"type":"Feature","properties":' + prop + ',"geometry":' + g + "}")
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(parts) + "\n]}\n"


def rejects_frame(frame: pd.DataFrame | None) -> pd.DataFrame:
    """Rejects in the contract's shape: original columns, then row, field, reason."""
    if frame is None or frame.empty:
        cols = [c for c in (frame.columns if frame is not None else []) if c not in REJECT_COLUMNS]
        return pd.DataFrame(columns=[*cols, *REJECT_COLUMNS])
    cols = [c for c in frame.columns if c not in REJECT_COLUMNS]
    return frame[[*cols, *REJECT_COLUMNS]]


Writer = Callable[[Path], None]


def write_text_file(path: Path, text: str) -> None:
    """Write UTF-8 text, flushed to disk."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def write_file_atomic(path: str | Path, writer: Writer) -> Path:
    """Write one file atomically: ``writer`` fills a temporary sibling that replaces ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        writer(Path(tmp))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
    return target


@contextlib.contextmanager
def output_set(out_dir: str | Path, *, name: str) -> Iterator[Path]:
    """Build a set of output files and swap it into ``out_dir`` in one atomic step.

    Files are written into a fresh generation folder ``out_dir/.telecov/<name>/<id>``; on
    success the link ``out_dir/.telecov/<name>/current`` is replaced atomically and each fixed
    name in ``out_dir`` is a link through it. A run killed before the swap leaves the previous
    complete set (or none); a failed run removes its partial folder.

    Parameters
    ----------
    out_dir
        The ``--out`` folder.
    name
        The command writing the set (sets of different commands live side by side).

    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {out}: exists and is not a folder")
    base = out / ".telecov" / name
    base.mkdir(parents=True, exist_ok=True)
    gen = base / f"gen-{uuid.uuid4().hex[:12]}"
    gen.mkdir()
    try:
        yield gen
    except BaseException:
        shutil.rmtree(gen, ignore_errors=True)
        raise
    files = sorted(p.name for p in gen.iterdir() if p.is_file())
    # The fixed names point through `current`; made before the switch they dangle (a new name)
    # or show the previous set until `current` moves, so every file changes at the same instant.
    for fname in files:
        link = out / fname
        rel = os.path.join(".telecov", name, "current", fname)
        if link.is_symlink() and os.readlink(link) == rel:
            continue
        tmp = out / f".{fname}.{gen.name}.lnk"
        os.symlink(rel, tmp)
        os.replace(tmp, link)
    current = base / "current"
    tmp_link = base / f".current-{gen.name}"
    os.symlink(gen.name, tmp_link)
    os.replace(tmp_link, current)  # the atomic switch of the whole set
    prefix = os.path.join(".telecov", name, "current", "")
    for link in out.iterdir():
        if link.is_symlink() and os.readlink(link).startswith(prefix) and not link.exists():
            link.unlink()  # a file the previous set had and this one does not
    for old in base.iterdir():
        if old.is_dir() and not old.is_symlink() and old.name.startswith("gen-") and old != gen:
            shutil.rmtree(old, ignore_errors=True)
    log.info("wrote %s into %s", ", ".join(files), out)
