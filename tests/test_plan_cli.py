"""``telecov plan`` and ``telecov compare`` from the command line, on the hand-made world of test_plan."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from test_plan import EXISTING_5G, EXPECTED, MAST_4G, candidate_rows, hand_world

from telecov.compare import comparison_columns
from telecov.plan import pick_columns

from _cli import main_in_process
from _worlds import site, write_sites


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    return hand_world(tmp_path_factory.mktemp("plancli"))


def inputs(world) -> list[str]:
    w, _ = world
    return ["--sites", str(w.sites), "--areas", str(w.areas), "--population", str(w.population),
            "--area-id", "id", "--area-name", "name", "--parent", "province", "--no-config"]  # fmt: skip


def run(monkeypatch, capsys, tmp_path: Path, *args: str):
    return main_in_process(monkeypatch, capsys, tmp_path, *args)


def test_plan_writes_its_output_set_and_report_then_measures_what_it_predicted(
    world, tmp_path, monkeypatch, capsys
) -> None:
    _, cands = world
    args = ["plan", *inputs(world), "--technology", "5G", "--candidates", str(cands), "--target", "100"]
    code, out, err = run(monkeypatch, capsys, tmp_path, *args, "--min-gain", "0", "--out", "plan")
    assert code == 0, err
    assert "stopped because no candidate adds anything more" in " ".join(err.split())
    folder = tmp_path / "plan"
    names = {"planned_sites.csv", "planned_sites.geojson", "plan.json", "coverage_after.csv", "plan.html",
             "rejected_candidates.csv", "plan_rejected_sites.csv", "plan_rejected_areas.csv"}  # fmt: skip
    assert names == {p.name for p in folder.iterdir() if not p.name.startswith(".")}
    picks = pd.read_csv(folder / "planned_sites.csv", dtype={"site_id": str, "area_id": str})
    assert list(picks.columns) == pick_columns("population")
    assert picks["site_id"].tolist() == list(EXPECTED)
    points = pyogrio.read_dataframe(folder / "planned_sites.geojson")
    assert points["site_id"].tolist() == list(EXPECTED) and (points.geometry.geom_type == "Point").all()
    doc = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    assert doc["stop_reason"] == "candidates" and doc["reached"] is False and doc["picks"] == 5
    assert doc["plan"]["technology"] == "5G" and doc["candidates"]["candidates"]["used"] == 5
    assert doc["command"] == "plan" and {e["name"] for e in doc["files"]} == names - {"plan.json"}
    for info in doc["files"]:
        data = (folder / info["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == info["sha256"] and len(data) == info["size"], info
    assert "Newly covered by the plan (5)" in (folder / "plan.html").read_text(encoding="utf-8")
    # the report on existing + planned sites measures what the plan predicted
    rows = [
        site("5G", *EXISTING_5G, radius_m=1000, site_id="E5"),
        site("4G", *MAST_4G, radius_m=3000, site_id="M4"),
    ]
    rows += [r for r in candidate_rows() if r["site_id"] in set(picks["site_id"])]
    after_sites = write_sites(tmp_path / "after.csv", rows)
    base = inputs(world)
    code, _, err = run(monkeypatch, capsys, tmp_path, "report", *base, "--no-map", "--out", "before")
    assert code == 0, err
    after_args = [*base[:1], str(after_sites), *base[2:]]
    code, _, err = run(monkeypatch, capsys, tmp_path, "report", *after_args, "--no-map", "--out", "after",
                       "--compare", "before")  # fmt: skip
    assert code == 0, err
    predicted = pd.read_csv(folder / "coverage_after.csv", dtype={"area_id": str})
    measured = pd.read_csv(tmp_path / "after" / "coverage.csv", dtype={"area_id": str})
    key = ["level", "area_id", "technology"]
    joined = predicted.merge(measured, on=key, suffixes=("_plan", "_report"))
    assert len(joined) == len(measured) == len(predicted)
    for pct in ("population_pct", "residential_pct", "area_pct"):
        assert (joined[f"{pct}_plan"] - joined[f"{pct}_report"]).abs().max() <= 0.01
    total = measured.query("level == 'total' and technology == '5G'")["population_pct"].iloc[0]
    assert abs(picks["cumulative_population_pct"].iloc[-1] - total) <= 0.01
    # compare of the two reports equals the plan's gains
    code, out, err = run(monkeypatch, capsys, tmp_path, "compare", "before", "after", "--format", "json",
                         "--out", "cmp")  # fmt: skip
    assert code == 0, err
    rows_json = json.loads(out)
    total_5g = next(r for r in rows_json if r["level"] == "total" and r["technology"] == "5G")
    assert total_5g["covered_population_delta"] == pytest.approx(picks["marginal_people"].sum(), rel=1e-4)
    assert (tmp_path / "cmp" / "comparison.html").is_file()
    in_report = pd.read_csv(tmp_path / "after" / "comparison.csv", dtype={"area_id": str})
    assert list(in_report.columns) == comparison_columns()
    assert not (tmp_path / "after" / "comparison.html").exists()  # --no-map


def test_format_json_prints_only_the_picks_and_an_empty_array_when_nothing_is_to_add(
    world, tmp_path, monkeypatch, capsys
) -> None:
    _, cands = world
    common = ["plan", *inputs(world), "--technology", "NR", "--candidates", str(cands), "--no-map"]
    code, out, err = run(monkeypatch, capsys, tmp_path, *common, "--budget", "2", "--format", "json")
    assert code == 0, err
    picks = json.loads(out)
    assert [p["site_id"] for p in picks] == ["c1", "c5"] and set(picks[0]) == set(pick_columns("population"))
    code, out, err = run(
        monkeypatch, capsys, tmp_path, *common, "--target", "0", "--format", "json", "--check"
    )
    assert code == 0, err
    assert json.loads(out) == [] and "nothing to add" in err


def test_check_exits_1_when_the_target_is_not_reached(world, tmp_path, monkeypatch, capsys) -> None:
    _, cands = world
    common = ["plan", *inputs(world), "--technology", "5G", "--candidates", str(cands), "--no-map", "--check"]
    code, _, err = run(monkeypatch, capsys, tmp_path, *common, "--target", "99")
    assert code == 1 and "target not reached" in err and "Traceback" not in err
    code, _, err = run(monkeypatch, capsys, tmp_path, *common, "--target", "5", "--scope", "area")
    assert code == 0 and "target reached with 2 new sites" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--budget", "0"], "--budget 0: must be a whole number of sites, at least 1"),
        (["--budget", "-2"], "--budget -2"),
        (["--budget-cost", "0"], "--budget-cost 0"),
        (["--min-spacing", "-5"], "--min-spacing -5"),
        (["--technology", "6G"], "unknown technology"),
        (["--grid", "-100"], "--grid -100"),
        (["--upgrade-from", "5G"], "--upgrade-from 5G: must differ"),
        (["--candidates", "missing.csv"], "missing.csv"),
    ],
)
def test_bad_input_exits_2_with_a_message_naming_the_flag(
    world, tmp_path, monkeypatch, capsys, args, message
):
    base = ["plan", *inputs(world), "--no-map"]
    if "--technology" not in args:
        base += ["--technology", "5G"]
    if not {"--candidates", "--upgrade-from", "--grid"} & set(args):
        base += ["--candidates", str(world[1])]
    code, out, err = run(monkeypatch, capsys, tmp_path, *base, *args)
    assert code == 2 and message in " ".join(err.split()) and "Traceback" not in err
    assert out == ""


def test_no_candidates_is_an_error_before_any_work(world, tmp_path, monkeypatch, capsys) -> None:
    code, _, err = run(monkeypatch, capsys, tmp_path, "plan", *inputs(world), "--technology", "5G")
    assert code == 2 and "--candidates FILE, --upgrade-from T or --grid M" in " ".join(err.split())


def test_refused_candidates_are_written_with_reasons(world, tmp_path, monkeypatch, capsys) -> None:
    rows = [*candidate_rows(), site("4G", *EXISTING_5G, radius_m=900, site_id="lte"),
            site("5G", 105.0, 10.0, radius_m=900, site_id="far")]  # fmt: skip
    path = write_sites(tmp_path / "mixed.csv", rows)
    args = ["plan", *inputs(world), "--technology", "5G", "--candidates", str(path), "--no-map", "--out", "o"]
    code, _, err = run(monkeypatch, capsys, tmp_path, *args, "--budget", "1")
    assert code == 0, err
    assert "2 candidates refused" in err
    refused = pd.read_csv(tmp_path / "o" / "rejected_candidates.csv", dtype=str)
    assert refused["site_id"].tolist() == ["lte", "far"]
    assert refused["reason"].tolist() == ["technology 4G, not the planned 5G", "outside the areas"]
    assert refused["row"].tolist() == ["6", "7"]
