"""Exports read back with independent readers: pyogrio (GPKG), pyarrow (GeoParquet), json, openpyxl."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely
from pyproj import CRS

import telecov
from telecov.errors import InputError, TelecovWarning
from telecov.exports import export_result, write_exports
from telecov.io.formats import write_xlsx

from _cli import main_in_process as _main
from _worlds import Grid, write_raster

HEADER = "site_id,operator,technology,lon,lat,radius_m,azimuth,beamwidth,status\n"
NASTY = '=HYPERLINK("http://x","y")'


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("world")
    grid = Grid(west=105.0, north=18.5, ncols=36, nrows=36, res=1 / 120)
    raster = write_raster(tmp / "pop.tif", grid, np.full((36, 36), 80.0))
    ring = shapely.box(105.12, 18.30, 105.22, 18.45).difference(shapely.box(105.15, 18.35, 105.17, 18.37))
    areas = gpd.GeoDataFrame(
        {"code": ["001", "002"], "name": [NASTY, "Xã B"]},
        geometry=[shapely.box(105.02, 18.30, 105.12, 18.45), ring],
        crs="EPSG:4326",
    )
    areas.to_file(tmp / "areas.gpkg")
    (tmp / "sites.csv").write_text(
        HEADER
        + "a,Viettel,4G,105.07,18.37,2000,,,\n"
        + "b,@VNPT,4G,105.17,18.37,2000,45,90,\n"
        + "c,VNPT,5G,105.07,18.37,500,,,\n",
        encoding="utf-8",
    )
    return {"sites": tmp / "sites.csv", "areas": tmp / "areas.gpkg", "population": raster}


@pytest.fixture(scope="module")
def result(world: dict[str, Path]) -> telecov.Result:
    return telecov.analyze(**world, area_id="code", area_name="name", by_operator=True)


@pytest.fixture(scope="module")
def exported(result: telecov.Result, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("exports")
    gaps = gpd.GeoDataFrame({"gap_id": [1]}, geometry=[shapely.box(105.03, 18.31, 105.04, 18.32)], crs=4326)
    write_exports(result, out, ["gpkg", "parquet", "geojson", "csv", "xlsx"], gaps=gaps)
    return out


def test_geopackage_has_layers_crs_and_valid_geometry(exported: Path, result: telecov.Result) -> None:
    path = exported / "coverage.gpkg"
    layers = {name: kind for name, kind in pyogrio.list_layers(path)}
    assert set(layers) == {"areas", "sites", "footprints", "gaps"}
    assert layers["sites"] == "Point"
    for name in layers:
        info = pyogrio.read_info(path, layer=name)
        assert CRS.from_user_input(info["crs"]).to_epsg() == 4326
        frame = pyogrio.read_dataframe(path, layer=name)
        assert shapely.is_valid(frame.geometry.to_numpy()).all()
    areas = pyogrio.read_dataframe(path, layer="areas")
    assert len(areas) == 2 and areas["area_id"].tolist() == ["001", "002"]
    assert np.allclose(areas["4G_population_pct"], result.areas["4G_population_pct"])
    assert len(pyogrio.read_dataframe(path, layer="footprints")) == len(result.sites)


def test_geoparquet_declares_geometry_and_crs(exported: Path, result: telecov.Result) -> None:
    for name, n in (("coverage", 2), ("sites", 3), ("footprints", 3), ("gaps", 1)):
        table = pq.read_table(exported / f"{name}.parquet")
        geo = json.loads(table.schema.metadata[b"geo"])
        column = geo["primary_column"]
        meta = geo["columns"][column]
        assert meta["encoding"] == "WKB"
        assert CRS.from_json_dict(meta["crs"]).to_epsg() == 4326
        geoms = shapely.from_wkb(table.column(column).to_pylist())
        assert len(geoms) == n and shapely.is_valid(geoms).all()
    areas = pq.read_table(exported / "coverage.parquet").to_pandas()
    assert np.allclose(areas["4G_area_pct"], result.areas["4G_area_pct"])


def _signed_area(ring: list[list[float]]) -> float:
    xy = np.asarray(ring)
    return 0.5 * float(np.sum(xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]))


def test_geojson_is_rfc7946(exported: Path) -> None:
    for name in ("coverage", "sites", "footprints", "gaps"):
        doc = json.loads((exported / f"{name}.geojson").read_text(encoding="utf-8"))
        assert doc["type"] == "FeatureCollection" and "crs" not in doc
        for feature in doc["features"]:
            geom = feature["geometry"]
            polys = [geom["coordinates"]] if geom["type"] == "Polygon" else (
                geom["coordinates"] if geom["type"] == "MultiPolygon" else []
            )  # fmt: skip
            for poly in polys:
                assert _signed_area(poly[0]) > 0  # exterior counter-clockwise
                assert all(_signed_area(hole) < 0 for hole in poly[1:])
            xy = np.asarray(shapely.get_coordinates(shapely.from_geojson(json.dumps(geom))))
            assert (np.abs(xy[:, 0]) <= 180).all() and (np.abs(xy[:, 1]) <= 90).all()
            assert xy[:, 0].min() > 104 and xy[:, 0].max() < 106 and 18 < xy[:, 1].min() < 19


def test_xlsx_sheets_and_formula_text_neutralized(exported: Path, result: telecov.Result) -> None:
    wb = openpyxl.load_workbook(exported / "coverage.xlsx")
    assert wb.sheetnames == ["coverage", "areas", "sites", "gaps", "rejected_sites", "rejected_areas"]
    coverage = wb["coverage"]
    header = [c.value for c in coverage[1]]
    assert header == list(result.table.columns)
    assert coverage.max_row == len(result.table) + 1
    names = {c.value for c in coverage["C"][1:]}
    assert "'" + NASTY in names and NASTY not in names
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f"
    operators = {c.value for c in wb["sites"]["C"][1:]}
    assert "'@VNPT" in operators


def test_csv_exports(exported: Path, result: telecov.Result) -> None:
    areas = pd.read_csv(exported / "areas.csv", dtype={"area_id": str})
    assert areas["area_id"].tolist() == ["001", "002"] and "geometry" not in areas
    sites = pd.read_csv(exported / "sites.csv")
    assert sites[["lon", "lat"]].to_numpy().tolist()[0] == pytest.approx([105.07, 18.37])


def test_xlsx_splits_or_refuses_long_tables(tmp_path: Path) -> None:
    table = pd.DataFrame({"i": range(12), "text": ["+1"] * 12})
    with pytest.warns(TelecovWarning, match=r"table 't' has 12 rows: split over 3 sheets"):
        path = write_xlsx(tmp_path / "long.xlsx", {"t": table}, max_rows=5)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["t", "t (2)", "t (3)"]
    values = [r[0] for ws in wb.worksheets for r in ws.iter_rows(min_row=2, values_only=True)]
    assert values == list(range(12))
    assert all(ws["A1"].value == "i" for ws in wb.worksheets)
    assert wb["t"]["B2"].value == "'+1"
    with pytest.raises(InputError, match="more than an Excel sheet holds"):
        write_xlsx(tmp_path / "refused.xlsx", {"t": table}, max_rows=5, split=False)
    assert not (tmp_path / "refused.xlsx").exists()


def test_single_file_export_and_unwritable_paths(result: telecov.Result, tmp_path: Path) -> None:
    path = export_result(result, tmp_path / "one.gpkg")
    assert {n for n, _ in pyogrio.list_layers(path)} == {"areas", "sites", "footprints"}
    assert [p.name for p in tmp_path.iterdir()] == ["one.gpkg"]  # no temporary left behind
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="cannot write"):
        export_result(result, tmp_path / "file" / "x.parquet")
    with pytest.raises(InputError, match="cannot write"):
        write_exports(result, tmp_path / "file", ["csv"])
    with pytest.raises(InputError, match="unknown format"):
        write_exports(result, tmp_path, ["shp"])


def test_report_cli_export_option(world: dict[str, Path], tmp_path: Path, monkeypatch, capsys) -> None:
    cmd = ["report", "--no-map", "--sites", str(world["sites"]), "--areas", str(world["areas"]),
           "--population", str(world["population"]), "--area-id", "code", "--format", "json"]  # fmt: skip
    code, out, err = _main(monkeypatch, capsys, tmp_path, *cmd, "--export", "gpkg", "--export", "xlsx")
    assert code == 0, err
    json.loads(out)
    folder = tmp_path / "out"
    assert (folder / "coverage.gpkg").is_file() and (folder / "coverage.xlsx").is_file()
    assert json.loads((folder / "run.json").read_text())["options"]["export"] == ["gpkg", "xlsx"]
    (tmp_path / "blocker").write_text("x")
    code, _, err = _main(monkeypatch, capsys, tmp_path, *cmd, "--export", "gpkg", "--out", "blocker/out")
    assert code == 2 and "Traceback" not in err and "blocker" in err
    code, _, err = _main(monkeypatch, capsys, tmp_path, *cmd, "--export", "shp")
    assert code == 2 and "Traceback" not in err and "shp" in err
