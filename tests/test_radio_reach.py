"""Radii from a link budget through the whole path: site columns, options, footprints.csv.

The expected radii are written out here from the published formulas (Hata 1980 and the COST 231
Final Report §4.4.1 for the Hata family, 3GPP TR 38.901 Table 7.4.1-1 for UMa), independently of
:mod:`telecov.radio.models`.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

import telecov
from telecov.errors import InputError, TelecovWarning
from telecov.io.population import open_population
from telecov.radio.reach import FOOTPRINT_COLUMNS, density_around

from _cli import main_in_process
from _worlds import Grid, write_areas, write_raster

GRID = Grid(west=105.0, north=18.6, ncols=60, nrows=60)
DENSITY = {"urban": 3000.0, "suburban": 600.0, "rural": 50.0}
"""People per km² in the west, middle and east thirds of the raster."""
LAT = GRID.lat(30.5)
LON = {"urban": GRID.lon(10.5), "suburban": GRID.lon(30.5), "rural": GRID.lon(50.5)}
HEADER = [
    "site_id", "technology", "lon", "lat", "radius_m", "azimuth", "band", "frequency_mhz", "height_m",
    "eirp_dbm", "tx_power_dbm", "antenna_gain_dbi", "feeder_loss_db", "environment", "rx_threshold_dbm",
]  # fmt: skip
ROWS = [
    # site_id, tech, block, radius, azimuth, band, freq, height, eirp, tx, gain, feeder, env, threshold
    ("h-open", "2G", "urban", "", "", "G900", "", "40", "", "", "", "", "rural", ""),
    ("c-urban", "4G", "urban", "", "", "L1800", "", "30", "", "", "", "", "", ""),
    ("c-sub", "4G", "suburban", "", "", "", "1842.5", "35", "55", "", "", "", "", "-85"),
    ("parts", "4G", "rural", "", "", "B3", "", "30", "", "40", "15", "2", "", ""),
    ("uma", "5G", "urban", "", "90", "n78", "", "25", "", "", "", "", "", ""),
    ("own", "4G", "urban", "2000", "", "L1800", "", "30", "", "", "", "", "", ""),
    ("plain", "4G", "suburban", "", "", "", "", "", "", "", "", "", "", ""),
    ("h-low", "2G", "suburban", "", "", "G900", "", "20", "", "", "", "", "", ""),
]


def _log(x: float) -> float:
    return math.log10(x)


def _hata_km(f: float, hb: float, hm: float, budget: float, env: str) -> float:
    """Okumura–Hata (small/medium city a(hm)), suburban and open-area corrections, solved for d."""
    a_hm = (1.1 * _log(f) - 0.7) * hm - (1.56 * _log(f) - 0.8)
    at_1km = 69.55 + 26.16 * _log(f) - 13.82 * _log(hb) - a_hm
    if env == "suburban":
        at_1km -= 2 * _log(f / 28) ** 2 + 5.4
    elif env == "rural":
        at_1km -= 4.78 * _log(f) ** 2 - 18.33 * _log(f) + 40.94
    return 10 ** ((budget - at_1km) / (44.9 - 6.55 * _log(hb)))


def _cost231_km(f: float, hb: float, hm: float, budget: float, env: str) -> float:
    a_hm = (1.1 * _log(f) - 0.7) * hm - (1.56 * _log(f) - 0.8)
    at_1km = 46.3 + 33.9 * _log(f) - 13.82 * _log(hb) - a_hm + (3.0 if env == "urban" else 0.0)
    return 10 ** ((budget - at_1km) / (44.9 - 6.55 * _log(hb)))


def _uma_m(fc_ghz: float, budget: float, hbs: float = 25.0, hut: float = 1.5) -> float:
    """TR 38.901 UMa NLOS PL = max(PL_LOS, PL'_NLOS) = budget, by bisection."""

    def loss(d2: float) -> float:
        d3 = math.hypot(d2, hbs - hut)
        dbp = 4 * (hbs - 1) * (hut - 1) * fc_ghz * 1e9 / 3e8
        if d2 <= dbp:
            los = 28 + 22 * _log(d3) + 20 * _log(fc_ghz)
        else:
            los = 28 + 40 * _log(d3) + 20 * _log(fc_ghz) - 9 * _log(dbp**2 + (hbs - hut) ** 2)
        return max(los, 13.54 + 39.08 * _log(d3) + 20 * _log(fc_ghz) - 0.6 * (hut - 1.5))

    lo, hi = 1.0, 100_000.0
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if loss(mid) <= budget else (lo, mid)
    return lo


def _expected() -> dict[str, tuple[float, str, str, str]]:
    """site_id → (radius m, radius_source, environment, radius_note), from the formulas above."""
    return {
        # 2G defaults: EIRP 43 + 17 − 3 = 57 dBm, threshold −95 dBm; 942.5 MHz; > 20 km: extrapolated
        "h-open": (1000 * _hata_km(942.5, 40, 1.5, 57 + 95, "rural"), "model:hata", "rural", "extrapolated"),
        # 4G defaults: EIRP 61 dBm, threshold −79.2 dBm; urban by density (3,000 people/km²)
        "c-urban": (1000 * _cost231_km(1842.5, 30, 1.5, 61 + 79.2, "urban"), "model:cost231", "urban", ""),
        "c-sub": (1000 * _cost231_km(1842.5, 35, 1.5, 55 + 85, "suburban"), "model:cost231", "suburban", ""),
        # EIRP = 40 + 15 − 2 = 53 dBm; 753 m is below COST 231's 1 km: extrapolated
        "parts": (
            1000 * _cost231_km(1842.5, 30, 1.5, 53 + 79.2, "rural"),
            "model:cost231",
            "rural",
            "extrapolated",
        ),
        # 5G defaults: EIRP 67 dBm, threshold −64.8 dBm, 25 m; n78 = 3550 MHz
        "uma": (_uma_m(3.55, 67 + 64.8), "model:38901-uma", "urban", ""),
        "own": (2000.0, "site", "urban", ""),
        "plain": (3000.0, "default", "", ""),
        # a 20 m mast is below Hata's 30–200 m
        "h-low": (
            1000 * _hata_km(942.5, 20, 1.5, 57 + 95, "suburban"),
            "model:hata",
            "suburban",
            "extrapolated",
        ),
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("radioworld")
    values = np.zeros((GRID.nrows, GRID.ncols))
    for third, name in enumerate(("urban", "suburban", "rural")):
        values[:, 20 * third : 20 * (third + 1)] = GRID.uniform(DENSITY[name])[:, :20]
    write_raster(folder / "pop.tif", GRID, values)
    inner = shapely.box(GRID.lon(2), GRID.lat(58), GRID.lon(58), GRID.lat(2))
    write_areas(folder / "areas.gpkg", [("A", "Alpha", inner)])
    _write(folder / "sites.csv", ROWS)
    return {"sites": folder / "sites.csv", "areas": folder / "areas.gpkg", "population": folder / "pop.tif"}


def _write(path: Path, rows: list[tuple[str, ...]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for sid, tech, block, *rest in rows:
            writer.writerow([sid, tech, repr(LON[block]), repr(LAT), *rest])
    return path


def _analyze(world: dict[str, Path], **options: object) -> telecov.Result:
    return telecov.analyze(world["sites"], world["areas"], world["population"], area_id="id", **options)


def test_density_around_a_site_is_the_people_per_km2_of_its_square(world) -> None:
    with open_population(world["population"]) as raster:
        got = density_around(raster, np.array([*LON.values(), 104.0]), np.full(4, LAT))
    expected = [DENSITY["urban"], DENSITY["suburban"], DENSITY["rural"]]
    np.testing.assert_allclose(got[:3], expected, rtol=1e-5)
    assert np.isnan(got[3])  # off the raster


def test_radii_follow_the_published_formulas(world) -> None:
    with pytest.warns(TelecovWarning, match="3 radio site rows have radii extrapolated"):
        result = _analyze(world)
    table = result.footprint_table().set_index("site_id")
    assert list(result.footprint_table().columns) == list(FOOTPRINT_COLUMNS)
    for sid, (radius, source, environment, note) in _expected().items():
        row = table.loc[sid]
        assert row["radius_m"] == pytest.approx(radius, rel=1e-6), sid
        said = (row["radius_source"], row["environment"], row["radius_note"])
        assert said == (source, environment, note), sid
    assert table.loc["parts", "eirp_dbm"] == 53.0 and table.loc["c-sub", "rx_threshold_dbm"] == -85.0
    assert table.loc["uma", "frequency_mhz"] == 3550.0 and table.loc["uma", "azimuth"] == 90.0
    assert np.isnan(table.loc["plain", "frequency_mhz"]) and np.isnan(table.loc["plain", "rx_height_m"])
    # the footprints measured are these radii: the sites frame the engine reads carries them
    measured = result.sites.set_index("site_id").loc[table.index, "radius_m"]
    np.testing.assert_allclose(measured, table["radius_m"])
    options = result.run.to_json()["options"]
    assert options["propagation"] == "auto" and options["environment"] == "auto"
    assert options["radio_defaults"]["4G"]["eirp_dbm"] == 61.0


def test_fixed_keeps_the_radius_table_and_a_named_model_applies_to_every_radio_row(world) -> None:
    fixed = _analyze(world, propagation="fixed").footprint_table().set_index("site_id")
    assert set(fixed["radius_source"]) == {"site", "default"}
    assert fixed.loc["c-urban", "radius_m"] == 3000.0 and fixed.loc["own", "radius_m"] == 2000.0
    with pytest.warns(TelecovWarning, match="extrapolated"):
        hata = _analyze(world, propagation="hata").footprint_table().set_index("site_id")
    radio = hata.drop(index="plain")
    assert set(radio["radius_source"]) == {"model:hata"}  # also the row with its own radius_m
    assert hata.loc["uma", "radius_note"] == "extrapolated"  # 3550 MHz is above Hata's 1500 MHz
    assert hata.loc["c-urban", "radius_m"] == pytest.approx(1000 * _hata_km(1842.5, 30, 1.5, 140.2, "urban"))


def test_radius_overrides_the_model_and_options_fill_what_rows_lack(world) -> None:
    with pytest.warns(TelecovWarning, match="extrapolated"):
        result = _analyze(
            world, radius={"5G": 700}, rx_threshold={"4G": -90}, rx_height_m=3.0, environment="suburban"
        )
    table = result.footprint_table().set_index("site_id")
    assert table.loc["uma", "radius_m"] == 700.0 and table.loc["uma", "radius_source"] == "default"
    # c-urban: no environment of its own → suburban; threshold −90 from the option; hm = 3 m
    expected = 1000 * _cost231_km(1842.5, 30, 3.0, 61 + 90, "suburban")
    assert table.loc["c-urban", "radius_m"] == pytest.approx(expected, rel=1e-6)
    assert table.loc["c-urban", "environment"] == "suburban" and table.loc["c-urban", "rx_height_m"] == 3.0
    assert table.loc["c-sub", "rx_threshold_dbm"] == -85.0  # the row's own threshold wins
    assert table.loc["h-open", "environment"] == "rural"  # and its own environment


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"propagation": "okumura"}, "`propagation`"),
        ({"environment": "desert"}, "`environment`"),
        ({"rx_height_m": -1.0}, "`rx_height_m`"),
        ({"rx_threshold": {"fiber": -80}}, "not a radio technology"),
        ({"rx_threshold": {"4G": -500}}, "-150…-20 dBm"),
    ],
)
def test_bad_radio_options_are_input_errors(world, options, message) -> None:
    with pytest.raises(InputError, match=message):
        _analyze(world, **options)


BAD_ROWS = [
    ("f0", "4G", "urban", "", "", "", "0", "", "", "", "", "", "", ""),
    ("neg", "4G", "urban", "", "", "L1800", "", "-5", "", "", "", "", "", ""),
    ("eirp", "4G", "urban", "", "", "L1800", "", "", "200", "", "", "", "", ""),
    ("band", "4G", "urban", "", "", "B99", "", "", "", "", "", "", "", ""),
    ("env", "4G", "urban", "", "", "L1800", "", "", "", "", "", "", "jungle", ""),
    ("thr", "4G", "urban", "", "", "L1800", "", "", "", "", "", "", "", "abc"),
]


def test_cli_end_to_end_writes_footprints_and_refuses_impossible_rows(
    world, tmp_path: Path, monkeypatch, capsys
) -> None:
    sites = _write(tmp_path / "sites.csv", [*ROWS[1:3], ROWS[6], *BAD_ROWS])
    out = tmp_path / "out"
    code, _, err = main_in_process(
        monkeypatch, capsys, tmp_path, "report", "--sites", str(sites), "--areas", str(world["areas"]),
        "--population", str(world["population"]), "--area-id", "id", "--out", str(out), "--no-map",
        "--rx-threshold", "4G=-85", "--rx-height", "2", "--environment", "auto", "--format", "csv",
    )  # fmt: skip
    assert code == 0, err
    footprints = pd.read_csv(out / "footprints.csv", dtype={"site_id": str}, keep_default_na=False)
    assert list(footprints.columns) == list(FOOTPRINT_COLUMNS)
    by_id = footprints.set_index("site_id")
    assert list(by_id.index) == ["c-urban", "c-sub", "plain"]
    expected = 1000 * _cost231_km(1842.5, 30, 2.0, 61 + 85, "urban")
    assert float(by_id.loc["c-urban", "radius_m"]) == pytest.approx(expected, rel=1e-6)
    assert by_id.loc["plain", "radius_source"] == "default" and by_id.loc["plain", "radius_note"] == ""
    rejected = pd.read_csv(out / "rejected_sites.csv", dtype=str).set_index("site_id")
    assert rejected["field"].to_dict() == {
        "f0": "frequency_mhz", "neg": "height_m", "eirp": "eirp_dbm", "band": "band", "env": "environment",
        "thr": "rx_threshold_dbm",
    }  # fmt: skip
    assert "must be above ground" in rejected.loc["neg", "reason"] and "B99" in rejected.loc["band", "reason"]
    assert "200 dBm is outside" in rejected.loc["eirp", "reason"]
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["options"]["rx_threshold_dbm"] == {"4G": -85.0} and run["options"]["rx_height_m"] == 2.0
    assert run["counts"]["sites"]["refused"] == len(BAD_ROWS)
    assert "footprints.csv" in {f["name"] for f in run["files"]}


def test_cli_refuses_a_malformed_threshold_with_the_flag(world, tmp_path: Path, monkeypatch, capsys) -> None:
    code, _, err = main_in_process(
        monkeypatch, capsys, tmp_path, "report", "--sites", str(world["sites"]), "--areas",
        str(world["areas"]), "--population", str(world["population"]), "--out", str(tmp_path / "o"),
        "--rx-threshold", "4G=-500",
    )  # fmt: skip
    assert code == 2 and "--rx-threshold" in err
    code, _, err = main_in_process(
        monkeypatch, capsys, tmp_path, "report", "--sites", str(world["sites"]), "--areas",
        str(world["areas"]), "--population", str(world["population"]), "--out", str(tmp_path / "o"),
        "--rx-height", "0",
    )  # fmt: skip
    assert code == 2 and "--rx-height" in err


def test_the_engine_measures_the_model_radius(world, tmp_path: Path) -> None:
    sites = _write(tmp_path / "one.csv", [ROWS[1]])  # c-urban: COST-231, urban
    result = telecov.analyze(sites, world["areas"], world["population"], area_id="id")
    radius = 1000 * _cost231_km(1842.5, 30, 1.5, 61 + 79.2, "urban")
    total = result.table[(result.table["level"] == "total") & (result.table["technology"] == "4G")]
    assert float(total["covered_km2"].iloc[0]) == pytest.approx(math.pi * radius**2 / 1e6, rel=0.005)


def test_frequency_wins_over_band_and_38901_is_rma_in_rural_places(world, tmp_path: Path) -> None:
    rows = [
        ("both", "4G", "urban", "", "", "B20", "1842.5", "30", "", "", "", "", "", ""),  # B20 is 806 MHz
        ("rma", "5G", "rural", "", "", "n78", "", "35", "", "", "", "", "", ""),
    ]
    sites = _write(tmp_path / "s.csv", rows)
    with pytest.warns(TelecovWarning, match="1 radio site rows"):  # UMa is specified for 25 m only
        result = telecov.analyze(
            sites, world["areas"], world["population"], area_id="id", propagation="38901"
        )
    table = result.footprint_table().set_index("site_id")
    assert table.loc["both", "radius_note"] == "extrapolated" and table.loc["rma", "radius_note"] == ""
    assert table.loc["both", "frequency_mhz"] == 1842.5
    assert table.loc["both", "radius_source"] == "model:38901-uma"
    assert (
        table.loc["rma", "radius_source"] == "model:38901-rma" and table.loc["rma", "environment"] == "rural"
    )


def test_radio_options_come_from_telecov_toml(world, tmp_path: Path, monkeypatch, capsys) -> None:
    sites = _write(tmp_path / "sites.csv", [ROWS[1]])
    (tmp_path / "telecov.toml").write_text(
        f'sites = "{sites}"\nareas = "{world["areas"]}"\npopulation = "{world["population"]}"\n'
        'area-id = "id"\nout = "out"\nrx-threshold = ["4G=-85"]\nenvironment = "rural"\n',
        encoding="utf-8",
    )
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, "report", "--no-map", "--format", "csv")
    assert code == 0, err
    footprints = pd.read_csv(tmp_path / "out" / "footprints.csv", keep_default_na=False)
    # c-urban has no environment of its own: rural from the file, threshold −85 dBm
    expected = 1000 * _cost231_km(1842.5, 30, 1.5, 61 + 85, "rural")
    assert float(footprints["radius_m"].iloc[0]) == pytest.approx(expected, rel=1e-6)
    assert footprints["environment"].iloc[0] == "rural"
