"""Run many ``telecov`` command lines through the real entry point in one interpreter.

Reads a JSON list of ``{"name", "cwd", "argv"}`` on stdin; for each, sets ``sys.argv``, calls
:func:`telecov.cli.main` with stdout and stderr captured, and records the exit code. An
exception escaping the CLI is printed as a traceback into that case's stderr (exit -1), so a
crash shows exactly as it would to a user. Writes a JSON list of results on stdout. One
interpreter for the whole corpus keeps the start-up cost (~1 s per process) paid once.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
import traceback


def main() -> int:
    """Run the cases read from stdin."""
    cases = json.load(sys.stdin)
    from telecov.cli import main as telecov_main

    real_stdout = sys.stdout
    results = []
    for case in cases:
        os.chdir(case["cwd"])
        out, err = io.StringIO(), io.StringIO()
        code = 0
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            sys.argv = ["telecov", *case["argv"]]
            try:
                telecov_main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:  # what a user would see as a crash
                traceback.print_exc()
                code = -1
        results.append({"name": case["name"], "exit": code, "stdout": out.getvalue(),
                        "stderr": err.getvalue(), "seconds": round(time.perf_counter() - t0, 3)})  # fmt: skip
    real_stdout.write(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
