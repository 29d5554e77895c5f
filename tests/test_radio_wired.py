"""Shaped footprints measured through the whole path: lobes of radio sectors, terrain from --dem."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from test_radio_shapes import LAT, LON, _hata_suburban_m, _ridge, write_dem

import telecov
from telecov.errors import InputError
from telecov.geodesy import GEOD

from _cli import main_in_process
from _worlds import Grid, write_areas, write_raster

GRID = Grid(west=LON - 0.2, north=LAT + 0.2, ncols=48, nrows=48)
HEADER = "site_id,technology,lon,lat,band,height_m,environment,azimuth,beamwidth,radius_m\n"


def _area(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("wired")
    write_raster(folder / "pop.tif", GRID, GRID.uniform(250.0))
    inner = shapely.box(GRID.lon(1), GRID.lat(47), GRID.lon(47), GRID.lat(1))
    write_areas(folder / "areas.gpkg", [("A", "Alpha", inner)])
    write_dem(folder / "ridge.tif", _ridge)
    return {"areas": folder / "areas.gpkg", "population": folder / "pop.tif", "dem": folder / "ridge.tif",
            "folder": folder}  # fmt: skip


def _sites(path: Path, *rows: str) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def _covered_km2(result: telecov.Result, tech: str) -> float:
    t = result.table
    return float(t[(t["level"] == "total") & (t["technology"] == tech)]["covered_km2"].iloc[0])


def test_a_radio_sector_is_measured_as_its_lobe(world, tmp_path: Path) -> None:
    sites = _sites(tmp_path / "s.csv", f"a,2G,{LON},{LAT},G900,30,suburban,90,,")
    result = telecov.analyze(sites, world["areas"], world["population"], area_id="id")
    lobe = result.footprints().geometry.iloc[0]
    assert lobe.contains(shapely.Point(*GEOD.fwd(LON, LAT, 90.0, 0.99 * _hata_suburban_m(152.0))[:2]))
    assert _covered_km2(result, "2G") == pytest.approx(_area(lobe) / 1e6, rel=2e-3)
    assert not lobe.contains(shapely.Point(*GEOD.fwd(LON, LAT, 270.0, 0.5 * _hata_suburban_m(152.0))[:2]))
    fixed = telecov.analyze(sites, world["areas"], world["population"], area_id="id", propagation="fixed")
    assert fixed.shapes is None  # fixed radii: the wedge, measured as before


def test_terrain_from_a_dem_shadows_what_lies_behind_a_ridge(world, tmp_path: Path) -> None:
    sites = _sites(tmp_path / "s.csv", f"a,4G,{LON},{LAT},,30,,,,8000")
    flat = telecov.analyze(sites, world["areas"], world["population"], area_id="id")
    ridge = telecov.analyze(sites, world["areas"], world["population"], area_id="id", dem=world["dem"])
    assert _covered_km2(flat, "4G") == pytest.approx(math.pi * 64.0, rel=2e-3)
    shape = ridge.footprints().geometry.iloc[0]
    assert _covered_km2(ridge, "4G") == pytest.approx(_area(shape) / 1e6, rel=2e-3)
    assert _covered_km2(ridge, "4G") < 0.95 * _covered_km2(flat, "4G")
    assert not shape.contains(shapely.Point(*GEOD.fwd(LON, LAT, 90.0, 6000.0)[:2]))
    assert ridge.run.to_json()["options"]["dem"] == str(world["dem"])


def test_cli_with_a_dem_and_its_errors(world, tmp_path: Path, monkeypatch, capsys) -> None:
    sites = _sites(tmp_path / "s.csv", f"a,4G,{LON},{LAT},,30,,,,8000")
    args = ["report", "--sites", str(sites), "--areas", str(world["areas"]), "--population",
            str(world["population"]), "--area-id", "id", "--no-map", "--format", "csv"]  # fmt: skip
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, *args, "--out", str(tmp_path / "o"),
                                   "--dem", str(world["dem"]), "--terrain", "los")  # fmt: skip
    assert code == 0, err
    run = json.loads((tmp_path / "o" / "run.json").read_text(encoding="utf-8"))
    assert run["options"]["terrain"] == "los"
    covered = pd.read_csv(tmp_path / "o" / "coverage.csv")
    assert float(covered[covered["level"] == "total"]["covered_km2"].iloc[0]) < 0.95 * math.pi * 64.0
    feet = write_dem(tmp_path / "feet.tif", lambda x, y: np.full(x.shape, 12_000.0))
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, *args, "--out", str(tmp_path / "f"),
                                   "--dem", str(feet))  # fmt: skip
    assert code == 2 and "--dem-unit ft" in err
    nocrs = write_dem(tmp_path / "nocrs.tif", lambda x, y: np.zeros(x.shape), crs=None)
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, *args, "--out", str(tmp_path / "n"),
                                   "--dem", str(nocrs))  # fmt: skip
    assert code == 2 and "no CRS" in err
    with pytest.raises(InputError, match="no such file"):
        telecov.analyze(sites, world["areas"], world["population"], area_id="id", dem=tmp_path / "none.tif")
