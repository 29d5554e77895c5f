"""Readers: normalization, refusals with row/field/reason, and file-level errors."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import telecov
from telecov.errors import InputError, TelecovWarning
from telecov.io.areas import read_areas
from telecov.io.sites import read_sites

from _worlds import Grid, write_raster

HEADER = "site_id,operator,technology,lon,lat,radius_m,azimuth,beamwidth,status\n"


def write(tmp_path, text: str, name: str = "sites.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_technology_names_are_normalized(tmp_path) -> None:
    names = ["GSM", "umts", "WCDMA", "HSPA", "LTE", "4g", "NR", "5G NR", "FTTH", "GPON", "fibre", "Fiber"]
    rows = "".join(f"{i},X,{n},105.5,18.3,,,,\n" for i, n in enumerate(names))
    table = read_sites(write(tmp_path, HEADER + rows))
    assert table.accepted["technology"].tolist() == [
        "2G", "3G", "3G", "3G", "4G", "4G", "5G", "5G", "fiber", "fiber", "fiber", "fiber",
    ]  # fmt: skip
    assert table.rejected.empty


def test_row_problems_are_refused_with_row_field_and_reason(tmp_path) -> None:
    rows = [
        "a,X,4G,105.5,18.3,,,,",  # good
        "b,X,WiMAX,105.5,18.3,,,,",  # unknown technology
        "c,X,4G,105.5,abc,,,,",  # text in lat
        "d,X,4G,105.5,95,,,,",  # lat out of range
        "e,X,4G,18.3,105.5,,,,",  # swapped row
        "f,X,4G,105.5,18.3,-5,,,",  # negative radius
        "g,X,4G,105.5,18.3,nan,,,",  # NaN radius
        "h,X,4G,105.5,18.3,1e10,,,",  # absurd radius
        "i,X,4G,105.5,18.3,,,,retired?",  # unknown status
        "j,X,5G,105.6,18.2,700,90,65,planned",  # good, planned sector
        "k,X,3G,105.5,18.3,,,,",  # good
    ]
    table = read_sites(write(tmp_path, HEADER + "\n".join(rows) + "\n"))
    assert table.read == 11
    assert len(table.accepted) + len(table.rejected) == table.read
    rej = table.rejected.set_index("site_id")
    assert rej.loc["b", "field"] == "technology" and "WiMAX" in rej.loc["b", "reason"]
    assert rej.loc["c", "field"] == "lat" and "not a number" in rej.loc["c", "reason"]
    assert rej.loc["c", "row"] == 3
    assert rej.loc["d", "field"] == "lat"
    assert "swapped" in rej.loc["e", "reason"]
    assert rej.loc["f", "field"] == "radius_m" and "not positive" in rej.loc["f", "reason"]
    assert rej.loc["g", "field"] == "radius_m"
    assert "larger" in rej.loc["h", "reason"]
    assert rej.loc["i", "field"] == "status" and "'retired?'" in rej.loc["i", "reason"]
    acc = table.accepted.set_index("site_id")
    assert acc.loc["a", "radius_m"] == 3000.0  # default 4G radius
    assert acc.loc["k", "radius_m"] == 3000.0
    assert not acc.loc["j", "counted"] and acc.loc["j", "beamwidth"] == 65.0
    assert acc.loc["a", "counted"]
    assert np.isnan(acc.loc["a", "azimuth"])


def test_radius_overrides_and_include_planned(tmp_path) -> None:
    text = HEADER + "a,X,4G,105.5,18.3,,,,\nb,X,4G,105.5,18.3,1234,,,planned\nc,X,5G,105.5,18.3,,45,,\n"
    table = read_sites(write(tmp_path, text), radius={"4G": 2500.0}, include_planned=True)
    acc = table.accepted.set_index("site_id")
    assert acc.loc["a", "radius_m"] == 2500.0
    assert acc.loc["b", "radius_m"] == 1234.0 and acc.loc["b", "counted"]
    assert acc.loc["c", "radius_m"] == 600.0 and acc.loc["c", "beamwidth"] == 120.0


def test_duplicate_sites_are_kept_with_a_warning(tmp_path) -> None:
    text = (
        HEADER
        + "a,X,4G,105.5,18.3,,,,\na,X,4G,105.6,18.3,,,,\na,X,4G,105.6,18.3,,90,,\nb,X,4G,105.5,18.3,,,,\n"
    )
    with pytest.warns(
        TelecovWarning, match=r"sites.csv: 2 rows share \(site_id, technology, azimuth\).*site a; kept"
    ):
        table = read_sites(write(tmp_path, text))
    assert table.accepted["site_id"].tolist() == ["a", "a", "a", "b"] and table.rejected.empty
    no_ids = "technology,lon,lat\n4G,105.5,18.3\n4G,105.5,18.3\n"  # rows numbered: no site ids to repeat
    assert len(read_sites(write(tmp_path, no_ids, "no_ids.csv")).accepted) == 2


@pytest.mark.parametrize(("lon", "lat"), [("longitude", "latitude"), ("lng", "lat"), ("Lon", "LAT")])
def test_coordinate_column_aliases(tmp_path, lon: str, lat: str) -> None:
    text = f"technology,{lon},{lat}\n4G,105.5,18.3\n"
    table = read_sites(write(tmp_path, text))
    assert table.accepted.geometry.x.iloc[0] == 105.5


def test_xy_columns_need_sites_crs_and_are_projected(tmp_path) -> None:
    path = write(tmp_path, "technology,x,y\n4G,552000,2024000\n")
    with pytest.raises(InputError, match="`sites_crs`"):
        read_sites(path)
    table = read_sites(path, crs="EPSG:32648")
    assert table.accepted.geometry.x.iloc[0] == pytest.approx(105.49, abs=0.01)
    assert table.accepted.geometry.y.iloc[0] == pytest.approx(18.30, abs=0.01)


def test_file_level_problems(tmp_path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_sites(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="empty"):
        read_sites(write(tmp_path, "", "empty.csv"))
    with pytest.raises(InputError, match="header only"):
        read_sites(write(tmp_path, HEADER, "header.csv"))
    with pytest.raises(InputError, match="technology"):
        read_sites(write(tmp_path, "lon,lat\n105,18\n", "notech.csv"))
    with pytest.raises(InputError, match="coordinate"):
        read_sites(write(tmp_path, "technology,a,b\n4G,1,2\n", "nocoord.csv"))


def test_decimal_commas_and_encodings(tmp_path) -> None:
    text = "technology;lon;lat;operator\n4G;105,5;18,3;Việt\n"
    path = write(tmp_path, text, "comma.csv")
    with pytest.raises(InputError, match="`decimal`"):
        read_sites(path)
    assert read_sites(path, decimal=",").accepted.geometry.x.iloc[0] == 105.5
    # CP1258 writes "ệ" as "ê" followed by a combining dot below
    text = "technology,lon,lat,operator\n4G,105.5,18.3,Vi\u00ea\u0323t Nam\n"
    latin = write(tmp_path, text, "cp.csv", "cp1258")
    with pytest.raises(InputError, match=r"line 2 .*`encoding`"):
        read_sites(latin)
    assert read_sites(latin, encoding="cp1258").accepted["operator"].iloc[0] == "Việt Nam"
    bom = write(tmp_path, "\ufefftechnology,lon,lat\n4G,105.5,18.3\n", "bom.csv")
    assert len(read_sites(bom).accepted) == 1


def _areas(tmp_path, frame: gpd.GeoDataFrame, name: str = "areas.gpkg"):
    path = tmp_path / name
    frame.to_file(path)
    return path


def test_area_fields_detected_ids_kept_as_text(tmp_path) -> None:
    frame = gpd.GeoDataFrame(
        {"ma_xa": ["00123", "00456"], "ten_xa": ["Xã Một", "Phường Hai"], "tinh": ["A", "B"]},
        geometry=[shapely.box(105, 18, 105.1, 18.1), shapely.box(105.1, 18, 105.2, 18.1)],
        crs="EPSG:4326",
    )
    table = read_areas(_areas(tmp_path, frame), parent="tinh")
    assert table.id_field == "ma_xa" and table.name_field == "ten_xa"
    assert table.accepted["area_id"].tolist() == ["00123", "00456"]
    assert table.accepted["parent"].tolist() == ["A", "B"]
    sub = read_areas(_areas(tmp_path, frame, "b.gpkg"), select="tinh=B")
    assert sub.accepted["area_name"].tolist() == ["Phường Hai"]
    with pytest.raises(InputError, match="matches no area"):
        read_areas(_areas(tmp_path, frame, "c.gpkg"), select="tinh=Z")
    with pytest.raises(InputError, match="not found"):
        read_areas(_areas(tmp_path, frame, "d.gpkg"), area_id="nope")


def test_area_geometry_repaired_or_refused(tmp_path) -> None:
    bowtie = shapely.Polygon([(105, 18), (105.1, 18.1), (105.1, 18), (105, 18.1)])
    more = [shapely.box(106 + i / 10, 18, 106.05 + i / 10, 18.1) for i in range(7)]  # 10 % or less repeat
    frame = gpd.GeoDataFrame(
        {"id": ["1", "2", "3", "3", *"abcdefg"], "name": ["ok", "bowtie", "point", "dup", *"abcdefg"]},
        geometry=[
            shapely.box(105, 18, 105.1, 18.1),
            bowtie,
            shapely.Point(105, 18),
            shapely.box(105.2, 18, 105.3, 18.1),
            *more,
        ],
        crs="EPSG:4326",
    )
    with pytest.warns(TelecovWarning, match="repaired 1 invalid geometries"):
        table = read_areas(frame)
    assert table.repaired == 1
    assert table.accepted["area_id"].tolist() == ["1", "2", *"abcdefg"]
    assert table.accepted.geometry.is_valid.all()
    assert table.rejected["row"].tolist() == [3, 4]
    assert "polygon" in table.rejected["reason"].iloc[0]
    assert "duplicate" in table.rejected["reason"].iloc[1]
    assert len(table.accepted) + len(table.rejected) == table.read


def test_areas_without_crs_need_areas_crs(tmp_path) -> None:
    frame = gpd.GeoDataFrame({"id": ["1"]}, geometry=[shapely.box(552000, 2024000, 553000, 2025000)])
    with pytest.raises(InputError, match="`areas_crs`"):
        read_areas(frame)
    table = read_areas(frame, crs="EPSG:32648")
    assert table.accepted.crs.to_epsg() == 4326
    assert table.accepted.geometry.iloc[0].bounds[0] == pytest.approx(105.49, abs=0.01)


def _tiny_world(tmp_path):
    grid = Grid(west=105.0, north=18.5, ncols=24, nrows=24, res=1 / 120)
    raster = write_raster(tmp_path / "pop.tif", grid, np.full((24, 24), 100.0))
    frame = gpd.GeoDataFrame(
        {"id": ["1"], "name": ["A"]}, geometry=[shapely.box(105.02, 18.32, 105.18, 18.48)], crs="EPSG:4326"
    )
    return raster, _areas(tmp_path, frame)


def test_all_sites_swapped_is_a_file_error(tmp_path) -> None:
    raster, areas = _tiny_world(tmp_path)
    rows = "".join(f"{i},X,4G,{18.35 + i * 0.01},{105.05 + i * 0.01},,,,\n" for i in range(5))
    with pytest.raises(InputError, match="swapped"):
        telecov.analyze(write(tmp_path, HEADER + rows), areas, raster)


def test_raster_not_overlapping_is_a_file_error(tmp_path) -> None:
    grid = Grid(west=100.0, north=10.0, ncols=10, nrows=10, res=1 / 120)
    raster = write_raster(tmp_path / "far.tif", grid, np.ones((10, 10)))
    _, areas = _tiny_world(tmp_path)
    with pytest.raises(InputError, match="does not overlap"):
        telecov.analyze(write(tmp_path, HEADER + "a,X,4G,105.1,18.4,,,,\n"), areas, raster)


def test_strict_raises_with_rejects(tmp_path) -> None:
    raster, areas = _tiny_world(tmp_path)
    sites = write(tmp_path, HEADER + "a,X,4G,105.1,18.4,,,,\nb,X,6G,105.1,18.4,,,,\n")
    with pytest.raises(telecov.StrictError) as info:
        telecov.analyze(sites, areas, raster, strict=True)
    assert len(info.value.rejected["sites"]) == 1
    result = telecov.analyze(sites, areas, raster)
    assert result.run.counts["sites"] == {"read": 2, "used": 1, "refused": 1, "counted": 1}


def test_in_memory_inputs(tmp_path) -> None:
    import rasterio

    raster, areas = _tiny_world(tmp_path)
    sites = pd.DataFrame({"technology": ["LTE"], "lon": [105.1], "lat": [18.4]})
    with rasterio.open(raster) as ds:
        result = telecov.analyze(sites, gpd.read_file(areas), ds)
    row = result.table.query("level == 'area' and technology == '4G'").iloc[0]
    assert 0 < row["population_pct"] <= 100
    assert row["covered_km2"] == pytest.approx(np.pi * 9, rel=0.01)  # a 3 km disc inside
