"""Single linkage of cells within groups, against all pairwise geodesic distances from pyproj."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pyproj import Geod
from test_opencellid import HEADER, at, cell

from telecov.opencellid import import_cells
from telecov.opencellid.linkage import single_linkage

GEOD = Geod(ellps="WGS84")


def _partition(labels: np.ndarray) -> set[frozenset[int]]:
    return {frozenset(np.flatnonzero(labels == k).tolist()) for k in np.unique(labels)}


def _brute_force(group: np.ndarray, lon: np.ndarray, lat: np.ndarray, distance: np.ndarray) -> np.ndarray:
    n = len(lon)
    labels = np.arange(n)
    i, j = np.triu_indices(n, 1)
    _, _, d = GEOD.inv(lon[i], lat[i], lon[j], lat[j])
    linked = (group[i] == group[j]) & (d <= distance[i])
    changed = True
    while changed:  # propagate the smallest label along links until nothing changes
        low = np.minimum(labels[i[linked]], labels[j[linked]])
        before = labels.copy()
        np.minimum.at(labels, i[linked], low)
        np.minimum.at(labels, j[linked], low)
        changed = not np.array_equal(before, labels)
    return labels


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_single_linkage_matches_all_pairs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 600
    centres = rng.uniform([-58.0, -35.0], [-57.9, -34.9], size=(40, 2))  # ~ 9 × 11 km
    pick = rng.integers(0, 40, n)
    lon = centres[pick, 0] + rng.normal(0, 0.004, n)
    lat = centres[pick, 1] + rng.normal(0, 0.004, n)
    group = rng.integers(0, 4, n).astype(np.int64)
    distance = np.where(group < 2, 500.0, 2000.0)[group]
    labels = single_linkage(group, lon, lat, distance)
    assert _partition(labels) == _partition(_brute_force(group, lon, lat, distance))
    assert 40 < len(np.unique(labels)) < n - 40  # neither all apart nor all together
    assert all(labels[labels[k]] == labels[k] for k in range(n))  # named by one of its points


def test_single_linkage_edges() -> None:
    assert single_linkage(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0)).tolist() == []
    same = single_linkage(np.array([0, 0, 1]), np.array([10.0] * 3), np.array([20.0] * 3), np.zeros(3))
    assert same.tolist() == [0, 0, 2]  # 0 m links identical positions, never across groups
    # across the antimeridian: 179.999 E and 179.999 W are 209 m apart on the equator
    across = single_linkage(
        np.zeros(2, np.int64), np.array([179.999, -179.999]), np.zeros(2), np.full(2, 250.0)
    )
    assert across[0] == across[1]
    # a geodesic 500 m link and one of 500.01 m
    lon2, lat2 = at((105.7, 18.3), east_m=500.0)
    lon3, lat3 = at((105.7, 18.3), east_m=1000.01)
    chain = single_linkage(np.zeros(3, np.int64), np.array([105.7, lon2, lon3]), np.array([18.3, lat2, lat3]),
                           np.full(3, 500.0))  # fmt: skip
    assert chain[0] == chain[1] != chain[2]


def test_a_site_across_the_antimeridian(tmp_path: Path) -> None:
    path = tmp_path / "cells.csv"
    rows = [cell("LTE", 542, 1, 7, 256 * 4 + k, at((179.9995, -17.0), east_m=60.0 * k)) for k in range(3)]
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    site = import_cells(path).sites.iloc[0]
    middle = at((179.9995, -17.0), east_m=60.0)  # GEOD.fwd wraps it to about -179.99994
    assert site["cells"] == 3 and site["lon"] == pytest.approx(middle[0], abs=1e-7)
    assert site["lon"] < -179.9999
    assert site["spread_m"] == pytest.approx(60.0, abs=0.1)
