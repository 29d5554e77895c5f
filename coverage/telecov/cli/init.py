"""``telecov init``: write a commented ``telecov.toml``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._console import err
from .options import ForceOpt


def init_command(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="Configuration file to write.")] = Path(
        "telecov.toml"
    ),
    force: ForceOpt = False,
) -> None:
    """Write a commented telecov.toml listing every option (flags given later override it)."""
    from ..io.outputs import write_output_file, write_text_file
    from .config import config_template

    text = config_template(ctx.find_root().command)  # the telecov group: every command
    write_output_file(output, lambda p: write_text_file(p, text), force=force)
    err.print(f"wrote {output}: uncomment the options you need; command-line flags override them")
