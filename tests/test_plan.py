"""Plans on a hand-made world: what each candidate adds is known by hand (disc areas and lenses).

Commune A is uniformly 1000 people/km², commune B 150 people/km². A 5G candidate of 1 km radius
adds 1000 · π people in A, less the lens it shares with a disc already there.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

import telecov
from telecov.errors import InputError
from telecov.plan import STOP_REASONS, pick_columns, plan_sites
from telecov.plan.greedy import within

from _worlds import GEOD, Grid, site, write_sites, write_world

GRID = Grid(west=105.0, north=18.5, ncols=30, nrows=20, res=1 / 120)
A_BOX = (2, 12, 2, 14)  # rows, cols (end exclusive)
B_BOX = (2, 12, 15, 27)
DENSITY = {"A": 1000.0, "B": 150.0}


def pixel_box(rows_cols: tuple[int, int, int, int]) -> shapely.Polygon:
    r0, r1, c0, c1 = rows_cols
    return shapely.box(GRID.lon(c0), GRID.lat(r1), GRID.lon(c1), GRID.lat(r0))


def east_of(lon: float, lat: float, metres: float) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, 90.0, metres)
    return float(x), float(y)


def lens_km2(d_m: float, r_m: float) -> float:
    """Area shared by two discs of radius r whose centres are d apart."""
    return (2 * r_m**2 * math.acos(d_m / (2 * r_m)) - d_m / 2 * math.sqrt(4 * r_m**2 - d_m**2)) / 1e6


C1 = (GRID.lon(5), GRID.lat(9))
C2 = east_of(*C1, 1000.0)
C3 = (GRID.lon(10), GRID.lat(9.5))
EXISTING_5G = (GRID.lon(10), GRID.lat(4.5))
C5 = east_of(*EXISTING_5G, -1500.0)
C4 = (GRID.lon(21), GRID.lat(7))
MAST_4G = (GRID.lon(24), GRID.lat(10))
PI_KM2 = math.pi  # a 1 km disc
EXPECTED = {  # people each candidate adds, in the greedy's order
    "c1": 1000 * PI_KM2,
    "c5": 1000 * (PI_KM2 - lens_km2(1500.0, 1000.0)),
    "c3": 1000 * PI_KM2 * 0.81,
    "c2": 1000 * (PI_KM2 - lens_km2(1000.0, 1000.0)),
    "c4": 150 * PI_KM2 * 2.25,
}


def candidate_rows() -> list[dict[str, object]]:
    return [
        site("5G", *C1, radius_m=1000, site_id="c1"),
        site("5G", *C2, radius_m=1000, site_id="c2"),
        site("5G", *C3, radius_m=900, site_id="c3"),
        site("5G", *C4, radius_m=1500, site_id="c4"),
        site("5G", *C5, radius_m=1000, site_id="c5"),
    ]


def hand_world(directory: Path):
    """The world's files (areas A and B, raster, an existing 5G and a 4G site) and the candidates."""
    values = np.zeros((GRID.nrows, GRID.ncols))
    px = GRID.pixel_km2()[:, None] * np.ones((1, GRID.ncols))
    for box, density in ((A_BOX, DENSITY["A"]), (B_BOX, DENSITY["B"])):
        r0, r1, c0, c1 = box
        values[r0:r1, c0:c1] = density * px[r0:r1, c0:c1]
    world = write_world(
        directory, grid=GRID, values=values,
        areas=[("A", "Xã A", pixel_box(A_BOX)), ("B", "Xã B", pixel_box(B_BOX))], parents=["P", "P"],
        sites=[site("5G", *EXISTING_5G, radius_m=1000, site_id="E5"),
               site("4G", *MAST_4G, radius_m=3000, site_id="M4")],
    )  # fmt: skip
    candidates = write_sites(directory / "candidates.csv", candidate_rows())
    return world, candidates


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    return hand_world(tmp_path_factory.mktemp("plan"))


@pytest.fixture(scope="module")
def result(world):
    w, _ = world
    return telecov.analyze(w.sites, w.areas, w.population, area_id="id", area_name="name", parent="province")


def people(result, area_id: str = "ALL") -> float:
    t = result.table
    row = t[(t["technology"] == "5G") & (t["area_id"] == area_id)]
    return float(row["population"].iloc[0])


def test_greedy_takes_the_largest_marginal_gain_first_and_the_gains_are_known_by_hand(world, result) -> None:
    _, cands = world
    plan = plan_sites(result, technology="5G", candidates=cands, target=100, min_gain=0)
    assert list(plan.picks.columns) == pick_columns("population")
    assert plan.picks["site_id"].tolist() == list(EXPECTED)
    np.testing.assert_allclose(plan.picks["marginal_people"], list(EXPECTED.values()), rtol=1e-3)
    assert plan.stop_reason == "candidates" and not plan.reached
    np.testing.assert_allclose(plan.picks["cumulative_people"], np.cumsum(list(EXPECTED.values())), rtol=1e-3)
    assert plan.picks["rank"].tolist() == [1, 2, 3, 4, 5]
    assert plan.picks["area_id"].tolist() == ["A", "A", "A", "A", "B"]
    assert "target not reached" in plan.message and "no candidate adds anything more" in plan.message


def test_predicted_shares_equal_the_report_on_existing_and_picked_sites(world, result, tmp_path) -> None:
    w, cands = world
    plan = plan_sites(result, technology="5G", candidates=cands, target=100, min_gain=0)
    rows = [
        site("5G", *EXISTING_5G, radius_m=1000, site_id="E5"),
        site("4G", *MAST_4G, radius_m=3000, site_id="M4"),
    ]
    chosen = {str(r["site_id"]): r for r in candidate_rows()}
    rows += [chosen[s] for s in plan.picks["site_id"]]
    report = telecov.analyze(
        write_sites(tmp_path / "after.csv", rows), w.areas, w.population, area_id="id", area_name="name",
        parent="province",
    )  # fmt: skip
    columns = ["level", "area_id", "technology", "covered_population", "population_pct", "residential_pct"]
    pd.testing.assert_frame_equal(plan.after.table[columns], report.table[columns])
    total = report.table.query("level == 'total' and technology == '5G'")["population_pct"].iloc[0]
    assert abs(plan.picks["cumulative_population_pct"].iloc[-1] - total) <= 0.01
    by_area = report.table.query("level == 'area' and technology == '5G'").set_index("area_id")[
        "population_pct"
    ]
    last = plan.picks.groupby("area_id").tail(1)
    for area_id, share in zip(last["area_id"], last["commune_population_pct"], strict=True):
        assert abs(share - by_area[area_id]) <= 0.01
    compared = telecov.compare(result, plan.after)
    gained = compared.query("level == 'total' and technology == '5G'")["covered_population_delta"].iloc[0]
    assert gained == pytest.approx(plan.picks["marginal_people"].sum(), rel=1e-4)
    planned = plan.after.sites[plan.after.sites["status"] == "planned"]
    assert sorted(planned["site_id"]) == sorted(EXPECTED) and planned["counted"].all()


@pytest.mark.parametrize(
    ("options", "reason", "n"),
    [
        ({"budget": 2}, "budget", 2),
        ({"min_gain": 1100}, "min_gain", 4),  # c4 adds 1060 people
        ({"min_gain": 0}, "candidates", 5),
        ({"target": 0}, "target", 0),
    ],
)
def test_it_stops_at_the_target_the_budget_or_the_minimum_gain_and_says_which(
    world, result, options, reason, n
):
    _, cands = world
    plan = plan_sites(result, technology="5G", candidates=cands, **{"target": 100, **options})
    assert plan.stop_reason == reason and reason in STOP_REASONS
    assert len(plan.picks) == n
    if reason == "target":
        assert plan.reached and plan.message.startswith("nothing to add")
        assert plan.after is result


def test_the_target_stops_the_plan_as_soon_as_it_is_met(world, result) -> None:
    _, cands = world
    base = result.table.query("level == 'total' and technology == '5G'").iloc[0]
    # just above what the first pick reaches: two picks needed
    share = 100 * (base["covered_population"] + EXPECTED["c1"] * 1.01) / base["population"]
    plan = plan_sites(result, technology="5G", candidates=cands, target=share)
    assert plan.picks["site_id"].tolist() == ["c1", "c5"] and plan.stop_reason == "target" and plan.reached
    assert plan.picks["cumulative_population_pct"].iloc[-1] >= share
    assert "target reached with 2 new sites" in plan.message


def test_scope_area_brings_every_commune_to_the_target_where_total_would_not(world, result) -> None:
    _, cands = world
    total = plan_sites(result, technology="5G", candidates=cands, target=5, scope="total")
    assert total.picks["site_id"].tolist() == ["c1"] and total.reached  # A alone lifts the total
    area = plan_sites(result, technology="5G", candidates=cands, target=5, scope="area")
    assert area.reached and area.stop_reason == "target" and len(area.picks) == 2
    assert area.picks["area_id"].tolist() == ["A", "B"] and "c4" in area.picks["site_id"].tolist()
    rows = area.after.table.query("level == 'area' and technology == '5G'")
    assert (rows["population_pct"] >= 5 - 0.01).all()
    assert area.picks["commune_population_pct"].min() >= 5
    by_parent = plan_sites(result, technology="5G", candidates=cands, target=5, scope="parent")
    assert by_parent.picks["site_id"].tolist() == ["c1"]  # one parent: the total
    unreachable = plan_sites(result, technology="5G", candidates=cands, target=20, scope="area")
    assert not unreachable.reached and unreachable.stop_reason == "candidates"
    assert "still under" in unreachable.message


def test_cost_budget_picks_by_gain_per_cost(world, result, tmp_path) -> None:
    costed = pd.read_csv(world[1], dtype=str, keep_default_na=False)
    costed["cost"] = ["3", "1", "1", "1", "1"]  # c1 is dear
    path = tmp_path / "costed.csv"
    costed.to_csv(path, index=False)
    plan = plan_sites(result, technology="5G", candidates=path, target=100, budget_cost=2)
    # without c1, c2 covers a whole disc: 3142 per unit of cost, then c5
    assert plan.picks["site_id"].tolist() == ["c2", "c5"] and plan.stop_reason == "budget"
    assert plan.picks["cost"].sum() == 2


def test_min_spacing_keeps_picks_apart_and_refuses_candidates_near_existing_sites(world, result) -> None:
    _, cands = world
    plan = plan_sites(result, technology="5G", candidates=cands, target=100, min_gain=0, min_spacing=1200)
    assert plan.picks["site_id"].tolist() == ["c1", "c5", "c3", "c4"]  # c2 is 1 km from c1
    lon, lat = plan.picks["lon"].to_numpy(), plan.picks["lat"].to_numpy()
    for i in range(len(lon)):
        assert within(lon[i], lat[i], np.delete(lon, i), np.delete(lat, i), 1200).sum() == 0
    near = plan_sites(result, technology="5G", candidates=cands, target=100, min_gain=0, min_spacing=1600)
    refused = near.candidates.rejected.set_index("site_id")
    assert refused.loc["c5", "reason"] == "within 1600 m (the minimum spacing) of 5G site E5"
    assert "c5" not in near.picks["site_id"].tolist()


def test_bad_candidates_are_refused_with_reasons_and_nothing_is_lost(world, result, tmp_path) -> None:
    rows = [
        *candidate_rows(),
        site("5G", *C1, radius_m=1000, site_id="c1"),  # the same site and azimuth again
        site("4G", *C3, radius_m=1000, site_id="x4"),  # another technology
        site("5G", GRID.lon(28.5), GRID.lat(18), radius_m=1000, site_id="out"),  # outside the areas
        site("5G", *C3, radius_m=500, site_id="costly", cost="abc"),
        site("5G", *C3, radius_m="-5", site_id="badradius"),
    ]
    path = tmp_path / "bad.csv"
    frame = pd.DataFrame(rows).fillna("")
    frame.to_csv(path, index=False)
    exclude = tmp_path / "exclude.gpkg"
    import geopandas as gpd

    gpd.GeoDataFrame(geometry=[shapely.Point(*C3).buffer(0.001)], crs=4326).to_file(exclude)
    plan = plan_sites(result, technology="5G", candidates=path, exclude=exclude, target=100)
    rejected = plan.candidates.rejected
    assert list(rejected.columns[:1]) == ["source"] and list(rejected.columns[-3:]) == [
        "row",
        "field",
        "reason",
    ]
    keys = rejected["site_id"].astype(str) + "@" + rejected["row"].astype(str)
    reasons = dict(zip(keys, rejected["reason"], strict=True))
    assert "same site and azimuth as row 1" in reasons["c1@6"]
    assert reasons["x4@7"] == "technology 4G, not the planned 5G"
    assert reasons["out@8"] == "outside the areas"
    assert reasons["costly@9"] == "cost is not a number"
    assert "not positive" in reasons["badradius@10"]
    assert reasons["c3@3"] == "inside an excluded zone"
    counts = plan.candidates.counts["candidates"]
    assert counts == {"read": 10, "used": 4, "refused": 6}
    assert len(rejected) == counts["refused"]
    assert set(rejected.columns) >= {"lon", "lat", "radius_m", "cost"}  # the file's own columns


def test_upgrades_and_grid_candidates(world, result) -> None:
    plan = plan_sites(result, technology="5G", upgrade_from="4G", target=100, min_gain=0)
    assert plan.picks["site_id"].tolist() == ["M4"] and plan.picks["source"].tolist() == ["upgrade"]
    assert plan.picks["radius_m"].tolist() == [600.0]  # the 5G default
    assert plan.picks["marginal_people"].iloc[0] == pytest.approx(150 * math.pi * 0.36, rel=2e-3)
    grid = plan_sites(result, technology="5G", grid=2000, target=100, budget=3)
    sites = grid.candidates.sites
    zones = telecov.gap_polygons(result, technology="5G").zones
    assert shapely.intersects(shapely.union_all(zones.geometry.to_numpy()), sites.geometry.to_numpy()).all()
    uncovered_km2 = zones["area_km2"].sum()
    assert len(sites) == pytest.approx(uncovered_km2 / 4.0, rel=0.2)
    assert grid.picks["source"].eq("grid").all() and len(grid.picks) == 3
    both = plan_sites(result, technology="5G", upgrade_from="4G", grid=2000, candidates=world[1], budget=2)
    assert set(both.candidates.counts) == {"candidates", "upgrade", "grid"}
    assert both.picks["site_id"].tolist()[:1] == ["c1"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"budget": 0}, "`budget` 0: must be a whole number of sites, at least 1"),
        ({"budget": -3}, "`budget` -3"),
        ({"budget_cost": -1.0}, "`budget_cost` -1"),
        ({"min_gain": -1.0}, "`min_gain` -1"),
        ({"scope": "district"}, "`scope` 'district'"),
        ({"metric": "area"}, "`metric` 'area'"),
        ({"technology": "4G+"}, "plan a base technology"),
        ({"target": 120}, "between 0 and 100"),
        ({"grid": 0.0}, "`grid` 0"),
        ({"candidates": None}, "no candidates"),
    ],
)
def test_bad_options_are_clear_errors(world, result, options, message) -> None:
    kwargs = {"technology": "5G", "candidates": world[1], **options}
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace("+", r"\+")):
        plan_sites(result, **kwargs)


def test_a_duplicate_id_across_sources_is_refused(world, result, tmp_path) -> None:
    rows = [site("5G", *C1, radius_m=1000, site_id="M4")]
    path = write_sites(tmp_path / "m4.csv", rows)
    plan = plan_sites(result, technology="5G", candidates=path, upgrade_from="4G", target=100)
    rejected = plan.candidates.rejected
    assert rejected["source"].tolist() == ["upgrade"]
    assert "duplicate candidate id 'M4' (already: candidates row 1)" in rejected["reason"].iloc[0]


def test_sectors_and_sites_of_several_sectors(world, result, tmp_path) -> None:
    rows = [site("5G", *C1, radius_m=1000, azimuth=30, beamwidth=120, site_id="s1")]
    rows += [site("5G", *C3, radius_m=900, azimuth=a, beamwidth=120, site_id="tri") for a in (0, 120, 240)]
    path = write_sites(tmp_path / "sectors.csv", rows)
    plan = plan_sites(result, technology="5G", candidates=path, target=100, min_gain=0)
    picks = plan.picks.set_index("site_id")
    assert picks.loc["tri", "sectors"] == 3 and np.isnan(picks.loc["tri", "azimuth"])
    assert picks.loc["tri", "marginal_people"] == pytest.approx(
        1000 * PI_KM2 * 0.81, rel=1e-3
    )  # a whole disc
    assert picks.loc["s1", "sectors"] == 1 and picks.loc["s1", "azimuth"] == 30
    assert picks.loc["s1", "marginal_people"] == pytest.approx(1000 * PI_KM2 / 3, rel=1e-3)
    planned = plan.after.sites[plan.after.sites["status"] == "planned"]
    assert sorted(planned["azimuth"].tolist()) == [0.0, 30.0, 120.0, 240.0]
