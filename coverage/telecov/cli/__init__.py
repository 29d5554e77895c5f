"""The ``telecov`` command line: a typer app, one module per command."""

from .app import main

__all__ = ["main"]
