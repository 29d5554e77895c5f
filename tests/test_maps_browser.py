"""Maps opened in real headless Chromium with every network request blocked.

Skipped when Playwright or /usr/bin/chromium is missing on a developer machine; in CI
(environment variable ``CI`` set) they fail instead, never skip.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import telecov
from telecov.maps.html import coverage_map, save_map
from telecov.maps.styles import CLASS_COLORS, NO_DATA_COLOR, coverage_classes
from telecov.vocabulary import BASE_TECHNOLOGIES

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
VIEWPORT = {"width": 1280, "height": 860}
INJECTED = "<img src=x onerror=alert(1)>"
INJECTED_NAMES = [
    INJECTED,
    '<img src=x onerror="window.__xss=1">',
    "</script><script>window.__xss=2</script>",
    "<svg onload=alert(3)>",
    'Xã "Hồng" & <b>Lĩnh</b>',
]

MAP_JS = "telecov.instances[0].map"
CLOSE_POPUP = f"() => {{ {MAP_JS}.closePopup(); }}"  # returning the map would serialize it (slow)


def _require_browser() -> None:
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "playwright is not installed"
    if reason is None and not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} not found (Debian package chromium)"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Page:
    """An opened map with what it logged, asked for and tried to fetch."""

    page: Any
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def eval(self, js: str, arg: Any = None) -> Any:
        return self.page.evaluate(js, arg)


@pytest.fixture
def open_map(browser) -> Iterator[Any]:
    pages: list[Any] = []

    def opener(path: Path) -> Page:
        page = browser.new_page(viewport=VIEWPORT)
        pages.append(page)
        opened = Page(page)

        def route(r: Any) -> None:
            url = r.request.url
            if url.startswith(("file:", "data:")):
                r.continue_()
            else:
                opened.blocked.append(url)
                r.abort()

        def dialog(d: Any) -> None:
            opened.dialogs.append(d.message)
            d.dismiss()

        page.route("**/*", route)
        page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: opened.errors.append(str(e)))
        page.on("dialog", dialog)
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_function("document.querySelectorAll('.leaflet-overlay-pane path').length > 0")
        page.wait_for_timeout(600)  # clusters settle (markers load in chunks)
        return opened

    yield opener
    for page in pages:
        page.close()


@pytest.fixture(scope="module")
def sample() -> telecov.Result:
    return telecov.analyze()


@pytest.fixture(scope="module")
def sample_map(sample, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_map(coverage_map(sample), tmp_path_factory.mktemp("maps") / "coverage.html")


@pytest.fixture(scope="module")
def injected(tmp_path_factory: pytest.TempPathFactory) -> tuple[telecov.Result, Path]:
    """The bundled sample with script-like names in areas, parents, site ids and operators."""
    folder = tmp_path_factory.mktemp("injected")
    areas = gpd.read_file(telecov.sample_path("communes.gpkg"))
    for i, name in enumerate(INJECTED_NAMES):
        areas.loc[i, "commune_name"] = name
    areas.loc[len(INJECTED_NAMES), "province"] = INJECTED
    areas.to_file(folder / "communes.gpkg")
    sites = pd.read_csv(telecov.sample_path("sites.csv"), dtype=str)
    is_4g = sites["technology"].str.upper().isin(["4G", "LTE"])
    first = sites.index[is_4g][: len(INJECTED_NAMES)]
    sites.loc[first, "site_id"] = [f"{n} #{i}" for i, n in enumerate(INJECTED_NAMES)]
    sites.loc[first, "operator"] = INJECTED
    sites.to_csv(folder / "sites.csv", index=False)
    result = telecov.analyze(
        folder / "sites.csv", folder / "communes.gpkg", telecov.sample_path("population.tif"),
        area_id="commune_code", area_name="commune_name", parent="province",
    )  # fmt: skip
    return result, save_map(coverage_map(result, title=INJECTED), folder / "coverage.html")


def inside_point(opened: Page, index: int, geometry: shapely.Geometry) -> tuple[float, float] | None:
    """A container pixel where the area's own path is the topmost element, or None."""
    rng = np.random.default_rng(index)
    candidates = [geometry.representative_point()]
    candidates += list(shapely.get_parts(gpd.GeoSeries([geometry]).sample_points(40, rng=rng).iloc[0]))
    return opened.eval(
        """([index, points]) => {
          const map = """ + MAP_JS + """;
          const layer = telecov.instances[0].geo.getLayers().find(l => l.tcIndex === index);
          const box = map.getContainer().getBoundingClientRect();
          for (const [lat, lon] of points) {
            const p = map.latLngToContainerPoint([lat, lon]);
            const x = box.left + p.x, y = box.top + p.y;
            if (document.elementFromPoint(x, y) === layer._path) { return [x, y]; }
          }
          return null;
        }""",
        [index, [[p.y, p.x] for p in candidates]],
    )  # fmt: skip


def hide_markers(opened: Page) -> Any:
    """Take site markers out of hit-testing (they load in chunks and may land on an area)."""
    return opened.page.add_style_tag(content=".leaflet-marker-pane{visibility:hidden}")


def close_popup(opened: Page) -> None:
    """Close the open popup and wait until it has faded out (it takes clicks until then)."""
    opened.eval(CLOSE_POPUP)
    opened.page.wait_for_function("!document.querySelector('.leaflet-popup')")


def text_of(opened: Page, selector: str) -> str:
    return opened.eval(
        "s => Array.from(document.querySelectorAll(s)).map(e => e.textContent).join('\\n')", selector
    )


def hex_color(color: str) -> str:
    return color.lower()


# --------------------------------------------------------------------------- tests


def test_sample_map_loads_offline(open_map, sample, sample_map: Path) -> None:
    opened = open_map(sample_map)
    opened.page.wait_for_timeout(500)
    assert opened.errors == []
    assert opened.blocked == []
    assert opened.eval("window.L && L.version") == "1.9.4"
    assert opened.eval("typeof L.markerClusterGroup") == "function"
    assert opened.eval("document.querySelectorAll('.leaflet-overlay-pane path').length") == len(sample.areas)
    assert opened.eval("document.querySelectorAll('.leaflet-marker-pane > *').length") > 0
    legend = text_of(opened, ".tc-legend")
    for label in ("≥ 99 %", "90–99 %", "50–90 %", "< 50 %", "no data"):
        assert label in legend
    assert "4G coverage" in text_of(opened, ".tc-info")


def test_hovering_an_area_shows_its_tooltip(open_map, sample, sample_map: Path) -> None:
    opened = open_map(sample_map)
    hide_markers(opened)
    areas = sample.areas
    for i in (0, len(areas) // 2, len(areas) - 1):
        point = inside_point(opened, i, areas.geometry.iloc[i])
        assert point is not None, f"area {i} not reachable"
        opened.page.mouse.move(*point)
        opened.page.wait_for_selector(".leaflet-tooltip")
        tip = text_of(opened, ".leaflet-tooltip")
        row = areas.iloc[i]
        uncovered = round(row["4G_population"] - row["4G_covered_population"])
        assert row["area_name"] in tip and row["parent"] in tip
        assert f"Population{round(row['4G_population']):,}" in tip
        assert "4G coverage (population)" in tip
        assert f"Uncovered people{uncovered:,}" in tip
        opened.page.mouse.move(1, 1)


def test_toggling_layers(open_map, sample, sample_map: Path) -> None:
    opened = open_map(sample_map)
    page = opened.page
    # base layers: the choropleth follows the technology chosen
    page.get_by_text("5G coverage", exact=True).click()
    page.wait_for_timeout(200)
    assert "5G coverage" in text_of(opened, ".tc-legend-head")
    assert "by 5G" in text_of(opened, ".tc-totals")
    fills = opened.eval(
        "telecov.instances[0].geo.getLayers().map(l => [l.tcIndex, l._path.getAttribute('fill')])"
    )
    classes = coverage_classes(sample.areas["5G_population_pct"])
    palette = [*CLASS_COLORS, NO_DATA_COLOR]
    assert {i: hex_color(f) for i, f in fills} == {i: palette[c] for i, c in enumerate(classes)}
    assert opened.eval("document.querySelectorAll('.leaflet-overlay-pane path').length") == len(sample.areas)
    # overlays: sites off and on, footprints drawn on a canvas
    markers = "document.querySelectorAll('.leaflet-marker-pane > *').length"
    page.get_by_text("4G sites", exact=False).click()
    page.wait_for_timeout(300)
    assert opened.eval(markers) == 0
    page.get_by_text("5G sites", exact=False).click()
    page.wait_for_timeout(300)
    assert opened.eval(markers) > 0
    page.get_by_text("5G footprints", exact=False).click()
    page.wait_for_timeout(300)
    painted = opened.eval(
        """() => {
          const c = document.querySelector('.leaflet-tcFootprints-pane canvas');
          if (!c) { return -1; }
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) { n++; } }
          return n;
        }"""
    )
    assert painted > 1000
    assert opened.errors == []


def test_popups_of_areas_and_sites(open_map, sample, sample_map: Path) -> None:
    opened = open_map(sample_map)
    page = opened.page
    hidden = hide_markers(opened)
    i, point = next(
        (i, p)
        for i in range(len(sample.areas))
        if (p := inside_point(opened, i, sample.areas.geometry.iloc[i])) is not None
    )
    page.mouse.click(*point)
    page.wait_for_selector(".leaflet-popup-content")
    popup = text_of(opened, ".leaflet-popup-content")
    assert sample.areas["area_name"].iloc[i] in popup
    assert f"code {sample.areas['area_id'].iloc[i]}" in popup
    for tech in BASE_TECHNOLOGIES:
        assert tech in popup
    close_popup(opened)
    hidden.evaluate("e => e.remove()")
    marker = opened.eval(
        """() => {
          for (const e of document.querySelectorAll('.tc-site')) {
            const r = e.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
            if (e.contains(document.elementFromPoint(x, y))) { return [x, y]; }
          }
          return null;
        }"""
    )
    assert marker is not None
    page.mouse.click(*marker)
    page.wait_for_selector(".leaflet-popup-content")
    popup = text_of(opened, ".leaflet-popup-content")
    assert "Operator" in popup and "Radius" in popup and "Technology4G" in popup
    assert any(site in popup for site in sample.sites["site_id"])


def test_injected_names_stay_text(open_map, injected) -> None:
    result, path = injected
    opened = open_map(path)
    page = opened.page
    hide = page.add_style_tag(
        content=".leaflet-control-container{display:none}.leaflet-marker-pane{visibility:hidden}"
    )
    areas = result.areas
    seen: list[str] = []
    for i in range(len(areas)):
        point = inside_point(opened, i, areas.geometry.iloc[i])
        if point is None:  # hidden under markers: hover and click through Leaflet
            opened.eval(
                "i => { const l = telecov.instances[0].geo.getLayers().find(x => x.tcIndex === i);"
                " l.fire('mouseover'); l.openTooltip(); l.openPopup(); }",
                i,
            )
        else:
            page.mouse.move(*point)
            page.wait_for_selector(".leaflet-tooltip")
            seen.append(text_of(opened, ".leaflet-tooltip"))
            page.mouse.click(*point)
            page.wait_for_selector(".leaflet-popup-content")
        seen.append(text_of(opened, ".leaflet-popup-content"))
        close_popup(opened)
    # the injected sites: zoom onto each and click its marker
    hide.evaluate("e => e.remove()")
    injected_sites = result.sites[result.sites["operator"] == INJECTED]
    assert len(injected_sites) == len(INJECTED_NAMES)
    for point in injected_sites.geometry:
        opened.eval(
            f"([lat, lon]) => {{ {MAP_JS}.setView([lat, lon], 18, {{animate: false}}); }}", [point.y, point.x]
        )
        page.wait_for_timeout(400)
        page.mouse.click(VIEWPORT["width"] / 2, VIEWPORT["height"] / 2)
        page.wait_for_selector(".leaflet-popup-content")
        seen.append(text_of(opened, ".leaflet-popup-content"))
        close_popup(opened)
    page.wait_for_timeout(300)
    assert opened.dialogs == []
    assert opened.eval("window.__xss") is None
    assert opened.errors == []
    assert opened.eval("document.querySelectorAll('.leaflet-pane img, .leaflet-pane svg image').length") == 0
    assert opened.eval("document.querySelectorAll('.leaflet-pane script, .leaflet-pane b').length") == 0
    text = "\n".join(seen)
    for name in INJECTED_NAMES[:4]:
        assert name in text, name  # shown literally, as text
    assert 'Xã "Hồng" & <b>Lĩnh</b>' in text
    assert opened.eval("document.title") == INJECTED


def test_screenshot_is_not_blank(open_map, sample_map: Path, tmp_path: Path) -> None:
    from matplotlib.image import imread

    opened = open_map(sample_map)
    opened.page.wait_for_timeout(500)
    png = opened.page.screenshot()
    (tmp_path / "screenshot.png").write_bytes(png)
    pixels = (imread(io.BytesIO(png))[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    assert len(colours) > 50
    assert counts.max() / counts.sum() < 0.6  # no single colour fills the view
    # area fills are drawn (blended at 75 % over the background): bluish and reddish pixels
    red, blue = pixels[:, 0].astype(int), pixels[:, 2].astype(int)
    assert ((blue - red) > 60).mean() > 0.01
    assert ((red - blue) > 60).mean() > 0.01


def test_footprints_are_drawn_where_the_sites_reach(open_map, tmp_path: Path) -> None:
    """A 3 km disc and a sector pointing east (azimuth = boresight): painted where they reach."""
    from test_maps import stand_in

    result = stand_in()
    result.sites = gpd.GeoDataFrame(
        {
            "site_id": ["disc", "east"], "technology": ["4G", "4G"], "operator": ["A", "A"],
            "radius_m": [3000.0, 3000.0], "azimuth": [np.nan, 90.0], "beamwidth": [np.nan, 60.0],
            "status": ["existing", "existing"], "counted": [True, True],
        },
        geometry=gpd.points_from_xy([105.55, 105.65], [18.05, 18.15]), crs="EPSG:4326",
    )  # fmt: skip
    path = save_map(coverage_map(result), tmp_path / "footprints.html")
    opened = open_map(path)
    opened.page.get_by_text("4G footprints", exact=False).click()
    opened.page.wait_for_timeout(300)
    metre = 1 / 111_320  # degrees of latitude per metre, near enough for a probe
    lon_m = metre / np.cos(np.radians(18.1))
    probes = {
        "disc north 2.5 km": (18.05 + 2500 * metre, 105.55, True),
        "disc south-west 2 km": (18.05 - 1400 * metre, 105.55 - 1400 * lon_m, True),
        "disc north 3.5 km": (18.05 + 3500 * metre, 105.55, False),
        "sector east 2.5 km": (18.15, 105.65 + 2500 * lon_m, True),
        "sector 20° off boresight": (18.15 + 800 * metre, 105.65 + 2200 * lon_m, True),
        "sector west 1 km": (18.15, 105.65 - 1000 * lon_m, False),
        "sector north 1 km": (18.15 + 1000 * metre, 105.65, False),
    }
    painted = opened.eval(
        """(probes) => {
          const map = telecov.instances[0].map;
          const c = document.querySelector('.leaflet-tcFootprints-pane canvas');
          const ctx = c.getContext('2d'), box = c.getBoundingClientRect();
          const scale = c.width / box.width, mapBox = map.getContainer().getBoundingClientRect();
          const out = {};
          for (const [name, [lat, lon]] of Object.entries(probes)) {
            const p = map.latLngToContainerPoint([lat, lon]);
            const x = (mapBox.left + p.x - box.left) * scale, y = (mapBox.top + p.y - box.top) * scale;
            let n = 0;  // hatching: look at a small window, not one pixel
            const d = ctx.getImageData(Math.round(x) - 4, Math.round(y) - 4, 9, 9).data;
            for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) { n++; } }
            out[name] = n > 0;
          }
          return out;
        }""",
        {name: [lat, lon] for name, (lat, lon, _) in probes.items()},
    )
    assert painted == {name: inside for name, (_, _, inside) in probes.items()}
    assert opened.errors == []


def test_a_map_of_many_sites_shows_a_sample_and_says_so(open_map, sample, tmp_path: Path) -> None:
    from dataclasses import replace

    rng = np.random.default_rng(11)
    n = 300_000
    sites = gpd.GeoDataFrame(
        {
            "site_id": [f"S{i}" for i in range(n)], "operator": rng.choice(["A", "B"], n),
            "technology": rng.choice(["4G", "2G"], n), "radius_m": np.full(n, 800.0),
            "azimuth": np.full(n, np.nan), "beamwidth": np.full(n, np.nan), "status": "existing",
            "counted": True,
        },
        geometry=gpd.points_from_xy(rng.uniform(105.0, 106.2, n), rng.uniform(17.9, 18.8, n)), crs=4326,
    )  # fmt: skip
    path = save_map(coverage_map(replace(sample, sites=sites, shapes=None)), tmp_path / "many.html")
    opened = open_map(path)
    legend = opened.eval("() => document.querySelector('.tc-legend').innerText")
    assert "a random sample of 100,000 of the 300,000 sites" in " ".join(legend.split())
    opened.page.wait_for_function("document.querySelectorAll('.tc-cluster').length > 0", timeout=30_000)
    assert "sampled" in " ".join(
        opened.eval("() => document.querySelector('.leaflet-control-layers').innerText").split()
    )
    assert opened.errors == [] and opened.blocked == []


def test_shaped_footprints_are_painted_as_measured(open_map, tmp_path: Path) -> None:
    """A terrain shadow hole stays unpainted; a radio lobe reaches east, not behind its antenna."""
    from test_maps_footprints import HILL, LOBE, _dem

    sites = tmp_path / "sites.csv"
    sites.write_text(
        "site_id,technology,lon,lat,radius_m,azimuth,height_m,band,eirp_dbm,environment\n"
        f"LOBE,4G,{LOBE[0]},{LOBE[1]},,90,35,B3,62,suburban\n"
        f"HILL,4G,{HILL[0]},{HILL[1]},3000,,30,,,\n",
        encoding="utf-8",
    )
    result = telecov.analyze(
        sites=sites, areas=telecov.sample_path("communes.gpkg"),
        population=telecov.sample_path("population.tif"), area_id="commune_code",
        area_name="commune_name", dem=_dem(tmp_path / "dem.tif"),
    )  # fmt: skip
    opened = open_map(save_map(coverage_map(result), tmp_path / "shaped.html"))
    opened.page.get_by_text("4G footprints", exact=False).click()
    metre, lon_m = 1 / 110_600, 1 / (111_320 * np.cos(np.radians(18.25)))
    probes = {  # (centre of the view, probe point, painted)
        "hill: in front of the block": (HILL, (HILL[1], HILL[0] + 300 * lon_m), True),
        "hill: in its shadow": (HILL, (HILL[1], HILL[0] + 1400 * lon_m), False),
        "hill: beside the shadow": (HILL, (HILL[1] + 1400 * metre, HILL[0]), True),
        "hill: beyond the shadow": (HILL, (HILL[1], HILL[0] + 2700 * lon_m), True),
        "lobe: boresight 800 m": (LOBE, (LOBE[1], LOBE[0] + 800 * lon_m), True),
        "lobe: behind 500 m": (LOBE, (LOBE[1], LOBE[0] - 500 * lon_m), False),
        "lobe: 90° off 600 m": (LOBE, (LOBE[1] + 600 * metre, LOBE[0]), False),
    }
    painted = {}
    for name, (centre, (lat, lon), _) in probes.items():
        opened.eval(f"() => {{ {MAP_JS}.setView([{centre[1]}, {centre[0]}], 14, {{animate: false}}); }}")
        opened.page.wait_for_timeout(300)
        painted[name] = opened.eval(
            """([lat, lon]) => {
              const map = telecov.instances[0].map;
              const c = document.querySelector('.leaflet-tcFootprints-pane canvas');
              const ctx = c.getContext('2d'), box = c.getBoundingClientRect();
              const scale = c.width / box.width, mapBox = map.getContainer().getBoundingClientRect();
              const p = map.latLngToContainerPoint([lat, lon]);
              const x = (mapBox.left + p.x - box.left) * scale, y = (mapBox.top + p.y - box.top) * scale;
              const d = ctx.getImageData(Math.round(x) - 4, Math.round(y) - 4, 9, 9).data;
              let n = 0;
              for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) { n++; } }
              return n > 0;
            }""",
            [lat, lon],
        )
    assert painted == {name: inside for name, (_, _, inside) in probes.items()}
    assert opened.errors == []
