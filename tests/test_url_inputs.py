"""A population raster read from a URL: the CLI keeps the URL, GDAL reads it by ranges.

The raster is served over HTTP on 127.0.0.1 by a small server in its own process that answers
byte-range requests (as a web server or object store does); nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from telecov.analysis import sample_path
from telecov.io.sources import is_url, local_path

from _cli import main_in_process

IN_CI = os.environ.get("CI", "").lower() == "true"


@dataclass(frozen=True)
class Served:
    """A folder served over HTTP: its base URL and the log of the byte ranges asked."""

    url: str
    log: Path

    def ranges(self) -> list[str]:
        return self.log.read_text().split()


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    """A copy of the sample's population raster served on 127.0.0.1 by ``_range_server.py``."""
    root = tmp_path_factory.mktemp("www")
    shutil.copy(sample_path("population.tif"), root / "population.tif")
    log_path = root.parent / "requests.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("_range_server.py")), str(root)],
            stdout=subprocess.PIPE, stderr=log, text=True,
        )  # fmt: skip
        try:
            assert server.stdout is not None
            yield Served(f"http://127.0.0.1:{int(server.stdout.readline())}", log_path)
        finally:
            server.kill()
            server.wait()
            if server.stdout is not None:
                server.stdout.close()


def _inputs(population: str) -> list[str]:
    return ["--sites", str(sample_path("sites.csv")), "--areas", str(sample_path("communes.gpkg")),
            "--population", population, "--no-map", "--quiet"]  # fmt: skip


def test_is_url_tells_urls_from_paths() -> None:
    assert is_url("https://example.org/p.tif") and is_url("s3://bucket/p.tif") and is_url("/vsicurl/x")
    assert not is_url("data/p.tif") and not is_url(Path("https://h/p.tif")) and not is_url("C:p.tif")
    assert local_path("https://h/p.tif") is None and local_path("p.tif") == Path("p.tif")


def test_report_reads_the_raster_from_a_url(served, tmp_path, monkeypatch, capsys) -> None:
    url = f"{served.url}/population.tif"
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, "report", *_inputs(url), "--out", "web")
    assert code == 0, err
    code, _, err = main_in_process(
        monkeypatch, capsys, tmp_path, "report", *_inputs(str(sample_path("population.tif"))), "--out", "file"
    )
    assert code == 0, err
    web, local = (
        pd.read_csv(tmp_path / "web" / "coverage.csv"),
        pd.read_csv(tmp_path / "file" / "coverage.csv"),
    )
    pd.testing.assert_frame_equal(web, local)
    run = json.loads((tmp_path / "web" / "run.json").read_text())
    assert run["inputs"]["population"]["path"] == url
    assert any(r.startswith("bytes=") for r in served.ranges()), "GDAL reads the raster by ranges"


def test_an_unreachable_url_is_exit_2_naming_it(served, tmp_path, monkeypatch, capsys) -> None:
    url = f"{served.url}/missing.tif"
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, "report", *_inputs(url))
    assert code == 2
    assert "missing.tif" in err and "Traceback" not in err
    assert not (tmp_path / "coverage.csv").exists()


def test_a_url_in_telecov_toml_is_kept_as_it_is(served, tmp_path, monkeypatch, capsys) -> None:
    url = f"{served.url}/population.tif"
    (tmp_path / "telecov.toml").write_text(
        f'sites = "{sample_path("sites.csv").as_posix()}"\n'
        f'areas = "{sample_path("communes.gpkg").as_posix()}"\n'
        f'population = "{url}"\nno_map = true\n',
        encoding="utf-8",
    )
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, "report", "--quiet")
    assert code == 0, err
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["inputs"]["population"]["path"] == url


def test_workers_read_the_url_themselves(served, tmp_path, monkeypatch, capsys) -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        if IN_CI:
            pytest.fail("dask.distributed is required in CI")
        pytest.skip("dask.distributed not installed")
    address = os.environ.get("TELECOV_DASK_SCHEDULER")
    where = ["--scheduler", address] if address else ["--workers", "1"]
    url = f"{served.url}/population.tif"
    code, _, err = main_in_process(
        monkeypatch, capsys, tmp_path, "report", *_inputs(url), *where, "--out", "c"
    )
    assert code == 0, err
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, "report", *_inputs(url), "--out", "one")
    assert code == 0, err
    cluster, one = (
        pd.read_csv(tmp_path / "c" / "coverage.csv"),
        pd.read_csv(tmp_path / "one" / "coverage.csv"),
    )
    pd.testing.assert_frame_equal(cluster, one, rtol=1e-9)


def test_crosswalk_reads_the_raster_from_a_url(served, tmp_path, monkeypatch, capsys) -> None:
    communes = str(sample_path("communes.gpkg"))
    sources = {"web": f"{served.url}/population.tif", "file": str(sample_path("population.tif"))}
    tables = {}
    for name, population in sources.items():
        code, _, err = main_in_process(
            monkeypatch, capsys, tmp_path, "crosswalk", "--from", communes, "--to", communes,
            "--population", population, "--output", f"{name}.csv",
        )  # fmt: skip
        assert code == 0, err
        tables[name] = pd.read_csv(tmp_path / f"{name}.csv", dtype={"from_id": str, "to_id": str})
    pd.testing.assert_frame_equal(tables["web"], tables["file"])
    assert tables["web"]["population"].sum() > 0
    assert any(r.startswith("bytes=") for r in served.ranges()), "GDAL reads the raster by ranges"
