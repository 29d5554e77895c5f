"""Old → new boundary crosswalk: hand-made splits and merges with known weights, real Hà Tĩnh."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

import telecov
from telecov.crosswalk import crosswalk, reaggregate
from telecov.errors import InputError, TelecovWarning

from _cli import main_in_process as _main
from _worlds import Grid, write_raster
from conftest import require_shared

W, S = 105.0, 18.0


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(W + x0, S + y0, W + x1, S + y1)


@pytest.fixture(scope="module")
def boundaries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Old: A split in halves, B+C merged, D split 1/3 : 2/3, E split along people, F in the sea.

    Units are 0.1°; the raster has people only west of x = 0.15 in row band y in [0.3, 0.4].
    """
    tmp = tmp_path_factory.mktemp("cw")
    u = 0.1
    old = gpd.GeoDataFrame(
        {
            "old_code": ["A", "B", "C", "D", "E", "F"],
            "old_name": ["a", "b", "c", "d", "e", "f"],
            "pop": [100, 200, 300, 400, 500, 600],
        },
        geometry=[
            box(0, 0, 2 * u, u),
            box(0, u, u, 2 * u),
            box(u, u, 2 * u, 2 * u),
            box(0, 2 * u, 3 * u, 3 * u),
            box(0, 3 * u, 2 * u, 4 * u),
            box(5 * u, 5 * u, 6 * u, 6 * u),
        ],
        crs="EPSG:4326",
    )
    new = gpd.GeoDataFrame(
        {"new_code": ["X", "Y", "Z", "P", "Q", "R", "T"]},
        geometry=[
            box(0, 0, u, u),
            box(u, 0, 2 * u, u),
            box(0, u, 2 * u, 2 * u),
            box(0, 2 * u, u, 3 * u),
            box(u, 2 * u, 3 * u, 3 * u),
            box(0, 3 * u, 1.5 * u, 4 * u),
            box(1.5 * u, 3 * u, 2 * u, 4 * u),
        ],
        crs="EPSG:4326",
    )
    old.to_file(tmp / "old.gpkg")
    new.to_file(tmp / "new.gpkg")
    grid = Grid(west=W, north=S + 0.5, ncols=60, nrows=60, res=0.01)
    people = np.zeros((60, 60))
    people[10:20, 0:15] = 7.0  # rows for y in [0.3, 0.4], columns x in [0, 0.15]
    raster = write_raster(tmp / "pop.tif", grid, people)
    return {"old": tmp / "old.gpkg", "new": tmp / "new.gpkg", "population": raster}


def _weights(table: pd.DataFrame, column: str) -> dict[tuple[str, str], float]:
    return {(a, b): w for a, b, w in zip(table["from_id"], table["to_id"], table[column], strict=True)}


def _hand_made(boundaries: dict[str, Path]) -> telecov.crosswalk.Crosswalk:
    with pytest.warns(
        TelecovWarning, match="1 old areas overlap no new area; each goes whole to the nearest"
    ):
        return crosswalk(boundaries["old"], boundaries["new"], population=boundaries["population"],
                         from_id="old_code", to_id="new_code", min_share=0.0)  # fmt: skip


def test_hand_made_splits_and_merges(boundaries: dict[str, Path]) -> None:
    result = _hand_made(boundaries)
    table = result.table
    area = _weights(table, "area_weight")
    assert area[("A", "X")] == pytest.approx(0.5, abs=1e-9) and area[("A", "Y")] == pytest.approx(
        0.5, abs=1e-9
    )
    assert area[("B", "Z")] == 1.0 and area[("C", "Z")] == 1.0
    # geodesic edges of a box bulge poleward: widths 1:2 give area ratios 1:2 to ~1e-7
    assert area[("D", "P")] == pytest.approx(1 / 3, abs=1e-6)
    assert area[("D", "Q")] == pytest.approx(2 / 3, abs=1e-6)
    assert area[("E", "R")] == pytest.approx(0.75, abs=1e-6)
    people = _weights(table, "population_weight")
    assert people[("E", "R")] == pytest.approx(1.0, abs=1e-6) and people[("E", "T")] == pytest.approx(
        0, abs=1e-6
    )
    assert people[("A", "X")] == pytest.approx(0.5)  # no people: falls back to the area weight
    assert table.loc[table["from_id"] == "E", "population"].sum() == pytest.approx(7.0 * 150, rel=1e-3)
    f = table[table["from_id"] == "F"]
    assert f["match"].tolist() == ["nearest"] and f["area_weight"].tolist() == [1.0]
    sums = table.groupby("from_id")[["area_weight", "population_weight"]].sum()
    assert np.allclose(sums.to_numpy(), 1.0)
    assert set(table.columns) >= {"from_id", "to_id", "intersection_km2", "area_share", "area_weight"}
    assert table.loc[table["from_id"] == "A", "intersection_km2"].sum() == pytest.approx(
        telecov.geodesy.geodesic_area_km2(np.array([box(0, 0, 0.2, 0.1)]))[0], rel=1e-6
    )


def test_slivers_are_dropped_and_weights_renormalized(boundaries: dict[str, Path], tmp_path: Path) -> None:
    old = gpd.GeoDataFrame({"id": ["A"]}, geometry=[box(0, 0, 0.1, 0.1)], crs=4326)
    new = gpd.GeoDataFrame({"id": ["X", "Y"]}, geometry=[box(0, 0, 0.0995, 0.1), box(0.0995, 0, 0.2, 0.1)],
                           crs=4326)  # fmt: skip
    kept = crosswalk(old, new, min_share=0.0).table
    assert len(kept) == 2
    clean = crosswalk(old, new).table  # default 1 %: the 0.5 % sliver goes
    assert clean["to_id"].tolist() == ["X"] and clean["area_weight"].tolist() == [1.0]
    assert clean["area_share"].iloc[0] == pytest.approx(0.995, abs=1e-6)
    with pytest.raises(InputError, match="`min_share`"):
        crosswalk(old, new, min_share=1.5)


def test_reaggregate_counts_and_coverage_tables(boundaries: dict[str, Path]) -> None:
    cw = _hand_made(boundaries)
    old = pyogrio.read_dataframe(boundaries["old"], read_geometry=False)
    moved = reaggregate(old[["old_code", "pop"]], cw, id_column="old_code")
    assert moved["pop"].sum() == pytest.approx(old["pop"].sum())
    got = dict(zip(moved["to_id"], moved["pop"], strict=True))
    assert got["Z"] == pytest.approx(500) and got["R"] == pytest.approx(500) and got["T"] == pytest.approx(0)
    assert got["Q"] == pytest.approx(400 * 2 / 3 + 600)  # F overlaps nothing: Q is its nearest
    series = reaggregate(old.set_index("old_code")["pop"], cw)
    assert series["value"].sum() == pytest.approx(2100)
    table = pd.DataFrame({
        "level": "area", "area_id": ["B", "C"], "area_name": ["b", "c"], "parent": "", "technology": "4G",
        "area_km2": [10.0, 30.0], "covered_km2": [10.0, 0.0], "area_pct": [100.0, 0.0],
        "population": [100.0, 300.0], "covered_population": [100.0, 0.0], "population_pct": [100.0, 0.0],
    })  # fmt: skip
    merged = reaggregate(table, cw)
    assert merged["area_id"].tolist() == ["Z"] and list(merged.columns) == list(table.columns)
    assert merged["population"].iloc[0] == 400 and merged["population_pct"].iloc[0] == pytest.approx(25.0)
    assert merged["area_pct"].iloc[0] == pytest.approx(25.0)
    extra = pd.DataFrame({"old_code": ["A", "ZZ"], "pop": [100, 5]})
    with pytest.warns(TelecovWarning, match="1 ids are not in the crosswalk and are left out, e.g. ZZ"):
        lost = reaggregate(extra, cw, id_column="old_code")
    assert lost["pop"].sum() == pytest.approx(100)


def test_real_ha_tinh_2009_to_2025() -> None:
    old_path = require_shared("vietnam", "communes_2009.gpkg")
    new_path = require_shared("vietnam", "communes_2025.gpkg")
    raster = require_shared("vietnam", "worldpop_ha_tinh_2020.tif")
    old = pyogrio.read_dataframe(old_path, where="province = 'Ha Tinh'")
    new = pyogrio.read_dataframe(new_path, where="province_code = '42'")
    assert len(old) == 262 and len(new) == 69
    result = crosswalk(old, new, population=raster, from_id="commune_id_2009", from_name="commune_vn")
    table = result.table
    sums = table.groupby("from_id")[["area_weight", "population_weight"]].sum()
    assert len(sums) == 262
    assert np.allclose(sums.to_numpy(), 1.0, atol=1e-9)
    assert table["to_id"].isin(new["commune_code"]).all()
    assert table.groupby("from_id")["area_share"].sum().median() > 0.99  # generalized 2009 lines: slivers
    moved = reaggregate(old[["commune_id_2009", "population_2009"]], result, id_column="commune_id_2009")
    assert moved["population_2009"].sum() == pytest.approx(old["population_2009"].sum(), rel=1e-9)
    assert len(moved) == 69
    assert result.summary["population"] == pytest.approx(table["population"].sum())


def test_cli_writes_the_crosswalk(boundaries: dict[str, Path], tmp_path: Path, monkeypatch, capsys) -> None:
    code, _, err = _main(
        monkeypatch, capsys, tmp_path, "crosswalk", "--from", str(boundaries["old"]),
        "--to", str(boundaries["new"]), "--from-id", "old_code", "--to-id", "new_code",
        "--population", str(boundaries["population"]), "--output", "cw/crosswalk.csv",
    )  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(tmp_path / "cw" / "crosswalk.csv", dtype={"from_id": str, "to_id": str})
    assert list(table.columns[:5]) == ["from_id", "from_name", "to_id", "to_name", "match"]
    assert np.allclose(table.groupby("from_id")["population_weight"].sum(), 1.0)
    code, _, err = _main(
        monkeypatch, capsys, tmp_path, "crosswalk", "--from", "nope.gpkg", "--to", "nope.gpkg"
    )
    assert code == 2 and "not found" in err
