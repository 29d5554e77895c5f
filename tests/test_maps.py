"""Maps without a browser: classes, text, escaping, offline HTML, geometry, sizes, files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import telecov
from telecov.errors import InputError
from telecov.maps.formatting import format_count, format_km2, format_pct
from telecov.maps.geometry import encode_polygons, simplify_areas
from telecov.maps.html import coverage_map, save_map
from telecov.maps.png import coverage_png
from telecov.maps.styles import CLASS_COLORS, coverage_classes
from telecov.vocabulary import BASE_TECHNOLOGIES

INJECTED = "<img src=x onerror=alert(1)>"
SCRIPT_CLOSE = "</script><script>window.__xss = 2</script>"


@dataclass
class StandIn:
    """What a map needs of :class:`telecov.Result`, for hand-made names and values."""

    areas: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    table: pd.DataFrame = field(default_factory=pd.DataFrame)


def stand_in(names: list[str] | None = None, *, pct: float = 95.0) -> StandIn:
    """A 2 x 2 grid of communes near 18°N with every metric column; area 3 has no people."""
    names = names or ["Xã Cẩm Đông", "Phường Nam Hồng", "Xã Gia Phúc", "Xã Hồng Tiến"]
    cells = [shapely.box(105.5 + 0.1 * (i % 2), 18.0 + 0.1 * (i // 2), 105.6 + 0.1 * (i % 2),
                         18.1 + 0.1 * (i // 2)) for i in range(4)]  # fmt: skip
    data: dict[str, object] = {
        "area_id": ["00101", "00104", "00107", f'"><b>{INJECTED}'],
        "area_name": names,
        "parent": ["Tỉnh Mẫu", "Tỉnh Mẫu", SCRIPT_CLOSE, "Tỉnh Mẫu"],
    }
    for k, tech in enumerate(BASE_TECHNOLOGIES):
        population = np.array([12_345.4, 23_456.0, 34_567.0, 0.0])
        share = np.array([pct, 49.99, 99.0, np.nan]) - k
        covered = population * np.nan_to_num(share) / 100
        data |= {
            f"{tech}_population": population,
            f"{tech}_covered_population": covered,
            f"{tech}_population_pct": share,
            f"{tech}_area_km2": np.full(4, 110.0),
            f"{tech}_covered_km2": np.full(4, 55.0),
            f"{tech}_area_pct": np.full(4, 50.0),
            f"{tech}_residential_km2": np.array([10.0, 0.0, 5.0, 1.0]),
            f"{tech}_covered_residential_km2": np.array([9.95, 0.0, 5.0, 0.0]),
            f"{tech}_residential_pct": np.array([99.5, np.nan, 100.0, 0.0]),
            f"{tech}_residential_population": population,
            f"{tech}_covered_residential_population": covered,
        }
    areas = gpd.GeoDataFrame(data, geometry=cells, crs="EPSG:4326")
    sites = gpd.GeoDataFrame(
        {
            "site_id": ["S1", INJECTED, "S3", "S4"],
            "technology": ["4G", "4G", "5G", "fiber"],
            "operator": ["Viettel", f"<b onmouseover=alert(7)>{INJECTED}</b>", "VNPT", "FPT"],
            "radius_m": [3000.0, 3000.0, 600.0, 1000.0],
            "azimuth": [np.nan, 30.0, np.nan, np.nan],
            "beamwidth": [np.nan, 120.0, np.nan, np.nan],
            "status": ["existing", "planned", "existing", "existing"],
            "counted": [True, False, True, True],
        },
        geometry=gpd.points_from_xy([105.55, 105.65, 105.56, 105.66], [18.05, 18.05, 18.15, 18.15]),
        crs="EPSG:4326",
    )
    table = pd.DataFrame(
        {
            "level": "total", "area_id": "ALL", "area_name": "All areas", "parent": "",
            "technology": list(BASE_TECHNOLOGIES), "operator": "all",
            "population": 70_368.4, "covered_population": 60_000.0, "population_pct": 85.27,
            "area_km2": 440.0, "covered_km2": 220.0, "area_pct": 50.0,
            "residential_km2": 16.0, "covered_residential_km2": 14.95, "residential_pct": 93.4,
        }
    )  # fmt: skip
    return StandIn(areas=areas, sites=sites, table=table)


def render(fmap) -> str:
    return fmap.get_root().render()


def json_blocks(html: str) -> dict[str, object]:
    blocks = re.findall(r'<script type="application/json" id="([^"]+)">(.*?)</script>', html, re.S)
    return {key: json.loads(text) for key, text in blocks}


@pytest.fixture(scope="module")
def sample() -> telecov.Result:
    return telecov.analyze()


@pytest.fixture(scope="module")
def sample_html(sample) -> str:
    return render(coverage_map(sample))


# --------------------------------------------------------------------------- classes and text


@pytest.mark.parametrize(
    ("pct", "expected"),
    [(0.0, 0), (49.99, 0), (50.0, 1), (89.999, 1), (90.0, 2), (98.999, 2), (99.0, 3), (100.0, 3),
     (np.nan, -1)],
)  # fmt: skip
def test_classes_follow_the_targets(pct: float, expected: int) -> None:
    assert coverage_classes([pct]).tolist() == [expected]


def test_numbers_are_formatted_for_reading() -> None:
    assert format_count(1234567.4) == "1,234,567"
    assert format_count(np.nan) == "–"
    # rounded down: 98.96 % must not read as the 99 % target it misses
    assert format_pct(98.96) == "98.9 %"
    assert format_pct(99.0) == "99.0 %"
    assert format_pct(100.0) == "100.0 %"
    assert format_pct(np.nan) == "no data"
    assert format_km2(0.456) == "0.46 km²"
    assert format_km2(1234.56) == "1,234.6 km²"


# --------------------------------------------------------------------------- offline, escaped HTML


def test_map_is_self_contained_and_offline(sample_html: str) -> None:
    html = sample_html
    assert not re.search(r"<script[^>]*\bsrc=", html), "external script"
    assert not re.search(r"<link[^>]*\bhref=", html), "external stylesheet"
    assert not re.search(r"url\((?!['\"]?data:)", html.replace("url(#default#VML)", "")), "CSS fetch"
    for leftover in ("cdn.jsdelivr", "cdnjs", "code.jquery", "bootstrap", "awesome-markers",
                     "sourceMappingURL", "openstreetmap"):  # fmt: skip
        assert leftover not in html, leftover
    assert "Leaflet 1.9.4" in html
    assert "BSD 2-Clause License" in html  # licences travel with the inlined code
    assert "Copyright 2012 David Leaver" in html
    assert "charset=UTF-8" in html


def test_page_code_comes_from_the_static_files(sample_html: str) -> None:
    static = resources.files("telecov.maps").joinpath("static")
    js = static.joinpath("telecov-map.js").read_text(encoding="utf-8")
    css = static.joinpath("telecov-map.css").read_text(encoding="utf-8")
    assert "window.telecov" in js and ".tc-legend" in css
    assert f"<style>\n{css}</style>\n<script>\n{js}</script>" in sample_html


def test_html_maps_do_not_import_matplotlib(tmp_path) -> None:
    code = "import sys, telecov.maps, telecov.maps.html; assert 'matplotlib' not in sys.modules"
    # not from the checkout: `python -c` puts the folder first on sys.path, where the source
    # folder `coverage/` would shadow coverage.py for numba's optional coverage support
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)
    assert telecov.maps.coverage_png is coverage_png


def test_tiles_are_optional(sample) -> None:
    html = render(coverage_map(sample, tiles="OpenStreetMap"))
    assert "tile.openstreetmap.org" in html
    assert "Basemap: OpenStreetMap" in html


def test_every_name_is_escaped() -> None:
    names = [INJECTED, 'Xã "Hồng" & <b>Lĩnh</b>', "Phường Nam Hồng", SCRIPT_CLOSE]
    html = render(coverage_map(stand_in(names), title=INJECTED))
    assert INJECTED not in html
    assert "onerror=alert(1)>" not in html
    assert "<b>Lĩnh</b>" not in html
    assert "window.__xss = 2</script>" not in html
    # every <script> opened is closed exactly once: no data closes a block early
    assert html.count("<script") == html.count("</script>")
    blocks = json_blocks(html)
    communes = next(v for k, v in blocks.items() if k.startswith("telecov_communes"))
    props = [f["p"] for f in communes["features"]]
    assert props[0]["n"] == "&lt;img src=x onerror=alert(1)&gt;"
    assert props[1]["n"] == "Xã &quot;Hồng&quot; &amp; &lt;b&gt;Lĩnh&lt;/b&gt;"
    assert props[2]["p"].startswith("&lt;/script&gt;")
    assert props[3]["id"].startswith("&quot;&gt;&lt;b&gt;")
    sites = [v for k, v in blocks.items() if k.startswith("telecov_layer")]
    assert [row[2] for row in sites[0]] == ["S1", "&lt;img src=x onerror=alert(1)&gt;"]


def test_tooltip_fields(sample, sample_html: str) -> None:
    blocks = json_blocks(sample_html)
    communes = next(v for k, v in blocks.items() if k.startswith("telecov_communes"))
    assert len(communes["features"]) == len(sample.areas)
    first = communes["features"][0]["p"]
    row = sample.areas.iloc[0]
    assert first["n"] == row["area_name"] and first["p"] == row["parent"]
    assert first["v"] == f"{round(row['4G_population']):,}"
    techs = list(BASE_TECHNOLOGIES)
    cls, pct, uncovered = first["m"][techs.index("4G")]
    assert cls == coverage_classes([row["4G_population_pct"]])[0]
    assert pct == format_pct(row["4G_population_pct"])
    assert uncovered == format_count(row["4G_population"] - row["4G_covered_population"])


def test_no_data_and_metrics() -> None:
    result = stand_in()
    html = render(coverage_map(result, metric="residential", technology="LTE"))
    communes = next(v for k, v in json_blocks(html).items() if k.startswith("telecov_communes"))
    cells = [f["p"]["m"][2] for f in communes["features"]]  # 4G
    assert [c[0] for c in cells] == [3, -1, 3, 0]
    assert cells[1][1] == "no data"
    assert cells[0][3] == "0.05 km²"  # uncovered residential area
    assert "no residential area" in html
    area_html = render(coverage_map(result, metric="area", technology="5G"))
    assert "of the area covered" in area_html


def test_bad_options_are_refused() -> None:
    result = stand_in()
    with pytest.raises(InputError, match="technology"):
        coverage_map(result, technology="6G")
    with pytest.raises(InputError, match="metric"):
        coverage_map(result, metric="households")
    with pytest.raises(InputError, match="technology"):
        coverage_png(result, "unused.png", technology="4G+")  # combined layers not computed


def test_layers_in_the_control(sample, sample_html: str) -> None:
    control = re.search(r"base_layers : \{(.*?)\},\s*overlays :\s*\{(.*?)\},", sample_html, re.S)
    assert control
    base, overlays = control.group(1), control.group(2)
    assert base.count("coverage") == len(BASE_TECHNOLOGIES)
    counts = sample.sites["technology"].value_counts()
    for tech in BASE_TECHNOLOGIES:
        assert f"{tech} sites ({counts[tech]:,})" in overlays
        assert f"{tech} footprints" in overlays
    no_fp = render(coverage_map(sample, footprints=False))
    assert "footprints (" not in no_fp


def test_gaps_and_pois_layers() -> None:
    result = stand_in()
    gaps = gpd.GeoDataFrame(
        {"area_name": [INJECTED], "population": [1234.0]},
        geometry=[shapely.box(105.52, 18.02, 105.54, 18.04)], crs="EPSG:4326",
    )  # fmt: skip
    pois = gpd.GeoDataFrame(
        {"name": ["Trường <THCS>", "Trạm y tế"], "5G_covered": [False, False], "4G_covered": [True, False]},
        geometry=gpd.points_from_xy([105.55, 105.65], [18.05, 18.15]), crs="EPSG:4326",
    ).to_crs(3857)  # fmt: skip
    html = render(coverage_map(result, gaps=gaps, pois=pois))
    assert "Coverage gaps (1)" in html and "Points of interest (2)" in html
    assert INJECTED not in html and "<THCS>" not in html
    geo = [v for k, v in json_blocks(html).items() if isinstance(v, dict) and "type" in v]
    gap, poi = geo
    assert "&lt;img src=x" in gap["features"][0]["properties"]["t"]
    assert "1,234" in gap["features"][0]["properties"]["t"]
    x, y = poi["features"][0]["geometry"]["coordinates"]
    assert (x, y) == pytest.approx((105.55, 18.05))  # reprojected to lon/lat
    assert poi["features"][0]["properties"]["s"]["fillColor"] == CLASS_COLORS[-1]
    tip = poi["features"][0]["properties"]["t"]
    assert tip.index("<th>4G_covered</th>") < tip.index("<th>name</th>") and "5G_covered" not in tip
    assert "Trường &lt;THCS&gt;" in tip and "yes" in tip


def test_output_is_deterministic(sample) -> None:
    assert render(coverage_map(sample)) == render(coverage_map(sample))


# --------------------------------------------------------------------------- geometry


def wiggly_pair() -> list[shapely.Polygon]:
    """Two squares sharing a finely wiggled border."""
    ys = np.linspace(0.0, 0.1, 401)
    xs = 0.05 + 0.00002 * np.sin(ys * 3000)
    border = list(zip(xs, ys, strict=True))
    left = shapely.Polygon([(0, 0), *border, (0, 0.1)])
    right = shapely.Polygon([(0.1, 0), (0.1, 0.1), *border[::-1]])
    return [left, right]


def test_shared_borders_are_simplified_together() -> None:
    pair = wiggly_pair()
    out = simplify_areas(pair, tolerance=0.0005)
    assert shapely.is_valid(out).all()
    assert shapely.get_num_coordinates(out).sum() < shapely.get_num_coordinates(pair).sum() / 10
    # the two sides still meet: no gap, no overlap beyond the rounding grid
    assert shapely.intersection(out[0], out[1]).area < 1e-9
    assert shapely.union_all(out).area == pytest.approx(0.01, rel=1e-4)
    coords = shapely.get_coordinates(out)
    assert np.allclose(coords, np.round(coords, 5))


def test_overlapping_input_falls_back_gracefully() -> None:
    overlapping = [shapely.box(0, 0, 0.1, 0.1), shapely.box(0.05, 0, 0.15, 0.1),
                   shapely.box(0.01, 0.01, 0.02, 0.02)]  # fmt: skip
    for clean in (True, False):
        out = simplify_areas(overlapping, tolerance=0.0005, clean=clean)
        assert shapely.is_valid(out).all() and not shapely.is_empty(out).any()
    collection = shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.Point(2, 2)])
    out = simplify_areas([collection, shapely.box(1, 0, 2, 1)], tolerance=0.0005)
    assert shapely.is_valid(out).all() and not shapely.is_empty(out).any()


def test_ring_encoding_round_trips() -> None:
    shell = [(105.1, 18.1), (105.3, 18.1), (105.3, 18.3), (105.1, 18.3)]
    hole = [(105.15, 18.15), (105.2, 18.15), (105.2, 18.2)]
    multi = shapely.MultiPolygon([shapely.Polygon(shell, [hole]), shapely.box(106, 18, 106.1, 18.1)])
    encoded = encode_polygons(np.array([multi, None], dtype=object), 5)
    assert encoded[1] == []

    def decode(ring: list[int]) -> list[tuple[float, float]]:
        xy = np.cumsum(np.reshape(ring, (-1, 2)), axis=0) / 1e5
        return [tuple(p) for p in xy.tolist()]

    first, second = encoded[0]
    np.testing.assert_allclose(decode(first[0]), shell, atol=1e-9)
    np.testing.assert_allclose(decode(first[1]), hole, atol=1e-9)
    assert len(decode(second[0])) == 4  # closing vertex dropped


# --------------------------------------------------------------------------- files


def test_save_map_is_atomic(tmp_path: Path, sample, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out" / "coverage.html"
    fmap = coverage_map(sample)
    assert save_map(fmap, path) == path
    first = path.read_bytes()
    assert first.startswith(b"<!DOCTYPE html>")

    class BrokenError(RuntimeError):
        pass

    def fail(*args, **kwargs):
        raise BrokenError

    monkeypatch.setattr(Path, "write_text", fail)
    with pytest.raises(BrokenError):
        save_map(fmap, path)
    assert path.read_bytes() == first
    assert [p.name for p in path.parent.iterdir()] == ["coverage.html"]


def test_coverage_png(tmp_path: Path, sample) -> None:
    from matplotlib.image import imread

    path = coverage_png(sample, tmp_path / "coverage.png", technology="4G", metric="population")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = imread(path)[..., :3].reshape(-1, 3)
    colours = {tuple(np.round(p, 2)) for p in pixels[:: max(len(pixels) // 20000, 1)]}
    assert len(colours) > 20  # not blank
    fill = {tuple(int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)) for c in CLASS_COLORS}
    assert any(np.allclose(c, f, atol=0.02) for c in colours for f in fill)
    assert [p.name for p in tmp_path.iterdir()] == ["coverage.png"]


def test_sample_map_size(tmp_path: Path, sample) -> None:
    path = save_map(coverage_map(sample), tmp_path / "coverage.html")
    assert path.stat().st_size < 1_000_000


def many_sites(n: int, *, seed: int = 3) -> gpd.GeoDataFrame:
    """``n`` seeded sites over the sample province, a mix of technologies."""
    rng = np.random.default_rng(seed)
    tech = rng.choice(list(BASE_TECHNOLOGIES), n, p=[0.2, 0.2, 0.4, 0.1, 0.1])
    frame = pd.DataFrame({
        "site_id": [f"S{i:07d}" for i in range(n)], "operator": rng.choice(["A", "B", "C"], n),
        "technology": tech, "radius_m": np.full(n, 1000.0), "azimuth": np.full(n, np.nan),
        "beamwidth": np.full(n, np.nan), "status": "existing", "counted": True,
    })  # fmt: skip
    points = gpd.points_from_xy(rng.uniform(105.0, 106.2, n), rng.uniform(17.9, 18.8, n))
    return gpd.GeoDataFrame(frame, geometry=points, crs="EPSG:4326")


def test_markers_are_sampled_to_keep_the_map_light() -> None:
    from telecov.maps.overlays import MAX_MARKERS, MIN_MARKERS, sample_sites

    sites = many_sites(20_000)
    small = sample_sites(sites, max_bytes=0)  # no room at all: the floor
    assert small.sampled and len(small.sites) == MIN_MARKERS and small.total == 20_000
    assert "a random sample of 2,000 of the 20,000 sites" in small.note()
    again = sample_sites(sites, max_bytes=0)
    assert small.sites["site_id"].tolist() == again.sites["site_id"].tolist()  # seeded
    shares = small.sites["technology"].value_counts(normalize=True)
    assert abs(shares["4G"] - 0.4) < 0.05  # every technology keeps its share
    roomy = sample_sites(sites, max_bytes=10e6)
    assert not roomy.sampled and roomy.note() == "" and len(roomy.sites) == 20_000
    assert len(sample_sites(many_sites(MAX_MARKERS + 10), max_bytes=1e12).sites) == MAX_MARKERS


def test_a_map_of_a_million_sites_stays_under_10_mb(tmp_path: Path, sample) -> None:
    from dataclasses import replace

    result = replace(sample, sites=many_sites(1_000_000), shapes=None)
    path = save_map(coverage_map(result), tmp_path / "coverage.html")
    assert path.stat().st_size < 10_000_000
    html = path.read_text(encoding="utf-8")
    assert "a random sample of 100,000 of the 1,000,000 sites" in html  # said on the map
    assert "sampled" in html and "of sampled sites" in html  # layer names say so too
    rows = sum(len(v) for v in json_blocks(html).values() if isinstance(v, list))
    assert rows == 100_000
