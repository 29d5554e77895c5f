"""Points and zones of interest on a hand-made world: which are covered is known exactly."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import telecov
from telecov.errors import TelecovWarning
from telecov.io.pois import parse_poi_options
from telecov.pois import POI_COLUMNS, poi_coverage

from _cli import main_in_process as _main
from _worlds import GEOD, Grid, site, write_world

GRID = Grid(west=105.0, north=18.5, ncols=36, nrows=24, res=1 / 120)
S5G = (105.05, 18.40)  # 5G disc, 500 m
S4G = (105.20, 18.40)  # 4G sector: boresight east, 60° wide, 2 km


def offset(lon: float, lat: float, az: float, metres: float) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, az, metres)
    return float(x), float(y)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    d = tmp_path_factory.mktemp("pois")
    values = np.full((GRID.nrows, GRID.ncols), 500.0)
    areas = [
        (
            "A",
            "Xã A",
            shapely.box(105.0, 18.33, 105.125, 18.5),
        ),
        ("B", "Xã B", shapely.box(105.125, 18.33, 105.3, 18.5)),
    ]
    w = write_world(
        d, grid=GRID, values=values, areas=areas, parents=["P1", "P1"],
        sites=[site("5G", *S5G, radius_m=500), site("4G", *S4G, radius_m=2000, azimuth=90, beamwidth=60)],
    )  # fmt: skip
    points = [
        ("v1", *S5G),  # at the 5G site: covered by 5G
        ("v2", *offset(*S5G, 30, 400)),  # 400 m from the 5G site: covered
        ("v3", *offset(*S5G, 30, 600)),  # 600 m: not covered
        ("v4", *offset(*S4G, 100, 1500)),  # in the 4G sector (90 ± 30)
        ("v5", *offset(*S4G, 0, 1500)),  # north of the 4G site: outside the sector
        ("v6", *offset(*S4G, 90, 2100)),  # beyond the radius
        ("v7", 106.5, 18.4),  # outside every commune
    ]
    csv = d / "villages.csv"
    csv.write_text(
        "id,name,lon,lat\n"
        + "".join(f"{i},Thôn {i},{x!r},{y!r}\n" for i, x, y in points)
        + "bad,Thôn lỗi,abc,18.4\n",
        encoding="utf-8",
    )
    # parks: one inside the 5G disc, one half inside it (split along the site's meridian)
    r = 300 / 111_000
    parks = gpd.GeoDataFrame(
        {"name": ["inside", "half"]},
        geometry=[
            shapely.box(S5G[0] - r / 2, S5G[1] - r / 2, S5G[0] + r / 2, S5G[1] + r / 2),
            shapely.box(S5G[0], S5G[1] - 0.03, S5G[0] + 0.001, S5G[1] + 0.03),
        ],
        crs="EPSG:4326",
    )
    parks.to_file(d / "parks.gpkg", engine="pyogrio")
    return w, csv, d / "parks.gpkg"


@pytest.fixture(scope="module")
def result(world):
    w = world[0]
    return telecov.analyze(w.sites, w.areas, w.population, parent="province", combined=True)


def test_points_covered_by_disc_and_sector(world, result) -> None:
    _, csv, _ = world
    with (
        pytest.warns(TelecovWarning, match=r"villages=.*: 1 of 8 rows refused \(see rejected_pois.csv\)"),
        pytest.warns(TelecovWarning, match=r"`pois` villages: 1 of 7 features lie in no area"),
    ):
        cov = poi_coverage(result, {"villages": csv})
    feats = cov.features["villages"].set_index("poi_id")
    assert feats.loc[["v1", "v2", "v3"], "5G_covered"].tolist() == [True, True, False]
    assert feats.loc[["v4", "v5", "v6"], "4G_covered"].tolist() == [True, False, False]
    assert feats.loc["v7", "area_ids"] == ""
    assert feats.loc[["v1", "v4"], "area_ids"].tolist() == ["A", "B"]
    assert feats["4G+_covered"].sum() == 3
    t = cov.table
    assert list(t.columns) == list(POI_COLUMNS)
    row = t.set_index(["level", "area_id", "technology"])
    assert row.loc[("area", "A", "5G"), ["count", "covered"]].tolist() == [3, 2]
    assert row.loc[("area", "B", "4G"), ["count", "covered"]].tolist() == [3, 1]
    assert row.loc[("parent", "P1", "4G+"), ["count", "covered"]].tolist() == [6, 3]
    assert row.loc[("total", "ALL", "4G+"), "share_pct"] == pytest.approx(50.0)
    assert row.loc[("total", "ALL", "fiber"), "covered"] == 0
    assert np.isnan(row.loc[("total", "ALL", "5G"), "area_pct"])  # points only
    rej = cov.rejected
    assert rej[["poi", "id", "row", "field"]].values.tolist() == [["villages", "bad", 8, "lon"]]


def test_polygons_report_area_and_population(world, result) -> None:
    _, _, parks = world
    cov = poi_coverage(result, {"parks": parks})
    feats = cov.features["parks"]
    assert feats["5G_area_pct"].iloc[0] == pytest.approx(100.0)
    assert feats["5G_covered"].tolist() == [True, False]  # the half park: 500 m of 6.6 km
    row = cov.table.set_index(["level", "area_id", "technology"]).loc[("area", "A", "5G")]
    assert row["count"] == 2 and row["covered"] == 1
    inside = shapely.box(S5G[0], S5G[1] - 0.03, S5G[0] + 0.001, S5G[1] + 0.03)
    assert row["area_km2"] == pytest.approx(
        (abs(GEOD.geometry_area_perimeter(inside)[0]) + abs(GEOD.geometry_area_perimeter(
            feats.geometry.iloc[0])[0])) / 1e6, rel=1e-3)  # fmt: skip
    assert 0 < row["population_pct"] < 100


def test_bad_poi_files(world, result, tmp_path) -> None:
    nogeom = tmp_path / "agencies.csv"
    nogeom.write_text("id,name\n1,a\n", encoding="utf-8")
    with pytest.raises(telecov.InputError, match="no geometry"):
        poi_coverage(result, {"agencies": nogeom})
    gpkg = tmp_path / "nocrs.gpkg"
    with pytest.warns(UserWarning, match="crs"):
        gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.Point(105.05, 18.4)]).to_file(gpkg, engine="pyogrio")
    with pytest.raises(telecov.InputError, match="no CRS"):
        poi_coverage(result, {"x": gpkg})
    with pytest.raises(telecov.InputError, match="NAME=FILE"):
        parse_poi_options(["villages.csv"])


def test_report_writes_poi_coverage(world, tmp_path, monkeypatch, capsys) -> None:
    w, csv, parks = world
    code, _, err = _main(
        monkeypatch, capsys, tmp_path,
        "report", "--sites", str(w.sites), "--areas", str(w.areas), "--population", str(w.population),
        "--no-map", "--out", str(tmp_path / "out"), "--poi", f"villages={csv}", "--poi", f"parks={parks}",
        "--format", "csv",
    )  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(tmp_path / "out" / "poi_coverage.csv", dtype={"area_id": str})
    assert set(table["poi"]) == {"villages", "parks"}
    assert list(table.columns) == list(POI_COLUMNS)
    rejected = pd.read_csv(tmp_path / "out" / "rejected_pois.csv")
    assert rejected["row"].tolist() == [8]
