"""Runs into one ``--out`` are serialised by a lock file: refused, waited for, or broken when stale."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from telecov.errors import InputError, TelecovWarning
from telecov.io import manifests
from telecov.io.locks import LOCK_NAME, LockHolder, acquire, is_stale, read_holder

from _cli import main_in_process

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
TELECOV = [sys.executable, "-c", "from telecov.cli import main; main()"]


@pytest.fixture
def world(tmp_path: Path) -> Path:
    for name in ("base_sites.csv", "base_areas.geojson", "base_population.tif"):
        shutil.copy(CORPUS / name, tmp_path / name)
    return tmp_path


def inputs(*extra: str) -> list[str]:
    return ["--sites", "base_sites.csv", "--areas", "base_areas.geojson", "--population",
            "base_population.tif", "--no-map", *extra]  # fmt: skip


@pytest.fixture
def sleeper():
    """A live process of this host that is not this one."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc
    proc.kill()
    proc.wait()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def write_lock(folder: Path, *, pid: int, host: str | None = None, start: int | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"pid": pid, "host": host or socket.gethostname(), "command": "report",
           "since": "2026-01-01T08:00:00Z", "token": "t0", "start": start}  # fmt: skip
    (folder / LOCK_NAME).write_text(json.dumps(doc), encoding="utf-8")


def test_a_held_lock_names_its_holder(world: Path, sleeper, monkeypatch, capsys) -> None:
    write_lock(world / "out", pid=sleeper.pid)
    code, _, err = main_in_process(monkeypatch, capsys, world, "report", *inputs(), "--out", "out")
    flat = " ".join(err.split())
    assert code == 2
    assert f"pid {sleeper.pid} on {socket.gethostname()} (telecov report, since 2026-01-01T08:00:00Z)" in flat
    assert "--wait" in flat and LOCK_NAME in flat
    assert [p.name for p in (world / "out").iterdir()] == [LOCK_NAME]  # nothing else touched


def test_wait_gives_up_after_the_time_given(world: Path, sleeper, monkeypatch, capsys) -> None:
    write_lock(world / "out", pid=sleeper.pid)
    t0 = time.monotonic()
    code, _, err = main_in_process(monkeypatch, capsys, world, "report", *inputs(), "--out", "out",
                                   "--wait", "0.6")  # fmt: skip
    assert code == 2 and time.monotonic() - t0 >= 0.6
    assert "waiting up to 0.6 s for pid" in err and "after waiting 0.6 s" in " ".join(err.split())


def test_wait_then_run_when_the_holder_is_done(world: Path, sleeper, monkeypatch, capsys) -> None:
    write_lock(world / "out", pid=sleeper.pid)
    timer = threading.Timer(1.0, lambda: (world / "out" / LOCK_NAME).unlink())
    timer.start()
    try:
        code, _, err = main_in_process(monkeypatch, capsys, world, "report", *inputs(), "--out", "out",
                                       "--wait", "60")  # fmt: skip
    finally:
        timer.join()
    assert code == 0, err
    assert "waiting up to 60 s" in err
    assert manifests.verify(world / "out", "report") == [] and not (world / "out" / LOCK_NAME).exists()


def test_a_stale_lock_is_broken_with_a_warning(world: Path, monkeypatch, capsys) -> None:
    pid = dead_pid()
    write_lock(world / "out", pid=pid)
    code, _, err = main_in_process(monkeypatch, capsys, world, "report", *inputs(), "--out", "out")
    assert code == 0, err
    assert f"warning: out/{LOCK_NAME}: broke a stale lock of pid {pid}" in err
    assert not (world / "out" / LOCK_NAME).exists()


def test_another_hosts_lock_is_never_broken(world: Path, monkeypatch, capsys) -> None:
    write_lock(world / "out", pid=dead_pid(), host="planner-pc")
    code, _, err = main_in_process(monkeypatch, capsys, world, "report", *inputs(), "--out", "out")
    assert code == 2 and "on planner-pc" in err


def test_staleness(sleeper) -> None:
    host = socket.gethostname()
    holder = LockHolder(pid=sleeper.pid, host=host, command="report", since="x", token="t")
    assert not is_stale(holder)
    assert is_stale(LockHolder(pid=dead_pid(), host=host, command="report", since="x", token="t"))
    if Path(f"/proc/{sleeper.pid}/stat").exists():  # a reused pid: the process started later
        assert is_stale(
            LockHolder(pid=sleeper.pid, host=host, command="report", since="x", token="t", start=1)
        )


def test_acquire_and_release(tmp_path: Path) -> None:
    lock = acquire(tmp_path, command="gaps")
    holder = read_holder(tmp_path / LOCK_NAME)
    assert holder is not None and holder.pid == os.getpid() and holder.command == "gaps"
    with pytest.raises(InputError, match="another telecov run is writing into this folder"):
        acquire(tmp_path, command="map")  # this very process holds it: never stale
    lock.release()
    assert not (tmp_path / LOCK_NAME).exists()
    with pytest.raises(InputError, match="`wait` nan"):
        acquire(tmp_path, command="map", wait=float("nan"))
    (tmp_path / LOCK_NAME).write_text("", encoding="utf-8")  # a run that is starting
    with pytest.raises(InputError, match="a run that is starting"):
        acquire(tmp_path, command="map")
    old = time.time() - 3600
    os.utime(tmp_path / LOCK_NAME, (old, old))  # empty for an hour: a crashed run's
    with pytest.warns(TelecovWarning, match="broke a stale lock of an unreadable lock"):
        acquire(tmp_path, command="map").release()


def test_two_real_runs_at_once_end_with_one_complete_set(world: Path) -> None:
    env = {**os.environ, "COLUMNS": "200"}
    configs = {"A": [], "B": ["--radius", "4G=1000"]}
    (world / "out").mkdir()
    held = acquire(world / "out", command="report")  # both runs start while the folder is taken
    logs = {k: world / f"{k}.err" for k in configs}
    procs = {}
    for k, v in configs.items():
        with logs[k].open("w", encoding="utf-8") as err:  # the child keeps its own copy
            argv = [*TELECOV, "report", *inputs(*v), "--out", "out", "--wait", "120"]
            procs[k] = subprocess.Popen(argv, cwd=world, env=env, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 120
    while not all("waiting up to 120 s" in log.read_text(encoding="utf-8") for log in logs.values()):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs.values())
        time.sleep(0.1)
    held.release()  # now they overlap: one writes, the other waits for it in turn
    for k, proc in procs.items():
        assert proc.wait(timeout=300) == 0, logs[k].read_text(encoding="utf-8")
    out = world / "out"
    assert manifests.verify(out, "report") == []
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert {f["name"] for f in run["files"]} | {"run.json"} == {p.name for p in out.iterdir()}
    assert run["radii_m"]["4G"] in (3000.0, 1000.0)
