"""The input-row contract: each refused row keeps the first problem found, as field and reason.

Every reader (sites, areas, points of interest, OpenCelliD cells) checks its rows in a fixed
order and records problems in one :class:`Refusals`; the rejects it returns, and the
``rejected_*.csv`` files, are the original columns followed by ``row`` (1-based), ``field`` and
``reason``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

REJECT_COLUMNS = ("row", "field", "reason")
"""The columns a rejects table ends with."""
_VARIABLE = re.compile(r"[-+]?\d[\d.,eE+-]*|'[^']*'")
"""Numbers and quoted values in a reason: numbers are left out when refusals are counted by reason."""
_QUOTED = re.compile(r"'[^']*'")
SHOWN_VALUES = 5
"""Refused values listed per reason when refusals are counted by reason (the most frequent)."""

Reason = str | Callable[[int], str]
"""A reason text, or a function of the row position returning it."""


class Refusals:
    """Refused rows of one input table of ``n`` rows: the first problem of each row wins.

    Parameters
    ----------
    n
        Rows in the table being checked.

    Examples
    --------
    >>> refusals = Refusals(3)
    >>> refusals.refuse(np.array([False, True, True]), "lat", "missing coordinate")
    >>> refusals.refuse([2], "radius_m", "radius is NaN or infinite")
    >>> refusals.ok.tolist()
    [True, False, False]

    """

    def __init__(self, n: int) -> None:
        self._n = n
        self._found: dict[int, tuple[str, str]] = {}

    def __len__(self) -> int:
        return len(self._found)

    def refuse(
        self, rows: NDArray[np.bool_] | NDArray[np.integer] | Sequence[int], field: str, reason: Reason
    ) -> None:
        """Refuse ``rows`` (a boolean mask or row positions) for ``reason`` about ``field``.

        Rows already refused keep their first problem.
        """
        positions = np.asarray(rows)
        if positions.dtype == bool:
            positions = np.flatnonzero(positions)
        for i in map(int, positions):
            if i not in self._found:
                self._found[i] = (field, reason if isinstance(reason, str) else reason(i))

    @property
    def mask(self) -> NDArray[np.bool_]:
        """Where a row is refused."""
        out = np.zeros(self._n, dtype=bool)
        out[list(self._found)] = True
        return out

    @property
    def ok(self) -> NDArray[np.bool_]:
        """Where a row is accepted."""
        return ~self.mask

    def positions(self) -> list[int]:
        """Positions of the refused rows, in table order."""
        return sorted(self._found)

    def frame(self, table: pd.DataFrame, *, rows: NDArray[np.integer] | None = None) -> pd.DataFrame:
        """Return the rejects: refused rows of ``table``, then ``row``, ``field``, ``reason``.

        Parameters
        ----------
        table
            The ``n`` rows checked, with the columns to keep.
        rows
            Row number of each of the ``n`` rows in its file (default: position + 1).

        """
        bad = self.positions()
        out = pd.DataFrame(table.iloc[bad]).reset_index(drop=True)
        numbers = np.arange(1, self._n + 1) if rows is None else np.asarray(rows, dtype=np.int64)
        out["row"] = numbers[bad] if bad else np.zeros(0, dtype=np.int64)
        out["field"] = [self._found[i][0] for i in bad]
        out["reason"] = [self._found[i][1] for i in bad]
        return out[[*(c for c in out.columns if c not in REJECT_COLUMNS), *REJECT_COLUMNS]]

    def by_reason(self) -> dict[str, int]:
        """Refused rows per ``field: reason`` (numbers left out, values listed), most first."""
        bad = self.positions()
        return _counts(
            pd.Series([self._found[i][0] for i in bad], dtype=object),
            pd.Series([self._found[i][1] for i in bad], dtype=object),
        )


def rejects_frame(frame: pd.DataFrame | None) -> pd.DataFrame:
    """Rejects in the contract's shape: original columns, then row, field, reason."""
    if frame is None or frame.empty:
        cols = [c for c in (frame.columns if frame is not None else []) if c not in REJECT_COLUMNS]
        return pd.DataFrame(columns=[*cols, *REJECT_COLUMNS])
    cols = [c for c in frame.columns if c not in REJECT_COLUMNS]
    return frame[[*cols, *REJECT_COLUMNS]]


def refusals_by_reason(rejected: Mapping[str, pd.DataFrame]) -> dict[str, dict[str, int]]:
    """Refused rows per input kind and ``field: reason``, for ``run.json`` and the summary.

    Numbers in a reason are left out (``latitude … out of range``); a reason's one quoted value
    is replaced by the refused values, most frequent first (``unknown technology 'WiMAX' ×2,
    '6G'``; at most :data:`SHOWN_VALUES`, then how many more).

    Parameters
    ----------
    rejected
        Input kind (``sites``, ``areas``, ...) → its rejects table.

    Returns
    -------
    dict
        Kind → ``{"field: reason": rows}``, most rows first; kinds with no refusal are left
        out.

    """
    return {kind: _counts(frame["field"], frame["reason"]) for kind, frame in rejected.items() if len(frame)}


def _masked(reason: str) -> tuple[str, str | None]:
    """Return a reason with numbers as ``…`` and its one quoted value as a NUL, and that value."""
    quoted = _QUOTED.findall(reason)
    if len(quoted) != 1:
        return _VARIABLE.sub("…", reason), None
    return _VARIABLE.sub(lambda m: "\0" if m.group().startswith("'") else "…", reason), quoted[0]


def _listed(values: Counter[str]) -> str:
    shown = [v if n == 1 else f"{v} ×{n}" for v, n in values.most_common(SHOWN_VALUES)]
    more = len(values) - SHOWN_VALUES
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _counts(fields: pd.Series, reasons: pd.Series) -> dict[str, int]:
    rows: Counter[str] = Counter()
    values: dict[str, Counter[str]] = {}
    for field, reason in zip(fields.astype(str), reasons.astype(str), strict=True):
        masked, value = _masked(reason)
        key = f"{field}: {masked}"
        rows[key] += 1
        if value is not None:
            values.setdefault(key, Counter())[value] += 1
    return {
        key.replace("\0", _listed(values[key])) if key in values else key: n for key, n in rows.most_common()
    }
