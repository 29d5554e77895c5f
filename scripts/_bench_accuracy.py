"""telecov's errors against the exact reference, for ``bench.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray


def read_coverage(path: Path) -> pd.DataFrame:
    """A coverage.csv keyed by (level, area_id, technology), operator ``all`` only."""
    df = pd.read_csv(path, dtype={"area_id": str, "parent": str, "area_name": str})
    if "operator" in df:
        df = df[df["operator"].astype(str) == "all"]
    return df.set_index(["level", "area_id", "technology"])


def compare(telecov_csv: Path, exact_csv: Path) -> dict[str, Any]:
    """telecov's errors against the exact reference (see bench.py's docstring)."""
    t, e = read_coverage(telecov_csv), read_coverage(exact_csv)
    res: dict[str, Any] = {
        "missing_in_telecov": [list(k) for k in e.index.difference(t.index)[:20]],
        "extra_in_telecov": len(t.index.difference(e.index)),
    }
    j = e.add_suffix("_x").join(t.add_suffix("_t"), how="inner")
    is_area = np.asarray(j.index.get_level_values("level") == "area")
    for label, rows in (("area", is_area), ("parent_total", ~is_area)):
        res.update(_pct_errors(j, rows, label))
        res.update(_km2_errors(j, rows, label))
    res.update(_total_errors(j))
    res["max_abs_d_pct_pp"] = max(res["area_max_abs_d_population_pct_pp"], res["area_max_abs_d_area_pct_pp"])
    return res


def _pct_errors(j: pd.DataFrame, rows: NDArray[np.bool_], label: str) -> dict[str, Any]:
    """Largest |Δ| of the shares, null mismatches and (area rows) the worst five rows."""
    res: dict[str, Any] = {}
    for col in ("population_pct", "area_pct"):
        d = (j.loc[rows, f"{col}_t"] - j.loc[rows, f"{col}_x"]).abs()
        null_x = j.loc[rows, f"{col}_x"].isna()
        null_t = j.loc[rows, f"{col}_t"].isna()
        res[f"{label}_max_abs_d_{col}_pp"] = float(d.max()) if d.notna().any() else 0.0
        res[f"{label}_{col}_null_mismatch"] = int((null_x != null_t).sum())
        if label == "area":
            worst = d.dropna().sort_values(ascending=False).head(5).index
            res[f"worst_{col}"] = [
                {"key": list(k), "telecov": _f(j.at[k, f"{col}_t"]),
                 "exact": _f(j.at[k, f"{col}_x"]),
                 "exact_population": _f(j.at[k, "population_x"]),
                 "exact_area_km2": _f(j.at[k, "area_km2_x"])}
                for k in worst
            ]  # fmt: skip
    return res


def _km2_errors(j: pd.DataFrame, rows: NDArray[np.bool_], label: str) -> dict[str, Any]:
    """Largest km² errors, absolute and over the tolerance max(0.5 %, 0.01 km²)."""
    res: dict[str, Any] = {}
    for col in ("area_km2", "covered_km2"):
        x, tv = j.loc[rows, f"{col}_x"], j.loc[rows, f"{col}_t"]
        tol = np.maximum(0.005 * x.abs(), 0.01)
        ratio = float(((tv - x).abs() / tol).max())
        res[f"{label}_{col}_max_err_over_tol"] = _f(ratio)
        res[f"{label}_{col}_max_abs_err_km2"] = _f((tv - x).abs().max())
    return res


def _total_errors(j: pd.DataFrame) -> dict[str, Any]:
    """Relative error (%) of each technology's total covered population, and the largest."""
    tot = j[j.index.get_level_values("level") == "total"]
    per_tech: dict[str, float | None] = {}
    for key, row in tot.iterrows():
        tech = str(key[2])  # type: ignore[index]
        x = row["covered_population_x"]
        per_tech[tech] = None if not x else _f(100.0 * (row["covered_population_t"] - x) / x)
    vals = [abs(v) for v in per_tech.values() if v is not None and np.isfinite(v)]
    return {
        "total_covered_population_rel_err_pct": per_tech,
        "max_total_covered_pop_err_pct": max(vals) if vals else None,
    }


def _f(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None
