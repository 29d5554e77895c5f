"""The SYNTHETIC sites of the demo province for ``make_sample.py``: five technologies.

Sites are drawn from the caller's seeded random generator, denser where people live.
"""

from __future__ import annotations

import math

import numpy as np
from _sample_land import KX, KY, RES, FloatArray, Grid
from numpy.typing import NDArray

TECH_SPELLINGS: dict[str, list[str]] = {
    "2G": ["2G", "GSM", "gsm"],
    "3G": ["3G", "UMTS", "WCDMA"],
    "4G": ["4G", "LTE", "4G LTE"],
    "5G": ["5G", "NR", "5G NR"],
    "fiber": ["fiber", "FTTH", "GPON", "Fibre"],
}
DEFAULT_RADIUS = {"2G": 5000.0, "3G": 3000.0, "4G": 3000.0, "5G": 600.0, "fiber": 1000.0}
MOBILE_OPERATORS = (["Viettel", "VNPT", "MobiFone"], [0.45, 0.32, 0.23])
FIBER_OPERATORS = (["VNPT", "Viettel", "FPT"], [0.45, 0.40, 0.15])
OPERATOR_PREFIX = {"Viettel": "VTL", "VNPT": "VNP", "MobiFone": "MBF", "FPT": "FPT"}


def _sample_pixels(
    rng: np.random.Generator,
    weight: FloatArray,
    n: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Draw ``n`` pixel (row, col) pairs with probability proportional to ``weight``."""
    flat = weight.ravel()
    idx = rng.choice(flat.size, size=n, p=flat / flat.sum())
    rows, cols = np.divmod(idx, weight.shape[1])
    return rows, cols


class _Draft:
    """Sites drawn so far, each jittered inside its pixel."""

    def __init__(self, rng: np.random.Generator, grid: Grid) -> None:
        self.rng = rng
        self.grid = grid
        self.rows: list[dict[str, object]] = []

    def add(
        self, tech: str, r: NDArray[np.int64], c: NDArray[np.int64], ops: tuple[list[str], list[float]],
        **extra: object,
    ) -> None:  # fmt: skip
        for ri, cj in zip(r, c, strict=True):
            lon = self.grid.west + (cj + self.rng.uniform(0.05, 0.95)) * RES
            lat = self.grid.north - (ri + self.rng.uniform(0.05, 0.95)) * RES
            self.rows.append({
                "operator": str(self.rng.choice(ops[0], p=ops[1])),
                "tech": tech, "lon": lon, "lat": lat, "radius_m": None, "azimuth": None,
                "sectors": False, **extra,
            })  # fmt: skip


def make_sites(
    rng: np.random.Generator, grid: Grid, people: NDArray[np.float32],
    commune_ids: NDArray[np.int32], weak_4g: list[int],
) -> list[dict[str, str]]:  # fmt: skip
    """Synthetic sites of five technologies, denser where people live."""
    pop = np.where(people > 0, people, 0.0).astype(np.float64) * (commune_ids > 0)
    dens = pop / grid.pixel_km2()
    town = dens > 2500.0
    draft = _Draft(rng, grid)
    draft.add("2G", *_sample_pixels(rng, pop**0.45, 90), MOBILE_OPERATORS)
    draft.add("3G", *_sample_pixels(rng, pop**0.7, 110), MOBILE_OPERATORS)
    n_ids = int(commune_ids.max()) + 1
    total = np.bincount(commune_ids.ravel(), weights=pop.ravel(), minlength=n_ids)
    centres: dict[int, tuple[int, int]] = {}
    for k in range(1, n_ids):
        masked = np.where(commune_ids == k, pop, -1.0)
        rc = np.unravel_index(int(np.argmax(masked)), pop.shape)
        centres[k] = (int(rc[0]), int(rc[1]))
    _add_4g(draft, pop, town, commune_ids, weak_4g, total)
    # 5G: towns, plus the centres of the 20 most populous communes still without 5G
    r5, c5 = _sample_pixels(rng, pop * town, 40)
    draft.add("5G", r5, c5, MOBILE_OPERATORS)
    has_5g = set(commune_ids[r5, c5].tolist())
    rest = [k for k in range(1, n_ids) if k not in has_5g]
    for k in sorted(rest, key=lambda k: -total[k])[:20]:
        draft.add("5G", np.array([centres[k][0]]), np.array([centres[k][1]]), MOBILE_OPERATORS)
    draft.add("fiber", *_sample_pixels(rng, pop**0.8, 90), FIBER_OPERATORS)
    for row in draft.rows:  # a few explicit radii
        u = rng.uniform()
        if row["tech"] == "5G" and u < 0.2:
            row["radius_m"] = 400 if u < 0.1 else 800
        elif row["tech"] == "2G" and u < 0.08:
            row["radius_m"] = 8000
        elif row["tech"] in ("3G", "4G") and not row["sectors"] and u < 0.05:
            row["radius_m"] = 2000
    return _site_rows(rng, draft.rows)


def _add_4g(
    draft: _Draft, pop: FloatArray, town: NDArray[np.bool_], commune_ids: NDArray[np.int32],
    weak_4g: list[int], total: FloatArray,
) -> None:  # fmt: skip
    """4G: one at the most populated pixel of every commune except the weak ones; then gap
    filling at the most populated uncovered pixel until each commune is 75 % covered; the
    rest by population. 24 more, in towns, are three-sector sites.
    """
    n_ids = total.shape[0]
    covered = np.zeros(pop.shape, dtype=bool)
    for k in range(1, n_ids):
        if k in weak_4g:
            continue
        for _ in range(6):
            got = np.bincount(commune_ids.ravel(), weights=(pop * covered).ravel(),
                              minlength=n_ids)  # fmt: skip
            if got[k] >= 0.75 * total[k]:
                break
            masked = np.where((commune_ids == k) & ~covered, pop, -1.0)
            r, c = np.unravel_index(int(np.argmax(masked)), pop.shape)
            draft.add("4G", np.array([r]), np.array([c]), MOBILE_OPERATORS)
            mark_disc(covered, draft.grid, float(draft.rows[-1]["lon"]), float(draft.rows[-1]["lat"]),
                      DEFAULT_RADIUS["4G"] / 1000.0)  # fmt: skip
    weak = np.isin(commune_ids, weak_4g)
    n_base = sum(1 for row in draft.rows if row["tech"] == "4G")
    draft.add("4G", *_sample_pixels(draft.rng, np.where(weak, 0.0, pop**0.55), 178 - n_base),
              MOBILE_OPERATORS)  # fmt: skip
    draft.add("4G", *_sample_pixels(draft.rng, pop * town, 24), MOBILE_OPERATORS, sectors=True)


def _site_rows(rng: np.random.Generator, rows: list[dict[str, object]]) -> list[dict[str, str]]:
    """The CSV rows: shuffled ids per operator, varied spellings, statuses and three sectors."""
    order = rng.permutation(len(rows))  # ids do not reveal the technology
    counters = dict.fromkeys(OPERATOR_PREFIX, 0)
    planned_pool = [i for i in order if rows[i]["tech"] in ("4G", "5G", "fiber")
                    and not rows[i]["sectors"]]  # fmt: skip
    planned = set(rng.choice(planned_pool, size=10, replace=False).tolist())
    out: list[dict[str, str]] = []
    for i in order:
        row = rows[i]
        op = str(row["operator"])
        counters[op] += 1
        site_id = f"{OPERATOR_PREFIX[op]}{counters[op]:04d}"
        spelling = str(rng.choice(TECH_SPELLINGS[str(row["tech"])]))
        status = "planned" if i in planned else ("existing" if rng.uniform() < 0.6 else "")
        radius = "" if row["radius_m"] is None else str(row["radius_m"])
        base = {
            "site_id": site_id, "operator": op, "technology": spelling,
            "lon": f"{row['lon']:.6f}", "lat": f"{row['lat']:.6f}", "radius_m": radius,
            "azimuth": "", "beamwidth": "", "status": status,
        }  # fmt: skip
        if row["sectors"]:
            out.extend({**base, "azimuth": str(az), "beamwidth": "120"} for az in (0, 120, 240))
        else:
            out.append(base)
    out.sort(key=lambda r: (r["site_id"], r["azimuth"].zfill(3)))
    return out


def mark_disc(covered: NDArray[np.bool_], grid: Grid, lon: float, lat: float, radius_km: float) -> None:
    """Set pixels whose centre lies within ``radius_km`` of lon/lat (flat-earth), in place."""
    col, row = int((lon - grid.west) / RES), int((grid.north - lat) / RES)
    hc, hr = int(radius_km / (RES * KX)) + 2, int(radius_km / (RES * KY)) + 2
    r0, r1 = max(row - hr, 0), min(row + hr + 1, grid.height)
    c0, c1 = max(col - hc, 0), min(col + hc + 1, grid.width)
    dx = (grid.lon[c0:c1] - lon) * 111.32 * math.cos(math.radians(lat))
    dy = (grid.lat[r0:r1] - lat) * KY
    covered[r0:r1, c0:c1] |= (dy[:, None] ** 2 + dx[None, :] ** 2) <= radius_km**2


def coverage_share(
    grid: Grid,
    people: NDArray[np.float32],
    sites: list[dict[str, str]],
    tech: str,
    commune_ids: NDArray[np.int32],
) -> tuple[float, FloatArray]:
    """Approximate share of province people covered (pixel centres within the radius).

    Returns the provincial share and the covered share per commune id (index = id).
    """
    covered = np.zeros(people.shape, dtype=bool)
    for s in sites:
        if TECH_SPELLINGS_INV[s["technology"]] != tech or s["status"] == "planned":
            continue
        radius_km = (float(s["radius_m"]) if s["radius_m"] else DEFAULT_RADIUS[tech]) / 1000.0
        mark_disc(covered, grid, float(s["lon"]), float(s["lat"]), radius_km)
    pop = np.where(people > 0, people, 0.0).astype(np.float64)
    n = int(commune_ids.max()) + 1
    total = np.bincount(commune_ids.ravel(), weights=pop.ravel(), minlength=n)
    cov = np.bincount(commune_ids.ravel(), weights=(pop * covered).ravel(), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        per = cov / total
    return float(cov[1:].sum() / total[1:].sum()), per


TECH_SPELLINGS_INV = {s: t for t, names in TECH_SPELLINGS.items() for s in names}


RADIO_FIELDS = ["band", "height_m", "eirp_dbm", "environment"]
"""Radio columns of the sites file (``docs/radio.md``), filled on part of the mobile rows."""
RADIO_SHARE = {"2G": 0.5, "3G": 0.0, "4G": 0.5, "5G": 0.6}
"""Share of each technology's sites (without an explicit ``radius_m``) given radio columns."""


def _radio_values(rng: np.random.Generator, tech: str, density: float) -> dict[str, str]:
    """Band, antenna height, EIRP and environment of one radio site.

    2G: G900 on 30–45 m masts, EIRP 55–58 dBm, environment stated (urban at >= 1,500 people/km²
    around the mast, else suburban: village clutter). 4G: B3 (L1800) on rooftop masts 32–40 m,
    61–63 dBm. 5G: n78 on 25 m (the TR 38.901 UMa height), 64–67 dBm. 4G and 5G leave the
    environment empty (``auto``: classed by the population density around the site).
    """
    if tech == "2G":
        return {"band": str(rng.choice(["G900", "G900", "GSM900"])),
                "height_m": str(int(rng.integers(30, 46))), "eirp_dbm": str(int(rng.integers(55, 59))),
                "environment": "urban" if density >= 1500.0 else "suburban"}  # fmt: skip
    if tech == "4G":
        return {"band": str(rng.choice(["B3", "L1800"])), "height_m": str(int(rng.integers(32, 41))),
                "eirp_dbm": str(int(rng.integers(61, 64))), "environment": ""}  # fmt: skip
    return {"band": "n78", "height_m": "25", "eirp_dbm": str(int(rng.integers(64, 68))), "environment": ""}


def add_radio(
    rng: np.random.Generator, rows: list[dict[str, str]], grid: Grid, people: NDArray[np.float32]
) -> None:
    """Give part of the mobile sites radio columns, in place (every row gets the columns).

    The rows of a three-sector site share one draw; a radio sector site's beamwidth becomes 65°
    (a typical panel's 3 dB width). Rows with their own ``radius_m`` stay without radio values.
    """
    dens = np.where(people > 0, people, 0.0) / grid.pixel_km2()
    chosen: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows:
        tech = TECH_SPELLINGS_INV[row["technology"]]
        key = (row["site_id"], tech)
        if key not in chosen:
            values = dict.fromkeys(RADIO_FIELDS, "")
            if not row["radius_m"] and rng.uniform() < RADIO_SHARE.get(tech, 0.0):
                col = min(max(int((float(row["lon"]) - grid.west) / RES), 0), grid.width - 1)
                r = min(max(int((grid.north - float(row["lat"])) / RES), 0), grid.height - 1)
                around = float(dens[max(r - 5, 0) : r + 6, max(col - 5, 0) : col + 6].mean())
                values = _radio_values(rng, tech, around)
            chosen[key] = values
        row.update(chosen[key])
        if row["azimuth"] and chosen[key]["band"]:
            row["beamwidth"] = "65"
