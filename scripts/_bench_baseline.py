"""The straightforward geopandas coverage pipeline: bench.py's baseline and exact reference.

Run by ``bench.py`` in its own process (so its wall time and peak memory are its own).
It reads the same inputs as ``telecov report`` and writes ``coverage.csv`` with the same
keys and the area / population columns, following the geometry model of docs/ARCHITECTURE.md:

1. Sites: the CSV is read with pandas; only ``status`` empty or ``existing`` counts; the radius
   is ``radius_m`` or the technology default (2G 5,000 m, 3G 3,000 m, 4G 3,000 m, 5G 600 m,
   fiber 1,000 m); a row with ``azimuth`` is a sector of ``beamwidth`` degrees (default 120).
2. Footprints, by ``--method``:

   - ``utm`` (the straightforward pipeline, timed as "baseline"): points projected to their
     own UTM zone (one ``to_crs`` per zone), ``GeoSeries.buffer(radius, quad_segs=16)``
     (64-gons, inscribed), sectors as planar wedges with one vertex per degree with angles
     from grid north, then projected back to lon/lat. Radius errors are UTM's scale error
     (≤ 0.1 % in Vietnam) plus the 64-gon's inscribed area deficit (0.16 %).
   - ``geod`` (the exact reference): geodesic circles with ``--vertices`` (256) vertices at
     exactly ``radius`` metres from the centre on the WGS84 ellipsoid (``pyproj.Geod.fwd``);
     sectors are the centre plus an arc with ≥ 1 vertex per degree. Area deficit ≈ 0.01 %.

3. Per technology, ``shapely.union_all`` of its footprints, exploded into disjoint parts.
4. ``geopandas.overlay(areas, parts, how="intersection")``: the covered pieces of each area.
   (``--strategy per-area``, used for the exact reference because 256-gons make the unions
   huge: each area ∩ the union of the footprints that intersect it; same set, exact too.)
   Areas are measured independently (where two input areas overlap, the overlap counts in
   both). A parent (``--parent``) is the union of its areas and the total the union of all;
   their covered part is the union of their areas' covered pieces (= region ∩ coverage).
5. km²: ellipsoidal areas with ``pyproj.Geod.geometry_area_perimeter`` (polygons oriented
   first, so holes subtract).
6. People: ``exactextract`` ``sum`` (each pixel weighted by the fraction of it inside the
   polygon; nodata counts 0) over every region and covered piece. Polygons are handed to
   exactextract as WKB, not through its GeoDataFrame source (which converts every polygon to
   GeoJSON text and is ~5× slower): this makes the baseline faster, never slower.
With ``--footprints FILE`` (a telecov export's ``footprints`` layer: GeoPackage, GeoParquet or
GeoJSON with a ``technology`` column), those polygons replace steps 1–2: the exact reference
for footprints the engine measures as polygons (terrain shadows, lobes), measured by the
same steps 3–6.

7. Writes ``coverage.csv`` (level, area_id, area_name, parent, technology, area_km2,
   covered_km2, area_pct, population, covered_population, population_pct; percentages empty
   when the denominator is 0; sorted by level, area_id, technology) and ``timings.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from exactextract import exact_extract
from exactextract.feature import Feature, FeatureSource
from numpy.typing import NDArray
from pyproj import Geod

GEOD = Geod(ellps="WGS84")
TECHNOLOGIES = ("2G", "3G", "4G", "5G", "fiber")
DEFAULT_RADIUS_M = {"2G": 5000.0, "3G": 3000.0, "4G": 3000.0, "5G": 600.0, "fiber": 1000.0}
ALIASES = {
    "2g": "2G",
    "gsm": "2G",
    "3g": "3G",
    "umts": "3G",
    "4g": "4G",
    "lte": "4G",
    "5g": "5G",
    "nr": "5G",
    "fiber": "fiber",
    "fibre": "fiber",
    "ftth": "fiber",
}
CHUNK = 8192
"""Sites per vectorised footprint batch (bounds memory at ~CHUNK × vertices points)."""


def read_sites(path: Path) -> pd.DataFrame:
    """Counted sites with canonical technology, radius, azimuth and beamwidth."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    status = df.get("status", pd.Series("", index=df.index)).str.strip().str.lower()
    tech = df["technology"].str.strip().str.lower().map(ALIASES)
    keep = status.isin(["", "existing"]) & tech.notna()
    df, tech = df[keep], tech[keep]

    def num(col: str) -> NDArray[np.float64]:
        if col not in df:
            return np.full(len(df), np.nan)
        return pd.to_numeric(df[col].replace("", np.nan)).to_numpy(dtype=np.float64)

    out = pd.DataFrame(
        {
            "technology": tech.to_numpy(),
            "lon": num("lon"),
            "lat": num("lat"),
            "radius": num("radius_m"),
            "azimuth": num("azimuth"),
            "beamwidth": num("beamwidth"),
        }
    )
    default = out["technology"].map(DEFAULT_RADIUS_M).to_numpy(dtype=np.float64)
    out["radius"] = np.where(np.isnan(out["radius"]), default, out["radius"])
    is_sector = ~np.isnan(out["azimuth"].to_numpy())
    out["beamwidth"] = np.where(is_sector & np.isnan(out["beamwidth"]), 120.0, out["beamwidth"])
    out.loc[out["beamwidth"] >= 360.0, "azimuth"] = np.nan
    return out


def geod_discs(
    lon: NDArray[np.float64], lat: NDArray[np.float64], radius: NDArray[np.float64], n: int
) -> NDArray[np.object_]:
    """Geodesic circles: ``n`` vertices at exactly ``radius`` m from each centre."""
    az = np.linspace(0.0, 360.0, n, endpoint=False)
    out = []
    for s in range(0, len(lon), CHUNK):
        m = len(lon[s : s + CHUNK])
        x, y, _ = GEOD.fwd(
            np.repeat(lon[s : s + CHUNK], n),
            np.repeat(lat[s : s + CHUNK], n),
            np.tile(az, m),
            np.repeat(radius[s : s + CHUNK], n),
        )
        rings = shapely.linearrings(np.column_stack([x, y]), indices=np.repeat(np.arange(m), n))
        out.append(shapely.polygons(rings))
    return np.concatenate(out) if out else np.empty(0, dtype=object)


def geod_sectors(sites: pd.DataFrame) -> NDArray[np.object_]:
    """Geodesic sectors: centre plus an arc with at least one vertex per degree."""
    out = []
    for lon, lat, r, az, bw in sites[["lon", "lat", "radius", "azimuth", "beamwidth"]].itertuples(
        index=False
    ):
        k = int(np.ceil(bw)) + 1
        azs = np.linspace(az - bw / 2.0, az + bw / 2.0, k)
        x, y, _ = GEOD.fwd(np.full(k, lon), np.full(k, lat), azs, np.full(k, r))
        out.append(shapely.Polygon(np.column_stack([np.r_[lon, x], np.r_[lat, y]])))
    return np.asarray(out, dtype=object)


def utm_footprints(sites: pd.DataFrame, quad_segs: int) -> NDArray[np.object_]:
    """Buffers (discs) and planar wedges (sectors) in each site's UTM zone, back in lon/lat."""
    lon, lat = sites["lon"].to_numpy(), sites["lat"].to_numpy()
    zone = np.floor((lon + 180.0) / 6.0).astype(int) % 60 + 1
    epsg = np.where(lat >= 0, 32600, 32700) + zone
    out = np.empty(len(sites), dtype=object)
    for code in np.unique(epsg):
        sel = np.flatnonzero(epsg == code)
        sub = sites.iloc[sel]
        pts = gpd.GeoSeries(gpd.points_from_xy(lon[sel], lat[sel]), crs=4326).to_crs(int(code))
        geoms = pts.buffer(sub["radius"].to_numpy(), quad_segs=quad_segs).to_numpy()
        px, py = shapely.get_x(pts.to_numpy()), shapely.get_y(pts.to_numpy())
        for j in np.flatnonzero(~np.isnan(sub["azimuth"].to_numpy())):
            az, bw, r = sub.iloc[j][["azimuth", "beamwidth", "radius"]]
            k = int(np.ceil(bw)) + 1
            th = np.radians(np.linspace(az - bw / 2.0, az + bw / 2.0, k))
            geoms[j] = shapely.Polygon(
                np.column_stack([np.r_[px[j], px[j] + r * np.sin(th)], np.r_[py[j], py[j] + r * np.cos(th)]])
            )
        out[sel] = gpd.GeoSeries(geoms, crs=int(code)).to_crs(4326).to_numpy()
    return out


def footprints(sites: pd.DataFrame, method: str, vertices: int, quad_segs: int) -> NDArray[np.object_]:
    """Footprint polygons (lon/lat) of ``sites`` by the chosen method."""
    if method == "utm":
        return utm_footprints(sites, quad_segs)
    sector = ~np.isnan(sites["azimuth"].to_numpy())
    discs = sites[~sector]
    return np.concatenate(
        [
            geod_discs(
                discs["lon"].to_numpy(), discs["lat"].to_numpy(), discs["radius"].to_numpy(), vertices
            ),
            geod_sectors(sites[sector]),
        ]
    )


def given_footprints(path: Path) -> gpd.GeoDataFrame:
    """Footprint polygons with their ``technology`` (a telecov export's ``footprints`` layer)."""
    layer = "footprints" if path.suffix == ".gpkg" else None
    frame = gpd.read_file(path, layer=layer).to_crs(4326)
    frame["technology"] = frame["technology"].astype(str).str.strip().map(lambda t: ALIASES.get(t.lower(), t))
    keep = frame.geometry.notna() & ~frame.geometry.is_empty
    if "status" in frame:
        keep &= frame["status"].fillna("").astype(str).str.strip().str.lower().isin(["", "existing"])
    return frame[keep]


def per_area_pieces(
    area_geoms: NDArray[np.object_], fp: NDArray[np.object_]
) -> tuple[NDArray[np.int64], NDArray[np.object_]]:
    """Each area ∩ the union of the footprints that intersect it (area index, piece)."""
    ai, fi = shapely.STRtree(fp).query(area_geoms, predicate="intersects")
    idx, pieces = [], []
    for i in np.unique(ai):
        g = shapely.intersection(area_geoms[i], shapely.union_all(fp[fi[ai == i]]))
        g = shapely.get_parts(g)
        g = g[shapely.get_type_id(g) == 3]  # polygons only (drop touching lines/points)
        idx.append(np.full(len(g), i))
        pieces.append(g)
    if not pieces:
        return np.zeros(0, dtype=np.int64), np.empty(0, dtype=object)
    return np.concatenate(idx).astype(np.int64), np.concatenate(pieces)


def geod_km2(geoms: NDArray[np.object_] | gpd.GeoSeries) -> NDArray[np.float64]:
    """Ellipsoidal area (km²) of each polygon (oriented first, so holes subtract)."""
    oriented = shapely.orient_polygons(np.asarray(geoms, dtype=object))
    return (
        np.array([0.0 if g is None or g.is_empty else GEOD.geometry_area_perimeter(g)[0] for g in oriented])
        / 1e6
    )


class _WKBFeature(Feature):
    """One polygon for exactextract, handed over as WKB with its index ``k``."""

    def __init__(self, k: int, wkb: bytes) -> None:
        Feature.__init__(self)
        self.k, self.wkb = k, wkb

    def geometry(self) -> bytes:
        return self.wkb

    def get(self, name: str) -> int:
        return self.k

    def fields(self) -> list[str]:
        return ["k"]


class _WKBSource(FeatureSource):
    """Polygons for exactextract as WKB (5× faster than its GeoDataFrame source's GeoJSON)."""

    def __init__(self, geoms: NDArray[np.object_]) -> None:
        super().__init__()
        self.wkb = shapely.to_wkb(geoms)

    def count(self) -> int:
        return len(self.wkb)

    def __iter__(self) -> Iterator[_WKBFeature]:
        for i, w in enumerate(self.wkb):
            yield _WKBFeature(i, bytes(w))

    def srs_wkt(self) -> None:
        return None


def people(raster: str, geoms: NDArray[np.object_] | gpd.GeoSeries) -> NDArray[np.float64]:
    """exactextract fraction-weighted sum of the raster over each polygon (0 outside)."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return np.zeros(0)
    df = exact_extract(raster, _WKBSource(geoms), "sum", include_cols=["k"], output="pandas")
    out = np.zeros(len(geoms))
    out[df["k"].to_numpy()] = df["sum"].fillna(0.0).to_numpy(dtype=np.float64)
    return out


def pct(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    """100 × num / den, NaN where den is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, 100.0 * num / np.where(den > 0, den, 1.0), np.nan)


def _arguments() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=Path, required=True)
    ap.add_argument("--areas", type=Path, required=True)
    ap.add_argument("--population", required=True)
    ap.add_argument("--area-id", required=True)
    ap.add_argument("--area-name", required=True)
    ap.add_argument("--parent")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--method", choices=["utm", "geod"], default="utm")
    ap.add_argument("--vertices", type=int, default=256, help="geod: vertices per circle")
    ap.add_argument("--quad-segs", type=int, default=16, help="utm: segments per quarter circle")
    ap.add_argument("--footprints", type=Path, help="footprint polygons to measure instead of --sites")
    ap.add_argument(
        "--strategy",
        choices=["overlay", "per-area"],
        default="overlay",
        help="overlay: union, explode, geopandas.overlay; per-area: each area ∩ the "
        "union of the footprints that reach it (same result, faster for big unions)",
    )
    return ap.parse_args()  # fmt: skip


def main() -> None:
    """Run the pipeline once and write ``coverage.csv`` and ``timings.json`` into ``--out``."""
    a = _arguments()
    t = {"start": time.perf_counter()}

    areas = gpd.read_file(a.areas).to_crs(4326)
    sites = read_sites(a.sites) if a.footprints is None else given_footprints(a.footprints)
    t["read"] = time.perf_counter()

    regions = _regions(a, areas, t)
    rows = [
        _technology_rows(a, tech, sites[sites["technology"] == tech], regions, t) for tech in TECHNOLOGIES
    ]
    table = pd.concat(rows, ignore_index=True)
    order = {"area": 0, "parent": 1, "total": 2}
    table = table.sort_values(
        ["level", "area_id", "technology"], key=lambda s: s.map(order) if s.name == "level" else s
    )
    a.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(a.out / "coverage.csv", index=False, float_format="%.10g")
    t["written"] = time.perf_counter()
    start = t.pop("start")
    keys = list(t)
    steps = {k: round(t[k] - (t[keys[i - 1]] if i else start), 3) for i, k in enumerate(keys)}
    parents_total_s = sum(v for k, v in steps.items() if k.endswith("parents_total"))
    (a.out / "timings.json").write_text(json.dumps(
        {"method": a.method, "sites": len(sites), "steps_s": steps,
         "parents_total_s": round(parents_total_s, 3)}, indent=2))  # fmt: skip


def _regions(a: argparse.Namespace, areas: gpd.GeoDataFrame, t: dict[str, float]) -> dict[str, Any]:
    """Areas, parents and total: keys, geometries, km² and people (timed into ``t``)."""
    ids = areas[a.area_id].astype(str).to_numpy()
    names = areas[a.area_name].astype(str).to_numpy()
    parents = areas[a.parent].astype(str).to_numpy() if a.parent else np.full(len(areas), "")
    area_geoms = areas.geometry.to_numpy()
    n_a = len(areas)
    area_km2 = geod_km2(area_geoms)
    area_pop = people(a.population, area_geoms)
    t["areas"] = time.perf_counter()
    parent_keys = sorted(set(parents)) if a.parent else []
    parent_geoms = [shapely.union_all(area_geoms[parents == p]) for p in parent_keys]
    total_geom = shapely.union_all(parent_geoms or area_geoms)
    extra_geoms = np.array([*parent_geoms, total_geom], dtype=object)
    n_p = len(parent_keys)
    regions = {
        "n_a": n_a, "n_p": n_p, "parents": parents, "parent_keys": parent_keys, "area_geoms": area_geoms,
        "km2": np.r_[area_km2, geod_km2(extra_geoms)],
        "pop": np.r_[area_pop, people(a.population, extra_geoms)],
        "level": ["area"] * n_a + ["parent"] * n_p + ["total"],
        "id": [*ids, *parent_keys, "ALL"],
        "name": [*names, *parent_keys, "ALL"],
        "parent": [*parents, *([""] * n_p), ""] if a.parent else [""] * (n_a + n_p + 1),
    }  # fmt: skip
    t["parents_total"] = time.perf_counter()
    regions["gdf"] = gpd.GeoDataFrame({"ri": np.arange(n_a)}, geometry=area_geoms, crs=4326)
    return regions


def _technology_rows(
    a: argparse.Namespace, tech: str, sub: pd.DataFrame, regions: dict[str, Any], t: dict[str, float]
) -> pd.DataFrame:
    """Covered km² and people of every region by one technology (steps timed into ``t``)."""
    n_a, n_p, parents = regions["n_a"], regions["n_p"], regions["parents"]
    cov_km2 = np.zeros(n_a + n_p + 1)
    cov_pop = np.zeros(n_a + n_p + 1)
    if len(sub):
        given = a.footprints is not None
        fp = sub.geometry.to_numpy() if given else footprints(sub, a.method, a.vertices, a.quad_segs)
        t[f"{tech}_footprints"] = time.perf_counter()
        if a.strategy == "overlay":
            parts = shapely.get_parts(shapely.union_all(fp))
            t[f"{tech}_union"] = time.perf_counter()
            pieces = gpd.overlay(
                regions["gdf"], gpd.GeoDataFrame(geometry=parts, crs=4326),
                how="intersection", keep_geom_type=True,
            )  # fmt: skip
            ri = pieces["ri"].to_numpy()
            pg = pieces.geometry.to_numpy()
        else:
            ri, pg = per_area_pieces(regions["area_geoms"], fp)
        t[f"{tech}_overlay"] = time.perf_counter()
        np.add.at(cov_km2, ri, geod_km2(pg))
        np.add.at(cov_pop, ri, people(a.population, pg))
        t[f"{tech}_measure"] = time.perf_counter()
        up = [
            shapely.union_all(pg[np.isin(ri, np.flatnonzero(parents == p))]) for p in regions["parent_keys"]
        ]
        extra = np.array([*up, shapely.union_all(up or pg)], dtype=object)
        cov_km2[n_a:] = geod_km2(extra)
        cov_pop[n_a:] = people(a.population, extra)
        t[f"{tech}_parents_total"] = time.perf_counter()
    region_km2, region_pop = regions["km2"], regions["pop"]
    return pd.DataFrame({
        "level": regions["level"], "area_id": regions["id"], "area_name": regions["name"],
        "parent": regions["parent"], "technology": tech, "area_km2": region_km2, "covered_km2": cov_km2,
        "area_pct": pct(cov_km2, region_km2), "population": region_pop,
        "covered_population": cov_pop, "population_pct": pct(cov_pop, region_pop),
    })  # fmt: skip


if __name__ == "__main__":
    main()
