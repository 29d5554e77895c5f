"""Reading input files: CSV tables and vector layers, with clear errors."""

from __future__ import annotations

import hashlib
import io
import logging
import unicodedata
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from ..errors import InputError

log = logging.getLogger(__name__)

TABLE_SUFFIXES = frozenset({".csv", ".txt", ".tsv", ".gz"})


def file_info(path: str | Path) -> dict[str, Any]:
    """Path, size and sha256 of an input file, for ``run.json``."""
    p = Path(path)
    digest = hashlib.sha256()
    with p.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return {"path": str(p), "size": p.stat().st_size, "sha256": digest.hexdigest()}


def _decode(raw: bytes, *, name: str, encoding: str | None) -> str:
    """Decode text (UTF-8 with or without BOM unless ``encoding``), normalized to NFC."""
    if encoding:
        try:
            return unicodedata.normalize("NFC", raw.decode(encoding))
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(f"{name}: cannot decode as {encoding}: {exc}") from exc
    try:
        return unicodedata.normalize("NFC", raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{name}: line {line} is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); "
            "if the file is in another encoding pass --encoding (e.g. --encoding cp1258)"
        ) from exc


def read_csv_text(path: Path, *, encoding: str | None = None) -> pd.DataFrame:
    """Read a delimited text file into a DataFrame of strings (ids and numbers kept verbatim).

    Raises
    ------
    InputError
        Missing file, undecodable text, empty file or no header.

    """
    if not path.exists():
        raise InputError(f"{path}: file not found")
    raw = path.read_bytes()
    if path.suffix.lower() == ".gz":
        import gzip

        try:
            raw = gzip.decompress(raw)
        except OSError as exc:
            raise InputError(f"{path}: not a readable gzip file ({exc})") from exc
    text = _decode(raw, name=str(path), encoding=encoding)
    if not text.strip():
        raise InputError(f"{path}: file is empty")
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    sep = max(("\t", ";", "|", ","), key=header.count) if path.suffix.lower() != ".tsv" else "\t"
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InputError(f"{path}: not a readable CSV table ({exc})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


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


def find_column(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    """First column whose name matches one of ``candidates`` case-insensitively."""
    lowered = {c.lower(): c for c in columns}
    for cand in candidates:
        if cand.lower() in lowered:
            return lowered[cand.lower()]
    return None
