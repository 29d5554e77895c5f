"""Plans and gap zones on dask.distributed: the same picks, gains and zones as in one process.

Like test_distributed: CI starts ``dask scheduler`` and two ``dask worker`` processes and exports
``TELECOV_DASK_SCHEDULER``; elsewhere the tests start a LocalCluster of two worker processes.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.transform import Affine

import telecov
from telecov.analysis import sample_path
from telecov.engine.gain_tasks import (
    RemoteGains,
    build_gain_part,
    evaluate_gain_part,
    gain_model_on,
    plan_gain_tasks,
)
from telecov.engine.gains import Candidates, add_blocks, candidate_pairs, gain_model, marginal_gains
from telecov.engine.partition import regions_from_geometries
from telecov.engine.splits import few_small_members
from telecov.engine.tasks import PartitionError
from telecov.footprints import footprints_of
from telecov.io.population import open_population
from telecov.plan import plan_sites

from _cli import main_in_process
from conftest import IN_CI

SCHEDULER_ENV = "TELECOV_DASK_SCHEDULER"
FIELDS = {"area_id": "commune_code", "area_name": "commune_name", "parent": "province"}
REL = 1e-9


@pytest.fixture(scope="module")
def client():
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        if IN_CI:
            pytest.fail('dask.distributed is required in CI (pip install "telecom-coverage[dask]")')
        pytest.skip("dask.distributed not installed")
    address = os.environ.get(SCHEDULER_ENV)
    if address:
        with Client(address, timeout=30) as c:
            c.wait_for_workers(2, timeout=60)
            yield c
        return
    if IN_CI:
        pytest.fail(f"CI must start a dask scheduler and export {SCHEDULER_ENV}")
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=":0",
        scheduler_kwargs={"dashboard": False},
    )  # fmt: skip
    with cluster, Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def fine_raster(tmp_path_factory) -> Path:
    """The sample's people on pixels a third as wide (1″): many blocks of rows, several bands."""
    path = tmp_path_factory.mktemp("raster") / "population_1s.tif"
    with rasterio.open(sample_path("population.tif")) as src:
        people = src.read(1).astype("float32")
        if src.nodata is not None:
            people[people == src.nodata] = 0
        t, crs = src.transform, src.crs
    fine = np.repeat(np.repeat(people, 3, axis=0), 3, axis=1) / 9
    profile = {
        "driver": "GTiff", "height": fine.shape[0], "width": fine.shape[1], "count": 1,
        "dtype": "float32", "crs": crs, "transform": Affine(t.a / 3, 0, t.c, 0, t.e / 3, t.f),
        "tiled": True, "compress": "deflate",
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(fine, 1)
    return path


@pytest.fixture(scope="module")
def result(fine_raster) -> telecov.Result:
    return telecov.analyze(sample_path("sites.csv"), sample_path("communes.gpkg"), fine_raster, **FIELDS)


def _gain_inputs(result: telecov.Result):
    """The engine's inputs of a 5G plan whose candidates are the sample's 4G sites at 600 m, sectors kept."""
    areas = result.areas
    parents = sorted(set(areas["parent"]))
    codes = np.array([parents.index(p) for p in areas["parent"]], dtype=np.int64)
    regions = regions_from_geometries(areas.geometry.to_numpy(), parent=codes)
    fps = footprints_of(result.sites)
    layers = [np.asarray(la.members, dtype=np.int64) for la in result.layers]
    members = next(
        np.asarray(la.members) for la in result.layers if la.technology == "5G" and la.operator == "all"
    )
    four = result.sites[(result.sites["technology"] == "4G") & result.sites["counted"].astype(bool)]
    cand_fp = footprints_of(four.assign(radius_m=600.0))
    candidates = Candidates.single(cand_fp)
    return regions, fps, members, candidates, few_small_members(fps, layers)


KW = {"residential_density": 300.0, "resolution_m": 100.0}


# --- parts as pure functions (no cluster) ---------------------------------------------------------


@pytest.mark.parametrize("count", [1, 3, 8])
def test_gain_parts_sum_to_the_one_process_gains_bit_for_bit(result, fine_raster, count) -> None:
    regions, fps, members, candidates, caps = _gain_inputs(result)
    assert candidates.footprints.sector_mask().any()
    with open_population(fine_raster) as raster:
        model, alone = gain_model(regions, fps, members, candidates, raster, cap_members=caps, **KW)
        pairs = candidate_pairs(regions, candidates)
        tasks = plan_gain_tasks(
            regions, fps, members, candidates, pairs, raster, population=str(fine_raster), cap_members=caps,
            parents=True, count=count, area_names=result.areas["area_id"].tolist(), **KW,
        )  # fmt: skip
    assert count - 1 <= len(tasks) <= count + 1
    assert all(t.rows[0] % 64 == 0 or t.index == 0 for t in tasks)  # cut between blocks of rows
    parts = [build_gain_part(t) for t in tasks]
    spread = np.zeros_like(alone)
    add_blocks(spread, [b for p in parts for b in evaluate_gain_part(p, None, fps.__class__.empty())])
    assert alone[:, 1].sum() > 1000  # people: the comparison is not of zeros
    assert np.array_equal(alone, spread)
    # a re-measure after two picks, on the parts, equals the one-process re-measure
    picks = candidates.footprints_of(np.array([3, 10]))
    which = np.arange(len(candidates), dtype=np.int64)
    marginal_gains(model, which, picks, alone)
    spread[:] = 0.0
    add_blocks(spread, [b for p in parts for b in evaluate_gain_part(p, which, picks)])
    assert np.array_equal(alone, spread)


# --- on the cluster ---------------------------------------------------------------------------


def _plan(result: telecov.Result, **kw):
    return plan_sites(result, technology="5G", upgrade_from="4G", target=100, budget=25, min_gain=0, **kw)


def test_the_plan_on_the_cluster_picks_the_same_sites_in_the_same_order(client, result) -> None:
    alone = _plan(result)
    spread = _plan(result, client=client)
    assert len(alone.picks) == 25
    assert spread.picks["site_id"].tolist() == alone.picks["site_id"].tolist()
    a = alone.picks.select_dtypes("number").to_numpy(float)
    b = spread.picks.select_dtypes("number").to_numpy(float)
    assert np.array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    assert np.all(np.abs(a[ok] - b[ok]) <= REL * np.maximum(np.abs(a[ok]), 1e-300))
    assert alone.picks["marginal_people"].sum() > 0
    cluster = spread.summary["cluster"]
    assert cluster["parts"] >= 2 and cluster["round_trips"] >= 2
    pd.testing.assert_frame_equal(
        alone.after.table.drop(columns=alone.after.table.select_dtypes("number").columns),
        spread.after.table.drop(columns=spread.after.table.select_dtypes("number").columns),
    )


def test_gains_on_the_cluster_equal_one_process_bit_for_bit(client, result, fine_raster) -> None:
    regions, fps, members, candidates, caps = _gain_inputs(result)
    with open_population(fine_raster) as raster:
        model, alone = gain_model(regions, fps, members, candidates, raster, cap_members=caps, **KW)
        with gain_model_on(
            client, regions, fps, members, candidates, raster, population=fine_raster, cap_members=caps, **KW
        ) as (remote, spread):
            assert isinstance(remote.evaluate, RemoteGains)
            assert np.array_equal(alone, spread)
            picks = candidates.footprints_of(np.array([0, 7, 12]))
            which = np.arange(0, len(candidates), 3, dtype=np.int64)
            marginal_gains(model, which, picks, alone)
            marginal_gains(remote, which, picks, spread)
            assert np.array_equal(alone, spread)


def test_a_failing_gain_part_surfaces_with_its_rows_and_areas(client, result, fine_raster) -> None:
    regions, fps, members, candidates, caps = _gain_inputs(result)
    with open_population(fine_raster) as raster:
        tasks = plan_gain_tasks(
            regions, fps, members, candidates, candidate_pairs(regions, candidates), raster,
            population=str(fine_raster), cap_members=caps, parents=True, count=4,
            area_names=result.areas["area_id"].tolist(), **KW,
        )  # fmt: skip
    beyond = np.array([len(tasks[1].footprints) + 5], dtype=np.int64)
    tasks[1] = replace(tasks[1], members=beyond)  # a member that is not there
    remote = RemoteGains(client, tasks, candidates)
    t0 = time.perf_counter()
    try:
        remote.start()
        with pytest.raises(PartitionError) as info:
            remote(None, fps.__class__.empty())
    finally:
        remote.close()
    assert time.perf_counter() - t0 < 120  # no hang
    message = str(info.value)
    assert message.startswith(tasks[1].label) and "failed on worker tcp://127.0.0.1:" in message
    assert tasks[1].label.startswith("candidate gains on partition of raster rows")


def test_the_plan_cli_on_the_cluster_writes_the_same_picks(client, monkeypatch, capsys, tmp_path) -> None:
    common = ("plan", "--technology", "5G", "--upgrade-from", "4G", "--budget", "10", "--target", "100",
              "--min-gain", "0", "--no-map", "--format", "csv")  # fmt: skip
    code, alone, err = main_in_process(monkeypatch, capsys, tmp_path, *common, "--out", str(tmp_path / "a"))
    assert code == 0, err
    code, spread, err = main_in_process(
        monkeypatch, capsys, tmp_path, *common, "--scheduler", client.scheduler.address,
        "--out", str(tmp_path / "b"),
    )  # fmt: skip
    assert code == 0, err
    from io import StringIO

    a, b = pd.read_csv(StringIO(alone)), pd.read_csv(StringIO(spread))
    assert len(a) == 10 and a["site_id"].tolist() == b["site_id"].tolist()
    np.testing.assert_allclose(a["marginal_people"], b["marginal_people"], rtol=REL, atol=0)
    import json

    doc = json.loads((tmp_path / "b" / "plan.json").read_text(encoding="utf-8"))
    assert doc["gains_on_cluster"]["parts"] >= 1


# --- gap zones ------------------------------------------------------------------------------------


def _same_zones(alone, spread) -> None:
    import shapely

    a, b = alone.zones, spread.zones
    assert len(a) == len(b) and len(a) > 10
    assert a["area_id"].tolist() == b["area_id"].tolist() and a["rank"].tolist() == b["rank"].tolist()
    for col in ("population", "area_km2"):
        np.testing.assert_allclose(a[col], b[col], rtol=REL, atol=0)
    assert shapely.equals_exact(a.geometry.to_numpy(), b.geometry.to_numpy(), tolerance=1e-12).all()
    np.testing.assert_allclose(alone.uncovered_population, spread.uncovered_population, rtol=REL, atol=0)
    assert (alone.dropped, alone.dropped_population) == (spread.dropped, spread.dropped_population)


@pytest.mark.parametrize("technology", ["5G", "4G"])
def test_gap_zones_on_the_cluster_equal_one_process(client, result, technology) -> None:
    from telecov.gaps import gap_polygons

    alone = gap_polygons(result, technology=technology, min_people=5)
    spread = gap_polygons(result, technology=technology, min_people=5, client=client)
    _same_zones(alone, spread)
    assert alone.zones["population"].sum() > 1000


def test_a_failing_gap_partition_surfaces_with_its_rows_and_areas(client, result, fine_raster) -> None:
    from telecov.engine.gap_tasks import scan_gap_partition
    from telecov.engine.tasks import plan_partitions

    regions = regions_from_geometries(result.areas.geometry.to_numpy())
    fps = footprints_of(result.sites)
    members = np.asarray(result.layers[0].members, dtype=np.int64)
    with open_population(fine_raster) as raster:
        tasks = plan_partitions(
            regions, fps, [members], raster, population=str(fine_raster), count=3,
            area_names=result.areas["area_id"].tolist(), **KW,
        )  # fmt: skip
    bad = replace(tasks[1], layers=(np.array([len(tasks[1].footprints) + 5]),))
    t0 = time.perf_counter()
    with pytest.raises(PartitionError) as info:
        client.submit(scan_gap_partition, bad, pure=False).result()
    assert time.perf_counter() - t0 < 120
    message = str(info.value)
    assert message.startswith(f"gap rectangles of {bad.label} failed on worker tcp://127.0.0.1:")


def test_the_gaps_cli_on_the_cluster_writes_the_same_zones(client, monkeypatch, capsys, tmp_path) -> None:
    import json

    common = ("gaps", "--technology", "5G", "--export", "geojson", "--format", "csv")
    code, alone, err = main_in_process(monkeypatch, capsys, tmp_path, *common, "--out", str(tmp_path / "a"))
    assert code == 0, err
    code, spread, err = main_in_process(
        monkeypatch, capsys, tmp_path, *common, "--scheduler", client.scheduler.address,
        "--out", str(tmp_path / "b"),
    )  # fmt: skip
    assert code == 0, err
    from io import StringIO

    ta, tb = (
        pd.read_csv(StringIO(alone), dtype={"area_id": str}),
        pd.read_csv(StringIO(spread), dtype={"area_id": str}),
    )
    assert ta["area_id"].tolist() == tb["area_id"].tolist() and len(ta) > 0
    np.testing.assert_allclose(ta["uncovered_population"], tb["uncovered_population"], rtol=REL, atol=0)
    za = json.loads((tmp_path / "a" / "gaps.geojson").read_text(encoding="utf-8"))["features"]
    zb = json.loads((tmp_path / "b" / "gaps.geojson").read_text(encoding="utf-8"))["features"]
    assert len(za) == len(zb) > 0
    for fa, fb in zip(za, zb, strict=True):
        pa, pb = fa["properties"], fb["properties"]
        assert (pa["rank"], pa["area_id"]) == (pb["rank"], pb["area_id"])
        assert math.isclose(pa["population"], pb["population"], rel_tol=REL)
        assert fa["geometry"] == fb["geometry"]
