"""Workbooks (``.xlsx``): one sheet read as a text table, its header row found among the first rows.

A sheet is read as people fill them in: a title row (or a few) may stand above the header,
numbers may be stored as text, and blank rows may sit anywhere. The header is the first row,
among the first :data:`HEADER_SEARCH_ROWS`, whose filled cells are all text and fill more than
half of the sheet's width; rows above it are titles, skipped; blank rows are skipped and are not
data. Values come back as text, numbers in their shortest exact form (``105.06``, ``1001``).
"""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError

log = logging.getLogger(__name__)

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm"})
"""Suffixes read as workbooks (with openpyxl)."""
HEADER_SEARCH_ROWS = 20
"""Non-blank rows of a sheet in which its header row is looked for."""

Cells = tuple[Any, ...]


@dataclass(frozen=True)
class SheetTable:
    """One sheet as a table of text, and what was skipped to read it."""

    frame: pd.DataFrame
    """The data rows (blank rows left out), every value text."""
    malformed: dict[int, str]
    """Row position → why the row is malformed (filled cells beyond the header's columns)."""
    sheet: str
    title_rows: int
    """Rows above the header (titles), skipped."""
    blank_rows: int
    """Blank rows between and after the data rows, skipped."""


def is_workbook(path: Path) -> bool:
    """Whether ``path`` is read as a workbook (by its suffix)."""
    return path.suffix.lower() in WORKBOOK_SUFFIXES


def _open(path: Path) -> Any:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.exists():
        raise InputError(f"{path}: file not found")
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, InvalidFileException) as exc:
        raise InputError(f"{path}: not a readable workbook ({exc})") from exc


def read_sheet(
    path: Path,
    *,
    sheet: str | None,
    wanted: Callable[[list[str]], bool],
    option: str | None,
    what: str,
) -> SheetTable:
    """Read one sheet of a workbook as a text table.

    Parameters
    ----------
    path
        The workbook.
    sheet
        Sheet name; None picks the one sheet whose header ``wanted`` accepts (the first sheet
        when none does).
    wanted
        Whether a header (column names) is one of the tables looked for.
    option
        The parameter that names a sheet (``sites_layer``), for messages; None when there is none.
    what
        What the tables hold (``sites``), for messages.

    Raises
    ------
    InputError
        An unreadable workbook, an unknown sheet, several sheets ``wanted`` accepts, or a sheet
        without a header row.

    """
    book = _open(path)
    try:
        names = [n for n in book.sheetnames if hasattr(book[n], "iter_rows")]  # chart sheets hold no cells
        if not names:
            raise InputError(f"{path}: the workbook has no sheet of cells")
        if sheet is not None and sheet not in names:
            raise InputError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(names)}){_how(option)}")
        if sheet is None:
            sheet = _choose(book, names, wanted=wanted, path=path, option=option, what=what)
        return _table(_rows(book[sheet]), path=path, sheet=sheet)
    finally:
        book.close()


def _how(option: str | None) -> str:
    return f"; choose one with `{option}`" if option else "; save the sheet to use as a file of its own"


def _choose(book: Any, names: list[str], *, wanted: Callable[[list[str]], bool], path: Path,
            option: str | None, what: str) -> str:  # fmt: skip
    """Return the one sheet holding ``what`` (the first sheet when none looks like it)."""
    found = []
    for name in names:
        head = [row for _, row in zip(range(HEADER_SEARCH_ROWS * 3), _rows(book[name]), strict=False)]
        at = header_row(head)
        if at is not None and wanted(_names(head[at])):
            found.append(name)
    if len(found) > 1:
        raise InputError(f"{path}: {len(found)} sheets hold {what} ({', '.join(found)}){_how(option)}")
    return found[0] if found else names[0]


def _rows(ws: Any) -> Iterator[Cells]:
    for row in ws.iter_rows(values_only=True):
        yield tuple(row)


def _filled(cell: Any) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


def _count(row: Cells) -> int:
    return sum(_filled(c) for c in row)


def header_row(rows: Sequence[Cells]) -> int | None:
    """Position of the header row among ``rows`` (None when there is none).

    The header is the first non-blank row, among the first :data:`HEADER_SEARCH_ROWS` non-blank
    ones, whose filled cells are all text and more than half as many as the widest row's.
    """
    width = max((_count(r) for r in rows), default=0)
    need = width // 2 + 1
    seen = 0
    for i, row in enumerate(rows):
        n = _count(row)
        if n == 0:
            continue
        if all(isinstance(c, str) for c in row if _filled(c)) and n >= need:
            return i
        seen += 1
        if seen >= HEADER_SEARCH_ROWS:
            break
    return None


def _names(row: Cells) -> list[str]:
    """Column names of a header row (``column_K`` for an empty cell)."""
    names = [_text(c).strip() or f"column_{k + 1}" for k, c in enumerate(row)]
    while names and names[-1].startswith("column_") and not _filled(row[len(names) - 1]):
        names.pop()
    return names


def _text(cell: Any) -> str:
    """Return a cell's value as text: numbers in their shortest exact form, dates in ISO 8601."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime | dt.date | dt.time):
        return cell.isoformat()
    return unicodedata.normalize("NFC", str(cell))


def _table(rows: Iterator[Cells], *, path: Path, sheet: str) -> SheetTable:
    """Return the sheet's rows as a table under its header row."""
    head: list[Cells] = []
    for row in rows:
        head.append(row)
        if sum(_count(r) > 0 for r in head) >= HEADER_SEARCH_ROWS * 3:
            break
    at = header_row(head)
    if at is None:
        raise InputError(
            f"{path}: sheet {sheet!r} has no header row (a row of column names, all text, "
            f"among its first {HEADER_SEARCH_ROWS} filled rows)"
        )
    columns = _names(head[at])
    width = len(columns)
    data: list[list[str]] = []
    malformed: dict[int, str] = {}
    blank = 0
    for row in [*head[at + 1 :], *rows]:
        if not _count(row):
            blank += 1
            continue
        beyond = _count(row[width:])
        if beyond:
            malformed[len(data)] = f"{beyond} filled cells beyond the header's {width} columns"
        data.append([_text(c) for c in (*row[:width], *([None] * (width - len(row))))])
    titles = sum(_count(r) > 0 for r in head[:at])
    if titles:
        log.info("%s: sheet %r: %d title rows above the header skipped", path, sheet, titles)
    return SheetTable(
        frame=pd.DataFrame(data, columns=columns, dtype=str), malformed=malformed, sheet=sheet,
        title_rows=titles, blank_rows=blank,
    )  # fmt: skip
