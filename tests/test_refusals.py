"""The input-row contract: first problem wins, rejects in the contract's shape, counts by reason."""

from __future__ import annotations

import gzip
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import telecov
from telecov.errors import InputError
from telecov.io.refusals import REJECT_COLUMNS, Refusals, refusals_by_reason, rejects_frame
from telecov.io.tables import decode_text, read_text

from _worlds import Grid, write_raster


def test_first_problem_of_a_row_wins() -> None:
    refusals = Refusals(5)
    refusals.refuse(np.array([False, True, False, True, False]), "lat", "missing coordinate")
    refusals.refuse([3, 4], "radius_m", lambda i: f"radius of row {i}")
    refusals.refuse(np.array([4, 4], dtype=np.int64), "status", "unknown status")
    assert len(refusals) == 3
    assert refusals.mask.tolist() == [False, True, False, True, True]
    assert refusals.ok.tolist() == [True, False, True, False, False]
    assert refusals.positions() == [1, 3, 4]
    table = pd.DataFrame({"site_id": list("abcde"), "lat": ["1", "", "3", "", "5"]})
    rejects = refusals.frame(table)
    assert list(rejects.columns) == ["site_id", "lat", *REJECT_COLUMNS]
    assert rejects.values.tolist() == [
        ["b", "", 2, "lat", "missing coordinate"],
        ["d", "", 4, "lat", "missing coordinate"],
        ["e", "5", 5, "radius_m", "radius of row 4"],
    ]


def test_a_reason_is_computed_only_for_rows_not_yet_refused() -> None:
    asked: list[int] = []
    refusals = Refusals(3)
    refusals.refuse([0], "a", "first")

    def reason(i: int) -> str:
        asked.append(i)
        return "second"

    refusals.refuse(np.ones(3, dtype=bool), "b", reason)
    assert asked == [1, 2]


def test_rejects_keep_file_row_numbers_and_contract_columns() -> None:
    table = pd.DataFrame({"row": ["x", "y"], "name": ["p", "q"]}, index=[10, 20])
    refusals = Refusals(2)
    refusals.refuse([1], "name", "bad name")
    rejects = refusals.frame(table, rows=np.array([4, 9]))
    assert list(rejects.columns) == ["name", *REJECT_COLUMNS]
    assert rejects.values.tolist() == [["q", 9, "name", "bad name"]]
    empty = Refusals(2).frame(table)
    assert empty.empty and list(empty.columns) == ["name", *REJECT_COLUMNS]
    assert list(rejects_frame(None).columns) == list(REJECT_COLUMNS)


def test_counts_by_reason_leave_numbers_out_and_list_refused_values() -> None:
    refusals = Refusals(14)
    refusals.refuse([0], "lat", "latitude 95 out of range")
    refusals.refuse([1], "lat", "latitude -91.5 out of range")
    refusals.refuse([2, 3, 4], "technology", "unknown technology 'WiMAX'")
    refusals.refuse([5], "technology", "unknown technology '6G'")
    refusals.refuse(np.arange(6, 13), "status", lambda i: f"unknown status 's{i}'")
    refusals.refuse([13], "row", "10 fields where the header has 9 (line 15; extra: 'x')")
    counts = {
        "status: unknown status 's6', 's7', 's8', 's9', 's10' and 2 more": 7,
        "technology: unknown technology 'WiMAX' ×3, '6G'": 4,
        "lat: latitude … out of range": 2,
        "row: … fields where the header has … (line …; extra: 'x')": 1,
    }
    assert refusals.by_reason() == counts
    assert list(refusals.by_reason()) == list(counts)  # most rows first
    frame = refusals.frame(pd.DataFrame({"x": range(14)}))
    assert refusals_by_reason({"sites": frame, "areas": frame.iloc[:0]}) == {"sites": counts}


def test_run_json_counts_are_refusals_by_reason(tmp_path: Path) -> None:
    grid = Grid(west=105.0, north=18.5, ncols=24, nrows=24, res=1 / 120)
    raster = write_raster(tmp_path / "pop.tif", grid, np.full((24, 24), 100.0))
    areas = gpd.GeoDataFrame(
        {"id": ["1", *"1234567890"]},
        geometry=[shapely.box(105.02, 18.32, 105.18, 18.48)] * 11,
        crs="EPSG:4326",
    )
    sites = tmp_path / "sites.csv"
    sites.write_text(
        "technology,lon,lat,radius_m\n4G,105.1,18.4,\n6G,105.1,18.4,\n4G,105.1,95,\n4G,105.1,96,\n"
        "4G,105.1,18.4,-3\n",
        encoding="utf-8",
    )
    result = telecov.analyze(sites, areas, raster)
    assert result.run.counts["refusals_by_reason"] == refusals_by_reason(result.rejected)
    assert result.run.counts["refusals_by_reason"]["sites"]["lat: latitude … out of range"] == 2


def test_text_is_decoded_and_gzip_recognised(tmp_path: Path) -> None:
    assert decode_text("\ufeffViệt".encode(), name="x") == "Việt"
    with pytest.raises(InputError, match=r"x: line 2 is not valid UTF-8 \(byte 0xea\)"):
        decode_text(b"a\n\xea", name="x")
    with pytest.raises(InputError, match="cannot decode as nope"):
        decode_text(b"a", name="x", encoding="nope")
    packed = tmp_path / "cells.csv"  # gzip without a .gz suffix: found by its first bytes
    packed.write_bytes(gzip.compress(b"radio\n"))
    assert read_text(packed) == "radio\n"
    truncated = tmp_path / "cut.gz"
    truncated.write_bytes(gzip.compress(b"radio\n" * 100)[:20])
    with pytest.raises(InputError, match="not a readable gzip file"):
        read_text(truncated, gzipped=True)
    with pytest.raises(InputError, match="file not found"):
        read_text(tmp_path / "missing.csv")
