"""The wheel carries the compiled kernels: the build's requirements and its precompile step."""

from __future__ import annotations

import json
import os
import runpy
import shutil
import site
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

_RECORD = """
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
from pathlib import Path
import telecov
from telecov.cli.precompile import run_workload
codes = [run_workload(a.split(), Path(out).parent / f"run{i}") for i, a in enumerate(args)]
with open(out, "w") as fh:
    json.dump({"package": telecov.__file__, "codes": codes, "compiled": compiled}, fh)
"""


def test_the_build_can_import_everything_the_precompile_runs() -> None:
    """The build's isolated environment holds every runtime dependency (same names and bounds)."""
    meta = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    build = set(meta["build-system"]["requires"])
    missing = [dep for dep in meta["project"]["dependencies"] if dep not in build]
    assert missing == []


def _built_copy(root: Path) -> Path:
    """The package laid out as the build lays it out (``build_lib``), without any numba cache."""
    lib = root / "lib"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "coverage" / "telecov", lib / "telecov", ignore=skip)
    shutil.copytree(REPO / "data", lib / "telecov" / "sample", ignore=skip)
    return lib


def _isolated_build_python(root: Path) -> tuple[str, str]:
    """An interpreter with nothing installed, and the ``PYTHONPATH`` that lends it the requirements.

    This is how a build frontend's isolated environment looks to ``setup.py`` (pip puts its
    overlay of the build requirements on ``PYTHONPATH``).
    """
    bare = root / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, timeout=300)
    return str(bare / "bin" / "python"), os.pathsep.join(site.getsitepackages())


@pytest.mark.slow
def test_after_the_precompile_the_sample_commands_compile_nothing(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The build's precompile (``setup.py``) in an isolated build environment, then the sample's commands.

    The precompile runs with the build requirements on ``PYTHONPATH`` only, as under
    ``pip install .``; afterwards no kernel compiles, also for commands that are not among the
    precompile's own workloads (other technologies, targets, a grid plan).
    """
    setup_py = runpy.run_path(str(REPO / "setup.py"), run_name="telecov_setup")
    lib = _built_copy(tmp_path)
    python, requirements = _isolated_build_python(tmp_path)
    base = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "PYTHONPATH")}
    code = setup_py["precompile"](lib, python=python, environ={**base, "PYTHONPATH": requirements})
    err = capfd.readouterr().err
    assert code == 0, err
    assert err.count("exit 0") == 4, err
    out = tmp_path / "after.json"
    commands = [
        "report",
        "report --dem sample --rx-height 3",
        "gaps --technology 5G",
        f"targets {REPO / 'data' / 'plan.toml'}",
        "plan --technology 4G --grid 1000 --target 99 --no-map",
    ]
    env = {**base, "PYTHONPATH": str(lib), "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run([sys.executable, "-P", "-c", _RECORD, str(out), *commands], env=env, cwd=tmp_path,
                   check=True, timeout=900)  # fmt: skip
    got = json.loads(out.read_text())
    assert Path(got["package"]).is_relative_to(lib)
    assert got["codes"] == [0] * len(commands)
    assert got["compiled"] == []
    # a cold cache compiles: the recorder sees compilations when there is something to compile
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "cold")
    subprocess.run([sys.executable, "-P", "-c", _RECORD, str(out), "gaps --technology 5G"], env=env,
                   cwd=tmp_path, check=True, timeout=900)  # fmt: skip
    assert len(json.loads(out.read_text())["compiled"]) > 0
