"""Start-up: each command imports only what it uses (checked in fresh processes, via ``sys.modules``).

``telecov --version`` and ``--help`` import none of the scientific stack; registering a command
imports nothing heavy (``<command> --help`` neither); ``telecov report --no-map`` imports neither
folium nor matplotlib. The wall times themselves are measured by ``scripts/profile_startup.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from telecov.cli.app import COMMANDS

SCIENTIFIC = ("numpy", "pandas", "geopandas", "shapely", "pyproj", "pyogrio", "rasterio", "numba", "pyarrow")
MAPS = ("folium", "branca", "jinja2", "matplotlib")

_PROBE = """
import atexit, json, sys
path = sys.argv[1]
def dump():
    pa = sys.modules.get("pyarrow")
    pool = pa.default_memory_pool().backend_name if pa is not None else None
    with open(path, "w") as fh:
        json.dump({"modules": sorted(name.split(".")[0] for name in sys.modules), "pool": pool}, fh)
atexit.register(dump)
args = sys.argv[2:]
sys.argv = ["telecov", *args]
from telecov.cli import main
main()
"""


def probe(tmp_path: Path, *args: str) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    """What a fresh ``telecov ARGS`` process has imported when it exits, and its Arrow allocator."""
    dump = tmp_path / "modules.json"
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(dump), *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False, env=env,
    )  # fmt: skip
    return json.loads(dump.read_text(encoding="utf-8")), done


def modules_after(tmp_path: Path, *args: str) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """Top-level modules a fresh ``telecov ARGS`` process has imported when it exits."""
    found, done = probe(tmp_path, *args)
    return set(found["modules"]), done


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_import_none_of_the_scientific_stack(tmp_path: Path, flag: str) -> None:
    modules, done = modules_after(tmp_path, flag)
    assert done.returncode == 0, done.stderr
    assert "telecov" in modules and "typer" in modules  # the probe sees what was imported
    assert not modules & {*SCIENTIFIC, *MAPS}, sorted(modules & {*SCIENTIFIC, *MAPS})
    if flag == "--help":
        assert all(name in done.stdout for name in COMMANDS)
    else:
        assert done.stdout.startswith("telecov ")


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_command_s_help_imports_nothing_heavy(tmp_path: Path, command: str) -> None:
    modules, done = modules_after(tmp_path, command, "--help")
    assert done.returncode == 0, done.stderr
    assert "--" in done.stdout
    assert not modules & {*SCIENTIFIC, *MAPS}, sorted(modules & {*SCIENTIFIC, *MAPS})


def test_report_without_a_map_imports_no_map_library(tmp_path: Path) -> None:
    from telecov import sample_path

    found, done = probe(
        tmp_path, "report", "--sites", str(sample_path("sites.csv")), "--areas",
        str(sample_path("communes.gpkg")), "--population", str(sample_path("population.tif")),
        "--no-map", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "coverage.csv").is_file()
    assert not (tmp_path / "out" / "coverage.html").exists()
    modules = set(found["modules"])
    assert {"geopandas", "numba"} <= modules  # it did measure
    assert not modules & set(MAPS), sorted(modules & set(MAPS))
    assert found["pool"] == "system"  # pyarrow's allocator would keep what it freed


def test_report_with_a_map_imports_folium(tmp_path: Path) -> None:
    """The check above can fail: the same probe sees folium when the map is written."""
    from telecov import sample_path

    modules, done = modules_after(
        tmp_path, "report", "--sites", str(sample_path("sites.csv")), "--areas",
        str(sample_path("communes.gpkg")), "--population", str(sample_path("population.tif")),
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "coverage.html").is_file()
    assert "folium" in modules


# --- the first run: a status line when numba's cache is cold, a progress bar with real totals ---

KERNEL = """
from numba import njit


@njit(cache=True)
def twice(x):
    return 2 * x
"""


def test_a_kernel_is_cold_until_its_first_call_caches_it(tmp_path: Path, monkeypatch) -> None:
    from telecov.cli._kernels import FIRST_COMPILE_SECONDS, cold_kernels, compiling_notice

    (tmp_path / "startup_probe_kernel.py").write_text(KERNEL, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    kernel = [("startup_probe_kernel", "twice")]
    assert cold_kernels(kernel) == ["startup_probe_kernel.twice"]
    assert compiling_notice(kernel) == (
        f"compiling telecov's kernels for this machine (first run only, about {FIRST_COMPILE_SECONDS} s)"
    )
    import startup_probe_kernel

    assert startup_probe_kernel.twice(21) == 42  # compiled and cached
    assert cold_kernels(kernel) == [] and compiling_notice(kernel) is None
    assert list((tmp_path / "__pycache__").glob("startup_probe_kernel.twice-*.nbi"))
    # what is not a caching numba dispatcher is never called cold
    assert cold_kernels([("json", "dumps")]) == []


CORPUS = Path(__file__).resolve().parent / "bad_inputs"


def _base_report(tmp_path: Path, *flags: str) -> list[str]:
    return [*flags, "report", "--sites", str(CORPUS / "base_sites.csv"), "--areas",
            str(CORPUS / "base_areas.geojson"), "--population", str(CORPUS / "base_population.tif"),
            "--no-map", "--out", str(tmp_path / "out"), "--force"]  # fmt: skip


def test_the_status_line_shows_before_a_run_that_compiles(tmp_path: Path, monkeypatch, capsys) -> None:
    from telecov.cli import _kernels

    from _cli import main_in_process

    helpers: list[bool] = []
    monkeypatch.setattr(_kernels, "start_compiling", lambda: helpers.append(True) or True)
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, *_base_report(tmp_path))
    assert code == 0 and "compiling" not in err and not helpers  # the kernels are cached by now
    monkeypatch.setattr(_kernels, "cold_kernels", lambda kernels=(): ["telecov.engine.scan_kernel.scan_band"])
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, *_base_report(tmp_path))
    assert code == 0 and helpers == [True]  # the helper process is started on a cold cache
    seconds = _kernels.FIRST_COMPILE_SECONDS
    assert f"compiling telecov's kernels for this machine (first run only, about {seconds} s)" in err
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, *_base_report(tmp_path, "-q"))
    assert code == 0 and "compiling" not in err


def test_the_progress_bar_counts_rows_out_of_the_real_total() -> None:
    from telecov.cli._run import progress_bar

    progress, update = progress_bar(quiet=True, compiling=True)
    (task,) = progress.tasks
    assert task.description == "preparing the inputs and compiling the kernels (first run only)"
    assert task.total is None and task.fields["rows"] == ""
    update(0, 1200)
    assert task.fields["rows"] == "" and task.description.startswith("preparing")
    update(300, 1200)
    assert (task.description, task.completed, task.total) == ("measuring", 300, 1200)
    assert task.fields["rows"] == "300/1,200 pixel rows"


# --- the measuring kernel: one type signature, compiled by a helper process on a first run ---

_COMPILED = """
import json, sys
from numba.core import event

compiled = []

class Recorder(event.Listener):
    def on_start(self, ev):
        compiled.append(ev.data["dispatcher"].py_func.__qualname__)

    def on_end(self, ev):
        pass

event.register("numba:compile", Recorder())
out, args = sys.argv[1], sys.argv[2:]
sys.argv = ["telecov", *args]
code = 0
try:
    from telecov.cli import main
    main()
except SystemExit as exc:
    code = exc.code or 0
with open(out, "w") as fh:
    json.dump({"code": code, "compiled": compiled}, fh)
"""


def test_the_helper_compiles_the_kernel_the_run_then_loads(tmp_path: Path) -> None:
    """On an empty cache the helper compiles ``_scan_rows``; a run afterwards loads it, compiling
    only the other kernels (which the probe sees, so the check can fail)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    from telecov.engine.warm import HELPER

    helper = subprocess.run([sys.executable, "-P", "-c", HELPER], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
    assert helper.returncode == 0 and not helper.stderr, helper.stderr
    dump = tmp_path / "compiled.json"
    done = subprocess.run(
        [sys.executable, "-c", _COMPILED, str(dump), *_base_report(tmp_path, "-q")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    found = json.loads(dump.read_text(encoding="utf-8"))
    assert found["code"] == 0, done.stderr
    assert "_band_index" in found["compiled"]  # compiled by the run itself
    assert "_scan_rows" not in found["compiled"] and "prepare_row" not in found["compiled"]


def test_every_input_reaches_the_measuring_kernel_with_one_type(tmp_path: Path, monkeypatch, capsys) -> None:
    import numpy as np

    from telecov import sample_path
    from telecov.engine import scan_kernel

    from _cli import main_in_process

    scan_kernel.compile_measuring()
    sample = [
        "report", "--sites", str(sample_path("sites.csv")), "--areas", str(sample_path("communes.gpkg")),
        "--population", str(sample_path("population.tif")), "--no-map", "--out", str(tmp_path / "s"),
    ]  # fmt: skip
    for args in (_base_report(tmp_path, "-q"), sample):
        code, _, _ = main_in_process(monkeypatch, capsys, tmp_path, *args)
        assert code == 0
    assert len(scan_kernel._scan_rows.signatures) == 1
    frozen = np.arange(4.0)
    frozen.flags.writeable = False
    strided = np.arange(8, dtype=np.int32)[::2]
    out = scan_kernel.kernel_arrays((frozen, strided), (np.float64, np.int64))
    assert out[0].flags.writeable and out[0].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert out[1].dtype == np.int64 and out[1].flags.c_contiguous and out[1].tolist() == [0, 2, 4, 6]
    fine = np.zeros(3)
    assert scan_kernel.kernel_arrays((fine,), (np.float64,))[0] is fine  # no copy when it fits


def test_no_helper_on_one_core(monkeypatch) -> None:
    from telecov.engine import warm

    monkeypatch.setattr(warm, "cores", lambda: 1)
    assert warm.start() is False
    assert warm.wait() == 0.0
