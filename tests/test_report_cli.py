"""`telecov report` as a user runs it: bundled sample, output set, formats, exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.transform import from_origin

import telecov
from telecov.cli.report import REPORT_FILES
from telecov.io import manifests
from telecov.metrics import table_columns
from telecov.vocabulary import BASE_TECHNOLOGIES

TELECOV = [sys.executable, "-c", "from telecov.cli import main; main()"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([*TELECOV, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    cwd = tmp_path_factory.mktemp("user")
    return run("report", "--no-map", cwd=cwd), cwd / "out"


def test_report_on_bundled_sample_writes_the_output_set(sample_run) -> None:
    proc, out = sample_run
    assert proc.returncode == 0, proc.stderr
    for name in ("coverage.csv", "coverage.geojson", "run.json", "rejected_sites.csv", "rejected_areas.csv"):
        assert (out / name).is_file(), name
    assert not (out / "coverage.html").exists()
    assert "Coverage" in proc.stdout and "4G" in proc.stdout


def test_coverage_csv_follows_the_contract(sample_run) -> None:
    _, out = sample_run
    with (out / "coverage.csv").open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header == table_columns(by_operator=False)
    table = pd.read_csv(out / "coverage.csv", dtype={"area_id": str, "parent": str})
    areas = table[table["level"] == "area"]
    n_areas = areas["area_id"].nunique()
    assert len(areas) == n_areas * len(BASE_TECHNOLOGIES)
    assert set(table.loc[table["level"] == "total", "area_id"]) == {"ALL"}
    assert table.loc[table["level"] == "total", "technology"].tolist() == list(BASE_TECHNOLOGIES)
    assert (table["level"] == "parent").any()  # the sample's province
    assert areas["area_id"].str.fullmatch(r"\d{5}").all()  # text ids with leading zeros
    keys = list(zip(table["level"].map({"area": 0, "parent": 1, "total": 2}), table["area_id"], strict=True))
    assert keys == sorted(keys)
    pct = table[["area_pct", "population_pct", "residential_pct"]].to_numpy()
    assert np.nanmin(pct) >= 0 and np.nanmax(pct) <= 100
    assert (table["covered_population"] <= table["population"] + 1e-9).all()


def test_geojson_is_rfc7946_with_metrics(sample_run) -> None:
    _, out = sample_run
    data = json.loads((out / "coverage.geojson").read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection" and "crs" not in data
    props = data["features"][0]["properties"]
    for key in ("area_id", "area_name", "4G_population_pct", "5G_covered_population", "fiber_area_pct"):
        assert key in props
    import shapely

    for feature in data["features"]:
        geom = shapely.geometry.shape(feature["geometry"])
        assert geom.is_valid
        for poly in getattr(geom, "geoms", [geom]):
            assert poly.exterior.is_ccw  # right-hand rule
            assert all(not ring.is_ccw for ring in poly.interiors)
        minx, miny, maxx, maxy = geom.bounds
        assert -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90


def test_run_json_accounts_for_every_row(sample_run) -> None:
    _, out = sample_run
    run_info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    for kind in ("sites", "areas"):
        counts = run_info["counts"][kind]
        assert counts["used"] + counts["refused"] == counts["read"]
    assert len(run_info["inputs"]["sites"]["sha256"]) == 64
    assert run_info["radii_m"]["5G"] == 600.0
    rejected = pd.read_csv(out / "rejected_sites.csv")
    assert list(rejected.columns[-3:]) == ["row", "field", "reason"]
    assert len(rejected) == run_info["counts"]["sites"]["refused"]


def test_json_format_prints_only_json(tmp_path) -> None:
    proc = run("report", "--no-map", "--format", "json", "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert rows[0]["level"] == "area" and set(rows[0]) == set(table_columns(by_operator=False))
    assert "NaN" not in proc.stdout


def test_csv_format_matches_the_file(tmp_path) -> None:
    proc = run("report", "--no-map", "--format", "csv", "--out", "o", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (tmp_path / "o" / "coverage.csv").read_text(encoding="utf-8")


def test_python_api_matches_cli(sample_run) -> None:
    _, out = sample_run
    result = telecov.analyze()
    cli = pd.read_csv(out / "coverage.csv", dtype={"area_id": str, "parent": str, "area_name": str})
    api = result.table
    np.testing.assert_allclose(api["covered_population"], cli["covered_population"], rtol=1e-12)
    assert list(result.areas.columns[:3]) == ["area_id", "area_name", "parent"]
    assert "4G_population_pct" in result.areas.columns
    assert result.areas.crs.to_epsg() == 4326
    assert len(result.footprints("5G")) == int(
        (result.sites["technology"] == "5G").sum()
        - (~result.sites.loc[result.sites["technology"] == "5G", "counted"]).sum()
    )


def test_version_and_usage_errors(tmp_path) -> None:
    proc = run("--version", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("telecov ")
    assert run("report", "--bogus", cwd=tmp_path).returncode == 2
    bad = run("report", "--target", "120", cwd=tmp_path)
    assert bad.returncode == 2 and "--target" in bad.stderr and "Traceback" not in bad.stderr


def test_missing_file_exits_2_and_writes_nothing(tmp_path) -> None:
    sample = telecov.sample_path
    proc = run(
        "report", "--sites", "nope.csv", "--areas", str(sample("communes.gpkg")),
        "--population", str(sample("population.tif")), cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "nope.csv" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out" / "coverage.csv").exists()


def test_strict_failure_changes_nothing_but_its_rejects_report(tmp_path) -> None:
    sample = telecov.sample_path
    text = sample("sites.csv").read_text(encoding="utf-8")
    (tmp_path / "sites.csv").write_text(text, encoding="utf-8")
    args = ["--sites", "sites.csv", "--areas", str(sample("communes.gpkg")),
            "--population", str(sample("population.tif")), "--no-map"]  # fmt: skip
    good = run("report", *args, "--strict", cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    out = tmp_path / "out"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    lines = text.splitlines()
    row = len(lines)  # 1-based data row of the appended line
    (tmp_path / "sites.csv").write_text(text + "bad-1,X,WiMAX,105.5,18.3,,,,\n", encoding="utf-8")
    proc = run("report", *args, "--strict", cwd=tmp_path)
    assert proc.returncode == 2 and "--strict" in proc.stderr
    assert f"sites.csv row {row}, technology" in proc.stderr  # the first refused row and field
    assert "previous outputs" in proc.stderr and "Traceback" not in proc.stderr
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    failed = after.pop("report_failed_rejected_sites.csv")
    assert after.pop("report_failed_rejected_areas.csv").count(b"\n") == 1  # a header: no area refused
    assert after == before  # the previous set, byte for byte, its manifest still true
    assert manifests.verify(out, "report") == []
    assert pd.read_csv(io.BytesIO(failed))["site_id"].tolist() == ["bad-1"]
    ok = run("report", *args, cwd=tmp_path)
    assert ok.returncode == 0 and "1 sites rows refused" in ok.stdout
    assert not list(out.glob("report_failed_*"))  # a good run clears the failure report
    assert pd.read_csv(out / "rejected_sites.csv")["site_id"].tolist() == ["bad-1"]


def test_first_strict_failure_writes_only_the_rejects(tmp_path) -> None:
    sample = telecov.sample_path
    text = sample("sites.csv").read_text(encoding="utf-8")
    (tmp_path / "sites.csv").write_text(text + "bad-1,X,WiMAX,105.5,18.3,,,,\n", encoding="utf-8")
    proc = run(
        "report", "--sites", "sites.csv", "--areas", str(sample("communes.gpkg")),
        "--population", str(sample("population.tif")), "--no-map", "--strict", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "report_failed_rejected_areas.csv", "report_failed_rejected_sites.csv"
    ]  # fmt: skip


def test_rerun_replaces_the_whole_set_with_plain_files(tmp_path) -> None:
    first = run("report", "--out", "o", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = (tmp_path / "o" / "coverage.csv").read_text(encoding="utf-8")
    assert (tmp_path / "o" / "coverage.html").is_file()
    second = run("report", "--no-map", "--out", "o", "--radius", "4G=1000", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    after = (tmp_path / "o" / "coverage.csv").read_text(encoding="utf-8")
    assert after != before
    run_info = json.loads((tmp_path / "o" / "run.json").read_text(encoding="utf-8"))
    assert run_info["radii_m"]["4G"] == 1000.0  # run.json belongs to the same set
    names = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert names == [*sorted(REPORT_FILES), "run.json"]
    assert all(p.is_file() and not p.is_symlink() for p in (tmp_path / "o").iterdir())
    assert [f["name"] for f in run_info["files"]] == names[:-1]  # the map of the first run is gone
    assert manifests.verify(tmp_path / "o", "report") == []


def test_raster_too_large_exits_3(tmp_path) -> None:
    path = tmp_path / "huge.tif"
    profile = {
        "driver": "GTiff", "width": 400_000, "height": 300_000, "count": 1, "dtype": "float32",
        "crs": "EPSG:4326", "transform": from_origin(104.0, 20.0, 1e-5, 1e-5), "tiled": True,
        "blockxsize": 256, "blockysize": 256, "sparse_ok": True, "nodata": -1, "BIGTIFF": "YES",
    }  # fmt: skip
    with rasterio.open(path, "w", **profile):
        pass
    assert path.stat().st_size < 50_000_000
    sample = telecov.sample_path
    proc = run(
        "report", "--sites", str(sample("sites.csv")), "--areas", str(sample("communes.gpkg")),
        "--population", str(path), "--no-map", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert "huge.tif" in proc.stderr and "Traceback" not in proc.stderr


def test_map_command_writes_html_and_png(tmp_path) -> None:
    proc = run("map", "--technology", "5G", "--metric", "residential", "--png", "--out", "m", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "m" / "coverage.html").read_text(encoding="utf-8")
    assert "L.map(" in html or "L.map (" in html
    assert 'src="http' not in html  # no script or image loaded from the network
    assert (tmp_path / "m" / "coverage.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = run("map", "--technology", "6G", "--out", "m2", cwd=tmp_path)
    assert bad.returncode == 2 and "6G" in bad.stderr and "Traceback" not in bad.stderr


def test_report_reaggregates_onto_new_boundaries(tmp_path) -> None:
    import geopandas as gpd
    import shapely

    sample = telecov.sample_path
    old = gpd.read_file(sample("communes.gpkg"))
    merged = gpd.GeoDataFrame({"id": ["N1"]}, geometry=[shapely.union_all(old.geometry.values)], crs=old.crs)
    merged.to_file(tmp_path / "new.gpkg")
    cw = run(
        "crosswalk", "--from", str(sample("communes.gpkg")), "--from-id", "commune_code",
        "--to", "new.gpkg", "--to-id", "id", "--population", str(sample("population.tif")),
        "--output", "cw.csv", cwd=tmp_path,
    )  # fmt: skip
    assert cw.returncode == 0, cw.stderr
    proc = run("report", "--no-map", "--crosswalk", "cw.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    moved = pd.read_csv(tmp_path / "out" / "coverage_reaggregated.csv", dtype={"area_id": str})
    table = pd.read_csv(tmp_path / "out" / "coverage.csv", dtype={"area_id": str})
    total = table[(table["level"] == "total") & (table["technology"] == "4G")].iloc[0]
    new = moved[(moved["area_id"] == "N1") & (moved["technology"] == "4G")].iloc[0]
    assert new["population"] == pytest.approx(total["population"], rel=1e-6)
    assert new["covered_population"] == pytest.approx(total["covered_population"], rel=1e-3)
    bad = run("report", "--no-map", "--crosswalk", str(sample("sites.csv")), cwd=tmp_path)
    assert bad.returncode == 2 and "not a crosswalk" in bad.stderr
