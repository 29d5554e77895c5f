"""``telecov plan`` and ``telecov compare`` as output sets: manifests, shared folders, failed runs, inputs."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from test_plan import EXISTING_5G, MAST_4G, hand_world

from _cli import main_in_process
from _worlds import site, write_sites


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    return hand_world(tmp_path_factory.mktemp("planout"))


def inputs(world, sites: Path | None = None) -> list[str]:
    w, _ = world
    return ["--sites", str(sites or w.sites), "--areas", str(w.areas), "--population", str(w.population),
            "--area-id", "id", "--area-name", "name", "--parent", "province", "--no-config"]  # fmt: skip


def run(monkeypatch, capsys, tmp_path: Path, *args: str):
    return main_in_process(monkeypatch, capsys, tmp_path, *args)


def listed(folder: Path, manifest: str) -> dict[str, dict]:
    """The manifest's entries by name, each checked against the file on disk (size and sha256)."""
    doc = json.loads((folder / manifest).read_text(encoding="utf-8"))
    entries = {e["name"]: e for e in doc["files"]}
    for name, entry in entries.items():
        data = (folder / name).read_bytes()
        assert len(data) == entry["size"] and hashlib.sha256(data).hexdigest() == entry["sha256"], name
    return entries


def test_plan_and_report_share_one_folder_each_with_its_own_set(world, tmp_path, monkeypatch, capsys) -> None:
    _, cands = world
    plan = ["plan", *inputs(world), "--technology", "5G", "--candidates", str(cands), "--out", "shared"]
    code, _, err = run(monkeypatch, capsys, tmp_path, *plan, "--budget", "2")
    assert code == 0, err
    code, _, err = run(monkeypatch, capsys, tmp_path, "report", *inputs(world), "--out", "shared")
    assert code == 0, err  # no --force needed: no file of one set is in the other
    folder = tmp_path / "shared"
    planned, reported = listed(folder, "plan.json"), listed(folder, "run.json")
    assert set(planned) == {
        "planned_sites.csv", "planned_sites.geojson", "coverage_after.csv", "plan.html",
        "rejected_candidates.csv", "plan_rejected_sites.csv", "plan_rejected_areas.csv",
    }  # fmt: skip
    assert {"coverage.csv", "coverage.html", "rejected_sites.csv"} <= set(reported)
    assert not set(planned) & set(reported)
    doc = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    assert doc["command"] == "plan" and doc["stop_reason"] == "budget" and doc["picks"] == 2
    assert doc["run"]["counts"]["sites"]["used"] == 2 and doc["inputs"]["candidates"]["path"] == str(cands)
    # the coverage after the plan differs from the report's coverage of the existing sites
    after = pd.read_csv(folder / "coverage_after.csv", dtype={"area_id": str})
    now = pd.read_csv(folder / "coverage.csv", dtype={"area_id": str})
    share = {name: t.query("level == 'total' and technology == '5G'")["population_pct"].iloc[0]
             for name, t in (("after", after), ("now", now))}  # fmt: skip
    assert share["after"] > share["now"]
    # a second plan replaces only its own set: plan.html (not in the new set) goes, report's files stay
    code, _, err = run(monkeypatch, capsys, tmp_path, *plan, "--budget", "1", "--no-map")
    assert code == 0, err
    assert not (folder / "plan.html").exists() and (folder / "coverage.html").is_file()
    assert "plan.html" not in listed(folder, "plan.json")
    assert listed(folder, "run.json") == reported
    assert len(pd.read_csv(folder / "planned_sites.csv")) == 1


def test_a_failed_strict_plan_writes_plan_failed_rejects_and_keeps_the_previous_set(
    world, tmp_path, monkeypatch, capsys
) -> None:
    _, cands = world
    plan = ["plan", "--technology", "5G", "--candidates", str(cands), "--no-map", "--out", "o", "--strict"]
    code, _, err = run(monkeypatch, capsys, tmp_path, plan[0], *inputs(world), *plan[1:])
    assert code == 0, err
    before = (tmp_path / "o" / "plan.json").read_bytes()
    rows = [site("5G", *EXISTING_5G, radius_m=1000, site_id="E5"),
            site("4G", *MAST_4G, radius_m=3000, site_id="M4"),
            site("WiMAX", *MAST_4G, site_id="W")]  # fmt: skip
    bad = write_sites(tmp_path / "bad.csv", rows)
    code, out, err = run(monkeypatch, capsys, tmp_path, plan[0], *inputs(world, bad), *plan[1:])
    assert code == 2 and out == "" and "row 3, technology" in " ".join(err.split()), err
    failed = tmp_path / "o" / "plan_failed_rejected_sites.csv"
    assert pd.read_csv(failed, dtype=str)["row"].tolist() == ["3"]
    assert (tmp_path / "o" / "plan.json").read_bytes() == before
    assert not list((tmp_path / "o").glob("report_failed_*"))
    listed(tmp_path / "o", "plan.json")  # the previous set still matches its manifest
    code, _, err = run(monkeypatch, capsys, tmp_path, plan[0], *inputs(world), *plan[1:])
    assert code == 0, err
    assert not failed.exists()  # the next successful plan removes them


def test_plan_never_replaces_its_inputs(world, tmp_path, monkeypatch, capsys) -> None:
    _, cands = world
    (tmp_path / "o").mkdir()
    inside = shutil.copy(cands, tmp_path / "o" / "planned_sites.csv")
    args = ["plan", *inputs(world), "--technology", "5G", "--candidates", str(inside), "--out", "o"]
    args += ["--force"]
    code, _, err = run(monkeypatch, capsys, tmp_path, *args)
    assert code == 2 and "would overwrite the input file" in " ".join(err.split()), err
    assert Path(inside).read_bytes() == Path(cands).read_bytes()
    assert not (tmp_path / "o" / "plan.json").exists()


def test_compare_owns_its_set_and_takes_report_files_only_with_force(
    world, tmp_path, monkeypatch, capsys
) -> None:
    base = [*inputs(world), "--no-map"]
    assert run(monkeypatch, capsys, tmp_path, "report", *base, "--out", "r1")[0] == 0
    # --compare naming the --out folder itself: the earlier table is read before it is replaced
    code, _, err = run(monkeypatch, capsys, tmp_path, "report", *base, "--out", "r1", "--compare", "r1")
    assert code == 0, err
    same = pd.read_csv(tmp_path / "r1" / "comparison.csv")
    assert len(same) and (same["covered_population_delta"] == 0).all()
    assert "comparison.csv" in listed(tmp_path / "r1", "run.json")
    assert run(monkeypatch, capsys, tmp_path, "report", *base, "--out", "r2")[0] == 0
    cmp = ["compare", "r2", "r1", "--out", "r1", "--format", "csv"]
    code, out, err = run(monkeypatch, capsys, tmp_path, *cmp)
    assert code == 2 and out == ""
    assert "belongs to the output set of 'telecov report'" in " ".join(err.split())
    code, out, err = run(monkeypatch, capsys, tmp_path, *cmp, "--force")
    assert code == 0, err
    entries = listed(tmp_path / "r1", "compare.json")
    assert set(entries) == {"comparison.csv", "comparison.html"}
    assert "comparison.csv" not in listed(tmp_path / "r1", "run.json")  # report's manifest gave it up
    doc = json.loads((tmp_path / "r1" / "compare.json").read_text(encoding="utf-8"))
    assert doc["inputs"]["before"]["path"] == str(Path("r2") / "coverage.csv")
    assert out == (tmp_path / "r1" / "comparison.csv").read_text(encoding="utf-8")
