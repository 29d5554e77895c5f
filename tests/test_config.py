"""telecov.toml: options from a file, flags override, `init` template, errors naming the line."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import typer

from telecov.cli.app import app
from telecov.cli.config import config_template, default_map_from_args, load_config
from telecov.errors import InputError

from _cli import main_in_process as _main
from _worlds import Grid, write_raster


@pytest.fixture(scope="module")
def group():
    return typer.main.get_command(app)


def test_top_level_and_command_tables(group, tmp_path: Path) -> None:
    path = tmp_path / "conf" / "telecov.toml"
    path.parent.mkdir()
    path.write_text(
        'sites = "sites.csv"\n'
        'areas = "/data/communes.gpkg"\n'
        "target = 95\n"
        'export = ["gpkg", "xlsx"]\n'
        "quiet = true\n"
        "[radius]\n"
        "4G = 2500\n"
        '"5G" = 700\n'
        "[report]\n"
        "no-map = true\n"
        'format = "json"\n'
        "[import-cells]\n"
        "mcc = [452]\n"
        "use_range = true\n",
        encoding="utf-8",
    )
    dm = load_config(path, group)
    assert dm["quiet"] is True
    report = dm["report"]
    assert report["sites"] == str(tmp_path / "conf" / "sites.csv")  # relative to the file
    assert report["areas"] == "/data/communes.gpkg"
    assert report["target"] == 95 and report["no_map"] is True and report["fmt"] == "json"
    assert report["export"] == ["gpkg", "xlsx"]
    assert report["radius"] == ["4G=2500", "5G=700"]
    assert dm["import-cells"] == {"mcc": [452], "use_range": True}
    if "gaps" in dm:  # another command with --export: the items it accepts
        assert set(dm["gaps"].get("export", [])) <= {"geojson", "gpkg"}


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("target = 95\ntagret = 90\n", 2, "did you mean 'target'"),
        ("[report]\nno-map = true\ncells = 'x'\n", 3, "not an option of 'telecov report'"),
        ("\n\ntarget = 'high'\n", 3, "target"),
        ('[report]\nexport = ["shp"]\n', 2, "shp"),
        ("target = \n", 1, "not valid TOML"),
    ],
)
def test_bad_files_name_the_line(group, tmp_path: Path, text: str, line: int, needle: str) -> None:
    path = tmp_path / "telecov.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_config(path, group)
    message = str(info.value)
    assert str(path) in message and needle in message
    assert f":{line}:" in message or f"line {line}" in message


def test_config_discovery(group, tmp_path: Path) -> None:
    args = ["report", "--target", "90"]
    assert default_map_from_args(group, args, cwd=tmp_path) == (None, args)
    (tmp_path / "telecov.toml").write_text("target = 80\n", encoding="utf-8")
    dm, rest = default_map_from_args(group, args, cwd=tmp_path)
    assert dm is not None and dm["report"] == {"target": 80} and rest == args
    other = tmp_path / "other.toml"
    other.write_text("target = 70\n", encoding="utf-8")
    dm, rest = default_map_from_args(group, ["--config", str(other), *args], cwd=tmp_path)
    assert dm is not None and dm["report"] == {"target": 70} and rest == args
    dm, rest = default_map_from_args(group, [*args, f"--config={other}"], cwd=tmp_path)
    assert dm is not None and dm["report"] == {"target": 70}
    assert default_map_from_args(group, ["--no-config", *args], cwd=tmp_path) == (None, args)
    with pytest.raises(InputError, match="not found"):
        default_map_from_args(group, ["--config", str(tmp_path / "nope.toml"), *args])


def test_template_covers_every_option_and_loads(group, tmp_path: Path) -> None:
    text = config_template(group)
    path = tmp_path / "telecov.toml"
    path.write_text(text, encoding="utf-8")
    assert load_config(path, group) == {}
    for name, cmd in group.commands.items():
        for param in cmd.params:
            longs = [o[2:] for o in param.opts if o.startswith("--")] or [param.name.replace("_", "-")]
            assert f"# {longs[0]} = " in text, (name, longs[0])
    # every example line, uncommented, is valid TOML of the right type
    uncommented = "\n".join(
        line[2:] if re.match(r"# [\w-]+ = ", line) else line for line in text.splitlines()
    )
    data = tomllib.loads(uncommented)
    assert data["target"] == 99


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cfgworld")
    grid = Grid(west=105.0, north=18.5, ncols=24, nrows=24, res=1 / 120)
    write_raster(tmp / "pop.tif", grid, np.full((24, 24), 50.0))
    gpd.GeoDataFrame({"code": ["001"], "name": ["A"]}, geometry=[shapely.box(105.02, 18.35, 105.12, 18.45)],
                     crs=4326).to_file(tmp / "areas.gpkg")  # fmt: skip
    (tmp / "sites.csv").write_text(
        "site_id,operator,technology,lon,lat,radius_m\na,X,4G,105.07,18.40,2000\n", encoding="utf-8"
    )
    return tmp


def test_cli_reads_the_file_and_flags_override(world: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "telecov.toml").write_text(
        f'sites = "{world / "sites.csv"}"\n'
        f'areas = "{world / "areas.gpkg"}"\n'
        f'population = "{world / "pop.tif"}"\n'
        'area-id = "code"\n'
        "target = 90\n"
        'export = ["xlsx"]\n'
        "[report]\n"
        "no_map = true\n"
        'out = "results"\n'
        'format = "json"\n',
        encoding="utf-8",
    )
    code, out, err = _main(monkeypatch, capsys, tmp_path, "report", "--target", "50")
    assert code == 0, err
    json.loads(out)
    run = json.loads((tmp_path / "results" / "run.json").read_text())
    assert run["options"]["target_pct"] == 50  # the flag wins
    assert run["options"]["export"] == ["xlsx"] and run["options"]["map"] is False
    assert (tmp_path / "results" / "coverage.xlsx").is_file()
    (tmp_path / "telecov.toml").write_text("[report]\ntarget = 'x'\n", encoding="utf-8")
    code, _, err = _main(monkeypatch, capsys, tmp_path, "report")
    assert code == 2 and "telecov.toml:2" in err and "Traceback" not in err


def test_init_writes_and_refuses_to_overwrite(tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "telecov.toml").write_text("broken = [\n", encoding="utf-8")  # init ignores it
    code, _, err = _main(monkeypatch, capsys, tmp_path, "init", "--output", "conf/telecov.toml")
    assert code == 0, err
    text = (tmp_path / "conf" / "telecov.toml").read_text(encoding="utf-8")
    assert text.startswith("# telecov configuration") and "[report]" in text
    code, _, err = _main(monkeypatch, capsys, tmp_path, "init", "--output", "conf/telecov.toml")
    assert code == 2 and "--force" in err
    code, _, err = _main(monkeypatch, capsys, tmp_path, "init", "--output", "conf/telecov.toml", "--force")
    assert code == 0, err


def test_a_byte_order_mark_is_read(group, tmp_path: Path) -> None:
    path = tmp_path / "telecov.toml"
    path.write_bytes(b"\xef\xbb\xbftarget = 90\n")
    assert load_config(path, group)["report"]["target"] == 90


@pytest.mark.parametrize(
    ("body", "where", "why"),
    [('[radius]\n5G = 600\n4G = "far"\n', ":3:", "radius 4G = 'far': the radius must be a number of metres"),
     ("target = 90\n[radius]\n4G = -5\n", ":3:", "radius 4G = -5: the radius must be a positive number"),
     ("[radius]\n6G = 100\n", ":2:", "radius 6G = 100: unknown technology '6G'"),
     ("[radius]\n4G = 1e9\n", ":2:", "radius 4G = 1000000000.0: radius 1e+09 m is larger than 100000 m"),
     ('radius = ["4G=abc"]\n', ":1:", "radius 4G = 'abc'"),
     ("[report]\nno-map = true\n[report.radius]\n4G = true\n", ":4:", "radius 4G = True")],
)  # fmt: skip
def test_radius_errors_name_the_file_and_line(group, tmp_path: Path, body: str, where: str, why: str) -> None:
    path = tmp_path / "telecov.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_config(path, group)
    assert f"{path}{where} {why}" in str(info.value)


def test_a_line_separator_in_a_value_does_not_shift_the_lines(group, tmp_path: Path) -> None:
    path = tmp_path / "telecov.toml"
    path.write_text('sites = "a\u2028b.csv"\n\n[radius]\n4G = "x"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"telecov.toml:4: radius 4G"):
        load_config(path, group)


def test_dem_sample_names_the_bundled_dem_in_the_file_too(group, tmp_path: Path) -> None:
    from telecov.analysis import sample_path
    from telecov.cli.options import sample_dem

    path = tmp_path / "telecov.toml"
    path.write_text('dem = "sample"\n[map]\ndem = "hills.tif"\n', encoding="utf-8")
    dm = load_config(path, group)
    assert dm["report"]["dem"] == "sample"
    assert dm["map"]["dem"] == str(tmp_path / "hills.tif")
    assert sample_dem(Path(dm["report"]["dem"])) == sample_path("dem.tif")
    (tmp_path / "sample").write_bytes(b"")
    assert load_config(path, group)["report"]["dem"] == str(tmp_path / "sample")
