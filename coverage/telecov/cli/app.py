"""The ``telecov`` typer app: global options, the error → exit-code mapping, the command list.

Thin by design: the commands parse options, call the library, print and set exit codes. Each
command lives in its own module; :data:`COMMANDS` is the one place that lists them.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.markup import escape

from ..errors import InputError, TooLargeError
from . import compare, crosswalk, gaps, import_cells, init, plan, report, targets
from . import map as map_
from ._console import CliState, err, show_warnings, state_of
from ._run import EXIT_INPUT, EXIT_INTERNAL, EXIT_TOO_LARGE
from .options import as_flags

app = typer.Typer(
    name="telecov",
    help="Telecom coverage per commune: BTS, 5G and fiber footprints against boundaries and population.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMANDS: dict[str, Callable[..., None]] = {
    "report": report.report,
    "gaps": gaps.gaps,
    "map": map_.map_command,
    "targets": targets.targets,
    "plan": plan.plan,
    "compare": compare.compare_command,
    "crosswalk": crosswalk.crosswalk_command,
    "import-cells": import_cells.import_cells_command,
    "init": init.init_command,
}
"""Every command of the app, by name, in the order ``telecov --help`` lists them."""

GLOBAL_FLAGS = frozenset({"-q", "--quiet", "-v", "-vv", "-vvv", "--verbose", "--debug"})
"""Global flags that may also follow the command name."""


def guard(func: Callable[..., None]) -> Callable[..., None]:
    """Run a command: data warnings as one line each, library errors as exit codes and short messages.

    Tracebacks are printed only with ``--debug``; ``func`` takes ``ctx: typer.Context``, where
    the global options are (``ctx.obj``).
    """
    if "ctx" not in inspect.signature(func).parameters:
        raise TypeError(f"{func.__name__}: a command takes ctx: typer.Context")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        state = state_of(kwargs.get("ctx"))
        try:
            with show_warnings(quiet=state.quiet):
                func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except (InputError, OSError) as exc:
            _fail(exc, EXIT_INPUT, "error", debug=state.debug)
        except TooLargeError as exc:
            _fail(exc, EXIT_TOO_LARGE, "too large", debug=state.debug)
        except Exception as exc:  # the last line of defence
            _fail(exc, EXIT_INTERNAL, "internal error", debug=state.debug)

    return wrapper


def _fail(exc: BaseException, code: int, label: str, *, debug: bool) -> None:
    if debug:
        err.print_exception()
    detail = as_flags(str(exc)) or type(exc).__name__
    if code == EXIT_INTERNAL and not debug:
        detail = f"{type(exc).__name__}: {detail} (run with --debug for the traceback)"
    err.print(f"[bold red]{label}:[/] {escape(detail)}", highlight=False)
    raise typer.Exit(code)


def _add_commands(group: typer.Typer) -> None:
    for name, command in COMMANDS.items():
        group.command(name)(guard(command))


_add_commands(app)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"telecov {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    verbose: Annotated[int, typer.Option("-v", "--verbose", count=True, help="More messages.")] = 0,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Only errors.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Tracebacks and debug messages.")] = False,
) -> None:
    """Exact, fast telecom coverage analysis per commune."""
    ctx.obj = CliState(debug=debug, quiet=quiet)
    if quiet:
        level = logging.ERROR
    elif debug or verbose > 1:
        level = logging.DEBUG
    else:
        level = logging.INFO if verbose else logging.WARNING
    handler: logging.Handler
    if err.is_terminal:
        from rich.logging import RichHandler  # 0.1 s of imports: only for a terminal

        handler = RichHandler(console=err, show_time=False, show_path=False, markup=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:  # a log file or pipe: one plain line per message
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.getLogger("telecov").setLevel(level)


def main() -> None:
    """Console-script entry point; global flags may also follow the command name.

    pyarrow's own allocator keeps the memory it freed (pandas' text columns and the Arrow
    readers use it): the command line asks for the system allocator instead, which gives a
    country run a lower peak (about 500 MB instead of 575 MB), unless the environment chooses.
    """
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")  # read when pyarrow is imported
    from .config import config_for_cli  # telecov.toml / --config FILE as click's default_map

    args = sys.argv[1:]
    flags = [a for a in args if a in GLOBAL_FLAGS]
    rest = [a for a in args if a not in GLOBAL_FLAGS]
    default_map, rest = config_for_cli(app, rest)
    # usage errors in a rich panel on a terminal; as plain lines in a log or pipe
    app.rich_markup_mode = "rich" if err.is_terminal else None
    app(args=flags + rest, prog_name="telecov", default_map=default_map)
