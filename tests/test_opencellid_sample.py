"""The OpenCelliD Uruguay sample: towers checked by hand, and every site recomputed independently.

The independent computation reads the raw CSV with pandas, derives the groups from the documented
id layouts (ECI // 256, long CID // 65536, CI // 10) and clusters each group by geodesic
distances from pyproj (all pairs, no index), so it shares no code with telecov's grouping.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from telecov.opencellid import import_cells

from conftest import require_shared

GEOD = Geod(ellps="WGS84")
KEY = ["radio", "net", "area", "cell"]


@pytest.fixture(scope="module")
def sample() -> Path:
    return require_shared("opencellid", "sample.csv")


@pytest.fixture(scope="module")
def result(sample: Path):
    return import_cells(sample)


@pytest.fixture(scope="module")
def raw(sample: Path) -> pd.DataFrame:
    frame = pd.read_csv(sample, dtype={"radio": str})
    return frame.assign(row=np.arange(1, len(frame) + 1))


def _cells_of(result, site_id: str, raw: pd.DataFrame) -> pd.DataFrame:
    mapping = result.cell_sites[result.cell_sites["site_id"] == site_id]
    return mapping.merge(raw, on=["radio", "mcc", *KEY[1:]]).sort_values("row")


def test_counts_and_the_refused_placeholders(result, raw: pd.DataFrame) -> None:
    assert result.read == len(raw) == 25_581
    assert result.used + len(result.rejected) == result.read == len(result.cell_sites) + len(result.rejected)
    assert result.sites["cells"].sum() == result.used == 25_572
    refused = result.rejected.set_index("row")
    assert refused.index.tolist() == [542, 1438, 1837, 3323, 8430, 9420, 21819, 24580, 25581]
    assert refused["field"].tolist() == ["area"] * 4 + ["cell"] * 5
    assert refused.loc[542, "reason"].startswith("placeholder UMTS LAC 65534")
    assert refused.loc[8430, "reason"].startswith("placeholder GSM cell id 65535")
    assert refused.loc[21819, "reason"].startswith("placeholder UMTS cell id 268435455")
    assert refused.loc[24580, "reason"].startswith("placeholder GSM cell id 0")
    by_tech = result.by_technology.set_index("technology")
    assert by_tech["cells"].to_dict() == {"2G": 5995, "3G": 15820, "4G": 3757}


def test_an_antel_nodeb_by_hand(result, raw: pd.DataFrame) -> None:
    """RNC 2, NodeB 1001: long CIDs 141083-141088 = 2 × 65536 + 10011…10016, sectors 1-6.

    Their positions lie 114-814 m apart in central Montevideo, where 59 UMTS cells of Antel
    from 28 nodes lie within 500 m of the site: distance alone cannot find this tower.
    """
    cells = _cells_of(result, "748-01-UMTS-2.1001", raw)
    assert cells["row"].tolist() == [843, 5287, 5493, 6179, 9831, 9874]
    assert sorted(cells["cell"]) == list(range(141083, 141089))
    site = result.sites.set_index("site_id").loc["748-01-UMTS-2.1001"]
    # medians by hand: lon sorted -56.209516 -56.208115 -56.206814 | -56.205592 -56.205368 -56.201248
    assert site["lon"] == pytest.approx((-56.206814 - 56.205592) / 2, abs=1e-6)
    assert site["lat"] == pytest.approx((-34.908371 - 34.908309) / 2, abs=1e-6)
    assert (site["cells"], site["rule"], site["area"]) == (6, "sector-digit", "101")
    _, _, far = GEOD.inv([site["lon"]] * 6, [site["lat"]] * 6, cells["lon"].tolist(), cells["lat"].tolist())
    assert site["spread_m"] == pytest.approx(max(far), abs=0.1) and 450 < site["spread_m"] < 460
    i, j = np.triu_indices(6, 1)
    lon, lat = cells["lon"].to_numpy(), cells["lat"].to_numpy()
    _, _, apart = GEOD.inv(lon[i], lat[i], lon[j], lat[j])
    assert 113 < apart.min() < 114 and 813 < apart.max() < 814
    antel = raw[(raw["radio"] == "UMTS") & (raw["net"] == 1)]
    _, _, d = GEOD.inv([site["lon"]] * len(antel), [site["lat"]] * len(antel), antel["lon"], antel["lat"])
    near = antel[d < 500]
    assert len(near) == 59 and len({(c // 65536, c % 65536 // 10) for c in near["cell"]}) == 28


def test_a_reused_enb_id_by_hand(result, raw: pd.DataFrame) -> None:
    """Antel eNB 222 (ECIs 56832-56834): three cells in Rocha and one in Paysandú, 400 km away."""
    east = _cells_of(result, "748-01-LTE-222/1", raw)
    west = _cells_of(result, "748-01-LTE-222/2", raw)
    assert east["row"].tolist() == [6543, 6547, 23843] and west["row"].tolist() == [19195]
    assert "748-01-LTE-222" not in set(result.sites["site_id"])
    sites = result.sites.set_index("site_id")
    assert (sites.loc["748-01-LTE-222/1", "lon"], sites.loc["748-01-LTE-222/1", "lat"]) == pytest.approx(
        (-54.155502, -34.650650), abs=1e-6
    )
    assert (sites.loc["748-01-LTE-222/2", "lon"], sites.loc["748-01-LTE-222/2", "lat"]) == pytest.approx(
        (-58.090897, -32.297745), abs=1e-6
    )
    _, _, gap = GEOD.inv(-54.155502, -34.650650, -58.090897, -32.297745)
    assert gap > 400_000


def test_a_split_by_a_lone_far_record_by_hand(result, raw: pd.DataFrame) -> None:
    """Antel eNB 187: ECI 47873 was seen in TAC 32 with its two neighbours and, once, in TAC 13.

    The one-sample record lies 3.1 km from the others, beyond the 2 km split: a site of its own,
    though it is most likely the same cell measured elsewhere (see the notes on --split-distance).
    """
    main, lone = _cells_of(result, "748-01-LTE-187/1", raw), _cells_of(result, "748-01-LTE-187/2", raw)
    assert main["row"].tolist() == [20180, 20627, 21424] and lone["row"].tolist() == [6649]
    assert lone["cell"].tolist() == [47873] and lone["samples"].tolist() == [1]
    _, _, d = GEOD.inv([lone["lon"].iloc[0]] * 3, [lone["lat"].iloc[0]] * 3, main["lon"], main["lat"])
    assert 3000 < min(d) < 3200


@pytest.mark.parametrize(
    ("site_id", "rows", "lon", "lat"),
    [
        # Movistar GSM (88.5 % of CIs in 1-9: proximity), LAC 8313, Parque del Plata
        ("748-07-GSM-8313.c8266", [22716, 22722, 22723], -55.905991, -34.788895),
        # Claro UMTS (89.5 %: proximity), RNC 1053
        ("748-10-UMTS-1053.c18265", [597, 21396, 24796], -55.996628, -34.753403),
    ],
)
def test_proximity_clusters_by_hand(result, raw, site_id, rows, lon, lat) -> None:
    cells = _cells_of(result, site_id, raw)
    assert cells["row"].tolist() == rows
    site = result.sites.set_index("site_id").loc[site_id]
    assert (site["lon"], site["lat"]) == pytest.approx((lon, lat), abs=1e-6)  # medians of the three
    # why: the three are linked within 500 m, and every other cell of the group is farther
    first = cells.iloc[0]
    group = raw[(raw["radio"] == first["radio"]) & (raw["net"] == first["net"])]
    group = (
        group[group["area"] == first["area"]]
        if first["radio"] == "GSM"
        else group[group["cell"] // 65536 == first["cell"] // 65536]
    )
    others = group[~group["row"].isin(rows)]
    for _, c in cells.iterrows():
        _, _, d = GEOD.inv([c["lon"]] * len(others), [c["lat"]] * len(others), others["lon"], others["lat"])
        assert np.min(d) > 500
    _, _, inside = GEOD.inv(cells["lon"].iloc[[0, 0, 1]], cells["lat"].iloc[[0, 0, 1]],
                            cells["lon"].iloc[[1, 2, 2]], cells["lat"].iloc[[1, 2, 2]])  # fmt: skip
    assert sorted(inside)[1] <= 500  # the two shortest links join the three


def test_rules_and_shares_per_operator(result, raw: pd.DataFrame) -> None:
    rows = result.summary.set_index(["radio", "operator"])
    for (radio, net), cells in raw[raw["radio"].isin(["GSM", "UMTS"])].groupby(["radio", "net"]):
        ci = cells["cell"] % 65536 if radio == "UMTS" else cells["cell"]
        placeholder = cells["cell"] == 268435455 if radio == "UMTS" else cells["cell"].isin([0, 65535])
        kept = ~placeholder & ~cells["area"].isin([0, 65534, 65535])
        share = float((ci[kept] % 10 != 0).mean())
        row = rows.loc[(radio, {1: "Antel", 7: "Movistar", 10: "Claro"}[net])]
        assert row["sector_digit_share"] == pytest.approx(share, abs=5e-5)
        assert row["rule"] == ("sector-digit" if share >= 0.9 else "proximity")
    assert rows.loc[("UMTS", "Antel"), "groups"] == 3131  # ~3,100 NodeBs by (RNC, CI // 10)


def _components(lon: np.ndarray, lat: np.ndarray, distance: float) -> np.ndarray:
    """Single-linkage labels from all pairwise geodesic distances (a plain union-find)."""
    n = len(lon)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    if n > 1:
        i, j = np.triu_indices(n, 1)
        near = (np.abs(lat[i] - lat[j]) < 0.05) & (np.abs(lon[i] - lon[j]) < 0.05)  # 2 km < 0.05°
        i, j = i[near], j[near]
        _, _, d = GEOD.inv(lon[i], lat[i], lon[j], lat[j])
        for a, b in zip(i[d <= distance].tolist(), j[d <= distance].tolist(), strict=True):
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    return np.array([root(k) for k in range(n)])


def test_every_site_recomputed_independently(result, raw: pd.DataFrame) -> None:
    cells = raw.merge(result.cell_sites, on=["radio", "mcc", *KEY[1:]], how="inner", validate="one_to_one")
    assert len(cells) == result.used
    ci = np.where(cells["radio"] == "UMTS", cells["cell"] % 65536, cells["cell"])
    digit = {("GSM", 1), ("GSM", 10), ("UMTS", 1), ("UMTS", 7)}  # as measured above
    by_digit = np.array([(r, n) in digit for r, n in zip(cells["radio"], cells["net"], strict=True)])
    zone = np.select(
        [cells["radio"] == "GSM", cells["radio"] == "UMTS"], [cells["area"], cells["cell"] // 65536], -1
    )
    node = np.select([cells["radio"] == "LTE", by_digit], [cells["cell"] // 256, ci // 10], -1)
    distance = np.where((cells["radio"] == "LTE") | by_digit, 2000.0, 500.0)
    cells = cells.assign(zone=zone, node=node, distance=distance)
    expected = np.arange(len(cells)) * 0 - 1
    lon, lat = cells["lon"].to_numpy(), cells["lat"].to_numpy()
    for idx in cells.groupby(["radio", "net", "zone", "node"]).indices.values():
        expected[idx] = idx[_components(lon[idx], lat[idx], float(distance[idx[0]]))]
    cells["expected"] = expected
    assert (cells.groupby("expected")["site_id"].nunique() == 1).all()  # each cluster in one site,
    assert cells["expected"].nunique() == cells["site_id"].nunique() == len(result.sites) == 13_925  # 1:1
    medians = cells.groupby("site_id")[["lon", "lat"]].median()
    sites = result.sites.set_index("site_id").loc[medians.index]
    assert np.abs(sites["lon"] - medians["lon"]).max() < 1e-7
    assert np.abs(sites["lat"] - medians["lat"]).max() < 1e-7
