"""``telecov init``: write a commented ``telecov.toml``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import app, err, guard
from ..errors import InputError


@app.command("init")
@guard
def init_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Configuration file to write.")] = Path(
        "telecov.toml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a commented telecov.toml listing every option (flags given later override it)."""
    from .config import config_template
    from ..io.outputs import write_file_atomic, write_text_file

    if output.exists() and not force:
        raise InputError(f"--output {output}: already exists (pass --force to replace it)")
    if output.is_dir():
        raise InputError(f"--output {output}: is a folder")
    text = config_template(typer.main.get_command(app))
    try:
        write_file_atomic(output, lambda p: write_text_file(p, text))
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}") from exc
    err.print(f"wrote {output}: uncomment the options you need; command-line flags override them")
