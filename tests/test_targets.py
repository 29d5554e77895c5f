"""Plan targets: parsing with line-numbered errors, evaluation with known answers, --check."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from typer.testing import CliRunner

import telecov
from telecov.pois import poi_coverage
from telecov.targets import RESULT_COLUMNS, check_targets, read_plan

from _worlds import Grid, site, write_world

GRID = Grid(west=105.0, north=18.5, ncols=36, nrows=24, res=1 / 120)

PLAN = """\
name = "test plan"

[poi]
villages = "villages.csv"

[[target]]
technology = "4G"
metric = "population"
at_least = 99
scope = "total"

[[target]]
name = "every commune"
technology = "LTE"
metric = "population"
at_least = 99
scope = "area"

[[target]]
technology = "4G+"
metric = "area"
at_least = 1

[[target]]
technology = "4G"
poi = "villages"
at_least = 60
scope = "parent"
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    d = tmp_path_factory.mktemp("targets")
    w = write_world(
        d, grid=GRID, values=GRID.uniform(300.0),
        areas=[("A", "Xã A", shapely.box(105.02, 18.36, 105.06, 18.40)),
               ("B", "Xã B", shapely.box(105.10, 18.36, 105.25, 18.48))],
        parents=["P1", "P1"],
        sites=[site("4G", 105.04, 18.38, radius_m=8000), site("4G", 105.12, 18.40, radius_m=1500)],
    )  # fmt: skip
    (d / "villages.csv").write_text(
        "id,lon,lat\n1,105.04,18.38\n2,105.12,18.40\n3,105.24,18.47\n", encoding="utf-8"
    )
    (d / "plan.toml").write_text(PLAN, encoding="utf-8")
    return w, d


@pytest.fixture(scope="module")
def result(world):
    w, _ = world
    return telecov.analyze(w.sites, w.areas, w.population, parent="province", combined=True)


def test_targets_evaluate_with_known_answers(world, result) -> None:
    _, d = world
    plan = read_plan(d / "plan.toml")
    assert [t.technology for t in plan.targets] == ["4G", "4G", "4G+", "4G"]
    assert [t.line for t in plan.targets] == [6, 12, 19, 24]
    pois = poi_coverage(result, plan.pois)
    out = check_targets(result, plan, pois=pois)
    assert list(out.columns) == list(RESULT_COLUMNS)
    rows = result.table.set_index(["level", "area_id", "technology"])
    total, b = rows.loc[("total", "ALL", "4G")], rows.loc[("area", "B", "4G")]
    assert rows.loc[("area", "A", "4G"), "population_pct"] == pytest.approx(100.0)
    t1, t2, t3, t4 = out.to_dict("records")
    assert not t1["met"] and t1["achieved"] == pytest.approx(total["population_pct"])
    assert t1["shortfall"] == pytest.approx(0.99 * total["population"] - total["covered_population"])
    assert t1["unit"] == "people" and t1["failing_areas"] == ["B"]
    assert not t2["met"] and t2["achieved"] == pytest.approx(b["population_pct"])
    assert t2["failing_areas"] == ["B"] and t2["name"] == "every commune"
    assert t2["shortfall"] == pytest.approx(0.99 * b["population"] - b["covered_population"])
    assert t3["met"] and t3["scope"] == "total" and t3["shortfall"] == 0.0 and t3["unit"] == "km2"
    # villages: 1 and 2 covered, 3 not: 66.7 % in P1 >= 60 %
    assert t4["met"] and t4["achieved"] == pytest.approx(200 / 3) and t4["unit"] == "POIs"
    assert t4["measure"] == "poi:villages"
    strict = read_plan(d / "plan.toml").targets[3]
    from dataclasses import replace

    out2 = check_targets(result, [replace(strict, at_least=99.0)], pois=pois)
    assert out2.loc[0, "shortfall"] == 1.0 and out2.loc[0, "failing_areas"] == ["P1"]


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (('metric = "area"', 'metrc = "area"'), 21, "unknown key 'metrc'"),
        (("at_least = 1\n", 'at_least = "1"\n'), 22, "must be a number"),
        (('technology = "4G+"', 'technology = "6G"'), 20, "unknown technology"),
        (('metric = "area"', 'metric = "people"'), 21, "unknown metric"),
        (('scope = "area"', 'scope = "commune"'), 17, "unknown scope"),
        (("at_least = 60", "at_least = 160"), 27, "between 0 and 100"),
        (('name = "test plan"', 'nme = "test plan"'), 1, "unknown key 'nme'"),
    ],
)
def test_plan_errors_name_file_and_line(world, tmp_path, edit, line, message) -> None:
    _ = world
    bad = tmp_path / "plan.toml"
    bad.write_text(PLAN.replace(*edit), encoding="utf-8")
    with pytest.raises(telecov.InputError, match=message) as info:
        read_plan(bad)
    assert f"{bad}:{line}:" in str(info.value)


def test_invalid_toml_and_missing_parts(tmp_path) -> None:
    bad = tmp_path / "p.toml"
    bad.write_text("[[target]\n", encoding="utf-8")
    with pytest.raises(telecov.InputError, match="not valid TOML"):
        read_plan(bad)
    bad.write_text('[[target]]\ntechnology = "4G"\nat_least = 9\n', encoding="utf-8")
    with pytest.raises(telecov.InputError, match="exactly one of 'metric'"):
        read_plan(bad)


def test_sample_plan_parses() -> None:
    plan = read_plan(telecov.sample_path("plan.toml"))
    assert len(plan.targets) == 4 and plan.pois["villages"].is_file()


def invoke(*args: str) -> tuple[int, str, str]:
    from telecov.cli.app import app

    res = CliRunner().invoke(app, list(args))
    return res.exit_code, res.stdout, res.stderr


def test_cli_check_json_and_errors(world, tmp_path) -> None:
    w, d = world
    inputs = ["--sites", str(w.sites), "--areas", str(w.areas), "--population", str(w.population),
              "--parent", "province"]  # fmt: skip
    code, stdout, _ = invoke("targets", str(d / "plan.toml"), *inputs, "--format", "json", "--check")
    assert code == 1
    data = json.loads(stdout)
    assert [t["met"] for t in data] == [False, False, True, True]
    assert data[1]["failing_areas"] == ["B"]
    code, stdout, _ = invoke("targets", str(d / "plan.toml"), *inputs, "--format", "csv")
    assert code == 0 and stdout.splitlines()[0] == ",".join(RESULT_COLUMNS)
    bad = tmp_path / "plan.toml"
    bad.write_text(PLAN.replace("at_least = 1\n", "at_least = true\n"), encoding="utf-8")
    code, _, stderr = invoke("targets", str(bad), *inputs)
    assert code == 2 and "plan.toml:22" in stderr.replace("\n", "")
    nopoi = tmp_path / "nopoi.toml"
    nopoi.write_text(PLAN.replace('[poi]\nvillages = "villages.csv"\n', ""), encoding="utf-8")
    code, _, stderr = invoke("targets", str(nopoi), *inputs)
    assert code == 2 and "villages" in stderr
    assert np.isfinite(data[0]["achieved"])
