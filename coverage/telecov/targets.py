"""Plan targets: read a ``plan.toml`` of ``[[target]]`` tables and check them against a result.

A target reads "``technology`` covers at least ``at_least`` % of ``metric`` (population,
residential area, area) — or of the points of interest ``poi`` — at ``scope``":

- ``total``: the province (the report's ``ALL`` row);
- ``parent``: every parent group (e.g. every district) on its own;
- ``area``: every commune on its own — the achieved value is the minimum over communes.

Errors in the file (unknown key, metric or technology, a value of the wrong type) name the
file and line.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .errors import InputError
from .metrics import PCT_COLUMN, layer_rows
from .vocabulary import METRICS, check_technology

if TYPE_CHECKING:
    from .pois import PoiCoverage
    from .result import Result

TARGET_KEYS = ("name", "technology", "metric", "poi", "at_least", "scope")
"""Keys allowed in a ``[[target]]`` table."""
TOP_KEYS = ("name", "description", "source", "poi", "target")
"""Top-level keys allowed in a plan file (``poi`` is a table ``NAME = "file"``)."""
SCOPES = ("total", "parent", "area")

RESULT_COLUMNS = (
    "target", "name", "technology", "measure", "scope", "at_least", "achieved", "met",
    "shortfall", "unit", "failing", "failing_areas",
)  # fmt: skip
"""Columns of :func:`check_targets`' table."""

UNITS = {"population": "people", "residential": "km2", "area": "km2"}
PARTS = {
    "population": ("covered_population", "population"),
    "residential": ("covered_residential_km2", "residential_km2"),
    "area": ("covered_km2", "area_km2"),
}


@dataclass(frozen=True)
class Target:
    """One ``[[target]]`` of a plan (``line``: where its table starts in the file)."""

    number: int
    line: int
    name: str
    technology: str
    at_least: float
    scope: str = "total"
    metric: str | None = None
    poi: str | None = None

    @property
    def measure(self) -> str:
        """``population`` / ``residential`` / ``area``, or ``poi:NAME``."""
        return self.metric if self.metric is not None else f"poi:{self.poi}"


@dataclass(frozen=True)
class Plan:
    """A plan file: its targets and the POI files it names (paths resolved from its folder)."""

    path: Path
    name: str
    targets: list[Target]
    pois: dict[str, Path] = field(default_factory=dict)
    poi_lines: dict[str, int] = field(default_factory=dict)

    @property
    def technologies(self) -> list[str]:
        """Technologies the targets use."""
        return [t.technology for t in self.targets]


_KEY = re.compile(r"""^\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*=""")
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")


def _key_lines(text: str) -> tuple[dict[str, int], list[tuple[int, dict[str, int]]], dict[str, int]]:
    """Line numbers of top-level keys, of each ``[[target]]`` (start, keys) and of ``[poi]`` keys."""
    top: dict[str, int] = {}
    targets: list[tuple[int, dict[str, int]]] = []
    poi: dict[str, int] = {}
    section: str | None = None
    for n, line in enumerate(text.split("\n"), start=1):
        header = _HEADER.match(line)
        if header:
            name = header.group(2).strip().strip('"')
            section = name
            if header.group(1) == "[[" and name == "target":
                targets.append((n, {}))
            elif header.group(1) == "[":
                top.setdefault(name, n)
            continue
        key = _KEY.match(line)
        if not key:
            continue
        k = next(g for g in key.groups() if g is not None)
        if section is None:
            top.setdefault(k, n)
        elif section == "target" and targets:
            targets[-1][1].setdefault(k, n)
        elif section == "poi":
            poi.setdefault(k, n)
    return top, targets, poi


def read_plan(path: str | Path) -> Plan:
    """Read and validate a plan file.

    Raises
    ------
    InputError
        Missing file, invalid TOML, unknown key, metric, technology or scope, a value of the
        wrong type or out of range — naming the file and line.

    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: plan file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from exc
    top_lines, target_lines, poi_lines = _key_lines(text)

    def fail(line: int | None, message: str) -> InputError:
        return InputError(f"{path}:{line}: {message}" if line else f"{path}: {message}")

    for key in data:
        if key not in TOP_KEYS:
            raise fail(top_lines.get(key), f"unknown key {key!r} (expected one of {', '.join(TOP_KEYS)})")
    name = data.get("name", path.stem)
    if not isinstance(name, str):
        raise fail(top_lines.get("name"), "'name' must be text")
    pois: dict[str, Path] = {}
    raw_pois = data.get("poi", {})
    if not isinstance(raw_pois, dict):
        raise fail(top_lines.get("poi"), "'poi' must be a table of NAME = \"file\"")
    for key, value in raw_pois.items():
        if not isinstance(value, str) or not value:
            raise fail(poi_lines.get(key), f"poi {key!r}: expected a file name as text, got {value!r}")
        file = Path(value)
        pois[key] = file if file.is_absolute() else path.parent / file
    raw_targets = data.get("target")
    if not isinstance(raw_targets, list) or not raw_targets:
        raise fail(top_lines.get("target"), "no [[target]] table")
    targets = []
    for i, raw in enumerate(raw_targets):
        start, lines = target_lines[i] if i < len(target_lines) else (None, {})
        targets.append(_target(raw, i + 1, start, lines, fail))
    return Plan(path=path, name=name, targets=targets, pois=pois, poi_lines=poi_lines)


@dataclass(frozen=True)
class _Table:
    """One ``[[target]]`` table as read, with the lines its errors name."""

    raw: dict[str, Any]
    where: str
    start: int | None
    lines: Mapping[str, int]
    fail: Callable[[int | None, str], InputError]

    def error(self, key: str | None, message: str) -> InputError:
        """Return the error ``message`` at the line of ``key`` (the table's start when None or absent)."""
        line = self.lines.get(key, self.start) if key is not None else self.start
        return self.fail(line, f"{self.where}: {message}")

    def text(self, key: str, *, required: bool) -> str | None:
        """Return the text value of ``key`` (None when absent and not required)."""
        value = self.raw.get(key)
        if value is None:
            if required:
                raise self.error(None, f"missing key {key!r}")
            return None
        if not isinstance(value, str):
            raise self.error(key, f"{key!r} must be text, got {value!r}")
        return value


def _target(raw: Any, number: int, start: int | None, lines: Mapping[str, int], fail: Any) -> Target:
    if not isinstance(raw, dict):
        raise fail(start, f"target {number}: expected a [[target]] table")
    table = _Table(raw, f"target {number}", start, lines, fail)
    for key in raw:
        if key not in TARGET_KEYS:
            raise table.error(key, f"unknown key {key!r} (expected {', '.join(TARGET_KEYS)})")
    tech = _technology(table)
    metric, poi = _measure(table)
    scope = table.text("scope", required=False) or "total"
    if scope not in SCOPES:
        raise table.error("scope", f"unknown scope {scope!r} (expected one of {', '.join(SCOPES)})")
    value = _at_least(table)
    label = table.text("name", required=False)
    default = f"{tech} {metric or 'poi ' + str(poi)} ≥ {value:g} % ({scope})"
    return Target(
        number=number, line=start or 0, name=label or default, technology=tech,
        at_least=float(value), scope=scope, metric=metric, poi=poi,
    )  # fmt: skip


def _technology(table: _Table) -> str:
    tech = table.text("technology", required=True)
    assert tech is not None
    try:
        return check_technology(tech, where=f"{table.where}: technology")
    except InputError as exc:
        raise table.fail(table.lines.get("technology", table.start), str(exc)) from None


def _measure(table: _Table) -> tuple[str | None, str | None]:
    """Return the target's ``metric`` and ``poi`` (exactly one of them is set)."""
    metric = table.text("metric", required=False)
    poi = table.text("poi", required=False)
    if (metric is None) == (poi is None):
        raise table.error(None, f"give exactly one of 'metric' ({', '.join(METRICS)}) or 'poi'")
    if metric is not None and metric not in METRICS:
        raise table.error("metric", f"unknown metric {metric!r} (expected one of {', '.join(METRICS)})")
    return metric, poi


def _at_least(table: _Table) -> float | int:
    if "at_least" not in table.raw:
        raise table.error(None, "missing key 'at_least' (a percentage)")
    value = table.raw["at_least"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise table.error("at_least", f"'at_least' must be a number, got {value!r}")
    if not math.isfinite(value) or not 0 <= value <= 100:
        raise table.error("at_least", f"'at_least' {value:g} must be between 0 and 100")
    return value


def check_targets(
    result: Result,
    plan: Plan | list[Target],
    *,
    pois: PoiCoverage | None = None,
) -> pd.DataFrame:
    """Evaluate each target: met or not, achieved value, shortfall and failing areas.

    Parameters
    ----------
    result
        Outcome of :func:`telecov.analyze` (``combined=True`` for ``any_mobile``/``4G+``,
        a ``parent`` field for scope ``parent``).
    plan
        A :class:`Plan` (see :func:`read_plan`) or a list of targets.
    pois
        :func:`telecov.poi_coverage` of the POI sets the targets name.

    Returns
    -------
    pandas.DataFrame
        :data:`RESULT_COLUMNS`, one row per target. ``achieved`` is the share in percent
        (scope ``area``/``parent``: the minimum over communes/parents with a defined share);
        ``shortfall`` is how many more people, km² or POIs must be covered to meet it (summed
        over the failing communes/parents); ``failing_areas`` lists the ids of the communes
        (scope ``total``/``area``) or parents (scope ``parent``) under ``at_least``.

    Raises
    ------
    InputError
        A POI target without its POI set, or scope ``parent`` without parents.

    """
    targets = plan.targets if isinstance(plan, Plan) else list(plan)
    where = f"{plan.path}" if isinstance(plan, Plan) else "target"
    rows = [_evaluate(t, result, pois, at=f"{where}:{t.line}" if t.line else where) for t in targets]
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))


def _rows_of(
    t: Target, result: Result, pois: PoiCoverage | None, *, at: str
) -> tuple[pd.DataFrame, str, str, str, str]:
    """Return the rows a target reads: (rows, covered column, whole column, share column, unit)."""
    if t.metric is not None:
        num_col, den_col = PARTS[t.metric]
        return layer_rows(result, t.technology), num_col, den_col, PCT_COLUMN[t.metric], UNITS[t.metric]
    if pois is None or t.poi not in set(pois.table["poi"]):
        raise InputError(
            f"{at}: target {t.number} names poi {t.poi!r}, but no such POI file was given "
            f"(add it under [poi] in the plan or pass `pois` {t.poi}=FILE)"
        )
    frame = pois.table[(pois.table["poi"] == t.poi) & (pois.table["technology"] == t.technology)]
    return frame, "covered", "count", "share_pct", "POIs"


def _evaluate(t: Target, result: Result, pois: PoiCoverage | None, *, at: str) -> dict[str, Any]:
    """One row of :func:`check_targets`' table."""
    frame, num_col, den_col, pct_col, unit = _rows_of(t, result, pois, at=at)
    level = {"total": "total", "parent": "parent", "area": "area"}[t.scope]
    scoped = frame[frame["level"] == level]
    if t.scope == "parent" and scoped.empty:
        raise InputError(f"{at}: target {t.number} has scope 'parent' but the areas have no `parent` field")
    scoped = scoped[scoped[pct_col].notna()]
    pct = scoped[pct_col].to_numpy(dtype=float)
    need = t.at_least / 100.0 * scoped[den_col].to_numpy(dtype=float) - scoped[num_col].to_numpy(dtype=float)
    if unit == "POIs":
        need = np.ceil(need - 1e-9)
    need = np.maximum(need, 0.0)
    under = pct < t.at_least - 1e-9
    if t.scope == "total":
        communes = frame[(frame["level"] == "area") & frame[pct_col].notna()]
        failing_ids = communes.loc[communes[pct_col] < t.at_least - 1e-9, "area_id"].astype(str).tolist()
    else:
        failing_ids = scoped.loc[under, "area_id"].astype(str).tolist()
    return {
        "target": t.number, "name": t.name, "technology": t.technology, "measure": t.measure,
        "scope": t.scope, "at_least": t.at_least,
        "achieved": float(pct.min()) if pct.size else float("nan"),
        "met": bool(pct.size) and not under.any(), "shortfall": float(need[under].sum()), "unit": unit,
        "failing": len(failing_ids), "failing_areas": failing_ids,
    }  # fmt: skip
