"""Spreadsheets and CSV lines as people write them; the spellings of technologies and statuses."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import openpyxl
import openpyxl.chart
import pytest
import shapely

from telecov.errors import InputError, TelecovWarning
from telecov.io.pois import read_pois
from telecov.io.sheets import header_row, read_sheet
from telecov.io.sites import read_sites
from telecov.io.tables import read_csv_table, read_csv_text
from telecov.vocabulary import (
    DEFAULT_VOCABULARY,
    normalize_layer,
    parse_aliases,
    spelling_key,
    vocabulary_of,
)

from _cli import main_in_process
from _worlds import Grid, write_raster

HEADER = ["site_id", "technology", "lon", "lat", "radius_m", "status"]


def _workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    sheet.cell(row=r, column=c, value=value)
    book.save(path)
    return path


# ---- workbooks


def test_header_row_is_the_first_all_text_row_wide_enough() -> None:
    assert header_row([("a", "b"), (1, 2)]) == 0
    assert header_row([("Title",), (None, None, None), ("a", "b", "c"), ("x", "1", "2")]) == 2
    assert header_row([("a", 1, "c"), ("x", "y", "z")]) == 1  # a number in a row: not a header
    assert (
        header_row([("Title", "2025"), ("a", "b", "c", "d"), ("1", "2", "3", "4")]) == 1
    )  # 2 of 4 cells: title
    assert header_row([(1.0, 2.0), (3.0, 4.0)]) is None
    assert header_row([("only",), ("x",)]) == 0  # a one-column sheet
    assert header_row([("Title",), ("a", "b"), ("1", "2")]) == 1


def test_an_all_text_sheet_with_a_title_and_blank_rows_is_read_as_its_data(tmp_path: Path) -> None:
    rows = [["Danh sách trạm BTS — Hà Tĩnh"], [], HEADER, ["S1", "LTE", "105.1", "18.4", "", "hoạt động"], [],
            ["S2", "GSM 900", "105.2", "18.3", "5000", ""], [" ", None, ""], ["S3", "NR", "105.3", "18.2"],
            [], [""], [None, " "]]  # fmt: skip
    path = _workbook(tmp_path / "sites.xlsx", {"BTS": rows})
    sheet = read_sheet(path, sheet=None, wanted=lambda c: "lon" in c, option="sites_layer", what="sites")
    assert sheet.title_rows == 1 and sheet.blank_rows >= 3 and sheet.malformed == {}
    assert list(sheet.frame.columns) == HEADER
    table = read_sites(path)
    assert table.read == 3 and table.rejected.empty  # blank rows are not data
    assert table.accepted["technology"].tolist() == ["4G", "2G", "5G"]
    assert table.accepted["radius_m"].tolist() == [3000.0, 5000.0, 600.0]
    assert table.name.endswith("sites.xlsx (sheet 'BTS')")


def test_numbers_in_cells_keep_their_exact_text_and_extra_cells_are_refused(tmp_path: Path) -> None:
    rows = [HEADER, ["00123", "4G", 105.06, 18.36, 2500.0, "existing"], [1001, "4G", 105.1, 18.4, None, None],
            ["S3", "4G", 105.1, 18.4, None, None, "a note"]]  # fmt: skip
    table = read_sites(_workbook(tmp_path / "n.xlsx", {"S": rows}))
    assert table.accepted["site_id"].tolist() == ["00123", "1001"]
    assert table.accepted.geometry.x.tolist() == [105.06, 105.1]
    assert table.rejected[["row", "field", "reason"]].values.tolist() == [
        [3, "row", "1 filled cells beyond the header's 6 columns"]
    ]


def test_sheets_are_chosen_by_their_header_or_by_name(tmp_path: Path) -> None:
    site_rows = [HEADER, ["S1", "4G", 105.1, 18.4, None, None]]
    villages = [["name", "lon", "lat"], ["T1", 105.1, 18.4]]
    path = _workbook(
        tmp_path / "book.xlsx", {"Notes": [["Read me first"]], "Viettel": site_rows, "Villages": villages}
    )
    assert len(read_sites(path).accepted) == 1  # the one sheet with coordinates and a technology
    both = _workbook(tmp_path / "both.xlsx", {"Viettel": site_rows, "VNPT": site_rows})
    with pytest.raises(
        InputError, match=r"2 sheets hold sites \(Viettel, VNPT\); choose one with `sites_layer`"
    ):
        read_sites(both)
    assert read_sites(both, layer="VNPT").name.endswith("(sheet 'VNPT')")
    with pytest.raises(InputError, match=r"no sheet 'Mobi' \(sheets: Viettel, VNPT\)"):
        read_sites(both, layer="Mobi")
    numbers = _workbook(tmp_path / "numbers.xlsx", {"S": [[1, 2], [3, 4]]})
    with pytest.raises(InputError, match="sheet 'S' has no header row"):
        read_sites(numbers)
    charted = openpyxl.load_workbook(_workbook(tmp_path / "chart.xlsx", {"Sites": site_rows}))
    chart = openpyxl.chart.BarChart()
    chart.add_data(openpyxl.chart.Reference(charted["Sites"], min_col=3, min_row=1, max_row=2))
    charted.create_chartsheet("Chart", 0).add_chart(chart)
    charted.save(tmp_path / "chart.xlsx")
    assert (
        len(read_sites(tmp_path / "chart.xlsx").accepted) == 1
    )  # a chart sheet first: no cells, passed over
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a readable workbook"):
        read_sites(tmp_path / "broken.xlsx")


def test_points_of_interest_from_a_workbook(tmp_path: Path) -> None:
    rows = [["Thôn"], ["name", "lon", "lat"], ["T1", "105.06", "18.36"], [], ["T2", 105.14, "north"]]
    with pytest.warns(TelecovWarning, match="1 of 2 rows refused"):
        pois = read_pois(_workbook(tmp_path / "v.xlsx", {"Thôn": rows}), name="villages")
    assert pois.read == 2 and pois.features["poi_name"].tolist() == ["T1"]
    assert pois.rejected[["row", "field"]].values.tolist() == [[2, "lat"]]


# ---- CSV lines with more fields than the header


def test_a_line_with_an_extra_field_is_a_refused_row(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "site_id,operator,technology,lon,lat\nA,Viettel,4G,105.1,18.4\nB,Viettel, Hà Tĩnh,4G,105.1,18.4\n\n"
        '"C","Mobi, Fone",4G,105.1,18.4\nD,X,5G,105.1,18.4,,\n',
        encoding="utf-8",
    )
    table = read_sites(path)
    assert table.read == 4 and table.accepted["site_id"].tolist() == ["A", "C"]
    assert table.rejected[["row", "field", "reason"]].values.tolist() == [
        [2, "row", "6 fields where the header has 5 (line 3; extra: '18.4')"],
        [4, "row", "7 fields where the header has 5 (line 6; extra: '', '')"],
    ]
    with pytest.raises(InputError, match="row 2 has 6 fields where the header has 5"):
        read_csv_text(path)  # readers that take a file whole still refuse it


def test_an_extra_field_in_the_first_data_row_does_not_shift_the_table(tmp_path: Path) -> None:
    """pandas would take the first column as an index (every value moved one column left)."""
    path = tmp_path / "first.csv"
    path.write_text("a,b,c\n1,2,3,4\n5,6,7\n", encoding="utf-8")
    table = read_csv_table(path)
    assert table.frame.values.tolist() == [["1", "2", "3"], ["5", "6", "7"]]
    assert list(table.malformed) == [0]


def test_a_file_whose_lines_mostly_have_extra_fields_is_refused_whole(tmp_path: Path) -> None:
    path = tmp_path / "commas.csv"
    path.write_text("technology,lon,lat\n4G,105,1,18,4\n4G,105,2,18,3\n4G,105.1,18.4\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"2 of 3 rows have more fields than the header .*`decimal`"):
        read_sites(path)


# ---- vocabulary

ISSUE_TECHNOLOGIES = {
    "2G": ["GSM", "GSM900", "GSM 1800", "DCS1800", "EDGE", "GPRS", "G900"],
    "3G": ["UMTS", "WCDMA", "3G WCDMA", "HSPA", "HSPA+", "U900", "U2100"],
    "4G": ["LTE", "LTE-A", "LTE+", "4G/LTE", "4G+", "L900", "L1800", "L2100", "L2600"],
    "5G": ["NR", "5G NR", "NR5G", "5G NSA", "5G SA", "N41", "N78"],
    "fiber": ["FTTH", "FTTx", "FTTB", "GPON", "XGS-PON", "fibre", "cáp quang"],
}
ISSUE_STATUSES = {
    "existing": ["existing", "active", "on air", "in service", "operational", "hoạt động", "đang hoạt động",
                 "đã phát sóng"],
    "planned": ["planned", "proposed", "under construction", "quy hoạch", "kế hoạch", "dự kiến",
                "đang xây dựng"],
    "inactive": ["inactive", "decommissioned", "off air", "ngừng hoạt động", "đã tắt"],
}  # fmt: skip


def _variants(spelling: str) -> list[str]:
    """The spelling as written, in capitals, with spaces around and doubled, and decomposed (NFD)."""
    nfd = unicodedata.normalize("NFD", spelling)
    return [
        spelling,
        spelling.upper(),
        f"  {spelling.lower()} ",
        spelling.replace(" ", "  "),
        nfd,
        nfd.upper(),
    ]


@pytest.mark.parametrize(("tech", "spelling"), [(t, s) for t, ss in ISSUE_TECHNOLOGIES.items() for s in ss])
def test_every_technology_spelling_of_the_issue(tech: str, spelling: str) -> None:
    assert {DEFAULT_VOCABULARY.technology_of(v) for v in _variants(spelling)} == {tech}


@pytest.mark.parametrize(("status", "spelling"), [(t, s) for t, ss in ISSUE_STATUSES.items() for s in ss])
def test_every_status_spelling_of_the_issue(status: str, spelling: str) -> None:
    assert {DEFAULT_VOCABULARY.status_of(v) for v in _variants(spelling)} == {status}


def test_spellings_ignore_case_spaces_hyphens_and_unicode_forms() -> None:
    assert spelling_key(" GSM 1800 ") == spelling_key("gsm1800") == spelling_key("Gsm-1800") == "gsm1800"
    assert spelling_key(unicodedata.normalize("NFD", "CÁP QUANG")) == "cápquang"
    assert (
        DEFAULT_VOCABULARY.technology_of("WiMAX") is None and DEFAULT_VOCABULARY.status_of("retired") is None
    )
    assert DEFAULT_VOCABULARY.status_of("") == "existing"
    assert (
        normalize_layer("4G+") == "4G+" and normalize_layer("any mobile") == "any_mobile"
    )  # layers keep names


def test_inactive_sites_are_never_counted_and_not_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    rows = ["đang hoạt động", "Dự kiến", "Off Air", "đã tắt", "retired"]
    path.write_text(
        "technology,lon,lat,status\n" + "".join(f"4G,105.1,18.4,{s}\n" for s in rows), encoding="utf-8"
    )
    for planned in (False, True):
        table = read_sites(path, include_planned=planned)
        assert table.accepted["status"].tolist() == ["existing", "planned", "inactive", "inactive"]
        assert table.accepted["counted"].tolist() == [True, planned, False, False]
        assert table.rejected[["row", "field", "reason"]].values.tolist() == [
            [5, "status", "unknown status 'retired'"]
        ]


def test_the_vocabulary_is_extended_by_a_parameter(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "technology,lon,lat,status\neLTE,105.1,18.4,tháo dỡ\nLTE 700,105.1,18.4,\n", encoding="utf-8"
    )
    assert len(read_sites(path).rejected) == 2
    words = {"technology": {"4g": ["eLTE", "LTE 700"]}, "status": {"inactive": "tháo dỡ"}}
    table = read_sites(path, vocabulary=words)
    assert table.rejected.empty and table.accepted["technology"].tolist() == ["4G", "4G"]
    assert table.accepted["status"].tolist() == ["inactive", "existing"]
    with pytest.raises(InputError, match=r"`vocabulary` technology 'LTE' = '5G': 'LTE' already means '4G'"):
        vocabulary_of({"technology": {"5G": ["LTE"]}})
    with pytest.raises(InputError, match=r"`vocabulary` technology '6G': unknown technology"):
        vocabulary_of({"technology": {"6G": ["x"]}})
    with pytest.raises(InputError, match=r"`vocabulary` 'colour': expected 'technology' or 'status'"):
        vocabulary_of({"colour": {}})
    assert parse_aliases(["eLTE=4g", "LTE 700=4G"], kind="technology") == {"4G": ["eLTE", "LTE 700"]}
    with pytest.raises(InputError, match=r"`status_alias` 'x=gone': unknown status 'gone'"):
        parse_aliases(["x=gone"], kind="status")
    with pytest.raises(InputError, match="`technology_alias` 'eLTE': expected SPELLING=TECHNOLOGY"):
        parse_aliases(["eLTE"], kind="technology")


def _cli_world(tmp_path: Path) -> list[str]:
    grid = Grid(west=105.0, north=18.5, ncols=24, nrows=24, res=1 / 120)
    raster = write_raster(tmp_path / "pop.tif", grid, np.full((24, 24), 100.0))
    areas = tmp_path / "areas.geojson"
    gpd.GeoDataFrame(
        {"id": ["1"]}, geometry=[shapely.box(105.02, 18.32, 105.18, 18.48)], crs="EPSG:4326"
    ).to_file(areas)
    sites = tmp_path / "sites.csv"
    rows = "eLTE,105.1,18.4,tháo dỡ\nLTE,105.1,18.4,\nWiMAX,105.1,18.4,\n"
    sites.write_text("technology,lon,lat,status\n" + rows, encoding="utf-8")
    return ["report", "--sites", str(sites), "--areas", str(areas), "--population", str(raster), "--no-map"]


def test_vocabulary_tables_in_telecov_toml_and_alias_flags(tmp_path: Path, monkeypatch, capsys) -> None:
    args = _cli_world(tmp_path)
    code, out, _ = main_in_process(monkeypatch, capsys, tmp_path, *args, "--out", "plain")
    assert code == 0 and "2 × technology: unknown technology 'eLTE', 'WiMAX'" in " ".join(out.split())
    (tmp_path / "telecov.toml").write_text(
        '[vocabulary.technology]\n4G = ["eLTE"]\n\n[vocabulary.status]\ninactive = ["tháo dỡ"]\n',
        encoding="utf-8",
    )
    code, out, err = main_in_process(monkeypatch, capsys, tmp_path, *args, "--out", "toml")
    assert code == 0, err
    run = json.loads((tmp_path / "toml" / "run.json").read_text(encoding="utf-8"))
    assert run["counts"]["sites"] == {"read": 3, "used": 2, "refused": 1, "counted": 1}  # eLTE read, inactive
    assert run["options"]["vocabulary"] == {
        "technology": {"4G": ["eLTE"]},
        "status": {"inactive": ["tháo dỡ"]},
    }
    flags = ["--technology-alias", "WiMAX=4G", "--no-config", "--out", "flags"]
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, *args, *flags)
    run = json.loads((tmp_path / "flags" / "run.json").read_text(encoding="utf-8"))
    assert code == 0 and run["counts"]["sites"]["refused"] == 1  # WiMAX read; eLTE unknown without the file


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[vocabulary.technology]\n6G = ["x"]\n',
            "telecov.toml:2: [vocabulary.technology] '6G': unknown technology",
        ),
        (
            "[vocabulary.technology]\n4G = 5\n",
            "telecov.toml:2: [vocabulary.technology] 4G takes a list of spellings",
        ),
        ('[vocabulary.colour]\nred = ["x"]\n', "telecov.toml:1: [vocabulary.colour]: expected"),
        ('vocabulary = "LTE"\n', "telecov.toml:1: vocabulary must be tables"),
    ],
)
def test_bad_vocabulary_tables_name_the_line(
    tmp_path: Path, monkeypatch, capsys, text: str, message: str
) -> None:
    args = _cli_world(tmp_path)
    (tmp_path / "telecov.toml").write_text(text, encoding="utf-8")
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, *args)
    assert code == 2 and message in " ".join(err.split())


# ---- MultiPoint layers


def test_one_point_multipoints_are_points_and_others_refused(tmp_path: Path) -> None:
    geoms = [shapely.MultiPoint([(105.1, 18.4)]), shapely.MultiPoint([(105.1, 18.4), (105.2, 18.3)]),
             shapely.Point(105.05, 18.35), shapely.MultiPoint()]  # fmt: skip
    layer = gpd.GeoDataFrame({"technology": ["4G"] * 4}, geometry=geoms, crs="EPSG:4326")
    table = read_sites(layer)
    assert table.accepted.geometry.x.tolist() == [105.1, 105.05]
    assert table.rejected[["row", "field", "reason"]].values.tolist() == [
        [2, "geometry", "expected a Point, got MultiPoint of 2 points"],
        [4, "geometry", "missing or empty geometry"],
    ]
    path = tmp_path / "multi.gpkg"
    gpd.GeoDataFrame({"technology": ["4G"] * 2}, geometry=geoms[:1] * 2, crs="EPSG:4326").to_file(path)
    assert len(read_sites(path).accepted) == 2  # a MultiPoint layer read from a file
    pois = read_pois(gpd.GeoDataFrame({"name": ["a"]}, geometry=geoms[:1], crs="EPSG:4326"), name="v")
    assert pois.features.geometry.iloc[0].geom_type == "Point"
