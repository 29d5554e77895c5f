"""The wheel carries the compiled kernels: the build's requirements and its precompile step."""

from __future__ import annotations

import json
import os
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
from telecov.cli.precompile import run_workload
codes = [run_workload(a.split(), Path(out).parent / f"run{i}") for i, a in enumerate(args)]
with open(out, "w") as fh:
    json.dump({"codes": codes, "compiled": compiled}, fh)
"""


def test_the_build_can_import_everything_the_precompile_runs() -> None:
    """The build's isolated environment holds every runtime dependency (same names and bounds)."""
    meta = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    build = set(meta["build-system"]["requires"])
    missing = [dep for dep in meta["project"]["dependencies"] if dep not in build]
    assert missing == []


@pytest.mark.slow
def test_after_the_precompile_the_sample_commands_compile_nothing(tmp_path: Path) -> None:
    """Precompiling into an empty cache, then running the sample's commands: no kernel compiles.

    Also commands that are not among the precompile's own workloads (other technologies,
    targets, a grid plan) find every kernel they call in the cache.
    """
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "PYTHONDONTWRITEBYTECODE": "1"}
    pre = subprocess.run([sys.executable, "-P", "-m", "telecov.cli.precompile"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=1800)  # fmt: skip
    assert pre.returncode == 0, pre.stderr
    assert pre.stderr.count("exit 0") == 4
    out = tmp_path / "after.json"
    commands = [
        "report",
        "report --dem sample --rx-height 3",
        "gaps --technology 5G",
        f"targets {REPO / 'data' / 'plan.toml'}",
        "plan --technology 4G --grid 1000 --target 99 --no-map",
    ]
    subprocess.run([sys.executable, "-P", "-c", _RECORD, str(out), *commands], env=env, cwd=tmp_path,
                   check=True, timeout=900)  # fmt: skip
    got = json.loads(out.read_text())
    assert got["codes"] == [0] * len(commands)
    assert got["compiled"] == []
    # a cold cache compiles: the recorder sees compilations when there is something to compile
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "cold")
    subprocess.run([sys.executable, "-P", "-c", _RECORD, str(out), "gaps --technology 5G"], env=env,
                   cwd=tmp_path, check=True, timeout=900)  # fmt: skip
    assert len(json.loads(out.read_text())["compiled"]) > 0
