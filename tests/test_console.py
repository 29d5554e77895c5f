"""What telecov prints on stderr: one line per message off a terminal, colours only on a terminal."""

from __future__ import annotations

import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
TELECOV = [sys.executable, "-c", "from telecov.cli import main; main()"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
LONG = "a-folder-with-a-rather-long-name-" * 4


@pytest.fixture
def world(tmp_path: Path) -> Path:
    (tmp_path / LONG).mkdir()
    for name in ("base_sites.csv", "base_areas.geojson", "base_population.tif"):
        shutil.copy(CORPUS / name, tmp_path / LONG / name)
    return tmp_path


def args(*extra: str) -> list[str]:
    folder = LONG + "/"
    return ["report", "--sites", folder + "base_sites.csv", "--areas", folder + "base_areas.geojson",
            "--population", folder + "base_population.tif", "--no-map", "--out", "out", *extra]  # fmt: skip


def piped(cwd: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS")}
    return subprocess.run([*TELECOV, *argv], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**environ, **env})  # fmt: skip


def on_a_terminal(cwd: Path, *argv: str, **env: str) -> tuple[int, str]:
    """Run with stderr on a pseudo-terminal 80 columns wide; exit code and what it showed."""
    leader, follower = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    proc = subprocess.Popen([*TELECOV, *argv], cwd=cwd, stdout=subprocess.DEVNULL, stderr=follower,
                            env={**environ, "TERM": "xterm-256color", "COLUMNS": "80", **env})  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=300), b"".join(chunks).decode("utf-8", "replace")


def test_an_error_is_one_line_in_a_log(world: Path) -> None:
    proc = piped(world, *args("--sites-crs", "UTM48"))
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --sites-crs 'UTM48': not a CRS")
    assert len(lines[0]) > 200  # long, and not wrapped at 80 columns
    assert not ANSI.search(proc.stderr)


def test_warnings_and_log_messages_are_one_line_each(world: Path) -> None:
    proc = piped(world, "-v", *args("--resolution", "0.01"), COLUMNS="60")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines and all(line.startswith(("INFO: ", "warning: ")) for line in lines), lines
    assert any(LONG in line and "area id field" in line for line in lines)  # a long line, kept whole
    assert not ANSI.search(proc.stderr)


def test_usage_errors_are_plain_lines_in_a_log(world: Path) -> None:
    proc = piped(world, "report", "--bogus")
    assert proc.returncode == 2
    assert "Error: No such option: --bogus" in proc.stderr
    assert "╭" not in proc.stderr and not ANSI.search(proc.stderr)


def test_colours_on_a_terminal_unless_no_color(world: Path) -> None:
    code, shown = on_a_terminal(world, *args("--sites-crs", "UTM48"))
    assert code == 2 and ANSI.search(shown), shown  # a terminal gets colours
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)
    message = plain[plain.index("error: --sites-crs") :].strip()
    assert len(message) > 80 and "\n" not in message  # the terminal wraps it, not telecov
    code, shown = on_a_terminal(world, *args("--sites-crs", "UTM48"), NO_COLOR="1")
    assert code == 2 and "error: --sites-crs 'UTM48'" in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)
    assert not re.search(r"\x1b\[[0-9;]*3[0-9]m", shown)  # no colour (bold may stay, as NO_COLOR allows)
