"""Build hook: the wheel carries telecov's kernels compiled for the building machine.

After the package is copied into the build folder, the bundled sample's commands run once on
that copy (``python -m telecov.cli.precompile``) so that numba's cache (``__pycache__``
beside each module) holds every kernel; a first run after ``pip install .`` on the same machine
then compiles nothing. Set ``TELECOV_PRECOMPILE=0`` to skip it; editable installs skip it (the
source tree's cache is filled by the first run). A failed precompile never fails the build.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


def precompile(
    build_lib: Path, *, python: str = sys.executable, environ: Mapping[str, str] = os.environ
) -> int:
    """Run the precompile on the built copy in ``build_lib``; returns the subprocess's exit code.

    The built copy goes first on ``PYTHONPATH``; the entries already there stay, since a build
    frontend's isolated environment (pip's) makes the build requirements importable through
    them. numba's cache goes beside the built modules (``NUMBA_CACHE_DIR`` is dropped).
    """
    lib = str(Path(build_lib).resolve())
    env = {k: v for k, v in environ.items() if k != "NUMBA_CACHE_DIR"}
    env["PYTHONPATH"] = os.pathsep.join([lib, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    cmd = [python, "-P", "-m", "telecov.cli.precompile"]
    return subprocess.run(cmd, env=env, cwd=lib, check=False).returncode


class BuildWithKernels(build_py):
    """``build_py`` that then compiles the kernels into the built copy's numba cache."""

    def run(self) -> None:
        """Build as usual, then precompile (skipped for editable installs or on request)."""
        super().run()
        if getattr(self, "editable_mode", False) or os.environ.get("TELECOV_PRECOMPILE", "1") == "0":
            return
        if precompile(Path(self.build_lib)) != 0:
            print("telecov: kernels not precompiled; the first run compiles them", file=sys.stderr)


if __name__ == "__main__":
    setup(cmdclass={"build_py": BuildWithKernels})
