"""Output sets in ``--out``: plain files, one manifest per command, inputs never replaced.

Runs go through the real CLI (in-process) on the small good world of the corpus; the set
machinery is also driven directly where a failure must be provoked (a file that cannot be
replaced halfway through a swap).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from telecov.errors import InputError
from telecov.io import manifests
from telecov.io.outputs import output_set, umask_mode, write_output_file

from _cli import main_in_process

CORPUS = Path(__file__).resolve().parent / "bad_inputs"


@pytest.fixture
def world(tmp_path: Path) -> Path:
    for name in ("base_sites.csv", "base_areas.geojson", "base_population.tif"):
        shutil.copy(CORPUS / name, tmp_path / name)
    return tmp_path


def inputs(*extra: str) -> list[str]:
    return ["--sites", "base_sites.csv", "--areas", "base_areas.geojson", "--population",
            "base_population.tif", *extra]  # fmt: skip


def telecov(monkeypatch, capsys, cwd: Path, *args: str) -> tuple[object, str, str]:
    return main_in_process(monkeypatch, capsys, cwd, *args)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_every_output_is_a_plain_file_without_symlinks(world: Path, monkeypatch, capsys) -> None:
    monkeypatch.delattr(os, "symlink")  # as on a FAT drive or a share without links
    for args in (["report", *inputs("--export", "geojson")],
                 ["gaps", *inputs("--technology", "4G", "--export", "geojson", "--export", "gpkg")],
                 ["map", *inputs("--png", "--force")]):  # fmt: skip
        code, _, err = telecov(monkeypatch, capsys, world, *args, "--out", "out", "-q")
        assert code == 0, err
    out = world / "out"
    entries = list(out.iterdir())
    assert all(p.is_file() and not p.is_symlink() for p in entries)
    assert not [p for p in entries if p.name.startswith(".")]  # no lock, no staging folder left
    for command in ("report", "gaps", "map"):
        assert manifests.verify(out, command) == []
    owners = manifests.owners(out)
    assert owners["coverage.html"] == "map" and owners["coverage.png"] == "map"  # taken with --force
    assert owners["gaps.gpkg"] == "gaps" and owners["gaps_rejected_sites.csv"] == "gaps"
    assert owners["rejected_sites.csv"] == owners["sites.geojson"] == "report"
    assert {p.name for p in entries} == set(owners)  # nothing unowned


def test_a_file_of_another_command_only_with_force(world: Path, monkeypatch, capsys) -> None:
    code, _, err = telecov(monkeypatch, capsys, world, "report", *inputs(), "--out", "out", "-q")
    assert code == 0, err
    before = snapshot(world / "out")
    code, _, err = telecov(monkeypatch, capsys, world, "map", *inputs(), "--out", "out")
    assert code == 2
    flat = " ".join(err.split())
    assert "out/coverage.html: belongs to the output set of 'telecov report'" in flat and "--force" in flat
    assert snapshot(world / "out") == before  # refused before any work: nothing changed
    code, _, err = telecov(monkeypatch, capsys, world, "map", *inputs(), "--out", "out", "--force", "-q")
    assert code == 0, err
    run = json.loads((world / "out" / "run.json").read_text(encoding="utf-8"))
    assert "coverage.html" not in {f["name"] for f in run["files"]}  # report gave it up
    assert manifests.verify(world / "out", "report") == [] and manifests.verify(world / "out", "map") == []
    code, _, err = telecov(monkeypatch, capsys, world, "report", *inputs(), "--out", "out")
    assert code == 2 and "belongs to the output set of 'telecov map'" in " ".join(err.split())


def test_a_command_replaces_its_own_previous_set(world: Path, monkeypatch, capsys) -> None:
    gaps = ["gaps", *inputs("--technology", "4G"), "--out", "out", "-q"]
    assert telecov(monkeypatch, capsys, world, *gaps, "--export", "geojson")[0] == 0
    assert (world / "out" / "gaps.geojson").is_file()
    assert telecov(monkeypatch, capsys, world, *gaps, "--export", "gpkg")[0] == 0
    assert not (world / "out" / "gaps.geojson").exists()  # no longer in gaps' set
    assert sorted(p.name for p in (world / "out").iterdir()) == [
        "gaps.gpkg", "gaps.json", "gaps_rejected_areas.csv", "gaps_rejected_sites.csv"
    ]  # fmt: skip


def test_no_output_replaces_an_input_even_with_force(world: Path, monkeypatch, capsys) -> None:
    (world / "sites.csv").write_bytes((world / "base_sites.csv").read_bytes())
    original = (world / "sites.csv").read_bytes()
    args = ["--sites", "sites.csv", *inputs()[2:], "--out", ".", "--export", "csv", "--no-map"]
    for extra in ([], ["--force"]):
        code, _, err = telecov(monkeypatch, capsys, world, "report", *args, *extra)
        assert code == 2
        flat = " ".join(err.split())
        assert "sites.csv: this output would overwrite the input file sites.csv" in flat, flat
        assert (world / "sites.csv").read_bytes() == original
        assert not (world / "coverage.csv").exists() and not (world / "run.json").exists()  # before any work


def test_single_file_outputs_refuse_existing_files_and_inputs(world: Path, monkeypatch, capsys) -> None:
    areas = ["--from", "base_areas.geojson", "--to", "base_areas.geojson"]
    code, _, err = telecov(monkeypatch, capsys, world, "crosswalk", *areas, "--output", "base_areas.geojson",
                           "--force")  # fmt: skip
    assert code == 2 and "would overwrite the input file base_areas.geojson" in " ".join(err.split())
    assert telecov(monkeypatch, capsys, world, "crosswalk", *areas, "--output", "cw.csv")[0] == 0
    first = (world / "cw.csv").read_bytes()
    code, _, err = telecov(monkeypatch, capsys, world, "crosswalk", *areas, "--output", "cw.csv")
    assert code == 2 and "--output cw.csv: already exists; pass --force" in " ".join(err.split())
    assert telecov(monkeypatch, capsys, world, "crosswalk", *areas, "--output", "cw.csv", "--force")[0] == 0
    assert (world / "cw.csv").read_bytes() == first
    assert telecov(monkeypatch, capsys, world, "init", "--output", "t.toml")[0] == 0
    code, _, err = telecov(monkeypatch, capsys, world, "init", "--output", "t.toml")
    assert code == 2 and "already exists" in err


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_files_get_the_umask_permissions(world: Path, monkeypatch, capsys, mask: int) -> None:
    old = os.umask(mask)
    try:
        assert telecov(monkeypatch, capsys, world, "report", *inputs(), "--out", "out", "-q")[0] == 0
        assert telecov(monkeypatch, capsys, world, "init", "--output", "t.toml")[0] == 0
        areas = ["--from", "base_areas.geojson", "--to", "base_areas.geojson"]
        assert telecov(monkeypatch, capsys, world, "crosswalk", *areas, "--output", "cw.csv")[0] == 0
    finally:
        os.umask(old)
    expected = 0o666 & ~mask
    written = [*(world / "out").iterdir(), world / "t.toml", world / "cw.csv"]
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in written} == {p.name: expected for p in written}


def test_an_unreplaceable_file_stops_the_run_and_changes_nothing(world: Path, monkeypatch, capsys) -> None:
    assert telecov(monkeypatch, capsys, world, "report", *inputs(), "--out", "out", "-q")[0] == 0
    out = world / "out"
    (out / "coverage.csv").chmod(0o444)  # read-only (on Windows: also a file open in Excel)
    before = snapshot(out)
    code, _, err = telecov(
        monkeypatch, capsys, world, "report", *inputs("--radius", "4G=1000"), "--out", "out"
    )
    assert code == 2 and "out/coverage.csv: is read-only" in " ".join(err.split())
    assert snapshot(out) == before and manifests.verify(out, "report") == []
    (out / "coverage.csv").chmod(0o644)
    (out / "coverage.geojson").unlink()
    (out / "coverage.geojson").mkdir()  # a folder in the way
    code, _, err = telecov(monkeypatch, capsys, world, "report", *inputs(), "--out", "out")
    assert code == 2 and "coverage.geojson: is a folder" in err


def test_a_failure_halfway_through_the_swap_puts_everything_back(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "out"
    with output_set(out, command="demo") as outset:
        for name in ("a.csv", "b.csv", "c.csv"):
            outset.write_text(name, f"old {name}\n")
        outset.commit({"note": "first"})
    before = snapshot(out)
    real = os.replace
    moved: list[str] = []

    def failing(src: str | Path, dst: str | Path) -> None:
        if Path(dst).parent == out and Path(dst).name != "demo.json":
            moved.append(Path(dst).name)
            if len(moved) == 2:  # the second file cannot be replaced
                raise PermissionError(13, "The process cannot access the file", str(dst))
        real(src, dst)

    with output_set(out, command="demo") as outset:
        for name in ("a.csv", "b.csv", "c.csv", "d.csv"):
            outset.write_text(name, f"new {name}\n")
        monkeypatch.setattr(os, "replace", failing)
        with pytest.raises(InputError, match=r"b\.csv: cannot be replaced .*previous files are unchanged"):
            outset.commit({"note": "second"})
        monkeypatch.setattr(os, "replace", real)
    assert snapshot(out) == before  # the first file and the manifest put back as they were
    assert manifests.verify(out, "demo") == []


def test_manifests_are_found_by_their_own_name_only(tmp_path: Path) -> None:
    with output_set(tmp_path, command="report") as outset:
        outset.write_text("coverage.csv", "x\n")
        entries = outset.commit({"version": "test"})
    assert entries == [{"name": "coverage.csv", "size": 2, "sha256": hashlib.sha256(b"x\n").hexdigest()}]
    shutil.copy(tmp_path / "run.json", tmp_path / "backup.json")  # a copy is not a manifest
    (tmp_path / "other.json").write_text('{"command": 3, "files": "no"}', encoding="utf-8")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    assert list(manifests.read_manifests(tmp_path)) == ["report"]
    (tmp_path / "coverage.csv").write_text("changed\n", encoding="utf-8")
    assert manifests.verify(tmp_path, "report") == [
        f"{tmp_path / 'coverage.csv'}: does not match its manifest entry"
    ]


def test_links_of_older_versions_are_replaced_by_plain_files(world: Path, monkeypatch, capsys) -> None:
    gen = world / "out" / ".telecov" / "report" / "gen-1"
    gen.mkdir(parents=True)
    (gen / "coverage.csv").write_text("old\n", encoding="utf-8")
    (gen / "old_only.csv").write_text("old\n", encoding="utf-8")
    os.symlink("gen-1", world / "out" / ".telecov" / "report" / "current")
    for name in ("coverage.csv", "old_only.csv"):
        os.symlink(os.path.join(".telecov", "report", "current", name), world / "out" / name)
    assert telecov(monkeypatch, capsys, world, "report", *inputs(), "--out", "out", "-q")[0] == 0
    out = world / "out"
    assert not (out / ".telecov").exists() and not (out / "old_only.csv").exists()
    assert all(p.is_file() and not p.is_symlink() for p in out.iterdir())


def test_single_file_helper(tmp_path: Path) -> None:
    target = tmp_path / "sites.csv"
    source = tmp_path / "cells.csv"
    source.write_text("cells\n", encoding="utf-8")
    write_output_file(target, lambda p: p.write_text("one\n", encoding="utf-8"), force=False, inputs=[source])
    assert target.read_text(encoding="utf-8") == "one\n"
    assert stat.S_IMODE(target.stat().st_mode) == umask_mode()
    with pytest.raises(InputError, match="already exists; pass `force`"):
        write_output_file(target, lambda p: None, force=False)
    with pytest.raises(InputError, match="would overwrite the input file"):
        write_output_file(source, lambda p: None, force=True, inputs=[source], option="`output`")
    with pytest.raises(InputError, match="is a folder"):
        write_output_file(tmp_path, lambda p: None, force=True)
    assert source.read_text(encoding="utf-8") == "cells\n"
