"""Memory, outputs and time estimated before the work: exit 3 when a run cannot fit, warnings when large."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import telecov
from telecov.engine.bands import bands
from telecov.engine.budget import estimate_run, scan_profile
from telecov.engine.partition import regions_from_geometries
from telecov.errors import TelecovWarning, TooLargeError
from telecov.footprints import build_layers, footprints_of
from telecov.io.areas import read_areas
from telecov.io.population import open_population
from telecov.io.resources import Estimate, Memory, available_memory, cgroup_room, check_budget
from telecov.io.sites import read_sites

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
GB = 10**9
LIMITED = """
import os, resource
from telecov.cli import main
import telecov.analysis, telecov.cli.report  # the heavy imports first
size = int(open("/proc/self/statm").read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
limit = size + int(os.environ["EXTRA_BYTES"])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
main()
"""


def estimate(**kw: object) -> Estimate:
    base = {"peak_bytes": GB, "output_bytes": 10**6, "seconds": 5.0, "parts": {"scan strips": GB}}
    return Estimate(**{**base, **kw})  # type: ignore[arg-type]


def test_a_run_that_cannot_fit_is_refused_naming_the_cause() -> None:
    with pytest.raises(
        TooLargeError,
        match=r"about 1\.0 GB of memory \(scan strips 1\.0 GB\).*more than "
        r"the 800 MB this process may use \(available RAM 800 MB\); use a coarser `resolution_m`",
    ):
        check_budget(estimate(), memory=Memory(ram=800 * 10**6))  # fmt: skip
    with pytest.raises(TooLargeError, match="address-space limit"):  # reserved memory counts there only
        check_budget(estimate(reserved_bytes=2 * GB), memory=Memory(ram=10 * GB, address_space=2 * GB))
    check_budget(estimate(reserved_bytes=2 * GB), memory=Memory(ram=4 * GB))  # RAM counts resident memory


@pytest.mark.parametrize(
    ("kw", "room", "why"),
    [({}, 1.5 * GB, "over half the 1.5 GB of memory available"),
     ({"output_bytes": 3 * GB, "outputs": {"footprints.geojson": 3 * GB}}, 100 * GB,
      r"outputs over 1.0 GB \(footprints.geojson 3.0 GB\)"),
     ({"seconds": 3600.0}, 100 * GB, "likely over 10 minutes")],
)  # fmt: skip
def test_a_large_run_goes_on_with_a_warning(kw: dict[str, object], room: float, why: str) -> None:
    with pytest.warns(TelecovWarning, match=f"a large run: about .*{why}"):
        check_budget(estimate(**kw), memory=Memory(ram=int(room)))


def test_an_ordinary_run_says_nothing(recwarn: pytest.WarningsRecorder) -> None:
    check_budget(estimate(), memory=Memory(ram=100 * GB))
    check_budget(estimate(), memory=Memory())  # no limit known: nothing to refuse
    assert not recwarn.list


def test_memory_sources(tmp_path: Path) -> None:
    memory = available_memory()
    assert memory.ram is None or memory.ram > 0
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "memory.max").write_text("2000000000\n", encoding="ascii")
    (v2 / "memory.current").write_text("700000000\n", encoding="ascii")
    (v2 / "memory.stat").write_text("anon 1\ninactive_file 200000000\n", encoding="ascii")
    assert cgroup_room(v2) == 2_000_000_000 - 500_000_000  # reclaimable page cache left out
    (v2 / "memory.max").write_text("max\n", encoding="ascii")
    assert cgroup_room(v2) is None  # no limit
    v1 = tmp_path / "v1" / "memory"
    v1.mkdir(parents=True)
    (v1 / "memory.limit_in_bytes").write_text("1000000000\n", encoding="ascii")
    (v1 / "memory.usage_in_bytes").write_text("400000000\n", encoding="ascii")
    assert cgroup_room(tmp_path / "v1") == 600_000_000
    assert Memory(ram=5, cgroup=3, address_space=4).available == 3


def _profile(resolution_m: float) -> tuple[float, int, int, int]:
    """Estimated scan lines and band height vs the engine's own, on the corpus world."""
    areas = read_areas(CORPUS / "base_areas.geojson")
    sites = read_sites(CORPUS / "base_sites.csv")
    layers = [la.members for la in build_layers(sites.accepted)]
    regions = regions_from_geometries(areas.accepted.geometry.to_numpy())
    fps = footprints_of(sites.accepted)
    with open_population(CORPUS / "base_population.tif") as raster:
        scan = scan_profile(regions, fps, layers, raster, resolution_m=resolution_m)
        made = list(bands(regions, fps, layers, raster, residential_density=100.0, resolution_m=resolution_m))
    return float(scan.ns.sum()), sum(int(b.sptr[-1]) for b in made), scan.step, made[0].rows


@pytest.mark.parametrize("resolution_m", [10.0, 1.0, 0.2])
def test_the_estimate_follows_the_engines_banding(resolution_m: float) -> None:
    estimated, actual, step, rows = _profile(resolution_m)
    assert step == rows  # the same band height
    assert estimated <= actual <= 1.1 * estimated + 200  # strips split at flat edges and disc tips aside


def test_the_estimate_grows_with_what_drives_it(tmp_path: Path) -> None:
    world = (CORPUS / "base_sites.csv", CORPUS / "base_areas.geojson", CORPUS / "base_population.tif")
    coarse, fine = (telecov.analyze(*world, resolution_m=r) for r in (10.0, 1.0))
    assert fine.run.raster.scan_lines > 9 * coarse.run.raster.scan_lines
    areas = read_areas(CORPUS / "base_areas.geojson")
    sites = read_sites(CORPUS / "base_sites.csv")
    regions = regions_from_geometries(areas.accepted.geometry.to_numpy())
    with open_population(CORPUS / "base_population.tif") as raster:

        def run(**kw: object) -> Estimate:
            layers = [
                la.members for la in build_layers(sites.accepted, by_operator=bool(kw.pop("ops", False)))
            ]
            return estimate_run(regions, footprints_of(sites.accepted), layers, raster, sites=6, **kw)  # type: ignore[arg-type]

        base = run(resolution_m=10.0)
        assert run(resolution_m=0.1).parts["scan strips"] > 90 * base.parts["scan strips"]
        assert run(resolution_m=10.0, ops=True).parts["table"] > base.parts["table"]
        exported = run(resolution_m=10.0, outputs=["coverage.gpkg", "footprints.geojson"])
        assert exported.parts["footprints"] > 0 and exported.output_bytes > base.output_bytes
        assert set(exported.outputs) == {"coverage.gpkg", "footprints.geojson"}


def _limited(world: Path, extra_bytes: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EXTRA_BYTES": str(extra_bytes), "NUMBA_NUM_THREADS": "2", "MALLOC_ARENA_MAX": "2",
           "COLUMNS": "200"}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-c", LIMITED, "report", "--sites", "base_sites.csv", "--areas",
         "base_areas.geojson", "--population", "base_population.tif", "--no-map", "--out", "out", *args],
        cwd=world, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux's /proc")
def test_a_lowered_address_space_limit_gives_exit_3_not_a_crash(tmp_path: Path) -> None:
    for name in ("base_sites.csv", "base_areas.geojson", "base_population.tif"):
        shutil.copy(CORPUS / name, tmp_path / name)
    room = 2_500_000_000  # 2.5 GB on top of the imports; reading the inputs takes about 1 GB of it
    refused = _limited(tmp_path, room, "--resolution", "0.0005")  # ~3 GB of scan strips in one band
    assert refused.returncode == 3, refused.stderr
    assert "address-space limit (RLIMIT_AS)" in refused.stderr and "--resolution" in refused.stderr
    assert "Traceback" not in refused.stderr and "MemoryError" not in refused.stderr
    assert not (tmp_path / "out").exists()  # refused before anything was written
    fits = _limited(tmp_path, room, "--resolution", "0.01")  # ~0.2 GB: runs under the same limit
    assert fits.returncode == 0, fits.stderr


def test_a_province_at_a_tenth_of_a_millimetre_is_refused(ha_tinh: dict[str, Path], tmp_path: Path) -> None:
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,technology,lon,lat\nA,4G,105.90,18.34\nB,5G,105.70,18.50\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", "from telecov.cli import main; main()", "report", "--sites", str(sites),
         "--areas", str(ha_tinh["areas"]), "--population", str(ha_tinh["population"]),
         "--resolution", "0.0001", "--no-map", "--out", "out"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    flat = " ".join(proc.stderr.split())
    assert "scan strips" in flat and "use a coarser --resolution" in flat and "Traceback" not in flat
    assert not (tmp_path / "out").exists()
