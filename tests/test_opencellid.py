"""OpenCelliD import: cells grouped into sites with answers known by hand, bad rows refused."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from telecov.errors import InputError
from telecov.io.sites import read_sites
from telecov.opencellid import (
    CELL_SITE_COLUMNS,
    OPENCELLID_COLUMNS,
    SITE_COLUMNS,
    SUMMARY_COLUMNS,
    import_cells,
    operator_name,
)

GEOD = Geod(ellps="WGS84")
HEADER = ",".join(OPENCELLID_COLUMNS) + "\n"
P = (105.70, 18.30)  # a point in Hà Tĩnh


def at(origin: tuple[float, float], east_m: float = 0.0, north_m: float = 0.0) -> tuple[float, float]:
    """The point ``east_m`` east, then ``north_m`` north of ``origin`` (geodesic)."""
    lon, lat, _ = GEOD.fwd(origin[0], origin[1], 90.0, east_m)
    lon, lat, _ = GEOD.fwd(lon, lat, 0.0, north_m)
    return float(lon), float(lat)


def cell(radio: str, mcc: object, net: object, area: object, cid: object, pos: tuple[float, float],
         rng: object = 1000) -> str:  # fmt: skip
    return f"{radio},{mcc},{net},{area},{cid},0,{pos[0]!r},{pos[1]!r},{rng},5,1,1459732115,1488700433,0\n"


def umts(rnc: int, ci: int) -> int:
    return rnc * 65536 + ci


Q = at(P, north_m=20_000)
A = at(P, north_m=40_000)
T = at(P, east_m=20_000)
T2 = at(P, east_m=20_000, north_m=20_000)
U = at(P, east_m=40_000)
V = at(P, north_m=-20_000)
W = at(P, north_m=-40_000)

KNOWN = [
    # LTE Viettel eNB 1000: three sectors; the median of their positions is P itself
    cell("LTE", 452, 4, 7, 1000 * 256 + 1, P, 800),
    cell("LTE", 452, 4, 7, 1000 * 256 + 2, at(P, east_m=300), 900),
    cell("LTE", 452, 4, 7, 1000 * 256 + 3, at(P, north_m=300), 1000),
    cell("LTE", 452, 4, 7, 1001 * 256 + 1, P),  # another eNB on the same spot: another site
    cell("LTE", 452, 1, 7, 1000 * 256 + 1, at(P, east_m=1000)),  # eNB 1000 of MobiFone
    # eNB 2000: two cells near Q, one 50 km north (a reused eNB id): two sites
    cell("LTE", 452, 4, 8, 2000 * 256 + 1, Q),
    cell("LTE", 452, 4, 8, 2000 * 256 + 2, at(Q, east_m=100)),
    cell("LTE", 452, 4, 9, 2000 * 256 + 3, at(Q, north_m=50_000)),
    # eNB 3000: a chain of cells 1.5 km apart is one site by single linkage at 2 km
    cell("LTE", 452, 4, 7, 3000 * 256 + 1, A),
    cell("LTE", 452, 4, 7, 3000 * 256 + 2, at(A, east_m=1500)),
    cell("LTE", 452, 4, 7, 3000 * 256 + 3, at(A, east_m=3000)),
    # NR: gNB 5 (24-bit gNB id: nci >> 12) has cells 1 and 2; gNB 6 cell 1
    cell("NR", 452, 4, 7, (5 << 12) | 1, at(P, north_m=1000)),
    cell("NR", 452, 4, 7, (5 << 12) | 2, at(P, north_m=1000)),
    cell("NR", 452, 4, 7, (6 << 12) | 1, at(P, north_m=1000)),
    # UMTS VinaPhone, sector-digit CIs: node 123 of RNC 3 has three sectors 200 m apart
    cell("UMTS", 452, 2, 10, umts(3, 1231), T),
    cell("UMTS", 452, 2, 10, umts(3, 1232), at(T, east_m=200)),
    cell("UMTS", 452, 2, 11, umts(3, 1233), at(T, east_m=400)),
    cell("UMTS", 452, 2, 10, umts(3, 1241), T),  # node 124, same spot: another site
    cell("UMTS", 452, 2, 10, umts(4, 1231), T),  # node 123 of RNC 4: another site
    cell("UMTS", 452, 2, 10, umts(3, 1251), T2),  # node 125: two cells 30 km apart
    cell("UMTS", 452, 2, 10, umts(3, 1252), at(T2, north_m=30_000)),
    # UMTS Viettel, CIs mostly ending in 0 (no sector digit): single linkage at 500 m
    cell("UMTS", 452, 4, 20, umts(7, 10), U),
    cell("UMTS", 452, 4, 20, umts(7, 20), at(U, east_m=300)),
    cell("UMTS", 452, 4, 20, umts(7, 30), at(U, east_m=700)),  # 400 m from the last: linked
    cell("UMTS", 452, 4, 20, umts(7, 41), at(U, east_m=2000)),  # 1.3 km from the last: alone
    cell("UMTS", 452, 4, 20, umts(8, 50), U),  # another RNC: alone
    # GSM VinaPhone, sector-digit CIs: BTS 1 of LAC 10 has three sectors
    cell("GSM", 452, 2, 10, 11, V),
    cell("GSM", 452, 2, 10, 12, at(V, east_m=100)),
    cell("GSM", 452, 2, 10, 13, at(V, east_m=200)),
    cell("GSM", 452, 2, 10, 21, V),  # BTS 2
    cell("GSM", 452, 2, 11, 11, V),  # BTS 1 of LAC 11
    # GSM MobiFone, no sector digits: 450 m linked, then 550 m not
    cell("GSM", 452, 1, 20, 100, W),
    cell("GSM", 452, 1, 20, 200, at(W, east_m=450)),
    cell("GSM", 452, 1, 20, 300, at(W, east_m=1000)),
    cell("UMTS", 452, 99, 3, umts(1, 1), at(P, north_m=-60_000)),  # an unlisted MNC
]
"""Cells whose sites are known by hand (see the comments)."""
N_KNOWN = len(KNOWN)

BAD_ROWS = [
    (cell("CDMA", 452, 4, 7, 1, P), "radio", "CDMA"),
    (cell("LTE", "abc", 4, 7, 2, P), "mcc", "abc"),
    (cell("LTE", 452, "04x", 7, 3, P), "net", "04x"),
    (cell("LTE", 452, 4, 7, -5, P), "cell", "not a whole number ≥ 0"),
    (cell("GSM", 452, 4, 7, 4, (0.0, 0.0)), "lon", "0,0"),
    (cell("GSM", 452, 4, 7, 5, (100.0, 50.0)), "lon", "bounding box"),
    (cell("GSM", 748, 1, 7, 6, P), "mcc", "not among the selected codes"),
    ("LTE,452,4,7\n", "row", "only some fields"),
    (cell("GSM", 452, 4, 7, 0, P), "cell", "placeholder GSM cell id 0"),
    (cell("GSM", 452, 4, 7, 65535, P), "cell", "placeholder GSM cell id 65535"),
    (cell("GSM", 452, 4, 7, 65536, P), "cell", "GSM cell id 65536 does not fit in 16 bits"),
    (cell("UMTS", 452, 4, 7, 268435455, P), "cell", "placeholder UMTS cell id 268435455"),
    (cell("UMTS", 452, 4, 7, 268435456, P), "cell", "does not fit in 28 bits"),
    (cell("LTE", 452, 4, 7, 268435456, P), "cell", "LTE cell id 268435456 does not fit in 28 bits"),
    (cell("NR", 452, 4, 7, 2**36, P), "cell", "does not fit in 36 bits"),
    (cell("GSM", 452, 4, 0, 7, P), "area", "placeholder GSM LAC 0"),
    (cell("GSM", 452, 4, 65534, 7, P), "area", "placeholder GSM LAC 65534"),
    (cell("UMTS", 452, 4, 65535, 7, P), "area", "placeholder UMTS LAC 65535"),
    (cell("LTE", 452, 4, 65536, 7, P), "area", "LTE TAC 65536 does not fit in 16 bits"),
    (KNOWN[0], "cell", "duplicate cell: same radio, mcc, net, area and cell as row 1"),
    (KNOWN[0].replace("LTE", "lte", 1), "cell", "as row 1"),  # radio spelled otherwise: same key
]
"""Rows refused, with the field and a piece of the reason."""
BBOX = (102.0, 8.0, 110.0, 23.5)


@pytest.fixture
def cells_file(tmp_path: Path) -> Path:
    path = tmp_path / "cells.csv"
    path.write_text(HEADER + "".join(KNOWN), encoding="utf-8")
    return path


@pytest.fixture
def sites(cells_file: Path) -> pd.DataFrame:
    return import_cells(cells_file).sites.set_index("site_id")


def test_lte_and_nr_by_node_then_split_by_distance(sites: pd.DataFrame) -> None:
    enb = sites.loc["452-04-LTE-1000"]
    assert (enb["cells"], enb["operator"], enb["technology"], enb["rule"]) == (3, "Viettel", "4G", "enb")
    assert (enb["lon"], enb["lat"]) == pytest.approx(P, abs=1e-7)  # the median of the three
    assert enb["spread_m"] == pytest.approx(300.0, abs=0.1)
    assert enb["cell_range_m"] == 1000 and np.isnan(enb["radius_m"]) and enb["node_id"] == "1000"
    assert sites.loc["452-04-LTE-1001", "cells"] == 1
    assert sites.loc["452-01-LTE-1000", "operator"] == "MobiFone"
    assert "452-04-LTE-2000" not in sites.index  # reused id: split, each part named /k
    near, far = sites.loc["452-04-LTE-2000/1"], sites.loc["452-04-LTE-2000/2"]
    assert near["cells"] == 2 and far["cells"] == 1
    assert (far["lon"], far["lat"]) == pytest.approx(at(Q, north_m=50_000), abs=1e-7)
    assert near["lat"] == pytest.approx(Q[1], abs=1e-7) and near["area"] == "8"
    chain = sites.loc["452-04-LTE-3000"]
    assert chain["cells"] == 3 and (chain["lon"], chain["lat"]) == pytest.approx(at(A, east_m=1500), abs=1e-7)
    assert chain["spread_m"] == pytest.approx(1500.0, abs=0.1)
    assert sites.loc["452-04-NR-5", "cells"] == 2 and sites.loc["452-04-NR-6", "cells"] == 1
    assert sites.loc["452-04-NR-5", "technology"] == "5G" and sites.loc["452-04-NR-5", "rule"] == "gnb"


def test_umts_and_gsm_by_sector_digit_or_by_proximity(sites: pd.DataFrame) -> None:
    node = sites.loc["452-02-UMTS-3.123"]
    assert (node["cells"], node["rule"], node["node_id"]) == (3, "sector-digit", "3.123")
    assert (node["lon"], node["lat"]) == pytest.approx(at(T, east_m=200), abs=1e-7)
    assert node["area"] == ""  # its cells are in LACs 10 and 11
    assert sites.loc["452-02-UMTS-3.124", "cells"] == 1 and sites.loc["452-02-UMTS-4.123", "cells"] == 1
    assert sites.loc["452-02-UMTS-3.125/1", "cells"] == 1 and sites.loc["452-02-UMTS-3.125/2", "cells"] == 1
    chain = sites.loc["452-04-UMTS-7.c10"]  # proximity: named by RNC and the smallest CI
    assert (chain["cells"], chain["rule"], chain["node_id"]) == (3, "proximity", "")
    assert (chain["lon"], chain["lat"]) == pytest.approx(at(U, east_m=300), abs=1e-7)
    assert sites.loc["452-04-UMTS-7.c41", "cells"] == 1 and sites.loc["452-04-UMTS-8.c50", "cells"] == 1
    assert sites.loc["452-02-GSM-10.1", "cells"] == 3 and sites.loc["452-02-GSM-10.1", "area"] == "10"
    assert sites.loc["452-02-GSM-10.2", "cells"] == 1 and sites.loc["452-02-GSM-11.1", "cells"] == 1
    assert sites.loc["452-01-GSM-20.c100", "cells"] == 2 and sites.loc["452-01-GSM-20.c300", "cells"] == 1
    assert sites.loc["452-99-UMTS-1.0", "operator"] == "452-99"


def test_every_cell_is_in_one_site(cells_file: Path) -> None:
    result = import_cells(cells_file)
    assert list(result.sites.columns) == list(SITE_COLUMNS)
    assert list(result.cell_sites.columns) == list(CELL_SITE_COLUMNS)
    assert result.read == result.used == len(result.cell_sites) == N_KNOWN and result.rejected.empty
    assert result.sites["cells"].sum() == N_KNOWN and result.sites["site_id"].is_unique
    counted = result.cell_sites["site_id"].value_counts()
    assert counted.to_dict() == result.sites.set_index("site_id")["cells"].to_dict()
    mapped = result.cell_sites.set_index(["radio", "net", "cell"])["site_id"]
    assert mapped.loc[("LTE", 4, 2000 * 256 + 3)] == "452-04-LTE-2000/2"
    assert mapped.loc[("UMTS", 2, umts(3, 1233))] == "452-02-UMTS-3.123"
    assert len(result.sites) == 22


def test_summary_per_operator_and_radio(cells_file: Path) -> None:
    result = import_cells(cells_file)
    summary = result.summary
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    rows = summary.set_index(["radio", "mnc"])
    lte = rows.loc[("LTE", "04")]
    assert (lte["rule"], lte["distance_m"], lte["groups"]) == ("enb", 2000, 4)
    assert (lte["cells"], lte["sites"]) == (10, 5)
    assert np.isnan(lte["sector_digit_share"]) and lte["cells_per_site"] == pytest.approx(10 / 5)
    # sites of 2+ cells: eNB 1000 (300 m), 2000/1 (50 m), 3000 (1,500 m)
    assert lte["spread_median_m"] == pytest.approx(300, abs=0.1)
    assert lte["spread_max_m"] == pytest.approx(1500, abs=0.1)
    vina = rows.loc[("UMTS", "02")]
    assert (vina["rule"], vina["sector_digit_share"], vina["groups"], vina["sites"]) == (
        "sector-digit", 1.0, 4, 5,
    )  # fmt: skip
    viettel = rows.loc[("UMTS", "04")]
    assert (viettel["rule"], viettel["distance_m"], viettel["sector_digit_share"]) == ("proximity", 500, 0.2)
    assert (viettel["groups"], viettel["sites"]) == (2, 3)  # RNCs 7 and 8
    assert rows.loc[("GSM", "01"), "rule"] == "proximity"
    assert rows.loc[("GSM", "02"), "rule"] == "sector-digit"
    assert summary["cells"].sum() == result.used and summary["sites"].sum() == len(result.sites)
    by_tech = result.by_technology.set_index("technology")
    assert by_tech["cells"].to_dict() == {"2G": 8, "3G": 13, "4G": 11, "5G": 3}
    assert by_tech["sites"].to_dict() == {"2G": 5, "3G": 9, "4G": 6, "5G": 2}


def test_options_change_the_grouping(cells_file: Path) -> None:
    tight = import_cells(cells_file, split_distance_m=1000.0).sites.set_index("site_id")
    assert [tight.loc[f"452-04-LTE-3000/{k}", "cells"] for k in (1, 2, 3)] == [1, 1, 1]
    wide = import_cells(cells_file, group_distance_m=600.0).sites
    assert sorted(wide.loc[(wide["technology"] == "2G") & (wide["mnc"] == "01"), "cells"]) == [3]
    near = import_cells(cells_file, group_distance_m=350.0).sites.set_index("site_id")
    assert near.loc["452-04-UMTS-7.c10", "cells"] == 2 and near.loc["452-04-UMTS-7.c30", "cells"] == 1
    same_spot = import_cells(cells_file, group_distance_m=0.0).sites
    assert sorted(same_spot.loc[same_spot["mnc"] == "01", "cells"]) == [1, 1, 1, 1]
    short = import_cells(cells_file, nr_gnb_bits=22).sites  # gNB = nci >> 14: gNBs 5 and 6 become one
    assert short.loc[short["technology"] == "5G", "cells"].tolist() == [3]
    strict = import_cells(cells_file, sector_digit_share=1.0).summary.set_index(["radio", "mnc"])
    assert strict.loc[("UMTS", "02"), "rule"] == "sector-digit"  # 100 % of its CIs end in 1-9
    ranged = import_cells(cells_file, use_range=True).sites.set_index("site_id")
    assert ranged.loc["452-04-LTE-1000", "radius_m"] == 1000
    for name, value in [("nr_gnb_bits", 40), ("split_distance_m", -1.0), ("group_distance_m", np.nan),
                        ("sector_digit_share", 1.5)]:  # fmt: skip
        with pytest.raises(InputError, match=f"`{name}`"):
            import_cells(cells_file, **{name: value})


@pytest.mark.parametrize(("ending_in_zero", "rule"), [(1, "sector-digit"), (2, "proximity")])
def test_the_sector_digit_test_is_at_least_90_percent(tmp_path: Path, ending_in_zero: int, rule: str) -> None:
    """Ten GSM cells of one operator: 9 of 10 CIs in 1-9 is sector-digit numbering, 8 of 10 is not."""
    cis = [10 * k + 1 for k in range(10 - ending_in_zero)] + [10 * k + 10 for k in range(ending_in_zero)]
    path = tmp_path / "cells.csv"
    path.write_text(HEADER + "".join(cell("GSM", 452, 4, 5, ci, at(P, east_m=5000.0 * i))
                                     for i, ci in enumerate(cis)), encoding="utf-8")  # fmt: skip
    summary = import_cells(path).summary.iloc[0]
    assert summary["sector_digit_share"] == pytest.approx(1 - ending_in_zero / 10)
    assert summary["rule"] == rule
    assert import_cells(path, sector_digit_share=0.95).summary.iloc[0]["rule"] == "proximity"


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
    path.write_text(HEADER + "".join(KNOWN) + "".join(row for row, _, _ in BAD_ROWS), encoding="utf-8")
    result = import_cells(path, mcc=452, bbox=BBOX)
    assert result.read == N_KNOWN + len(BAD_ROWS)
    assert result.used == N_KNOWN == len(result.cell_sites) and len(result.rejected) == len(BAD_ROWS)
    rej = result.rejected
    assert list(rej.columns[-3:]) == ["row", "field", "reason"]
    assert list(rej.columns[:3]) == ["radio", "mcc", "net"]
    by_row = rej.set_index("row")
    for k, (_, field, reason) in enumerate(BAD_ROWS):
        row = N_KNOWN + k + 1
        assert (row, by_row.loc[row, "field"]) == (row, field)
        assert reason in by_row.loc[row, "reason"]
    first_lte = result.cell_sites[result.cell_sites["cell"] == 1000 * 256 + 1]
    assert first_lte["site_id"].tolist() == ["452-01-LTE-1000", "452-04-LTE-1000"]  # the first row kept


def test_the_same_cell_in_another_area_is_not_a_duplicate(tmp_path: Path) -> None:
    path = tmp_path / "cells.csv"
    rows = [cell("LTE", 452, 4, 7, 256 * 9 + 1, P), cell("LTE", 452, 4, 8, 256 * 9 + 1, at(P, east_m=50))]
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    result = import_cells(path)
    assert result.rejected.empty and result.sites["cells"].tolist() == [2]


def test_headerless_and_gzip_files(tmp_path: Path) -> None:
    plain = tmp_path / "cells.csv"
    plain.write_text("".join(KNOWN), encoding="utf-8")
    packed = tmp_path / "cells.csv.gz"
    packed.write_bytes(gzip.compress((HEADER + "".join(KNOWN)).encode()))
    a, b = import_cells(plain), import_cells(packed)
    pd.testing.assert_frame_equal(a.sites, b.sites)
    pd.testing.assert_frame_equal(a.cell_sites, b.cell_sites)
    assert len(a.sites) == 22


def test_file_level_problems(tmp_path: Path) -> None:
    path = tmp_path / "cells.csv"
    path.write_text("radio,mcc,lon,lat\nLTE,452,105,18\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column"):
        import_cells(path)
    path.write_text(HEADER + cell("CDMA", 452, 4, 7, 1, P), encoding="utf-8")
    with pytest.raises(InputError, match="every one of 1"):
        import_cells(path)
    with pytest.raises(InputError, match="not found"):
        import_cells(tmp_path / "nope.csv")


def test_operator_table() -> None:
    assert operator_name(452, 4) == "Viettel" and operator_name(452, 2) == "VinaPhone"
    assert operator_name(748, 7) == "Movistar" and operator_name(748, 10) == "Claro"
    assert operator_name(208, 1) == "208-01"


def test_import_cells_is_the_package_function() -> None:
    import telecov
    import telecov.opencellid

    assert telecov.import_cells is telecov.opencellid.import_cells
