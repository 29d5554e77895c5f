"""The engine on dask.distributed: partitions as pure tasks, a real scheduler and two workers.

CI starts ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1 and exports the
scheduler's address as ``TELECOV_DASK_SCHEDULER``; elsewhere the tests start a LocalCluster
of two worker processes. Without dask the cluster tests skip on a developer machine and fail
in CI.
"""

from __future__ import annotations

import itertools
import math
import os
import signal
import sys
import threading
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
from telecov.distributed import DASK_EXTRA, connect, scheduler_address
from telecov.engine.partition import regions_from_geometries
from telecov.engine.scan import measure
from telecov.engine.tasks import (
    PartitionError,
    measure_partition,
    merge,
    plan_partitions,
    population_source,
    run_tasks,
)
from telecov.errors import InputError
from telecov.footprints import build_layers, footprints_of
from telecov.io.areas import read_areas
from telecov.io.population import open_population
from telecov.io.sites import read_sites

from _cli import main_in_process
from conftest import IN_CI

SCHEDULER_ENV = "TELECOV_DASK_SCHEDULER"
FIELDS = {"area_id": "commune_code", "area_name": "commune_name", "parent": "province"}
REL = 1e-9


def _need_dask() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        if IN_CI:
            pytest.fail(f"dask.distributed is required in CI ({DASK_EXTRA})")
        pytest.skip("dask.distributed not installed")


@pytest.fixture(scope="module")
def client():
    _need_dask()
    from distributed import Client, LocalCluster

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
    """The sample's people on pixels half as wide (1.5″): 1,642 rows, four bands of the engine.

    Partitions then cut bands short as well as between them.
    """
    path = tmp_path_factory.mktemp("raster") / "population_1.5s.tif"
    with rasterio.open(sample_path("population.tif")) as src:
        people = src.read(1).astype("float32")
        if src.nodata is not None:
            people[people == src.nodata] = 0
        t, crs = src.transform, src.crs
    fine = np.repeat(np.repeat(people, 2, axis=0), 2, axis=1) / 4
    profile = {
        "driver": "GTiff", "height": fine.shape[0], "width": fine.shape[1], "count": 1,
        "dtype": "float32", "crs": crs, "transform": Affine(t.a / 2, 0, t.c, 0, t.e / 2, t.f),
        "tiled": True, "compress": "deflate",
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(fine, 1)
    return path


def _same_table(a: pd.DataFrame, b: pd.DataFrame) -> None:
    numeric = a.select_dtypes("number").columns
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    pd.testing.assert_frame_equal(a.drop(columns=numeric), b.drop(columns=numeric))
    x, y = a[numeric].to_numpy(float), b[numeric].to_numpy(float)
    assert np.array_equal(np.isnan(x), np.isnan(y))
    ok = ~np.isnan(x)
    assert np.all(np.abs(x[ok] - y[ok]) <= REL * np.maximum(np.abs(x[ok]), 1e-300))


def _engine_inputs():
    areas = read_areas(sample_path("communes.gpkg"), **FIELDS).accepted
    sites = read_sites(sample_path("sites.csv")).accepted
    parents = sorted(set(areas["parent"]))
    codes = np.array([parents.index(p) for p in areas["parent"]], dtype=np.int64)
    regions = regions_from_geometries(areas.geometry.to_numpy(), parent=codes)
    layers = [la.members for la in build_layers(sites, combined=True)]
    return regions, footprints_of(sites), layers, areas["area_id"].tolist()


# --- partitions as pure functions (no cluster) ---------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 16])
def test_partitions_sum_to_the_single_process_measure(fine_raster, count) -> None:
    regions, footprints, layers, names = _engine_inputs()
    with open_population(fine_raster) as raster:
        whole = measure(regions, footprints, layers, raster, residential_density=300.0, resolution_m=100.0)
        tasks = plan_partitions(
            regions, footprints, layers, raster, population=str(fine_raster), residential_density=300.0,
            resolution_m=100.0, count=count, area_names=names,
        )  # fmt: skip
    assert count - 1 <= len(tasks) <= count + 1 and (count > 1 or len(tasks) == 1)
    assert max(t.work for t in tasks) <= 1.0 / count + 0.01
    rows = [t.rows for t in tasks]
    assert all(a[1] == b[0] for a, b in itertools.pairwise(rows))  # disjoint, contiguous
    assert all(len(t.footprints) <= len(footprints) for t in tasks)
    if count > 1:  # each task carries only what reaches its rows
        assert max(t.regions.x0.shape[0] for t in tasks) < regions.x0.shape[0]
    parts = [measure_partition(t) for t in tasks]
    total = merge(parts, n_regions=regions.n_regions, n_layers=len(layers), n_fields=whole.base.shape[1])
    assert total.lines == whole.lines and total.sub_rows == whole.sub_rows
    np.testing.assert_allclose(total.base, whole.base, rtol=REL, atol=0)
    np.testing.assert_allclose(total.covered, whole.covered, rtol=REL, atol=0)
    assert whole.covered[:, :, 1].sum() > 0  # people covered: the comparison is not of zeros


def test_a_partition_names_its_rows_and_areas(fine_raster) -> None:
    regions, footprints, layers, names = _engine_inputs()
    with open_population(fine_raster) as raster:
        tasks = plan_partitions(
            regions, footprints, layers, raster, population=str(fine_raster), residential_density=300.0,
            resolution_m=100.0, count=4, area_names=names,
        )  # fmt: skip
    first = tasks[0]
    assert f"raster rows {first.rows[0]}–{first.rows[1] - 1}" in first.label
    owners = sorted({names[i] for i in first.regions.owner if i < len(names)})
    assert owners[0] in first.label


@pytest.fixture(scope="module")
def utm_raster(tmp_path_factory) -> Path:
    """The sample's people on a 60 m UTM 48N grid (1,270 rows, three bands of the engine)."""
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    path = tmp_path_factory.mktemp("utm") / "population_utm.tif"
    with rasterio.open(sample_path("population.tif")) as src:
        t, w, h = calculate_default_transform(src.crs, "EPSG:32648", src.width, src.height, *src.bounds,
                                              resolution=60.0)  # fmt: skip
        data = np.zeros((h, w), dtype=np.float32)
        reproject(
            source=rasterio.band(src, 1), destination=data, src_transform=src.transform, src_crs=src.crs,
            dst_transform=t, dst_crs="EPSG:32648", resampling=Resampling.nearest, dst_nodata=0,
        )  # fmt: skip
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32",
                       crs="EPSG:32648", transform=t) as dst:  # fmt: skip
        dst.write(data * (60.0 / 90.0) ** 2, 1)
    return path


@pytest.mark.parametrize("count", [3, 7])
def test_projected_partitions_with_polygon_footprints_sum_to_one_process(utm_raster, count) -> None:
    """Partitions cut inside the bands of a UTM grid; sectors and 40 polygon footprints travel with them."""
    import shapely
    from shapely import affinity

    regions, footprints, layers, names = _engine_inputs()
    polygons = np.full(len(footprints), None, dtype=object)
    for i in range(40):
        x, y = footprints.lon[i], footprints.lat[i]
        polygons[i] = affinity.rotate(shapely.box(x - 0.008, y - 0.006, x + 0.008, y + 0.006), 20.0)
    footprints = replace(footprints, polygons=polygons)
    assert footprints.sector_mask().any()
    with open_population(utm_raster) as raster:
        assert not raster.lonlat
        whole = measure(regions, footprints, layers, raster, residential_density=300.0, resolution_m=100.0)
        tasks = plan_partitions(
            regions, footprints, layers, raster, population=str(utm_raster), residential_density=300.0,
            resolution_m=100.0, count=count, area_names=names,
        )  # fmt: skip
    first, _, step = tasks[0].grid
    assert any((t.rows[0] - first) % step for t in tasks[1:])  # some cut falls inside a band
    carried = [int(t.footprints.polygon_mask().sum()) for t in tasks]
    assert sum(carried) >= 40 and max(carried) < 40  # each polygon goes only where it reaches
    parts = [measure_partition(t) for t in tasks]
    total = merge(parts, n_regions=regions.n_regions, n_layers=len(layers), n_fields=whole.base.shape[1])
    assert total.lines == whole.lines and total.sub_rows == whole.sub_rows
    np.testing.assert_allclose(total.base, whole.base, rtol=REL, atol=0)
    np.testing.assert_allclose(total.covered, whole.covered, rtol=REL, atol=0)
    assert whole.covered[:, :, 1].sum() > 0 and whole.base[:, 0].sum() > 0


@pytest.mark.parametrize("reverse", [False, True], ids=["clockwise", "counter-clockwise"])
def test_a_flat_edge_across_a_cut_inside_a_band_scans_as_in_one_process(tmp_path, reverse) -> None:
    """An edge flatter than a strip crossing the cut splits the strips of both its rows in both parts.

    Judged on the band's middle row instead, the part without the edge's first end loses the
    split at its other end: the two parts then miss the whole by 1.3e-4 relative.
    """
    import shapely

    from telecov.engine.partition import Footprints

    dy, path = 0.001, tmp_path / "flat.tif"
    with rasterio.open(path, "w", driver="GTiff", width=200, height=1000, count=1, dtype="float64",
                       crs="EPSG:4326", transform=Affine(dy, 0, 105.0, 0, -dy, 19.0)) as dst:  # fmt: skip
        dst.write(np.random.default_rng(1).uniform(0, 50, (1000, 200)), 1)
    cut = 19.0 - 300 * dy  # the top of row 300, inside the first band (rows 0-511)
    poly = shapely.Polygon(
        [(105.01, cut + 1e-4), (105.15, cut - 1e-4), (105.15, cut - 0.2), (105.01, cut - 0.2)]
    )
    regions = regions_from_geometries(np.array([poly.reverse() if reverse else poly], dtype=object))
    kw = {"residential_density": 300.0, "resolution_m": 100.0}
    with open_population(path) as raster:
        whole = measure(regions, Footprints.empty(), [], raster, **kw)
        parts = [
            measure(regions, Footprints.empty(), [], raster, rows=rows, **kw)
            for rows in ((0, 300), (300, 1000))
        ]
    assert all(p.base[0, 0] > 0 for p in parts)
    np.testing.assert_allclose(parts[0].base + parts[1].base, whole.base, rtol=REL, atol=0)


def test_an_in_memory_raster_cannot_go_to_workers() -> None:
    with pytest.raises(InputError, match="`client`: the population raster must be a file path or URL"):
        population_source(np.zeros((2, 2)))
    assert population_source("https://example.org/pop.tif") == "https://example.org/pop.tif"
    assert Path(population_source("data/population.tif")).is_absolute()


# --- where a run measures ------------------------------------------------------------------------


def test_scheduler_addresses() -> None:
    assert scheduler_address("127.0.0.1:8786") == "tcp://127.0.0.1:8786"
    assert scheduler_address("tls://10.0.0.1:8786") == "tls://10.0.0.1:8786"
    with pytest.raises(InputError, match=r"`scheduler` 'nowhere': expected tcp://HOST:PORT"):
        scheduler_address("nowhere")


def test_both_workers_and_scheduler_are_refused() -> None:
    with (
        pytest.raises(InputError, match="`workers` and `scheduler`: give one or the other"),
        connect(workers=2, scheduler="127.0.0.1:8786"),
    ):
        pass  # pragma: no cover


def test_without_dask_the_options_name_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    for given in ({"workers": 1}, {"scheduler": "127.0.0.1:8786"}):
        with (
            pytest.raises(
                InputError, match=r'needs dask.distributed.*pip install "telecom-coverage\[dask\]"'
            ),
            connect(**given),
        ):
            pass  # pragma: no cover


def test_no_option_measures_in_this_process() -> None:
    with connect() as client:
        assert client is None


def test_an_unreachable_scheduler_exits_2_within_its_timeout(monkeypatch, capsys, tmp_path) -> None:
    _need_dask()
    t0 = time.perf_counter()
    code, _, err = main_in_process(
        monkeypatch, capsys, tmp_path, "report", "--scheduler", "127.0.0.1:9", "--scheduler-timeout", "1",
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 2
    assert "--scheduler 127.0.0.1:9: no dask scheduler answered at tcp://127.0.0.1:9 within 1 s" in err
    assert time.perf_counter() - t0 < 20
    code, _, err = main_in_process(
        monkeypatch, capsys, tmp_path, "report", "--scheduler", "127.0.0.1:9", "--workers", "2",
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 2 and "--workers and --scheduler: give one or the other" in err


# --- on the cluster ------------------------------------------------------------------------------


def test_the_cluster_table_equals_the_single_process_table(client, fine_raster) -> None:
    args = (sample_path("sites.csv"), sample_path("communes.gpkg"), fine_raster)
    alone = telecov.analyze(*args, combined=True, **FIELDS)
    spread = telecov.analyze(*args, combined=True, client=client, **FIELDS)
    _same_table(alone.table, spread.table)
    assert spread.run.raster.scan_lines == alone.run.raster.scan_lines
    assert alone.table["covered_population"].sum() > 0


def test_the_cli_on_the_cluster_prints_the_same_table(client, monkeypatch, capsys, tmp_path) -> None:
    address = client.scheduler.address
    common = ("report", "--format", "csv")
    code, alone, _ = main_in_process(monkeypatch, capsys, tmp_path, *common, "--out", str(tmp_path / "a"))
    assert code == 0
    code, spread, _ = main_in_process(
        monkeypatch, capsys, tmp_path, *common, "--scheduler", address, "--out", str(tmp_path / "b")
    )
    assert code == 0
    from io import StringIO

    read = {"dtype": {"area_id": str, "parent": str}, "keep_default_na": False, "na_values": [""]}
    _same_table(pd.read_csv(StringIO(alone), **read), pd.read_csv(StringIO(spread), **read))


def test_a_worker_without_the_file_names_the_file_and_the_worker(client) -> None:
    with rasterio.open(sample_path("population.tif")) as src:
        data, profile = src.read(), src.profile
    with rasterio.MemoryFile() as memfile:
        with memfile.open(**profile) as dst:
            dst.write(data)
        # this process can read it, the workers cannot
        with memfile.open() as in_memory, pytest.raises(InputError) as info:
            telecov.analyze(sample_path("sites.csv"), sample_path("communes.gpkg"), in_memory,
                            client=client, **FIELDS)  # fmt: skip
    message = str(info.value)
    assert message.startswith(f"{in_memory.name}: worker tcp://127.0.0.1:")
    assert "cannot open the population raster" in message


def test_a_failing_partition_surfaces_with_its_rows_and_areas(client, fine_raster) -> None:
    regions, footprints, layers, names = _engine_inputs()
    with open_population(fine_raster) as raster:
        tasks = plan_partitions(
            regions, footprints, layers, raster, population=str(fine_raster), residential_density=300.0,
            resolution_m=100.0, count=4, area_names=names,
        )  # fmt: skip
    beyond = np.array([len(tasks[2].footprints) + 5], dtype=np.int64)
    tasks[2] = replace(tasks[2], layers=(beyond, *tasks[2].layers[1:]))  # a member that is not there
    t0 = time.perf_counter()
    with pytest.raises(PartitionError) as info:
        run_tasks(client, tasks)
    assert time.perf_counter() - t0 < 120  # no hang
    message = str(info.value)
    assert message.startswith(tasks[2].label) and "failed on worker tcp://127.0.0.1:" in message


def _kill_a_busy_worker(client, pids: dict[str, int], killed: list[str], stop: threading.Event) -> None:
    """Kill the first worker seen computing a partition (its process, as a crash would)."""
    while not stop.is_set():
        for worker, keys in client.processing().items():
            if any(str(k).startswith("telecov-partition-") for k in keys) and worker in pids:
                os.kill(pids[worker], signal.SIGKILL)
                killed.append(worker)
                return
        time.sleep(0.01)


def test_a_worker_killed_mid_run_is_recovered_with_the_same_table(client, fine_raster) -> None:
    args = (sample_path("sites.csv"), sample_path("communes.gpkg"), fine_raster)
    options = {"combined": True, "resolution_m": 25.0, **FIELDS}  # slower partitions: seconds each
    alone = telecov.analyze(*args, **options)
    client.wait_for_workers(2, timeout=60)
    pids = client.run(os.getpid)
    killed: list[str] = []
    stop = threading.Event()
    killer = threading.Thread(target=_kill_a_busy_worker, args=(client, pids, killed, stop))
    killer.start()
    try:
        spread = telecov.analyze(*args, client=client, **options)
    finally:
        stop.set()
        killer.join()
    assert killed, "no worker was seen computing a partition"
    _same_table(alone.table, spread.table)
    client.wait_for_workers(2, timeout=120)  # the nanny starts a new worker process


# --- many countries ------------------------------------------------------------------------------

SOUTH = (98.0, -3.0, 99.0, -2.2)
"""A synthetic country south of the equator, in UTM zone 47S (the sample lies in 48N)."""


@pytest.fixture(scope="module")
def two_countries(tmp_path_factory) -> dict[str, object]:
    """The sample's communes and a 5 × 4 grid of synthetic communes at 98–99°E, 3–2.2°S, on one 30″ raster."""
    import geopandas as gpd
    import shapely

    folder = tmp_path_factory.mktemp("countries")
    north = gpd.read_file(sample_path("communes.gpkg"))
    west, south, east, top = SOUTH
    cells = [
        shapely.box(west + 0.2 * i, south + 0.2 * j, west + 0.2 * (i + 1), south + 0.2 * (j + 1))
        for i in range(5)
        for j in range(4)
    ]
    southland = gpd.GeoDataFrame(
        {"commune_code": [f"S{k:03d}" for k in range(20)],
         "commune_name": [f"Selatan {k}" for k in range(20)], "province": "Southland"},
        geometry=cells, crs="EPSG:4326",
    )  # fmt: skip
    areas = pd.concat([north[["commune_code", "commune_name", "province", "geometry"]], southland])
    rng = np.random.default_rng(16)
    n = 300
    south_sites = pd.DataFrame({
        "site_id": [f"S{k}" for k in range(n)], "operator": "Selatan",
        "technology": rng.choice(["2G", "4G", "5G"], n), "lon": rng.uniform(west, east, n),
        "lat": rng.uniform(south, top, n),
    })  # fmt: skip
    sites = pd.concat([pd.read_csv(sample_path("sites.csv"), dtype=str), south_sites.astype(str)])
    with rasterio.open(sample_path("population.tif")) as src:
        fine = src.read(1).astype("float64")
        fine[fine == src.nodata] = 0
        t = src.transform
    pad = (-fine.shape[0]) % 10, (-fine.shape[1]) % 10
    fine = np.pad(fine, ((0, pad[0]), (0, pad[1])))
    coarse = fine.reshape(fine.shape[0] // 10, 10, fine.shape[1] // 10, 10).sum(axis=(1, 3))
    dx = t.a * 10
    shift = math.ceil((t.c - (west - 0.1)) / dx)
    lon0, nrows = t.c - shift * dx, math.ceil((t.f - (south - 0.1)) / dx)
    grid = np.zeros((nrows, shift + coarse.shape[1]), dtype="float32")
    grid[: coarse.shape[0], shift:] = coarse
    r0, c0 = math.floor((t.f - top) / dx), math.floor((west - lon0) / dx)
    grid[r0 : r0 + 100, c0 : c0 + 125] = rng.gamma(0.6, 400.0, (100, 125))
    path = folder / "two_countries_30s.tif"
    profile = {"driver": "GTiff", "height": nrows, "width": grid.shape[1], "count": 1, "dtype": "float32",
               "crs": "EPSG:4326", "transform": Affine(dx, 0, lon0, 0, -dx, t.f), "tiled": True,
               "compress": "deflate"}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(grid, 1)
    areas_path, sites_path = folder / "areas.gpkg", folder / "sites.csv"
    areas.to_file(areas_path)
    sites.to_csv(sites_path, index=False)
    return {"areas": areas_path, "sites": sites_path, "population": path, "south": southland}


def test_two_countries_in_two_hemispheres_are_one_ordinary_run(two_countries, client) -> None:
    w = two_countries
    alone = telecov.analyze(w["sites"], w["areas"], w["population"], **FIELDS)
    table = alone.table
    assert {"Southland", "Tỉnh Mẫu"} <= set(table["parent"])
    south_rows = table[(table["level"] == "area") & table["area_id"].str.startswith("S")]
    assert south_rows["area_id"].nunique() == 20 and south_rows["covered_population"].sum() > 0
    spread = telecov.analyze(w["sites"], w["areas"], w["population"], client=client, **FIELDS)
    _same_table(table, spread.table)


def test_many_countries_partitions_are_bounded_in_work(two_countries) -> None:
    areas = read_areas(two_countries["areas"], **FIELDS).accepted
    sites = read_sites(two_countries["sites"]).accepted
    regions = regions_from_geometries(areas.geometry.to_numpy())
    layers = [la.members for la in build_layers(sites)]
    south_ids = set(range(len(areas)))
    south_ids = {i for i in south_ids if areas["area_id"].iloc[i].startswith("S")}
    with open_population(two_countries["population"]) as raster:
        for count in (2, 4, 8):
            tasks = plan_partitions(
                regions, footprints_of(sites), layers, raster, population=str(two_countries["population"]),
                residential_density=300.0, resolution_m=100.0, count=count,
            )  # fmt: skip
            assert len(tasks) >= 2
            assert abs(sum(t.work for t in tasks) - 1.0) < 1e-9
            for t in tasks:  # each partition: one country only, and a bounded share of the work
                owners = {int(o) for o in np.unique(t.regions.owner)}
                assert owners <= south_ids or not owners & south_ids
                assert t.work <= 1.0 / count + 0.01  # at most one row above its share


def test_telecov_toml_sets_where_a_run_measures(monkeypatch, capsys, tmp_path) -> None:
    _need_dask()
    (tmp_path / "telecov.toml").write_text(
        'scheduler = "127.0.0.1:9"\nscheduler-timeout = 1\n', encoding="utf-8"
    )
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, "report", "--out", str(tmp_path / "out"))
    assert code == 2 and "--scheduler 127.0.0.1:9: no dask scheduler answered" in err
    (tmp_path / "telecov.toml").write_text("[gaps]\nworkers = 0\n", encoding="utf-8")
    code, _, err = main_in_process(
        monkeypatch, capsys, tmp_path, "gaps", "--technology", "4G", "--out", str(tmp_path / "out")
    )
    assert code == 2 and "workers" in err


def test_crosswalk_people_on_the_cluster_equal_one_process(client, fine_raster, tmp_path) -> None:
    import geopandas as gpd
    import shapely

    from telecov.crosswalk import crosswalk

    west, south, east, north = gpd.read_file(sample_path("communes.gpkg")).total_bounds
    xs, ys = np.linspace(west, east, 4), np.linspace(south, north, 4)
    boxes = [shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1]) for i in range(3) for j in range(3)]
    grid = gpd.GeoDataFrame({"cell": [f"C{k}" for k in range(9)]}, geometry=boxes, crs="EPSG:4326")
    grid.to_file(tmp_path / "grid.gpkg")
    args = (sample_path("communes.gpkg"), tmp_path / "grid.gpkg")
    kw = {"population": fine_raster, "from_id": "commune_code", "to_id": "cell", "resolution_m": 100.0}
    alone = crosswalk(*args, **kw).table
    spread = crosswalk(*args, client=client, **kw).table
    assert alone["population"].sum() > 0
    _same_table(alone, spread)


def test_a_tiled_vrt_of_the_big_raster_script_runs_on_the_cluster(client, tmp_path) -> None:
    """The 1″ benchmark's input at a small scale: the script's VRT of compressed tiles, read by windows."""
    import json
    import subprocess

    script = Path(__file__).resolve().parents[1] / "scripts" / "make_big_raster.py"
    source = sample_path("population.tif")
    cmd = [
        sys.executable,
        str(script),
        str(tmp_path),
        "--source",
        str(source),
        "--factor",
        "3",
        "--tile",
        "300",
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    vrt = tmp_path / "population_3x.vrt"
    meta = json.loads(vrt.with_suffix(".json").read_text(encoding="utf-8"))
    assert meta["tiles"] >= 4 and math.isclose(meta["people"], meta["people_source"], rel_tol=1e-5)
    with rasterio.open(vrt) as ds, rasterio.open(source) as src:
        assert (ds.width, ds.height) == (src.width * 3, src.height * 3)
    args = (sample_path("sites.csv"), sample_path("communes.gpkg"), vrt)
    alone = telecov.analyze(*args, **FIELDS)
    spread = telecov.analyze(*args, client=client, **FIELDS)
    _same_table(alone.table, spread.table)
    coarse = telecov.analyze(sample_path("sites.csv"), sample_path("communes.gpkg"), source, **FIELDS)

    def total(result: telecov.Result) -> float:
        return float(result.table.loc[result.table["level"] == "total", "population"].iloc[0])

    # each 3″ pixel's people are kept, only spread inside it: the areas' total barely moves
    assert math.isclose(total(alone), total(coarse), rel_tol=0.005)
