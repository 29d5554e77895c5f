"""The consoles, the run state of the global options, and how data warnings are shown.

Messages on stderr are never hard-wrapped (``soft_wrap``): a terminal wraps them on screen,
and a log file gets one line per message. Colours only reach a terminal, and not when
``NO_COLOR`` is set (rich's own rules).
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Iterator
from typing import TextIO

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import TelecovWarning
from .options import as_flags

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


@dataclasses.dataclass(frozen=True)
class CliState:
    """What the global options ask of every command (``ctx.obj``)."""

    debug: bool = False
    quiet: bool = False


def state_of(ctx: typer.Context | None) -> CliState:
    """Return the :class:`CliState` of a command's context (the defaults without one)."""
    state = ctx.find_object(CliState) if ctx is not None else None
    return state if state is not None else CliState()


def note(message: str, *, state: CliState) -> None:
    """Print a note on stderr (not with ``-q``)."""
    if not state.quiet:
        err.print(message, highlight=False)


@contextlib.contextmanager
def show_warnings(*, quiet: bool) -> Iterator[None]:
    """Show each :class:`TelecovWarning` as one ``warning: ...`` line on stderr (none with ``-q``).

    Every such warning is shown (also a repeated one), never raised, whatever the warning filters
    around the command say; other warnings keep their filters and their usual display.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("always", TelecovWarning)
        previous = warnings.showwarning

        def show(
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: TextIO | None = None,
            line: str | None = None,
        ) -> None:
            if not issubclass(category, TelecovWarning):
                previous(message, category, filename, lineno, file, line)
            elif not quiet:
                text = as_flags(" ".join(str(message).split()))
                err.print(f"[yellow]warning:[/] {escape(text)}", highlight=False, soft_wrap=True)

        warnings.showwarning = show
        yield
