"""Inputs that gave silent wrong answers: sites off the areas, ids that are not ids, layers, ±180°."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from affine import Affine
from pyproj import Geod

import telecov
from telecov.errors import InputError, TelecovWarning
from telecov.io.antimeridian import split_at_antimeridian
from telecov.io.areas import read_areas
from telecov.io.sites import read_sites

from _worlds import Grid, write_raster

GEOD = Geod(ellps="WGS84")
BOX = shapely.box(105.02, 18.32, 105.18, 18.48)
HEADER = "site_id,technology,lon,lat,radius_m,azimuth,beamwidth\n"


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, Path]:
    """A 100-people-per-pixel raster and one commune (the box above)."""
    grid = Grid(west=105.0, north=18.5, ncols=24, nrows=24, res=1 / 120)
    raster = write_raster(tmp_path / "pop.tif", grid, np.full((24, 24), 100.0))
    areas = tmp_path / "areas.gpkg"
    gpd.GeoDataFrame({"id": ["1"], "name": ["A"]}, geometry=[BOX], crs="EPSG:4326").to_file(areas)
    return raster, areas


def _sites(tmp_path: Path, rows: list[str], name: str = "sites.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


# ---- sites that reach no area, or few


def test_sites_reaching_no_area_are_an_error_naming_the_likely_causes(tmp_path, world) -> None:
    raster, areas = world
    far = _sites(tmp_path, [f"U{i},4G,{-56.2 + i / 100},-34.9,,," for i in range(5)])
    with pytest.raises(InputError) as info:
        telecov.analyze(far, areas, raster)
    message = str(info.value)
    assert "none of the 5 sites reaches an area" in message
    assert "lon -56.2000 to -56.1600, lat -34.9000 to -34.9000" in message  # where the sites are
    assert "lon 105.0200 to 105.1800" in message  # where the areas are
    for cause in ("`sites_crs`", "wrong way round", "wrong file"):
        assert cause in message


def test_a_footprint_reaching_the_area_from_outside_counts(tmp_path, world) -> None:
    """A site 2.1 km east of the commune (geodesic distance to its edge, computed here) reaches it
    with a 2.2 km disc, not with a 2.0 km one; a sector reaches it only when it faces it."""
    raster, areas = world
    gap = GEOD.inv(105.20, 18.40, 105.18, 18.40)[2]
    assert 2100 < gap < 2125
    reaching = {
        f"{gap + 60:.0f},,": True,
        f"{gap - 60:.0f},,": False,
        f"{gap + 60:.0f},270,60": True,  # facing west, towards the commune
        f"{gap + 60:.0f},90,60": False,  # facing east, away from it
    }
    for i, (radius, reaches) in enumerate(reaching.items()):
        sites = _sites(tmp_path, [f"E,4G,105.20,18.40,{radius}"], f"east{i}.csv")
        if reaches:
            result = telecov.analyze(sites, areas, raster)
            assert result.table.query("technology == '4G'")["covered_km2"].iloc[0] > 0
        else:
            with pytest.raises(InputError, match="none of the 1 sites reaches"):
                telecov.analyze(sites, areas, raster)


def test_few_sites_reaching_warn_with_the_count_unless_selected(tmp_path, world) -> None:
    raster, areas = world
    far = [f"U{i},4G,{-56.2 + i / 100},-34.9,,," for i in range(18)]
    one = _sites(tmp_path, ["A,4G,105.1,18.4,,,", *far, "U99,4G,-56.5,-34.9,,,"], "one.csv")  # 1 of 20
    with pytest.warns(TelecovWarning, match=r"only 1 of 20 sites \(5\.0 %\) reach an area"):
        telecov.analyze(one, areas, raster)
    with warnings.catch_warnings():  # with select: a national file, a selected province
        warnings.simplefilter("error")
        telecov.analyze(one, areas, raster, select="id=1")
    two = _sites(tmp_path, ["A,4G,105.1,18.4,,,", "B,4G,105.1,18.41,,,", *far], "two.csv")  # 2 of 20 = 10 %
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        telecov.analyze(two, areas, raster)


def test_a_selected_area_no_site_reaches_is_an_answer_unless_the_sites_miss_the_whole_layer(tmp_path) -> None:
    grid = Grid(west=105.0, north=18.5, ncols=24, nrows=24, res=1 / 120)
    raster = write_raster(tmp_path / "pop.tif", grid, np.full((24, 24), 100.0))
    west, east = shapely.box(105.02, 18.32, 105.08, 18.48), shapely.box(105.12, 18.32, 105.18, 18.48)
    areas = tmp_path / "two.gpkg"
    gpd.GeoDataFrame({"id": ["w", "e"]}, geometry=[west, east], crs="EPSG:4326").to_file(areas)
    near_west = _sites(tmp_path, ["A,4G,105.05,18.40,1000,,"], "west.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = telecov.analyze(near_west, areas, raster, select="id=e")  # no site near 'e': 0 %
    assert result.table.query("level == 'area' and technology == '4G'")["covered_km2"].tolist() == [0.0]
    far = _sites(tmp_path, ["U,4G,-56.2,-34.9,,,"], "far.csv")
    with pytest.raises(InputError, match="none of the 1 sites reaches an area"):
        telecov.analyze(far, areas, raster, select="id=e")


def test_the_reach_check_looks_at_every_site_when_few_reach(tmp_path, world) -> None:
    """10,000 sites, 7 of them near the commune (in 3 chunks of the shuffled order): counted exactly."""
    raster, areas = world
    rng = np.random.default_rng(5)
    rows = [f"U{i},4G,{-56 + rng.uniform(-1, 1):.5f},{-34 + rng.uniform(-1, 1):.5f},,," for i in range(9993)]
    rows += [f"A{i},5G,{105.03 + i / 100:.2f},18.35,,," for i in range(7)]
    with pytest.warns(TelecovWarning, match=r"only 7 of 10000 sites \(0\.1 %\)"):
        telecov.analyze(_sites(tmp_path, rows), areas, raster)


# ---- an id field that is not an id


def _communes(n: int, ids: list[str], **fields: list[str]) -> gpd.GeoDataFrame:
    geoms = [shapely.box(105 + i / 100, 18, 105.01 + i / 100, 18.01) for i in range(n)]
    return gpd.GeoDataFrame({"code": ids, "name": [f"n{i}" for i in range(n)], **fields}, geometry=geoms,
                            crs="EPSG:4326")  # fmt: skip


def test_rare_duplicate_ids_are_refused_rows() -> None:
    ids = [f"{i:03d}" for i in range(9)] + ["000"]  # 1 of 10 features repeats an id: 10 %, not more
    table = read_areas(_communes(10, ids), area_id="code")
    assert table.rejected[["row", "field"]].values.tolist() == [[10, "code"]]
    assert "duplicate area id '000'" in table.rejected["reason"].iloc[0]


def test_an_id_field_more_than_a_tenth_repeated_is_not_an_id() -> None:
    ids = [f"{i:03d}" for i in range(8)] + ["000", "001"]  # 2 of 10 repeat
    frame = _communes(10, ids, province=["42"] * 10, ma_xa=[f"x{i}" for i in range(10)])
    with pytest.raises(InputError) as info:
        read_areas(frame, area_id="code")
    message = str(info.value)
    assert "`area_id` field 'code' is not an id: 2 of 10 areas repeat an id of another" in message
    assert "(e.g. '000', 2 times)" in message
    assert message.endswith("fields with a different value in every area: ma_xa, name")  # ids first
    with pytest.raises(InputError, match=r"'province' is not an id: 9 of 10 .* '42', 10 times"):
        read_areas(frame, area_id="province")
    detected = frame.drop(columns=["ma_xa"])  # 'code' is found as the id field: the same rule holds
    with pytest.raises(InputError, match=r"field 'code' is not an id.*: name$"):
        read_areas(detected)
    assert len(read_areas(frame, area_id="ma_xa").accepted) == 10


# ---- files with several layers


def _gpkg(path: Path, layers: dict[str, pd.DataFrame]) -> Path:
    for name, frame in layers.items():
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", append=path.exists())
    return path


def test_a_file_with_several_layers_of_the_kind_needs_the_layer(tmp_path, world) -> None:
    raster, _ = world
    communes = gpd.GeoDataFrame({"id": ["1", "2"]}, geometry=[BOX, BOX.buffer(-0.01)], crs="EPSG:4326")
    province = gpd.GeoDataFrame({"id": ["P"]}, geometry=[BOX.buffer(0.01)], crs="EPSG:4326")
    path = _gpkg(tmp_path / "two.gpkg", {"communes": communes, "provinces": province})
    with pytest.raises(InputError, match=r"two.gpkg holds 2 layers of polygons \(communes, provinces\); "
                                         r"choose one with `areas_layer`"):  # fmt: skip
        read_areas(path)
    assert read_areas(path, layer="provinces").accepted["area_id"].tolist() == ["P"]
    with pytest.raises(InputError, match=r"no layer 'wards' \(layers: communes, provinces\)"):
        read_areas(path, layer="wards")
    sites = _sites(tmp_path, ["A,4G,105.1,18.4,,,"])
    result = telecov.analyze(sites, path, raster, areas_layer="communes")
    assert result.run.counts["areas"]["read"] == 2
    assert result.run.to_json()["options"]["areas_layer"] == "communes"


def test_the_one_layer_of_the_kind_is_found_among_others(tmp_path) -> None:
    """Points first, then polygons, QGIS's layer_styles and a table: each reader takes its own layer."""
    points = gpd.GeoDataFrame({"technology": ["4G", "5G"]},
                              geometry=[shapely.Point(105.1, 18.4), shapely.Point(105.05, 18.35)],
                              crs="EPSG:4326")  # fmt: skip
    communes = gpd.GeoDataFrame({"id": ["1"]}, geometry=[BOX], crs="EPSG:4326")
    styles = pd.DataFrame({"f_table_name": ["communes"], "styleQML": ["<qgis/>"]})
    path = _gpkg(tmp_path / "mixed.gpkg", {"towers": points, "communes": communes, "layer_styles": styles,
                                           "notes": pd.DataFrame({"note": ["x"]})})  # fmt: skip
    assert read_areas(path).accepted["area_id"].tolist() == ["1"]
    assert read_sites(path).accepted["technology"].tolist() == ["4G", "5G"]
    more = _gpkg(tmp_path / "more.gpkg", {"a": points, "b": points})
    with pytest.raises(InputError, match=r"holds 2 layers of points \(a, b\); choose one with `sites_layer`"):
        read_sites(more)
    assert len(read_sites(more, layer="b").accepted) == 2
    with pytest.raises(InputError, match="a CSV file has no layers"):
        read_sites(_sites(tmp_path, ["A,4G,105.1,18.4,,,"]), layer="x")


# ---- polygons across the antimeridian


def _global_raster(path: Path, density: float, res: float = 0.5) -> Path:
    """People per pixel = ``density`` × the pixel's true (ellipsoidal) area: uniform people per km²."""
    import rasterio

    top = 90.0 - res * np.arange(int(180 / res))
    km2 = np.array([abs(GEOD.polygon_area_perimeter([0, res, res, 0], [t - res, t - res, t, t])[0]) / 1e6
                    for t in top])  # fmt: skip
    values = np.repeat((density * km2)[:, None], int(360 / res), axis=1).astype(np.float32)
    profile = {"driver": "GTiff", "width": values.shape[1], "height": values.shape[0], "count": 1,
               "dtype": "float32", "crs": "EPSG:4326",
               "transform": Affine(res, 0, -180.0, 0, -res, 90.0)}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
    return path


def _fiji_ring(step: float = 0.01) -> list[tuple[float, float]]:
    """A 1.2° x 0.8° rectangle from 179.4°E to 179.4°W, densified, written with 358° jumps."""
    n_x, n_y = round(1.2 / step), round(0.8 / step)
    ring = [(179.4 + step * i, -17.0) for i in range(n_x)] + [(180.6, -17.0 + step * i) for i in range(n_y)]
    ring += [(180.6 - step * i, -16.2) for i in range(n_x)] + [(179.4, -16.2 - step * i) for i in range(n_y)]
    return [(x - 360.0 if x > 180.0 else x, y) for x, y in ring]


def test_a_polygon_across_the_antimeridian_is_split_and_measured_right(tmp_path) -> None:
    ring = _fiji_ring()
    lon, lat = np.array(ring).T
    true_km2 = abs(GEOD.polygon_area_perimeter(lon, lat)[0]) / 1e6  # Geod follows the short way across
    assert 11_300 < true_km2 < 11_400  # 1.2° of longitude (128 km here) by 0.8° of latitude (88.5 km)
    areas = gpd.GeoDataFrame(
        {"id": ["fj"], "name": ["Fiji"]}, geometry=[shapely.Polygon(ring)], crs="EPSG:4326"
    )
    sites = pd.DataFrame({"technology": ["4G", "4G"], "lon": [179.9, -179.7], "lat": [-16.6, -16.5],
                          "radius_m": [3000.0, 3000.0]})  # fmt: skip
    raster = _global_raster(tmp_path / "world.tif", density=50.0)
    with pytest.warns(TelecovWarning, match="1 areas crossing the antimeridian split at ±180°"):
        result = telecov.analyze(sites, areas, raster, area_id="id", area_name="name")
    row = result.table.query("level == 'area' and technology == '4G'").iloc[0]
    assert row["area_km2"] == pytest.approx(true_km2, rel=1e-4)
    assert row["population"] == pytest.approx(50.0 * true_km2, rel=1e-3)
    disc_km2 = abs(GEOD.polygon_area_perimeter(*GEOD.fwd(np.full(1024, 179.9), np.full(1024, -16.6),
                                                       np.linspace(0, 360, 1024, endpoint=False),
                                                       np.full(1024, 3000.0))[:2])[0]) / 1e6  # fmt: skip
    assert row["covered_km2"] == pytest.approx(2 * disc_km2, rel=5e-3)
    parts = shapely.get_parts(result.areas.geometry.iloc[0])
    assert len(parts) == 2 and all(p.bounds[0] >= -180 and p.bounds[2] <= 180 for p in parts)


def test_projected_and_0_to_360_polygons_come_back_within_180() -> None:
    fiji = shapely.Polygon(_fiji_ring(0.1))
    unwrapped = shapely.Polygon([(x + 360 if x < 0 else x, y) for x, y in _fiji_ring(0.1)])  # 179.4..180.6
    projected = gpd.GeoSeries([unwrapped], crs="EPSG:4326").to_crs("EPSG:3832")  # Pacific Mercator: no jump
    with pytest.warns(TelecovWarning, match="split at ±180°"):
        table = read_areas(gpd.GeoDataFrame({"id": ["p"]}, geometry=projected, crs="EPSG:3832"))
    got = table.accepted.geometry.iloc[0]
    assert got.geom_type == "MultiPolygon" and got.bounds[0] >= -180 and got.bounds[2] <= 180
    true_m2 = abs(GEOD.geometry_area_perimeter(fiji)[0])
    assert abs(GEOD.geometry_area_perimeter(got)[0]) == pytest.approx(true_m2, rel=1e-3)
    east = shapely.box(190.0, 10.0, 191.0, 11.0)  # written in 0–360° longitudes
    out, split = split_at_antimeridian(np.array([east, BOX, None], dtype=object))
    assert split.tolist() == [True, False, False]
    assert out[0].bounds == pytest.approx((-170.0, 10.0, -169.0, 11.0))
    assert out[1] is BOX
