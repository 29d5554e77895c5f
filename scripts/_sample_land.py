"""The land of the SYNTHETIC demo province for ``make_sample.py``: outline, communes, people.

Everything is invented from the caller's seeded random generator (see ``make_sample.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import rasterio
import shapely
from numpy.typing import NDArray
from rasterio.features import rasterize
from rasterio.transform import from_origin
from shapely.geometry import LineString, MultiPolygon, Polygon, box

RES = 1.0 / 1200.0  # 3 arc-seconds, about 92 m x 88 m here
NODATA = -99999.0
LON0, LAT0 = 105.80, 18.25  # centre of the local km frame
KX = 111.32 * math.cos(math.radians(LAT0))  # km per degree of longitude near LAT0
KY = 110.6  # km per degree of latitude
TARGET_POPULATION = 1_250_000
N_RURAL = 47  # xã drawn by Poisson-disk sampling (plus the town wards and the enclave)

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Grid:
    """A north-up lon/lat pixel grid.

    Attributes
    ----------
    west, north : float
        Outer edges in degrees.
    width, height : int
        Pixel counts.
    """

    west: float
    north: float
    width: int
    height: int

    @property
    def lon(self) -> FloatArray:
        """Longitude of each column centre."""
        return self.west + (np.arange(self.width) + 0.5) * RES

    @property
    def lat(self) -> FloatArray:
        """Latitude of each row centre."""
        return self.north - (np.arange(self.height) + 0.5) * RES

    @property
    def transform(self) -> rasterio.Affine:
        """Affine transform of the grid."""
        return from_origin(self.west, self.north, RES, RES)

    def pixel_km2(self) -> FloatArray:
        """Approximate area of one pixel in each row (km²), shape (height, 1)."""
        kx = 111.32 * np.cos(np.radians(self.lat))
        return (RES * KY * RES * kx)[:, None]


# ----------------------------------------------------------------------------- geometry


def to_lonlat(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Local km coordinates to lon/lat degrees."""
    return LON0 + np.asarray(x) / KX, LAT0 + np.asarray(y) / KY


def to_km(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Lon/lat degrees to local km coordinates."""
    return (np.asarray(lon) - LON0) * KX, (np.asarray(lat) - LAT0) * KY


def wobbly_ring(
    rng: np.random.Generator,
    cx: float,
    cy: float,
    rx: float,
    ry: float,
    *,
    n: int = 256,
    rough: float = 1.0,
) -> Polygon:
    """An irregular closed outline around (cx, cy) km, returned in lon/lat.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    cx, cy : float
        Centre in local km.
    rx, ry : float
        Mean radii in km.
    n : int
        Number of vertices.
    rough : float
        Scale of the radial wobble.
    """
    theta = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    r = np.ones(n)
    for k in range(2, 16):
        amp = rough * (0.09 / k if k < 9 else 0.012) * rng.uniform(0.4, 1.0)
        r += amp * np.cos(k * theta + rng.uniform(0.0, 2.0 * np.pi))
    lon, lat = to_lonlat(cx + rx * r * np.cos(theta), cy + ry * r * np.sin(theta))
    return Polygon(np.round(np.column_stack([lon, lat]), 6))


def coast_lon(lat: FloatArray, phases: FloatArray) -> FloatArray:
    """Longitude of the coastline at each latitude (the sea is east of it)."""
    lat = np.asarray(lat, dtype=float)
    base = 105.93 + (18.65 - lat) * 0.36
    wiggle = (
        0.012 * np.sin(lat * 31.0 + phases[0])
        + 0.007 * np.sin(lat * 77.0 + phases[1])
        + 0.003 * np.sin(lat * 190.0 + phases[2])
    )
    return base + wiggle


def make_land(rng: np.random.Generator) -> tuple[Polygon, Polygon, FloatArray]:
    """Province outline clipped at the coast, the sea polygon and the coastline phases."""
    phases = rng.uniform(0.0, 2.0 * np.pi, 3)
    lats = np.linspace(18.95, 17.55, 700)
    coast = np.round(np.column_stack([coast_lon(lats, phases), lats]), 6)
    sea = Polygon([*coast.tolist(), (106.9, 17.55), (106.9, 18.95)])
    outline = wobbly_ring(rng, 0.0, 0.0, 37.0, 33.0, n=320)
    province = outline.difference(sea)
    if isinstance(province, MultiPolygon):  # keep the main body only
        province = max(province.geoms, key=lambda g: g.area)
    return province, sea, phases


def inland_km(lon: FloatArray, lat: FloatArray, phases: FloatArray) -> FloatArray:
    """Distance west of the coast in km (negative offshore)."""
    return (coast_lon(lat, phases) - np.asarray(lon)) * KX


@dataclass(frozen=True)
class Town:
    """A town centre in lon/lat with its core density parameters."""

    name: str
    lon: float
    lat: float
    peak: float  # people per km² at the centre (before the final rescale)
    scale_km: float  # e-folding distance of density
    wards: int  # phường seeds


def make_towns(rng: np.random.Generator, phases: FloatArray) -> list[Town]:
    """Provincial city near the coast, three district towns and one enclave town inland."""
    spec = [  # (name, lat, km inland, peak, scale, wards)
        ("city", 18.34, 9.0, 9000.0, 1.4, 8),
        ("north", 18.52, 14.0, 5000.0, 0.9, 1),
        ("south", 18.05, 11.0, 5500.0, 0.9, 1),
        ("west", 18.43, 33.0, 3500.0, 0.8, 1),
        ("enclave", 18.21, 21.0, 4500.0, 0.8, 0),
    ]
    towns = []
    for name, lat, inland, peak, scale, wards in spec:
        lat_j = lat + rng.uniform(-0.01, 0.01)
        lon = float(coast_lon(np.array([lat_j]), phases)[0]) - (inland + rng.uniform(-1, 1)) / KX
        towns.append(Town(name, round(lon, 5), round(lat_j, 5), peak, scale, wards))
    return towns


def pick_seeds(
    rng: np.random.Generator,
    province: Polygon,
    towns: list[Town],
    phases: FloatArray,
) -> tuple[list[tuple[float, float]], list[str], tuple[float, float]]:
    """Commune seed points (lon/lat), their kind, and the enclave town centre.

    Town wards come first, then the rural commune that surrounds the enclave town (seeded at
    the town centre), then Poisson-disk rural seeds spaced wider in the western mountains.
    """
    seeds: list[tuple[float, float]] = []
    kinds: list[str] = []
    for t in towns:
        if t.wards == 0:
            continue
        seeds.append((t.lon, t.lat))
        kinds.append("phường")
        ring = t.wards - 1
        start = rng.uniform(0, 2 * np.pi)
        for i in range(ring):
            a = start + 2 * np.pi * i / ring + rng.uniform(-0.25, 0.25)
            d = rng.uniform(2.6, 3.4)
            x, y = to_km(t.lon, t.lat)
            lon, lat = to_lonlat(x + d * np.cos(a), y + d * np.sin(a))
            seeds.append((round(float(lon), 5), round(float(lat), 5)))
            kinds.append("phường")
    enclave = next(t for t in towns if t.wards == 0)
    seeds.append((enclave.lon, enclave.lat))
    kinds.append("xã")

    minx, miny, maxx, maxy = province.bounds
    n_cand = 6000
    cand = np.column_stack([rng.uniform(minx, maxx, n_cand), rng.uniform(miny, maxy, n_cand)])
    inside = shapely.contains_xy(province, cand[:, 0], cand[:, 1])
    cand = cand[inside]
    ckx, cky = to_km(cand[:, 0], cand[:, 1])
    spacing = 6.0 + 8.0 * np.clip((inland_km(cand[:, 0], cand[:, 1], phases) - 20.0) / 35.0, 0, 1)
    fixed_x, fixed_y = to_km(np.array([s[0] for s in seeds]), np.array([s[1] for s in seeds]))
    ex, ey = to_km(enclave.lon, enclave.lat)

    def accept(factor: float) -> list[int]:
        xs, ys, chosen = list(fixed_x), list(fixed_y), []
        for i in range(len(cand)):
            d = np.hypot(np.array(xs) - ckx[i], np.array(ys) - cky[i])
            if np.hypot(ckx[i] - ex, cky[i] - ey) < 6.0 or d.min() < factor * spacing[i]:
                continue
            xs.append(ckx[i])
            ys.append(cky[i])
            chosen.append(i)
            if len(chosen) == N_RURAL:
                break
        return chosen

    lo, hi = 0.3, 2.0
    for _ in range(30):  # largest spacing that still yields N_RURAL seeds
        mid = (lo + hi) / 2
        if len(accept(mid)) >= N_RURAL:
            lo = mid
        else:
            hi = mid
    for i in accept(lo):
        seeds.append((round(float(cand[i, 0]), 5), round(float(cand[i, 1]), 5)))
        kinds.append("xã")
    return seeds, kinds, (enclave.lon, enclave.lat)


def make_communes(
    rng: np.random.Generator,
    province: Polygon,
    sea: Polygon,
    seeds: list[tuple[float, float]],
    enclave_at: tuple[float, float],
) -> tuple[list[Polygon | MultiPolygon], int, int]:
    """Commune polygons forming an exact coverage of the province, plus the islets.

    The Voronoi cell borders of the seeds, the province border and the enclave ring are noded
    together once and polygonized, so neighbouring communes share identical vertices.

    Returns
    -------
    geoms : list of Polygon or MultiPolygon
        One geometry per seed, then the enclave commune last.
    enclave_index, island_index : int
        Index of the enclave commune and of the coastal commune that owns the islets.
    """
    pts = shapely.points(np.array(seeds))
    frame = box(*shapely.buffer(province, 0.2).bounds)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=frame))
    ex, ey = to_km(*enclave_at)
    enclave = wobbly_ring(rng, float(ex), float(ey), 1.3, 1.1, n=96, rough=1.2)
    lines = shapely.union_all([province.boundary, *shapely.boundary(cells), enclave.boundary])
    faces = [
        f
        for f in shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
        if province.contains(f.representative_point())
    ]
    owner_of_cell = {}
    for ci, cell in enumerate(cells):
        hit = [i for i, p in enumerate(pts) if cell.contains(p)]
        owner_of_cell[ci] = hit[0]
    n = len(seeds)
    enclave_index = n
    owners: list[int] = []
    for face in faces:
        rp = face.representative_point()
        if enclave.contains(rp):
            owners.append(enclave_index)
            continue
        ci = next(i for i, c in enumerate(cells) if c.contains(rp))
        owners.append(owner_of_cell[ci])
    # a concave border can split a Voronoi cell: give stray pieces to the longest neighbour
    for k in range(n + 1):
        mine = [i for i, o in enumerate(owners) if o == k]
        if len(mine) <= 1:
            continue
        keep = max(mine, key=lambda i: faces[i].area)
        for i in mine:
            if i == keep:
                continue
            best, best_len = k, 0.0
            for j, other in enumerate(faces):
                if owners[j] == k:
                    continue
                shared = faces[i].boundary.intersection(other.boundary).length
                if shared > best_len:
                    best, best_len = owners[j], shared
            owners[i] = best
    geoms: list[Polygon | MultiPolygon] = []
    for k in range(n + 1):
        parts = [faces[i] for i, o in enumerate(owners) if o == k]
        g = parts[0] if len(parts) == 1 else shapely.coverage_union_all(parts)
        geoms.append(shapely.normalize(g))

    # islets: one main islet and a rock, offshore of the coastal commune at about 18.12 N
    lat_i = 18.12 + rng.uniform(-0.02, 0.02)
    coast_pt = shapely.intersection(LineString([(105.5, lat_i), (106.9, lat_i)]), sea.boundary)
    xy = shapely.get_coordinates(coast_pt)
    cx, cy = (float(v) for v in to_km(xy[:, 0].min(), lat_i))
    islet = wobbly_ring(rng, cx + 7.5, cy + 0.5, 1.1, 0.6, n=64, rough=1.5)
    rock = wobbly_ring(rng, cx + 9.4, cy - 0.6, 0.28, 0.2, n=24, rough=1.0)
    assert islet.within(sea) and rock.within(sea) and not islet.intersects(rock)
    island_index = int(np.argmin([g.distance(islet) for g in geoms]))
    parts = [*shapely.get_parts(geoms[island_index]), islet, rock]
    geoms[island_index] = shapely.normalize(MultiPolygon(parts))
    return geoms, enclave_index, island_index


# ----------------------------------------------------------------------------- population


def smooth_noise(rng: np.random.Generator, grid: Grid, cell_px: int) -> FloatArray:
    """Standard-normal noise varying smoothly over ``cell_px`` pixels (bilinear)."""
    ny, nx = grid.height, grid.width
    coarse = rng.standard_normal((ny // cell_px + 2, nx // cell_px + 2))
    y = np.arange(ny) / cell_px
    x = np.arange(nx) / cell_px
    y0, x0 = y.astype(int), x.astype(int)
    fy, fx = (y - y0)[:, None], (x - x0)[None, :]
    c = coarse
    return (
        c[np.ix_(y0, x0)] * (1 - fy) * (1 - fx)
        + c[np.ix_(y0 + 1, x0)] * fy * (1 - fx)
        + c[np.ix_(y0, x0 + 1)] * (1 - fy) * fx
        + c[np.ix_(y0 + 1, x0 + 1)] * fy * fx
    )


def stamp(
    dens: FloatArray,
    grid: Grid,
    lon: float,
    lat: float,
    peak: float,
    scale_km: float,
    *,
    kind: str,
) -> None:
    """Add a density bump (gaussian or exponential) centred at lon/lat, in place."""
    reach = scale_km * (4.0 if kind == "gauss" else 7.0)
    col = int((lon - grid.west) / RES)
    row = int((grid.north - lat) / RES)
    hc = int(reach / (RES * KX)) + 1
    hr = int(reach / (RES * KY)) + 1
    r0, r1 = max(row - hr, 0), min(row + hr + 1, grid.height)
    c0, c1 = max(col - hc, 0), min(col + hc + 1, grid.width)
    if r0 >= r1 or c0 >= c1:
        return
    dx = (grid.west + (np.arange(c0, c1) + 0.5) * RES - lon) * KX
    dy = (grid.north - (np.arange(r0, r1) + 0.5) * RES - lat) * KY
    d2 = dy[:, None] ** 2 + dx[None, :] ** 2
    if kind == "gauss":
        bump = peak * np.exp(-0.5 * d2 / scale_km**2)
    else:
        bump = peak * np.exp(-np.sqrt(d2) / scale_km)
    dens[r0:r1, c0:c1] += bump


def make_population(
    rng: np.random.Generator,
    grid: Grid,
    land: list[Polygon | MultiPolygon],
    province_mask: NDArray[np.bool_],
    towns: list[Town],
    phases: FloatArray,
) -> NDArray[np.float32]:
    """People per pixel (float32, nodata over sea), scaled to ``TARGET_POPULATION`` in province."""
    lon, lat = grid.lon[None, :], grid.lat[:, None]
    inland = inland_km(lon, lat, phases)
    base = 170.0 * np.exp(-((np.maximum(inland - 14.0, 0.0) / 10.0) ** 1.6)) + 1.0
    noise = 0.45 * smooth_noise(rng, grid, 22) + 0.3 * smooth_noise(rng, grid, 6)
    dens = base * np.exp(noise - 0.2)

    # national road along the coastal plain and a valley road into the western mountains
    road_lon = coast_lon(lat, phases) - 10.0 / KX + 0.01 * np.sin(lat * 40.0)
    dens += 280.0 * np.exp(-0.5 * (((lon - road_lon) * KX) / 0.5) ** 2)
    valley_lat = 18.44 + 0.025 * np.sin(lon * 25.0 + phases[0])
    west_of_road = np.clip((road_lon - lon) * KX, 0.0, None)
    dens += (
        110.0
        * np.exp(-0.5 * (((lat - valley_lat) * KY) / 0.7) ** 2)
        * (west_of_road > 0)
        * np.exp(-west_of_road / 60.0)
    )

    # villages: clustered where the base density is high, a few in the mountain valley
    flat_w = (dens * province_mask).ravel() ** 0.6
    n_vill = 420
    idx = rng.choice(flat_w.size, size=n_vill, p=flat_w / flat_w.sum())
    rows, cols = np.divmod(idx, grid.width)
    peaks = rng.lognormal(math.log(700.0), 0.45, n_vill)
    sizes = rng.uniform(0.25, 0.5, n_vill)
    for r, c, pk, sz in zip(rows, cols, peaks, sizes, strict=True):
        stamp(dens, grid, float(grid.lon[c]), float(grid.lat[r]), pk, sz, kind="gauss")
    for t in towns:
        stamp(dens, grid, t.lon, t.lat, t.peak, t.scale_km, kind="exp")

    dens *= np.exp(0.2 * rng.standard_normal(dens.shape))  # pixel-scale texture
    people = dens * grid.pixel_km2()
    people *= TARGET_POPULATION / people[province_mask].sum()
    land_mask = rasterize(
        ((g, 1) for g in land),
        out_shape=(grid.height, grid.width),
        transform=grid.transform,
        all_touched=True,
        dtype="uint8",
    ).astype(bool)
    # ~3 significant digits keeps the GeoTIFF small (float16 rounding, stored as float32)
    out = people.astype(np.float16).astype(np.float32)
    out[~land_mask] = NODATA
    return out
