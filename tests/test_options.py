"""Report options on a small world with known answers: official counts, operators, combined layers."""

from __future__ import annotations

import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import telecov

from _cli import main_in_process
from _worlds import Grid, write_raster

HEADER = "site_id,operator,technology,lon,lat,radius_m,azimuth,beamwidth,status\n"


@pytest.fixture
def world(tmp_path):
    grid = Grid(west=105.0, north=18.5, ncols=36, nrows=36, res=1 / 120)
    raster = write_raster(tmp_path / "pop.tif", grid, np.full((36, 36), 80.0))
    areas = gpd.GeoDataFrame(
        {
            "code": ["001", "002", "003"],
            "name": ["Xã A", "Xã B", "Xã C"],
            "prov": ["P1", "P1", "P2"],
            "official": [50_000, 20_000, 0],
        },
        geometry=[
            shapely.box(105.02, 18.30, 105.12, 18.45),
            shapely.box(105.12, 18.30, 105.22, 18.45),
            shapely.box(105.22, 18.30, 105.28, 18.45),
        ],
        crs="EPSG:4326",
    )
    areas_path = tmp_path / "areas.gpkg"
    areas.to_file(areas_path)
    sites = tmp_path / "sites.csv"
    sites.write_text(
        HEADER
        + "a,Viettel,4G,105.07,18.37,2000,,,\n"
        + "b,VNPT,4G,105.17,18.37,2000,,,\n"
        + "c,VNPT,5G,105.07,18.37,500,,,\n"
        + "d,Viettel,2G,105.25,18.40,1000,,,\n",
        encoding="utf-8",
    )
    return {"sites": sites, "areas": areas_path, "population": raster}


def _row(table: pd.DataFrame, area_id: str, tech: str, operator: str | None = None) -> pd.Series:
    sel = (table["area_id"] == area_id) & (table["technology"] == tech)
    if operator is not None:
        sel &= table["operator"] == operator
    return table[sel].iloc[0]


def test_population_field_rescales_counts_not_shares(world) -> None:
    plain = telecov.analyze(**world, area_id="code", area_name="name", parent="prov")
    official = telecov.analyze(
        **world, area_id="code", area_name="name", parent="prov", population_field="official"
    )
    for tech in ("4G", "5G"):
        a, b = _row(plain.table, "001", tech), _row(official.table, "001", tech)
        assert b["population"] == pytest.approx(50_000)
        assert b["population_pct"] == pytest.approx(a["population_pct"], abs=1e-9)
        assert b["covered_population"] == pytest.approx(50_000 * a["population_pct"] / 100, rel=1e-9)
    p1 = _row(official.table, "P1", "4G")
    assert p1["population"] == pytest.approx(70_000)
    total = _row(official.table, "ALL", "4G")
    assert total["population"] == pytest.approx(70_000)  # commune 003 has an official count of 0


def test_by_operator_rows_and_union(world) -> None:
    result = telecov.analyze(**world, area_id="code", by_operator=True)
    table = result.table
    assert "operator" in table.columns
    assert set(table["operator"]) == {"all", "VNPT", "Viettel"}
    # 4G in area 001: only Viettel's site a reaches it (b's disc ends at the shared border)
    viettel = _row(table, "001", "4G", "Viettel")
    vnpt = _row(table, "001", "4G", "VNPT")
    union = _row(table, "001", "4G", "all")
    assert union["covered_km2"] == pytest.approx(
        viettel["covered_km2"] + vnpt["covered_km2"], rel=1e-9
    )  # disjoint discs
    assert _row(table, "003", "5G", "VNPT")["covered_km2"] == 0.0
    assert (table.groupby(["level", "area_id", "technology"]).size() == 3).all()


def test_combined_layers(world) -> None:
    result = telecov.analyze(**world, area_id="code", combined=True)
    t = result.table
    assert {"any_mobile", "4G+"} <= set(t["technology"])
    for area in ("001", "002", "003"):
        four, five = _row(t, area, "4G"), _row(t, area, "5G")
        plus = _row(t, area, "4G+")
        assert plus["covered_km2"] >= max(four["covered_km2"], five["covered_km2"]) - 1e-9
        assert plus["covered_km2"] <= four["covered_km2"] + five["covered_km2"] + 1e-9
    # 5G disc (500 m) lies inside the 4G disc (2 km) at the same centre
    assert _row(t, "001", "4G+")["covered_km2"] == pytest.approx(
        _row(t, "001", "4G")["covered_km2"], rel=1e-6
    )
    anym = _row(t, "003", "any_mobile")
    assert anym["covered_km2"] == pytest.approx(_row(t, "003", "2G")["covered_km2"], rel=1e-9)


def test_areas_partly_outside_the_raster_warn_and_keep_empty_shares(
    world, tmp_path, monkeypatch, capsys
) -> None:
    """Through the CLI, which shows the data warning on stderr (as one line) and goes on."""
    far = gpd.GeoDataFrame(
        {"code": ["001", "999"], "name": ["in", "out"]},
        geometry=[shapely.box(105.02, 18.30, 105.12, 18.45), shapely.box(105.5, 18.30, 105.6, 18.45)],
        crs="EPSG:4326",
    )
    path = tmp_path / "far.gpkg"
    far.to_file(path)
    args = ["report", "--sites", str(world["sites"]), "--areas", str(path), "--population",
            str(world["population"]), "--area-id", "code", "--no-map", "--format", "csv"]  # fmt: skip
    code, out, err = main_in_process(monkeypatch, capsys, tmp_path, *args)
    assert code == 0, err
    assert "outside the population raster" in " ".join(err.split()) and "Traceback" not in err
    table = pd.read_csv(io.StringIO(out), dtype={"area_id": str})
    row = _row(table, "999", "4G")
    assert row["population"] == 0 and np.isnan(row["population_pct"])
    assert row["area_km2"] > 100 and row["area_pct"] == 0.0
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, "-q", *args)
    assert code == 0 and "outside the population raster" not in " ".join(err.split())


# --------------------------------------------------------------------------- mistakes: exit 2, never 70

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
BASE = {"sites": CORPUS / "base_sites.csv", "areas": CORPUS / "base_areas.geojson",
        "population": CORPUS / "base_population.tif"}  # fmt: skip


@pytest.mark.parametrize(
    ("options", "message"),
    [({"sites_crs": "UTM48"}, "`sites_crs` 'UTM48': not a CRS"),
     ({"areas_crs": "EPSG:99999"}, "`areas_crs` 'EPSG:99999': not a CRS"),
     ({"resolution_m": float("nan")}, "`resolution_m` nan: must be a positive number"),
     ({"resolution_m": 0.0}, "`resolution_m` 0.0: must be a positive number"),
     ({"residential_density": float("nan")}, "`residential_density` nan"),
     ({"residential_density": -1.0}, "`residential_density` -1.0"),
     ({"decimal": ""}, "`decimal` '': the decimal separator must be '.' or ','"),
     ({"decimal": ";"}, "`decimal` ';'"),
     ({"radius": {"4G": 1e9}}, "`radius` 4G=1000000000.0: radius 1e+09 m is larger than 100000 m")],
)  # fmt: skip
def test_option_values_no_run_can_use_are_input_errors(options: dict[str, object], message: str) -> None:
    with pytest.raises(telecov.InputError) as info:
        telecov.analyze(**BASE, **options)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_one_radius_limit_for_the_option_and_the_rows(tmp_path) -> None:
    from telecov.vocabulary import MAX_RADIUS_M

    assert telecov.analyze(**BASE, radius={"2G": MAX_RADIUS_M}).run.radii_m["2G"] == MAX_RADIUS_M
    with pytest.raises(telecov.InputError, match=f"larger than {MAX_RADIUS_M:g} m"):
        telecov.analyze(**BASE, radius={"2G": MAX_RADIUS_M + 1})
    sites = tmp_path / "sites.csv"
    sites.write_text(
        HEADER + f"a,X,4G,105.06,18.36,{MAX_RADIUS_M:g},,,\nb,X,4G,105.06,18.36,{MAX_RADIUS_M + 1:g},,,\n",
        encoding="utf-8",
    )
    result = telecov.analyze(sites, BASE["areas"], BASE["population"])
    assert result.rejected["sites"]["reason"].tolist() == [f"radius {MAX_RADIUS_M + 1:g} m is larger than "
                                                           f"{MAX_RADIUS_M:g} m"]  # fmt: skip


def test_select_matches_decomposed_text_and_counts_what_it_leaves_out() -> None:
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Xã Kỳ Anh")
    assert nfd != "Xã Kỳ Anh"
    result = telecov.analyze(**BASE, select=f"ten_xa={nfd}")
    assert result.areas["area_name"].tolist() == ["Xã Kỳ Anh"]
    assert result.run.counts["areas"] == {
        "read": 4,
        "used": 1,
        "refused": 0,
        "repaired": 0,
        "selected_out": 3,
    }


def test_map_tiles_from_a_url_need_an_attribution(tmp_path, monkeypatch, capsys) -> None:
    url = "https://tiles.example.org/{z}/{x}/{y}.png"
    base = ["map", "--sites", str(BASE["sites"]), "--areas", str(BASE["areas"]), "--population",
            str(BASE["population"]), "--out", "m", "--tiles", url]  # fmt: skip
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, *base)
    assert code == 2 and "--attribution" in err and "Traceback" not in err
    assert not (tmp_path / "m").exists()  # refused before any work
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, *base, "--attribution", "© Example Maps")
    assert code == 0, err
    html = (tmp_path / "m" / "coverage.html").read_text(encoding="utf-8")
    assert "tiles.example.org" in html and '"attribution": "\\u00a9 Example Maps"' in html
