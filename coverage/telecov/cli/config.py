"""``telecov.toml``: every command-line option can come from a configuration file.

Layout: top-level keys apply to every command that has that option (``sites``, ``areas``,
``population``, ``target``, ``export``, ...); a ``[command]`` table (``[report]``,
``[import-cells]``, ...) applies to one command and wins over the top level. Keys are the long
option names without dashes (``no-map`` or ``no_map``, ``format``, ``out``); repeatable options
take a list; ``radius`` may also be a table (``[radius]`` with ``4G = 3000``), and
``[vocabulary.technology]`` / ``[vocabulary.status]`` tables add spellings
(:mod:`telecov.cli._vocabulary`). Relative paths are
relative to the file's folder. Flags given on the command line override the file.

The file is ``--config FILE`` or, without it, ``./telecov.toml`` when present (``--no-config``
ignores it). Unknown keys and values of the wrong type are errors naming the file and line.
The CLI hands the result to click as its ``default_map``. Parameters are inspected by duck
typing (``opts``, ``multiple``, typer's ``type_descriptor`` or click's ``type``), since typer may
ship its own copy of click.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..io.sources import is_url
from ..vocabulary import MAX_RADIUS_M, normalize_technology
from ._vocabulary import vocabulary_options
from .options import SAMPLE_DEM, URL_INPUTS

Param = Any
"""A click (or typer-vendored click) parameter."""
Group = Any
"""A click group: ``.commands`` (name → command with ``.params``) and ``.params``."""

CONFIG_NAME = "telecov.toml"
SKIP_PARAMS = frozenset({"help", "version"})
"""Parameters that a file cannot set."""
NO_CONFIG_COMMANDS = frozenset({"init"})
"""Commands that run without reading ``./telecov.toml`` (so a broken file can be rewritten)."""


COMMAND_ONLY = frozenset({"output", "format", "force", "cells"})
"""Options the template never puts at the top level (they differ per command)."""


def _option_keys(param: Param) -> list[str]:
    keys = {param.name.replace("_", "-")} if param.name else set()
    for opt in [*param.opts, *getattr(param, "secondary_opts", [])]:
        if opt.startswith("--"):
            keys.add(opt[2:])
    return sorted(keys)


def _index(group: Group) -> tuple[dict[str, dict[str, Param]], dict[str, Param]]:
    """Per command (and for the group itself): option key → parameter."""
    commands: dict[str, dict[str, Param]] = {}
    for name, cmd in sorted(group.commands.items()):
        keys: dict[str, Param] = {}
        for param in cmd.params:
            if param.name in SKIP_PARAMS:
                continue
            for key in _option_keys(param):
                keys[key] = param
        commands[name] = keys
    own: dict[str, Param] = {}
    for param in group.params:
        if param.name not in SKIP_PARAMS:
            for key in _option_keys(param):
                own[key] = param
    return commands, own


def _norm(key: str) -> str:
    return key.strip().lower().replace("_", "-")


def _line_of(text: str, table: str | None, key: str) -> int:
    """1-based line where ``key`` is set (in ``[table]`` when given); 0 when not found."""
    current: str | None = None
    header = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
    for i, line in enumerate(text.split("\n"), start=1):
        m = header.match(line)
        if m:
            name = m.group(1).strip().strip('"').strip("'")
            if table is None and _norm(name) == _norm(key):
                return i
            current = name
            continue
        km = re.match(r"""^\s*["']?([^"'=\s]+)["']?\s*=""", line)
        if current == table and km and km.group(1) == key:
            return i
    return 0


def _where(path: Path, text: str, table: str | None, key: str) -> str:
    line = _line_of(text, table, key)
    return f"{path}:{line}" if line else str(path)


def _is_path(param: Param) -> bool:
    if getattr(param, "name", None) in URL_INPUTS:
        return True
    desc = getattr(param, "type_descriptor", None)
    if desc is not None:
        return desc.annotation is Path
    return type(getattr(param, "type", None)).__name__ == "Path"


def _kept_as_written(param: Param, item: str, base: Path) -> bool:
    """Tell whether a value stays as written: a URL, or ``dem = "sample"`` with no such file."""
    sample = getattr(param, "name", None) == "dem" and item == SAMPLE_DEM and not (base / item).exists()
    return sample or is_url(item)


def _validate(param: Param, value: Any) -> None:
    """Convert ``value`` as the CLI would; raises the CLI's BadParameter."""
    if hasattr(param, "get_runtime_param"):
        param.get_runtime_param().coerce(value, param=param, ctx=None)
    else:
        param.type_cast_value(None, value)


def _coerce(value: Any, param: Param, *, base: Path, where: str, key: str) -> Any:
    """Check a value against the option's type; make relative paths absolute from ``base``."""
    multiple = bool(getattr(param, "multiple", False))
    if multiple:
        if isinstance(value, Mapping):
            value = [f"{k}={v}" for k, v in value.items()]
        elif not isinstance(value, list):
            value = [value]
        items = value
    else:
        if isinstance(value, list | dict):
            raise InputError(f"{where}: {key} takes a single value, not {type(value).__name__}")
        items = [value]
    out = []
    for item in items:
        if _is_path(param) and isinstance(item, str) and item and not _kept_as_written(param, item, base):
            p = Path(item).expanduser()
            item = str(p if p.is_absolute() else base / p)
        out.append(item)
    value = out if multiple else out[0]
    try:
        _validate(param, value)
    except Exception as exc:
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        raise InputError(f"{where}: {key} = {value!r}: {message}") from exc
    return value


def _radius_problem(tech: str, metres: Any) -> str | None:
    """Why ``tech = metres`` is not a radius entry (the rule of ``--radius`` and of a site row)."""
    if normalize_technology(tech) is None:
        return f"unknown technology {tech!r}"
    if isinstance(metres, str):
        try:
            metres = float(metres)
        except ValueError:
            return "the radius must be a number of metres"
    if isinstance(metres, bool) or not isinstance(metres, int | float):
        return "the radius must be a number of metres"
    if not math.isfinite(metres) or metres <= 0:
        return "the radius must be a positive number of metres"
    if metres > MAX_RADIUS_M:
        return f"radius {metres:g} m is larger than {MAX_RADIUS_M:g} m"
    return None


def _check_radius(source: _Source, table: str | None, key: str, value: Any) -> None:
    """Check ``radius`` (a ``[radius]`` table or a list of ``T=M``), naming the line of a bad entry."""
    if isinstance(value, Mapping):
        sub = f"{table}.{key}" if table else key
        items = [(str(k), v, source.where(sub, str(k))) for k, v in value.items()]
    else:
        where = source.where(table, key)
        entries = value if isinstance(value, list) else [value]
        items = [(*(str(e).partition("=")[::2]), where) for e in entries]
    for tech, metres, where in items:
        problem = _radius_problem(tech.strip(), metres)
        if problem is not None:
            raise InputError(f"{where}: radius {tech.strip()} = {metres!r}: {problem}")


def _unknown(where: str, key: str, known: Sequence[str], scope: str) -> InputError:
    hint = difflib.get_close_matches(_norm(key), list(known), n=1)
    more = f"; did you mean {hint[0]!r}?" if hint else ""
    return InputError(f"{where}: unknown key {key!r} {scope}{more}")


@dataclass(frozen=True)
class _Source:
    """A configuration file being read: where values are set, and the folder of relative paths."""

    path: Path
    text: str

    @property
    def base(self) -> Path:
        return self.path.resolve().parent

    def where(self, table: str | None, key: str) -> str:
        return _where(self.path, self.text, table, key)


def _read(cfg: Path) -> tuple[_Source, dict[str, Any]]:
    try:
        text = cfg.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"--config {cfg}: file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{cfg}: cannot read the configuration ({exc})") from exc
    try:
        return _Source(cfg, text), tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{cfg}: not valid TOML: {exc}") from exc


def load_config(path: str | Path, group: Group) -> dict[str, Any]:
    """Read ``path`` and turn it into a click ``default_map`` for ``group``.

    Parameters
    ----------
    path
        The TOML file.
    group
        The CLI's click group (``typer.main.get_command(app)``).

    Returns
    -------
    dict
        ``{option: value}`` for the group's own options and ``{command: {option: value}}``.

    Raises
    ------
    InputError
        Unreadable or invalid TOML, unknown keys or values of the wrong type (naming the line).

    """
    source, data = _read(Path(path))
    commands, own = _index(group)
    result, shared, tables = _top_level(source, data, commands, own)
    problems: dict[str, InputError | None] = {}
    for name, keys in commands.items():
        sub = _shared_for(source, keys, shared, problems)
        if name in tables:
            table_name, table = tables[name]
            sub.update(_table_for(source, name, table_name, table, keys))
        if sub:
            result[name] = sub
    for problem in problems.values():
        if problem is not None:  # the value suits no command that has the option
            raise problem
    return result


def _top_level(
    source: _Source, data: dict[str, Any], commands: dict[str, dict[str, Param]], own: dict[str, Param]
) -> tuple[dict[str, Any], dict[str, tuple[str, Any]], dict[str, tuple[str, dict[str, Any]]]]:
    """Split the top level into the group's own values, shared keys and ``[command]`` tables."""
    all_keys = sorted({k for keys in commands.values() for k in keys} | set(own))
    result: dict[str, Any] = {}
    shared: dict[str, tuple[str, Any]] = {}
    tables: dict[str, tuple[str, dict[str, Any]]] = {}
    added: dict[str, list[str]] = {}
    for key, value in data.items():
        nkey = _norm(key)
        if nkey == "vocabulary":
            added = vocabulary_options(value, where=source.where)
            continue
        if nkey in commands and isinstance(value, dict):
            tables[nkey] = (key, value)
            continue
        where = source.where(None, key)
        if nkey == "radius":
            _check_radius(source, None, key, value)
        if nkey in own:
            param = own[nkey]
            result[param.name] = _coerce(value, param, base=source.base, where=where, key=key)
        elif any(nkey in keys for keys in commands.values()):
            shared[nkey] = (key, value)
        else:
            raise _unknown(where, key, all_keys + sorted(commands), "(not an option of any command)")
    for option, items in added.items():  # [vocabulary] adds to the file's own --*-alias items
        key, value = shared.get(option, (option, []))
        shared[option] = (key, [*(value if isinstance(value, list) else [value]), *items])
    return result, shared, tables


def _shared_for(
    source: _Source,
    keys: dict[str, Param],
    shared: dict[str, tuple[str, Any]],
    problems: dict[str, InputError | None],
) -> dict[str, Any]:
    """Return the top-level values that one command has options for.

    ``problems`` keeps, per key, the first error while no command took the value (None once one did).
    """
    sub: dict[str, Any] = {}
    for nkey, (key, value) in shared.items():
        if nkey not in keys:
            continue
        param = keys[nkey]
        try:
            sub[param.name] = _shared_value(
                value, param, base=source.base, where=source.where(None, key), key=key
            )
            problems[nkey] = None
        except InputError as exc:
            problems.setdefault(nkey, exc)
    return sub


def _table_for(
    source: _Source, name: str, table_name: str, table: dict[str, Any], keys: dict[str, Param]
) -> dict[str, Any]:
    """Return the values of one ``[command]`` table; unknown keys are errors."""
    sub: dict[str, Any] = {}
    for key, value in table.items():
        nkey = _norm(key)
        where = source.where(table_name, key)
        if nkey not in keys:
            raise _unknown(where, key, sorted(keys), f"in [{table_name}] (not an option of 'telecov {name}')")
        param = keys[nkey]
        if nkey == "radius":
            _check_radius(source, table_name, key, value)
        sub[param.name] = _coerce(value, param, base=source.base, where=where, key=key)
    return sub


def _shared_value(value: Any, param: Param, *, base: Path, where: str, key: str) -> Any:
    """Return a top-level value for one command; raise when it suits none of the command.

    A list keeps the items this command accepts (``export = ["gpkg", "xlsx"]`` gives a command
    that only writes GeoJSON and GeoPackage its GeoPackage).
    """
    try:
        return _coerce(value, param, base=base, where=where, key=key)
    except InputError:
        if not (getattr(param, "multiple", False) and isinstance(value, list) and len(value) > 1):
            raise
        kept = []
        for item in value:
            try:
                kept.append(_coerce([item], param, base=base, where=where, key=key)[0])
            except InputError:
                continue
        if not kept:
            raise
        return kept


def _command_of(args: Sequence[str], group: Group) -> str | None:
    names = set(group.commands)
    return next((a for a in args if a in names), None)


def default_map_from_args(
    group: Group, args: Sequence[str], *, cwd: str | Path | None = None
) -> tuple[dict[str, Any] | None, list[str]]:
    """Find the configuration for a command line and return (default_map, remaining args).

    ``--config FILE`` (or ``--config=FILE``) names the file; ``--no-config`` disables it;
    otherwise ``telecov.toml`` in ``cwd`` (default: the current folder) is used when present.
    """
    rest: list[str] = []
    chosen: str | None = None
    disabled = False
    it = iter(args)
    for arg in it:
        if arg == "--":
            rest.append(arg)
            rest.extend(it)
            break
        if arg == "--config":
            chosen = next(it, None)
            if chosen is None:
                raise InputError("--config: expected a file name")
        elif arg.startswith("--config="):
            chosen = arg.split("=", 1)[1]
        elif arg == "--no-config":
            disabled = True
        else:
            rest.append(arg)
    if disabled:
        return None, rest
    if chosen is None:
        if _command_of(rest, group) in NO_CONFIG_COMMANDS or {"--help", "--version"} & set(rest):
            return None, rest
        auto = Path(cwd or ".") / CONFIG_NAME
        if not auto.is_file():
            return None, rest
        chosen = str(auto)
    return load_config(chosen, group), rest


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(getattr(v, "value", v)) for v in value) + "]"
    return '"' + str(getattr(value, "value", value)).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _example(param: Param) -> str:
    default = param.default
    if getattr(param, "multiple", False):
        if param.name == "radius":
            return '["4G=3000", "5G=600"]'
        desc = getattr(param, "type_descriptor", None)
        choices = getattr(desc, "choices", None) if desc is not None else None
        return _toml_value([str(getattr(c, "value", c)) for c in choices][:2]) if choices else "[]"
    if default is not None and not callable(default):
        return _toml_value(default)
    if _is_path(param):
        return '"FILE"'
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if annotation is int:
        return "0"
    if annotation is float:
        return "0.0"
    return '""'


def _entry(key: str, param: Param) -> list[str]:
    help_text = " ".join((getattr(param, "help", None) or "").split())
    lines = [f"# {help_text}"] if help_text else []
    return [*lines, f"# {key} = {_example(param)}"]


def config_template(group: Group) -> str:
    """Return a commented ``telecov.toml`` listing every option of every command (all commented out)."""
    commands, _ = _index(group)
    canonical: dict[str, dict[str, Param]] = {}
    for name, keys in commands.items():
        seen: dict[str, Param] = {}
        for key, param in keys.items():
            long = [o[2:] for o in param.opts if o.startswith("--")]
            if (long and key == long[0] and key not in seen) or (
                not long and param.name and key == param.name.replace("_", "-")
            ):
                seen[key] = param
        canonical[name] = seen
    counts: dict[str, int] = {}
    for keys in canonical.values():
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
    main = set(canonical.get("report", {})) - {"format", "no-map"}
    # a key that names a command (report's --crosswalk vs the crosswalk command) stays in its
    # command's table: TOML cannot hold both a top-level value and a [table] of that name
    shared = sorted(
        k for k, n in counts.items() if (n > 1 or k in main) and k not in COMMAND_ONLY and k not in canonical
    )
    lines = [
        "# telecov configuration — every option of every command can be set here.",
        "# Command-line flags override this file. Relative paths are relative to this file's folder.",
        "# Top-level keys apply to every command that has the option; a [command] table to one command.",
        "# Uncomment and edit the lines you need. Repeatable options take a list.",
        "",
    ]
    first = next(iter(canonical.values()), {})
    for key in shared:
        owners = [canonical.get("report", {}), *canonical.values()]
        param = next(keys[key] for keys in owners if key in keys)
        lines += [*_entry(key, param or first[key]), ""]
    for name in sorted(canonical):
        own = [k for k in sorted(canonical[name]) if k not in shared]
        if not own:
            continue
        lines.append(f"[{name}]")
        for key in own:
            lines += _entry(key, canonical[name][key])
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def config_for_cli(app: Any, args: list[str]) -> tuple[dict[str, Any] | None, list[str]]:
    """For ``cli.main``: the ``default_map`` and remaining args; exits 2 on a bad configuration.

    Builds the click group only when a configuration is named or ``./telecov.toml`` exists.
    """
    wanted = any(a in ("--config", "--no-config") or a.startswith("--config=") for a in args)
    if not wanted and not Path(CONFIG_NAME).is_file():
        return None, list(args)
    import typer

    group = typer.main.get_command(app)
    try:
        return default_map_from_args(group, args)
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc
