"""The maps draw the footprints that were measured: radio lobes and terrain shadows with holes.

Two sites on the sample province over a hand-made DEM (flat ground at 5 m with one 300 m ×
300 m block 20 m high, 450–750 m east of the second site): a radio sector without beamwidth
(a 65° lobe, not a wedge) and a fixed 3 km disc with a 30 m antenna, whose line of sight the
block cuts from ~750 m to ~2.1 km behind it (the ray from 30 m to 1.5 m clears 25 m again at
750 × 28.5 / 10 m): a shadow hole. The HTML map's footprint outlines must equal the measured
polygons (:meth:`telecov.Result.footprints`) within the display simplification.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

import telecov
from telecov.maps.html import coverage_map
from telecov.maps.png import coverage_png
from telecov.maps.shapes import FOOTPRINT_TOLERANCE_DEG, site_shapes, technology_footprints

GEOD = pyproj.Geod(ellps="WGS84")
LOBE = (105.95, 18.30)
HILL = (105.93, 18.20)
AREA_TOLERANCE = 0.005
"""Relative area difference allowed between the drawn and the measured outline (simplified by
FOOTPRINT_TOLERANCE_DEG, 1e-5° ≈ 1 m, and rounded to 1e-5°)."""


def _area(geom: shapely.Geometry) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def _dem(path: Path) -> Path:
    """Flat 5 m ground at 3″ around both sites with one 20 m block east of the disc site."""
    res = 1 / 1200
    west, north = 105.85, 18.40
    width, height = round(0.2 / res), round(0.3 / res)
    z = np.full((height, width), 5, dtype=np.int16)
    metre_lon = 1 / (111_320 * np.cos(np.radians(HILL[1])))
    lon = west + (np.arange(width) + 0.5) * res
    lat = north - (np.arange(height) + 0.5) * res
    east = (lon - HILL[0]) / metre_lon
    north_m = (lat - HILL[1]) * 110_600
    block = (np.abs(north_m)[:, None] <= 150) & ((east >= 450) & (east <= 750))[None, :]
    z[block] = 25
    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "int16",
               "crs": "EPSG:4326", "transform": from_origin(west, north, res, res),
               "nodata": -32768}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(z, 1)
    return path


@pytest.fixture(scope="module")
def shaped(tmp_path_factory: pytest.TempPathFactory) -> telecov.Result:
    folder = tmp_path_factory.mktemp("shaped")
    sites = folder / "sites.csv"
    sites.write_text(
        "site_id,technology,lon,lat,radius_m,azimuth,height_m,band,eirp_dbm,environment\n"
        f"LOBE,4G,{LOBE[0]},{LOBE[1]},,90,35,B3,62,suburban\n"
        f"HILL,4G,{HILL[0]},{HILL[1]},3000,,30,,,\n",
        encoding="utf-8",
    )
    return telecov.analyze(
        sites=sites, areas=telecov.sample_path("communes.gpkg"),
        population=telecov.sample_path("population.tif"),
        area_id="commune_code", area_name="commune_name", dem=_dem(folder / "dem.tif"),
    )  # fmt: skip


def _drawn(html: str) -> dict[int, shapely.Geometry]:
    """The footprint outlines of the page: row position in its sites layer → (multi)polygon."""
    blocks = re.findall(r'<script type="application/json" id="([^"]+_shapes)">(.*?)</script>', html, re.S)
    out = {}
    for _, text in blocks:
        data = json.loads(text)
        for position, polygons in data["shapes"]:
            parts = []
            for rings in polygons:
                coords = [np.cumsum(np.asarray(r, dtype=np.int64).reshape(-1, 2), axis=0) / data["scale"]
                          for r in rings]  # fmt: skip
                parts.append(shapely.Polygon(coords[0], coords[1:]))
            out[position] = shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0]
    return out


def test_the_map_draws_the_measured_outlines(shaped: telecov.Result) -> None:
    measured = shaped.footprints("4G").set_index("site_id").geometry
    html = coverage_map(shaped).get_root().render()
    drawn = _drawn(html)
    rows = json.loads(re.search(r'id="(telecov_layer_[0-9]+)_data">(.*?)</script>', html, re.S).group(2))
    ids = {k: rows[k][2] for k in drawn}
    assert sorted(ids.values()) == ["HILL", "LOBE"]  # both sites drawn as their measured polygons
    for k, geom in drawn.items():
        exact = measured[ids[k]]
        assert geom.is_valid
        assert abs(_area(geom) - _area(exact)) <= AREA_TOLERANCE * _area(exact), ids[k]
        assert _area(geom.symmetric_difference(exact)) <= 2 * AREA_TOLERANCE * _area(exact), ids[k]
        holes = sum(len(p.interiors) for p in shapely.get_parts(geom))
        assert holes == sum(len(p.interiors) for p in shapely.get_parts(exact)), ids[k]


def test_a_shadow_hole_survives_into_the_map(shaped: telecov.Result) -> None:
    measured = shaped.footprints("4G").set_index("site_id").geometry["HILL"]
    assert measured.geom_type == "Polygon" and len(measured.interiors) >= 1
    hole = shapely.Polygon(max(measured.interiors, key=lambda r: shapely.Polygon(r).area))
    metre_lon = 1 / (111_320 * np.cos(np.radians(HILL[1])))
    behind = shapely.Point(HILL[0] + 1400 * metre_lon, HILL[1])  # in the block's shadow
    in_front = shapely.Point(HILL[0] + 300 * metre_lon, HILL[1])
    beside = shapely.Point(HILL[0], HILL[1] + 1400 / 110_600)
    assert hole.contains(behind) and measured.contains(in_front) and measured.contains(beside)
    drawn = [g for g in _drawn(coverage_map(shaped).get_root().render()).values() if g.contains(beside)]
    assert len(drawn) == 1 and not drawn[0].contains(behind) and drawn[0].contains(in_front)
    exteriors_cw = [not shapely.LinearRing(p.exterior).is_ccw for p in shapely.get_parts(drawn[0])]
    holes_ccw = [shapely.LinearRing(r).is_ccw for p in shapely.get_parts(drawn[0]) for r in p.interiors]
    assert all(exteriors_cw) and holes_ccw and all(holes_ccw)  # the page's nonzero fill keeps holes open


def test_a_radio_sector_without_beamwidth_is_a_65_degree_lobe_not_a_wedge(shaped: telecov.Result) -> None:
    row = shaped.sites.set_index("site_id").loc["LOBE"]
    radius = float(row["radius_m"])
    lobe = shaped.footprints("4G").set_index("site_id").geometry["LOBE"]
    drawn = [g for g in _drawn(coverage_map(shaped).get_root().render()).values()
             if g.contains(shapely.Point(LOBE[0] + 0.001, LOBE[1]))]  # fmt: skip
    assert len(drawn) == 1
    wedge_120 = np.pi * radius**2 * 120 / 360
    wedge_65 = np.pi * radius**2 * 65 / 360
    area = _area(drawn[0])
    assert abs(area - _area(lobe)) <= AREA_TOLERANCE * _area(lobe)
    assert area < 0.8 * wedge_120 and abs(area - wedge_65) > 0.1 * wedge_65
    west = shapely.Point(LOBE[0] - 0.5 * radius / 105_000, LOBE[1])  # behind the antenna
    assert not drawn[0].contains(west)


def test_outlines_fit_the_byte_budget_by_coarser_simplification(shaped: telecov.Result) -> None:
    from telecov.maps.shapes import fit_outlines

    shapes = site_shapes(shaped)
    assert shapes is not None and len(shapes) == 2
    fine = fit_outlines(shapes, max_bytes=1e9)
    assert fine is not None and fine.tolerance == FOOTPRINT_TOLERANCE_DEG
    tight = fit_outlines(shapes, max_bytes=fine.nbytes / 3)
    assert tight is not None and tight.tolerance > fine.tolerance and tight.nbytes < fine.nbytes


def test_the_png_draws_the_measured_footprints(shaped: telecov.Result, tmp_path: Path) -> None:
    drawn = technology_footprints(shaped, "4G")
    assert drawn is not None and technology_footprints(shaped, "4G", max_sites=1) is None
    measured = shaped.footprints("4G")
    same = [g.equals_exact(m, 0) for g, m in zip(drawn.geometry, measured.geometry, strict=True)]
    assert same == [True, True]
    path = coverage_png(shaped, tmp_path / "shaped.png", technology="4G")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_results_whose_shapes_do_not_match_their_sites_are_refused(shaped: telecov.Result) -> None:
    from dataclasses import replace

    with pytest.raises(ValueError, match="2 footprint shapes for 1 sites"):
        coverage_map(replace(shaped, sites=shaped.sites.iloc[:1]))
