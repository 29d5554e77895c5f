"""What each numba kernel costs to compile, on the run of one command, with a cold cache.

Runs ``telecov report --no-map`` on the bundled sample (or ``--sites/--areas/--population``)
in a fresh child process whose ``NUMBA_CACHE_DIR`` is a new empty folder, records numba's
``numba:compile`` events (start and end of every compilation, nested ones included) and prints,
per kernel and signature, the time spent compiling it (exclusive of the kernels it calls,
which are listed on their own) and in total; then runs the same command again on the now
warm cache, to show what loading the cached kernels costs. The load average is printed beside.

Usage::

    python scripts/profile_compile.py                 # the bundled sample, cold then warm
    python scripts/profile_compile.py --repeat 3      # the cold run 3 times: median and spread
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = r"""
import json, sys, time
from numba.core import event

records = []

class Recorder(event.Listener):
    def on_start(self, ev):
        func = ev.data["dispatcher"].py_func
        name = func.__module__ + "." + func.__qualname__
        records.append(("start", name, str(ev.data["args"]), time.perf_counter()))

    def on_end(self, ev):
        records.append(("end", "", "", time.perf_counter()))

event.register("numba:compile", Recorder())
sys.argv = ["telecov", *sys.argv[2:]]
out = sys.argv  # keep
t0 = time.perf_counter()
code = 0
try:
    from telecov.cli import main
    main()
except SystemExit as exc:
    code = exc.code or 0
wall = time.perf_counter() - t0
stack, spent = [], {}
for kind, name, args, t in records:
    if kind == "start":
        stack.append([name, args, t, 0.0])
    else:
        name, args, t_start, inner = stack.pop()
        total = t - t_start
        key = name + " " + args
        spent[key] = spent.get(key, 0.0) + total - inner
        if stack:
            stack[-1][3] += total
with open(sys.argv_path if hasattr(sys, "argv_path") else __import__("os").environ["PROFILE_OUT"], "w") as fh:
    json.dump({"wall": wall, "spent": spent, "code": code}, fh)
"""


def sample_args(out: Path) -> list[str]:
    """``report --no-map`` on the bundled sample, into ``out``."""
    from telecov import sample_path

    return ["report", "--sites", str(sample_path("sites.csv")), "--areas", str(sample_path("communes.gpkg")),
            "--population", str(sample_path("population.tif")), "--no-map", "--format", "csv",
            "--out", str(out)]  # fmt: skip


def run(args: list[str], *, cache: Path, cwd: Path) -> dict[str, object]:
    """One child process: its wall time and the compile time of each kernel."""
    out = cwd / "profile.json"
    shutil.rmtree(cwd / "out", ignore_errors=True)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PROFILE_OUT": str(out)}
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", _CHILD, "-", *args], cwd=cwd, env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(out.read_text())
    if result["code"] != 0:
        raise SystemExit(f"telecov {' '.join(args)} exited with {result['code']}")
    result["process"] = time.perf_counter() - t0
    result["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return dict(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=1, help="cold runs (each with a new cache)")
    parser.add_argument("--top", type=int, default=25, help="kernels listed")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        args = sample_args(cwd / "out")
        colds = []
        for i in range(opts.repeat):
            load = os.getloadavg()[0]
            colds.append(run(args, cache=cwd / f"cache{i}", cwd=cwd))
            print(f"cold run {i + 1}: {colds[-1]['process']:.2f} s wall, {colds[-1]['cpu']:.2f} s CPU "
                  f"(load {load:.2f})", flush=True)  # fmt: skip
        load = os.getloadavg()[0]
        warm = run(args, cache=cwd / "cache0", cwd=cwd)
        print(f"warm run: {warm['process']:.2f} s wall, {warm['cpu']:.2f} s CPU (load {load:.2f})")
    spent: dict[str, list[float]] = {}
    for cold in colds:
        for key, seconds in dict(cold["spent"]).items():  # type: ignore[call-overload]
            spent.setdefault(key, []).append(seconds)
    rows = sorted(((statistics.median(v), k) for k, v in spent.items()), reverse=True)
    total = sum(s for s, _ in rows)
    print(
        f"\ncompiling: {total:.2f} s in {len(rows)} compilations (median over cold runs); "
        f"process median {statistics.median(float(c['process']) for c in colds):.2f} s"
    )  # type: ignore[arg-type]
    by_kernel: dict[str, float] = {}
    for seconds, key in rows:
        by_kernel[key.split(" ", 1)[0]] = by_kernel.get(key.split(" ", 1)[0], 0.0) + seconds
    for name, seconds in sorted(by_kernel.items(), key=lambda kv: -kv[1])[: opts.top]:
        n = sum(1 for _, k in rows if k.split(" ", 1)[0] == name)
        print(f"{seconds:7.2f} s  {name}  ({n} signature{'s' if n > 1 else ''})")
    print(f"\nwarm: {sum(dict(warm['spent']).values()):.2f} s compiling")  # type: ignore[call-overload]


if __name__ == "__main__":
    main()
