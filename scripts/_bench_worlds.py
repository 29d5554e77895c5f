"""Inputs for ``bench.py``: real boundaries and rasters, plus seeded synthetic sites and rasters.

Everything synthetic made here is deterministic for a given seed and is labelled synthetic
in the file names and in the benchmark output:

- sites: points drawn with probability proportional to the people in each population pixel,
  then jittered uniformly inside the pixel; technologies, operators, statuses, 5G radii and a
  few sectors drawn from fixed shares (see :data:`MIX_WITH_5G`, :func:`make_sites`);
- the 3″ (~100 m) raster: every 1 km pixel's people spread over its 10 × 10 sub-pixels with
  seeded log-normal weights (the pixel total is preserved, nodata stays nodata).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio
import rasterio
from affine import Affine
from numpy.typing import NDArray
from rasterio.windows import Window

VIETNAM = "vietnam"
COMMUNES_GPKG = "communes_2025.gpkg"
HA_TINH_GEOJSON = "ha_tinh_communes_2025.geojson"
HA_TINH_CODE = "42"
RASTER_NATIONAL = "worldpop_vnm_2020_1km.tif"
RASTER_HA_TINH = "worldpop_ha_tinh_2020.tif"

MIX_WITH_5G: dict[str, float] = {"2G": 0.28, "3G": 0.19, "4G": 0.38, "5G": 0.05, "fiber": 0.10}
"""Technology shares of the province site sets."""
MIX_WITHOUT_5G: dict[str, float] = {"2G": 0.30, "3G": 0.20, "4G": 0.40, "fiber": 0.10}
"""Technology shares of the country's 100,000 sites (its 5G stations are drawn apart)."""
OPERATORS: dict[str, float] = {"Viettel": 0.5, "VNPT": 0.3, "MobiFone": 0.2}
SECTOR_SHARE: dict[str, float] = {"4G": 0.05, "5G": 0.25}
"""Share of sites of a technology that are sectors (azimuth + beamwidth) instead of discs."""
PLANNED_SHARE = 0.02
"""Share of sites with ``status = planned`` (not counted by either pipeline)."""
SITE_COLUMNS = (
    "site_id",
    "operator",
    "technology",
    "lon",
    "lat",
    "radius_m",
    "azimuth",
    "beamwidth",
    "status",
)


@dataclass(frozen=True)
class World:
    """One benchmark input set: paths plus the field names the CLI needs."""

    areas: Path
    population: Path
    sites: Path
    area_id: str = "commune_code"
    area_name: str = "commune_name"
    parent: str | None = "province_name"


def default_data_dir(repo: Path) -> Path | None:
    """``../shared/data`` next to the repository, when it exists."""
    candidate = (repo.parent / "shared" / "data").resolve()
    return candidate if candidate.is_dir() else None


def province_areas(data_dir: Path, work: Path) -> Path:
    """Ha Tinh's 69 communes: the bundled GeoJSON, else a subset of the national GeoPackage."""
    direct = data_dir / VIETNAM / HA_TINH_GEOJSON
    if direct.is_file():
        return direct
    out = work / "ha_tinh_communes_2025.gpkg"
    if not out.is_file():
        gdf = pyogrio.read_dataframe(
            data_dir / VIETNAM / COMMUNES_GPKG, where=f"province_code = '{HA_TINH_CODE}'"
        )
        pyogrio.write_dataframe(gdf, out)
    return out


def country_areas(data_dir: Path) -> Path:
    """All 3,321 communes of Vietnam (2025 boundaries)."""
    return data_dir / VIETNAM / COMMUNES_GPKG


def province_raster(data_dir: Path) -> Path:
    """The real 1 km WorldPop clip of Ha Tinh (falls back to the national raster)."""
    clip = data_dir / VIETNAM / RASTER_HA_TINH
    return clip if clip.is_file() else national_raster(data_dir)


def national_raster(data_dir: Path) -> Path:
    """The real national 1 km WorldPop 2020 raster."""
    return data_dir / VIETNAM / RASTER_NATIONAL


def raster_pixels(path: Path) -> int:
    """Width × height of a raster."""
    with rasterio.open(path) as ds:
        return int(ds.width) * int(ds.height)


def _draw(rng: np.random.Generator, shares: Mapping[str, float], n: int) -> NDArray[np.str_]:
    names = list(shares)
    p = np.array([shares[k] for k in names], dtype=np.float64)
    return np.asarray(names)[rng.choice(len(names), size=n, p=p / p.sum())]


def _sample_points(
    rng: np.random.Generator, raster: Path, n: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``n`` points, pixels drawn with probability ∝ people, uniform jitter inside the pixel."""
    with rasterio.open(raster) as ds:
        pop = ds.read(1, masked=True).filled(0.0).astype(np.float64)
        t = ds.transform
    pop[~np.isfinite(pop) | (pop < 0)] = 0.0
    flat = pop.ravel()
    idx = np.flatnonzero(flat > 0)
    pick = idx[rng.choice(idx.size, size=n, p=flat[idx] / flat[idx].sum())]
    rows, cols = np.divmod(pick, pop.shape[1])
    u, v = rng.random(n), rng.random(n)
    lon = t.c + (cols + u) * t.a + (rows + v) * t.b
    lat = t.f + (cols + u) * t.d + (rows + v) * t.e
    return lon, lat


def make_sites(
    path: Path, *, raster: Path, n: int, shares: Mapping[str, float], n_5g: int = 0, seed: int
) -> Path:
    """Write ``n`` (+ ``n_5g`` 5G) seeded synthetic sites as CSV; reuse the file if present.

    5G stations get ``radius_m`` uniform in 300–800 m; other technologies leave it empty
    (defaults: 2G 5 km, 3G/4G 3 km, fiber 1 km). A share of 4G/5G sites are sectors.
    """
    if path.is_file():
        return path
    rng = np.random.default_rng(seed)
    total = n + n_5g
    lon, lat = _sample_points(rng, raster, total)
    tech = np.concatenate([_draw(rng, shares, n), np.full(n_5g, "5G")])
    operator = _draw(rng, OPERATORS, total)
    radius = np.where(tech == "5G", np.round(rng.uniform(300.0, 800.0, total)), np.nan)
    sector = np.zeros(total, dtype=bool)
    for t, share in SECTOR_SHARE.items():
        sector |= (tech == t) & (rng.random(total) < share)
    azimuth = np.where(sector, np.round(rng.uniform(0.0, 360.0, total), 1), np.nan)
    beam = np.where(sector, rng.choice([65.0, 90.0, 120.0], size=total), np.nan)
    r = rng.random(total)
    status = np.where(r < PLANNED_SHARE, "planned", np.where(r < 0.3, "", "existing"))

    def fmt(x: float, digits: int) -> str:
        return "" if math.isnan(x) else f"{x:.{digits}f}"

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(SITE_COLUMNS)
        for i in range(total):
            w.writerow(
                (
                    f"SYN{i + 1:06d}",
                    operator[i],
                    tech[i],
                    f"{lon[i]:.6f}",
                    f"{lat[i]:.6f}",
                    fmt(radius[i], 0),
                    fmt(azimuth[i], 1),
                    fmt(beam[i], 0),
                    status[i],
                )
            )
    tmp.replace(path)
    return path


def subset_sites(src: Path, dst: Path, technologies: set[str]) -> Path:
    """Copy the rows of ``src`` whose technology is in ``technologies``."""
    if dst.is_file():
        return dst
    with src.open(newline="", encoding="utf-8") as fi, dst.open("w", newline="", encoding="utf-8") as fo:
        r, w = csv.reader(fi), csv.writer(fo)
        header = next(r)
        w.writerow(header)
        k = header.index("technology")
        w.writerows(row for row in r if row[k] in technologies)
    return dst


def count_rows(path: Path) -> int:
    """Data rows of a CSV file."""
    with path.open(encoding="utf-8") as fh:
        return sum(1 for _ in fh) - 1


def make_fine_raster(src: Path, dst: Path, *, factor: int = 10, seed: int) -> Path:
    """Seeded synthetic disaggregation of ``src`` to ``factor``× finer pixels; reuse if present.

    Each source pixel's people are spread over its ``factor`` × ``factor`` sub-pixels with
    log-normal(0, 1) weights normalised to 1, so every source pixel's total is preserved;
    nodata pixels stay nodata. Written as a tiled, DEFLATE-compressed float32 GeoTIFF on the
    source grid subdivided exactly (same extent and alignment).
    """
    meta = dst.with_suffix(".json")
    if dst.is_file() and meta.is_file():
        return dst
    rng = np.random.default_rng(seed)
    block = 256
    with rasterio.open(src) as ds:
        nodata = ds.nodata if ds.nodata is not None else -99999.0
        profile = ds.profile.copy()
        profile.update(
            width=ds.width * factor,
            height=ds.height * factor,
            transform=ds.transform * Affine.scale(1.0 / factor),
            dtype="float32",
            nodata=nodata,
            tiled=True,
            blockxsize=block,
            blockysize=block,
            compress="deflate",
            predictor=3,
            zlevel=4,
            BIGTIFF="IF_SAFER",
        )
        profile.pop("interleave", None)
        rows_per_chunk = block  # 1 km rows per chunk -> factor * block fine rows (whole tiles)
        tmp = dst.with_suffix(".tmp.tif")
        total_src = 0.0
        total_dst = 0.0
        with rasterio.open(tmp, "w", **profile) as out:
            out.update_tags(
                SYNTHETIC="yes",
                DESCRIPTION=f"SYNTHETIC seeded ({seed}) {factor}x{factor} disaggregation of "
                f"{src.name}; pixel totals preserved; not real population data",
            )
            for r0 in range(0, ds.height, rows_per_chunk):
                h = min(rows_per_chunk, ds.height - r0)
                a = ds.read(1, window=Window(0, r0, ds.width, h)).astype(np.float64)
                bad = ~np.isfinite(a) | (a == nodata)
                a[bad] = 0.0
                total_src += float(a.sum())
                w = np.exp(rng.standard_normal((h, factor, ds.width, factor), dtype=np.float32))
                w /= w.sum(axis=(1, 3), keepdims=True)
                fine = (w * a[:, None, :, None]).astype(np.float32)
                fine[np.broadcast_to(bad[:, None, :, None], fine.shape)] = nodata
                fine2 = fine.reshape(h * factor, ds.width * factor)
                total_dst += float(np.where(fine2 == nodata, 0.0, fine2).sum(dtype=np.float64))
                out.write(fine2, 1, window=Window(0, r0 * factor, ds.width * factor, h * factor))
    tmp.replace(dst)
    meta.write_text(
        json.dumps(
            {
                "synthetic": True,
                "source": str(src),
                "factor": factor,
                "seed": seed,
                "weights": "lognormal(0,1) per sub-pixel, normalised per source pixel",
                "total_source": total_src,
                "total_synthetic": total_dst,
            },
            indent=2,
        )
    )
    return dst
