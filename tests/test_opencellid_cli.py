"""``telecov import-cells``: the sites file, cell_sites.csv and rejected_cells.csv, written together."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from test_opencellid import BAD_ROWS, HEADER, KNOWN, N_KNOWN

from telecov.opencellid import CELL_SITE_COLUMNS, SUMMARY_COLUMNS

from _cli import main_in_process as _main


@pytest.fixture
def cells(tmp_path: Path) -> Path:
    path = tmp_path / "cells.csv"
    path.write_text(HEADER + "".join(KNOWN) + "".join(row for row, _, _ in BAD_ROWS), encoding="utf-8")
    return path


def test_cli_writes_sites_cell_sites_and_rejects(tmp_path: Path, cells: Path, monkeypatch, capsys) -> None:
    code, out, err = _main(
        monkeypatch, capsys, tmp_path, "import-cells", str(cells), "--output", "out/sites.csv",
        "--mcc", "452", "--bbox", "102,8,110,23.5",
    )  # fmt: skip
    assert code == 0, err
    assert "Viettel" in out and "CI//10 2 km" in out and "proximity 500 m" in out and "refused" in out
    sites = pd.read_csv(tmp_path / "out" / "sites.csv", dtype=str)
    mapping = pd.read_csv(tmp_path / "out" / "cell_sites.csv", dtype=str)
    rejects = pd.read_csv(tmp_path / "out" / "rejected_cells.csv", dtype=str)
    assert list(mapping.columns) == list(CELL_SITE_COLUMNS)
    assert len(mapping) + len(rejects) == N_KNOWN + len(BAD_ROWS)  # cells in = cells in sites + refused
    assert set(mapping["site_id"]) == set(sites["site_id"]) and len(sites) == 22
    assert mapping["radio"].value_counts().to_dict() == {"LTE": 11, "UMTS": 13, "GSM": 8, "NR": 3}
    assert sites.loc[sites["site_id"] == "452-04-LTE-1000", "mnc"].tolist() == ["04"]


def test_cli_json_and_csv(tmp_path: Path, cells: Path, monkeypatch, capsys) -> None:
    code, out, err = _main(monkeypatch, capsys, tmp_path, "import-cells", str(cells), "--format", "json",
                           "--split-distance", "1000", "--group-distance", "600")  # fmt: skip
    assert code == 0, err
    payload = json.loads(out)
    assert payload["counts"] == {"read": N_KNOWN + len(BAD_ROWS), "used": N_KNOWN + 2,
                                 "refused": len(BAD_ROWS) - 2, "sites": 25}  # fmt: skip
    # without --mcc and --bbox two bad rows are cells: 748 MCC and (100, 50); the chain is split at 1 km
    lte = next(r for r in payload["summary"] if r["radio"] == "LTE" and r["mnc"] == "04")
    assert (lte["rule"], lte["distance_m"], lte["sites"], lte["sector_digit_share"]) == ("enb", 1000, 7, None)
    assert payload["cell_sites"].endswith("cell_sites.csv")
    code, out, err = _main(
        monkeypatch, capsys, tmp_path, "import-cells", str(cells), "--format", "csv", "--force"
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == ",".join(SUMMARY_COLUMNS) and len(lines) == 1 + 10


def test_cli_refuses_to_overwrite_its_input(tmp_path: Path, cells: Path, monkeypatch, capsys) -> None:
    before = cells.read_bytes()
    for output in ("cells.csv", str(cells)):
        code, _, err = _main(monkeypatch, capsys, tmp_path, "import-cells", str(cells), "--output", output)
        assert code == 2 and "overwrite the input" in err
    beside = tmp_path / "cell_sites.csv"
    beside.write_bytes(before)
    code, _, err = _main(monkeypatch, capsys, tmp_path, "import-cells", str(beside), "--output", "s.csv")
    assert code == 2 and "overwrite the input" in err and "cell_sites.csv" in err
    code, _, err = _main(
        monkeypatch, capsys, tmp_path, "import-cells", str(cells), "--output", "cell_sites.csv"
    )
    assert code == 2 and "written beside" in err
    assert cells.read_bytes() == before and beside.read_bytes() == before


def test_cli_writes_all_files_or_none(tmp_path: Path, cells: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "sites.csv").write_text("old\n", encoding="utf-8")
    (out / "rejected_cells.csv").mkdir()  # cannot be replaced by a file
    code, _, err = _main(
        monkeypatch, capsys, tmp_path, "import-cells", str(cells), "--output", "out/sites.csv", "--force"
    )
    assert code == 2 and "rejected_cells.csv: is a folder" in err and "Traceback" not in err
    assert (out / "sites.csv").read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in out.iterdir()) == ["rejected_cells.csv", "sites.csv"]  # no temporary left


def test_cli_refuses_existing_files_without_force(tmp_path: Path, cells: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "cell_sites.csv").write_text("a file of an earlier import\n", encoding="utf-8")
    code, _, err = _main(
        monkeypatch, capsys, tmp_path, "import-cells", str(cells), "--output", "out/sites.csv"
    )
    assert code == 2 and "cell_sites.csv: already exists; pass --force" in err
    assert sorted(p.name for p in out.iterdir()) == ["cell_sites.csv"]  # nothing written
    code, _, err = _main(
        monkeypatch, capsys, tmp_path, "import-cells", str(cells), "--output", "out/sites.csv", "--force"
    )
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["cell_sites.csv", "rejected_cells.csv", "sites.csv"]
    assert (out / "cell_sites.csv").read_text(encoding="utf-8").startswith("radio,")
    code, _, err = _main(monkeypatch, capsys, tmp_path, "import-cells", str(cells), "--output", str(cells),
                         "--force")  # fmt: skip
    assert code == 2 and "overwrite the input" in err  # an input never, even with --force


def test_cli_bad_options(tmp_path: Path, cells: Path, monkeypatch, capsys) -> None:
    code, _, err = _main(monkeypatch, capsys, tmp_path, "import-cells", str(cells), "--bbox", "1,2,3")
    assert code == 2 and "--bbox" in err
    code, _, err = _main(monkeypatch, capsys, tmp_path, "import-cells", str(cells), "--split-distance", "-5")
    assert code == 2 and "--split-distance" in err and "split_distance_m" not in err
    code, _, err = _main(
        monkeypatch, capsys, tmp_path, "import-cells", str(cells), "--sector-digit-share", "2"
    )
    assert code == 2 and "--sector-digit-share" in err
    (tmp_path / "afile").write_text("x")
    code, _, err = _main(monkeypatch, capsys, tmp_path, "import-cells", str(cells), "--output", "afile/s.csv")
    assert code == 2 and "cannot write" in err and "Traceback" not in err


def test_import_estimated_before_reading(tmp_path: Path, cells: Path) -> None:
    import gzip

    from telecov.errors import TooLargeError
    from telecov.io.resources import Memory, check_budget
    from telecov.opencellid.importer import PEAK_PER_TEXT_BYTE, estimate_import

    text = cells.read_bytes() * 50
    plain, packed = tmp_path / "many.csv", tmp_path / "many.csv.gz"
    plain.write_bytes(text)
    packed.write_bytes(gzip.compress(text))
    assert estimate_import(packed).peak_bytes == estimate_import(plain).peak_bytes  # the uncompressed size
    assert estimate_import(plain).peak_bytes == int(PEAK_PER_TEXT_BYTE * len(text))
    with pytest.raises(TooLargeError, match=r"of cell text.*split the cells file"):
        check_budget(estimate_import(packed), memory=Memory(ram=len(text)))
