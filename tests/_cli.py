"""Running the console script in-process, for tests that need its exit code and output."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest


def main_in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cwd: Path, *args: str
) -> tuple[object, str, str]:
    """Run ``telecov *args`` in ``cwd``; logging configured by the CLI is restored afterwards."""
    from telecov.cli import main

    root, package = logging.getLogger(), logging.getLogger("telecov")
    saved = (root.handlers[:], root.level, package.level)
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["telecov", *args])
    try:
        with pytest.raises(SystemExit) as exit_info:
            main()
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        package.setLevel(saved[2])
    captured = capsys.readouterr()
    return exit_info.value.code or 0, captured.out, captured.err
