"""A ``telecov report`` killed at any moment never leaves a lying manifest or a truncated file.

Two configurations whose outputs differ (default radii, ``--radius 4G=1000``) alternate in one
``--out`` folder. The CLI is killed with SIGKILL (a) at chosen points of the write (halfway
through a staged file, before and after each file is moved in, before and after the manifest)
by a hook in the child process, and (b) at random moments. After each kill:

- every visible file is complete: byte for byte one run's file (never truncated);
- when ``run.json`` (the report's manifest) is present, every file it lists is there and
  matches its size and sha256, and all of them belong to the run it describes: the previous
  complete set or the new one;
- when it is absent, the folder may mix files of both runs, each complete.

Outputs are plain files; no link is ever made (``os.symlink`` raises in the child).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from telecov.io import manifests

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
SET = (
    "coverage.csv", "coverage.geojson", "footprints.csv", "rejected_areas.csv", "rejected_sites.csv",
    "run.json",
)  # fmt: skip
CONFIGS = {"A": [], "B": ["--radius", "4G=1000"]}
HOOK = """
import os, signal, sys
import telecov.io.outputs as ex
kill_write, kill_replace = int(os.environ["KILL_WRITE"]), int(os.environ["KILL_REPLACE"])
kill_after = os.environ["KILL_AFTER"] == "1"
out = os.path.abspath("out")
calls = {"write": 0, "replace": 0}
write, replace = ex.write_text_file, os.replace

def no_links(*a, **k):
    raise OSError("symbolic links are not available here")

def hooked_write(path, text):
    calls["write"] += 1
    if calls["write"] == kill_write:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text[: len(text) // 2])
            fh.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    write(path, text)

def hooked_replace(src, dst, *a, **k):
    into_out = os.path.dirname(os.path.abspath(dst)) == out
    if into_out:
        calls["replace"] += 1
        if calls["replace"] == kill_replace and not kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
    replace(src, dst, *a, **k)
    if into_out and kill_after and calls["replace"] == kill_replace:
        os.kill(os.getpid(), signal.SIGKILL)

ex.write_text_file = hooked_write
os.replace = hooked_replace
os.symlink = no_links
from telecov.cli import main
main()
"""


def _args(world: Path, config: str) -> list[str]:
    return [
        "report", "--sites", str(world / "base_sites.csv"), "--areas", str(world / "base_areas.geojson"),
        "--population", str(world / "base_population.tif"), "--no-map", "--out", "out", "-q",
        *CONFIGS[config],
    ]  # fmt: skip


def _popen(
    cwd: Path, config: str, *, kill_write: int = 0, kill_replace: int = 0, after: bool = False
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KILL_WRITE": str(kill_write), "KILL_REPLACE": str(kill_replace),
           "KILL_AFTER": "1" if after else "0"}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-c", HOOK, *_args(cwd / "world", config)], cwd=cwd, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def _visible(out: Path) -> dict[str, bytes]:
    if not out.exists():
        return {}
    files = {}
    for path in out.iterdir():
        if path.name.startswith("."):
            continue  # the lock and the staging folder of a killed run
        assert path.name in SET, f"unexpected {path.name} in {out}"
        assert path.is_file() and not path.is_symlink(), f"{path.name} is not a plain file"
        files[path.name] = path.read_bytes()
    return files


def _config_of(run_json: bytes) -> str:
    info = json.loads(run_json)  # complete JSON, not truncated
    return "B" if info["radii_m"]["4G"] == 1000.0 else "A"


def _state(out: Path, refs: dict[str, dict[str, bytes]]) -> str | None:
    """The run whose complete set the folder holds (None: no manifest); fails on any broken promise."""
    files = _visible(out)
    for name, data in files.items():
        if name == "run.json":
            _config_of(data)
        else:
            assert any(ref[name] == data for ref in refs.values()), f"{name} is truncated or foreign"
    if "run.json" not in files:
        return None
    owner = _config_of(files["run.json"])
    assert manifests.verify(out, "report") == [], "the manifest lies"
    assert set(files) == set(SET), f"a partial set under a manifest: {sorted(files)}"
    for name, data in files.items():
        if name != "run.json":
            assert data == refs[owner][name], f"{name} is not the manifest's run's"
    return owner


@pytest.fixture(scope="module")
def refs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, bytes]], float]:
    """Each configuration's complete set, and the time a full run takes."""
    out: dict[str, dict[str, bytes]] = {}
    seconds = 0.0
    for config in CONFIGS:
        cwd = tmp_path_factory.mktemp(f"ref{config}")
        shutil.copytree(CORPUS, cwd / "world", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        t0 = time.perf_counter()
        proc = _popen(cwd, config)
        _, err = proc.communicate(timeout=300)
        seconds = max(seconds, time.perf_counter() - t0)
        assert proc.returncode == 0, err.decode()
        out[config] = _visible(cwd / "out")
        assert set(out[config]) == set(SET)
    assert out["A"]["coverage.csv"] != out["B"]["coverage.csv"]
    return out, seconds


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(CORPUS, tmp_path / "world", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return tmp_path


N_FILES = len(SET) - 1
# (write k, replace k, after): killed halfway through the k-th staged file, or just before
# (after) the k-th rename into --out: files 1..4 move in, then the manifest (5)
KILL_POINTS = [
    (2, 0, False), (0, 1, False), (0, 1, True), (0, 3, True), (0, N_FILES, True),
    (0, N_FILES + 1, False), (0, N_FILES + 1, True), (5, 0, False),
]  # fmt: skip


def test_killed_at_each_step_of_the_write(refs, folder: Path) -> None:
    references, _ = refs
    first = _popen(folder, "A")
    first.communicate(timeout=300)
    assert first.returncode == 0
    for kill_write, kill_replace, after in KILL_POINTS:
        before = _state(folder / "out", references)
        config = "B" if before == "A" else "A"
        proc = _popen(folder, config, kill_write=kill_write, kill_replace=kill_replace, after=after)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == -signal.SIGKILL, err.decode()
        state = _state(folder / "out", references)
        if kill_write:  # killed while staging: nothing in the folder changed
            assert state == before
        elif kill_replace == N_FILES + 1 and after:  # the manifest is in: the new set in full
            assert state == config
        else:  # between removing the manifest and writing it: no manifest
            assert state is None
        if state is None:  # a later complete run restores a set (the killed run's lock is stale)
            done = _popen(folder, "A")
            _, err = done.communicate(timeout=300)
            assert done.returncode == 0, err.decode()
            assert "stale lock" in err.decode() or not err.decode().strip()
            assert _state(folder / "out", references) == "A"
    done = _popen(folder, "A")  # a later complete run cleans up
    done.communicate(timeout=300)
    assert done.returncode == 0
    assert _state(folder / "out", references) == "A"
    assert sorted(p.name for p in (folder / "out").iterdir()) == sorted(SET)  # no staging, no lock


def test_first_run_killed_before_the_manifest_leaves_no_manifest(refs, folder: Path) -> None:
    references, _ = refs
    for kill_write, kill_replace in ((2, 0), (0, 3)):
        proc = _popen(folder, "B", kill_write=kill_write, kill_replace=kill_replace)
        proc.communicate(timeout=300)
        assert proc.returncode == -signal.SIGKILL
        assert _state(folder / "out", references) is None


def test_killed_at_random_moments(refs, folder: Path) -> None:
    references, seconds = refs
    rnd = random.Random(20261123)
    seen = set()
    for i in range(4):
        config = "AB"[i % 2]
        proc = _popen(folder, config)
        time.sleep(rnd.uniform(0.3 * seconds, 1.1 * seconds))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=300)
        seen.add(_state(folder / "out", references))
    assert seen <= {None, "A", "B"}
