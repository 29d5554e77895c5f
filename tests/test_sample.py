"""The bundled synthetic sample in data/ is valid, as documented, and reproducible."""

from __future__ import annotations

import csv
import hashlib
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from rasterio.features import rasterize

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
SCRIPT = ROOT / "scripts" / "make_sample.py"
FILES = ("communes.gpkg", "population.tif", "sites.csv")
COLUMNS = ["site_id", "operator", "technology", "lon", "lat", "radius_m", "azimuth", "beamwidth", "status"]
BUILT_WITH = {"pyogrio": "3.12.4", "rasterio": "3.10.3"}  # GDAL versions of the committed files
ALIASES = {
    "2g": "2G",
    "gsm": "2G",
    "3g": "3G",
    "umts": "3G",
    "wcdma": "3G",
    "4g": "4G",
    "lte": "4G",
    "4g lte": "4G",
    "5g": "5G",
    "nr": "5G",
    "5g nr": "5G",
    "fiber": "fiber",
    "fibre": "fiber",
    "ftth": "fiber",
    "gpon": "fiber",
}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sites(path: Path = DATA / "sites.csv") -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def communes():
    return pyogrio.read_dataframe(DATA / "communes.gpkg", layer="communes")


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two fresh runs of the generator, in two folders."""
    outs = []
    for name in ("run1", "run2"):
        out = tmp_path_factory.mktemp(name)
        subprocess.run(
            [sys.executable, str(SCRIPT), "--out", str(out), "--quiet"],
            check=True,
            cwd=out,
            timeout=300,
        )
        outs.append(out)
    return outs[0], outs[1]


def test_files_exist_and_are_small() -> None:
    sizes = {name: (DATA / name).stat().st_size for name in FILES}
    assert all(size > 0 for size in sizes.values())
    assert sum(sizes.values()) < 5_000_000
    assert (DATA / "__init__.py").exists()
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme
    assert "make_sample.py" in readme


def test_communes_layer(communes) -> None:
    assert pyogrio.list_layers(DATA / "communes.gpkg")[:, 0].tolist() == ["communes"]
    assert communes.crs.to_epsg() == 4326
    assert 55 <= len(communes) <= 65
    assert list(communes.columns) == [
        "commune_code",
        "commune_name",
        "province",
        "kind",
        "population",
        "geometry",
    ]
    codes = communes["commune_code"].tolist()
    assert all(isinstance(c, str) and re.fullmatch(r"\d{5}", c) for c in codes)
    assert all(c.startswith("0") for c in codes)  # leading zeros survive
    assert len(set(codes)) == len(codes)
    names = communes["commune_name"].tolist()
    assert len(set(names)) == len(names)
    assert all(n.startswith(("Xã ", "Phường ")) for n in names)
    assert sum(not n.isascii() for n in names) > len(names) // 2  # diacritics
    assert communes["province"].nunique() == 1
    assert set(communes["kind"]) == {"xã", "phường"}
    for name, kind in zip(names, communes["kind"], strict=True):
        assert name.startswith("Xã " if kind == "xã" else "Phường ")
    assert communes["population"].dtype.kind == "i"
    assert (communes["population"] > 0).all()
    minx, miny, maxx, maxy = communes.total_bounds
    assert 105.3 < minx < maxx < 106.4
    assert 17.8 < miny < maxy < 18.7


def test_commune_geometries(communes) -> None:
    geoms = communes.geometry.values
    assert shapely.is_valid(geoms).all()
    # an exact tiling: shared borders match vertex for vertex, no gaps, no overlaps
    assert shapely.coverage_is_valid(geoms)
    types = Counter(shapely.get_type_id(geoms).tolist())
    assert types == {3: len(geoms) - 1, 6: 1}  # Polygons and one MultiPolygon
    island = geoms[shapely.get_type_id(geoms) == 6][0]
    assert shapely.get_num_geometries(island) >= 2
    holed = [g for g in geoms if shapely.get_num_interior_rings(g) > 0]
    assert len(holed) == 1
    assert shapely.get_num_interior_rings(holed[0]) == 1
    hole = shapely.Polygon(holed[0].interiors[0])
    enclave = [g for g in geoms if g.equals(hole)]
    assert len(enclave) == 1  # the hole is exactly another commune


def test_population_raster(communes) -> None:
    with rasterio.open(DATA / "population.tif") as ds:
        assert ds.crs.to_epsg() == 4326
        assert ds.count == 1
        assert ds.dtypes[0] == "float32"
        assert ds.nodata == -99999
        assert ds.res == pytest.approx((1 / 1200, 1 / 1200), rel=1e-9)
        assert ds.profile["tiled"]
        assert ds.compression is not None and ds.compression.name.lower() in ("deflate", "lzw")
        data = ds.read(1)
        transform = ds.transform
        pixel_km2 = (1 / 1200 * 110.6) * (1 / 1200 * 111.32 * np.cos(np.radians(18.25)))
    sea = data == -99999
    assert 0.05 < sea.mean() < 0.5
    assert sea[:, -1].mean() > 0.9  # the east edge is sea
    assert not sea[:, 0].any()  # the west edge is land (mountains)
    land = data[~sea]
    assert (land >= 0).all()
    density = land / pixel_km2
    assert density.max() > 5000  # town cores
    west = data[:, :100]
    assert np.median(west[west >= 0]) / pixel_km2 < 20  # near-empty mountains
    ids = rasterize(
        ((g, k + 1) for k, g in enumerate(communes.geometry)),
        out_shape=data.shape,
        transform=transform,
        dtype="int32",
    )
    people = np.where(sea, 0.0, data.astype(np.float64))
    sums = np.bincount(ids.ravel(), weights=people.ravel(), minlength=len(communes) + 1)[1:]
    assert 1_000_000 < sums.sum() < 1_500_000
    ratio = communes["population"].to_numpy() / sums
    assert (ratio > 0.79).all() and (ratio < 1.21).all()
    assert ratio.std() > 0.02  # official counts really differ from the raster
    islet_parts = shapely.get_parts(communes.geometry[communes.geom_type == "MultiPolygon"])
    for part in islet_parts:  # the islet and rock have land pixels in the sea
        mask = rasterize(
            [(part, 1)], out_shape=data.shape, transform=transform, all_touched=True, dtype="uint8"
        ).astype(bool)
        assert (data[mask] >= 0).any()


def test_sites_csv(communes) -> None:
    raw = (DATA / "sites.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" not in raw
    raw.decode("utf-8")
    rows = _sites()
    with (DATA / "sites.csv").open(encoding="utf-8") as fh:
        assert next(csv.reader(fh)) == COLUMNS
    assert 500 <= len(rows) <= 700
    spellings = Counter(r["technology"] for r in rows)
    techs = Counter(ALIASES[t.strip().lower()] for t in rows for t in [t["technology"]])
    assert set(techs) == {"2G", "3G", "4G", "5G", "fiber"}
    assert len(spellings) >= 10
    by_tech: dict[str, set[str]] = defaultdict(set)
    for s in spellings:
        by_tech[ALIASES[s.lower()]].add(s)
    assert all(len(v) >= 2 for v in by_tech.values())  # every technology spelled variously
    assert 70 <= techs["2G"] <= 110 and 90 <= techs["3G"] <= 130
    assert 200 <= techs["4G"] <= 300 and 45 <= techs["5G"] <= 75 and 70 <= techs["fiber"] <= 110

    mobile_ops = {r["operator"] for r in rows if ALIASES[r["technology"].lower()] != "fiber"}
    assert mobile_ops == {"Viettel", "VNPT", "MobiFone"}
    assert "FPT" in {r["operator"] for r in rows if ALIASES[r["technology"].lower()] == "fiber"}
    status = Counter(r["status"] for r in rows)
    assert set(status) == {"existing", "planned", ""}
    assert 5 <= status["planned"] <= 20
    radii = [r["radius_m"] for r in rows]
    assert sum(r == "" for r in radii) > 0.8 * len(rows)
    five_g = {r["radius_m"] for r in rows if ALIASES[r["technology"].lower()] == "5G"}
    assert {"", "400", "800"} <= five_g

    # three-sector sites: three rows, one id, azimuth 0/120/240, beamwidth 120
    sectors: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        if r["azimuth"]:
            sectors[r["site_id"]].append(r)
    assert len(sectors) >= 10
    for site_rows in sectors.values():
        assert sorted(int(r["azimuth"]) for r in site_rows) == [0, 120, 240]
        assert {r["beamwidth"] for r in site_rows} == {"120"}
        assert len({(r["lon"], r["lat"], r["technology"]) for r in site_rows}) == 1
    ids = Counter(r["site_id"] for r in rows if not r["azimuth"])
    assert all(n == 1 for n in ids.values())
    assert all(r["site_id"] for r in rows)

    province = shapely.union_all(communes.geometry.values)
    pts = shapely.points([(float(r["lon"]), float(r["lat"])) for r in rows])
    assert (shapely.distance(province, pts) < 0.01).all()


def test_rerun_is_byte_identical(regenerated: tuple[Path, Path]) -> None:
    first, second = regenerated
    for name in FILES:
        assert _sha(first / name) == _sha(second / name), name


def test_regenerates_the_bundled_files(regenerated: tuple[Path, Path]) -> None:
    out, _ = regenerated
    assert _sha(out / "sites.csv") == _sha(DATA / "sites.csv")
    # GeoPackage and GeoTIFF bytes also depend on the GDAL/zlib build; compare content first
    new = pyogrio.read_dataframe(out / "communes.gpkg", layer="communes")
    old = pyogrio.read_dataframe(DATA / "communes.gpkg", layer="communes")
    assert new.drop(columns="geometry").equals(old.drop(columns="geometry"))
    assert (shapely.to_wkb(new.geometry.values) == shapely.to_wkb(old.geometry.values)).all()
    with rasterio.open(out / "population.tif") as a, rasterio.open(DATA / "population.tif") as b:
        assert a.profile == b.profile
        assert np.array_equal(a.read(1), b.read(1))
    # with the GDAL builds that made the committed files, the bytes must match too
    if pyogrio.__gdal_version_string__ == BUILT_WITH["pyogrio"]:
        assert _sha(out / "communes.gpkg") == _sha(DATA / "communes.gpkg")
    if rasterio.__gdal_version__ == BUILT_WITH["rasterio"]:
        assert _sha(out / "population.tif") == _sha(DATA / "population.tif")
