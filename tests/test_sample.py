"""The bundled synthetic sample in data/ is valid, as documented, and reproducible."""

from __future__ import annotations

import csv
import hashlib
import math
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
FILES = ("communes.gpkg", "population.tif", "sites.csv", "dem.tif")
RADIO = ["band", "height_m", "eirp_dbm", "environment"]
COLUMNS = [
    "site_id",
    "operator",
    "technology",
    "lon",
    "lat",
    "radius_m",
    "azimuth",
    "beamwidth",
    "status",
    *RADIO,
]
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
    assert sizes["dem.tif"] <= 2_000_000
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

    # three-sector sites: three rows, one id, azimuth 0/120/240, beamwidth 120 (radio: 65)
    sectors: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        if r["azimuth"]:
            sectors[r["site_id"]].append(r)
    assert len(sectors) >= 10
    for site_rows in sectors.values():
        assert sorted(int(r["azimuth"]) for r in site_rows) == [0, 120, 240]
        assert {r["beamwidth"] for r in site_rows} == ({"65"} if site_rows[0]["band"] else {"120"})
        assert len({(r["lon"], r["lat"], r["technology"], *(r[c] for c in RADIO)) for r in site_rows}) == 1
    assert {bool(site_rows[0]["band"]) for site_rows in sectors.values()} == {True, False}
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
    for name in ("population.tif", "dem.tif"):
        with rasterio.open(out / name) as a, rasterio.open(DATA / name) as b:
            assert a.profile == b.profile
            assert np.array_equal(a.read(1), b.read(1))
    # with the GDAL builds that made the committed files, the bytes must match too
    if pyogrio.__gdal_version_string__ == BUILT_WITH["pyogrio"]:
        assert _sha(out / "communes.gpkg") == _sha(DATA / "communes.gpkg")
    if rasterio.__gdal_version__ == BUILT_WITH["rasterio"]:
        assert _sha(out / "population.tif") == _sha(DATA / "population.tif")
        assert _sha(out / "dem.tif") == _sha(DATA / "dem.tif")


# --------------------------------------------------------------------------- radio columns and DEM

# Downlink centre frequencies (TS 45.005 §2 E-GSM 925–960 MHz; TS 36.101 Table 5.5-1 B3
# 1805–1880 MHz; TS 38.104 Table 5.2-1 n78 3300–3800 MHz) and the documented defaults
# (docs/radio.md): thresholds 2G −95 dBm, 4G −79.2 dBm; receiver 1.5 m.
CENTRE_MHZ = {"G900": 942.5, "GSM900": 942.5, "B3": 1842.5, "L1800": 1842.5, "n78": 3550.0}
THRESHOLD_DBM = {"2G": -95.0, "4G": -79.2}
RX_M = 1.5


def _hata_family_radius_m(f: float, hb: float, eirp: float, threshold: float, environment: str) -> float:
    """Closed-form reach of Okumura–Hata (< 1500 MHz) or COST-231 Hata (1500–2000 MHz).

    Hata (1980) with the small/medium-city a(hm) and the suburban correction −2[log(f/28)]² − 5.4;
    COST 231 Final Report §4.4.1: 46.3 + 33.9 log f ..., C = 3 dB in urban areas, else 0.
    Loss = A + B log10(d km): the reach solves EIRP − loss = threshold.
    """
    lf, lh = math.log10(f), math.log10(hb)
    a_hm = (1.1 * lf - 0.7) * RX_M - (1.56 * lf - 0.8)
    if f < 1500:
        a = 69.55 + 26.16 * lf - 13.82 * lh - a_hm
        if environment == "suburban":
            a -= 2 * math.log10(f / 28) ** 2 + 5.4
    else:
        a = 46.3 + 33.9 * lf - 13.82 * lh - a_hm + (3.0 if environment == "urban" else 0.0)
    b = 44.9 - 6.55 * lh
    return 1000.0 * 10 ** ((eirp - threshold - a) / b)


def _tech(row: dict[str, str]) -> str:
    return ALIASES[row["technology"].strip().lower()]


def test_radio_columns_on_part_of_the_mobile_sites() -> None:
    rows = _sites()
    mobile = [r for r in rows if _tech(r) != "fiber"]
    radio = [r for r in mobile if r["band"]]
    assert 1 / 3 <= len(radio) / len(mobile) <= 1 / 2
    assert {_tech(r) for r in radio} == {"2G", "4G", "5G"}  # mixed technologies
    assert not any(r["band"] for r in rows if _tech(r) == "fiber" or r["radius_m"])
    assert not any(r[c] for r in rows if not r["band"] for c in RADIO)
    for r in radio:
        tech, height, eirp = _tech(r), float(r["height_m"]), float(r["eirp_dbm"])
        if tech == "2G":  # G900 on rural masts, environment stated by the planner
            assert r["band"] in ("G900", "GSM900") and 30 <= height <= 45 and 55 <= eirp <= 58
            assert r["environment"] in ("urban", "suburban")
        elif tech == "4G":  # L1800 on rooftops, environment left to `auto`
            assert r["band"] in ("B3", "L1800") and 30 <= height <= 40 and 59 <= eirp <= 63
            assert r["environment"] == ""
        else:  # n78 at the TR 38.901 UMa height
            assert r["band"] == "n78" and height == 25 and 63 <= eirp <= 67 and r["environment"] == ""


@pytest.fixture(scope="module")
def sample_result():
    import telecov

    return telecov.analyze()


def test_the_default_report_uses_model_radii_for_the_radio_rows(sample_result) -> None:
    table = sample_result.footprint_table()
    rows = _sites()
    assert len(table) == len(rows)
    by_row = {int(t.row): t for t in table.itertuples()}
    checked = 0
    for k, r in enumerate(rows, start=1):
        got = by_row[k]
        if r["radius_m"]:
            assert got.radius_source == "site"
            continue
        if not r["band"]:
            assert got.radius_source == "default"
            continue
        assert str(got.radius_source).startswith("model:")
        assert got.radius_note != "extrapolated"  # the sample stays inside every model's range
        tech = _tech(r)
        if tech in THRESHOLD_DBM:
            environment = r["environment"] or str(got.environment)  # 4G: auto, as classed
            expected = _hata_family_radius_m(
                CENTRE_MHZ[r["band"]],
                float(r["height_m"]),
                float(r["eirp_dbm"]),
                THRESHOLD_DBM[tech],
                environment,
            )
            assert got.radius_m == pytest.approx(expected, rel=1e-6), (k, r)
            checked += 1
    assert checked >= 100
    fixed = {
        t: sample_result.table.query("level == 'total' and technology == @t").iloc[0] for t in ("2G", "4G")
    }
    assert fixed["4G"]["population_pct"] < 95.0  # model radii of 1.1-1.6 km, not 3 km
    assert fixed["2G"]["population_pct"] > 97.0  # 900 MHz masts reach 6-14 km


def test_the_dem(sample_result) -> None:
    with rasterio.open(DATA / "dem.tif") as ds:
        assert ds.crs.to_epsg() == 4326
        assert ds.dtypes[0] == "int16" and ds.res == pytest.approx((1 / 1200, 1 / 1200), rel=1e-9)
        assert ds.profile["tiled"] and ds.compression.name.lower() == "deflate"
        assert ds.units[0] == "m"
        z = ds.read(1).astype(np.float64)
        bounds, transform = ds.bounds, ds.transform
    # every footprint lies on the DEM (the farthest reach is a site's radius_m)
    sites = sample_result.sites
    r_deg = sites["radius_m"].to_numpy() / 110_000 / np.cos(np.radians(18.6))
    x, y = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
    assert (x - r_deg > bounds.left).all() and (x + r_deg < bounds.right).all()
    assert (y - r_deg > bounds.bottom).all() and (y + r_deg < bounds.top).all()
    assert (z[:, -1] == 0).mean() > 0.9  # sea in the east
    assert np.percentile(z[:, :150], 90) > 1000  # mountains in the west
    land_east = z[:, z.shape[1] // 2 + 100 :]
    assert np.median(land_east[land_east > 0]) < 80  # a coastal plain...
    assert land_east.max() > 100  # ...with hills
    # the valley road's valley: lower than the range on either side of it
    col = int((105.6 - transform.c) / transform.a)
    row = int((transform.f - 18.44) / -transform.e)
    valley = z[row - 12 : row + 13, col].min()
    sides = min(z[row - 60 : row - 30, col].max(), z[row + 30 : row + 60, col].max())
    assert valley < sides - 150


def test_dem_sample_names_the_bundled_dem() -> None:
    import telecov
    from telecov.cli.options import sample_dem

    assert sample_dem(Path("sample")) == telecov.sample_path("dem.tif")
    assert sample_dem(None) is None and sample_dem(Path("other.tif")) == Path("other.tif")


def test_terrain_only_takes_coverage_away(sample_result) -> None:
    import telecov

    shaded = telecov.analyze(dem=telecov.sample_path("dem.tif"))  # ~20 s: 590 terrain footprints
    flat = sample_result.table.set_index(["level", "area_id", "technology"])
    hilly = shaded.table.set_index(["level", "area_id", "technology"])
    # a footprint the terrain leaves whole is its polygon outline, within ~1e-4 km² of the exact
    # disc: below one person per area here
    assert (hilly["covered_population"] <= flat["covered_population"] + 1.0).all()
    total = hilly.loc[("total", "ALL")]["population_pct"] - flat.loc[("total", "ALL")]["population_pct"]
    assert (total < -0.1).all()  # every technology loses something to the shadows
    holes = sum(len(p.interiors) for g in shaded.footprints().geometry for p in shapely.get_parts(g))
    assert holes > 0
