"""OpenCelliD import: cells grouped into sites with known answers, bad rows refused, the real sample."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from telecov.errors import InputError
from telecov.io.sites import read_sites
from telecov.opencellid import OPENCELLID_COLUMNS, SITE_COLUMNS, import_cells, operator_name

from _cli import main_in_process as _main
from conftest import require_shared

GEOD = Geod(ellps="WGS84")
HEADER = ",".join(OPENCELLID_COLUMNS) + "\n"


def _at(lon: float, lat: float, east_m: float) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, 90.0, east_m)
    return x, y


def cell(radio: str, mcc: object, net: object, area: object, cid: object, lon: float, lat: float,
         rng: object = 1000) -> str:  # fmt: skip
    return f"{radio},{mcc},{net},{area},{cid},0,{lon!r},{lat!r},{rng},5,1,1459732115,1488700433,0\n"


def known_cells() -> str:
    """Cells whose grouping is known: 3 LTE eNodeBs, 2 gNBs, GSM/UMTS clusters."""
    lon, lat = 105.70, 18.30
    rows = []
    # eNodeB 1000 (Viettel): 3 sectors at slightly different positions -> one site at their mean
    for k, (dx, dy) in enumerate([(0.0, 0.0), (0.0003, 0.0), (0.0, 0.0003)]):
        rows.append(cell("LTE", 452, 4, 7, 1000 * 256 + k + 1, lon + dx, lat + dy, 800 + 100 * k))
    # eNodeB 1001 (Viettel), same place, other eNodeB -> another site
    rows.append(cell("LTE", 452, 4, 7, 1001 * 256 + 1, lon, lat))
    # eNodeB 1000 of MobiFone -> a different site (operator differs)
    rows.append(cell("LTE", 452, 1, 7, 1000 * 256 + 1, lon + 0.01, lat))
    # NR: gNB 5 with a 24-bit gNB id (nci >> 12): cells 1 and 2; gNB 6: cell 1
    rows.append(cell("NR", 452, 4, 7, (5 << 12) | 1, lon, lat + 0.01))
    rows.append(cell("NR", 452, 4, 7, (5 << 12) | 2, lon, lat + 0.01))
    rows.append(cell("NR", 452, 4, 7, (6 << 12) | 1, lon, lat + 0.01))
    # GSM, area 10: two cells on one spot + one 30 m east (single linkage, 50 m) -> one site
    rows.append(cell("GSM", 452, 2, 10, 11, lon, lat - 0.01))
    rows.append(cell("GSM", 452, 2, 10, 12, lon, lat - 0.01))
    rows.append(cell("GSM", 452, 2, 10, 13, *_at(lon, lat - 0.01, 30.0)))
    # 200 m away -> own site; same spot but area 11 -> own site
    rows.append(cell("GSM", 452, 2, 10, 14, *_at(lon, lat - 0.01, 200.0)))
    rows.append(cell("GSM", 452, 2, 11, 15, lon, lat - 0.01))
    # UMTS on the same tower as the GSM cells: separate site (one technology per site)
    rows.append(cell("UMTS", 452, 2, 10, 70001, lon, lat - 0.01))
    # an unlisted MNC
    rows.append(cell("UMTS", 452, 99, 3, 70002, lon, lat - 0.02))
    return "".join(rows)


BAD_ROWS = (
    cell("CDMA", 452, 4, 7, 1, 105.7, 18.3)            # unknown radio
    + cell("LTE", "abc", 4, 7, 2, 105.7, 18.3)         # MCC as text
    + cell("LTE", 452, "04x", 7, 3, 105.7, 18.3)       # MNC as text
    + cell("GSM", 452, 4, 7, 4, 0.0, 0.0)              # 0,0
    + cell("GSM", 452, 4, 7, 5, 100.0, 50.0)           # outside the bbox
    + cell("GSM", 748, 1, 7, 6, 105.7, 18.3)           # another country
    + "LTE,452,4,7\n"                                  # missing fields
)  # fmt: skip
BBOX = (102.0, 8.0, 110.0, 23.5)


@pytest.fixture
def cells_file(tmp_path: Path) -> Path:
    path = tmp_path / "cells.csv"
    path.write_text(HEADER + known_cells(), encoding="utf-8")
    return path


def test_cells_are_grouped_into_known_sites(cells_file: Path) -> None:
    result = import_cells(cells_file)
    sites = result.sites.set_index("site_id")
    assert list(result.sites.columns) == list(SITE_COLUMNS)
    assert result.read == result.used == 15 and result.rejected.empty
    enb = sites.loc["452-04-LTE-1000"]
    assert enb["cells"] == 3 and enb["operator"] == "Viettel" and enb["technology"] == "4G"
    assert enb["lon"] == pytest.approx(105.70 + 0.0001, abs=1e-9)
    assert enb["lat"] == pytest.approx(18.30 + 0.0001, abs=1e-9)
    assert enb["cell_range_m"] == 1000 and np.isnan(enb["radius_m"])
    assert sites.loc["452-04-LTE-1001", "cells"] == 1
    assert sites.loc["452-01-LTE-1000", "operator"] == "MobiFone"
    assert sites.loc["452-04-NR-5", "cells"] == 2 and sites.loc["452-04-NR-6", "cells"] == 1
    assert sites.loc["452-04-NR-5", "technology"] == "5G"
    gsm = result.sites[result.sites["technology"] == "2G"].sort_values("cells")
    assert gsm["cells"].tolist() == [1, 1, 3]
    assert set(gsm["area"]) == {"10", "11"} and set(gsm["operator"]) == {"VinaPhone"}
    umts = result.sites[result.sites["technology"] == "3G"]
    assert set(umts["operator"]) == {"VinaPhone", "452-99"}
    summary = result.summary.set_index("technology")
    assert summary.loc["4G"].tolist() == [5, 3]
    assert summary.loc["5G"].tolist() == [3, 2]
    assert summary.loc["2G"].tolist() == [5, 3]
    assert summary.loc["3G"].tolist() == [2, 2]
    assert summary["cells"].sum() == result.used


def test_options_change_the_grouping(cells_file: Path) -> None:
    wide = import_cells(cells_file, group_distance_m=250.0)
    assert sorted(wide.sites.loc[wide.sites["technology"] == "2G", "cells"]) == [1, 4]
    alone = import_cells(cells_file, group_distance_m=0.0)
    assert len(alone.sites[alone.sites["technology"] == "2G"]) == 5  # 0 m: one site per cell
    short = import_cells(cells_file, nr_gnb_bits=22)  # gNB = nci >> 14: gNBs 5 and 6 become one
    assert short.sites.loc[short.sites["technology"] == "5G", "cells"].tolist() == [3]
    ranged = import_cells(cells_file, use_range=True).sites.set_index("site_id")
    assert ranged.loc["452-04-LTE-1000", "radius_m"] == 1000
    with pytest.raises(InputError, match="`nr_gnb_bits`"):
        import_cells(cells_file, nr_gnb_bits=40)


def test_sites_file_is_a_valid_sites_input(cells_file: Path, tmp_path: Path) -> None:
    result = import_cells(cells_file)
    path = tmp_path / "sites.csv"
    result.sites.to_csv(path, index=False)
    table = read_sites(path)
    assert table.rejected.empty and len(table.accepted) == len(result.sites)
    assert set(table.accepted["technology"]) == {"2G", "3G", "4G", "5G"}
    assert table.accepted["radius_m"].tolist() == [
        {"2G": 5000.0, "3G": 3000.0, "4G": 3000.0, "5G": 600.0}[t] for t in table.accepted["technology"]
    ]


def test_bad_cells_are_refused_with_reasons(tmp_path: Path) -> None:
    path = tmp_path / "cells.csv"
    path.write_text(HEADER + known_cells() + BAD_ROWS, encoding="utf-8")
    result = import_cells(path, mcc=452, bbox=BBOX)
    assert result.used + len(result.rejected) == result.read == 22
    rej = result.rejected
    assert list(rej.columns[-3:]) == ["row", "field", "reason"]
    assert list(rej.columns[:3]) == ["radio", "mcc", "net"]
    by_row = rej.set_index("row")
    assert by_row.loc[16, "field"] == "radio" and "CDMA" in by_row.loc[16, "reason"]
    assert by_row.loc[17, "field"] == "mcc" and "abc" in by_row.loc[17, "reason"]
    assert by_row.loc[18, "field"] == "net"
    assert "0,0" in by_row.loc[19, "reason"]
    assert "bounding box" in by_row.loc[20, "reason"]
    assert "not among the selected codes" in by_row.loc[21, "reason"]
    assert by_row.loc[22, "field"] == "row"


def test_headerless_and_gzip_files(tmp_path: Path) -> None:
    plain = tmp_path / "cells.csv"
    plain.write_text(known_cells(), encoding="utf-8")
    packed = tmp_path / "cells.csv.gz"
    packed.write_bytes(gzip.compress((HEADER + known_cells()).encode()))
    a, b = import_cells(plain), import_cells(packed)
    pd.testing.assert_frame_equal(a.sites, b.sites)
    assert len(a.sites) == 10


def test_file_level_problems(tmp_path: Path) -> None:
    path = tmp_path / "cells.csv"
    path.write_text("radio,mcc,lon,lat\nLTE,452,105,18\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column"):
        import_cells(path)
    path.write_text(HEADER + cell("CDMA", 452, 4, 7, 1, 105.7, 18.3), encoding="utf-8")
    with pytest.raises(InputError, match="every one of 1"):
        import_cells(path)
    with pytest.raises(InputError, match="not found"):
        import_cells(tmp_path / "nope.csv")


def test_operator_table() -> None:
    assert operator_name(452, 4) == "Viettel" and operator_name(452, 2) == "VinaPhone"
    assert operator_name(748, 7) == "Movistar" and operator_name(748, 10) == "Claro"
    assert operator_name(208, 1) == "208-01"


def test_cli_writes_sites_and_rejects(tmp_path: Path, monkeypatch, capsys) -> None:
    cells = tmp_path / "cells.csv"
    cells.write_text(HEADER + known_cells() + BAD_ROWS, encoding="utf-8")
    code, out, err = _main(
        monkeypatch, capsys, tmp_path, "import-cells", str(cells), "--output", "out/sites.csv",
        "--mcc", "452", "--bbox", "102,8,110,23.5",
    )  # fmt: skip
    assert code == 0, err
    assert "4G" in out and "refused" in out
    sites = pd.read_csv(tmp_path / "out" / "sites.csv", dtype=str)
    rejects = pd.read_csv(tmp_path / "out" / "rejected_cells.csv", dtype=str)
    assert len(sites) == 10 and len(rejects) == 7
    code, _, err = _main(monkeypatch, capsys, tmp_path, "import-cells", str(cells), "--bbox", "1,2,3")
    assert code == 2 and "--bbox" in err
    (tmp_path / "afile").write_text("x")
    code, _, err = _main(monkeypatch, capsys, tmp_path, "import-cells", str(cells), "--output", "afile/s.csv")
    assert code == 2 and "cannot write" in err and "Traceback" not in err


def test_real_opencellid_sample() -> None:
    path = require_shared("opencellid", "sample.csv")
    result = import_cells(path)
    raw = pd.read_csv(path, dtype={"radio": str})
    assert result.read == len(raw) == 25_581 and result.rejected.empty
    summary = result.summary.set_index("technology")
    assert summary["cells"].to_dict() == {"2G": 6001, "3G": 15823, "4G": 3757}
    lte = raw[raw["radio"] == "LTE"]
    assert summary.loc["4G", "sites"] == len(
        {(n, c // 256) for n, c in zip(lte["net"], lte["cell"], strict=True)}
    )
    assert (summary["sites"] <= summary["cells"]).all()
    assert set(result.sites["operator"]) == {"Antel", "Movistar", "Claro"}
    assert result.sites["site_id"].is_unique
    assert result.sites["lon"].between(-58.5, -53.2).all() and result.sites["lat"].between(-35.1, -30.2).all()
