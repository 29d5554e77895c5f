"""``compare``: before, after and change per row, ``crossed_target``, report folders, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import telecov
from telecov.compare import COMPARED, comparison_columns, read_coverage_table, read_report
from telecov.errors import InputError, TelecovWarning

from _cli import main_in_process
from _worlds import Grid, site, write_sites, write_world

GRID = Grid(west=105.0, north=18.5, ncols=24, nrows=12, res=1 / 120)
A = (GRID.lon(2), GRID.lat(10), GRID.lon(11), GRID.lat(2))
B = (GRID.lon(12), GRID.lat(10), GRID.lon(22), GRID.lat(2))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    import shapely

    d = tmp_path_factory.mktemp("compare")
    w = write_world(
        d, grid=GRID, values=GRID.uniform(500.0),
        areas=[("001", "Xã A", shapely.box(*A)), ("002", "Xã B", shapely.box(*B))],
        sites=[site("4G", GRID.lon(6), GRID.lat(6), radius_m=2500, site_id="a")],
    )  # fmt: skip
    # after: a big 5G disc over all of B, and more 4G in A
    after = write_sites(
        d / "after.csv",
        [site("4G", GRID.lon(6), GRID.lat(6), radius_m=2500, site_id="a"),
         site("4G", GRID.lon(4), GRID.lat(4), radius_m=2000, site_id="b"),
         site("5G", GRID.lon(17), GRID.lat(6), radius_m=6000, site_id="c")],
    )  # fmt: skip
    return w, after


def analyze(world, sites: Path):
    w, _ = world
    return telecov.analyze(sites, w.areas, w.population, area_id="id", area_name="name")


@pytest.fixture(scope="module")
def results(world):
    return analyze(world, world[0].sites), analyze(world, world[1])


def test_compare_gives_before_after_and_change_of_every_row(results) -> None:
    before, after = results
    frame = telecov.compare(before, after, target=99)
    assert list(frame.columns) == comparison_columns()
    assert len(frame) == len(before.table)
    b = before.table.set_index(["level", "area_id", "technology"])
    a = after.table.set_index(["level", "area_id", "technology"])
    f = frame.set_index(["level", "area_id", "technology"])
    for m in COMPARED:
        np.testing.assert_allclose(f[f"{m}_before"], b.loc[f.index, m])
        np.testing.assert_allclose(f[f"{m}_after"], a.loc[f.index, m])
        np.testing.assert_allclose(f[f"{m}_delta"], a.loc[f.index, m] - b.loc[f.index, m])
    assert f.loc[("area", "002", "5G"), "population_pct_after"] == pytest.approx(100.0)
    crossed = frame[frame["crossed_target"]]
    # B's 5G goes from 0 % to 100 %; the total 5G share stays under 99 %
    assert set(zip(crossed["level"], crossed["area_id"], crossed["technology"], strict=True)) == {
        ("area", "002", "5G")
    }
    assert f.loc[("area", "001", "4G"), "covered_population_delta"] > 0
    assert (f.xs("2G", level="technology")["covered_population_delta"] == 0).all()


def test_crossed_target_reads_the_metric_and_the_target(results) -> None:
    before, after = results
    low = telecov.compare(before, after, target=20, metric="area")
    crossed = low[low["crossed_target"]]
    assert ("total", "ALL", "5G") in set(
        zip(crossed["level"], crossed["area_id"], crossed["technology"], strict=True)
    )
    assert not telecov.compare(after, before, target=20)["crossed_target"].any()  # losses never cross
    with pytest.raises(InputError, match="between 0 and 100"):
        telecov.compare(before, after, target=101)
    with pytest.raises(InputError, match="unknown metric"):
        telecov.compare(before, after, metric="people")


def test_rows_of_one_side_only_are_kept_with_a_warning(results) -> None:
    before, after = results
    fewer = after.table[after.table["area_id"] != "002"]
    with pytest.warns(TelecovWarning, match="rows only before"):
        frame = telecov.compare(before, fewer)
    lonely = frame[frame["area_id"] == "002"]
    assert len(lonely) == 5 and lonely["population_pct_after"].isna().all()
    assert not lonely["crossed_target"].any()


def test_report_folders_are_read_back_with_text_ids(world, results, tmp_path, monkeypatch, capsys) -> None:
    w, after_sites = world
    args = ["report", "--areas", str(w.areas), "--population", str(w.population), "--area-id", "id",
            "--area-name", "name", "--no-config", "--no-map"]  # fmt: skip
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, *args, f"--sites={w.sites}", "--out", "b0")
    assert code == 0, err
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, *args, "--sites", str(after_sites),
                                   "--out", "after", "--compare", "b0", "--target", "99")  # fmt: skip
    assert code == 0, err
    table, areas = read_report(tmp_path / "b0")
    assert table["area_id"].tolist()[:2] == ["001", "001"] and areas is not None
    comparison = pd.read_csv(tmp_path / "after" / "comparison.csv", dtype={"area_id": str})
    expected = telecov.compare(*results, target=99)
    np.testing.assert_allclose(
        comparison["population_pct_delta"], expected["population_pct_delta"], atol=1e-9
    )
    assert comparison["crossed_target"].tolist() == expected["crossed_target"].tolist()
    code, out, err = main_in_process(monkeypatch, capsys, tmp_path, "compare", "b0", "after", "--format",
                                     "json", "--out", "cmp")  # fmt: skip
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == len(expected) and set(rows[0]) == set(comparison_columns())
    html = (tmp_path / "cmp" / "comparison.html").read_text(encoding="utf-8")
    assert "Changed areas" in html and "5G: coverage after, and what changed" in html
    code, out, err = main_in_process(monkeypatch, capsys, tmp_path, "compare", "b0", "after", "--out", "t")
    assert code == 0 and "Change per technology" in out and "1 area rows crossed the 99 % target" in err


@pytest.mark.parametrize("missing", ["nowhere", "empty"])
def test_a_folder_without_a_report_is_a_clear_error(tmp_path, monkeypatch, capsys, missing) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a report folder"):
        read_report(tmp_path / missing)
    code, out, err = main_in_process(monkeypatch, capsys, tmp_path, "compare", missing, missing)
    assert code == 2 and "not a report folder" in err and out == ""
    code, _, err = main_in_process(
        monkeypatch, capsys, tmp_path, "report", "--no-config", "--no-map", "--compare", missing
    )
    assert code == 2 and "not a report folder" in err


def test_a_file_that_is_not_a_coverage_table_is_refused(tmp_path) -> None:
    path = tmp_path / "coverage.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a coverage table"):
        read_coverage_table(path)
