"""Reading an OpenCelliD export: rows, values, and the cells refused (with the reason)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import InputError
from ..io.refusals import Refusals
from ..io.tables import read_text
from .codes import (
    AREA_BITS,
    CELL_BITS,
    OPENCELLID_COLUMNS,
    PLACEHOLDER_AREAS,
    PLACEHOLDER_CELLS,
    RADIO_TECHNOLOGY,
    REQUIRED_COLUMNS,
    TECHNOLOGY_RADIO,
)

Box = tuple[float, float, float, float]
"""``(west, south, east, north)`` in degrees."""
_WHOLE = r"\+?\d{1,15}"
"""A whole number ≥ 0 that a float holds exactly (ids have at most 36 bits)."""


CHUNK_ROWS = 100_000
"""Rows parsed at a time: Python lists of strings only ever hold one chunk (2 GB of cells fit)."""


def read_table(path: Path, *, encoding: str | None) -> tuple[list[str], pd.DataFrame, NDArray[np.int64]]:
    """Return the header (given or the standard one), the rows as text columns, each row's field count.

    Blank lines are skipped; rows are parsed :data:`CHUNK_ROWS` at a time into Arrow-backed
    text columns, so memory grows with the file's bytes, not with Python objects per cell.
    """
    text = read_text(path, encoding=encoding).lstrip("\ufeff")
    reader = (r for r in csv.reader(_lines(text)) if r and any(c.strip() for c in r))
    first = next(reader, None)
    if first is None:
        raise InputError(f"{path}: file is empty")
    header = [c.strip() for c in first]
    pending: list[list[str]] = []
    if "radio" in {c.lower() for c in header}:
        header = _given_header(header, name=str(path))
    else:
        if len(header) < len(REQUIRED_COLUMNS) or not header[0].strip().isalpha():
            raise InputError(
                f"{path}: line 1 is neither an OpenCelliD header nor a cell row "
                f"(expected {', '.join(OPENCELLID_COLUMNS)})"
            )
        pending, header = [first], list(OPENCELLID_COLUMNS)
    chunks, widths = _chunks(reader, pending, header)
    if not chunks:
        raise InputError(f"{path}: no cell rows (the file has a header only)")
    return header, pd.concat(chunks, ignore_index=True), np.concatenate(widths)


def _lines(text: str) -> Iterator[str]:
    """Yield the lines of ``text`` with their endings, one at a time (no copy of the whole text)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


def _chunks(
    reader: Iterator[list[str]], pending: list[list[str]], header: list[str]
) -> tuple[list[pd.DataFrame], list[NDArray[np.int64]]]:
    """Parse the rows into text frames of :data:`CHUNK_ROWS` rows, and their field counts."""
    width = len(header)
    frames: list[pd.DataFrame] = []
    widths: list[NDArray[np.int64]] = []
    rows = pending
    for row in reader:
        rows.append(row)
        if len(rows) == CHUNK_ROWS:
            frames.append(_frame(rows, header, width))
            widths.append(np.array([len(r) for r in rows], dtype=np.int64))
            rows = []
    if rows:
        frames.append(_frame(rows, header, width))
        widths.append(np.array([len(r) for r in rows], dtype=np.int64))
    return frames, widths


def _frame(rows: list[list[str]], header: list[str], width: int) -> pd.DataFrame:
    columns = list(zip(*((r + [""] * width)[:width] for r in rows), strict=True))
    return pd.DataFrame(
        {h: pd.array(c, dtype="string[pyarrow]") for h, c in zip(header, columns, strict=True)}
    )


def _given_header(header: list[str], *, name: str) -> list[str]:
    """Return a file's own header with its OpenCelliD names spelled as the standard ones."""
    lowered = {c.lower(): c for c in header}
    missing = [c for c in REQUIRED_COLUMNS if c.lower() not in lowered]
    if missing:
        raise InputError(
            f"{name}: missing column(s) {', '.join(missing)} (columns: {', '.join(header)}); "
            f"an OpenCelliD file has {', '.join(OPENCELLID_COLUMNS)}"
        )
    canon = {c.lower(): c for c in OPENCELLID_COLUMNS}
    return [canon.get(c.lower(), c) for c in header]


def refuse_widths(fields: NDArray[np.int64], header: list[str], refusals: Refusals) -> None:
    """Refuse rows with fewer fields than the required columns need, or more than the header."""
    needed = max(header.index(c) for c in REQUIRED_COLUMNS) + 1
    refusals.refuse(fields < needed, "row", f"only some fields: expected at least {needed}")
    refusals.refuse(fields > len(header), "row", f"more fields than the {len(header)} columns")


def _integers(text: pd.Series) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Parse whole numbers ≥ 0; returns (values as float, is_bad)."""
    s = text.str.strip()
    ok = s.str.fullmatch(_WHOLE).to_numpy(dtype=bool)
    values = np.full(len(s), np.nan)
    values[ok] = s[ok].astype("int64").to_numpy(dtype=np.float64)
    return values, ~ok


def _floats(text: pd.Series) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    values = pd.to_numeric(text.str.strip(), errors="coerce").to_numpy(dtype=np.float64)
    return values, ~np.isfinite(values)


def cell_values(table: pd.DataFrame, refusals: Refusals) -> dict[str, Any]:
    """Technology, integers, position, range and samples of every row; bad values refused."""
    radio = table["radio"].str.strip()
    technology = radio.str.upper().map(RADIO_TECHNOLOGY).fillna("").to_numpy(dtype=object)
    refusals.refuse(technology == "", "radio", _quoted("unknown or unsupported radio ", radio))
    names = radio.astype("category")  # a few spellings: codes, not a string per cell
    values: dict[str, Any] = {"technology": technology, "radio": names}
    for col in ("mcc", "net", "area", "cell"):
        values[col], bad = _integers(table[col])
        refusals.refuse(bad, col, _quoted("not a whole number ≥ 0: ", table[col]))
    lon, bad_lon = _floats(table["lon"])
    lat, bad_lat = _floats(table["lat"])
    refusals.refuse(bad_lon, "lon", _quoted("not a number: ", table["lon"]))
    refusals.refuse(bad_lat, "lat", _quoted("not a number: ", table["lat"]))
    refusals.refuse((lon == 0) & (lat == 0), "lon", "position 0,0 (no position)")
    refusals.refuse(np.abs(lon) > 180, "lon", lambda i: f"longitude {lon[i]:g} out of range")
    refusals.refuse(np.abs(lat) > 90, "lat", lambda i: f"latitude {lat[i]:g} out of range")
    rng = _optional_numbers(table, "range")
    values.update(lon=lon, lat=lat, range=np.where(np.isfinite(rng) & (rng > 0), rng, np.nan))
    values["samples"] = _optional_numbers(table, "samples")
    return values


def _quoted(prefix: str, column: pd.Series) -> Callable[[int], str]:
    """Return a reason naming the row's value: ``prefix``, then the value quoted."""
    text = column.to_numpy(dtype=object)
    return lambda i: f"{prefix}{text[i]!r}"


def _optional_numbers(table: pd.DataFrame, col: str) -> NDArray[np.float64]:
    """Numbers of an optional column (NaN where missing or not a number)."""
    if col not in table.columns:
        return np.full(len(table), np.nan)
    return pd.to_numeric(table[col].str.strip(), errors="coerce").to_numpy(dtype=np.float64)


def refuse_ids(values: dict[str, Any], refusals: Refusals) -> None:
    """Refuse ids too long for their radio's layout and the placeholder ids that mean "unknown"."""
    tech = values["technology"]
    for technology, radio in TECHNOLOGY_RADIO.items():
        on = tech == technology
        for col, bits, name in (
            ("cell", CELL_BITS[technology], "cell id"),
            ("area", AREA_BITS[technology], "LAC" if technology in ("2G", "3G") else "TAC"),
        ):
            ids = values[col]
            refusals.refuse(on & (ids >= 2.0**bits), col, _too_long(f"{radio} {name}", ids, bits))
        for col, codes, what in (
            ("cell", PLACEHOLDER_CELLS.get(technology), "cell id"),
            ("area", PLACEHOLDER_AREAS.get(technology), "LAC"),
        ):
            if codes:
                listed = ", ".join(map(str, sorted(codes)))
                refusals.refuse(on & np.isin(values[col], sorted(codes)), col,
                                _placeholder(f"{radio} {what}", values[col], listed))  # fmt: skip


def _too_long(name: str, ids: NDArray[np.float64], bits: int) -> Callable[[int], str]:
    return lambda i: f"{name} {ids[i]:.0f} does not fit in {bits} bits"


def _placeholder(name: str, ids: NDArray[np.float64], listed: str) -> Callable[[int], str]:
    return lambda i: f"placeholder {name} {ids[i]:.0f} ({listed} mean unknown, not a cell)"


def refuse_unselected(
    values: dict[str, Any], *, mccs: set[int] | None, box: Box | None, refusals: Refusals
) -> None:
    """Refuse cells of other country codes than ``mccs`` and cells outside ``box``."""
    if mccs is not None:
        sel = ", ".join(map(str, sorted(mccs)))
        codes = values["mcc"]
        refusals.refuse(~np.isin(codes, list(mccs)), "mcc",
                        lambda i: f"MCC {codes[i]:.0f} not among the selected codes {sel}")  # fmt: skip
    if box is not None:
        west, south, east, north = box
        lon, lat = values["lon"], values["lat"]
        outside = ~((lon >= west) & (lon <= east) & (lat >= south) & (lat <= north))
        refusals.refuse(outside, "lon", f"outside the bounding box {west:g},{south:g},{east:g},{north:g}")


def refuse_duplicates(values: dict[str, Any], refusals: Refusals) -> None:
    """Refuse a cell whose key (radio, mcc, net, area, cell) an earlier accepted row already has."""
    pos = np.flatnonzero(refusals.ok)
    if not len(pos):
        return
    key = pd.DataFrame({c: values[c][pos] for c in ("technology", "mcc", "net", "area", "cell")})
    group = key.groupby(list(key.columns), sort=False).ngroup().to_numpy()
    first = pd.Series(pos).groupby(group).transform("min").to_numpy()
    first_of = np.full(len(values["lon"]), -1, dtype=np.int64)  # row position → its key's first row
    first_of[pos] = first
    same = "duplicate cell: same radio, mcc, net, area and cell as row"
    refusals.refuse(pos[first != pos], "cell", lambda i: f"{same} {first_of[i] + 1}")


def accepted_cells(values: dict[str, Any], ok: NDArray[np.bool_]) -> pd.DataFrame:
    """Return the accepted cells in the columns the grouping takes (``row``: 1-based data row)."""
    return pd.DataFrame(
        {
            "technology": values["technology"][ok],
            "radio": values["radio"][ok].reset_index(drop=True),
            "mcc": values["mcc"][ok].astype(np.int64),
            "mnc": values["net"][ok].astype(np.int64),
            "area": values["area"][ok].astype(np.int64),
            "cell": values["cell"][ok].astype(np.int64),
            "lon": values["lon"][ok],
            "lat": values["lat"][ok],
            "range": values["range"][ok],
            "samples": values["samples"][ok],
            "row": np.flatnonzero(ok) + 1,
        }
    )
