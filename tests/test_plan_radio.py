"""Plans on radio inputs: the existing network as the report measured it, radio candidates like sites.

The bundled sample has radio columns (band, height, EIRP) on part of its sites and a synthetic
DEM with hills. The coverage a plan predicts after its picks must equal a real report run on a
sites file holding the sample's rows and the picked candidates' own rows, under the same options.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pandas as pd
import pytest

import telecov
from telecov.analysis import SAMPLE_FIELDS
from telecov.errors import TelecovWarning
from telecov.plan import plan_sites

HEADER = ["site_id", "operator", "technology", "lon", "lat", "radius_m", "azimuth", "beamwidth", "status",
          "band", "height_m", "eirp_dbm", "environment"]  # fmt: skip
CANDIDATES = [
    ["r1", "planned", "5G", "105.900", "18.300", "", "", "", "planned", "n78", "30", "", ""],
    ["r2", "planned", "5G", "105.850", "18.200", "", "", "", "planned", "n41", "", "60", "rural"],
    ["r3", "planned", "5G", "105.950", "18.400", "", "0", "", "planned", "n78", "35", "", ""],
    ["r3", "planned", "5G", "105.950", "18.400", "", "120", "", "planned", "n78", "35", "", ""],
    ["r3", "planned", "5G", "105.950", "18.400", "", "240", "", "planned", "n78", "35", "", ""],
    ["p1", "planned", "5G", "105.880", "18.350", "800", "", "", "planned", "", "", "", ""],
    ["bad-band", "planned", "5G", "105.910", "18.310", "", "", "", "planned", "B99", "", "", ""],
    ["bad-height", "planned", "5G", "105.920", "18.320", "", "", "", "planned", "n78", "-5", "", ""],
]


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def sample_rows() -> list[list[str]]:
    with telecov.sample_path("sites.csv").open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return [[row.get(c, "") or "" for c in HEADER] for row in reader]


@pytest.fixture(scope="module", params=[None, "dem"])
def case(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("planradio")
    dem = telecov.sample_path("dem.tif") if request.param else None
    result = telecov.analyze(dem=dem)
    cands = write(folder / "candidates.csv", CANDIDATES)
    with pytest.warns(TelecovWarning, match="candidates.csv: 4 radio site rows have radii extrapolated"):
        plan = plan_sites(result, technology="5G", candidates=cands, target=100, min_gain=0)
    return folder, dem, result, plan


def test_radio_candidates_predict_what_a_real_report_after_measures(case) -> None:
    folder, dem, result, plan = case
    picked = set(plan.picks["site_id"])
    assert picked and picked <= {"r1", "r2", "r3", "p1"}
    rows = sample_rows() + [[*r[:8], "existing", *r[9:]] for r in CANDIDATES if r[0] in picked]
    with warnings.catch_warnings():  # the candidates' extrapolated radii, said by the plan already
        warnings.filterwarnings("ignore", message=".*extrapolated", category=TelecovWarning)
        after = telecov.analyze(write(folder / "after.csv", rows), telecov.sample_path("communes.gpkg"),
                                telecov.sample_path("population.tif"), dem=dem, **SAMPLE_FIELDS)  # fmt: skip
    cols = ["level", "area_id", "technology", "covered_population", "population_pct"]
    pd.testing.assert_frame_equal(plan.after.table[cols], after.table[cols])
    total = after.table.query("level == 'total' and technology == '5G'")["population_pct"].iloc[0]
    assert abs(plan.picks["cumulative_population_pct"].iloc[-1] - total) <= 0.01
    by_area = after.table.query("level == 'area' and technology == '5G'").set_index("area_id")[
        "population_pct"
    ]
    for area_id, share in plan.picks.groupby("area_id").tail(1)[["area_id", "commune_population_pct"]].values:
        assert abs(share - by_area[area_id]) <= 0.01
    before = result.table.query("level == 'total' and technology == '5G'")["covered_population"].iloc[0]
    now = after.table.query("level == 'total' and technology == '5G'")["covered_population"].iloc[0]
    assert now - before == pytest.approx(plan.picks["marginal_people"].sum(), rel=1e-4, abs=1.0)


def test_radio_candidates_get_link_budget_radii_and_bad_rows_are_refused(case) -> None:
    _, _, result, plan = case
    sites = plan.candidates.sites.set_index("site_id")
    assert sites.loc["r1", "radius_source"].startswith("model:38901")
    assert sites.loc["p1", "radius_source"] == "site" and sites.loc["p1", "radius_m"] == 800
    assert sites.loc["r1", "radius_m"] != result.run.radii_m["5G"]
    rejected = plan.candidates.rejected.set_index("site_id")
    assert rejected.loc["bad-band", "field"] == "band" and "B99" in rejected.loc["bad-band", "reason"]
    assert rejected.loc["bad-height", "field"] == "height_m"
    assert plan.summary["footprints"]["propagation"] == "auto"


def test_a_copy_of_an_existing_radio_site_adds_nothing(case) -> None:
    """The existing network is measured as the report measured it (lobes, terrain), not as discs."""
    folder, _, result, _ = case
    shaped = [i for i, s in enumerate(result.shapes) if s is not None] if result.shapes is not None else []
    assert shaped  # the sample's radio sectors are lobes (and terrain polygons with the DEM)
    row = result.sites.iloc[shaped[0]]
    same = [r for r in sample_rows() if r[0] == row["site_id"]]
    copy = [
        ["copy", "planned", "5G" if row["technology"] == "5G" else row["technology"], *r[3:]] for r in same
    ]
    tech = str(row["technology"])
    copy = [[c if i != 2 else tech for i, c in enumerate(r)] for r in copy]
    plan = plan_sites(result, technology=tech, candidates=write(folder / "copy.csv", copy), target=100,
                      min_gain=0)  # fmt: skip
    assert len(plan.candidates.sites) == len(same)
    assert plan.picks["marginal_people"].sum() == pytest.approx(0.0, abs=1.0)


def test_a_disc_over_an_existing_lobe_adds_what_the_report_after_measures(case) -> None:
    """Around a radio sector (a lobe, a terrain polygon with the DEM) a new disc adds what the report says."""
    folder, dem, result, _ = case
    shaped = [
        i for i, s in enumerate(result.shapes) if s is not None and result.sites["technology"].iloc[i] == "4G"
    ]
    row = result.sites.iloc[shaped[0]]
    lon, lat, reach = f"{row.geometry.x:.6f}", f"{row.geometry.y:.6f}", f"{3 * row['radius_m']:.1f}"
    disc = ["d1", "planned", "4G", lon, lat, reach, "", "", "planned", "", "", "", ""]
    plan = plan_sites(result, technology="4G", candidates=write(folder / "disc.csv", [disc]), target=100,
                      min_gain=0)  # fmt: skip
    assert plan.picks["site_id"].tolist() == ["d1"]
    rows = [*sample_rows(), [*disc[:8], "existing", *disc[9:]]]
    after = telecov.analyze(write(folder / "disc_after.csv", rows),
                            telecov.sample_path("communes.gpkg"), telecov.sample_path("population.tif"),
                            dem=dem, **SAMPLE_FIELDS)  # fmt: skip
    cov = {n: t.table.query("level == 'total' and technology == '4G'")["covered_population"].iloc[0]
           for n, t in (("before", result), ("after", after))}  # fmt: skip
    assert cov["after"] - cov["before"] > 100  # the disc reaches beyond the lobe
    assert plan.picks["marginal_people"].iloc[0] == pytest.approx(cov["after"] - cov["before"], rel=1e-4)
