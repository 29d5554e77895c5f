"""Bookkeeping and helpers of the accuracy tests (tests/test_accuracy.py).

:func:`compare` asserts the accuracy contract of one case and records the largest errors over
all cases in :data:`WORST`, which the last test of the module prints.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import rasterio
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon

import telecov

from _worlds import GEOD, Grid, World, site
from reference import COLUMNS, PCT_COLUMNS, ellipsoidal_area_km2, reference_table

# The public entry point, resolved once. If the package's lazy attribute loading hands out the
# submodule ``telecov.analyze`` instead of the function, take the function from it so that the
# accuracy is still measured; test_public_entry_point reports that defect on its own.
_entry = telecov.analyze
analyze = _entry if callable(_entry) else _entry.analyze

PCT_TOL = 0.25  # percentage points
KM2_REL, KM2_ABS = 0.005, 0.01
POP_REL = 0.002
KEYS = ["level", "area_id", "technology"]


@dataclass
class Worst:
    value: float = 0.0
    case: str = ""
    where: str = ""

    def update(self, value: float, case: str, where: str) -> None:
        if value > self.value:
            self.value, self.case, self.where = value, case, where


METRICS = {
    "pct (pp)": "max |Δ| of area_pct/population_pct/residential_pct, percentage points",
    "area_km2 rel": "max relative error of area_km2",
    "covered_km2 abs": "max |Δ| covered_km2 (km²)",
    "covered_km2 rel": "max relative error of covered_km2 where the reference > 0.01 km²",
    "total covered_population rel": "max relative error of per-technology totals",
    "population rel": "max relative error of population (info)",
    "covered_population rel": "max relative error of covered_population > 1 person (info)",
    "residential_km2 rel": "max relative error of residential_km2 (info)",
}
WORST: dict[str, Worst] = {k: Worst() for k in METRICS}


def _rel(a: float, b: float, floor: float = 1e-12) -> float:
    return abs(a - b) / max(abs(b), floor)


def compare(tel: pd.DataFrame, ref: pd.DataFrame, case: str, *, verbose: bool = True) -> dict[str, float]:
    """Assert the accuracy contract of ``tel`` against ``ref``; return this case's errors."""
    assert list(tel.columns) == list(COLUMNS)
    tel = tel[tel["level"].isin(ref["level"].unique())]
    tel_keys = set(map(tuple, tel[KEYS].to_numpy().tolist()))
    ref_keys = set(map(tuple, ref[KEYS].to_numpy().tolist()))
    assert tel_keys == ref_keys, (
        f"{case}: rows differ: only telecov {sorted(tel_keys - ref_keys)[:5]}, "
        f"only reference {sorted(ref_keys - tel_keys)[:5]}"
    )
    m = ref.merge(tel, on=KEYS, suffixes=("_ref", "_tel"), validate="one_to_one")
    errors: dict[str, float] = {k: 0.0 for k in METRICS}
    failures: list[str] = []

    def note(metric: str, value: float, where: str) -> None:
        errors[metric] = max(errors[metric], value)
        WORST[metric].update(value, case, where)

    for rec in m.to_dict(orient="records"):
        where = f"{rec['level']}/{rec['area_id']}/{rec['technology']}"
        v = {str(k): x for k, x in rec.items()}
        failures += _pct_failures(v, where, note)
        for col in ("area_km2", "covered_km2"):
            v_ref, v_tel = float(v[f"{col}_ref"]), float(v[f"{col}_tel"])
            if abs(v_tel - v_ref) > max(KM2_REL * v_ref, KM2_ABS):
                failures.append(f"{where} {col}: telecov {v_tel:.6f} vs reference {v_ref:.6f}")
        _note_relative(v, where, note)
        if int(v["sites_tel"]) != int(v["sites_ref"]):
            failures.append(f"{where} sites: telecov {v['sites_tel']} vs reference {v['sites_ref']}")
        if v["level"] == "total":
            c_ref, c_tel = float(v["covered_population_ref"]), float(v["covered_population_tel"])
            if c_ref > 0:
                note("total covered_population rel", _rel(c_tel, c_ref), where)
            if abs(c_tel - c_ref) > max(POP_REL * c_ref, 1e-6):
                failures.append(f"{where} covered_population: telecov {c_tel:.3f} vs reference {c_ref:.3f}")
    if verbose:
        print(f"\n[{case}] " + ", ".join(f"{k}={v:.3g}" for k, v in errors.items()))
    assert not failures, f"{case}: accuracy contract broken:\n" + "\n".join(failures[:20])
    return errors


def run(
    world: World, case: str, *, verbose: bool = True, **options: object
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Telecov's table and the reference's, checked against each other."""
    result = analyze(
        world.sites,
        world.areas,
        world.population,
        area_id=world.area_id,
        area_name=world.area_name,
        parent=world.parent,
        **options,
    )
    ref = reference_table(
        world.sites,
        world.areas,
        world.population,
        area_id=world.area_id,
        area_name=world.area_name,
        parent=world.parent,
        **options,  # type: ignore[arg-type]
    )
    compare(result.table, ref, case, verbose=verbose)
    return result.table, ref


def _pct_failures(v: dict[str, Any], where: str, note: Callable[[str, float, str], None]) -> list[str]:
    """Shares of one merged row beyond :data:`PCT_TOL` (or empty on one side only)."""
    failures = []
    for pct, (_, den) in PCT_COLUMNS.items():
        p_ref, p_tel = float(v[f"{pct}_ref"]), float(v[f"{pct}_tel"])
        if math.isnan(p_ref) or math.isnan(p_tel):
            tiny = v[f"{den}_ref"] <= 1e-9 and v[f"{den}_tel"] <= 1e-9
            if not (math.isnan(p_ref) and math.isnan(p_tel)) and not tiny:
                failures.append(f"{where} {pct}: telecov {p_tel} vs reference {p_ref}")
            continue
        note("pct (pp)", abs(p_tel - p_ref), f"{where} {pct}")
        if abs(p_tel - p_ref) > PCT_TOL:
            failures.append(f"{where} {pct}: telecov {p_tel:.4f} vs reference {p_ref:.4f}")
    return failures


def _note_relative(v: dict[str, Any], where: str, note: Callable[[str, float, str], None]) -> None:
    """Record the relative errors of one merged row's km² and people."""
    note("area_km2 rel", _rel(v["area_km2_tel"], v["area_km2_ref"]), where)
    note("covered_km2 abs", abs(v["covered_km2_tel"] - v["covered_km2_ref"]), where)
    if v["covered_km2_ref"] > 0.01:
        note("covered_km2 rel", _rel(v["covered_km2_tel"], v["covered_km2_ref"]), where)
    if v["population_ref"] > 1:
        note("population rel", _rel(v["population_tel"], v["population_ref"]), where)
    if v["covered_population_ref"] > 1:
        note("covered_population rel", _rel(v["covered_population_tel"], v["covered_population_ref"]), where)
    if v["residential_km2_ref"] > 0.01:
        note("residential_km2 rel", _rel(v["residential_km2_tel"], v["residential_km2_ref"]), where)


def row(table: pd.DataFrame, area_id: str, technology: str, level: str = "area") -> pd.Series:
    hit = table[
        (table["level"] == level) & (table["area_id"] == area_id) & (table["technology"] == technology)
    ]
    assert len(hit) == 1, (level, area_id, technology)
    return hit.iloc[0]


def near_km2(value: float, expected: float) -> bool:
    return abs(value - expected) <= max(KM2_REL * expected, KM2_ABS)


def near_pop(value: float, expected: float) -> bool:
    return abs(value - expected) <= POP_REL * expected + 1e-9


def disc_km2(radius_m: float) -> float:
    return math.pi * (radius_m / 1000.0) ** 2


def lognormal_raster(grid: Grid, seed: int) -> NDArray[np.float64]:
    """People per pixel with densities from ~5 to ~20,000 per km² (residential and not)."""
    rng = np.random.default_rng(seed)
    density = rng.lognormal(mean=math.log(300.0), sigma=1.6, size=(grid.nrows, grid.ncols))
    return density * grid.pixel_km2()[:, None]


def hand_population(poly: Polygon | MultiPolygon, grid: Grid, values: NDArray[np.float64]) -> float:
    """People in ``poly`` pixel by pixel: value × (true area inside / true pixel area).

    A third computation, independent of exactextract and of telecov (shapely + Geod only).
    """
    west, south, east, north = poly.bounds
    pixel_km2 = grid.pixel_km2()
    total = 0.0
    for r in range(int((grid.north - north) / grid.res), int((grid.north - south) / grid.res) + 1):
        for c in range(int((west - grid.west) / grid.res), int((east - grid.west) / grid.res) + 1):
            cell = shapely.box(grid.lon(c), grid.lat(r + 1), grid.lon(c + 1), grid.lat(r))
            inside = ellipsoidal_area_km2(cell.intersection(poly))
            if inside > 0 and not math.isnan(values[r, c]):
                total += values[r, c] * inside / pixel_km2[r]
    return total


def offset(lon: float, lat: float, east_km: float, north_km: float) -> tuple[float, float]:
    """Point at a ground offset (km) east then north of (lon, lat)."""
    x, y, _ = GEOD.fwd(lon, lat, 90.0 if east_km >= 0 else 270.0, abs(east_km) * 1000.0)
    x, y, _ = GEOD.fwd(x, y, 0.0 if north_km >= 0 else 180.0, abs(north_km) * 1000.0)
    return float(x), float(y)


def ha_tinh_sites(population: Path, n: int, seed: int) -> list[dict[str, object]]:
    """Seeded synthetic sites, denser where people live."""
    with rasterio.open(population) as ds:
        people = ds.read(1, masked=True).filled(0).astype(np.float64)
        transform = ds.transform
    rng = np.random.default_rng(seed)
    p = people.ravel() / people.sum()
    picks = rng.choice(p.size, size=n, p=p)
    rows, cols = np.divmod(picks, people.shape[1])
    xs = transform.c + transform.a * (cols + rng.uniform(0, 1, n))
    ys = transform.f + transform.e * (rows + rng.uniform(0, 1, n))
    sites: list[dict[str, object]] = []
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        kind = i % 10
        if kind < 3:
            sites.append(site("4G", x, y, 3000))
        elif kind < 7:
            sites.append(site("5G", x, y, round(float(rng.uniform(300, 800)), 1)))
        elif kind < 9:
            sites.append(
                site(
                    "LTE",
                    x,
                    y,
                    float(rng.uniform(1500, 4000)),
                    float(rng.uniform(0, 360)),
                    float(rng.choice([65.0, 120.0])),
                )
            )
        else:
            sites.append(site(rng.choice(["2G", "3G", "fiber"]), x, y))  # default radii
    sites.append(site("4G", xs[0], ys[0], 3000, status="planned"))  # not counted
    return sites
