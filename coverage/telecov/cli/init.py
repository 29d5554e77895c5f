"""``telecov init``: write a commented ``telecov.toml``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError
from ._console import err


def init_command(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="Configuration file to write.")] = Path(
        "telecov.toml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a commented telecov.toml listing every option (flags given later override it)."""
    from ..io.outputs import write_file_atomic, write_text_file
    from .config import config_template

    if output.exists() and not force:
        raise InputError(f"--output {output}: already exists (pass --force to replace it)")
    if output.is_dir():
        raise InputError(f"--output {output}: is a folder")
    text = config_template(ctx.find_root().command)  # the telecov group: every command
    try:
        write_file_atomic(output, lambda p: write_text_file(p, text))
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}") from exc
    err.print(f"wrote {output}: uncomment the options you need; command-line flags override them")
