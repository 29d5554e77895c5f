"""A ``telecov report`` killed while it writes leaves the previous complete set or none.

Two configurations whose outputs differ (default radii, ``--radius 4G=1000``) alternate in one
``--out`` folder. The CLI is killed with SIGKILL (a) at chosen points of the write (halfway
through a file, before and after the switch of the set) by a hook in the child process, and
(b) at random moments. After each kill every visible file must belong to one run, byte for
byte: never a mix of two runs, never a truncated file.
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

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
SET = ("coverage.csv", "coverage.geojson", "rejected_areas.csv", "rejected_sites.csv", "run.json")
CONFIGS = {"A": [], "B": ["--radius", "4G=1000"]}
HOOK = """
import os, signal, sys
import telecov.io.outputs as ex
kill_write, kill_replace = int(os.environ["KILL_WRITE"]), int(os.environ["KILL_REPLACE"])
kill_after = os.environ["KILL_AFTER"] == "1"
out = os.path.abspath("out")
calls = {"write": 0, "replace": 0}
write, replace = ex.write_text_file, os.replace

def hooked_write(path, text):
    calls["write"] += 1
    if calls["write"] == kill_write:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text[: len(text) // 2])
            fh.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    write(path, text)

def hooked_replace(src, dst, *a, **k):
    if os.path.abspath(dst).startswith(out):
        calls["replace"] += 1
        if calls["replace"] == kill_replace and not kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
    replace(src, dst, *a, **k)
    if kill_after and calls["replace"] == kill_replace:
        os.kill(os.getpid(), signal.SIGKILL)

ex.write_text_file = hooked_write
os.replace = hooked_replace
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
            continue
        assert path.name in SET, f"unexpected {path.name} in {out}"
        if path.exists():  # a dangling link counts as absent
            files[path.name] = path.read_bytes()
    return files


def _owner(files: dict[str, bytes], refs: dict[str, dict[str, bytes]]) -> str | None:
    """Which run the visible set belongs to (None: no set); fails on a mix or a partial set."""
    if not files:
        return None
    owners = set()
    for name, data in files.items():
        if name == "run.json":
            info = json.loads(data)  # complete JSON, not truncated
            owners.add("B" if info["radii_m"]["4G"] == 1000.0 else "A")
        else:
            matches = {k for k, ref in refs.items() if ref[name] == data}
            assert matches, f"{name} matches no complete run (truncated or mixed)"
            if len(matches) == 1:
                owners |= matches
    assert len(owners) <= 1, f"a mix of runs {owners}"
    assert set(files) == set(SET), f"a partial set: {sorted(files)}"
    return owners.pop() if owners else "A"


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


# (write k, replace k, after): killed halfway through the k-th file, or just before (after) the
# k-th rename in --out; with a previous set the only rename is the switch of the whole set
KILL_POINTS = [(2, 0, False), (5, 0, False), (0, 1, False), (0, 1, True)]


def test_killed_at_each_step_of_the_write(refs, folder: Path) -> None:
    references, _ = refs
    first = _popen(folder, "A")
    first.communicate(timeout=300)
    assert first.returncode == 0
    previous = "A"
    for kill_write, kill_replace, after in KILL_POINTS:
        config = "B" if previous == "A" else "A"
        proc = _popen(folder, config, kill_write=kill_write, kill_replace=kill_replace, after=after)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == -signal.SIGKILL, err.decode()
        owner = _owner(_visible(folder / "out"), references)
        assert owner == (config if after else previous)  # the new set in full, or the previous one
        previous = owner
    done = _popen(folder, "A")  # a later complete run cleans up and shows its own set
    done.communicate(timeout=300)
    assert done.returncode == 0
    assert _owner(_visible(folder / "out"), references) == "A"
    generations = list((folder / "out" / ".telecov" / "report").glob("gen-*"))
    assert len(generations) == 1


def test_first_run_killed_before_any_switch_leaves_nothing(refs, folder: Path) -> None:
    references, _ = refs
    proc = _popen(folder, "B", kill_write=2)
    proc.communicate(timeout=300)
    assert _owner(_visible(folder / "out"), references) is None


def test_first_run_killed_while_linking_shows_all_or_nothing(refs, folder: Path) -> None:
    references, _ = refs
    proc = _popen(folder, "B", kill_replace=3)  # links are made before the switch: killed while linking
    proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL
    _owner(_visible(folder / "out"), references)


def test_killed_at_random_moments(refs, folder: Path) -> None:
    references, seconds = refs
    rnd = random.Random(20261123)
    seen = set()
    for i in range(3):
        config = "AB"[i % 2]
        proc = _popen(folder, config)
        time.sleep(rnd.uniform(0.3 * seconds, 1.1 * seconds))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=300)
        seen.add(_owner(_visible(folder / "out"), references))
    assert seen <= {None, "A", "B"}
