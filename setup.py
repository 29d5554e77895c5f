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
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithKernels(build_py):
    """``build_py`` that then compiles the kernels into the built copy's numba cache."""

    def run(self) -> None:
        """Build as usual, then precompile (skipped for editable installs or on request)."""
        super().run()
        if getattr(self, "editable_mode", False) or os.environ.get("TELECOV_PRECOMPILE", "1") == "0":
            return
        env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_CACHE_DIR")}
        env.update(PYTHONPATH=str(Path(self.build_lib).resolve()), PYTHONDONTWRITEBYTECODE="1")
        cmd = [sys.executable, "-P", "-m", "telecov.cli.precompile"]
        done = subprocess.run(cmd, env=env, cwd=self.build_lib, check=False)
        if done.returncode != 0:
            print("telecov: kernels not precompiled; the first run compiles them", file=sys.stderr)


setup(cmdclass={"build_py": BuildWithKernels})
