"""Delimited text tables: encodings, decimal separators, numbers, columns and file identity."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import InputError

TABLE_SUFFIXES = frozenset({".csv", ".txt", ".tsv", ".gz"})
"""Suffixes read as delimited text (anything else is a vector layer)."""
DECIMAL_SAMPLE = 2000
"""Rows looked at to recognise decimal commas (a file uses one convention throughout)."""
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$")
_GZIP_MAGIC = b"\x1f\x8b"


def file_info(path: str | Path) -> dict[str, Any]:
    """Path, size and sha256 of an input file, for ``run.json``."""
    p = Path(path)
    digest = hashlib.sha256()
    with p.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return {"path": str(p), "size": p.stat().st_size, "sha256": digest.hexdigest()}


def decode_text(raw: bytes, *, name: str, encoding: str | None = None) -> str:
    """Decode bytes as text normalized to NFC.

    Parameters
    ----------
    raw
        The file's bytes.
    name
        The file, for messages.
    encoding
        Text encoding; UTF-8 with or without a byte order mark when None.

    Raises
    ------
    InputError
        Bytes that are not valid in the encoding (the line is named for UTF-8).

    """
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
            "if the file is in another encoding pass `encoding` (e.g. `encoding` cp1258)"
        ) from exc


def read_text(path: Path, *, encoding: str | None = None, gzipped: bool | None = None) -> str:
    """Text of a file, gzip-compressed or not, decoded with :func:`decode_text`.

    Parameters
    ----------
    path
        The file.
    encoding
        Text encoding (UTF-8 by default).
    gzipped
        Whether the file is gzip-compressed; None detects it by its first bytes.

    Raises
    ------
    InputError
        Missing file, a broken gzip stream or undecodable text.

    """
    if not path.exists():
        raise InputError(f"{path}: file not found")
    raw = path.read_bytes()
    if gzipped if gzipped is not None else raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise InputError(f"{path}: not a readable gzip file ({exc})") from exc
    return decode_text(raw, name=str(path), encoding=encoding)


@dataclass(frozen=True)
class CsvTable:
    """A delimited text table as text, and its data rows with more fields than the header."""

    frame: pd.DataFrame
    """Every data row (a malformed one cut to the header's fields), all values text."""
    malformed: dict[int, str]
    """Row position → why the row is malformed (its field count, the line and the extra fields)."""


def read_csv_table(path: Path, *, encoding: str | None = None) -> CsvTable:
    """Read a delimited text file into a table of strings (ids and numbers kept verbatim).

    The separator is the most frequent of tab, ``;``, ``|`` and ``,`` in the header line
    (always tab for ``.tsv``); a ``.gz`` file is decompressed first; blank lines are skipped. A
    line with more fields than the header is kept as a row cut to the header's fields and
    listed in :attr:`CsvTable.malformed`, for the reader to refuse (field ``row``).

    Raises
    ------
    InputError
        Missing file, undecodable text, empty file, no header, or a file whose rows mostly
        have more fields than its header (a wrong separator, or decimal commas).

    """
    text = read_text(path, encoding=encoding, gzipped=path.suffix.lower() == ".gz")
    if not text.strip():
        raise InputError(f"{path}: file is empty")
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    sep = max(("\t", ";", "|", ","), key=header.count) if path.suffix.lower() != ".tsv" else "\t"
    fast = _read_with_arrow(text, sep=sep)
    if fast is not None:
        fast.columns = [str(c).strip() for c in fast.columns]
        return CsvTable(frame=fast, malformed={})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True,
                index_col=False,
            )  # fmt: skip
        table = CsvTable(frame=frame, malformed={})
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        if "fields" not in str(exc) and "Length of header" not in str(exc):
            raise InputError(f"{path}: not a readable CSV table ({exc})") from exc
        table = _split_by_hand(text, sep=sep, name=str(path))
    except (pd.errors.EmptyDataError, ValueError) as exc:
        raise InputError(f"{path}: not a readable CSV table ({exc})") from exc
    table.frame.columns = [str(c).strip() for c in table.frame.columns]
    return table


def _read_with_arrow(text: str, *, sep: str) -> pd.DataFrame | None:
    """Read a plain table with pyarrow's CSV reader; None when the file needs pandas' rules.

    The fast path takes only what both readers read alike: a header of distinct, non-empty
    names, no spaces after a separator or at the start of a line (pandas skips them), every
    line with as many fields as the header (pyarrow refuses any other line, and then pandas'
    reader, with its refusals and messages, reads the file). Values stay text, empty fields
    empty strings, as with ``pd.read_csv(dtype=str, keep_default_na=False)``.
    """
    body = text.lstrip("\ufeff")
    first = body.split("\n", 1)[0].rstrip("\r")
    names = next(csv.reader([first], delimiter=sep), [])
    if (
        not names
        or any(not n.strip() for n in names)
        or len(set(names)) < len(names)
        or f"{sep} " in body
        or f"{sep}\t" in body
        or body[:1] in (" ", "\t")
        or "\n " in body
        or "\n\t" in body
    ):
        return None
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        table = pacsv.read_csv(
            io.BytesIO(body.encode("utf-8")),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )  # fmt: skip
    except (pa.ArrowInvalid, pa.ArrowKeyError, ValueError):
        return None
    if table.column_names != names:
        return None
    frame: pd.DataFrame = table.to_pandas(self_destruct=True)
    del table
    pa.default_memory_pool().release_unused()
    return frame


def _split_by_hand(text: str, *, sep: str, name: str) -> CsvTable:
    """Read a table some of whose lines have more fields than the header, with :mod:`csv`."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=sep, skipinitialspace=True)
    columns: list[str] | None = None
    rows: list[list[str]] = []
    malformed: dict[int, str] = {}
    for record in reader:
        if not any(field.strip() for field in record):
            continue
        if columns is None:
            columns = record
            continue
        width = len(columns)
        if len(record) > width:
            extra = ", ".join(repr(f) for f in record[width:])
            malformed[len(rows)] = (
                f"{len(record)} fields where the header has {width} (line {reader.line_num}; extra: {extra})"
            )
        rows.append((record + [""] * width)[:width])
    if columns is None:
        raise InputError(f"{name}: file is empty")
    if len(malformed) * 2 > len(rows):
        first = malformed[min(malformed)]
        raise InputError(
            f"{name}: not a readable CSV table: {len(malformed)} of {len(rows)} rows have more fields than "
            f"the header (first: {first}); check the separator and the decimal separator (`decimal`)"
        )
    return CsvTable(frame=pd.DataFrame(rows, columns=columns, dtype=str), malformed=malformed)


def read_csv_text(path: Path, *, encoding: str | None = None) -> pd.DataFrame:
    """Read a delimited text file into a DataFrame of strings (ids and numbers kept verbatim).

    As :func:`read_csv_table`, for readers that take a file whole.

    Raises
    ------
    InputError
        As :func:`read_csv_table`, and for any line with more fields than the header.

    """
    table = read_csv_table(path, encoding=encoding)
    if table.malformed:
        row = min(table.malformed)
        raise InputError(f"{path}: row {row + 1} has {table.malformed[row]}")
    return table.frame


def find_column(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    """First column whose name matches one of ``candidates`` case-insensitively."""
    lowered = {c.lower(): c for c in columns}
    for cand in candidates:
        if cand.lower() in lowered:
            return lowered[cand.lower()]
    return None


def parse_numbers(values: pd.Series) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Parse text to floats.

    Returns
    -------
    values : numpy.ndarray
        The numbers, NaN where empty or not a number.
    bad : numpy.ndarray
        Where the text is neither empty, ``nan`` nor a number.

    """
    text = values.astype(str).str.strip()
    parsed = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(parsed) & (text != "").to_numpy() & ~text.str.lower().isin(["nan"]).to_numpy()
    return parsed, bad


def use_decimal(table: pd.DataFrame, columns: list[str], decimal: str) -> None:
    """Rewrite the decimal separator ``decimal`` of ``columns`` as ``.``, in place."""
    if decimal != ".":
        for col in columns:
            table[col] = table[col].str.replace(decimal, ".", regex=False)


def check_decimal_commas(table: pd.DataFrame, columns: list[str], *, name: str) -> None:
    """Refuse a file whose number columns are written with decimal commas.

    Raises
    ------
    InputError
        More than half of the first :data:`DECIMAL_SAMPLE` filled cells of a column look like
        ``18,3``.

    """
    for col in columns:
        text = table[col].astype(str).head(DECIMAL_SAMPLE)
        filled = text[text.str.strip() != ""]
        if len(filled) and filled.str.match(_DECIMAL_COMMA).mean() > 0.5:
            raise InputError(
                f"{name}: column '{col}' uses decimal commas (e.g. '{filled.iloc[0]}'); "
                "pass `decimal` , to read them"
            )
