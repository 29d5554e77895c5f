"""The CLI's layout: shared input options declared once, configuration files, data warnings."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import typer

from telecov.cli.app import COMMANDS, app, guard
from telecov.cli.options import ANALYSIS_INPUTS, AnalysisInputs
from telecov.errors import TelecovWarning

from _cli import main_in_process
from _worlds import Grid, write_raster

ANALYSING = ("report", "gaps", "map", "targets", "plan")
OWN_OPTIONS = {
    "report": {
        "out_dir",
        "target",
        "no_map",
        "fmt",
        "export",
        "excel_safe",
        "poi",
        "crosswalk",
        "compare",
        "radius_uncertainty",
        "force",
        "wait",
    },
    "gaps": {"technology", "target", "metric", "fmt", "export", "min_people", "out_dir", "force", "wait"},
    "map": {"out_dir", "technology", "metric", "png", "tiles", "attribution", "force", "wait"},
    "targets": {"plan", "check", "poi", "fmt", "out_dir", "wait"},
    "plan": {
        "technology",
        "target",
        "metric",
        "scope",
        "budget",
        "budget_cost",
        "min_gain",
        "min_spacing",
        "exclude",
        "candidates",
        "upgrade_from",
        "grid",
        "check",
        "no_map",
        "fmt",
        "out_dir",
        "force",
        "wait",
    },
}


@pytest.fixture(scope="module")
def group():
    return typer.main.get_command(app)


def test_the_analysing_commands_take_exactly_the_analysis_inputs(group) -> None:
    assert set(ANALYSING) <= set(COMMANDS) and set(group.commands) == set(COMMANDS)
    assert len(set(ANALYSIS_INPUTS)) == len(ANALYSIS_INPUTS) == 35
    assert {"sites", "areas", "population", "by", "combined", "strict"} <= set(ANALYSIS_INPUTS)
    assert {"workers", "scheduler", "scheduler_timeout"} <= set(ANALYSIS_INPUTS)
    for name in ANALYSING:
        names = [p.name for p in group.commands[name].params]
        assert len(names) == len(set(names)), name
        assert set(ANALYSIS_INPUTS) <= set(names), (name, set(ANALYSIS_INPUTS) - set(names))
        assert set(names) - set(ANALYSIS_INPUTS) == OWN_OPTIONS[name], name


def test_a_shared_option_is_the_same_option_in_every_command(group) -> None:
    def described(command: str, name: str) -> tuple[object, ...]:
        param = next(p for p in group.commands[command].params if p.name == name)
        return (tuple(param.opts), param.help, param.default, param.multiple, param.is_flag)

    for name in ANALYSIS_INPUTS:
        first = described("report", name)
        assert first[1], name  # it has a help text
        for command in ANALYSING[1:]:
            assert described(command, name) == first, (command, name)
    defaults = AnalysisInputs()
    for name in ANALYSIS_INPUTS:
        assert described("report", name)[2] == getattr(defaults, name), name


def test_other_commands_do_not_take_the_analysis_inputs(group) -> None:
    for name in set(COMMANDS) - set(ANALYSING):
        names = {p.name for p in group.commands[name].params}
        assert not {"sites", "areas", "by", "combined", "strict"} & names, name


# --- --config / --no-config / ./telecov.toml with every analysing command ---

PLAN = """name = "plan"
[[target]]
name = "4G everywhere"
technology = "4G"
metric = "population"
at_least = 100
scope = "area"
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two communes (001 Alphaville, 002 Betatown); one 4G site covers part of 001."""
    folder = tmp_path_factory.mktemp("layoutworld")
    grid = Grid(west=105.0, north=18.5, ncols=24, nrows=24, res=1 / 120)
    write_raster(folder / "pop.tif", grid, np.full((24, 24), 50.0))
    gpd.GeoDataFrame(
        {"code": ["001", "002"], "name": ["Alphaville", "Betatown"]},
        geometry=[shapely.box(105.02, 18.35, 105.10, 18.45), shapely.box(105.10, 18.35, 105.18, 18.45)],
        crs=4326,
    ).to_file(folder / "areas.gpkg")
    (folder / "sites.csv").write_text(
        "site_id,operator,technology,lon,lat,radius_m\na,X,4G,105.06,18.40,2000\n", encoding="utf-8"
    )
    (folder / "plan.toml").write_text(PLAN, encoding="utf-8")
    (folder / "telecov.toml").write_text(
        'sites = "sites.csv"\nareas = "areas.gpkg"\npopulation = "pop.tif"\narea-id = "code"\n'
        'select = "code=001"\nout = "results"\n',
        encoding="utf-8",
    )
    return folder


def _areas_named(command: str, stdout: str, out_dir: Path) -> set[str]:
    """The commune ids a command's output speaks of."""
    if command == "map":
        html = (out_dir / "coverage.html").read_text(encoding="utf-8")
        return {code for code, name in (("001", "Alphaville"), ("002", "Betatown")) if name in html}
    rows = json.loads(stdout)
    if command == "targets":
        return set(rows[0]["failing_areas"])
    if command == "plan":
        table = (out_dir / "coverage_after.csv").read_text(encoding="utf-8").splitlines()[1:]
        return {line.split(",")[1] for line in table if line.startswith("area,")}
    return {r["area_id"] for r in rows if command == "gaps" or r["level"] == "area"}


ARGS = {
    "report": ["report", "--no-map", "--format", "json"],
    "gaps": ["gaps", "--technology", "4G", "--target", "100", "--format", "json"],
    "map": ["map"],
    "targets": ["targets", "PLAN", "--format", "json"],
    "plan": ["plan", "--technology", "5G", "--upgrade-from", "4G", "--no-map", "--format", "json"],
}


@pytest.mark.parametrize("command", ANALYSING)
def test_config_and_no_config_with_every_analysing_command(
    command: str, world: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    args = [str(world / "plan.toml") if a == "PLAN" else a for a in ARGS[command]]
    # ./telecov.toml is found by itself: it selects commune 002
    (tmp_path / "telecov.toml").write_text(
        f'sites = "{world / "sites.csv"}"\nareas = "{world / "areas.gpkg"}"\n'
        f'population = "{world / "pop.tif"}"\narea-id = "code"\nselect = "code=002"\nout = "auto"\n',
        encoding="utf-8",
    )
    code, out, err = main_in_process(monkeypatch, capsys, tmp_path, *args)
    assert code == 0, err
    assert _areas_named(command, out, tmp_path / "auto") == {"002"}
    # --config FILE wins over ./telecov.toml; its relative paths are relative to its folder
    code, out, err = main_in_process(
        monkeypatch, capsys, tmp_path, *args, "--config", str(world / "telecov.toml")
    )
    assert code == 0, err
    assert _areas_named(command, out, world / "results") == {"001"}
    # --no-config: neither file; the flags alone (no --select: both communes)
    inputs = ["--sites", str(world / "sites.csv"), "--areas", str(world / "areas.gpkg"),
              "--population", str(world / "pop.tif"), "--area-id", "code", "--out", "plain"]  # fmt: skip
    code, out, err = main_in_process(monkeypatch, capsys, tmp_path, "--no-config", *args, *inputs)
    assert code == 0, err
    assert _areas_named(command, out, tmp_path / "plain") == {"001", "002"}
    # a broken ./telecov.toml is an error naming its line, unless --no-config
    (tmp_path / "telecov.toml").write_text('\nresolution = "fine"\n', encoding="utf-8")
    code, out, err = main_in_process(monkeypatch, capsys, tmp_path, *args)
    assert code == 2 and "telecov.toml:2" in err and "Traceback" not in err
    code, out, err = main_in_process(monkeypatch, capsys, tmp_path, *args, *inputs, "--no-config")
    assert code == 0, err


@pytest.mark.parametrize("command", ["gaps", "map", "targets"])
def test_combined_flag_is_accepted_where_the_technology_does_not_need_it(
    command: str, world: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    args = [str(world / "plan.toml") if a == "PLAN" else a for a in ARGS[command]]
    code, out, err = main_in_process(
        monkeypatch, capsys, tmp_path, *args, "--config", str(world / "telecov.toml"), "--combined",
        "--by", "operator",
    )  # fmt: skip
    assert code == 0, err
    assert _areas_named(command, out, world / "results") == {"001"}


# --- data warnings ---


def test_a_data_warning_is_one_line_on_stderr_and_never_an_error(capsys) -> None:
    long = "areas.gpkg: " + "a long data warning " * 8 + "that ends here"

    def command(ctx: typer.Context | None = None) -> None:
        for _ in range(2):  # a repeated warning is shown again
            warnings.warn(long, TelecovWarning, stacklevel=2)

    guard(command)()  # under pytest's filterwarnings = error, still no exception
    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"warning: {long}"] * 2
    with pytest.warns(TelecovWarning, match="outside"):  # the filters are back as they were
        warnings.warn("outside", TelecovWarning, stacklevel=1)


def test_other_warnings_keep_their_filters() -> None:
    def command(ctx: typer.Context | None = None) -> None:
        warnings.warn("old", DeprecationWarning, stacklevel=2)  # an error under filterwarnings = error

    with pytest.raises(typer.Exit) as info:
        guard(command)()
    assert info.value.exit_code == 70


BAD_ARGS = {
    "report": ["--radius", "4G"],
    "gaps": ["--technology", "6G"],
    "map": ["--technology", "6G"],
    "targets": ["missing-plan.toml"],
    "plan": ["--technology", "6G"],
    "compare": ["missing-before", "missing-after"],
    "crosswalk": ["--from", "missing-old.gpkg", "--to", "missing-new.gpkg"],
    "import-cells": ["missing-cells.csv"],
    "init": ["--output", "taken.toml"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_reads_the_global_options(command: str, tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "taken.toml").write_text("", encoding="utf-8")
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, command, *BAD_ARGS[command])
    assert code == 2 and "error:" in err and "Traceback" not in err
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, "--debug", command, *BAD_ARGS[command])
    assert code == 2 and "error:" in err and "Traceback" in err


def test_library_messages_name_parameters_and_the_cli_names_flags(tmp_path: Path) -> None:
    from telecov.cli.options import as_flags
    from telecov.errors import InputError
    from telecov.io.sites import read_sites

    sites = tmp_path / "xy.csv"
    sites.write_text("x,y,technology\n500000,2000000,4G\n", encoding="utf-8")
    with pytest.raises(InputError, match="need `sites_crs`") as caught:
        read_sites(sites)
    assert "--" not in str(caught.value)
    assert "need --sites-crs (e.g." in as_flags(str(caught.value))
    assert as_flags("`resolution_m` 0: must be positive") == "--resolution 0: must be positive"
    assert as_flags("`formats`=x and `by_operator`") == "--export x and --by operator"
    assert as_flags("a `Quoted` word stays") == "a `Quoted` word stays"
